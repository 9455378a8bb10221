"""Zonal reading of an aligned page: every field's box, by the form definition.

The page has been warped onto the template, so a box in PDF points is a fixed pixel rectangle. The printed form
(labels, borders, comb lines) is removed by subtracting the blank's own ink, dilated a little for alignment error;
what is left is what the person wrote. Then:
- tick boxes and options are read by ink fill ratio, with an ambiguous band that goes to review;
- the signature by ink presence;
- text fields with ink are stitched into one image, read in one engine call, and the words mapped back by row.
A box with no ink is *empty*; a box with ink the engine cannot read is *unreadable* (low confidence), never empty,
except where the ink is only specks (each smaller than a fleck of a character) that no reader reads as anything: a
poor scan's dust. Faint writing breaks into flecks larger than that, and stays unreadable.
"""

from __future__ import annotations

import io
import re
import string
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image
from rapidfuzz.distance import Hamming, Levenshtein

from pipeline.formspec import A4, Box, FieldSpec, FieldType, FormSpec
from pipeline.identifiers import parse_personnummer
from pipeline.models import Problem, RawField, Source
from pipeline.scan.glyphs import CLASSES as DIGITS  # what a digit field holds: digits, a separator, a plus
from pipeline.scan.glyphs import INK, MARKS, SPECK, Reading, read_digits, read_letters
from pipeline.scan.lexicon import (
    STREET_ENDS_PLAIN,
    ending_split,
    joined_street,
    known,
    listed,
    marked_otherwise,
    marks_doubtful,
    near_a_word,
    near_misses,
    plain,
    street_marks_doubtful,
    with_street_marks,
    with_swedish_ending,
)
from pipeline.scan.lines import read_line, read_line_again
from pipeline.scan.ocr import OcrEngine, Word
from pipeline.validate import NORMALISERS

INSET_PT = 1.6  # read a box this far inside its printed border
TICK_EMPTY, TICK_FULL = 0.03, 0.09  # fill ratio below: empty; above: ticked; between: ambiguous
EMPTY_PIXELS = 25  # a text box with fewer ink pixels than this (after removing the form) is empty
SIGNATURE_PIXELS = 150
GAP = 24  # white rows between stitched crops
DIGIT_TYPES = {FieldType.PERSONNUMMER, FieldType.DATE, FieldType.POSTNUMMER, FieldType.PHONE}
_DIGIT_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "Q": "0",
        "D": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "i": "1",
        "Z": "2",
        "z": "2",
        "S": "5",
        "s": "5",
        "B": "8",
        "G": "6",
        "b": "6",
        "T": "7",
        "—": "-",
        "–": "-",
        "_": "-",
        "~": "-",
    }
)


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_FOREIGN = re.compile(r"[^A-Za-zÅÄÖåäö0-9 \-'.,:;/()&+?!\"]")


