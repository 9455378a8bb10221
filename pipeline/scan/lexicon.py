"""Swedish words, names and places (Debian's hunspell-sv, every inflected form), as evidence about a reading.

A scan in black and white or at a low resolution can lose the dots of Ä and Ö and the ring of Å, and then every
reader agrees on BORLANGE. A person knows the town; so does the lexicon. It is asked four things:
- ``marks_doubtful``: is a word unknown as spelt, but known with other marks over its letters? BORLANGE (only
  Borlänge is known), LILLEMÖR (only Lillemor), STORVAGEN (a compound: stor + vägen). Then no agreement of readers
  is trusted.
- ``with_street_marks``: a street's name ending in vagen or grand has lost the dots of vägen or gränd (no street's
  name ends so); they are put back before the other questions are asked. ``with_swedish_ending`` does the same for
  an ending read with another alphabet's mark (VILLAVÃGEN).
- ``known``: is every word a word as spelt (Åsa, Malmö, Lindgren)? Then a reading that one reader made, and the
  other missed by a letter or a ring, has a second witness that is not a reader of ink. Compounds do not count
  here: Swedish compounds so freely that a misread name (PITEA: pi + tea) is one.
- ``listed``: is a reading one of the names of a field's vocabulary as spelt (an interpreter's language: DARI,
  which the dictionary lacks, though it knows DÄRI)? The form's definition names a field's vocabulary.

The forms are the dictionary's stems with their affixes applied by hunspell's own ``unmunch`` (Debian's
hunspell-tools): about 850,000. They are kept as two sorted arrays of string hashes (14 MB), built once by the
workers' forkserver (about 1 s, and 170 MB while they are built) and shared by every worker it forks (see
``stages.warm``). Python's string hash is stable within a process and its forks, which is all a lookup needs.
"""

from __future__ import annotations

import gettext
import itertools
import json
import re
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import PipelineError

DICTIONARY = Path("/usr/share/hunspell/sv_SE.dic")  # Debian's hunspell-sv, installed by scripts/setup.sh
UNMUNCH = "unmunch"  # Debian's hunspell-tools, the same
LANGUAGES = Path("/usr/share/iso-codes/json/iso_639-3.json")  # Debian's iso-codes, the same, with its translations
LOCALES = Path("/usr/share/locale")
_WORD = re.compile(r"[^\W\d_]+")
_MARKS = re.compile(r"[\u0300-\u036f]")
# A compound's parts, at least this long: the head, and the tail (which may follow a linking s: kvarn-s-gatan).
HEAD, TAIL = 2, 3


def plain(text: str) -> str:
    """The letters without their marks, case folded: BORLÄNGE and Borlange are both 'borlange'."""
    return _MARKS.sub("", unicodedata.normalize("NFD", text.casefold()))


def _table(text: str) -> npt.NDArray[np.int64]:
    """The words of ``text`` as sorted unique hashes. Sorted, then each kept where it differs from the one before:
    numpy's ``unique`` (which hashes) took 0.65 s here, this 0.05 s."""
    words = text.split()
    hashes = np.sort(np.fromiter(map(hash, words), dtype=np.int64, count=len(words)))
    if not len(hashes):
        return hashes
    return hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]


