"""Staff review through the CLI: see, correct, approve; the flow resumes without reading the document again."""

from __future__ import annotations

import json
from pathlib import Path

import pypdf

from pipeline.config import Settings
from tests.conftest import FIXTURES
from tests.test_pipeline import process, run_cli


def test_correct_and_approve_a_personnummer_with_a_wrong_check_digit(env: dict[str, str], settings: Settings) -> None:
    path = FIXTURES / "fk7429" / "notice-06-bad-check-digit-need-appearances.pdf"
    [case_id] = process(env, path)[path.name]["cases"]
    listed = json.loads(run_cli(env, "review", "list", "--json").stdout)
    assert [c["case_id"] for c in listed] == [case_id] and listed[0]["doubtful_fields"] == 1

    shown = json.loads(run_cli(env, "review", "show", case_id, "--json").stdout)
    [field] = shown["fields"]
    assert field["name"] == "patient_personnummer" and "kontrollsiffra" in field["problem"]

    refused = run_cli(env, "review", "set", case_id, "patient_personnummer", "19850312-2394")
    assert refused.returncode == 2 and "kontrollsiffra" in refused.stderr
    done = run_cli(env, "review", "set", case_id, "patient_personnummer", "198503122395", "--by", "handlaggare.anna")
    assert done.returncode == 0, done.stderr
    approved = run_cli(env, "review", "approve", case_id, "--by", "handlaggare.anna")
    assert approved.returncode == 0, approved.stderr

    record = json.loads((settings.cases_dir / f"{case_id}.json").read_text(encoding="utf-8"))
    assert not (settings.review_dir / f"{case_id}.json").exists()
    assert record["status"] == "recorded" and record["assessment"]["outcome"] == "complete"
    assert record["fields"]["patient_personnummer"] == {
        "value": "19850312-2395",
        "source": "review",
        "confidence": 1.0,
        "accepted": True,
        "problem": None,
        "crop": None,
    }
    events = [(h["event"], h["by"]) for h in record["history"]]
    assert ("corrected", "handlaggare.anna") in events and ("approved", "handlaggare.anna") in events
    [letter] = record["letters"]
    assert letter["recipient"] == "patient" and (settings.outbox / letter["path"]).is_file()
    text = pypdf.PdfReader(settings.outbox / letter["path"]).pages[0].extract_text()
    assert case_id in text
    assert json.loads(run_cli(env, "review", "list", "--json").stdout) == []
    again = run_cli(env, "review", "approve", case_id)
    assert again.returncode == 2 and "not waiting for review" in again.stderr


def test_a_notice_without_consent_cannot_be_approved_into_an_ordinary_case(env: dict[str, str]) -> None:
    path = FIXTURES / "fk7429" / "notice-08-no-consent-need-appearances.pdf"
    [case_id] = process(env, path)[path.name]["cases"]
    refused = run_cli(env, "review", "approve", case_id)
    assert refused.returncode == 2 and "without consent" in refused.stderr


def test_review_commands_name_an_unknown_case(env: dict[str, str], tmp_path: Path) -> None:
    done = run_cli(env, "review", "show", "RK-000000000000")
    assert done.returncode == 2 and "No case RK-000000000000" in done.stderr
