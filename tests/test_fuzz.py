"""Property tests and a bounded fuzz run.

- The personnummer parser and the other normalisers: properties over generated input.
- The AcroForm reader: any text written into a field by a form filler reads back as written.
- The intake: hypothesis mutates the bytes of valid fixtures (flipped and inserted bytes, cuts, numbers in the PDF
  syntax replaced) and each mutant goes through ``read_document`` in a real worker process under its limits. Every
  outcome must be a record or a quarantine reason (a DocumentError), never an unexpected exception: a library
  error that reaches the worker's catch-all (``InternalError``) is a bug in the reader that should have translated
  it. The run is derandomised (the same mutants every time) and bounded to well under two minutes; set
  ``PIPELINE_FUZZ_EXAMPLES`` and ``PIPELINE_FUZZ_RANDOM=1`` to explore further by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from fixtures.generate import fill_acroform
from pipeline import identifiers as ids
from pipeline.document import PdfDocument
from pipeline.errors import DocumentError, UnknownFormError
from pipeline.formspec import FieldType, FormSpec
from pipeline.limits import Limits
from pipeline.models import Provenance
from pipeline.readers.acroform import AcroFormReader
from pipeline.stages import Job
from pipeline.validate import DEFAULT_THRESHOLDS
from pipeline.workers import InternalError, ProcessRunner
from tests.conftest import FIXTURES

TODAY = dt.date(2026, 6, 1)


def _check_digit(nine: str) -> str:
    return next(str(d) for d in range(10) if ids.luhn_ok(nine + str(d)))


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    born = draw(st.dates(dt.date(1900, 1, 1), TODAY))
    serial = draw(st.integers(0, 999))
    day = born.day + (60 if draw(st.booleans()) else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    return f"{born:%Y%m}{day:02d}-{serial:03d}{_check_digit(nine)}"


# --- identifiers -------------------------------------------------------------------------------------------------


@given(personnummer(), st.data())
def test_any_single_wrong_digit_is_caught(number: str, data: st.DataObject) -> None:
    """Luhn catches every single-digit error, so a misread digit is never accepted as another person's number."""
    positions = [i for i, ch in enumerate(number) if ch.isdigit() and i >= 2]  # the century is not in the check
    at = data.draw(st.sampled_from(positions))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[at]]))
    with pytest.raises(ValueError):
        ids.parse_personnummer(number[:at] + digit + number[at + 1 :], TODAY)


@given(personnummer(), st.sampled_from(["twelve", "plain", "ten", "ten-plain"]), st.text(max_size=30))
def test_any_valid_number_in_any_text_is_masked(number: str, form: str, around: str) -> None:
    digits = number.replace("-", "")
    written = {"twelve": number, "plain": digits, "ten": number[2:], "ten-plain": digits[2:]}[form]
    text = f"{around} {written} {around}"
    masked = ids.mask_personnummer(text)
    assert written not in masked and "[personnummer]" in masked


@pytest.mark.parametrize(
    "normalise",
    [
        lambda s: ids.normalise_personnummer(s, TODAY),
        ids.normalise_postnummer,
        ids.normalise_date,
        ids.normalise_phone,
        ids.normalise_email,
        ids.normalise_text,
    ],
    ids=["personnummer", "postnummer", "date", "phone", "email", "text"],
)
@given(text=st.one_of(st.text(max_size=40), st.from_regex(r"[0-9 +\-./()@a-z]{0,20}", fullmatch=True)))
def test_normalisers_return_a_value_or_say_why_and_are_idempotent(normalise: object, text: str) -> None:
    assert callable(normalise)
    try:
        once = normalise(text)
    except ValueError as exc:
        assert str(exc)  # a reason, in Swedish, for the request for completion
        return
    assert normalise(once) == once


# --- readers -----------------------------------------------------------------------------------------------------

FIELD_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "Zs"), max_codepoint=0x2FFF),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=FIELD_TEXT, mode=st.sampled_from(["appearance", "need_appearances"]))
def test_the_acroform_reader_reads_back_whatever_a_filler_wrote(
    specs: dict[str, FormSpec], value: str, mode: str
) -> None:
    spec = specs["fk7429"]
    text_fields = [f for f in spec.fields if f.type is FieldType.TEXT and f.acroform]
    field = text_fields[len(value) % len(text_fields)]
    filled = fill_acroform(spec.blank_path.read_bytes(), spec, {field.name: value}, mode)  # type: ignore[arg-type]
    read = AcroFormReader().read(PdfDocument(filled, max_pages=5), spec)
    assert read[field.name].value == value


