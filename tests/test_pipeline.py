"""End to end through the CLI, as a user runs it: real worker processes, real SQLite, real PDFs."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pypdf
from faker import Faker
from reportlab.pdfgen.canvas import Canvas

from fixtures.generate import fake_application, fake_notice, fill_acroform
from pipeline.config import Settings
from pipeline.formspec import FormSpec
from pipeline.schema import SCHEMA_PATH, case_record_schema
from tests.conftest import FIXTURES, ROOT


def run_cli(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def process(env: dict[str, str], *paths: Path) -> dict[str, dict[str, Any]]:
    done = run_cli(env, "process", "--json", *paths)
    assert done.returncode in (0, 1), done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(paths)
    return {r["input"]: r | {"stderr": done.stderr} for r in results}


def _write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


def _plain_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def _encrypted(data: bytes, user: str, owner: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user, owner_password=owner, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_filled_7429s_and_bad_input_each_get_an_outcome_and_a_place(
    tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    good = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
    flattened = FIXTURES / "fk7429" / "notice-09-flattened.pdf"
    no_consent = FIXTURES / "fk7429" / "notice-02-no-consent-appearance.pdf"
    bad_digit = FIXTURES / "fk7429" / "notice-06-bad-check-digit-need-appearances.pdf"
    drop = tmp_path / "drop"
    not_pdf = _write(drop, "scan.pdf", b"<html><body>not a pdf</body></html>")
    truncated = _write(drop, "truncated.pdf", good.read_bytes()[: len(good.read_bytes()) // 2])
    locked = _write(drop, "locked.pdf", _encrypted(good.read_bytes(), "hemligt", "owner"))
    owner_only = _write(drop, "owner-only.pdf", _encrypted(flattened.read_bytes(), "", "owner"))
    unknown = _write(drop, "invoice.pdf", _plain_pdf("Faktura 2026-113 att betala 1 200 kr"))
    inputs = [good, flattened, no_consent, bad_digit, not_pdf, truncated, locked, owner_only, unknown]

    out = process(env, *inputs)

    assert out[good.name]["outcome"] == "recorded"
    assert out[flattened.name]["outcome"] == "recorded"
    assert out[owner_only.name]["outcome"] == "recorded", "an owner password alone does not stop reading"
    assert out[no_consent.name]["outcome"] == "review" and "Samtycke saknas" in out[no_consent.name]["reason"]
    assert out[bad_digit.name]["outcome"] == "review" and "kontrollsiffra" in out[bad_digit.name]["reason"]
    expected_reasons = {
        not_pdf: "a web page (HTML), not a PDF",
        truncated: "cut off",
        locked: "password",
        unknown: "not one of the forms",
    }
    for path, words in expected_reasons.items():
        result = out[path.name]
        assert result["outcome"] == "quarantined" and words in result["reason"], result
        [kept] = settings.quarantine.glob(f"*-{path.name}")
        assert kept.read_bytes() == path.read_bytes()
        report = json.loads(kept.with_name(kept.name + ".error.json").read_text(encoding="utf-8"))
        assert words in report["reason"] and report["action"] and report["step"]
        assert path.exists(), "process never removes the caller's file"

    # One letter, to the patient, for each recorded notice; none for review or quarantine.
    for path in (good, flattened, owner_only):
        [letter] = out[path.name]["letters"]
        assert letter.endswith("-information-7429.pdf") and (settings.outbox / letter).is_file()
    letters = list(settings.letters_dir.rglob("*.pdf"))
    assert len(letters) == 3

    # Records validate against the published schema; review cases stay out of the outbox.
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for path in (good, flattened):
        [case_id] = out[path.name]["cases"]
        record = json.loads((settings.cases_dir / f"{case_id}.json").read_text(encoding="utf-8"))
        jsonschema.validate(record, schema)
        assert record["fields"]["patient_personnummer"]["source"] == ("text" if path == flattened else "acroform")
    [review_id] = out[no_consent.name]["cases"]
    assert not (settings.cases_dir / f"{review_id}.json").exists()
    minimised = json.loads((settings.review_dir / f"{review_id}.json").read_text(encoding="utf-8"))
    jsonschema.validate(minimised, schema)
    assert minimised["data_minimised"] is True and "patient_personnummer" not in minimised["fields"]
    assert minimised["fields"]["region"]["value"]

    # Personal data on disk is private: files 0600, folders 0700.
    for path in [*settings.state_dir.rglob("*"), *settings.outbox.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))

    # No personnummer and no input file name in the logs.
    logs = out[good.name]["stderr"]
    record = json.loads((settings.cases_dir / f"{out[good.name]['cases'][0]}.json").read_text(encoding="utf-8"))
    pnr = record["fields"]["patient_personnummer"]["value"]
    assert pnr not in logs and pnr.replace("-", "")[2:] not in logs
    for path in inputs:
        assert path.name not in logs


def test_the_same_bytes_twice_make_one_case_and_one_letter(env: dict[str, str], settings: Settings) -> None:
    good = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"
    first = process(env, good)[good.name]
    again = process(env, good, good)
    assert first["outcome"] == "recorded"
    assert again[good.name]["outcome"] == "duplicate" and again[good.name]["cases"] == first["cases"]
    assert len(list(settings.letters_dir.rglob("*.pdf"))) == 1
    assert len(list(settings.cases_dir.glob("*.json"))) == 1
    status = json.loads(run_cli(env, "status", "--json").stdout)
    assert status["documents"] == {"recorded": 1} and status["letters"]["written"] == 1


def test_a_7429_for_a_person_with_a_case_is_linked_to_it(
    tmp_path: Path, env: dict[str, str], settings: Settings, specs: dict[str, FormSpec]
) -> None:
    faker = Faker("sv_SE")
    faker.seed_instance(2026)
    application, notice = fake_application(faker), fake_notice(faker)
    notice["patient_personnummer"] = application["personnummer"]
    a = _write(
        tmp_path,
        "a.pdf",
        fill_acroform(
            specs["ansokan-samordning"].blank_path.read_bytes(), specs["ansokan-samordning"], application, "appearance"
        ),
    )
    n = _write(
        tmp_path,
        "n.pdf",
        fill_acroform(specs["fk7429"].blank_path.read_bytes(), specs["fk7429"], notice, "need_appearances"),
    )
    [application_case] = process(env, a)["a.pdf"]["cases"]
    [notice_case] = process(env, n)["n.pdf"]["cases"]
    shown = json.loads(run_cli(env, "cases", "show", notice_case).stdout)
    assert shown["linked_case_ids"] == [application_case]
    assert any(h["event"] == "linked" for h in shown["history"])
    listed = json.loads(run_cli(env, "cases", "list", "--json").stdout)
    assert {c["case_id"] for c in listed} == {application_case, notice_case}


def test_a_digital_application_without_signature_asks_for_completion(env: dict[str, str], settings: Settings) -> None:
    path = FIXTURES / "ansokan-samordning" / "application-01-complete.pdf"
    result = process(env, path)[path.name]
    assert result["outcome"] == "recorded"
    [letter] = result["letters"]
    assert letter.endswith("-komplettering.pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(settings.outbox / letter).pages)
    assert "Underskrift saknas" in text


def test_outputs_may_not_lie_inside_the_inbox(tmp_path: Path) -> None:
    env = os.environ | {"PIPELINE_INBOX": str(tmp_path / "in"), "PIPELINE_OUTBOX": str(tmp_path / "in" / "out")}
    done = run_cli(env, "status")
    assert done.returncode == 2 and "may not lie inside the inbox" in done.stderr


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == case_record_schema(), "run `pipeline schema`"


def test_letters_land_in_dated_folders_named_by_case_and_kind(env: dict[str, str], settings: Settings) -> None:
    path = FIXTURES / "fk7429" / "notice-07-not-sick-listed-need-appearances.pdf"
    result = process(env, path)[path.name]
    [case_id] = result["cases"]
    [letter] = result["letters"]
    parts = Path(letter).parts
    assert parts[0] == "letters" and len(parts[1]) == 10 and parts[2] == f"{case_id}-information-7429.pdf"
    record = json.loads((settings.cases_dir / f"{case_id}.json").read_text(encoding="utf-8"))
    assert record["letters"][0]["recipient"] == "patient" and record["letters"][0]["path"] == letter
