"""Swedish words, names and places (Debian's hunspell-sv), to catch a dot or a ring the scan lost.

A scan in black and white or at a low resolution can lose the dots of Ä and Ö and the ring of Å, and then every
reader agrees on BORLANGE. A person knows the town; so does the lexicon. A word it knows only with other marks over
its letters than were read is not trusted: BORLANGE (only Borlänge is known), LILLEMÖR (only Lillemor). A word it
does not know at all, as most surnames and streets, says nothing either way.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import PipelineError

DICTIONARY = Path("/usr/share/hunspell/sv_SE.dic")  # Debian's hunspell-sv, installed by scripts/setup.sh
_WORD = re.compile(r"[^\W\d_]+")


def plain(text: str) -> str:
    """The letters without their marks, case folded: BORLÄNGE and Borlange are both 'borlange'."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def _hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def _sorted_hashes(words: Iterable[str]) -> npt.NDArray[np.uint64]:
    return np.unique(np.fromiter((_hash(w) for w in words), dtype=np.uint64))


def _known(table: npt.NDArray[np.uint64], word: str) -> bool:
    key = np.uint64(_hash(word))
    at = int(np.searchsorted(table, key))
    return at < len(table) and table[at] == key


@cache
def _lexicon() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """The words the lexicon knows (case folded), and the same without their marks, as sorted 64-bit hashes: a
    worker keeps 2 MB rather than 40 MB of strings."""
    try:
        with DICTIONARY.open(encoding="utf-8") as lines:
            next(lines, None)  # the first line is the count
            words = {w for w in (line.split("/", 1)[0].strip().casefold() for line in lines) if w}
    except OSError as exc:
        raise PipelineError(
            f"The Swedish lexicon {DICTIONARY} cannot be read ({exc.strerror}).",
            action="Install Debian's hunspell-sv (scripts/setup.sh does), then process the document again.",
        ) from None
    return _sorted_hashes(words), _sorted_hashes({plain(w) for w in words})


def marks_doubtful(text: str) -> bool:
    """Whether a word of ``text`` is unknown as it is spelt here but known with other marks over its letters."""
    words, plains = _lexicon()
    return any(not _known(words, w) and _known(plains, plain(w)) for w in _WORD.findall(text.casefold()))