# --- the intake ----------------------------------------------------------------------------------------------------

SEEDS = [
    FIXTURES / "fk7429" / "notice-01-appearance.pdf",
    FIXTURES / "fk7429" / "notice-05-need-appearances.pdf",
    FIXTURES / "fk7429" / "notice-09-flattened.pdf",
    FIXTURES / "ansokan-samordning" / "application-03-sgi-unknown-no-certificate.pdf",
]


def _small_scans() -> list[bytes]:
    """Small page images, so that mutants exercise the image decoders and their limits without a full OCR pass."""
    page = Image.new("L", (320, 450), 255)
    ImageDraw.Draw(page).rectangle((40, 60, 280, 120), outline=0, width=3)
    out = []
    for fmt, options in (("PNG", {}), ("TIFF", {"compression": "tiff_lzw"}), ("JPEG", {"quality": 80})):
        buf = io.BytesIO()
        page.save(buf, format=fmt, **options)
        out.append(buf.getvalue())
    return out


SEED_BYTES = [p.read_bytes() for p in SEEDS] + _small_scans()
EXAMPLES = int(os.environ.get("PIPELINE_FUZZ_EXAMPLES", "400"))
_NUMBER = re.compile(rb"\d+")


class Mutant:
    """The mutated bytes, shown by hash and size (a 40 KB repr helps nobody; a failing one is saved to a file)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Mutant(sha256={hashlib.sha256(self.data).hexdigest()[:16]}, {len(self.data)} bytes)"


@st.composite
def mutant(draw: st.DrawFn) -> Mutant:
    data = bytearray(draw(st.sampled_from(SEED_BYTES)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "number", "number", "splice", "cut"]))
        # Past the header and before the trailer, or nearly every mutant is refused on its first or last bytes.
        at = draw(st.integers(16, max(16, len(data) - 64)))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif op == "cut":  # cut off, but closed again as a careless tool would
            data[at:] = b"\n%%EOF\n"
        elif op == "number":  # the PDF's structure is in its numbers: counts, lengths, offsets, references
            numbers = list(_NUMBER.finditer(data))
            if not numbers:
                continue
            m = numbers[draw(st.integers(0, len(numbers) - 1))]
            new = draw(st.sampled_from([b"0", b"-1", b"1", b"999999999", b"4294967296", b"3.5e308"]))
            data[m.start() : m.end()] = new
        else:  # a piece of another valid file
            other = draw(st.sampled_from(SEED_BYTES))
            start = draw(st.integers(0, len(other) - 1))
            data[at:at] = other[start : start + draw(st.integers(1, 2048))]
        if len(data) < 128:
            break
    return Mutant(bytes(data))


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProcessRunner, Path]]:
    outbox = tmp_path_factory.mktemp("fuzz-outbox")
    forms = FIXTURES.parent / "forms"
    with ProcessRunner(2, forms, 1024, 60) as pool:
        yield pool, outbox


def _job(data: bytes, outbox: Path) -> Job:
    return Job(
        data,
        hashlib.sha256(data).hexdigest(),
        dt.datetime.now(dt.UTC),
        Provenance(channel="cli"),
        10,
        DEFAULT_THRESHOLDS,
        outbox,
        limits=Limits(),
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("PIPELINE_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated=mutant())
def test_mutated_fixtures_end_as_a_record_or_a_quarantine_reason(
    runner: tuple[ProcessRunner, Path], mutated: Mutant
) -> None:
    pool, outbox = runner
    job = _job(mutated.data, outbox)
    try:
        results = pool.result(pool.submit(job), job)
    except InternalError as exc:  # the catch-all: a library error no reader translated
        kept = outbox.parent / f"fuzz-{job.sha256[:16]}.bin"
        kept.write_bytes(mutated.data)
        raise AssertionError(f"untranslated error: {exc.reason} (the input is in {kept})") from exc
    except DocumentError as exc:
        assert exc.reason and exc.action and exc.code != "document_error"
        return
    assert results and all(r.record.case_id and r.record.form_id for r in results)


def test_the_fuzz_seeds_themselves_are_read(runner: tuple[ProcessRunner, Path]) -> None:
    """The PDF seeds are read as forms (a mutant that still reads is a real case); the small scans are decoded and
    found to be no form of ours."""
    pool, outbox = runner
    for data in SEED_BYTES[: len(SEEDS)]:
        job = _job(data, outbox)
        assert pool.result(pool.submit(job), job)
    for data in SEED_BYTES[len(SEEDS) :]:
        job = _job(data, outbox)
        with pytest.raises(UnknownFormError):
            pool.result(pool.submit(job), job)
