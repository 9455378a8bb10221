"""The service is killed with SIGKILL at random moments, 20 times, while it works through 200 mixed documents, and
started again each time. At the end every input is accounted for exactly once, and no record or letter is duplicated
or partial.

The documents: generated filled 7429s (fixtures/generate.py) and digital applications, scanned applications from
fixtures/scans/ (one of them a batch of three), bad files of several kinds, and exact copies of a few 7429s. They are
dropped into the inbox in ten waves, so kills land while files are claimed, read, recorded and moved. Most kills are
timed by progress: they strike once a random share of the waiting inputs is done, or just after the register records
a document; some strike at a random moment after start (while it starts, or finishes what the previous life left in
its work folder). Seeded throughout.
"""

from __future__ import annotations

import collections
import errno
import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pypdf
import pytest
from faker import Faker
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from fixtures.generate import expected_outcome, fake_application, fake_notice, fill_acroform
from pipeline import fsutil, outputs
from pipeline.config import Settings
from pipeline.formspec import FormSpec
from pipeline.fsutil import PARTIAL_WRITE
from pipeline.register import Register
from pipeline.schema import SCHEMA_PATH
from pipeline.service import open_intake
from pipeline.stages import Input, case_id
from pipeline.watch import unfinished
from tests.conftest import FIXTURES, ROOT
from tests.test_watch import wait_for

KILLS = 20
WAVES = 10
SCANS = FIXTURES / "scans"


