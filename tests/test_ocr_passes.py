"""How fields are read on a scanned page: one engine pass per character-set group, each with a model that can read
it, digits checked by a second model, and both engines behind the seam giving the same reading."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.scans import same
from pipeline import stages
from pipeline.formspec import FormSpec
from pipeline.scan import zonal
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
    """An engine whose models read the sheet as told: to test how two readings are combined, not tesseract."""

    def __init__(self, readings: dict[str, str], confidence: float = 0.93) -> None:
        self.readings = readings
        self.confidence = confidence
        self.calls: list[tuple[str | None, str]] = []

    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        self.calls.append((charset, model))
        return [Word(self.readings[model], self.confidence, zonal.GAP, zonal.GAP, 40, 20, (1, 1, 1))]


@pytest.mark.parametrize(
    ("field", "swe", "eng", "engine", "confidence"),
    [
        ("postnummer", "12345", "123 45", 0.2, 0.2),
        ("postnummer", "47065", "97065", 0.93, zonal.DISAGREE),
        ("personnummer", "19811218-9876", "198112189876", 0.2, zonal.AGREED),
        ("telefon", "0701740665", "070 174 06 65", 0.2, 0.2),
        ("telefon", "0701740665", "0701740666", 0.93, zonal.DISAGREE),
    ],
    ids=["postnummer-agrees", "differ", "personnummer-agrees", "phone-agrees", "phone-differs"],
)
def test_digits_count_only_where_two_models_agree(
    specs: dict[str, FormSpec], field: str, swe: str, eng: str, engine: float, confidence: float
) -> None:
    """Agreement stands for the engine's confidence only where a check digit catches a slip (a personnummer); a
    postnummer or telephone number keeps the engine's own, and two readings that differ are never trusted, however
    confident."""
    spec = next(f for f in specs["ansokan-samordning"].fields if f.name == field)
    models = TwoModels({"swe": swe, "eng": eng}, confidence=engine)
    crop = np.full((30, 80), 255, np.uint8)
    crop[10:20, 10:70] = 0
    [(name, value)] = zonal._read_texts([(spec, crop)], models).items()
    assert name == field and value.value == swe.replace(" ", "") and value.confidence == confidence
    assert models.calls == [(zonal.DIGIT_PASS.charset, "swe"), (zonal.DIGIT_PASS.charset, "eng")]  # one sheet each
