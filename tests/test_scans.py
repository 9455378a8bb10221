"""The scan path over the committed sample (fixtures/scans/): identify, align, read, validate, split batches.

The guarantee tested on every sample file: no field is accepted automatically with a wrong value. What the engine
cannot read with confidence goes to review with the crop of the field; recognition quality is measured by
`make bench`, not asserted here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
from pathlib import Path

import pytest
from faker import Faker
from PIL import Image

from bench.scans import measure, same, wilson
from fixtures.scans import expected_on_paper, fill_paper, make_application, scan_document, write_scan
from pipeline.conductor import read_document
from pipeline.config import Settings
from pipeline.formspec import FormSpec
from pipeline.models import Provenance
from pipeline.stages import DocumentResult, Job
from pipeline.validate import DEFAULT_THRESHOLDS
from tests.conftest import FIXTURES
from tests.test_pipeline import process, run_cli

SCANS = FIXTURES / "scans"
SAMPLE = sorted(
    p for p in SCANS.glob("*/*") if p.suffix in {".pdf", ".tif", ".png", ".jpg"} and p.parent.name != "batch"
)


def _read(path: Path, specs: dict[str, FormSpec], out: Path) -> list:  # type: ignore[type-arg]
    data = path.read_bytes()
    job = Job(
        data, hashlib.sha256(data).hexdigest(), dt.datetime.now(dt.UTC), Provenance(), 50, DEFAULT_THRESHOLDS, out
    )
    return read_document(job, specs)


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: p.stem)
def test_no_field_is_accepted_with_a_wrong_value(path: Path, specs: dict[str, FormSpec], tmp_path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    [result] = _read(path, specs, tmp_path)
    record = result.record
    assert record.form_id == expected["form_id"]
    assert record.pages == list(range(1, len(record.pages) + 1))
    wrong = {
        name: (v.value, expected["fields"][name])
        for name, v in record.fields.items()
        if v.accepted and not same(v.value, expected["fields"][name])
    }
    assert wrong == {}
    # Whatever is not accepted carries the crop of what the machine saw: a whole PNG, greyscale, with writing in it.
    for name, v in record.fields.items():
        if not v.accepted and v.source.value == "ocr":
            with Image.open(io.BytesIO(result.crops[name])) as crop:
                assert crop.format == "PNG" and crop.mode == "L", name
                assert crop.getextrema()[0] < 100, name  # some ink (the box's border at least)


def test_upside_down_and_sideways_pages_read_as_well_as_upright(specs: dict[str, FormSpec], tmp_path: Path) -> None:
    turned = [p for p in SAMPLE if "upside-down" in p.stem or "sideways" in p.stem]
    assert len(turned) == 4
    for path in turned:
        [result] = _read(path, specs, tmp_path)
        ticks = {n: v for n, v in result.record.fields.items() if isinstance(v.value, bool)}
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))["fields"]
        assert all(v.accepted and v.value == expected[n] for n, v in ticks.items()), path.stem
        assert result.record.fields["underskrift"].value is expected["underskrift"]


def test_a_batch_is_split_by_its_qr_codes_and_every_page_accounted_for(env: dict[str, str], settings: Settings) -> None:
    path = SCANS / "batch" / "batch-3-applications.pdf"
    truth = json.loads((SCANS / "batch" / "batch-3-applications.manifest.json").read_text(encoding="utf-8"))
    result = process(env, path)[path.name]
    assert len(result["cases"]) == 3
    assert result["outcome"] == "review" and "belong to no form" in result["reason"]  # the cover slip
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = json.loads((settings.archive / sha[:2] / f"{sha}.manifest.json").read_text(encoding="utf-8"))
    assert [m["page"] for m in manifest] == list(range(1, truth["page_count"] + 1))
    roles = {"form": "form", "attachment": "attachment", "before_first_form": "unassigned"}
    for mine, theirs in zip(manifest, truth["pages"], strict=True):
        assert mine["role"] == roles[theirs["kind"]], mine
        if theirs["kind"] != "before_first_form":
            assert mine["document"] == theirs["application"], mine
    for n, case_id in enumerate(result["cases"], start=1):
        record = json.loads(run_cli(env, "cases", "show", case_id).stdout)
        attached = [p["page"] for p in truth["pages"] if p["kind"] == "attachment" and p["application"] == n]
        assert record["attachment_pages"] == attached


def test_a_scan_needing_review_keeps_crops_for_staff(env: dict[str, str], settings: Settings) -> None:
    path = SCANS / "ansokan-samordning" / "application-interpreter-poor.pdf"
    result = process(env, path)[path.name]
    if result["outcome"] != "review":
        pytest.fail("the poor scan was expected to need review; if it no longer does, pick another sample")
    [case_id] = result["cases"]
    shown = json.loads(run_cli(env, "review", "show", case_id, "--json").stdout)
    assert shown["fields"]
    for field in shown["fields"]:
        if field["source"] == "ocr":
            assert Path(field["crop"]).read_bytes().startswith(b"\x89PNG")


def test_a_page_that_cannot_be_aligned_sends_the_case_to_review_with_that_reason(
    specs: dict[str, FormSpec], tmp_path: Path
) -> None:
    from pipeline import stages
    from pipeline.scan.batch import PageId, Split

    spec = specs["ansokan-samordning"]
    located = [stages.Located(PageId(1, spec.id, 1))]  # QR read, corner marks not found; page 2 never scanned
    reading = stages.read_scan(Split(spec.id, pages={1: 1}), located, spec)
    data = b"%PDF-1.7 stand-in"
    job = Job(
        data, hashlib.sha256(data).hexdigest(), dt.datetime.now(dt.UTC), Provenance(), 50, DEFAULT_THRESHOLDS, tmp_path
    )
    result = stages.conclude(job, spec, 1, [1], reading.values, [], reading.crops, reading.problems)
    assert result.record.status.value == "review" and result.letters == []
    reasons = result.record.assessment.reasons if result.record.assessment else []
    assert any("Sida 1" in r and "Skanna om" in r for r in reasons)
    assert any("Sida 2" in r and "saknas" in r for r in reasons)
    assert not any(v.accepted for v in result.record.fields.values() if v.value not in (None, False))


def _concluded(specs: dict[str, FormSpec], tmp_path: Path, doubtful: str) -> DocumentResult:
    """A complete application as read, every field sure except ``doubtful`` (a crop stands in for each field)."""
    from pipeline import stages
    from pipeline.models import RawField, Source

    spec = specs["ansokan-samordning"]
    sample = SCANS / "ansokan-samordning" / "application-complete-good.expected.json"
    expected = json.loads(sample.read_text(encoding="utf-8"))["fields"]
    raw = {
        name: RawField(value=value, source=Source.OCR, confidence=0.3 if name == doubtful else 1.0)
        for name, value in expected.items()
    }
    crops = {name: (lambda: b"\x89PNG stand-in") for name in expected}
    data = b"%PDF-1.7 stand-in"
    job = Job(
        data, hashlib.sha256(data).hexdigest(), dt.datetime.now(dt.UTC), Provenance(), 50, DEFAULT_THRESHOLDS, tmp_path
    )
    return stages.conclude(job, spec, 1, [1, 2], raw, [], crops)


@pytest.mark.parametrize(("doubtful", "went_on"), [("epost", True), ("behov_beskrivning", True), ("postort", False)])
def test_a_doubt_holds_the_case_only_in_a_field_that_holds_it(
    specs: dict[str, FormSpec], tmp_path: Path, doubtful: str, went_on: bool
) -> None:
    """An optional value no rule or letter uses (the e-mail, the description: ``holds_case = false`` in the form's
    definition) read with doubt is left unconfirmed, with its crop, and the case goes on to its letter; a doubt in
    any other field (a place: the letter's address) holds the whole case for review."""
    result = _concluded(specs, tmp_path, doubtful)
    field = result.record.fields[doubtful]
    assert not field.accepted and field.problem and doubtful in result.crops
    assert all(v.accepted for name, v in result.record.fields.items() if name != doubtful)
    [problem] = [p for p in result.record.problems if p.field == doubtful]
    if went_on:
        assert result.record.status.value == "recorded" and result.letters
        assert problem.severity.value == "unconfirmed"
    else:
        assert result.record.status.value == "review" and not result.letters
        assert problem.severity.value == "doubtful"


def test_staff_check_a_field_left_unconfirmed_without_a_second_letter(
    specs: dict[str, FormSpec], settings: Settings, tmp_path: Path
) -> None:
    """A case that went on with its e-mail unconfirmed is listed for checking, shown with the crop, and its e-mail
    corrected; its other fields cannot be changed this way, and it cannot be approved (its letter is sent)."""
    from pipeline import outputs, review
    from pipeline.register import Register
    from pipeline.review import ReviewError

    result = _concluded(specs, settings.outbox, "epost")
    register = Register(settings.database)
    outputs.write_crops(settings, result)
    outputs.write_record(settings, result.record)
    with register.transaction():
        register.save_case(result.record, None)
    case_id = result.record.case_id
    letters = sorted(settings.outbox.rglob("*.pdf"))
    assert letters

    record = review.open_case(register, case_id, unconfirmed=True)
    [shown] = review.doubtful(record, specs["ansokan-samordning"], settings)
    assert shown.name == "epost" and Path(str(shown.crop)).read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ReviewError, match="not waiting for review"):
        review.approve(register, specs, settings, case_id, "handlaggare.anna")
    with pytest.raises(ReviewError, match="only its unconfirmed fields"):
        review.set_value(register, specs, settings, case_id, "postort", "UPPSALA", "handlaggare.anna")
    value = review.set_value(
        register, specs, settings, case_id, "epost", "lukasz.kowalski@example.com", "handlaggare.anna"
    )
    assert value.accepted and value.source.value == "review"
    saved = json.loads((settings.cases_dir / f"{case_id}.json").read_text(encoding="utf-8"))
    assert saved["status"] == "recorded" and saved["fields"]["epost"]["accepted"]
    assert not any(p["field"] == "epost" for p in saved["problems"])
    assert ("corrected", "handlaggare.anna") in [(h["event"], h["by"]) for h in saved["history"]]
    assert sorted(settings.outbox.rglob("*.pdf")) == letters  # no second letter
    with pytest.raises(ReviewError, match="not waiting for review"):  # nothing is left to check
        review.open_case(register, case_id, unconfirmed=True)