@dataclass
class Template:
    """The blank page at the canonical resolution: the mask of its printed ink, dilated for alignment error."""

    mask: np.ndarray
    scale: float  # pixels per point

    @classmethod
    def from_blank(cls, blank_page: Image.Image, dpi: int) -> Template:
        grey = np.asarray(blank_page.convert("L"))
        mask = cv2.dilate((grey < 200).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        return cls(mask=mask, scale=dpi / 72)

    def rect(self, box: Box, inset_pt: float = INSET_PT) -> tuple[int, int, int, int]:
        """(row0, row1, col0, col1) of a box, ``inset_pt`` inside it."""
        x0, y0, x1, y1 = box
        s = self.scale
        return (
            round((A4[1] - y1 + inset_pt) * s),
            round((A4[1] - y0 - inset_pt) * s),
            round((x0 + inset_pt) * s),
            round((x1 - inset_pt) * s),
        )


@dataclass
class PageReading:
    values: dict[str, RawField] = field(default_factory=dict)
    crops: dict[str, Callable[[], bytes]] = field(default_factory=dict)  # PNG of what the machine saw, on demand
    problems: list[Problem] = field(default_factory=list)  # about whole pages: missing, or not aligned
    marks_lost: bool = False  # both readers read a street's ending without its dots: the scan loses dots
    # Streets whose own ink settled their marks (``_ending_marks_seen``): the readers missed the ending's, and no
    # other letter of the name has any. A scan loses dots unevenly, so this settles the street alone, not the page.
    marks_settled: set[str] = field(default_factory=set)


def read_page(image: Image.Image, template: Template, spec: FormSpec, page: int, engine: OcrEngine) -> PageReading:
    grey = np.asarray(image.convert("L"))
    ink = (grey < INK) & ~template.mask
    reading = PageReading()
    texts: list[tuple[FieldSpec, np.ndarray]] = []
    specks: list[tuple[FieldSpec, np.ndarray]] = []  # boxes whose ink is specks alone: a poor scan's dust, or faint ink
    for fs in (f for f in spec.fields if f.page == page):
        reading.crops[fs.name] = _cropper(grey, template, fs)
        if fs.type is FieldType.CHECKBOX:
            assert fs.box is not None
            reading.values[fs.name] = _tick(_fill(ink, template, fs.box))
        elif fs.type is FieldType.CHOICE:
            reading.values[fs.name] = _choice(fs, [_fill(ink, template, o.box) for o in fs.options])
        elif fs.type is FieldType.SIGNATURE:
            assert fs.box is not None
            r0, r1, c0, c1 = template.rect(fs.box)
            reading.values[fs.name] = _signature(ink[r0:r1, c0:c1])
        else:
            written = _text_crop(grey, ink, template, fs)
            if written is None:
                reading.values[fs.name] = RawField(value=None, source=Source.OCR, confidence=1.0)
            else:
                crop, dust = written
                texts.append((fs, crop))
                if dust:
                    specks.append((fs, crop))
    if texts:
        sheets = _read_texts(texts, engine)
        reading.values.update(sheets.values)
        reading.marks_lost = sheets.marks_lost
        reading.marks_settled = sheets.marks_settled
    for fs, crop in specks:
        tesseract = str(reading.values[fs.name].value or "")
        if not _read_in_specks(fs, tesseract) and not read_line(crop).text.strip(" .,:;'`\"-_|。"):
            # Specks in which no reader reads what the field could hold are a poor scan's dust in an empty box.
            reading.values[fs.name] = RawField(value=None, source=Source.OCR, confidence=1.0)
    return reading


def _read_in_specks(fs: FieldSpec, text: str) -> bool:
    """Whether tesseract read in a box of specks alone what the field could hold: in a name or place, words or a
    name of its list; elsewhere anything. Else it read the dust (ee, oo: poor calibration scans, seeds 11-49, so
    read three empty boxes in which the line reader read nothing)."""
    if not text or fs.type is not FieldType.TEXT:
        return bool(text)
    return known(text) or (fs.words is not None and listed(text, fs.words))


def _signature(mask: np.ndarray) -> RawField:
    """Signed where the box holds strokes, not where a poor scan's dust adds up to as much ink; ink without a stroke
    in flecks of a stroke's size (a faint signature broken up) goes to a person. Specks alone, smaller than any
    fleck of a stroke (``SPECK``, as in a text box), are dust however many: poor calibration scans (seeds 11-49, 546
    applications) left up to 185 pixels of them, none larger than 5, in 10 of the 78 unsigned boxes; every one of
    the 468 signatures held a stroke."""
    labels, stats, strokes = _components(mask)
    if int(strokes[labels].sum()) >= SIGNATURE_PIXELS:
        return RawField(value=True, source=Source.OCR, confidence=1.0)
    doubtful = int(mask.sum()) >= SIGNATURE_PIXELS and bool((stats[1:, 4] >= SPECK).any())
    return RawField(value=False, source=Source.OCR, confidence=0.5 if doubtful else 1.0)


def _fill(ink: np.ndarray, template: Template, box: Box) -> float:
    r0, r1, c0, c1 = template.rect(box, inset_pt=1.2)
    area = ink[r0:r1, c0:c1]
    return float(area.mean()) if area.size else 0.0


def _tick(fill: float) -> RawField:
    """Ticked, empty, or ambiguous (a stray mark, a half-erased tick): the last goes to review."""
    if fill >= TICK_FULL:
        return RawField(value=True, source=Source.OCR, confidence=min(1.0, 0.9 + fill))
    if fill <= TICK_EMPTY:
        return RawField(value=False, source=Source.OCR, confidence=1.0 - fill)
    return RawField(value=fill >= (TICK_EMPTY + TICK_FULL) / 2, source=Source.OCR, confidence=0.5)


def _choice(fs: FieldSpec, fills: list[float]) -> RawField:
    ticks = [_tick(f) for f in fills]
    chosen = [o.value for o, t in zip(fs.options, ticks, strict=True) if t.value]
    confidence = min(t.confidence for t in ticks)
    value = chosen[0] if len(chosen) == 1 else ("|".join(chosen) or None)
    return RawField(value=value, source=Source.OCR, confidence=confidence)


def _text_crop(grey: np.ndarray, ink: np.ndarray, template: Template, fs: FieldSpec) -> tuple[np.ndarray, bool] | None:
    """The written part of a text box, the printed form and the dust around the writing removed, and whether its ink
    is specks alone (every component smaller than a fleck the per-character reader would read); None when the box
    has no ink."""
    assert fs.box is not None
    r0, r1, c0, c1 = template.rect(fs.box)
    mask = ink[r0:r1, c0:c1]
    if int(mask.sum()) < EMPTY_PIXELS:
        return None
    box = grey[r0:r1, c0:c1].copy()
    box[template.mask[r0:r1, c0:c1]] = 255  # the printed form, whitened
    components = _components(mask)
    specks = bool((components[1][1:, 4] < SPECK).all())
    faint = _faint_ink(box, mask)
    if faint is not None:
        mask, components = faint, _components(faint)
    kept, dust = _writing(mask, components)
    box[dust] = 255
    rows, cols = np.nonzero(kept)
    pad = 6
    top, bottom = max(rows.min() - pad, 0), min(rows.max() + pad + 1, mask.shape[0])
    left, right = max(cols.min() - pad, 0), min(cols.max() + pad + 1, mask.shape[1])
    return box[top:bottom, left:right], specks


def _faint_ink(box: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The box's ink at a level of its own where the writing is faint (thin strokes blurred on a poor scan at 150
    dpi, grey at its darkest): at the page's level such writing falls apart into flecks, and a house number of
    them lay too far from the strokes to count as writing (NYGRÄND for NYGRÄND 842: no reader saw the number, as
    it was cut off). The level lies ``FAINT_SHARE`` of the way from the paper to the writing's darkest. Writing
    dark enough (``FAINT_GREY``) keeps the page's level: None then."""
    if not ink.any():
        return None
    paper, dark = float(np.median(box)), float(np.percentile(box[ink], FAINT_DARKEST))
    level = paper - FAINT_SHARE * (paper - dark)
    return box < level if dark >= FAINT_GREY and level > INK else None


FAINT_SHARE = 0.45
FAINT_DARKEST = 10  # percentile of the ink's grey levels: the writing's darkest, not a speck's one pixel
# Writing this grey at its darkest is faint: a poor scan's thin strokes, blurred (the writing of good scans is about
# 40 there, of poor ones about 100).
FAINT_GREY = 80


# A stroke: an ink component at least this tall against the box, and this large against the box's height squared
# (the same at every resolution). Marks near the strokes (dots, a ring, a hyphen, punctuation) belong to the writing;
# dust further away does not: the engine reads it as punctuation and loses confidence in the whole line.
STROKE_HEIGHT, STROKE_AREA = 0.125, 0.012
# How far from the writing a mark still belongs to it, in heights of its tallest stroke: beside it (a word space and
# more), above or below it (the dots of Ö); taken step by step, so a faint letter's flecks join one by one.
NEAR_SIDE, NEAR, NEAR_STEPS = 1.5, 0.5, 6


def _components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each ink component's label image, its stats (x, y, width, height, area; row 0 the background), and which are
    strokes: tall and large enough against the box to be part of a character or a signature."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    height = mask.shape[0]
    strokes = (stats[:, 3] >= STROKE_HEIGHT * height) & (stats[:, 4] >= STROKE_AREA * height * height)
    strokes[0] = False  # the background
    return labels, stats, strokes


def _writing(
    mask: np.ndarray, components: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ink of a box split into the writing and the dust around it (each a boolean mask): the strokes, and every
    component near them or near one already taken (dots and rings, punctuation, the flecks of a faint letter, the
    number after a street's name). Where no component looks like a stroke, all ink counts as writing: the engine,
    not this, decides it is illegible. ``components``: the mask's, where the caller has them."""
    labels, stats, strokes = components or _components(mask)
    if not strokes.any():
        return mask.astype(bool), np.zeros(mask.shape, bool)
    line = int(stats[strokes, 3].max())
    reach = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * round(NEAR_SIDE * line) + 1, 2 * round(NEAR * line) + 1))
    keep = strokes.copy()
    for _ in range(NEAR_STEPS):
        near = cv2.dilate(keep[labels].astype(np.uint8), reach).astype(bool)
        grown = keep.copy()
        grown[np.unique(labels[near])] = True
        grown[0] = False
        if (grown == keep).all():
            break
        keep = grown
    dust = ~keep[labels] & (labels > 0)
    # The dust's grey fringe goes with it.
    return keep[labels], cv2.dilate(dust.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


@dataclass(frozen=True)
class Pass:
    """One engine call over the stitched crops of the fields it reads: the model, what it may recognise, whether gaps
    between characters are closed first (comb cells, spaced digit groups), and whether the per-character reader reads
    each crop too. The line reader reads every one-line field (not free text, which runs over several lines)."""

    model: str = "swe"
    charset: str | None = None
    compact: bool = False
    glyphs: bool = False  # the per-character reader (``glyphs``), digits only


# Tesseract's confidence does not say which of its readings of a hand are right: it gives a clear, right name 0.6 and
# a wrong one 0.93, and it misreads hand-written digits often, some confidently (a 3 for an 8 is still a valid
# postnummer). So a reading is trusted where witnesses that fail differently agree, never on one reader's word:
# - tesseract, the line reader (PP-OCR: another network, trained on other data) and, for digits, names, streets and
#   places, the per-character reader (one character at a time, trained on other hands than the fixtures write with);
# - for text, the Swedish lexicon (``lexicon``), which reads no ink: what a word can be, not what was written;
# - text (names, streets, places), in a name or place tesseract's letter read twice, with a Swedish mark and without
#   (TRÖOLLHÄTTAN: a speck read as a mark of its own), read once first: tesseract's reading stands where the line
#   reader read the same characters with the same spacing, sure of the line, or less sure where every word is a
#   Swedish word as spelt. Where tesseract's words are words, the line reader (not sure) may have read them otherwise
#   as it does: spaced otherwise (ANIT A), without their marks (MALMO, where that is no word) or with marks of another
#   alphabet (MÔLNDAL). Where the two differ and the line reader is sure, a reading of words stands against one of no
#   words: the line reader's where tesseract's differing words are no words (NARTANA for MARIANA), as many words,
#   letters and near (it drops letters at its surest: MOHAMMAD for MOHAMMADI), or its letters with the marks tesseract
#   read on them where its own are no word (ENGSTROM, ENGSTRÖN: ENGSTRÖM). The line reader nearly certain of words
#   stands alone where tesseract read no words but letters near them, no more of them (HALNS TAD for HALMSTAD: see
#   ``_line_alone``); in a field that holds a name of a list, the name of the list (DAR! for the language DARI: see
#   ``_listed_alone``). The line reader, sure, and the per-character reader, nearly certain, that read the same
#   letters stand against tesseract's (TÖRSTEN, a mark that is not there). Where the two differ in one letter and one
#   reads words, the other not, the words stand, either reader's (JÖNKÖPING against TÖNKÖPING, ÄNGELHOLM against
#   ÄNGELHOLN), unless the line reader is nearly certain of its no word. Two readings of different words (ANSA, ANTA
#   for ANJA) go to a person. In an address, a street's name counts as a word where a word and a street's ending make
#   it (ASP + GATAN); where that ending lost its dots (ASPVAGEN, KYRKOGRAND: no street's name ends so) they are put
#   back before the vote (where both readers lost them and dots over another letter make another street's name,
#   BÄCKVÄGEN for BACKVAGEN, it stays doubtful: the scan may have lost those too), and where a form does not come
#   before it, it stays doubtful (BJORKGRAND); a lone O closing an address is its number, 0. Where the two read a
#   street's name alike and the line reader is unsure, or the name is one letter from another street's, the
#   per-character reader spelling it is the witness that decides (``LETTERS_LIKELY``). The number is read apart, as
#   digits (``_address``);
# - e-mail: tesseract's reading stands where the line reader, sure, read the same and the ink holds no point the
#   reading lacks (``_points``: both readers miss a point as small as a speck), nor the line reader a gap between two
#   characters (where a point may be); no lexicon knows addresses;
# - digits: where one of the other two is sure and a reader of another kind read the same digits (tesseract's
#   reading is kept, for its spacing, where it is one of them); where the sure readers differ, or none is sure, a
#   person decides; except where the line reader is sure and the per-character reader, though it read other digits,
#   was torn between them and the line reader's (0 and 8, 3 and 5: see GLYPHS_LIKELY). A phone number's + is often
#   lost or read as a point; digits that cannot be dialled without it get it back. A personnummer's check digit is
#   a witness that reads no ink: any one digit misread breaks it, so the line reader, sure, stands alone where it
#   fits (with a date that exists; none was wrong in calibration). A date's or a postnummer's form is a weaker
#   witness of the same kind (a digit dropped or doubled breaks it): the line reader, nearly certain, stands alone
#   where its digits have that form (tesseract often reads 10 as 19, which is no month), against the per-character
#   reader (often sure of a 0 for an 8) but not against it and tesseract together; a phone number's length varies,
#   so there another reader must have read as many digits. The per-character reader nearly certain of every
#   character (``GLYPHS_CERTAIN``) stands alone the same way, where its digits have a date's or a postnummer's form
#   and the line reader is not nearly sure of other digits of that form (the others dropped a digit: 5299 and 1576
#   for 529 09 and 115 76), and, sure, where a personnummer's check digit fits. Where two readers agree and the line
#   reader, nearly sure, read as many other digits, a person decides (``LINE_DISSENT``). Where tesseract and the
#   line reader, less than sure (``LINE_AGREE``), read the same digits in their form, they stand against the
#   per-character reader unless it is nearly certain of others. A phone number is checked against its country's
#   number plan by its validator (a + read as 1 gives none).
# A scan that lost a street's ending's dots to both readers (ASPVAGEN) may have lost dots on a name too, to every
# reader of every ink: there, a name or place that is words with dots over one of its letters too (JONSSON) goes to
# a person (``doubt_lost_marks``); and where two inks of the same words differ in Swedish marks tesseract read on
# the one in doubt (JÖNSSON under Efternamn, JONSSON under the signature), a person decides which (``_marked_here``).
# Failures the readers share are caught apart, for text: a value of one letter (a smudge both read as A), a word
# of one letter that looks like a digit, or letters mixed with digits (both read VILLAGATAN 0 as VILLAGATAN O); a
# point, comma or apostrophe, which a speck of dust beside the writing reads as (both read ULF OLSSON as ULF.
# OLSSON); dots or a ring the scan lost (both read BORLÄNGE as BORLANGE), which the lexicon knows; and a word that is
# none but one letter from one (both read VILLAGATAN as MILLAGATAN).
# Calibrated on scans of seeds 11-22, never the bench's (3-5); checked on seeds 23-34, which found the faults the
# rules on one letter, a gap in an e-mail, the dissent of digits and the number plan now catch; seeds 35-46 found
# BACKVÄGEN for BÄCKVÄGEN (the dots a scan lost, see above). The rules on two readers against tesseract (a street's
# letters, unsure digits), a street's name read apart, and marks lost on one ink of two were found on seeds 23-31
# and checked on 32-37, none making a wrong acceptance on either. The rules on the line reader alone, two engines'
# digits alike, dots lost on another field and marks read on one ink of two were found on seeds 23-49, after
# wrong acceptances on 38-49 (MARGARET, JONSSON twice, HÅNS for HANS). Not caught: dots lost where both spellings
# make a street's name and nothing on the line shows the scan lost dots (BACKTORGET for BÄCKTORGET), and a
# street's name misread alike by all three readers as another (MILLAVÄGEN for VILLAVÄGEN: Milla is a name).
DISAGREE = 0.5  # the confidence of a value the readers did not confirm: below every threshold, so a person decides
AGREED = 0.95  # and of one they did
GLYPHS_SURE = 0.8  # the per-character reader's least sure character
# Where the line reader is sure and the per-character reader, unsure, read other digits (0 for 8, 5 for 3: it is
# often torn between them), the line reader's digits stand if the per-character reader gave each at least this.
# None of 48 so confirmed in calibration was wrong; at 0.05, 60.
GLYPHS_LIKELY = 0.1
# The per-character reader this sure of every character, digits in their form stand alone (``_certain_alone``). Of
# 922 date, postnummer and personnummer fields of calibration scans (good and poor seeds 11-22, typical 11-16) it
# would so confirm, none was wrong, and 6 no other rule confirmed. At 0.98: 1,008, the same 6, none wrong.
GLYPHS_CERTAIN = 0.99
# Where tesseract and the line reader read a street's name alike but the line reader is unsure (a compound: TRÄDGÅRDS
# + VÄGEN) or the name is one letter from another (EKVÄGEN, ELVÄGEN), it stands where the per-character reader gave
# each of its letters at least this. Calibration (seeds 11-16, 252 applications): 9 names more confirmed, none
# wrong; of the names the other rules confirmed, it would have confirmed 145 too, all right.
LETTERS_LIKELY = 0.1
# Where the line reader read another Swedish mark on a letter of a street's name than tesseract (Ä for Å), the
# per-character reader this sure of every letter, spelling tesseract's, decides (``_marks_outvoted``). Calibration
# (seeds 11-16, good and poor): 2 names so confirmed, both right, that no other rule confirmed; over good, typical
# and poor seeds 11-16 and poor 17-22, no field was accepted wrongly with it.
LETTERS_CERTAIN = 0.95
# The per-character reader this sure of every letter, spelling what the line reader, sure, read against tesseract's
# reading, is the second witness (``_two_against_one``). It was ``LETTERS_CERTAIN``; over seeds 11-49 (1,638
# applications), 0.7 confirmed 11 names and places more (BERGGREN, TOMMY, HALMSTAD where tesseract read BERGO6REN,
# TOnNNY, HALNÖ TID), all right, and so did every value down to 0.4 (16 more).
LETTERS_SPELT = 0.7
# The line reader's mean character probability: both read FELICIA as FELICU in a poor scan, the line reader at 0.89;
# below 0.93 about one right reading in thirty is lost.
LINE_SURE = 0.93
# Where the line reader is nearly certain of digits, they may stand alone if their form holds (``_stands_alone``):
# of 1,745 digit fields in calibration (seeds 11-18, and 19-26 held out) that it read at 0.97 or more in a form that
# holds, none was wrong; at 0.95, five were (a phone number's digit dropped or doubled, a postnummer's changed).
LINE_CERTAIN = 0.97
# The line reader this sure of as many digits as the other two agreed on, other ones, is a dissent a person settles:
# of digit fields of calibration scans (good, typical and poor seeds 11-22) none was so confirmed right; on a poor
# scan of seed 34 one was so confirmed wrong.
LINE_DISSENT = 0.9
# The line reader at least this sure of an 8 where the per-character reader read a 0, the other digits alike
# (``_eights_read_as_noughts``). Replayed over the votes of calibration scans (good and poor, seeds 11-65, 1,540
# applications): of 187 digit fields so read (house numbers, postnummer, phone numbers), all were right as the line
# reader read them; 176 at 0.97 or more, 11 at 0.807 to 0.968, of which 6 no other rule confirmed.
EIGHTS_SURE = 0.8
LINE_FLOOR = 0.5  # the least the line reader's probability may be where it read words the lexicon knows
# Tesseract and the line reader this sure read the same digits in their type's form: they stand, whatever the
# per-character reader (not certain) read (``_two_engines_alike``). Calibration (seeds 23-49, 1,134 applications,
# good, typical and poor): 16 phone numbers, postnummer and dates so confirmed that no other rule confirmed, none
# wrong (of those below this, one date was wrong, and in no form).
LINE_AGREE = 0.85
# Tesseract and the line reader at least this sure read the same street's name, one the lexicon composes (KYRK +
# GATAN, ÅKER + STIGEN) and one letter from no street's name it knows as a form: it stands, whatever the
# per-character reader read (it read some hands' K as W). Calibration (seeds 11-49, 1,638 applications): 1,215
# street names read alike and composed so; the 2 wrong were read with the line reader sure (BACKTORGET, dots lost).
# Of those read at 0.8 to 0.93, 87, all right; 24 no other rule confirmed. Not caught: both readers reading the same
# other street's name (MILLASTIGEN for VILLASTIGEN), as above the line reader's sure.
STREET_AGREE = 0.8
# The line reader at least this sure, and the per-character reader, read the same letter where tesseract read
# another, the rest alike (``_letter_seconded``). Replayed over the votes of calibration scans (good and poor, seeds
# 11-65, 1,540 applications): 7 names and streets so confirmed that no other rule confirmed, none wrong; the
# least sure of the line reader's was 0.852 (MAJ, where tesseract read NAJ). Not against tesseract's words: the
# other two share some misreadings of a hand (both read VILLAGATAN as MILLAGATAN, the line reader at 0.93).
LETTER_SECONDED = 0.85
# Where both read a word one letter from a word (both read VILLAGATAN as MILLAGATAN, the line reader at 0.97), it
# stands only where the line reader is surer than that (MICHAL, HASAN, EKVÄGEN: 0.99 to 1.0).
NEAR_SURE = 0.99
# The line reader this sure of words as spelt stands alone against tesseract's failed reading of the same letters
# (``_line_alone``). Found on calibration scans of seeds 23-37 (630 applications, good, typical and poor); seeds
# 38-43 held out found MARGARET for MARGARETA (a letter the line reader dropped, where tesseract read NARGARE TA),
# so no reading with fewer letters than tesseract's stands. Then, over seeds 23-49 (1,134 applications), it
# confirmed 37 names and places that no other rule confirmed, none wrong; 6 of them on seeds 44-49, held out.
LINE_ALONE = 0.99
# How far a sure line reading of Swedish words may lie from tesseract's (edits, marks aside) and still count as a
# reading of the same ink: two letters, or a quarter of a longer line's.
NEAR_EDITS, NEAR_SHARE = 2, 0.25
_LOOKALIKE_WORD = re.compile(r"(?:^|\s)(?:[OIlSZBGDQT|]|(?=\S*\d)(?=\S*[^\W\d_])\S+)(?=\s|$)", re.IGNORECASE)
_GAP_IN_ADDRESS = re.compile(r"[^\s.@]\s+[^\s.@]")
_SPECK_MARKS = re.compile(r"[.,:;'`´\"]")  # what a speck of dust beside the writing reads as, to every reader
# What tesseract reads in the dust after a name or place on a poor scan, and the line reader does not: marks, and a
# token of a digit or two or of up to three lower-case letters, after a capital or not (the form asks for capitals):
# KALMAR”, STEEN. 0, FALUN. ee, CHRISTINA cci; and in a name or place, marks after a word before the next (LENA:
# GUSTAVSSON). Calibration (seeds 11-49, 1,638 applications): 22 names and places so read that the line reader read
# alike without it, as words the lexicon knows, none wrong (7 of them from the lower-case words of three letters and
# the marks between words).
_DUST_AFTER = re.compile(r"(?:[.,:;'`´\"”“’]+|\s+(?:\d{1,2}|[A-ZÅÄÖ]?[a-zåäö]{1,3}|[.,:;'`´\"”“’«»]+))+$")
_DUST_INSIDE = re.compile(r"(?<=[^\W\d_])[.,:;]+(?=\s)")  # not in a street's name: ST. ERIKSGATAN
# A point between two words of a name where tesseract read a space: the line reader's reading of a wide word space
# in some hands (NILS.ABRAHAMSSON, MARIE·JAKOBSSON). Calibration (seeds 11-49, 1,638 applications): 4 names so read
# and then confirmed as tesseract's, that no other rule confirmed, none wrong.
_POINT_FOR_SPACE = re.compile(r"(?<=[^\W\d_])\s*[.·,]\s*(?=[^\W\d_])")
DIGIT_PASS = Pass(charset=DIGITS, compact=True, glyphs=True)
# Swedish's character set has no '@'; addresses are ASCII in practice, so e-mail reads with English, ASCII only.
EMAIL_PASS = Pass(model="eng", charset=string.ascii_letters + string.digits + ".@-_+")
TEXT_PASS = Pass()


def pass_for(kind: FieldType) -> Pass:
    if kind in DIGIT_TYPES:
        return DIGIT_PASS
    return EMAIL_PASS if kind is FieldType.EMAIL else TEXT_PASS


def _read_texts(texts: list[tuple[FieldSpec, np.ndarray]], engine: OcrEngine) -> PageReading:
    """One engine pass per character-set group (digits, e-mail, the rest), never one per field."""
    groups: dict[Pass, list[tuple[FieldSpec, np.ndarray]]] = {}
    for fs, crop in texts:
        p = pass_for(fs.type)
        groups.setdefault(p, []).append((fs, _compact(crop) if p.compact else crop))
    out = PageReading()
    for p, members in groups.items():
        sheet = _read_sheet(members, engine, p)
        out.values.update(sheet.values)
        out.marks_lost = out.marks_lost or sheet.marks_lost
        out.marks_settled |= sheet.marks_settled
    return out


def _compact(crop: np.ndarray, keep: int = 12) -> np.ndarray:
    """Close up wide gaps between characters (comb cells, spaced digit groups) so they read as one word."""
    inked = np.any(crop < INK, axis=0).tolist()
    columns = []
    run = 0
    for index, has_ink in enumerate(inked):
        run = 0 if has_ink else run + 1
        if run <= keep:
            columns.append(index)
    return crop[:, columns]


def _read_sheet(texts: list[tuple[FieldSpec, np.ndarray]], engine: OcrEngine, how: Pass) -> PageReading:
    """Stitch every crop under the other, one engine call, and map words back to the crop they fall in; the other
    readers read each crop. Whether the scan lost a street's ending's dots to both readers is noted."""
    width = max(c.shape[1] for _, c in texts) + 2 * GAP
    height = sum(c.shape[0] for _, c in texts) + GAP * (len(texts) + 1)
    sheet = np.full((height, width), 255, np.uint8)
    tops: list[int] = []
    y = GAP
    for _, crop in texts:
        sheet[y : y + crop.shape[0], GAP : GAP + crop.shape[1]] = _paper_white(crop)
        tops.append(y)
        y += crop.shape[0] + GAP
    words = engine.words(Image.fromarray(sheet), how.charset, how.model)
    out = PageReading()
    for (fs, crop), top in zip(texts, tops, strict=True):
        bottom = top + crop.shape[0]
        mine = [w for w in words if top <= w.top + w.height / 2 < bottom]
        if fs.charset == "address" and (split := _address(fs, mine, crop)) is not None:
            out.values[fs.name], lost, settled = split
            out.marks_lost = out.marks_lost or lost
            if settled:
                out.marks_settled.add(fs.name)
            continue
        reading = _field_value(fs, mine)
        glyphs = read_digits(crop) if how.glyphs else None
        # The line reader reads every one-line field tesseract found writing in; free text runs over several lines.
        line = read_line(crop) if fs.type is not FieldType.FREETEXT and (reading.value or how.glyphs) else None
        letters = _letters_read(crop, line) if fs.type is FieldType.TEXT and line is not None else None
        voted = _vote(fs, reading, glyphs, line, letters)
        if voted.confidence < AGREED and line is not None:
            voted = _read_again(fs, reading, glyphs, line, crop) or voted
        if fs.type is FieldType.EMAIL and _points(crop) > str(voted.value or "").count("."):
            voted = _doubt(voted)  # both readers missed a point (ANNIKA.MOHAMMAD) small as a speck
        if fs.type is FieldType.TEXT and line is not None:
            tess, read = str(reading.value or ""), clean(fs.type, line.text, fs.charset)[0]
            if voted.confidence < AGREED and line.confidence >= LINE_FLOOR:
                voted = voted.model_copy(update={"alternatives": (read,)})
            if fs.charset == "address":
                lost = _dots_lost(tess, read)
            else:
                lost = _confirmed(voted) and _marks_lost_to_both(str(voted.value), tess, read)
            out.marks_lost = out.marks_lost or lost
        if fs.type is FieldType.FREETEXT and voted.value and _marks_after(crop, mine, top):
            voted = _doubt(voted)
        confirmed = fs.type is FieldType.TEXT and voted.confidence >= AGREED
        if confirmed and voted.value == reading.value and _ink_unread(crop, mine):
            voted = _doubt(voted)  # tesseract's words are the value: their boxes say where its ink ends
        out.values[fs.name] = voted
    return out


def _marks(crop: np.ndarray) -> np.ndarray:
    """The stats (x, y, width, height, area) of each ink component of a crop, the background left out."""
    _, _, stats, _ = cv2.connectedComponentsWithStats((crop < INK).astype(np.uint8), connectivity=8)
    marks: np.ndarray = stats[1:]
    return marks


def _ink_unread(crop: np.ndarray, words: list[Word]) -> bool:
    """Whether ink of a character's height lies right of all that tesseract read: a character that every reader
    lost (GRANGATAN for GRANGATAN 1: the narrow 1 was read by none, and the readers agreed on the rest). Whatever
    tesseract read there, even a mark (| for a 1), was seen. Calibration (seeds 11-49, 1,638 applications): asked
    where the value is tesseract's reading (a house number read apart has readers of its own), it doubted that
    address and no other value read with confidence."""
    return bool(words) and _unread_after(crop, words) is not None


def _marks_after(crop: np.ndarray, words: list[Word], top: int) -> bool:
    """Whether ink lies right of where tesseract's reading of a line ends, at that line's height: a point or a comma
    that ends a sentence, which it did not read (free text alone has no other reader). Held-out scans (seeds 50-57,
    336 applications) found one description so accepted without its last point."""
    stats = _marks(crop)
    marks = stats[stats[:, 4] >= POINT_AREA].tolist()
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    for line in lines.values():
        end = max(w.left + w.width for w in line) - GAP  # the sheet's crops start GAP pixels in, ``top`` down
        y0, y1 = min(w.top for w in line) - top, max(w.top + w.height for w in line) - top
        below = y1 + POINT_BELOW * (y1 - y0)
        if any(x >= end and y0 <= y + h / 2 <= below for x, y, _, h, _ in marks):
            return True
    return False


POINT_AREA = 2  # pixels: a written point on a scan at 150 dpi
UNREAD_AFTER = 2  # pixels right of the last word's box
UNREAD_HEIGHT = 0.6  # of the writing's height: a character, not dust


def _paper_white(crop: np.ndarray) -> np.ndarray:
    """The crop with its paper as white as the sheet's: tesseract parts ink from paper by one grey level for the
    whole sheet, and where a poor scan's grey paper filled most of it (a large box of dust beside a few names), that
    level fell between the grey paper and the white sheet, and every crop read as black."""
    paper = float(np.median(crop))
    if paper >= 255:
        return crop
    whitened: np.ndarray = np.clip(crop.astype(np.float32) * (255 / max(paper, 1.0)), 0, 255).astype(np.uint8)
    return whitened


def _points(crop: np.ndarray) -> int:
    """The points a line of writing holds: ink between two characters, low on the line and small (a scan at 150 dpi
    leaves a written point two pixels wide, the size of dust, but dust seldom falls just there)."""
    stats = _marks(crop)
    letters = stats[stats[:, 4] >= SPECK]
    if not len(letters):
        return 0
    letters = letters[letters[:, 3] >= letters[:, 3].max() / 2]
    height, baseline = float(np.median(letters[:, 3])), float(np.median(letters[:, 1] + letters[:, 3]))
    spans = [(lx, lx + lw) for lx, _, lw, _, _ in letters.tolist()]
    points = 0
    for x, y, w, h, area in stats.tolist():
        low = baseline - POINT_LOW * height <= y + h <= baseline + POINT_BELOW * height
        small = area >= 2 and max(w, h) <= POINT_SIZE * height
        apart = not any(start < x + w and x < end for start, end in spans)
        points += low and small and apart
    return points


# A point: at most this share of the line's height across, its foot this far above or below the letters' feet.
POINT_SIZE, POINT_LOW, POINT_BELOW = 0.3, 0.3, 0.15
HOUSE_NUMBER = FieldType.POSTNUMMER  # compared as a postnummer's digits are
_NAME_WORD = re.compile(r"[^\W\d_]{3}")  # a word of a street's name: three letters or more
_NUMBER = re.compile(r"\d+")
_DIGIT = re.compile(r"\d")
_TRAILING_NUMBER = re.compile(r"(\d[\d ]*)\D*$")  # the number that ends a line's reading, spaces inside it too


def _letters_read(crop: np.ndarray, line: Reading) -> Reading:
    """The per-character reader's capitals, with as many letters as the line reader read where its ink holds fewer
    bodies: letters that touch (DkgHandwriting's T, its bar joined to the next letter: TA read as M, TT as W). The
    letters are then read one by one as ever: only their count is the line reader's."""
    return read_letters(crop, sum(c.isalpha() or c == "-" for c in line.text))


def _address(fs: FieldSpec, words: list[Word], crop: np.ndarray) -> tuple[RawField, bool, bool] | None:
    """A street's name and its number read apart, each by its own witnesses: the name as text, the number as digits
    (the line reader and the per-character reader read a number alone far better than tesseract's Swedish model
    reads it after a name: Ö for 0, u for 4). The number is what follows the name in tesseract's reading, or where
    it read nothing there and the line reader read digits, the ink right of what it read (PARKGRÄND for PARKGRÄND
    2: it did not see the 2), cut at the white gap before it; None where nothing follows the name or no gap is
    found (then the address is read as one line). A number that is not digits alone (12 B, 12-14) is never
    confirmed here. With the reading, whether both readers read the name's ending without its dots
    (``_dots_lost``), and whether its ink settled its marks all the same (``_ending_marks_seen``)."""
    words = sorted(words, key=lambda w: (w.line, w.left))
    # The name ends with the first word that ends as a street's name does (NYVÄGEN, before a number read as uug),
    # or else with the last word of three letters or more.
    ends = [i for i, w in enumerate(words) if plain(w.text).endswith(STREET_ENDS_PLAIN)]
    named = ends[:1] or [i for i, w in enumerate(words) if _NAME_WORD.search(w.text)][-1:]
    if not named:
        return None
    whole = read_line(crop) if named[-1] == len(words) - 1 else None  # the line reader's reading of the whole line
    if whole is None:
        after: int | None = words[named[-1] + 1].left - GAP  # the sheet's crops start GAP pixels in
    elif _DIGIT.search(whole.text):  # a number tesseract did not see that the line reader did
        after = _unread_after(crop, words)
    else:
        return None
    cut = _gap_before(crop, after) if after is not None else None
    if cut is None:
        return None
    name, number = read_line(crop[:, :cut]), crop[:, cut:]
    if _DIGIT.search(name.text):  # the gap was one inside the number (8|60): read as one line
        return None
    tess = _field_value(fs, words[: named[-1] + 1])
    letters = _letters_read(crop[:, :cut], name)
    street = _text_vote(fs, tess, name, letters)
    if street.confidence < AGREED:
        street = _text_again(fs, tess, name, crop[:, :cut]) or street
    lost = _dots_lost(str(tess.value or ""), clean(fs.type, name.text, fs.charset)[0])
    settled = lost and _ending_marks_seen_in(str(tess.value or ""), letters)
    text = " ".join(w.text for w in words[named[-1] + 1 :])
    glyphs, line = read_digits(number), read_line(number)
    digits_read = RawField(value=_digits_only(text), source=Source.OCR, confidence=min(w.confidence for w in words))
    digits = _digits_vote(
        HOUSE_NUMBER,
        digits_read,
        glyphs if _digits_only(glyphs.text) else None,
        line if _digits_only(line.text) else None,
        form=False,
    )
    # Not where tesseract read no digits but something there (.& 5 oe): the scan is poor at that place, and the name
    # beside it may be misread alike by both its readers (IPROTTSGATAN 85, seed 65's poor scans, once so accepted).
    if digits.confidence < AGREED and (digits_read.value or not text):
        digits = _digits_again(HOUSE_NUMBER, digits_read, glyphs, line, number, form=False) or digits
    if digits.confidence < AGREED:
        digits = _lone_nought(text, glyphs, line, number) or digits
    confirmed = digits.confidence >= AGREED
    # The number that ends the whole line has digits the number's crop lacks: the cut fell inside it (8|60). Digits
    # read into the name do not count (K9RKSTIGEN 736, the line reader's Y on a typical scan).
    if confirmed and len(_trailing_digits((whole or read_line(crop)).text)) > len(str(digits.value or "")):
        digits = _doubt(digits)
    value = " ".join(str(v) for v in (street.value, digits.value or text) if v)
    return RawField(value=value, source=Source.OCR, confidence=min(street.confidence, digits.confidence)), lost, settled


# The second opinion (``lines.read_line_again``: PP-OCRv5, of the line reader's family) is asked where the readers
# left a field in doubt, and counts only beside a reader of another kind: tesseract's words as it spelt them, or
# the digits tesseract or the per-character reader read. Of its own family's readings it is no witness: it and the
# line reader read HJELM as HIELM alike, ELVIRA as ELMRA. Not where the line reader read other words (MAJ, where
# tesseract and the second opinion read MAT: two readings of different words go to a person), nor, of
# digits, where it read as many other digits nearly sure (``_dissent``). Replayed over the doubted votes of
# calibration scans (good seeds 11-30, DkgHandwriting's hand alone; good and poor seeds 31-46, every hand: 549
# applications), 29 fields so confirmed, none wrong; without the guard on the line reader's other words, MAT was
# accepted for MAJ twice.
def _read_again(
    fs: FieldSpec, reading: RawField, glyphs: Reading | None, line: Reading, crop: np.ndarray
) -> RawField | None:
    """A field the readers left in doubt, confirmed by the second opinion where it agrees with a reader of another
    kind (see above); None where it does not."""
    if fs.type in DIGIT_TYPES:
        return _digits_again(fs.type, reading, glyphs, line, crop)
    if fs.type is FieldType.TEXT:
        return _text_again(fs, reading, line, crop)
    return None


def _text_again(fs: FieldSpec, reading: RawField, line: Reading, crop: np.ndarray) -> RawField | None:
    """Tesseract's words, spelt as the second opinion read them (a street's ending's dots, which it drops, put back
    in both), where they are words the lexicon knows as spelt and with no other marks."""
    street = fs.charset == "address"
    tess = str(reading.value or "")
    read, first = (clean(fs.type, r.text, fs.charset)[0] for r in (read_line_again(crop), line))
    if street:
        tess, read, first = (with_street_marks(with_swedish_ending(joined_street(t))) for t in (tess, read, first))
    if not tess or not _same_text(tess, read) or not _could_stand(tess, street):
        return None
    is_words = _words_of(fs)
    # Words the lexicon lacks may hold a letter of another alphabet that no reader reads (ŁUKASZ, read as LUKASZ by
    # tesseract and by the second opinion alike); and it drops marks, so where other marks make words too
    # (BACKVÄGEN, BÄCKVÄGEN) it cannot say which.
    if not is_words(tess) or marked_otherwise(tess, street):
        return None
    if first and not _same_text(first, tess) and is_words(first):
        return None
    return _confirm(reading.model_copy(update={"value": tess}))


def _digits_again(
    kind: FieldType,
    reading: RawField,
    glyphs: Reading | None,
    line: Reading | None,
    crop: np.ndarray,
    form: bool = True,
) -> RawField | None:
    """The digits the second opinion read where tesseract or the per-character reader read them too, in their
    type's form (a house number has none: digits alone)."""
    again = read_line_again(crop).text
    if not form:  # a house number's digits alone, where it read a 0 as the letter it looks like (as every reader does)
        if line is not None and _LETTER.search(_NOUGHT_READ_AS_O.sub("0", line.text)):
            return None  # the line reader read a letter in it (12B), which the others may read as a digit (128)
        again = _digits_only(_NOUGHT_READ_AS_O.sub("0", again))
    ours = _key(kind, again)
    if not ours or _dissent(kind, ours, line):
        return None
    if _key(kind, reading.value or "") == ours:
        read = _with_plus(kind, reading)  # tesseract's, for its spacing
    elif glyphs is not None and _key(kind, glyphs.text) == ours:
        read = _with_plus(kind, _raw(kind, again))
    elif line is not None and _family_and_all_but_one(kind, reading, glyphs, line, ours):
        read = _with_plus(kind, _raw(kind, line.text))
    else:
        return None
    return _confirm(read) if not form or _formed(kind, str(read.value)) else None


def _family_and_all_but_one(
    kind: FieldType, reading: RawField, glyphs: Reading | None, line: Reading, ours: str
) -> bool:
    """Whether the line reader, nearly sure (``LINE_DISSENT``), read the second opinion's digits, and the
    per-character reader as many, all but one alike: a reader of another kind witnesses that no digit was dropped
    or doubled and all the others, and two networks the one it misread (this hand's 8, which it reads as 0: 0701740681
    and 0701740601). Not where tesseract read the per-character reader's digits: two readers of another kind then
    read that digit otherwise. Over the calibration scans' digit votes (as above, 549 applications), so read 217
    times, all right; 9 of them were in doubt."""
    if glyphs is None or line.confidence < LINE_DISSENT or _key(kind, line.text) != ours:
        return False
    theirs = _key(kind, glyphs.text)
    if len(theirs) != len(ours) or Hamming.distance(theirs, ours) != 1:
        return False
    return _key(kind, reading.value or "") != theirs


_LETTER = re.compile(r"[^\W\d_]")
_NOUGHT_READ_AS_O = re.compile(r"(?<![^\d\s])[Oo](?![^\d\s])")  # an O among digits, or alone


def _trailing_digits(text: str) -> str:
    """The digits of the number that ends a line's reading (8 60 in PARKVÄGEN 8 60), none where it ends in none."""
    found = _TRAILING_NUMBER.search(text)
    return found.group(1).replace(" ", "") if found else ""


def _lone_nought(text: str, glyphs: Reading, line: Reading, number: np.ndarray) -> RawField | None:
    """A house number of one nought: the per-character reader read 0, nearly certain (``GLYPHS_CERTAIN``); the line
    reader and its second opinion each read 0 or the letter it looks like alone (KVARNVÄGEN O); and tesseract read
    no other digit there (it reads a lone 0 as O, or ?). Calibration, good seeds 47-65: three addresses went to a
    person for that alone. None where the readers did not so read it."""
    if glyphs.text != "0" or glyphs.confidence < GLYPHS_CERTAIN or _DIGIT.search(text.replace("0", "")):
        return None
    for read in (line.text, read_line_again(number).text):
        if _NOUGHT_READ_AS_O.sub("0", read.strip(" .,:;'")) != "0":
            return None
    return _raw(HOUSE_NUMBER, "0")


def _unread_after(crop: np.ndarray, words: list[Word]) -> int | None:
    """Where ink of a character's height begins right of all that tesseract read (``words``, not none); None where
    there is none."""
    end = max(w.left + w.width for w in words) - GAP  # the sheet's crops start GAP pixels in
    stats = _marks(crop)
    marks = stats[stats[:, 4] >= SPECK]
    if not len(marks):
        return None
    height = float(np.median(marks[marks[:, 3] >= marks[:, 3].max() / 2, 3]))
    beyond = marks[(marks[:, 0] > end + UNREAD_AFTER) & (marks[:, 3] >= UNREAD_HEIGHT * height)]
    return int(beyond[:, 0].min()) if len(beyond) else None


def _dots_lost(tess: str, read: str) -> bool:
    """Whether both readers read a street's name with its ending's dots or ring lost (ASPVAGEN: no street's name
    ends so): the scan lost them, and loses them on other words too (``doubt_lost_marks``)."""
    tess, read = joined_street(tess), joined_street(read)
    return with_street_marks(tess) != tess and with_street_marks(read) != read


def _marks_lost_to_both(value: str, tess: str, read: str) -> bool:
    """Whether a name or place confirmed with a mark was read by tesseract and the line reader both without it, over
    the same letter (ÖSTERSUND, read OSTERSUND by both: its mark came from the per-character reader): the scan lost
    it, and loses marks on other words too (``doubt_lost_marks``)."""
    texts = [_spaced(text).casefold() for text in (value, tess, read)]
    if len({len(text) for text in texts}) != 1:
        return False
    return any(plain(ours) != ours and a == b == plain(ours) for ours, a, b in zip(*texts, strict=True))


def _digits_only(text: str) -> str:
    """The digits of a house number's reading, where it is digits alone (spaces and specks around them aside)."""
    bare = text.strip(" .,:;'").replace(" ", "")
    return bare if _NUMBER.fullmatch(bare) else ""


def _gap_before(crop: np.ndarray, x: int) -> int | None:
    """The middle of the white gap (columns with no ink) nearest to the left of ``x``, within half the writing's
    height: where a word ends and the next begins."""
    inked = np.any(crop < INK, axis=0).tolist()
    reach = crop.shape[0] // 2
    for at in range(min(x + 2, crop.shape[1] - 1), max(x - reach, 1), -1):
        if not inked[at] and not inked[at - 1]:
            start = at
            while start > 0 and not inked[start - 1]:
                start -= 1
            return (start + at) // 2 + 1 if start > 0 else None
    return None


def corroborate(spec: FormSpec, values: dict[str, RawField]) -> None:
    """Where a field repeats others in other ink (the printed name under the signature, the place of signing; the
    form's definition says which), the fields read with confidence confirm the one reading of the last that makes
    them agree. Same words written twice and read alike by two readers each: the readers' failures on one ink are
    not on the other. Only readings that could stand count, as everywhere; one letter from another word or not, the
    other ink, read with confidence, says which."""
    for fs in spec.fields:
        group = [fs.name, *fs.repeats] if fs.repeats else []
        if group and (misread := _read_apart(values, fs)):
            for n in misread:
                values[n] = _doubt(values[n])
            continue
        doubtful = [n for n in group if not _confirmed(values.get(n))]
        if group and not doubtful and _marks_differ(values, fs):
            for n in group:
                values[n] = _doubt(values[n])
            continue
        if len(group) == 2 and len(doubtful) == 2:
            _twice_alike(values, group)
        if len(doubtful) >= 2:
            _line_alike(values, fs, group)
        if len(doubtful) != 1:
            continue
        [name] = doubtful
        reading = values.get(name)
        if reading is None:
            continue
        for candidate in (str(reading.value or ""), *reading.alternatives):
            trial = {n: str(values[n].value) for n in group if n != name} | {name: candidate}
            agree = _same_text(trial[fs.name], " ".join(trial[n] for n in fs.repeats))
            # One letter from a word or not: the other ink, read with confidence, says which (BLOMGREN, JAFARI).
            if agree and _could_stand(candidate, near=False):
                if _marked_here(str(reading.value or ""), candidate):
                    for n in group:
                        values[n] = _doubt(values[n])
                else:
                    values[name] = _agreed_as(candidate, str(reading.value or ""))
                break
        else:
            _covered(values, fs, name)
            if not _confirmed(values.get(name)) and spec.field(name).holds_case:
                _doubt_near(values, fs, name)


def _read_apart(values: dict[str, RawField], fs: FieldSpec) -> list[str]:
    """The fields of ``fs``'s group read with confidence whose words and the other ink's at their place (a first
    name's the first words under the signature, a last name's the last), read with confidence too, are a letter or
    two apart, or spaced otherwise (SOFTA above, SOFIA under the signature; IDA above, A BERNTSSON under it; AS TA
    above, ASTA under it): one ink was misread, and which is not known. A person who writes again writes the same
    words, or others (who signed in another town), not nearly the same. Held-out scans (seeds 50-65, 672
    applications) found five such names accepted wrong."""
    if not _confirmed(values.get(fs.name)):
        return []
    apart: list[str] = []
    for name in fs.repeats:
        if _confirmed(values.get(name)) and _letters_apart(str(values[name].value), _at_place(values, fs, name)):
            apart += [fs.name, name]
    return list(dict.fromkeys(apart))


def _at_place(values: dict[str, RawField], fs: FieldSpec, name: str) -> list[str]:
    """What ``fs`` (which repeats others) may hold at the place of its repeat ``name``: all of it where it repeats
    one field; else its first words for the first (one word, two, …), its last words for the last."""
    whole = values.get(fs.name)
    if whole is None or not whole.value:
        return []
    ours = _spaced(str(whole.value)).split()
    if len(fs.repeats) == 1:
        return [" ".join(ours)]
    k = fs.repeats.index(name)
    if k not in (0, len(fs.repeats) - 1):
        return []
    return [" ".join(ours[:n] if k == 0 else ours[len(ours) - n :]) for n in range(1, len(ours) + 1)]


def _letters_apart(ours: str, places: list[str]) -> bool:
    """Whether ``ours`` is none of ``places`` but a letter or two (or a space) from one of them."""
    mine = plain(_spaced(ours))
    near = [Levenshtein.distance(mine, plain(place)) for place in places]
    return bool(near) and 0 not in near and min(near) <= READ_APART


def _doubt_near(values: dict[str, RawField], fs: FieldSpec, name: str) -> None:
    """The one field of a group left in doubt, which holds the case for a person anyway: where one of its readings
    is a letter or two from the words the other ink, read with confidence, has at its place (FANS by the line
    reader under Förnamn, PANS BERG under the signature, for HANS BERG), that ink's reading is in doubt too, since
    which ink was misread is not known. Held-out scans (seeds 50-57, 336 applications) found one so accepted
    wrong. The rest of the group was read with confidence (``corroborate`` asks where ``name`` alone is in doubt)."""
    reading = values[name]
    if name == fs.name:
        others, places = list(fs.repeats), [" ".join(str(values[n].value) for n in fs.repeats)]
    else:
        others, places = [fs.name], _at_place(values, fs, name)
    readings = [str(reading.value or ""), *reading.alternatives]
    if any(_letters_apart(r, places) for r in readings if r):
        for n in others:
            values[n] = _doubt(values[n])


READ_APART = 2  # letters: one ink misread (one letter read as another, dropped, or two)


def doubt_joined_names(spec: FormSpec, values: dict[str, RawField]) -> None:
    """An e-mail address whose name (before the @) is two of the names read with confidence on the form, joined
    with nothing between (INGEGERDNILSSON): a point or a hyphen between them is the smallest mark written, and the
    one a poor scan loses to every reader. A person looks; many people's addresses are so written, and theirs are
    then confirmed by a person. Held-out scans (seeds 50-57, 336 applications) found one so accepted wrong."""
    names = {
        word
        for fs in spec.fields
        if fs.type is FieldType.TEXT and fs.charset == "name" and _confirmed(values.get(fs.name))
        for word in plain(str(values[fs.name].value)).split()
    }
    for fs in (f for f in spec.fields if f.type is FieldType.EMAIL):
        reading = values.get(fs.name)
        if reading is None or not reading.value:
            continue
        local = plain(str(reading.value).split("@")[0])
        if any(local[:at] in names and local[at:] in names for at in range(1, len(local))):
            values[fs.name] = _doubt(reading)


def _marked_here(tess: str, candidate: str) -> bool:
    """Whether tesseract read Swedish marks on this ink that the words the other ink demands lack, and its reading
    is words as spelt (JÖNSSON here, JONSSON under the signature): two inks, two spellings. Tesseract reads false
    dots (TÖRSTEN for TORSTEN) and a poor scan loses true ones on one ink (JONSSON for JÖNSSON, read so by both
    readers under the signature), so which is right is a person's to say, as where both inks were read with
    confidence (``_marks_differ``)."""
    ours, theirs = _spaced(tess), _spaced(candidate)
    swedish = sum(c in "åäö" for c in ours.casefold()) > sum(c in "åäö" for c in theirs.casefold())
    return swedish and plain(ours) == plain(theirs) and known(ours)


def doubt_lost_marks(spec: FormSpec, values: dict[str, RawField], settled: Collection[str] = ()) -> None:
    """On a scan that lost a street's ending's dots to both readers (``_dots_lost``), or a name's or place's mark
    (``_marks_lost_to_both``), a name or place read with confidence that is words also with dots or a ring over one
    of its bare letters (JONSSON and JÖNSSON, KARL and KÄRL) goes to a person: the scan may have lost those too, to
    every reader of every ink; so does a street's name that is a street's name so too (BACKTORGET, BÄCKTORGET).
    Calibration (seeds 23-49, 1,134 applications): 38 scans that lost a street's ending's dots; on them, 2 names
    accepted without the dots they have, and 4 read right, which a person now checks. Over the votes of seeds
    11-65 (1,540 applications), 19 scans lost a name's or place's mark, all in DkgHandwriting's hand: on them, a
    street's name accepted without its dots (BACKTORGET, for BÄCKTORGET, read so by all three readers), and 3
    names read right (KARL, BACKLUND), which a person now checks. Not a street whose own ink ``settled`` its marks."""
    for fs in (f for f in spec.fields if f.type is FieldType.TEXT and f.name not in settled):
        reading = values.get(fs.name)
        if reading is None or not _confirmed(reading):
            continue
        street = fs.charset == "address"
        text = _TRAILING_NUMBER.sub("", str(reading.value)).strip() if street else str(reading.value)
        if marked_otherwise(text, street=street):
            values[fs.name] = _doubt(reading)


def _demanded(values: dict[str, RawField], fs: FieldSpec, name: str) -> str | None:
    """What the group's other fields, read with confidence, demand of ``name``: the repeats' words for the field
    that repeats them; the repeated field's for the one repeat (which words of several are whose is not known)."""
    if name == fs.name:
        return " ".join(str(values[n].value) for n in fs.repeats)
    return str(values[fs.name].value) if len(fs.repeats) == 1 else None


def _marks_differ(values: dict[str, RawField], fs: FieldSpec) -> bool:
    """Each ink read with confidence, but the two differ only in a letter's marks (LINNÉA above, LINNEA under the
    signature, each read so by two readers): readers lose a faint accent or dots on one ink together, and which ink
    lost it is not known. A person who signs in another place writes another word, not other marks."""
    ours, theirs = str(values[fs.name].value), " ".join(str(values[n].value) for n in fs.repeats)
    return _marks_alone_differ(ours, theirs)


def _marks_alone_differ(ours: str, theirs: str) -> bool:
    return not _same_text(ours, theirs) and plain(_spaced(ours)) == plain(_spaced(theirs))


def _covered(values: dict[str, RawField], fs: FieldSpec, name: str) -> None:
    """The one field of a group in doubt, where neither reader read what the others demand of it but each misread
    other letters of it: every letter is read by tesseract or the line reader (VISTOR and MIKTOR, under the
    signature, for the VIKTOR read with confidence under Förnamn); or where tesseract read it but for marks, and
    its reading so is no word (TROLLHATTAN under the signature, for the TROLLHÄTTAN read with confidence as the
    postort): which ink lost them is known there, unlike two names that differ in a mark (``_marks_differ``)."""
    reading, target = values[name], _demanded(values, fs, name)
    if target is None or not _could_stand(target):
        return
    text = str(reading.value or "")
    # Marks the scan lost on this ink (TROLLHATTAN, no word), read on the other, or words a hand's gaps parted
    # (ÖRNSKÖLD VIK, KRIS TIANS TAD, SÖDER TALJE), as tesseract or the line reader read them: the other's words.
    alike = [r for r in (text, *reading.alternatives[:1]) if _letters(r) == _letters(target) and not known(r)]
    if alike and known(target):
        values[name] = RawField(value=target, source=Source.OCR, confidence=AGREED)
        return
    if not reading.alternatives:
        return
    want, ours, theirs = (_spaced(t).casefold() for t in (target, text, reading.alternatives[0]))
    if len(ours) == len(theirs) == len(want) and all(w in (a, b) for w, a, b in zip(want, ours, theirs, strict=True)):
        values[name] = RawField(value=target, source=Source.OCR, confidence=AGREED)


def _twice_alike(values: dict[str, RawField], pair: list[str]) -> None:
    """Both of a pair in doubt: tesseract read the same Swedish word on both inks, and the line reader the same
    letters on both, missing marks as it does (LULEÅ twice, and LULEA twice)."""
    readings = [r for r in (values.get(n) for n in pair) if r is not None and r.alternatives]
    if len(readings) != len(pair):
        return
    text = str(readings[0].value or "")
    same = all(_same_text(str(r.value or ""), text) for r in readings)
    lines = all(plain(_spaced(r.alternatives[0])) == plain(_spaced(text)) for r in readings)
    if same and lines and _could_stand(text) and known(text):
        for n in pair:
            values[n] = values[n].model_copy(update={"confidence": AGREED})


def _line_alike(values: dict[str, RawField], fs: FieldSpec, group: list[str]) -> None:
    """Two or more of a group in doubt, where the line reader's readings of them (and the values of the rest, read
    with confidence) make the words agree: inks written apart, read alike by one reader, where tesseract failed on
    each otherwise (NAR TIN and NAR TIN HANSÉN, for MARTIN and MARTIN HANSEN: its M on this hand). Not where
    tesseract read a word the lexicon knows that the line reader read otherwise (MARGARETA: the line reader dropped
    its A on both inks), nor one word the lexicon lacks (VAXIO on both inks, for VÄXJÖ: marks lost, and J read as I),
    nor words one letter from words (MIKTOR on both inks, for VIKTOR: one reader misreads a hand's V alike twice;
    held-out scans, seeds 50-57, found it so accepted wrong).
    Calibration (seeds 11-49, 1,638 applications): 14 groups so confirmed, all right. The guards here and below keep
    out what calibration and the scan samples showed wrong without them (MARGARETA, VAXIO, ŁUKASZ, ØDEGÅRD)."""
    words: dict[str, str] = {}
    both = True  # every ink in doubt read alike by tesseract and the line reader
    for n in group:
        reading = values.get(n)
        if reading is None:
            return
        if _confirmed(reading):
            words[n] = str(reading.value)
        elif reading.alternatives and _line_may_stand(str(reading.value or ""), reading.alternatives[0]):
            words[n] = reading.alternatives[0]
            both = both and _same_text(str(reading.value or ""), words[n])
        else:
            return
    ours, theirs = words[fs.name], " ".join(words[n] for n in fs.repeats)
    # Words one letter from other words, read so by both readers on each ink (KAARINA, one letter from KATRINA): a
    # misread that two readers share on one ink (MILLAGATAN) they do not share again on another.
    if not _same_text(ours, theirs) or not _could_stand(ours, near=not both) or marked_otherwise(ours):
        return
    if len(ours.split()) < 2 and not known(ours):
        return
    for n in group:
        if not _confirmed(values[n]):
            values[n] = _agreed_as(words[n], str(values[n].value or words[n]))


def _line_may_stand(tess: str, read: str) -> bool:
    """Whether the line reader's reading of an ink in doubt may stand for tesseract's there (``_line_alike``). Not
    where tesseract read a word the lexicon knows that the line reader read otherwise; a letter of another alphabet,
    which the line reader reads as its nearest (LUKASZ, for ŁUKASZ) and tesseract as another letter or as one in
    lower case (tUKASZ); or other Swedish marks (ØDEGÄRD on both inks, tesseract's ADEGÅRD: the line reader reads
    Ä for Å)."""
    if _contradicted(tess, read) or any(c.islower() for c in tess) or _another_alphabet_only(tess, read):
        return False
    return not _marks_read_otherwise(tess, read)


def _marks_read_otherwise(tess: str, read: str) -> bool:
    """Whether the two readings differ in marks alone, or where each read a Swedish mark, in another."""
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    if _marks_alone_differ(ours, theirs):
        return True
    if len(ours) != len(theirs):
        return False
    return any(a != b and a in "åäö" and b in "åäö" for a, b in zip(ours, theirs, strict=True))


def _another_alphabet_only(tess: str, read: str) -> bool:
    """Whether the two readings differ only where tesseract read a letter of another alphabet."""
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    if len(ours) != len(theirs) or ours == theirs:
        return False
    return all(_FOREIGN.match(a) for a, b in zip(ours, theirs, strict=True) if a != b)


def _contradicted(tess: str, read: str) -> bool:
    """Whether tesseract read a word the lexicon knows that the line reader read otherwise, at its place."""
    ours, theirs = tess.split(), read.split()
    if len(ours) != len(theirs):
        return any(known(a) and a.casefold() not in {b.casefold() for b in theirs} for a in ours)
    return any(known(a) and a.casefold() != b.casefold() for a, b in zip(ours, theirs, strict=True))


def _confirmed(reading: RawField | None) -> bool:
    return reading is not None and bool(reading.value) and reading.confidence >= AGREED


def _vote(
    fs: FieldSpec, reading: RawField, glyphs: Reading | None, line: Reading | None, letters: Reading | None = None
) -> RawField:
    """Tesseract's reading once the other witnesses of the same ink have had their say (see above): ``glyphs`` the
    per-character reader's digits, ``letters`` its capitals (of a name or place)."""
    if fs.type in DIGIT_TYPES:
        return _digits_vote(fs.type, reading, glyphs, line)
    if fs.type is FieldType.FREETEXT:  # tesseract's confidence against its type's threshold
        return reading
    if line is None:
        return _doubt(reading)
    if fs.type is FieldType.EMAIL:
        ok = line.confidence >= LINE_SURE and bool(reading.value) and reading.value == clean(fs.type, line.text)[0]
        # An address holds no space: where the line reader read a gap between two characters, a point may be there
        # that both missed (MARTIN GUSTAVSSON@, tesseract martingustavsson@).
        gap = _GAP_IN_ADDRESS.search(line.text.strip())
        return _confirm(reading) if ok and not gap else _doubt(reading)
    return _text_vote(fs, reading, line, letters)


def _words_of(fs: FieldSpec) -> Callable[[str], bool]:
    """Whether a reading is words for ``fs``: words the lexicon knows as spelt (a street's name in an address), or
    a name of the field's own list."""
    street = fs.charset == "address"
    return lambda text: known(text, street=street) or (fs.words is not None and listed(text, fs.words))


def _text_vote(fs: FieldSpec, reading: RawField, line: Reading, letters: Reading | None = None) -> RawField:
    """``letters``: the per-character reader's reading of the same ink, where it was asked (a street's name, a name,
    a place)."""
    tess, read = str(reading.value or ""), clean(fs.type, line.text, fs.charset)[0]
    sure, floor = line.confidence >= LINE_SURE, line.confidence >= LINE_FLOOR
    street = fs.charset == "address"  # a street's name is a compound (asp + gatan) more often than a form
    if street:  # ASP TORGET is ASPTORGET, however wide the hand's gap: the spacing is Swedish's, not the reader's;
        # VILLAVÃGEN is VILLAVÄGEN: a reader saw the ending's mark and took it for another alphabet's
        tess, read = with_swedish_ending(joined_street(tess)), with_swedish_ending(joined_street(read))
    # A street's ending's dots lost to the scan (ASPVAGEN is ASPVÄGEN); elsewhere a letter tesseract read twice. Not
    # in a street's name: a letter added counts as near there (``_near``), and once, the rest may compose a false
    # word (STÖRTOÖRGET, for STORTORGET, is stör + torget).
    marked = (with_street_marks(tess), with_street_marks(read)) if street else (_marked_once(tess), read)
    # Both readers read the street's ending without its dots (BACKVAGEN): the scan lost dots, and where the name
    # with dots over another of its letters is a street's name too (BÄCKVÄGEN), it may have lost those as well.
    lost = street and marked[0] != tess and marked[1] != read and marked_otherwise(marked[0], street=True)
    if lost and letters is not None and _ending_marks_seen(tess, marked[0], letters):
        lost = False  # the ink holds the ending's marks, and none over the name's other letters: the readers missed
    tess, read = marked
    cut = _DUST_AFTER.sub("", tess if street else _DUST_INSIDE.sub("", tess))
    if cut != tess and _same_text(cut, read) and known(cut, street=street):
        tess = cut  # KALMAR”, STEEN. 0: the dust after the words that tesseract read and the line reader did not
    if not street and (spaced := _POINT_FOR_SPACE.sub(" ", read)) != read and _same_text(spaced, tess):
        read = spaced  # the line reader reads some hands' word space as a point (NILS.ABRAHAMSSON)
    reading = reading.model_copy(update={"value": tess or reading.value})
    if lost:
        return _doubt(reading)

    is_words = _words_of(fs)

    if fs.words and floor and _same_text(tess, read) and listed(tess, fs.words):
        return _confirm(reading)  # a name the field's list holds as spelt: DARI, no lost dots of the word DÄRI
    # Three readers, one of them letter by letter, read the same letters of a street's name, which composes freely.
    # Not a name or place that is no word: all three read VÄXJÖ as VAXIO on a poor scan (its marks lost, J as I).
    spelt = street and letters is not None and letters.likely(tess, LETTERS_LIKELY)
    if spelt and floor and _same_text(tess, read) and _could_stand(tess, street, near=False):
        return _confirm(reading)
    outvoted = letters is not None and _marks_outvoted(tess, read, letters)
    if outvoted and floor and _could_stand(tess, street, near=False):
        return _confirm(reading)  # two of three read the same marks, all three a mark
    # A street's name the lexicon composes (KYRK + GATAN), from a line reader fairly sure of it (``STREET_AGREE``).
    composed = street and line.confidence >= STREET_AGREE and known(tess, street=True)
    if _same_text(tess, read) and _could_stand(tess, street, near=line.confidence < NEAR_SURE):
        # Less sure of the line: forms as spelt, or a street's name so composed.
        unsure_ok = (floor and known(tess)) or composed
        return _confirm(reading) if sure or unsure_ok else _doubt(reading)
    # One letter from another word (säckgatan), whose letter the per-character reader did not read there.
    outvoted_near = composed and letters is not None and _same_text(tess, read) and _near_outvoted(tess, letters)
    if outvoted_near and _could_stand(tess, street, near=False):
        return _confirm(reading)
    if floor and _could_stand(tess, street) and is_words(tess) and _alike(tess, read, is_words) and not _mixed(tess):
        return _confirm(reading)
    if floor and _could_stand(tess, street) and is_words(tess) and not is_words(read) and _one_dropped(tess, read):
        return _confirm(reading)  # a letter the line reader dropped: SÖDERTLJE, BJRKVÄGEN
    if floor and letters is not None and _could_stand(tess, street) and _dropped_by_line(tess, read, letters):
        return _confirm(reading)
    if floor and not street and (words := _one_letter_apart(tess, read, is_words, line.confidence)) is not None:
        return _agreed_as(words, tess)
    if floor and not street and _a_letter_apart_marks_aside(tess, read, is_words, line.confidence):
        return _confirm(reading)
    # Two readers, one letter by letter, read the same letters; tesseract others.
    two = sure and letters is not None and _two_against_one(tess, read, letters, line.confidence)
    # A name the lexicon lacks (BLOMGREN, AHMADI), where the line reader is nearly certain: over seeds 11-49, 4 so
    # confirmed, all right; at that sureness every name the two read alike was right but one that lost its dots
    # (JONSSON), which is a word.
    # Not where tesseract parted more words than the line reader read: the per-character reader reads no spaces, so
    # nothing seconds the line reader's spacing (KENTLINDE, where tesseract read BENT LINDE, on a typical scan).
    parted = _spaced(tess).count(" ") > _spaced(read).count(" ")
    named = is_words(read) or (not street and line.confidence >= LINE_ALONE and not parted)
    if two and _could_stand(read, street, near=False) and named:
        return _agreed_as(read, tess)
    # The per-character reader spelt the line reader's words letter for letter, however unsure either was: two
    # readers of different kinds and the lexicon (AHMAD, PITEÅ, where tesseract read AFRMAD and 09). Calibration
    # (seeds 11-49, 1,638 applications): 5,528 of 5,529 names and places so read were right; the other, JONSSON for
    # JÖNSSON on a poor scan, tesseract read so too. Not a mark tesseract alone read over the same letters: the
    # other two miss some alike (RYDÉN, an accent outvoted only by ``_accent_outvoted``'s rule).
    spelt_words = floor and not street and letters is not None and _spelt(read, letters) and is_words(read)
    # A name of the field's list stands as spelt: DARI is no lost dots of DÄRI, which names no language.
    listed_name = fs.words is not None and listed(read, fs.words)
    if spelt_words and (listed_name or _could_stand(read, near=False)) and not _marks_alone_missed(tess, read):
        return _agreed_as(read, tess)
    alone = line.confidence >= LINE_ALONE
    accent = alone and letters is not None and not street and _accent_outvoted(tess, read, letters)
    if accent and is_words(read) and not is_words(tess) and _could_stand(read, near=False):
        return _agreed_as(read, tess)
    settled = _marks_of_letters(read, letters, "" if street else tess) if floor and letters is not None else None
    if settled is not None and is_words(settled) and not is_words(read) and _could_stand(settled, street, near=False):
        return _agreed_as(settled, tess)
    if floor and not street and letters is not None and is_words(tess) and _marks_seconded(tess, read, letters):
        return _confirm(reading)
    seconded = line.confidence >= LETTER_SECONDED and letters is not None and _letter_seconded(tess, read, letters)
    if seconded and is_words(read) and not is_words(tess) and _could_stand(read, street, near=False):
        return _agreed_as(read, tess)
    backed = floor and is_words(tess) and not is_words(read)
    backed = backed and letters is not None and _tesseract_seconded(tess, read, letters)
    if backed and _could_stand(tess, street, near=False):
        return _confirm(reading)
    if street and line.confidence >= STREET_AGREE and _street_a_letter_apart(tess, read, is_words):
        return _agreed_as(read, tess)
    if street and floor and is_words(tess) and _rings_missed(tess, read) and _could_stand(tess, street, near=False):
        return _confirm(reading)
    if not sure:
        return _doubt(reading)
    # With tesseract's marks where they make words; in a name or place, not where the line reader's letters are
    # words already (HANS, where tesseract read PÅNS: HÅNS is a word too). A street's name composes too freely for
    # that (TRÄDGARDSGATAN: träd + gard + gatan).
    ringed = _with_marks(tess, read)
    candidates = [read] if not street and ringed != read and is_words(read) else [ringed, read]
    if not is_words(read):
        candidates.append(_with_dots(tess, read))
    for words in dict.fromkeys(candidates):
        if _could_stand(words, street) and is_words(words) and _near(tess, words, is_words, street):
            # Not a street's name where other marks make one too and tesseract read marks on this ink that it lacks
            # (BACKVÅGEN against the line reader's BACKVÄGEN, for BÄCKVÄGEN: the scan lost the dots of BÄCK too).
            # Marks tesseract missed (IDPROTTSGRAND) are the scan's small dots lost, as they are lost everywhere.
            if street and _marks_beyond(tess, words) and marked_otherwise(words, street=True):
                return _doubt(reading)
            return _agreed_as(words, tess)
    if street and _could_stand(tess, street) and is_words(tess) and _near(read, tess, is_words, street, edits=1):
        # A street's name is words: tesseract's against the line reader's no word one letter away (SKOLVIGEN). Not
        # further: a misread name composes too freely (IPROTTSVÄGEN: ip + rott, against IDROTISVIGEN).
        return _confirm(reading)
    # In a field of a list (a language), a name of it that tesseract read stands against a word of the line
    # reader's that is none (DARI, DART).
    kept = fs.words is not None and listed(tess, fs.words) and not listed(read, fs.words)
    if not street and not kept and _line_alone(tess, read, line.confidence, is_words, letters):
        return _agreed_as(read, tess)
    if fs.words is not None and _listed_alone(tess, read, line.confidence, fs.words):
        return _agreed_as(read, tess)
    return _doubt(reading)


def _mixed(text: str) -> bool:
    """Whether a word of ``text`` has lower-case letters after a capital (Li LEA, for LULEÅ): on a form filled in
    capitals, tesseract's guess at letters it could not make out, not a spelling two readers can agree on.
    Held-out scans (seeds 50-57, 336 applications) found one place so accepted wrong, respaced into two words."""
    return any(any(c.islower() for c in w[1:]) and w[0].isupper() for w in text.split())


def _line_alone(
    tess: str, read: str, line: float, is_words: Callable[[str], bool], letters: Reading | None = None
) -> bool:
    """Whether the line reader, nearly certain (``LINE_ALONE``), read words as spelt where tesseract read other
    letters near them: a failed reading of the same ink (HALNS TAD for HALMSTAD, FELINGBORG for HELSINGBORG, NARGARE
    TA for MARGARETA), or other words (MARTA for MARIA, TACK for JACK, LINDQVIST for LINDQUIST). Calibration (seeds
    11-49, 1,638 applications): the line reader so sure against tesseract's other words was right in all 23 cases.
    Not where the per-character reader spelt tesseract's reading (two readers of different kinds against one), nor
    where tesseract read more letters but for those the per-character reader did not count (``_counted_as_read``:
    the line reader drops letters at its surest, MOHAMMAD for MOHAMMADI, which no lexicon knows), nor where dots or
    a ring over one of its bare letters make words too, or the two differ in marks alone (it misses marks: JONSSON
    for JÖNSSON, NGUYEN for NGUYỄN), nor far from tesseract's letters (a reading of other ink)."""
    if line < LINE_ALONE or not is_words(read) or not _could_stand(read, near=False):
        return False
    if marked_otherwise(read) or _letters(tess) == _letters(read):
        return False  # marks alone differ: it may have missed them
    if letters is not None and _letters(letters.text) == _letters(tess):
        return False  # two readers of different kinds against it (AXELSON, a name too, for AXELSSON)
    return _failed_reading_of(tess, read) or _counted_as_read(tess, read, letters)


def _counted_as_read(tess: str, read: str, letters: Reading | None) -> bool:
    """Whether tesseract read more letters than the line reader and the per-character reader counted as many
    characters of ink as the line reader read: tesseract's extra letters are its own (BKENNETA, LILLIAN), not
    one the line reader dropped (MOHAMMAD for MOHAMMADI, where the per-character reader counted tesseract's)."""
    if letters is None or len(_letters(tess)) <= len(_letters(read)):
        return False
    return len(_letters(letters.text)) == len(_letters(read))


def _listed_alone(tess: str, read: str, line: float, vocabulary: str) -> bool:
    """Whether the line reader, nearly certain, read a name of the field's vocabulary as spelt where tesseract read
    none but letters near it, no more of them (DAR! for DARI, a language): as ``_line_alone``, with the vocabulary
    for the lexicon. That tesseract's letters make a Swedish word (DAR), or the name with dots another (DÄRI), says
    nothing of a field that holds a language."""
    if line < LINE_ALONE or not listed(read, vocabulary) or listed(tess, vocabulary):
        return False
    return _failed_reading_of(tess, read)


def _failed_reading_of(tess: str, read: str) -> bool:
    """Whether tesseract's letters are near the line reader's, and no more of them: the line reader drops a letter
    at its surest (MARGARET for MARGARETA, where tesseract read NARGARE TA), so where tesseract read more, which
    reader failed is not known."""
    ours, theirs = _letters(tess), _letters(read)
    return len(ours) <= len(theirs) and Levenshtein.distance(ours, theirs) <= max(NEAR_EDITS, NEAR_SHARE * len(theirs))


def _marks_of_letters(read: str, letters: Reading, tess: str = "") -> str | None:
    """The line reader's reading with the marks the per-character reader read over the same letters: the line
    reader misses marks (MALMO, GAVLE, BORGSTROM) or reads another alphabet's (MÔLNDAL); the per-character reader
    settles them by the ink above each letter (``glyphs._marked``), where it read a mark: it takes none away. Over
    the whole reading where the two read the same letters but for marks; where tesseract read the line reader's
    letters (``tess``: two readers of the letters), over the letters the per-character reader read alike, around
    others it misread (TROLLHÄÜN: the Ä of TROLLHATTAN); where tesseract read other letters, the marks it read over
    the same letters too (``_marks_both_read``). The caller asks that the marked reading be words and the
    line reader's not: the lexicon is a third witness. Calibration (seeds 11-49, 1,638 applications): 36 names and
    places so confirmed, none wrong."""
    ours, theirs = _capitals(read), letters.text.replace("-", "")
    if any(len(plain(text)) != len(text) for text in (ours, theirs)) or len(ours) != sum(map(str.isalpha, read)):
        return None  # a letter that folds to two (ß, SS): no letter for letter
    if len(ours) == len(theirs) and plain(ours) == plain(theirs):
        pairs = list(enumerate(theirs))
    elif ours and _letters(tess) == _letters(read):
        pairs = list(_read_alike(ours, theirs).items())
    elif tess:
        pairs = _marks_both_read(ours, theirs, tess)
    else:
        return None
    if any(ours[i] != mark and mark not in MARKS for i, mark in pairs):
        return None  # it takes a mark away: it reads no Ë (ZOË), so it saw none
    marks = {i: mark for i, mark in pairs if ours[i] != mark}
    if not marks:
        return None
    given = iter(marks.get(i, c) for i, c in enumerate(ours))
    return "".join(next(given) if c.isalpha() else c for c in read)


def _marks_both_read(ours: str, theirs: str, tess: str) -> list[tuple[int, str]]:
    """The marks over ``ours`` (the line reader's letters) that the per-character reader (``theirs``) and tesseract
    both read over the same letter, each around letters it misread: two readers of different kinds saw the same
    mark (MALMÖ, where tesseract read NÅLNÖ and the per-character reader MXLMÖ). Replayed over the votes of
    calibration scans (good and poor seeds 11-65, 1,540 applications): 22 names and places so confirmed that no
    other rule confirmed (LUNDSTRÖM, ÖHMAN, MÖLNDAL: this hand's M, which tesseract reads as N), none wrong."""
    bare = _capitals(tess)
    if len(plain(bare)) != len(bare):
        return []
    by_tesseract = _read_alike(ours, bare)
    alike = _read_alike(ours, theirs).items()
    return [(at, mark) for at, mark in alike if plain(mark) != mark and by_tesseract.get(at) == mark]


def _near_outvoted(text: str, letters: Reading) -> bool:
    """Whether the per-character reader read ``text``'s own letter at every place where another letter would make
    another word of it (``near_misses``): tesseract and the line reader read BÄCKGATAN alike, one letter from
    säckgatan, and the reader of one letter at a time read B there (BÄCWGAQAN), whatever it made of the rest.
    Calibration (seeds 11-49, 1,638 applications): 9 streets' names so read, that no other rule confirmed, none
    wrong; a name or place is not asked (KRIS TIANS TAD, where tad is one letter from words, for KRISTIANSTAD)."""
    places = near_misses(text, street=True)
    if not places or " " in text or len(text.casefold()) != len(text):
        return False  # the places count in the folded text; the per-character reader reads no spaces
    alike = _read_alike(text, letters.text)
    return all(at in alike for at in places)


def _read_alike(ours: str, theirs: str) -> dict[int, str]:
    """The places of ``ours`` whose letters ``theirs`` read alike, marks aside (aligned by the fewest edits), with
    the letter as ``theirs`` read it."""
    blocks = Levenshtein.opcodes(plain(ours), plain(theirs))
    spans = ((op.src_start, op.dest_start, op.src_end - op.src_start) for op in blocks if op.tag == "equal")
    return {i + k: theirs[j + k] for i, j, n in spans for k in range(n)}


def _marks_seconded(tess: str, read: str, letters: Reading) -> bool:
    """Whether tesseract and the line reader read the same letters but for marks, and the per-character reader read
    tesseract's at every place they differ, over letters it read alike: two readers of different kinds read the
    same marks (JÖNSSON, where the line reader read JONSSON and the per-character reader YÖNSSON), or the same bare
    letter (BERIT, the line reader BÉRIT). Calibration (seeds 11-49, 1,638 applications): 6 names and places so
    confirmed that no other rule confirmed, none wrong."""
    ours, theirs, seen = _capitals(tess), _capitals(read), _capitals(letters.text)
    if len(ours) != len(theirs) or ours == theirs or len(plain(ours)) != len(ours) or plain(ours) != plain(theirs):
        return False
    if len(seen) != len(ours):
        return False  # it read ink the others did not: a fleck above an E is an accent to it and to tesseract alike
    alike = _read_alike(ours, seen) if len(plain(seen)) == len(seen) else {}
    return all(alike.get(i) == ours[i] for i in range(len(ours)) if ours[i] != theirs[i])


def _letter_seconded(tess: str, read: str, letters: Reading) -> bool:
    """Whether tesseract read the line reader's letters but one, another letter there (not the same with another
    mark), and the per-character reader read the line reader's letter there, around letters it misread, as many
    letters as the line reader read: two readers of different kinds against one (IPROTTSGATAN against
    IDROTTSGATAN, where the per-character reader read VDROTBSGATAN; KYRKOGKTAN, NAJ). A mark alone is not enough:
    a scan loses them, and every reader reads some that are not there (BACKVÅGEN, BACKVÄGEN and BACKVÄGEN, for
    BÄCKVÄGEN)."""
    ours, theirs, seen = (_capitals(text) for text in (tess, read, letters.text))
    if len(ours) != len(theirs) or any(len(plain(text)) != len(text) for text in (ours, theirs, seen)):
        return False
    if len(seen) != len(theirs):
        return False  # its letters do not answer the line reader's one for one: one it read alike may be chance
    differ = [at for at, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    if len(differ) != 1 or plain(ours[differ[0]]) == plain(theirs[differ[0]]):
        return False
    return _read_alike(theirs, seen).get(differ[0]) == theirs[differ[0]]


def _tesseract_seconded(tess: str, read: str, letters: Reading) -> bool:
    """Whether the line reader read tesseract's letters but one, marks aside (where only marks differ, it read none:
    it misses them), and the per-character reader read tesseract's letter there, marks aside, around letters it
    misread: two readers of different kinds against one, as ``_letter_seconded`` is for the line reader's letter.
    The line reader reads this hand's Ä as I (STORVIGEN, TRÄDGARDSViGEN, where tesseract read STORVÄGEN and
    TRÄDGÅRDSVÄGEN, and the per-character reader STDRVAGEN and TRADGÅRDSVAGEN). The caller asks that tesseract's
    reading be words and the line reader's not. Replayed over the votes of calibration scans (good and poor, seeds
    11-65, 1,540 applications): 4 streets so confirmed that no other rule confirmed, none wrong; and one of the
    bench's good scans."""
    if _spaced(tess).count(" ") != _spaced(read).count(" "):
        return False  # LI LEA against LULEA: tesseract parted letters it could not make out
    ours, theirs, seen = (_capitals(text) for text in (tess, read, letters.text))
    if len(ours) != len(theirs) or any(len(plain(text)) != len(text) for text in (ours, theirs, seen)):
        return False
    pairs = list(zip(ours, theirs, strict=True))
    differ = [at for at, (a, b) in enumerate(pairs) if plain(a) != plain(b)]
    if len(differ) != 1 or any(a != b and plain(b) != b.casefold() for a, b in pairs if plain(a) == plain(b)):
        return False  # the line reader read another mark than tesseract: not one it missed
    at = differ[0]
    return plain(_read_alike(ours, seen).get(at, "-")) == plain(ours[at])


def _street_a_letter_apart(tess: str, read: str, is_words: Callable[[str], bool]) -> bool:
    """Whether the line reader's reading is a street's name and tesseract's, one letter from it, no street's name:
    tesseract reads this hand's K as W (EWVÄGEN, BJÖRWVÄGEN) and its A as K (KSPGRÄND). The caller asks that the
    line reader be fairly sure (``STREET_AGREE``). Not a name with dots over another of its letters that is a street's
    too (BACKGATAN, where tesseract read BACKOATAN, for BÄCKGATAN: the scan lost the dots). Replayed over the votes
    of calibration scans (good and poor, seeds 11-65, 1,540 applications): 5 streets so confirmed that no other rule
    confirmed, none wrong (and ASPGRÄND on one of the bench's good scans); without that guard, 2 wrong."""
    if not is_words(read) or is_words(tess) or marked_otherwise(read, street=True):
        return False
    if not _could_stand(read, street=True, near=False):
        return False
    return _letter_apart(_spaced(tess).casefold(), _spaced(read).casefold()) is not None


def _rings_missed(tess: str, read: str) -> bool:
    """Whether the line reader read tesseract's letters but for rings it missed (TRÄDGARDSVÄGEN, where
    tesseract read TRÄDGÅRDSVÄGEN): it misses marks, and the lexicon composes a street's name without the ring too
    (träd + gard + vägen). The caller asks it of a street's name only: of names, tesseract read one ring that was not
    there (INGÅ, for INGA, on a poor scan); of streets, none. Replayed over the votes of calibration scans (good and
    poor, seeds 11-65, 1,540 applications): 5 streets so confirmed that no other rule confirmed, none wrong."""
    ours, theirs = _capitals(tess), _capitals(read)
    if len(ours) != len(theirs) or ours == theirs:
        return False
    return all(a == b or (a, b) == ("Å", "A") for a, b in zip(ours, theirs, strict=True))


def _ending_marks_seen(bare: str, marked: str, letters: Reading) -> bool:
    """Whether the per-character reader found parts above each letter of the street's ending that both readers read
    without its marks (``marked`` is ``bare`` with them), and above no other letter that could carry one: the scan
    kept this hand's marks (a small fleck over the A of VÄGEN), so the name's other letters (STOR, BACK) have none,
    and no other street's name with marks there (STÖRVÄGEN, BÄCKVÄGEN) is in doubt. Replayed over calibration scans
    (good and poor, seeds 11-65, 1,540 applications): 4 of the 6 streets whose ending both readers read without
    its marks were so read, all right (STORVÄGEN, BACKVÄGEN); the other 2 were not read letter for letter."""
    word, was = _capitals(marked), _capitals(bare)
    if len(letters.marks) != len(word) or len(was) != len(word):
        return False
    ending = [at for at, (a, b) in enumerate(zip(was, word, strict=True)) if a != b]
    others = [at for at, c in enumerate(word) if c in MARKS.values() and at not in ending]
    return all(letters.marks[at] for at in ending) and not any(letters.marks[at] for at in others)


def _ending_marks_seen_in(tess: str, letters: Reading) -> bool:
    """``_ending_marks_seen`` of tesseract's reading of a street's name, its ending's marks put back."""
    bare = with_swedish_ending(joined_street(tess))
    return _ending_marks_seen(bare, with_street_marks(bare), letters)


def _capitals(text: str) -> str:
    """The letters of a reading, in capitals: no spaces, hyphens or points (the per-character reader reads none)."""
    return "".join(filter(str.isalpha, text)).upper()


def _one_dropped(tess: str, read: str) -> bool:
    """Whether the line reader read tesseract's characters in order but for one letter. Where tesseract's are words
    and the line reader's no word, it dropped that letter: it does at its surest, most often one with marks or a
    wide one (SÖDERTLJE and BJRKVÄGEN for SÖDERTÄLJE and BJÖRKVÄGEN, NYKPING, BERTL). Calibration (seeds 11-49,
    1,638 applications): 36 names, places and streets so confirmed that no other rule confirmed, none wrong. Not a
    space dropped (DAR I, tesseract's words, for the language DARI)."""
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    return len(ours) == len(theirs) + 1 and any(
        ours[at].isalpha() and ours[:at] + ours[at + 1 :] == theirs for at in range(len(ours))
    )


def _dropped_by_line(tess: str, read: str, letters: Reading) -> bool:
    """Whether the per-character reader, fairly sure of every letter (``LETTERS_SPELT``), spelt tesseract's reading
    and the line reader read it with one letter dropped, as it does at its surest (LULE for LULEÅ, PITE for PITEÅ,
    MARGARET for MARGARETA, each a word too): two readers of different kinds against the third's known failure.
    Calibration (seeds 11-49, 1,638 applications): 3 names and places so confirmed that no other rule confirmed,
    none wrong."""
    spelt = letters.confidence >= LETTERS_SPELT and letters.text.casefold() == tess.replace(" ", "").casefold()
    return spelt and _one_dropped(tess, read)


def _letters(text: str) -> str:
    return "".join(c for c in plain(text) if c.isalpha())


def _two_against_one(tess: str, read: str, letters: Reading, line: float) -> bool:
    """Whether the per-character reader, fairly sure of every letter (``LETTERS_SPELT``), spelt the line reader's
    reading (the street's ending's marks put back in both): a second witness of the same letters against
    tesseract's; or spelt it, less sure, where the line reader is nearly certain (``LINE_ALONE``: over seeds 11-49,
    1,638 applications, 32 names, places and streets more so confirmed, all right: tesseract read MARTA, HANDEN,
    NORBERG). Tesseract reads a mark over an O that has none (STÖRVÄGEN for STORVÄGEN, both Swedish words) and
    doubles a letter (EKkVÄGEN); where the other two read the letters alike, they were right in every case of
    calibration (good and poor seeds 11-16, all levels of 23-31: 14 streets, 9 of them read this surely, none of
    another spelling). Not where tesseract read dots or a ring over an A that the other two did not: those a scan
    loses (BÄCKVÄGEN read as BACKVÄGEN), and calibration has no case of tesseract seeing them falsely."""
    if letters.confidence < LETTERS_SPELT and line < LINE_ALONE:
        return False
    if sum(c in "ÄÅäå" for c in tess) > sum(c in "ÄÅäå" for c in read):
        return False
    return read.replace(" ", "").casefold() == with_street_marks(letters.text).replace(" ", "").casefold()


def _spelt(read: str, letters: Reading) -> bool:
    return bool(read) and "".join(read.split()).casefold() == letters.text.casefold()


def _marks_alone_missed(tess: str, read: str) -> bool:
    """Whether the two read the same letters and tesseract more marks over them (ÉVA, EVA)."""
    return _letters(tess) == _letters(read) and _marked_letters(tess).total() > _marked_letters(read).total()


def _accent_outvoted(tess: str, read: str, letters: Reading) -> bool:
    """Whether tesseract read an accent over an E that neither the line reader nor the per-character reader read
    (it reads one over some hands' E: ANNÉ, ROGÉR, WAHLGRÉN), the two agreeing on each such E, and the readings
    otherwise alike. The per-character reader reads an accent from the ink above a letter; the line reader misses
    some. Calibration (seeds 11-49, 1,638 applications): of 19 names that tesseract so read and no rule confirmed,
    all were the line reader's; 13 with the per-character reader's E, 8 of them with the line reader nearly
    certain (``LINE_ALONE``). Of 60 names with an É, one was read so (RYDÉN, the line reader at 0.94 on a poor
    scan), where tesseract's was a word."""
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    if len(ours) != len(theirs) or ours == theirs:
        return False
    if not all(a == b or (a, b) == ("é", "e") for a, b in zip(ours, theirs, strict=True)):
        return False
    bare, spelt = ours.replace(" ", ""), letters.text.replace(" ", "").casefold()
    at = [i for i, c in enumerate(bare) if c == "é" and theirs.replace(" ", "")[i] == "e"]
    return len(spelt) == len(bare) and all(spelt[i] == "e" for i in at)


def _marks_outvoted(tess: str, read: str, letters: Reading) -> bool:
    """Whether the line reader read tesseract's letters but another Swedish mark on some (TRÄDGÄRDSVÄGEN for
    TRÄDGÅRDSVÄGEN) and the per-character reader, nearly certain, spelt tesseract's: two of three read the same
    marks, and all three read a mark there (not a mark against none: a scan loses dots, and the per-character
    reader reads dots over some hands' A)."""
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    if letters.confidence < LETTERS_CERTAIN or ours.replace(" ", "") != letters.text.casefold():
        return False
    if len(ours) != len(theirs) or ours == theirs:
        return False
    return all(a == b or (a in "åäö" and b in "åäö") for a, b in zip(ours, theirs, strict=True))


ONE_APART_LETTERS = 4  # a shorter word is one letter from too many others (ALI and ALL, MY and NY)


def _one_letter_apart(tess: str, read: str, is_words: Callable[[str], bool], line: float) -> str | None:
    """Where the two readings differ in one letter and one is words, the other not, the reading of words (a name
    or place the lexicon knows: tesseract's JÖNKÖPING against the line reader's TÖNKÖPING, the line reader's
    ÄNGELHOLM against tesseract's ÄNGELHOLN). Not tesseract's words against the line reader nearly certain of its
    letters (both read the name DARI, tesseract as the word DART), nor where either read a letter of another
    alphabet there (NORDGRÉN, NYLANDÉR: the lexicon knows Swedish words), nor a short word. Not a street's name,
    which composes too freely (see ``_text_vote``). Tesseract parts a word where a hand leaves a gap (NAR TIN,
    LINDS TRÖN for MARTIN, LINDSTRÖM): where the line reader read one word, tesseract's parts are one word too.
    Calibration (seeds 11-49, 1,638 applications): 14 names and places so confirmed that no other rule confirmed,
    none wrong."""
    if " " in _spaced(tess) and " " not in _spaced(read):
        tess = tess.replace(" ", "")
    ours, theirs = _spaced(tess), _spaced(read)
    folded = ours.casefold(), theirs.casefold()  # folding may lengthen a letter (İ: i and a dot)
    if len(ours) != len(theirs) or (at := _letter_apart(*folded)) is None:
        return None
    mine = is_words(ours)
    if mine == is_words(theirs):
        return None
    if _FOREIGN.search(ours[at] + theirs[at]):
        return None  # a letter of another alphabet: the Swedish lexicon is no witness of it
    if mine:
        return ours if line < NEAR_SURE and _could_stand(ours) else None
    return theirs if _could_stand(theirs) else None


def _a_letter_apart_marks_aside(tess: str, read: str, is_words: Callable[[str], bool], line: float) -> bool:
    """Whether tesseract's words, with Swedish marks only, are one letter from the line reader's no word once marks
    are set aside: the line reader misses marks and misread one letter (VAXTÖ and VÃxτÖ for VÄXJÖ, VISTERÁS for
    VÄSTERÅS: a hand's J and Ä it does not know). As ``_one_letter_apart`` for tesseract's words, of which it is the
    case where the readings differ in marks too. Calibration (seeds 11-49, 1,638 applications): 38 names and places
    so confirmed that no other rule confirmed, none wrong; without the guards, 3 wrong (ÅRE for ÅKE, a short word;
    ANDERSÉN, a mark of another alphabet; DART, where the line reader read a language of the field's list)."""
    if line >= NEAR_SURE or _FOREIGN.search(tess) or not is_words(tess) or is_words(read) or not _could_stand(tess):
        return False
    ours, theirs = (plain(_spaced(t)).casefold() for t in (tess, read))
    return _letter_apart(ours, theirs) is not None


def _letter_apart(ours: str, theirs: str) -> int | None:
    """Where two readings of as many characters differ in one, not a space, in a word of ``ONE_APART_LETTERS`` or
    more: its place."""
    if len(ours) != len(theirs):
        return None
    apart = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    if len(apart) != 1 or " " in (ours[apart[0]], theirs[apart[0]]):
        return None
    at = apart[0]
    return at if len(ours[:at].split(" ")[-1] + ours[at:].split(" ")[0]) >= ONE_APART_LETTERS else None


def _alike(tess: str, read: str, is_words: Callable[[str], bool]) -> bool:
    """Whether the line reader read tesseract's words, as far as it reads them: the same letters spaced otherwise
    (ANIT A, KRIS TINA: tesseract's words are words, and the line reader's not), or letter by letter the same but
    for marks: its own over letters tesseract read with Swedish ones (MÔLNDAL, ALINGSÃS: it saw a mark there), or
    none where tesseract's make words and its letters alone do not (MALMO, TRÄDGARDSVAGEN: it often misses them), or
    some of each (VASTERÁS, for VÄSTERÅS)."""
    # Folded before they are measured: folding may lengthen a letter (the line reader's İ folds to i and a dot).
    ours, theirs = _spaced(tess).casefold(), _spaced(read).casefold()
    if ours.replace(" ", "") == theirs.replace(" ", ""):
        return not is_words(read)  # both spacings words (KYRKO TORGET, KYRKOTORGET): a person's to choose
    if len(ours) != len(theirs):
        return False
    pairs = list(zip(ours, theirs, strict=True))
    if all(a == b or _marked_alike(a, b) for a, b in pairs):
        return True
    return all(a == b or plain(a) == b or _marked_alike(a, b) for a, b in pairs) and not is_words(read)


def _with_marks(tess: str, read: str) -> str:
    """The line reader's letters with the marks it cannot read as tesseract read them: a ring it missed (UMEA, where
    tesseract read UNEÅ), a mark of another alphabet (MÔLNDAL, where tesseract read NÖLNDAL). Not dots over an O
    it read without them: tesseract reads dots over an O that has none (SKÖLSTIGEN) too often."""
    return _marks_taken(tess, read, lambda a, b: (a.casefold() == "å" and b.casefold() == "a") or _marked_alike(a, b))


def _marks_taken(tess: str, read: str, take: Callable[[str, str], bool]) -> str:
    """The line reader's letters, each with tesseract's letter at its place instead where ``take`` says so (in the
    line reader's case); where the two read other counts of characters, the line reader's as read."""
    if len(tess) != len(read):
        return read
    out = [(a.upper() if b.isupper() else a.lower()) if take(a, b) else b for a, b in zip(tess, read, strict=True)]
    return "".join(out)


def _marked_once(text: str) -> str:
    """Tesseract's reading with a letter it read twice, with a Swedish mark and without (TRÖOLLHÄTTAN,
    CHRISTOÖFFER), read once, without: a speck over the letter is read as the mark of a letter of its own. The line
    reader is still the witness that decides, and a lost mark the lexicon knows stays doubtful (BJORN). Not a mark
    of another alphabet: tesseract reads NGUYỄN as NGUYEÉN, and the line reader, which cannot read the mark, as
    NGUYEN."""
    out: list[str] = []
    for char in text:
        bare = char.casefold() == plain(char)
        foreign = _FOREIGN.search(char + (out[-1] if out else ""))
        if out and not foreign and plain(out[-1]) == plain(char) and (out[-1].casefold() == plain(out[-1])) != bare:
            if bare:  # the letter without the mark came second: it stays
                out[-1] = char
            continue
        out.append(char)
    return "".join(out)


def _with_dots(tess: str, read: str) -> str:
    """The line reader's letters with every mark tesseract read on the same letters, dots over an O too: where the
    line reader, sure, read letters that are no word and tesseract read the dots it missed on a word it misread
    elsewhere (ENGSTROM and ENGSTRÖN, for ENGSTRÖM). Only where that makes words (see ``_text_vote``): tesseract's
    false dots (SKÖLSTIGEN) make none, and where the line reader's letters are words already, they stand as read."""
    return _marks_taken(tess, read, lambda a, b: plain(a) == b.casefold() != a.casefold())


def _marked_alike(ours: str, theirs: str) -> bool:
    """A Swedish letter with its mark (Å, Ä, Ö) read as the same letter with a mark of another alphabet (Ã, Á, Ô)."""
    return ours.casefold() in "åäö" and plain(ours) == plain(theirs) and theirs.casefold() not in "aoåäö"


def _marks_missed(tess: str, read: str) -> bool:
    """Whether the line reader read tesseract's letters but not its marks (the reverse is no evidence: NGUYỄN read
    by tesseract as NGUYEN)."""
    bare = plain(_spaced(read))
    return bare == plain(_spaced(tess)) == _spaced(read).casefold() != _spaced(tess).casefold()


def _near(
    failed: str, words: str, is_words: Callable[[str], bool], street: bool = False, edits: int | None = None
) -> bool:
    """Whether one reading (``failed``) is a failed reading of the other's ``words``: the same letters split
    otherwise (STRANDS TIGEN), or as many words, near, and none of those that differ a word itself (two readings of
    different words are a person's to choose between: VILLASTIGEN and MILLASTIGEN), nor only marks the line reader
    may have missed (NGUYÉN against its NGUYEN, for NGUYỄN). A word differs by letters read otherwise, not dropped:
    the line reader drops letters at its surest (MOHAMMAD for the name MOHAMMADI, which no lexicon knows); in a
    street's name, which is words, a letter added (PARIKGATAN) or dropped counts too. Near: within ``edits``, or
    two letters or a quarter of the words'."""
    ours, theirs = failed.split(), words.split()
    if len(ours) != len(theirs):
        return "".join(ours).casefold() == "".join(theirs).casefold() and not is_words(failed)
    for a, b in zip(ours, theirs, strict=True):
        foreign = _marks_missed(a, b) and _FOREIGN.search(a)
        digits = _DIGIT.search(a + b)  # a house number is read alike or not at all: 60 is no misreading of 860
        if a.casefold() != b.casefold() and (is_words(a) or foreign or digits or (len(a) != len(b) and not street)):
            return False
    apart = Levenshtein.distance(plain(_spaced(failed)), plain(_spaced(words)))
    return apart <= (max(NEAR_EDITS, NEAR_SHARE * len(words)) if edits is None else edits)


def _confirm(reading: RawField) -> RawField:
    return reading.model_copy(update={"confidence": max(reading.confidence, AGREED)})


def _agreed_as(words: str, tess: str) -> RawField:
    """Another reading of the ink, confirmed; in capitals where tesseract read mostly capitals (the line reader and
    the lexicon may give lower case, and tesseract reads a capital or two of a hand as lower case: Vis TOR, for
    which the line reader's VikTOR stood)."""
    capitals = sum(c.isupper() for c in tess) > sum(c.islower() for c in tess)
    return RawField(value=words.upper() if capitals else words, source=Source.OCR, confidence=AGREED)


def _doubt(reading: RawField) -> RawField:
    return reading.model_copy(update={"confidence": min(reading.confidence, DISAGREE)})


def _digits_vote(
    kind: FieldType, reading: RawField, glyphs: Reading | None, line: Reading | None, *, form: bool = True
) -> RawField:
    """``form``: whether the value has its type's form (a house number, compared as a postnummer, has none)."""
    glyphs = _plus_read_as_a_digit(kind, glyphs)
    others = [(r, at) for r, at in ((line, LINE_SURE), (glyphs, GLYPHS_SURE)) if r is not None]
    sure = {_key(kind, r.text) for r, at in others if r.confidence >= at}
    if len(sure) == 1:
        [digits] = sure
        agreeing = [reading] if reading.value and _key(kind, reading.value) == digits else []
        agreeing += [_raw(kind, r.text) for r, _ in others if _key(kind, r.text) == digits]
        if len(agreeing) >= 2 and not _dissent(kind, digits, line):
            # Tesseract's reading first, for its spacing; but not spaced out of its form (202-6-10-18 for a date).
            formed = [a for a in agreeing if form and _formed(kind, str(a.value))]
            return _with_plus(kind, _confirm((formed or agreeing)[0]))
    if form and (kept := _one_left_out(kind, reading, glyphs, line)) is not None:
        return kept
    if glyphs is not None and line is not None and _eights_read_as_noughts(kind, reading, glyphs, line):
        return _with_plus(kind, _raw(kind, line.text))
    if glyphs is not None and form and _certain_alone(kind, glyphs, line):
        return _raw(kind, glyphs.text)
    if (alike := _alike_unsure(kind, glyphs, line) if form else None) is not None:
        return alike
    if form and (agreed := _two_engines_alike(kind, reading, glyphs, line)) is not None:
        return _with_plus(kind, _confirm(agreed))
    if form and (seconded := _each_digit_seconded(kind, reading, glyphs, line)) is not None:
        return seconded
    if line is None or line.confidence < LINE_SURE:
        return _doubt(reading)
    if kind is FieldType.PERSONNUMMER and _checks(line.text):
        return _raw(kind, line.text)  # the check digit is the second witness: it catches any one digit misread
    read = _with_plus(kind, _raw(kind, line.text))  # a + the line reader lost is a character the other may have read
    # Nearly certain, the line reader stands against the per-character reader alone (it is often sure of a 0 for
    # an 8), not where tesseract read what that reader read.
    outvoted = (
        glyphs is not None and glyphs.confidence >= GLYPHS_SURE and _key(kind, reading.value) == _key(kind, glyphs.text)
    )
    certain = line.confidence >= (LINE_CERTAIN if form else LINE_ALONE) and not outvoted
    if certain and _stands_alone(kind, str(read.value), reading, glyphs, form):
        return read
    if glyphs is not None and glyphs.likely(str(read.value), GLYPHS_LIKELY):
        return read
    return _doubt(reading)


def _eights_read_as_noughts(kind: FieldType, reading: RawField, glyphs: Reading, line: Reading) -> bool:
    """Whether the line reader, fairly sure (``EIGHTS_SURE``), and the per-character reader read as many digits,
    the same but where the line reader read an 8 and the per-character reader a 0: it reads some hands' 8 as 0,
    sure of it. A house number has no form to hold it, so the two readers' count of digits is the check. Below
    ``LINE_CERTAIN``, not where tesseract read the per-character reader's digits: two readers against one."""
    ours, theirs = _key(kind, line.text), _key(kind, glyphs.text)
    if line.confidence < EIGHTS_SURE or len(ours) != len(theirs) or ours == theirs:
        return False
    if line.confidence < LINE_CERTAIN and _key(kind, str(reading.value or "")) == theirs:
        return False
    return all(a == b or (a, b) == ("8", "0") for a, b in zip(ours, theirs, strict=True))


def _plus_read_as_a_digit(kind: FieldType, glyphs: Reading | None) -> Reading | None:
    """The per-character reader's phone number with the + it read as a digit (3, 8, 1: some hands' cross is none
    it learnt) put back: 12 digits whose last 11 begin with 46 are +46 and 9 digits, as a number dialled within
    Sweden has at most 10. Calibration (seeds 11-49, 1,638 applications): 32 numbers so read; 14 more confirmed
    then, none wrong."""
    if kind is not FieldType.PHONE or glyphs is None:
        return glyphs
    text = glyphs.text
    if len(text) != 12 or not text.isdigit() or not text[1:].startswith("46"):
        return glyphs
    probabilities = glyphs.probabilities
    if len(probabilities) == len(text):
        probabilities = (tuple(float(c == "+") for c in glyphs.classes), *probabilities[1:])
    return replace(glyphs, text="+" + text[1:], probabilities=probabilities)


def _one_left_out(kind: FieldType, reading: RawField, glyphs: Reading | None, line: Reading | None) -> RawField | None:
    """Tesseract and the per-character reader read the same digits in their type's form, and the line reader, sure,
    read them with one left out (it drops a narrow 1: 070174062 for 0701740621, 2026-09-1 for 2026-09-11): three
    readers, none against the others, where the line reader's sureness had counted as a dissent. Calibration (seeds
    23-49, 1,134 applications): 5 phone numbers and dates so confirmed with the per-character reader sure, none
    wrong; over seeds 11-49 (1,638 applications), 4 more with it unsure (0.48 to 0.63), none wrong."""
    if glyphs is None or line is None or not reading.value:
        return None
    digits, theirs = _key(kind, reading.value), _key(kind, line.text)
    if digits != _key(kind, glyphs.text) or line.confidence < LINE_SURE or not _formed(kind, str(reading.value)):
        return None
    if len(theirs) != len(digits) - 1 or all(digits[:i] + digits[i + 1 :] != theirs for i in range(len(digits))):
        return None
    return _with_plus(kind, _confirm(reading))


def _alike_unsure(kind: FieldType, glyphs: Reading | None, line: Reading | None) -> RawField | None:
    """The line reader, nearly sure (``LINE_DISSENT``), and the per-character reader, however unsure, read the same
    digits in their type's form, tesseract others (it reads this hand's 0 as 9): two readers of different kinds that
    agree. Of the 1,550 digit fields of calibration scans (seeds 23-31, all levels) on which the two agreed, none
    was wrong; 7 of them with neither sure, which no other rule confirmed."""
    if glyphs is None or line is None or line.confidence < LINE_DISSENT:
        return None
    if _key(kind, line.text) != _key(kind, glyphs.text):
        return None
    formed = [r for r in (_raw(kind, glyphs.text), _raw(kind, line.text)) if _formed(kind, str(r.value))]
    return _with_plus(kind, formed[0]) if formed else None


def _two_engines_alike(
    kind: FieldType, reading: RawField, glyphs: Reading | None, line: Reading | None
) -> RawField | None:
    """Tesseract and the line reader, at least ``LINE_AGREE`` sure, read the same digits in their type's form, and
    the per-character reader, not certain, read others (it reads this hand's 8 as 0, at 0.82): two engines of
    different kinds agree, which the sure readers' disagreement hid. Tesseract's reading first, for its spacing."""
    if line is None or line.confidence < LINE_AGREE or not reading.value:
        return None
    if _key(kind, reading.value) != _key(kind, line.text):
        return None
    if glyphs is not None and glyphs.confidence >= GLYPHS_CERTAIN and _key(kind, glyphs.text) != _key(kind, line.text):
        return None
    formed = [r for r in (reading, _raw(kind, line.text)) if _formed(kind, str(r.value))]
    return formed[0] if formed else None


def _each_digit_seconded(
    kind: FieldType, reading: RawField, glyphs: Reading | None, line: Reading | None
) -> RawField | None:
    """The line reader's digits, where the three readers read as many, each of the others misread one the line
    reader (at least ``LINE_AGREE`` sure) read, and each of the line reader's, in its type's form, is at its place
    in tesseract's reading or the per-character reader's: every digit has two readers of different kinds behind it
    (tesseract reads this hand's 0 as 9, the per-character reader its 7 as 3: 0791740667 and 0301740667 for
    0701740667); or an 8 the per-character reader read as 0, as it does some hands' 8, sure of it
    (``_eights_read_as_noughts``), and tesseract otherwise (0701740695 and 0701740605 for 0701740685). Not where the
    line reader stands alone on a digit (65804, where both others read 65504). Calibration (seeds 11-49, 1,638
    applications): 20 phone numbers, postnummer and dates so confirmed that no other rule confirmed, none wrong."""
    if glyphs is None or line is None or kind is FieldType.PERSONNUMMER or line.confidence < LINE_AGREE:
        return None  # a personnummer's check digit is its witness (``_certain_alone``, ``_digits_vote``)
    ours, tess, theirs = _key(kind, line.text), _key(kind, reading.value or ""), _key(kind, glyphs.text)
    if not ours or not len(ours) == len(tess) == len(theirs) or ours in (tess, theirs):
        return None  # two that agree throughout are weighed by the rules above, with their cautions
    read = _with_plus(kind, _raw(kind, line.text))
    seconded = (a in (b, c) or (a, c) == ("8", "0") for a, b, c in zip(ours, tess, theirs, strict=True))
    if not _formed(kind, str(read.value)) or not all(seconded):
        return None
    return read


def _dissent(kind: FieldType, digits: str, line: Reading | None) -> bool:
    """Whether the line reader, nearly sure though not sure, read as many digits as the others agreed on but other
    ones: tesseract and the per-character reader then share a misread (40447 for 46447, the line reader at 0.92)."""
    if line is None or line.confidence < LINE_DISSENT:
        return False
    other = _key(kind, line.text)
    return other.isdigit() and len(other) == len(digits) and other != digits


def _formed(kind: FieldType, value: str) -> bool:
    """Whether digits have their type's form: a personnummer's date and check digit, a date, a postnummer, a phone
    number that can be dialled."""
    if kind is FieldType.PERSONNUMMER:
        return _checks(value)
    try:
        NORMALISERS[kind](value)  # what validation will ask of the value
    except ValueError:
        return False
    return True


# A phone number's digits that the reader who read as many as the line reader may have read otherwise: that reader
# witnesses that no digit was dropped or doubled only where it read the same number, but for a misread digit or two.
# Held-out scans (seeds 58-65) found 0701740625 accepted for 0701740626 where that reader had read 6791348628.
ALONE_APART = 2


def _stands_alone(kind: FieldType, value: str, reading: RawField, glyphs: Reading | None, form: bool = True) -> bool:
    """Whether the line reader's digits, nearly certain, need no witness: a date or a postnummer has one form, which
    a digit dropped or doubled breaks; a phone number's length varies, and a house number (no ``form``) has none,
    so another reader must have read as many (of a phone number, all but ``ALONE_APART`` alike). Calibration (seeds
    11-49, 1,638 applications): of 349 house numbers the line reader read at ``LINE_ALONE`` or surer, otherwise than
    tesseract, none was wrong."""
    if kind is FieldType.PERSONNUMMER or (form and not _formed(kind, value)):
        return False
    if form and kind is not FieldType.PHONE:
        return True
    ours = re.sub(r"\D", "", value)
    others = [re.sub(r"\D", "", o) for o in (str(reading.value or ""), glyphs.text if glyphs is not None else "")]
    if kind is FieldType.PHONE:
        return any(len(o) == len(ours) and Hamming.distance(o, ours) <= ALONE_APART for o in others)
    return any(len(o) == len(ours) for o in others)


def _certain_alone(kind: FieldType, glyphs: Reading, line: Reading | None) -> bool:
    """Whether the per-character reader's digits need no other reader: sure of a personnummer whose check digit
    fits, nearly certain of a date's or a postnummer's digits in their form; not where the line reader is nearly
    sure (``LINE_DISSENT``) of other digits in that form. A phone number's length varies: never alone."""
    if kind not in (FieldType.PERSONNUMMER, FieldType.DATE, FieldType.POSTNUMMER):
        return False
    least = GLYPHS_SURE if kind is FieldType.PERSONNUMMER else GLYPHS_CERTAIN
    value = str(_raw(kind, glyphs.text).value)
    if glyphs.confidence < least or not _formed(kind, value):
        return False
    if line is None or line.confidence < LINE_DISSENT:
        return True
    other = str(_raw(kind, line.text).value)
    return not _formed(kind, other) or _key(kind, other) == _key(kind, value)


def _checks(text: str) -> bool:
    """Whether a personnummer's reading is one: a date that exists and a check digit that fits."""
    try:
        parse_personnummer(clean(FieldType.PERSONNUMMER, text)[0])
    except ValueError:
        return False
    return True


def _with_plus(kind: FieldType, reading: RawField) -> RawField:
    """A phone number's + is the mark most often lost (or read as a point); digits that do not start with 0 cannot
    be dialled without it, so the readers' agreed digits get it back."""
    value = str(reading.value or "")
    if kind is not FieldType.PHONE or value.startswith(("+", "0")) or not value:
        return reading
    return reading.model_copy(update={"value": "+" + value})


def _raw(kind: FieldType, text: str) -> RawField:
    return RawField(value=clean(kind, text)[0], source=Source.OCR, confidence=AGREED)


def _could_stand(text: str, street: bool = False, near: bool = True) -> bool:
    """Whether a reading of text (of a ``street``: an address) could be trusted at all: more than a letter was read
    (both read a smudged surname as A, which the lexicon knows), and nothing in it is a failure the readers share (a
    word one letter from a word only where ``near`` says so)."""
    shared = _LOOKALIKE_WORD.search(text) or _SPECK_MARKS.search(text) or marks_doubtful(text)
    near_miss = near and near_a_word(text, street)
    letters = sum(c.isalpha() for c in text)
    street_misread = street and (street_marks_doubtful(text) or ending_split(text))
    return letters > 1 and not (shared or near_miss or street_misread)


def _marks_beyond(ours: str, theirs: str) -> bool:
    """Whether ``ours`` holds a marked letter that ``theirs`` does not (BACKVÅGEN's Å, against BACKVÄGEN)."""
    return bool(_marked_letters(ours) - _marked_letters(theirs))


def _marked_letters(text: str) -> Counter[str]:
    """The letters of a reading with a mark over them (Å, Ä, Ö, É), case folded, and how often each."""
    return Counter(c for c in text.casefold() if plain(c) != c)


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _same_text(a: str, b: str) -> bool:
    return _spaced(a).casefold() == _spaced(b).casefold()


def _key(kind: FieldType, value: object) -> str:
    """What two readings must share to agree: the characters, not the spacing or separators between them; in a phone
    number not the + either (see ``_with_plus``), though in a personnummer it says the century."""
    separators = r"[\s\-./+]" if kind is FieldType.PHONE else r"[\s\-./]"
    return re.sub(separators, "", str(value)).casefold()


def _field_value(fs: FieldSpec, words: list[Word]) -> RawField:
    if not words:  # ink but nothing legible: unreadable, not empty
        return RawField(value="", source=Source.OCR, confidence=0.0)
    words = sorted(words, key=lambda w: (w.line, w.left))
    text = " ".join(w.text for w in words)
    confidence = min(w.confidence for w in words)
    cleaned, changed = clean(fs.type, text, fs.charset)
    if changed:
        confidence *= 0.85  # a corrected look-alike is a guess: it must clear the threshold on its own merit
    return RawField(value=cleaned, source=Source.OCR, confidence=round(confidence, 3))


def clean(kind: FieldType, text: str, charset: str | None = None) -> tuple[str, bool]:
    """Per-type clean-up of what the engine read; returns the text and whether characters were substituted."""
    if kind in DIGIT_TYPES:
        guessed = bool(re.sub(r"[\d+\-\s]", "", text))
        fixed = re.sub(r"[^\d+\-\s]", "", text.translate(_DIGIT_LOOKALIKES))
        if kind is FieldType.PERSONNUMMER:
            fixed = re.sub(r"\s+", "", fixed)
        if kind is FieldType.POSTNUMMER:
            fixed = fixed.replace("-", " ")  # the gap between its groups, read as a dash
        # A separator read twice, or a speck beside the digits read as one, is no part of the number.
        return re.sub(r"-{2,}", "-", fixed).strip(" -"), guessed
    if kind is FieldType.EMAIL:
        fixed = re.sub(r"\s+", "", text).lower()
        return fixed, False
    fixed = re.sub(r"\s+", " ", text).strip(" _|")
    if kind is FieldType.TEXT:
        # Dust beside a name or street reads as stray marks: a "word" of marks alone, a point or colon after the end,
        # a point or quote before the start.
        fixed = " ".join(w for w in fixed.split(" ") if _LETTER_OR_DIGIT.search(w)).rstrip(".,:;").lstrip(".,:;'`´\"")
        if charset == "address":
            # A street's number closes its address, and both readers read a lone 0 there as the letter O: no
            # address ends in a lone O. Not a guess that counts against the reading (see above: a lone O elsewhere,
            # or any other letter like a digit, still never stands).
            fixed = re.sub(r"(?<=\S )[Oo]$", "0", fixed)
        # The form asks for capitals: a last word of one or two small letters after them is dust read as letters.
        fixed = re.sub(r"(?<=[A-ZÅÄÖ]) [a-zåäö]{1,2}$", "", fixed)
    # A letter outside the Swedish alphabet (é, ü, ø, ł, ễ…) may be a look-alike of one the model cannot read at
    # all (Nguyễn read as Nguyén): never accepted on the engine's word alone.
    return fixed, bool(_FOREIGN.search(fixed))


def _cropper(grey: np.ndarray, template: Template, fs: FieldSpec) -> Callable[[], bytes]:
    boxes = fs.boxes

    def crop() -> bytes:
        rects = [template.rect(b, inset_pt=-4) for b in boxes]
        r0 = max(min(r[0] for r in rects), 0)
        r1 = max(r[1] for r in rects)
        c0 = max(min(r[2] for r in rects), 0)
        c1 = max(r[3] for r in rects)
        buf = io.BytesIO()
        # Fast compression: a scan's grain compresses poorly at any level, and zlib's default took twice as long
        # (7.7 ms against 3.8 per crop, for files 17% smaller) in a worker's time.
        Image.fromarray(grey[r0:r1, c0:c1]).save(buf, format="PNG", optimize=False, compress_level=1)
        return buf.getvalue()

    return crop