@cache
def _lexicon() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every form the dictionary knows (case folded), and the same without marks, as sorted hashes."""
    if not DICTIONARY.is_file():
        raise PipelineError(
            f"The Swedish lexicon {DICTIONARY} is missing.",
            action="Install Debian's hunspell-sv (scripts/setup.sh does), then process the document again.",
        )
    try:
        out = subprocess.run(
            [UNMUNCH, str(DICTIONARY), str(DICTIONARY.with_suffix(".aff"))],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as exc:
        raise PipelineError(
            f"The Swedish lexicon's word forms cannot be listed ({type(exc).__name__}).",
            action="Install Debian's hunspell-tools (scripts/setup.sh does), then process the document again.",
        ) from None
    text = out.casefold()
    del out
    return _table(text), _table(plain(text))


def warm() -> None:
    """Build the tables now (``stages.warm``) rather than on the first scan."""
    _lexicon()
    for vocabulary in VOCABULARIES.values():
        vocabulary()


def _has(table: npt.NDArray[np.int64], word: str) -> bool:
    key = hash(word)
    at = int(np.searchsorted(table, key))
    return at < len(table) and int(table[at]) == key


def _composed(table: npt.NDArray[np.int64], word: str) -> bool:
    """A form, or two forms run together (with or without a linking s)."""
    if _has(table, word):
        return True
    for cut in range(HEAD, len(word) - TAIL + 1):
        if _has(table, word[:cut]):
            tail = word[cut:]
            if _has(table, tail) or (tail[0] == "s" and len(tail) > TAIL and _has(table, tail[1:])):
                return True
    return False


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def marks_doubtful(text: str) -> bool:
    """Whether a word of ``text`` is unknown as spelt here but known with other marks over its letters, as a word
    or as a compound."""
    forms, plains = _lexicon()
    return any(
        (not _has(forms, w) and _has(plains, plain(w))) or (not _composed(forms, w) and _composed(plains, plain(w)))
        for w in words(text)
    )


# What a Swedish street's name ends in (Aspgatan, Kyrkogränd, Parkstigen): a word before it makes a street's name
# even where the dictionary has no such compound. Other compounds do not count (STORGRIND: stor + grind).
STREET_ENDS = (
    "gatan", "vägen", "stigen", "torget", "gränd", "gränden", "backen", "allén", "leden", "platsen", "plan",
    "gången", "slingan", "parken", "kajen", "promenaden", "esplanaden", "hagen", "ängen", "liden", "torg", "väg",
    "gata",
)  # fmt: skip
STREET_ENDS_PLAIN = tuple(plain(end) for end in STREET_ENDS)


# The endings in the definite form. A street's name that ends in one is one word (Asptorget, Fabrikstorget, never
# Asp torget); it is written apart only after an adjective (Stora torget, Gamla vägen, Övre gatan), whose weak form
# ends in a or e. An ending in the indefinite form follows a name apart (Gustav Adolfs torg, Olof Palmes gata).
_DEFINITE_ENDS = frozenset(
    plain(end)
    for end in STREET_ENDS
    if end not in ("gränd", "plan", "torg", "väg", "gata")  # Järntorgsgränd, but Brända tomtens gränd
)


def joined_street(text: str) -> str:
    """A street's name read apart before its ending in the definite form (ASP TORGET, FABRIKS TORGET: tesseract
    splits a word where a hand leaves a wide gap) as the one word Swedish writes it as (ASPTORGET); apart after a
    word that ends in a or e (STORA TORGET), a number, or nothing."""
    out: list[str] = []
    for token in text.split():
        before = plain(out[-1].casefold()) if out else ""
        if before.isalpha() and not before.endswith(("a", "e")) and plain(token.casefold()) in _DEFINITE_ENDS:
            out[-1] += token
        else:
            out.append(token)
    return " ".join(out)


def known(text: str, street: bool = False) -> bool:
    """Whether every word of ``text`` is a form as spelt, and no two neighbours are one word split (KRIS TINA).
    For a ``street``, a word that ends as a street's name does after a form counts too (ASPGATAN, asp + gatan)."""
    forms, _ = _lexicon()
    found = words(text)
    return (
        bool(found)
        and all(_has(forms, w) or (street and _street_name(forms, w)) for w in found)
        and not any(_has(forms, a + b) for a, b in itertools.pairwise(found))
    )


def _street_name(forms: npt.NDArray[np.int64], word: str) -> bool:
    for end in STREET_ENDS:
        head = word[: -len(end)]
        if word.endswith(end) and len(head) >= HEAD and _composed(forms, head.removesuffix("s")):
            return True
    return False


def ending_split(text: str) -> bool:
    """Whether a street's name is read with a space inside its ending (RINGS TIGEN, for RINGSTIGEN: tigen is a word
    too): two neighbours that make a street's name joined, where the second is no street's name nor its ending
    alone (STORA TORGET is written apart, and NORRA STORGATAN)."""
    forms, _ = _lexicon()
    return any(
        b not in STREET_ENDS and not _street_name(forms, b) and _street_name(forms, a + b)
        for a, b in itertools.pairwise(words(text))
    )


def street_marks_doubtful(text: str) -> bool:
    """Whether a word ends as a street's name does but with other marks (KYRKOGRAND: gränd, though grand is a word
    too; ASPVAGEN): the marks the scan lost."""
    return any(
        word.endswith(bare) and not word.endswith(end)
        for word in words(text)
        for end, bare in zip(STREET_ENDS, STREET_ENDS_PLAIN, strict=True)
        if bare != end
    )


_MARKED = {"a": "åä", "o": "ö"}  # the marks a bare letter may have lost


def marked_otherwise(text: str, street: bool = False) -> bool:
    """Whether ``text`` is words as spelt and also with dots or a ring over one of its bare A or O (BACKVÄGEN and
    BÄCKVÄGEN, STORVÄGEN and STÖRVÄGEN): a scan that lost such marks leaves one Swedish word for another."""
    if not known(text, street):
        return False
    for at, letter in enumerate(text):
        for marked in _MARKED.get(letter.casefold(), ""):
            mark = marked.upper() if letter.isupper() else marked
            if known(text[:at] + mark + text[at + 1 :], street):
                return True
    return False