def test_the_bench_counts_a_case_whose_paper_lacks_the_address_as_a_persons_however_well_read(
    specs: dict[str, FormSpec], tmp_path: Path
) -> None:
    """The bench's no-review share beside what a reader that read every field right would reach: a scan whose
    applicant left the street empty goes to a person (no letter can reach them), read well or not."""
    spec = specs["ansokan-samordning"]
    faker = Faker("sv_SE")
    faker.seed_instance(7)
    rng = random.Random(7)
    scans = []
    for i, street in enumerate((True, False)):
        values = make_application(faker, rng, "complete")
        if not street:
            values["adress"] = None
        path = tmp_path / f"scan-{i}.tif"
        write_scan(scan_document(fill_paper(spec, values, rng), "good", rng), path)
        scans.append((path, expected_on_paper(spec, values)))
    tally = measure(scans, specs, tmp_path / "out")
    assert tally.cases == 2 and tally.clean_on_paper == 1


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [(36, 40, 0.7695, 0.9604), (30, 40, 0.5981, 0.8581), (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0)],
)
def test_the_bench_gives_the_no_review_share_its_wilson_interval(hits: int, n: int, low: float, high: float) -> None:
    """Of 40 cases a level, one is 2.5 points of the share: the bench prints how far the share could lie from the
    sample's (Wilson's interval, which stays within 0 and 1 where the sample's share is at either end)."""
    got = wilson(hits, n)
    assert got == pytest.approx((low, high), abs=1e-4)
