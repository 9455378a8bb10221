"""``pipeline retention [--dry-run]`` over a real state folder and outbox, with file ages set by their mtimes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline import audit
from pipeline.config import Settings
from tests.conftest import FIXTURES
from tests.test_pipeline import process, run_cli

DAY = 86_400


def _age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_retention_removes_what_is_older_than_its_period_and_records_each_removal(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    old_notice = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
    new_notice = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"
    in_review = FIXTURES / "scans" / "ansokan-samordning" / "application-interpreter-poor.pdf"
    named = drop / "Anna Svensson 19811218-9876.pdf"
    named.write_bytes(b"<html>not a form</html>")
    out = process(env, old_notice, new_notice, in_review, named)
    assert out[in_review.name]["outcome"] == "review", "the poor scan is expected to need review (pick another)"
    assert out[named.name]["outcome"] == "quarantined"
    [old_case] = out[old_notice.name]["cases"]
    [new_case] = out[new_notice.name]["cases"]
    [review_case] = out[in_review.name]["cases"]
    review_crops = list((settings.review_dir / review_case).glob("*.png"))
    assert review_crops
    # Crops of a case that has left review (as after approval) may go once their period is over.
    done_crop = settings.review_dir / old_case / "patient_personnummer.png"
    done_crop.parent.mkdir(mode=0o700)
    done_crop.write_bytes(review_crops[0].read_bytes())
    # A symlink planted in the archive, pointing outside: never followed, never removed.
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"not the pipeline's")
    (settings.archive / "planted.pdf").symlink_to(outside)
    # A refused symlink kept in quarantine (as the intake keeps one): the link goes, never what it points at.
    refused = settings.quarantine / "0123456789ab-0-link.pdf"
    refused.symlink_to(outside)
    (settings.quarantine / "0123456789ab-0-link.pdf.error.json").write_text("{}", encoding="utf-8")

    originals = {p for p in _files(settings.archive) if not p.is_symlink()}
    [old_letter] = [settings.outbox / p for p in out[old_notice.name]["letters"]]
    [new_letter] = [settings.outbox / p for p in out[new_notice.name]["letters"]]
    old_record = settings.cases_dir / f"{old_case}.json"
    [quarantined] = [
        p for p in settings.quarantine.iterdir() if not p.name.endswith(".error.json") and not p.is_symlink()
    ]
    _age(settings.quarantine / "0123456789ab-0-link.pdf.error.json", 400)
    _age(quarantined.with_name(quarantined.name + ".error.json"), 400)  # its age is its report's
    for path in [*originals, quarantined, *review_crops, done_crop, old_letter, old_record]:
        _age(path, 400)
    _age(outside, 400)
    os.utime(settings.archive / "planted.pdf", (time.time() - 400 * DAY,) * 2, follow_symlinks=False)
    new_original = min(originals, key=lambda p: p.stat().st_size)  # any one, made recent again
    _age(new_original, 10)

    before = _files(settings.state_dir) | _files(settings.outbox)
    dry = run_cli(env, "--user", "arkivarie", "retention", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert _files(settings.state_dir) | _files(settings.outbox) == before, "a dry run removes nothing"
    assert not audit.path(settings.state_dir).exists(), "and records nothing"
    listed = dry.stdout.splitlines()
    assert all(line.startswith("would remove") for line in listed)

    # Records and letters are kept for ever unless their own period is set.
    done = run_cli(
        env | {"PIPELINE_RETENTION_RECORDS_DAYS": "365", "PIPELINE_RETENTION_LETTERS_DAYS": "365"},
        "--user",
        "arkivarie",
        "retention",
    )
    assert done.returncode == 0, done.stderr
    removed = [line.removeprefix("removed ").split()[:2] for line in done.stdout.splitlines()]
    kinds = sorted(kind for kind, _ in removed)
    assert kinds == sorted(
        ["original"] * (len(originals) - 1) + ["quarantined", "quarantined", "crop", "record", "letter"]
    ), done.stdout
    assert len(listed) == len(removed) - 2, "the dry run, with records and letters kept, listed the rest"

    for path in [*(originals - {new_original}), quarantined, done_crop, old_letter, old_record]:
        assert not path.exists(), path
    assert not quarantined.with_name(quarantined.name + ".error.json").exists()
    assert new_original.exists() and new_letter.exists() and (settings.cases_dir / f"{new_case}.json").exists()
    assert all(p.exists() for p in review_crops), "crops of a case still in review stay, however old"
    assert (settings.archive / "planted.pdf").is_symlink() and outside.read_bytes() == b"not the pipeline's"
    assert not os.path.lexists(refused) and not refused.with_name(refused.name + ".error.json").exists()
    assert not done_crop.parent.exists(), "a folder retention emptied goes too"

    # The removed record is gone from the register as well; the same bytes are still known and make nothing new.
    assert run_cli(env, "cases", "show", old_case).returncode == 2
    again = process(env, old_notice)[old_notice.name]
    assert again["outcome"] == "duplicate" and not again["letters"]

    entries = [e for e in audit.entries(settings.state_dir) if e.action == "removed"]
    assert len(entries) == len(removed)
    assert {e.who for e in entries} == {"arkivarie"} and {e.command for e in entries} == {"retention"}
    assert {e.case_id for e in entries} >= {old_case}
    text = audit.path(settings.state_dir).read_text(encoding="utf-8")
    assert "Anna" not in text and "Svensson" not in text and "9876" not in text, "no input name in the audit log"


def test_fresh_files_stay_and_a_period_of_zero_removes_at_once(env: dict[str, str], settings: Settings) -> None:
    notice = FIXTURES / "fk7429" / "notice-04-not-sick-listed-appearance.pdf"
    [case_id] = process(env, notice)[notice.name]["cases"]
    before = _files(settings.state_dir) | _files(settings.outbox)
    kept = run_cli(env, "retention")
    assert kept.returncode == 0 and "removed: nothing" in kept.stderr, kept.stderr
    assert _files(settings.state_dir) | _files(settings.outbox) == before
    done = run_cli(env | {"PIPELINE_RETENTION_RECORDS_DAYS": "0"}, "retention")
    assert done.returncode == 0 and "removed: record 1" in done.stderr, done.stderr
    after = _files(settings.state_dir) | _files(settings.outbox)
    assert before - after == {settings.cases_dir / f"{case_id}.json"}