@dataclass
class Given:
    name: str
    data: bytes
    kind: str  # notice, application, scan, batch, bad, copy
    outcome: set[str]  # what the register may say of it

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _encrypted(data: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password="hemligt", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _letterhead(text: str) -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(72, 720, text)
    canvas.save()
    return out.getvalue()


def _blank_png(rng: random.Random) -> bytes:
    out = io.BytesIO()
    Image.new("L", (850, 1100), rng.randint(230, 255)).save(out, "PNG")
    return out.getvalue()


def make_inputs(specs: dict[str, FormSpec], rng: random.Random) -> list[Given]:
    faker = Faker("sv_SE")
    faker.seed_instance(4242)
    notice, application = specs["fk7429"], specs["ansokan-samordning"]
    given: list[Given] = []
    for i in range(160):
        values = fake_notice(faker)
        mode = "flattened" if i % 16 == 0 else ("appearance", "need_appearances")[i % 2]
        pdf = fill_acroform(notice.blank_path.read_bytes(), notice, values, mode)
        given.append(Given(f"7429-{i:03d}.pdf", pdf, "notice", {expected_outcome(notice, values)}))
    for i in range(10):
        pdf = fill_acroform(application.blank_path.read_bytes(), application, fake_application(faker), "appearance")
        given.append(Given(f"ansokan-{i:02d}.pdf", pdf, "application", {"recorded"}))  # unsigned: komplettering
    scans = sorted(p for p in (SCANS / "ansokan-samordning").glob("application-*") if p.suffix in (".pdf", ".tif"))
    for path in rng.sample(scans, 11):
        given.append(Given(f"skanning-{path.name}", path.read_bytes(), "scan", {"recorded", "review"}))
    batch = SCANS / "batch" / "batch-3-applications.pdf"
    given.append(Given("skanning-batch.pdf", batch.read_bytes(), "batch", {"review"}))  # a slip before the first form
    sample = given[1].data
    bad = [
        b"",
        b"<html><body>not a pdf</body></html>",
        b"<html><body>still not a pdf</body></html>",
        b"MZ\x90\x00 an executable named like a pdf",
        sample[: len(sample) // 2],
        given[2].data[: len(given[2].data) // 3],
        given[3].data[:-40],
        _encrypted(given[4].data),
        _encrypted(given[5].data),
        _letterhead("Faktura 2026-113 att betala 1 200 kr"),
        _letterhead("Intyg om arbetsgivare"),
        b"II*\x00" + rng.randbytes(4000),
        b"\x89PNG\r\n\x1a\n" + rng.randbytes(2000),
        _blank_png(rng),
    ]
    for i, data in enumerate(bad):
        given.append(Given(f"trasig-{i:02d}.{'png' if i >= 12 else 'pdf'}", data, "bad", {"quarantined"}))
    for i in (6, 7, 8, 9):
        given.append(Given(f"kopia-{i}.pdf", given[i].data, "copy", set()))
    assert len(given) == 200 and len({g.sha for g in given}) == 196
    return given


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _remaining(settings: Settings) -> int:
    return len(_files(settings.inbox)) + len(_files(settings.work_dir))


def _starts(log: Path) -> int:
    """How many times the service logged that it is watching the inbox."""
    return log.read_text(encoding="utf-8").count('"event": "start"') if log.exists() else 0


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen([sys.executable, "-m", "pipeline", "watch"], cwd=ROOT, env=env, stderr=sink)


def _just_after_a_commit(settings: Settings, proc: subprocess.Popen[bytes]) -> None:
    """Return the moment the register has one more document: the service is then between recording a document
    and moving its original on (a narrow window that random moments seldom hit)."""
    wait_for(lambda: settings.database.exists() or proc.poll() is not None, 120)
    db = sqlite3.connect(settings.database, timeout=30)
    try:

        def count() -> int:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])

        start, end, polls = count(), time.monotonic() + 60, 0
        while count() == start and proc.poll() is None and time.monotonic() < end:
            polls += 1
            if polls % 200 == 0 and _remaining(settings) == 0:
                return  # nothing left to record
            time.sleep(0.0005)
    finally:
        db.close()


def _drop(settings: Settings, wave: list[Given]) -> None:
    """As a scanner or a mail client delivers: written under a partial name, then renamed into place."""
    for g in wave:
        partial = settings.inbox / f"{g.name}.part"
        partial.write_bytes(g.data)
        partial.rename(settings.inbox / g.name)


def test_killed_twenty_times_every_input_is_accounted_for_once(
    tmp_path: Path, env: dict[str, str], settings: Settings, specs: dict[str, FormSpec]
) -> None:
    rng = random.Random(20261125)
    inputs = make_inputs(specs, rng)
    rng.shuffle(inputs)
    waves = [inputs[i::WAVES] for i in range(WAVES)]
    env = env | {"PIPELINE_SETTLE_SECONDS": "0.2"}
    settings.inbox.mkdir(parents=True)
    log = tmp_path / "service.log"
    kills = []
    for life in range(KILLS):
        if life % (KILLS // WAVES) == 0:
            _drop(settings, waves[life // (KILLS // WAVES)])
        before = _remaining(settings)
        proc = _start(env, log)
        trigger = rng.random()
        if before == 0 or trigger < 0.25:
            when = "moment"
            # A random moment: while it starts, or while it finishes what the last life left in its work folder.
            time.sleep(rng.uniform(0.2, 4.0))
        elif trigger < 0.75:
            # Part-way through the backlog, wherever that finds it: once a random share of what waits is done. Timed
            # by progress, not by the clock, so a faster machine does not clear the backlog before the kill.
            when, target = "progress", rng.randint(1, before - 1) if before > 1 else 0
            wait_for(lambda p=proc, n=target: _remaining(settings) <= n or p.poll() is not None, 120, every=0.005)
        else:
            when = "commit"
            _just_after_a_commit(settings, proc)
        assert proc.poll() is None, f"the service stopped by itself in life {life}; see {log}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append((when, before, _remaining(settings)))

    started = _starts(log)
    proc = _start(env, log)
    try:
        # Watching before it is told to stop: the clean exit checked below is that of a service at work, not of one
        # stopped while it still loads (the last life may find nothing left to do).
        assert wait_for(lambda: _starts(log) > started or proc.poll() is not None, 120)
        assert wait_for(lambda: _remaining(settings) == 0, 600), f"inputs left behind: {_remaining(settings)}"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    assert code == 0
    # Not a test of idle services: many kills struck with work under way (progress made in that life, inputs still
    # waiting). Outputs are made durable in groups, so a life can clear its backlog in one step; on this machine 12 to
    # 14 of the 20 kills strike mid-work, and a third is the floor that still shows the kills were not vacuous.
    assert sum(1 for _, before, after in kills if before > after > 0) >= KILLS // 3, kills

    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    resumed = sum(1 for e in events if e.get("message") == "document moved on after a restart")
    print(f"kills (timed by, inputs waiting before, after): {kills}; originals moved on after a restart: {resumed}")
    check_accounted_for(settings, inputs)
    check_records_and_letters(settings, inputs)


def check_accounted_for(settings: Settings, inputs: list[Given]) -> None:
    """Every input is in exactly one place: archived (recorded or review), quarantined, or retired as a duplicate;
    the register has one row per distinct input, and the row's outcome matches its place."""
    archived = [p for p in _files(settings.archive) if "duplicates" not in p.parts and ".manifest" not in p.name]
    duplicates = _files(settings.archive / "duplicates")
    quarantined = [p for p in _files(settings.quarantine) if not p.name.endswith(".error.json")]
    reports = [p for p in _files(settings.quarantine) if p.name.endswith(".error.json")]

    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    partial = [p for p in [*_files(settings.outbox), *_files(settings.state_dir)] if PARTIAL_WRITE.fullmatch(p.name)]
    assert partial == [], "a killed write's temporary file was left behind"
    placed = collections.Counter(sha(p) for p in [*archived, *duplicates, *quarantined])
    expected = collections.Counter(g.sha for g in inputs)
    kinds = {g.sha: g.kind for g in inputs}
    missing = {kinds[d]: n for d, n in (expected - placed).items()}
    extra = {kinds.get(d, d[:12]): n for d, n in (placed - expected).items()}
    assert placed == expected, f"missing (kind: count) {missing}; placed too often {extra}"
    assert {p.name.split(".")[0] for p in archived} == {sha(p) for p in archived}, "archived under another name"

    register = Register(settings.database)
    rows = {r["sha256"]: dict(r) for r in register.db.execute("SELECT * FROM documents")}
    register.close()
    first = {g.sha: g for g in inputs if g.kind != "copy"}
    assert set(rows) == set(first)
    for digest, g in first.items():
        row = rows[digest]
        assert row["outcome"] in g.outcome, (g.name, row["outcome"], row["reason"])
        place = {sha(p) for p in quarantined} if row["outcome"] == "quarantined" else {sha(p) for p in archived}
        assert digest in place, (g.name, row["outcome"])
    assert sorted(sha(p) for p in duplicates) == sorted(g.sha for g in inputs if g.kind == "copy")

    assert len(reports) == len(quarantined)
    for report in reports:
        data = json.loads(report.read_text(encoding="utf-8"))
        assert report.with_name(report.name.removesuffix(".error.json")).is_file()
        assert data["reason"] and data["action"] and rows[data["sha256"]]["outcome"] == "quarantined"


def check_records_and_letters(settings: Settings, inputs: list[Given]) -> None:
    """One record per case, each valid JSON against the schema; one letter per recorded case that calls for one,
    each a PDF that opens; the register agrees with the files."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    register = Register(settings.database)
    cases = {r["case_id"]: dict(r) for r in register.db.execute("SELECT case_id, status, source_sha256 FROM cases")}
    letter_rows = {r["path"]: r["case_id"] for r in register.db.execute("SELECT path, case_id FROM letters")}
    register.close()

    files = [p for p in [*_files(settings.cases_dir), *_files(settings.review_dir)] if p.suffix == ".json"]
    assert sorted(p.stem for p in files) == sorted(cases), "a record file without a case, or the other way round"
    records = {}
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(record, schema)
        assert record["case_id"] == path.stem and record["status"] == cases[path.stem]["status"]
        records[path.stem] = record

    expected_cases = set()
    for g in inputs:
        if g.kind in ("notice", "application", "scan"):
            expected_cases.add(case_id(g.sha, 1))
        elif g.kind == "batch":
            expected_cases |= {case_id(g.sha, i) for i in (1, 2, 3)}
    assert set(cases) == expected_cases

    letters = [p for p in _files(settings.letters_dir) if not p.name.startswith(".")]
    assert sorted(p.relative_to(settings.outbox).as_posix() for p in letters) == sorted(letter_rows)
    by_case = collections.Counter(p.name[: len("RK-") + 12] for p in letters)
    for case, record in records.items():
        refs = record["letters"]
        assert by_case.get(case, 0) == len(refs) == len({r["kind"] for r in refs}), case
        for ref in refs:
            data = (settings.outbox / ref["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == ref["sha256"]
            assert len(pypdf.PdfReader(io.BytesIO(data)).pages) >= 1
    for g in inputs:
        if g.kind in ("notice", "application") and g.outcome == {"recorded"}:
            assert len(records[case_id(g.sha, 1)]["letters"]) == 1, g.name
    leftovers = [p for p in _files(settings.outbox) if p.name.startswith(".") and p.name.endswith(".tmp")]
    print(f"temporary files left by killed writes (never renamed into place): {len(leftovers)}")


class Crash(BaseException):
    """Stands for the process dying at that point (a BaseException, so no handler on the way catches it)."""


@pytest.mark.parametrize(
    ("point", "broken"),
    [
        ("keep", False),  # recorded in the register and the ledger, original not yet archived
        ("keep", True),  # report written and quarantine recorded, input not yet moved
        ("record_document", True),  # report written, nothing recorded yet
    ],
)
def test_each_half_finished_step_is_finished_by_the_next_attempt(
    point: str, broken: bool, settings: Settings, monkeypatch: pytest.MonkeyPatch, own_umask: None
) -> None:
    """The narrow windows the random kills above seldom hit, one at a time: the service dies at ``point``, then
    the next attempt takes the file left in the work folder (as a restart does, by its name in the ledger) and
    finishes it, once."""
    notice = (FIXTURES / "fk7429" / "notice-01-appearance.pdf").read_bytes()
    data = b"%PDF-1.7\nnothing else" if broken else notice
    with open_intake(settings) as intake:
        claimed = settings.work_dir / "0a1b2c3d4e5f6a7b.pdf"
        claimed.write_bytes(data)

        def die(*args: object, **kwargs: object) -> None:
            raise Crash

        owner = Register if point == "record_document" else outputs
        monkeypatch.setattr(owner, point, die)
        with pytest.raises(Crash):
            list(intake.handle_many([Input(claimed, "brev från region.pdf")], move=True, channel="inbox"))
        monkeypatch.undo()
        assert claimed.exists()
        row = intake.register.arrival_in_work(claimed.name)
        assert row is not None
        [result] = list(intake.handle_many([Input(claimed, row["name"])], move=True, channel="inbox"))
    assert not claimed.exists() and not (settings.archive / "duplicates").exists()
    sha = hashlib.sha256(data).hexdigest()
    if broken:
        assert result.outcome == "quarantined"
        [report] = settings.quarantine.glob("*.error.json")
        target = report.with_name(report.name.removesuffix(".error.json"))
        assert target.read_bytes() == data
        assert sorted(settings.quarantine.iterdir()) == sorted([report, target])
        assert target.name.endswith("-brev från region.pdf")  # the name it arrived with, kept by the ledger
    else:
        assert result.outcome == "recorded" and result.cases == [case_id(sha, 1)]
        assert (settings.archive / sha[:2] / f"{sha}.pdf").read_bytes() == data
    register = Register(settings.database)
    [row] = list(register.db.execute("SELECT outcome FROM documents"))
    register.close()
    assert row["outcome"] == result.outcome


@pytest.mark.parametrize("method", ["syncfs", "fsync"])
def test_a_group_the_disk_fails_to_make_durable_waits_and_is_recorded_once_when_tried_again(
    method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_umask: None
) -> None:
    """A write-back error while a group of documents is made durable (either method): nothing of the group is
    committed or moved on, each document waits as failed_transient, and the next attempt records each once."""
    settings = Settings(
        inbox=tmp_path / "inbox",
        outbox=tmp_path / "outbox",
        state_dir=tmp_path / "var",
        workers=2,
        retry_seconds=0.0,
        sync_method=method,
    )
    notices = sorted((FIXTURES / "fk7429").glob("*.pdf"))
    failed: list[str] = []

    def fail(name: str) -> Callable[..., None]:
        def failing(*args: object) -> None:
            failed.append(name)
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        return failing

    with open_intake(settings) as intake:
        given = []
        for n, notice in enumerate(notices):
            path = settings.work_dir / f"{n:016x}.pdf"
            path.write_bytes(notice.read_bytes())
            given.append(Input(path, f"notice {n}.pdf"))
        monkeypatch.setattr(fsutil, "SYNCFS_FROM", 1)  # every group, however the documents finish
        monkeypatch.setattr(fsutil, "_syncfs", fail("syncfs"))
        monkeypatch.setattr(fsutil, "fsync_file", fail("fsync"))
        first = list(intake.handle_many(given, move=True, channel="inbox"))
        monkeypatch.undo()
        assert set(failed) == {method}
        assert [r.outcome for r in first] == ["failed_transient"] * len(notices)
        assert all(g.path.exists() for g in given)
        assert intake.register.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 0
        again = list(intake.handle_many(unfinished(settings, intake.register), move=True, channel="inbox"))
        states = [r["state"] for r in intake.register.db.execute("SELECT state FROM ledger")]
    expected = [json.loads(n.with_suffix("").with_suffix(".expected.json").read_text())["outcome"] for n in notices]
    assert [r.outcome for r in again] == expected
    assert sorted(states) == sorted("done" if outcome == "recorded" else outcome for outcome in expected)
    assert len({c for r in again for c in r.cases}) == len(notices) and not any(g.path.exists() for g in given)
    letters = [p.name for p in settings.letters_dir.rglob("*.pdf")]
    assert len(letters) == len(set(letters)) == sum(len(r.letters) for r in again) == expected.count("recorded")
