"""How fields are read on a scanned page: one engine pass per character-set group, each with a model that can read
it, digits checked by a second model, and both engines behind the seam giving the same reading."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bench.scans import same
from fixtures import scans
from pipeline import stages
from pipeline.formspec import FormSpec
from pipeline.models import RawField, Source
from pipeline.scan import glyphs, zonal
from pipeline.scan.ocr import Tesseract, TesserOcr, Word
from tests.conftest import FIXTURES
from tests.test_scans import _read

UPSIDE_DOWN = FIXTURES / "scans" / "ansokan-samordning" / "application-upside-down-1.pdf"


def test_email_is_read_with_its_at_sign(specs: dict[str, FormSpec], tmp_path: Path) -> None:
    """The Swedish model has no '@' in its character set; e-mail is read by a model that has."""
    expected = json.loads(UPSIDE_DOWN.with_suffix(".expected.json").read_text(encoding="utf-8"))["fields"]["epost"]
    [result] = _read(UPSIDE_DOWN, specs, tmp_path)
    assert result.record.fields["epost"].value == expected.casefold()


def test_pytesseract_reads_as_tesserocr_does(
    specs: dict[str, FormSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same tesseract behind either side of the seam: a process per pass, or kept loaded in the worker. The two
    feed it differently (a PNG file, or pixels in memory), so a word may come out differently; the guarantee holds."""
    expected = json.loads(UPSIDE_DOWN.with_suffix(".expected.json").read_text(encoding="utf-8"))["fields"]
    assert isinstance(stages.ENGINE, TesserOcr)
    [loaded] = _read(UPSIDE_DOWN, specs, tmp_path / "a")
    monkeypatch.setattr(stages, "ENGINE", Tesseract())
    [spawned] = _read(UPSIDE_DOWN, specs, tmp_path / "b")
    fields = spawned.record.fields
    assert {n for n, v in fields.items() if v.accepted and not same(v.value, expected[n])} == set()
    assert fields["epost"].value == expected["epost"].casefold()
    differ = {n for n, v in fields.items() if v.value != loaded.record.fields[n].value}
    assert len(differ) <= 2, differ


class TwoModels:
    """An engine whose models read the sheet as told: to test how readings are combined, not tesseract. The first
    model's reading of the shrunk sheet is ``readings["small"]`` (the first model's own reading if not given)."""

    def __init__(self, readings: dict[str, str], confidence: float = 0.93) -> None:
        self.readings = readings
        self.confidence = confidence
        self.calls: list[tuple[str | None, str, float]] = []
        self.height: int | None = None

    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        self.height = self.height or image.height
        scale = round(image.height / self.height, 1)
        self.calls.append((charset, model, scale))
        text = self.readings.get("small", self.readings[model]) if scale < 1 else self.readings[model]
        at = round(zonal.GAP * scale)
        return [Word(text, self.confidence, at, at, round(40 * scale), round(20 * scale), (1, 1, 1))]


def _written(text: str, seed: int, font: Path | None = None) -> np.ndarray:
    """``text`` written by a fixture hand (fonts the glyph reader never learnt from), as a whitened field crop."""
    rng = random.Random(seed)
    hand = scans.pick_hand(rng)
    if font is not None:
        hand = dataclasses.replace(hand, font=font)
    run = scans._write(text, hand, 24, rng)
    sheet = scans._Sheet((run.width + 16, run.height + 16), 72, hand)
    sheet.put(run, 8, 8 + run.baseline, (8, 8, 8 + run.width, 8 + run.height))
    return sheet.ink


@pytest.mark.parametrize("font", scans.HAND_FONTS, ids=lambda p: p.stem)
def test_glyph_reader_reads_hands_it_never_learnt(font: Path) -> None:
    """The per-character reader was trained on other fonts than the fixtures write with; it reads their digits (on
    the hardest of them, DkgHandwriting, 92.5% when this was written)."""
    rng = random.Random(font.stem)
    right = 0
    for seed in range(20):
        digits = "".join(rng.choice("0123456789") for _ in range(10))
        read = glyphs.read_digits(_written(digits, seed, font)).text
        right += sum(a == b for a, b in zip(read, digits, strict=False)) if len(read) == len(digits) else 0
    assert right >= 180, right


@pytest.mark.parametrize("seed", range(6))
def test_dust_around_the_writing_goes_and_its_dots_stay(seed: int) -> None:
    """A scanner's dust in a text box is read as punctuation and costs the whole line its confidence: it is removed,
    while everything written stays, the dots and rings of Å, Ä and Ö included."""
    rng = random.Random(seed)
    written = _written("BJÖRK ÅSA", seed)
    box = np.full((written.shape[0] + 14, written.shape[1] + 400), 255, np.uint8)
    box[7 : 7 + written.shape[0], 4 : 4 + written.shape[1]] = written
    writing = box < glyphs.INK
    specks = np.zeros(box.shape, bool)
    for _ in range(12):  # to the right of the writing, as far as the box goes
        y, x = rng.randrange(box.shape[0] - 2), rng.randrange(written.shape[1] + 60, box.shape[1] - 2)
        specks[y : y + rng.randint(1, 2), x : x + rng.randint(1, 2)] = True
    box[specks] = 40
    kept, dust = zonal._writing(box < glyphs.INK)
    assert not (writing & ~kept).any()  # nothing written is lost
    assert not (specks & ~dust).any()  # no speck is left


