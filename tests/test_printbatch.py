"""Print batches, as the mailroom uses them: `pipeline letters batch` over real letters made by processing fixtures.

No letter is batched twice: not on a second run, not after a run killed between writing the batch and marking its
letters, not after runs killed at random moments."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pypdf
from faker import Faker

from pipeline import printbatch
from pipeline.config import Settings
from pipeline.formspec import FormSpec, load_forms
from pipeline.register import Register
from tests.conftest import FIXTURES, ROOT
from tests.test_pipeline import process, run_cli


def make_letters(env: dict[str, str], tmp_path: Path, specs: dict[str, FormSpec], count: int, seed: int) -> None:
    """Process ``count`` generated 7429s through the CLI: each is recorded with a letter to the patient."""
    from fixtures.generate import fake_notice, fill_acroform

    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    spec = specs["fk7429"]
    folder = tmp_path / f"notices-{seed}"
    folder.mkdir()
    paths = []
    for i in range(count):
        path = folder / f"n{i}.pdf"
        path.write_bytes(fill_acroform(spec.blank_path.read_bytes(), spec, fake_notice(faker), "appearance"))
        paths.append(path)
    results = process(env, *paths)
    assert {r["outcome"] for r in results.values()} == {"recorded"}


def letters_in_register(settings: Settings) -> dict[str, dict[str, Any]]:
    register = Register(settings.database)
    try:
        return {r["path"]: dict(r) for r in register.db.execute("SELECT * FROM letters")}
    finally:
        register.close()


def manifest_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def check_batch(settings: Settings, pdf: Path) -> list[dict[str, str]]:
    """The PDF opens, and each manifest row's page range holds exactly that letter (its case id on its pages)."""
    rows = manifest_rows(pdf.with_suffix(".csv"))
    reader = pypdf.PdfReader(pdf)
    last = 0
    for row in rows:
        first, end = (int(n) for n in row["pages"].split("-"))
        assert first == last + 1, "page ranges must follow each other without gaps"
        letter = pypdf.PdfReader(settings.outbox / row["letter_file"])
        assert end - first + 1 == len(letter.pages)
        for page in reader.pages[first - 1 : end]:
            assert row["case_id"] in page.extract_text()
        last = end
    assert last == len(reader.pages)
    return rows


def test_letters_are_merged_into_one_batch_with_a_private_manifest_and_never_batched_again(
    tmp_path: Path, env: dict[str, str], settings: Settings, specs: dict[str, FormSpec]
) -> None:
    applications = sorted((FIXTURES / "ansokan-samordning").glob("*.pdf"))
    process(env, *applications, FIXTURES / "fk7429" / "notice-01-appearance.pdf")
    waiting = letters_in_register(settings)
    assert len(waiting) == len(applications) + 1

    done = run_cli(env, "letters", "batch", "--json")
    assert done.returncode == 0, done.stderr
    [batch] = json.loads(done.stdout)
    assert batch["letters"] == len(waiting) and not batch["resumed"]
    pdf, manifest = Path(batch["pdf"]), Path(batch["manifest"])
    assert pdf.parent == settings.outbox / "batches"
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o600 and stat.S_IMODE(pdf.stat().st_mode) == 0o600
    rows = check_batch(settings, pdf)
    assert [r["letter_file"] for r in rows] == sorted(waiting, key=lambda p: (waiting[p]["created_at"], p))
    assert {r["letter_kind"] for r in rows} == {"komplettering", "mottagen", "information-7429"}
    register = Register(settings.database)
    for row in rows:  # the recipient as the letter is addressed: the person's own name from the record
        record = register.case(row["case_id"])
        assert record is not None
        names = specs[record.form_id].recipient.name
        assert row["recipient"] == " ".join(str(record.fields[n].value) for n in names)
    register.close()
    assert "Nguyễn" in manifest.read_text(encoding="utf-8")  # UTF-8, Unicode names intact
    assert all(r["batched_at"] for r in letters_in_register(settings).values())

    again = run_cli(env, "letters", "batch")
    assert again.returncode == 0 and "no letters waiting" in again.stdout
    assert sorted(p.name for p in pdf.parent.iterdir()) == [manifest.name, pdf.name]

    # New letters go into the next batch, and only they.
    make_letters(env, tmp_path, specs, 3, seed=5)
    second = json.loads(run_cli(env, "letters", "batch", "--json").stdout)
    [batch2] = second
    assert batch2["batch_id"] != batch["batch_id"] and batch2["letters"] == 3
    assert not {r["letter_file"] for r in check_batch(settings, Path(batch2["pdf"]))} & {r["letter_file"] for r in rows}


