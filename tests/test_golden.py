"""Golden trios: each fixture PDF, its form definition, and the expected values next to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from fixtures.generate import generate
from pipeline.conductor import read_document
from pipeline.formspec import FormSpec
from pipeline.models import Provenance
from pipeline.stages import Job
from pipeline.validate import DEFAULT_THRESHOLDS
from tests.conftest import FIXTURES

GOLDEN = sorted(FIXTURES.glob("*/*.pdf"))


def _job(path: Path, outbox: Path) -> Job:
    data = path.read_bytes()
    received = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
    return Job(
        data, hashlib.sha256(data).hexdigest(), received, Provenance(channel="cli"), 50, DEFAULT_THRESHOLDS, outbox
    )


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_fixture_reads_exactly_as_expected(path: Path, specs: dict[str, FormSpec], tmp_path: Path) -> None:
    expected = json.loads(path.with_suffix("").with_suffix(".expected.json").read_text(encoding="utf-8"))
    [result] = read_document(_job(path, tmp_path), specs)
    record = result.record
    assert record.form_id == expected["form_id"]
    spec = specs[record.form_id]
    want_source = "text" if expected["variant"] == "flattened" else "acroform"
    if record.data_minimised:
        assert expected["fields"]["samtycke"] is False
        personal = {f.name for f in spec.fields if f.personal}
        assert personal and not personal & set(record.fields)
    for name, value in expected["fields"].items():
        if name not in record.fields:
            continue
        got = record.fields[name]
        assert got.value == value, name
        if value not in (None, False):
            assert got.source.value == want_source, name
    assert record.status.value == expected["outcome"]


def test_fixtures_include_names_that_need_the_unicode_font() -> None:
    text = " ".join(p.read_text(encoding="utf-8") for p in FIXTURES.glob("*/*.expected.json"))
    for name in ("Ødegård", "Nguyễn", "Łukasz"):
        assert name in text
    variants = {json.loads(p.read_text(encoding="utf-8"))["variant"] for p in FIXTURES.glob("*/*.expected.json")}
    assert variants == {"appearance", "need_appearances", "flattened"}


def test_fixture_generator_is_seeded_and_reproduces_the_committed_files(tmp_path: Path) -> None:
    made = generate(tmp_path)
    assert len(made) == len(GOLDEN)
    for path in made:
        committed = FIXTURES / path.parent.name / path.name
        assert path.read_bytes() == committed.read_bytes(), path.name
        expected = path.with_suffix("").with_suffix(".expected.json")
        assert expected.read_text(encoding="utf-8") == (committed.parent / expected.name).read_text(encoding="utf-8")