def test_a_box_of_dust_alone_is_left_to_the_engine() -> None:
    """Without a single stroke there is no writing to measure dust against: all ink is kept, and the engine (not
    this) finds it illegible, so the box goes to a person as unreadable rather than passing as empty."""
    ink = np.zeros((40, 300), bool)
    ink[5:7, 10:12] = ink[30:32, 200:202] = ink[20:22, 120:123] = True
    kept, dust = zonal._writing(ink)
    assert (kept == ink).all()
    assert not dust.any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 90), st.integers(0, 30), st.integers(1, 12), st.integers(1, 14)),
        min_size=0,
        max_size=8,
    )
)
def test_glyph_characters_keep_all_ink_in_order(strokes: list[tuple[int, int, int, int]]) -> None:
    """Whatever the ink, every component bigger than a fleck lands in exactly one character, and characters come
    left to right (what the reader's text is compared by)."""
    ink = np.zeros((45, 110), np.uint8)
    for x, y, w, h in strokes:
        ink[y : y + h, x : x + w] = 255
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    kept = sum(int(stats[i, cv2.CC_STAT_AREA]) for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= glyphs.SPECK)
    chars = glyphs.characters(ink)
    assert sum(int((c > 0).sum()) for c in chars) == kept
    assert all(c.shape[0] >= 1 and c.shape[1] >= 1 for c in chars)
    reading = glyphs.read_digits(255 - ink)
    assert len(reading.text) == len(chars) and set(reading.text) <= set(glyphs.CLASSES)
    assert (reading.confidence == 0.0) == (not chars)


@pytest.mark.parametrize(
    ("field", "written", "swe", "eng", "engine", "value", "confidence"),
    [
        ("postnummer", "12345", "12345", "123 45", 0.2, "12345", zonal.AGREED),
        ("postnummer", "47065", "47065", "97065", 0.93, "47065", zonal.AGREED),
        ("postnummer", "47065", "97065", "47065", 0.4, "47065", zonal.AGREED),
        ("postnummer", "47065", "97065", "97065", 0.97, "97065", zonal.DISAGREE),
        ("postnummer", "47065", "97065", "97065/47065", 0.4, "47065", zonal.AGREED),
        ("personnummer", "198112189876", "19811218-9876", "198112189876", 0.2, "19811218-9876", zonal.AGREED),
        ("telefon", "0701740665", "0701740665", "070 174 06 65", 0.2, "0701740665", zonal.AGREED),
        ("telefon", "0701740665", "0701740666", "0701740666", 0.97, "0701740666", zonal.DISAGREE),
    ],
    ids=[
        "agree",
        "models-differ",
        "second-model-agrees",
        "glyphs-differ",
        "shrunk-view-agrees",
        "personnummer",
        "phone",
        "phone-differs",
    ],
)
def test_digits_count_only_where_two_readers_agree(
    specs: dict[str, FormSpec],
    field: str,
    written: str,
    swe: str,
    eng: str,
    engine: float,
    value: str,
    confidence: float,
) -> None:
    """Digits are trusted where the per-character reader, sure of every character, reads what one of tesseract's
    readings read (its two models, and the first on a shrunk sheet; that reading is taken); where it is sure of other
    digits they are not, however confident tesseract and however its two models agree. ``eng`` may carry the shrunk
    sheet's reading after a slash."""
    spec = next(f for f in specs["ansokan-samordning"].fields if f.name == field)
    crop = _written(written, 3, scans.HAND_FONTS[0])
    reading = glyphs.read_digits(crop)
    assert reading.text == written and reading.confidence >= zonal.GLYPHS_SURE  # the premise of the case
    eng, _, small = eng.partition("/")
    models = TwoModels({"swe": swe, "eng": eng, **({"small": small} if small else {})}, confidence=engine)
    [(name, read)] = zonal._read_texts([(spec, crop)], models).items()
    assert name == field and read.value == value and read.confidence == confidence
    charset = zonal.DIGIT_PASS.charset
    assert models.calls == [(charset, "swe", 1.0), (charset, "eng", 1.0), (charset, "swe", 0.6)]  # a sheet each


@pytest.mark.parametrize(
    ("field", "swe", "eng", "engine", "confidence"),
    [
        ("postnummer", "12345", "123 45", 0.2, 0.2),
        ("postnummer", "47065", "97065", 0.93, zonal.DISAGREE),
        ("personnummer", "19811218-9876", "198112189876", 0.2, zonal.AGREED),
        ("telefon", "0701740665", "0701740666", 0.93, zonal.DISAGREE),
    ],
    ids=["postnummer-agrees", "differ", "personnummer-agrees", "phone-differs"],
)
def test_without_a_sure_glyph_reading_the_two_models_decide(
    specs: dict[str, FormSpec], field: str, swe: str, eng: str, engine: float, confidence: float
) -> None:
    """Ink the per-character reader is not sure of (a smudge, digits run together): agreement of tesseract's two
    models stands for the engine's confidence only where a check digit catches a slip (a personnummer), and two
    readings that differ are never trusted."""
    spec = next(f for f in specs["ansokan-samordning"].fields if f.name == field)
    value, second = (RawField(value=v, source=Source.OCR, confidence=engine) for v in (swe, eng))
    unsure = glyphs.Reading(swe, zonal.GLYPHS_SURE - 0.01)
    voted = zonal._vote(spec, [value, second], unsure)
    assert voted.value == swe and voted.confidence == confidence