def test_date_picks_the_letters_written_that_day(
    tmp_path: Path, env: dict[str, str], specs: dict[str, FormSpec]
) -> None:
    make_letters(env, tmp_path, specs, 2, seed=6)
    today = dt.date.today()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    none = run_cli(env, "letters", "batch", "--date", yesterday)
    assert none.returncode == 0 and f"no letters waiting to be batched from {yesterday}" in none.stdout
    [batch] = json.loads(run_cli(env, "letters", "batch", "--date", today.isoformat(), "--json").stdout)
    assert batch["letters"] == 2
    bad = run_cli(env, "letters", "batch", "--date", "25/11")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_a_batch_interrupted_between_writing_and_marking_is_finished_not_made_again(
    tmp_path: Path, env: dict[str, str], settings: Settings, specs: dict[str, FormSpec]
) -> None:
    make_letters(env, tmp_path, specs, 4, seed=7)
    register = Register(settings.database)
    register.db.executescript(printbatch.SCHEMA)
    # A run that recorded its batch and wrote the files, then was killed before marking the letters.
    batch_id = printbatch.record(register, None)
    assert batch_id is not None
    written = printbatch.write(settings, register, load_forms(settings.forms_dir), batch_id)
    register.close()
    assert not any(r["batched_at"] for r in letters_in_register(settings).values())
    make_letters(env, tmp_path, specs, 2, seed=8)  # and meanwhile two more letters were written

    done = run_cli(env, "letters", "batch", "--json")
    assert done.returncode == 0, done.stderr
    resumed, fresh = json.loads(done.stdout)
    assert resumed["batch_id"] == batch_id and resumed["resumed"] and resumed["letters"] == 4
    assert Path(resumed["pdf"]) == written.pdf
    assert fresh["letters"] == 2 and not fresh["resumed"]
    first = {r["letter_file"] for r in check_batch(settings, written.pdf)}
    second = {r["letter_file"] for r in check_batch(settings, Path(fresh["pdf"]))}
    assert not first & second and first | second == set(letters_in_register(settings))
    assert all(r["batched_at"] for r in letters_in_register(settings).values())


def test_runs_killed_at_random_moments_never_batch_a_letter_twice(
    tmp_path: Path, env: dict[str, str], settings: Settings, specs: dict[str, FormSpec]
) -> None:
    rng = random.Random(4)
    make_letters(env, tmp_path, specs, 6, seed=9)
    for round_ in range(8):
        if round_ == 4:
            make_letters(env, tmp_path, specs, 3, seed=10)
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "letters", "batch"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 2.5))  # from mid-import to after a finished run
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = run_cli(env, "letters", "batch")
    assert final.returncode == 0, final.stderr

    letters = letters_in_register(settings)
    assert len(letters) == 9 and all(r["batched_at"] for r in letters.values())
    seen: list[str] = []
    for pdf in sorted((settings.outbox / "batches").glob("*.pdf")):
        seen += [r["letter_file"] for r in check_batch(settings, pdf)]
    assert sorted(seen) == sorted(letters), "every letter in exactly one batch"
    assert sorted(p.stem for p in (settings.outbox / "batches").glob("*.csv")) == sorted(
        p.stem for p in (settings.outbox / "batches").glob("*.pdf")
    )
    register = Register(settings.database)
    assert printbatch.open_batches(register) == []
    register.close()