def with_street_marks(text: str) -> str:
    """A street's name whose ending lost its marks (ASPVAGEN, KYRKOGRAND) with them put back (ASPVÄGEN, KYRKOGRÄND),
    where the word as written is no form and a form comes before the ending: no street's name ends in vagen or
    grand, and a scan loses small dots far more often than a hand leaves them out. The rest of the word is left as
    read, for the other checks (BJORKGRAND becomes BJORKGRÄND, still doubtful for its head's lost dots)."""
    forms, _ = _lexicon()

    def lost(word: str, tail: str, end: str) -> bool:
        return tail == plain(end) and not _has(forms, word) and _street_name(forms, word[: -len(end)] + end)

    return _with_ending(text, lost)


def with_swedish_ending(text: str) -> str:
    """A street's name whose ending was read with another alphabet's marks (VILLAVÃGEN, ASPVÁGEN, KYRKOGRÀND) with the
    Swedish ending's (VILLAVÄGEN): a reader that knows many alphabets saw a mark there and took it for another; no
    street's name ends so. Bare endings are left to ``with_street_marks`` (their marks may be lost, not misread)."""

    def misread(word: str, tail: str, end: str) -> bool:
        return len(word) > len(end) and tail != plain(end) and not set(tail) & set("åäöé")

    return _with_ending(text, misread)


def _with_ending(text: str, fits: Callable[[str, str, str], bool]) -> str:
    """Each word of ``text`` that ends in a street's ending but for its marks, with the ending as Swedish writes it
    (in the word's case) where ``fits(word, its ending as read, the ending)``; the rest as read."""
    out = []
    for token in re.split(r"(\W+)", text):
        word = token.casefold()
        for end, bare in zip(STREET_ENDS, STREET_ENDS_PLAIN, strict=True):
            tail = word[-len(end) :]
            if tail != end and plain(tail) == bare:
                if fits(word, tail, end):
                    token = token[: -len(end)] + (end.upper() if token.isupper() else end)
                break
        out.append(token)
    return "".join(out)


_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöé"


def near_a_word(text: str, street: bool = False) -> bool:
    """Whether a word of ``text`` is no form itself but one letter from one (marks aside): both readers read
    VILLAGATAN as MILLAGATAN in a poor scan, and JÖNKÖPING as TÖNKÖPING. About one true name or street in forty
    is such a word too (Ekvägen: Elvägen), and goes to a person. In a ``street``, only a street's name counts as the
    word it may be (Kyrktorget is one letter from kyrktornet, a church tower). Elsewhere the form may also have lost
    its marks: both read VÄXJÖ as VAXIO on a poor scan (calibration, seed 41), one letter from VAXJO. Not in a
    street's name, which composes too freely for that: 32 right streets' names of calibration scans would go to a
    person (ASPGATAN, BACKGATAN, STORVÄGEN), and none wrong."""
    return next(_near_misses(text, street), None) is not None


def near_misses(text: str, street: bool = False) -> list[int]:
    """The places in ``text`` where another letter makes another word of it (as ``near_a_word`` asks): BÄCKGATAN's
    first letter (säckgatan, a cul-de-sac), VILLAVÄGEN's fifth (villovägen)."""
    return sorted(set(_near_misses(text, street)))


def _near_misses(text: str, street: bool) -> Iterator[int]:
    forms, plains = _lexicon()
    for match in _WORD.finditer(text.casefold()):
        word = match.group()
        if _has(forms, word):
            continue
        bare = plain(word)
        for at, letter in enumerate(word):
            for other in _LETTERS:
                if other != letter:
                    variant = word[:at] + other + word[at + 1 :]
                    named = not street or variant.endswith(STREET_ENDS)
                    found = _has(forms, variant) or (not street and _has(plains, plain(variant)))
                    if named and found and plain(variant) != bare:
                        yield match.start() + at


@cache
def _languages() -> frozenset[str]:
    """Every living language's name (ISO 639-3), in Swedish where iso-codes translates it (arabiska, tigrinja), else
    as the standard names it (Dari, Somali: Swedish uses the same names), case folded."""
    try:
        entries = json.loads(LANGUAGES.read_text(encoding="utf-8"))["639-3"]
        swedish = gettext.translation("iso_639-3", localedir=LOCALES, languages=["sv"])
    except (OSError, ValueError, KeyError) as exc:
        raise PipelineError(
            f"The list of languages' names ({LANGUAGES.name}, in Swedish) cannot be read ({type(exc).__name__}).",
            action="Install Debian's iso-codes (scripts/setup.sh does), then process the document again.",
        ) from None
    return frozenset(swedish.gettext(e["name"]).casefold() for e in entries if e.get("type") == "L")


VOCABULARIES: dict[str, Callable[[], frozenset[str]]] = {"languages": _languages}


def listed(text: str, vocabulary: str) -> bool:
    """Whether ``text`` is one of ``vocabulary``'s names as spelt (marks and all), case aside."""
    return " ".join(text.split()).casefold() in VOCABULARIES[vocabulary]()
