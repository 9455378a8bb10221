"""The audit log through the CLI, as staff use it: who read, changed and approved which case, and when."""

from __future__ import annotations

import datetime as dt
import json
import stat

from pipeline import audit
from pipeline.config import Settings
from tests.conftest import FIXTURES
from tests.test_pipeline import process, run_cli


def _lines(settings: Settings) -> list[dict[str, str]]:
    text = audit.path(settings.state_dir).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_reads_changes_and_approvals_are_recorded_with_who_and_when(env: dict[str, str], settings: Settings) -> None:
    start = dt.datetime.now(dt.UTC)
    review_case = FIXTURES / "fk7429" / "notice-06-bad-check-digit-need-appearances.pdf"
    recorded = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
    out = process(env, review_case, recorded)
    [case_id] = out[review_case.name]["cases"]
    [other] = out[recorded.name]["cases"]
    assert not audit.path(settings.state_dir).exists(), "reading the inbox is the pipeline's work, not a person's"

    staff = env | {"PIPELINE_USER": "handlaggare.bo"}
    assert run_cli(staff, "cases", "show", other).returncode == 0
    assert run_cli(staff, "review", "list").returncode == 0
    assert run_cli(staff, "--user", "handlaggare.anna", "review", "show", case_id).returncode == 0
    first = audit.path(settings.state_dir).read_bytes()
    refused = run_cli(staff, "review", "set", case_id, "patient_personnummer", "19850312-2394", "--by", "anna")
    assert refused.returncode == 2, "a refused change is not an act on the case"
    done = run_cli(staff, "review", "set", case_id, "patient_personnummer", "198503122395", "--by", "anna")
    assert done.returncode == 0, done.stderr
    assert run_cli(staff, "--user", "anna", "review", "approve", case_id).returncode == 0
    assert run_cli(env | {"PIPELINE_USER": ""}, "cases", "show", case_id).returncode == 0

    lines = _lines(settings)
    acts = [(e["action"], e["command"], e["case_id"], e["who"]) for e in lines]
    me = audit.os_user()
    assert acts == [
        ("read", "cases show", other, "handlaggare.bo"),
        ("read", "review list", None, "handlaggare.bo"),
        ("read", "review show", case_id, "handlaggare.anna"),
        ("changed", "review set", case_id, "anna"),
        ("approved", "review approve", case_id, "anna"),
        ("read", "cases show", case_id, me),
    ]
    assert all(e["os_user"] == me for e in lines), "the OS account is kept beside any name given"
    assert lines[3]["detail"] == "patient_personnummer" and lines[4]["detail"]
    assert all(start <= dt.datetime.fromisoformat(e["at"]) <= dt.datetime.now(dt.UTC) for e in lines)

    # Append-only, private, and no value of the case in it.
    text = audit.path(settings.state_dir).read_bytes()
    assert text.startswith(first)
    assert stat.S_IMODE(audit.path(settings.state_dir).stat().st_mode) == 0o600
    assert b"198503122395" not in text and b"19850312-2395" not in text and b"2394" not in text

    # The operational log is another thing: it names no member of staff.
    shown = run_cli(staff, "--user", "handlaggare.anna", "cases", "show", case_id)
    assert "handlaggare" not in shown.stderr


def test_an_unknown_case_is_not_recorded_as_read(env: dict[str, str], settings: Settings) -> None:
    missing = run_cli(env, "cases", "show", "RK-000000000000")
    assert missing.returncode == 2
    assert not audit.path(settings.state_dir).exists()


def test_entries_are_read_back_as_models(settings: Settings) -> None:
    audit.record(settings.state_dir, "exported", "letters batch", case_id="RK-AAAAAAAAAAAA", by="mailroom")
    audit.record(settings.state_dir, "removed", "retention", detail="archive/ab/ab.pdf")
    got = list(audit.entries(settings.state_dir))
    assert [(e.action, e.who) for e in got] == [("exported", "mailroom"), ("removed", audit.who())]


def test_a_print_batch_is_recorded_as_an_export(env: dict[str, str], settings: Settings) -> None:
    notice = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"
    assert process(env, notice)[notice.name]["outcome"] == "recorded"
    done = run_cli(env, "--user", "posten.eva", "letters", "batch", "--json")
    assert done.returncode == 0, done.stderr
    [batch] = json.loads(done.stdout)
    [entry] = list(audit.entries(settings.state_dir))
    assert (entry.action, entry.command, entry.who) == ("exported", "letters batch", "posten.eva")
    assert entry.detail == f"{batch['batch_id']}: 1 letters"
