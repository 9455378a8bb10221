"""The ledger, in process: real SQLite, the real Intake, documents read by ``read_input`` in this process (the
same function the workers run, behind the same Runner seam), files in real folders."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from faker import Faker

from fixtures.generate import fake_application, fake_notice, fill_acroform
from pipeline import conductor, watch
from pipeline.conductor import InputResult, Intake, read_claimed, read_input, transient_reason
from pipeline.config import Settings
from pipeline.errors import DocumentError, LimitExceededError, RefusedEntryError
from pipeline.formspec import FormSpec
from pipeline.register import Register
from pipeline.service import prepare
from pipeline.stages import Input, Job, Read
from pipeline.watch import Inbox, unfinished
from tests.conftest import FIXTURES

NOTICE = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
OTHER = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"


class InlineRunner:
    """Runs ``read_input`` here instead of in a worker process."""

    def __init__(self, specs: dict[str, FormSpec]) -> None:
        self.specs = specs

    def submit(self, job: Job) -> Future[Read]:
        future: Future[Read] = Future()
        try:
            future.set_result(read_input(job, self.specs))
        except DocumentError as exc:
            future.set_exception(exc)
        return future

    def result(self, future: Future[Read], job: Job) -> Read:
        return future.result()


@pytest.fixture
def intake(settings: Settings, specs: dict[str, FormSpec]) -> Iterator[Intake]:
    settings = settings.model_copy(update={"retry_seconds": 0.0, "transient_retries": 2})
    prepare(settings)
    register = Register(settings.database, busy_seconds=0.2)
    yield Intake(settings, register, InlineRunner(specs))
    register.close()


def claim_into_work(intake: Intake, source: Path, name: str = "given.pdf") -> Input:
    """As the service claims: a ledger row, then the file in the work area."""
    inbox = intake.settings.inbox / name
    shutil.copy(source, inbox)
    arrival, _ = intake.register.sight(name, name)
    work_name = f"w{arrival:04d}.pdf"
    intake.register.claim(arrival, work_name)
    os.rename(inbox, intake.settings.work_dir / work_name)
    return Input(intake.settings.work_dir / work_name, name)


def run_pass(intake: Intake) -> list[InputResult]:
    """One pass of the service over the work area, as at start and after each listing."""
    return list(intake.handle_many(unfinished(intake.settings, intake.register), move=True, channel="inbox"))


def ledger(intake: Intake) -> list[sqlite3.Row]:
    return list(intake.register.db.execute("SELECT * FROM ledger ORDER BY id"))


def test_a_claimed_file_ends_done_with_its_sha256_and_where_it_was_kept(intake: Intake) -> None:
    claim_into_work(intake, NOTICE)
    [result] = run_pass(intake)
    assert result.outcome == "recorded"
    [row] = ledger(intake)
    assert row["state"] == "done" and row["sha256"] == hashlib.sha256(NOTICE.read_bytes()).hexdigest()
    assert row["finished_at"] and row["inbox_path"] is None
    kept = intake.settings.state_dir / row["kept_as"]
    assert kept.read_bytes() == NOTICE.read_bytes()
    assert not list(intake.settings.work_dir.iterdir())
    assert run_pass(intake) == [], "a second pass finds nothing to do"


def test_the_same_bytes_again_are_a_duplicate_of_the_first_document(intake: Intake) -> None:
    claim_into_work(intake, NOTICE, "a.pdf")
    claim_into_work(intake, NOTICE, "b.pdf")  # in the same window: the first is not committed yet
    results = run_pass(intake)
    claim_into_work(intake, NOTICE, "c.pdf")  # later: found in the register
    results += run_pass(intake)
    assert [r.outcome for r in results] == ["recorded", "duplicate", "duplicate"]
    rows = ledger(intake)
    first = rows[0]["document_id"]
    assert [r["state"] for r in rows] == ["done", "duplicate", "duplicate"]
    assert rows[1]["duplicate_of"] == first and rows[2]["duplicate_of"] == first
    assert {r.cases[0] for r in results} == {results[0].cases[0]}
    assert len(intake.register.list_cases()) == 1
    assert len(list(intake.settings.letters_dir.rglob("*.pdf"))) == 1
    assert len(list((intake.settings.archive / "duplicates").iterdir())) == 2, "duplicates are kept, not deleted"
    assert not list(intake.settings.tmp_dir.rglob("*.json")), "no staged record is left over"


def test_documents_recorded_together_are_committed_together_and_linked_to_each_other(
    intake: Intake, specs: dict[str, FormSpec], tmp_path: Path
) -> None:
    """Documents finished together are recorded in one commit; a 7429 for a person whose application is in the
    same group is still linked to it."""
    faker = Faker("sv_SE")
    faker.seed_instance(77)
    application, notice = fake_application(faker), fake_notice(faker)
    notice["patient_personnummer"] = application["personnummer"]
    forms = [("ansokan-samordning", application, "appearance"), ("fk7429", notice, "need_appearances")]
    for name, values, mode in forms:
        path = tmp_path / f"{name}.pdf"
        path.write_bytes(fill_acroform(specs[name].blank_path.read_bytes(), specs[name], values, mode))
        claim_into_work(intake, path, path.name)
    claim_into_work(intake, OTHER, "other.pdf")
    commits = []
    intake.register.db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    first, second, third = run_pass(intake)
    intake.register.db.set_trace_callback(None)
    assert len(commits) == 1, "one transaction for the three documents"
    assert [r.outcome for r in (first, second, third)] == ["recorded", "recorded", "recorded"]
    record = intake.register.case(second.cases[0])
    assert record is not None and record.linked_case_ids == first.cases
    on_disk = json.loads((intake.settings.cases_dir / f"{second.cases[0]}.json").read_text(encoding="utf-8"))
    assert on_disk["linked_case_ids"] == first.cases
    assert {r["state"] for r in ledger(intake)} == {"done"} and not list(intake.settings.work_dir.iterdir())
    # The records the worker staged were renamed into place (or, once linked, written again): none is left over.
    assert not list(intake.settings.tmp_dir.rglob("*.json"))
    third_record = intake.settings.cases_dir / f"{third.cases[0]}.json"
    assert (
        third_record.read_text(encoding="utf-8")
        == intake.register.db.execute("SELECT record FROM cases WHERE case_id = ?", (third.cases[0],)).fetchone()[0]
    )


def test_the_outputs_are_on_disk_before_the_commit_and_the_worker_never_waits_on_the_disk(
    intake: Intake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker writes its letters and staged record without an fsync (so it goes on reading while the disk
    works); the service fsyncs each file and its folder before the one durable commit that makes the row final."""
    events: list[tuple[str, str]] = []
    real_fsync, real_submit = os.fsync, intake.run.submit

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def submit(job: Job) -> Future[Read]:
        events.append(("worker", "start"))
        future = real_submit(job)
        events.append(("worker", "end"))
        return future

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(intake.run, "submit", submit)
    claim_into_work(intake, NOTICE)
    intake.register.db.set_trace_callback(lambda sql: events.append(("commit", sql)) if sql == "COMMIT" else None)
    [result] = run_pass(intake)
    intake.register.db.set_trace_callback(None)
    assert result.outcome == "recorded" and result.letters
    start, end = events.index(("worker", "start")), events.index(("worker", "end"))
    assert [e for e in events[start:end] if e[0] == "fsync"] == [], "the worker made no fsync"
    # The commit that makes the ledger row final is the last one (synchronous=FULL: the WAL is fsynced).
    commit = max(i for i, e in enumerate(events) if e[0] == "commit")
    synced = {path for kind, path in events[end:commit] if kind == "fsync"}
    record = intake.settings.cases_dir / f"{result.cases[0]}.json"
    letters = [intake.settings.outbox / letter for letter in result.letters]
    for path in [record, *letters]:
        assert str(path) in synced and str(path.parent) in synced, path.name
    [row] = ledger(intake)
    assert row["state"] == "done"


def copies(intake: Intake, folder: Path, count: int, pulled: list[int]) -> Iterator[Input]:
    """``count`` claimed 7429s of different contents; ``pulled`` says how many the intake has taken so far."""
    for n in range(count):
        source = folder / f"{n}.pdf"
        source.write_bytes(NOTICE.read_bytes() + f"% copy {n}\n".encode())
        pulled.append(n)
        yield claim_into_work(intake, source, source.name)


@pytest.mark.parametrize(("budget", "read_ahead"), [(None, 10), (1, 3)])
def test_the_window_reads_ahead_a_group_of_small_files_but_large_ones_only_as_far_as_keeps_the_workers_busy(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, budget: int | None, read_ahead: int
) -> None:
    """Small files: the group (here all ten) is read before the first is recorded, so they share one commit. Files
    past the window's byte budget: one for each of the two workers and one more, then the first is recorded."""
    if budget is not None:
        monkeypatch.setattr(conductor, "WINDOW_BYTES", budget)
    pulled: list[int] = []
    results = intake.handle_many(copies(intake, tmp_path, 10, pulled), move=True, channel="inbox")
    first = next(results)
    assert len(pulled) == read_ahead
    assert [first.outcome, *(r.outcome for r in results)] == ["recorded"] * 10


def test_a_backlog_is_recorded_a_group_at_a_time_while_the_next_group_is_being_read(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The first commit takes one group; by then the window has handed the workers the next group too (and
    what keeps two workers busy), so they have work while this process records."""
    monkeypatch.setattr(conductor, "GROUP", 4)
    pulled: list[int] = []
    results = intake.handle_many(copies(intake, tmp_path, 20, pulled), move=True, channel="inbox")
    first = next(results)
    assert len(pulled) == 2 * 3 + 2 * 4
    assert [r["state"] for r in ledger(intake)].count("done") == 4, "one group in the first commit"
    assert [first.outcome, *(r.outcome for r in results)] == ["recorded"] * 20


class HeldRunner:
    """Reads in this process, but answers only documents the test lets go of (``release``), from another thread,
    as workers answer in their own time."""

    def __init__(self, specs: dict[str, FormSpec]) -> None:
        self.specs = specs
        self.given: list[tuple[Job, Future[Read]]] = []
        self.lock = threading.Lock()

    def submit(self, job: Job) -> Future[Read]:
        future: Future[Read] = Future()
        with self.lock:
            self.given.append((job, future))
        return future

    def release(self, index: int) -> None:
        job, future = self.given[index]
        future.set_result(read_input(job, self.specs))

    def result(self, future: Future[Read], job: Job) -> Read:
        return future.result()


@pytest.mark.parametrize("room", [True, False])
def test_large_files_behind_a_slow_head_are_read_ahead_while_a_worker_would_run_out(
    intake: Intake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, specs: dict[str, FormSpec], room: bool
) -> None:
    """Every file is past the window's byte budget. The first document is slow; the two behind it are answered:
    the window takes more, so the free worker has work, up to two documents per worker still being read. Past the
    window's hard limit of bytes (``room`` False) it waits for the slow head instead."""
    monkeypatch.setattr(conductor, "WINDOW_BYTES", 1)
    if not room:
        monkeypatch.setattr(conductor, "WINDOW_BYTES_MOST", 1)
    runner = HeldRunner(specs)
    intake.run = runner
    pulled: list[int] = []
    seen: list[int] = []

    def answer() -> None:
        deadline = time.monotonic() + 10
        while len(runner.given) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        runner.release(1)
        runner.release(2)
        # The intake's chance to take more while the head is still being read (and to take too many).
        until = time.monotonic() + 3
        while len(pulled) < 6 and time.monotonic() < until:
            time.sleep(0.01)
        time.sleep(0.2)
        seen.append(len(pulled))
        while not finished.is_set() and time.monotonic() < deadline + 50:  # the rest, as they come
            with runner.lock:
                waiting = [i for i, (_, f) in enumerate(runner.given) if not f.done()]
            for index in waiting:
                runner.release(index)
            finished.wait(0.01)

    finished = threading.Event()
    answering = threading.Thread(target=answer)
    answering.start()
    try:
        results = intake.handle_many(copies(intake, tmp_path, 8, pulled), move=True, channel="inbox")
        outcomes = [r.outcome for r in results]
    finally:
        finished.set()
        answering.join()
    assert outcomes == ["recorded"] * 8
    # Room: documents 3 to 5 taken, so four are still to be read: the head, the free worker's, and one waiting for
    # each worker. No room: the head's two neighbours done, nothing more taken until the head is.
    assert seen == ([6] if room else [3])


def test_a_crash_after_the_commit_only_moves_the_file_on(intake: Intake) -> None:
    given = claim_into_work(intake, NOTICE)
    run_pass(intake)
    # The state a crash leaves between the ledger's commit and the move: a final row, the file still in work.
    shutil.copy(NOTICE, given.path)
    before = ledger(intake)
    [result] = run_pass(intake)
    assert result.outcome == "recorded" and result.cases
    assert [dict(r) for r in ledger(intake)] == [dict(r) for r in before], "the ledger does not change"
    assert not given.path.exists() and (intake.settings.state_dir / before[0]["kept_as"]).exists()
    assert len(list(intake.settings.letters_dir.rglob("*.pdf"))) == 1
    assert not list((intake.settings.archive).glob("duplicates"))


def test_a_crash_between_claim_and_rename_puts_the_file_back_to_waiting(intake: Intake) -> None:
    inbox = Inbox(intake.settings.model_copy(update={"settle_seconds": 0.0}), intake.register)
    shutil.copy(NOTICE, intake.settings.inbox / "x.pdf")
    [(path, seen)] = inbox.ready()
    arrival = seen.arrival
    intake.register.claim(arrival, "never-renamed.pdf")  # the crash: the rename did not happen
    inbox.seen.clear()
    assert run_pass(intake) == []
    assert intake.register.arrival(arrival)["state"] == "received"
    # The service's next listing picks the same row up again (no second row) and claims the file.
    [(path, seen)] = inbox.ready()
    assert len(ledger(intake)) == 1
    assert seen.arrival == arrival
    claimed = inbox.claim(path, seen)
    assert claimed is not None
    [result] = list(intake.handle_many([claimed], move=True, channel="inbox"))
    assert result.outcome == "recorded" and intake.register.arrival(arrival)["state"] == "done"


@pytest.mark.parametrize(("count", "size", "first_claim"), [(40, 1024, 32), (10, 400 * 1024, 3)])
def test_files_are_claimed_a_few_dozen_at_a_time_but_no_more_than_a_megabyte(
    intake: Intake, count: int, size: int, first_claim: int
) -> None:
    """One ledger commit claims up to 32 small files; large ones (scans) only until they hold 1 MB, so a stop does
    not wait for a dozen scans to be read. Every file is claimed once, in order."""
    inbox = Inbox(intake.settings.model_copy(update={"settle_seconds": 0.0}), intake.register)
    for n in range(count):
        (intake.settings.inbox / f"{n:03d}.pdf").write_bytes(b"%PDF-1.7 " + bytes([n]) * size)
    claimed = inbox.claim_all(inbox.settled(), lambda: False)
    first = next(claimed)
    assert first.path.parent == intake.settings.work_dir
    assert len(list(intake.settings.inbox.glob("*.pdf"))) == count - first_claim
    assert sum(r["state"] == "claimed" for r in ledger(intake)) == first_claim
    rest = [first, *claimed]
    assert [i.name for i in rest] == [f"{n:03d}.pdf" for n in range(count)]
    assert not list(intake.settings.inbox.glob("*.pdf"))


def test_a_large_backlog_flows_while_the_inbox_is_still_being_listed(intake: Intake) -> None:
    """The first settled files are given out after one chunk of the listing, not after all of it; files sighted
    in an earlier listing come first; every file is given once, oldest sighting first."""
    inbox = Inbox(intake.settings.model_copy(update={"settle_seconds": 0.0}), intake.register)
    (intake.settings.inbox / "zz-early.pdf").write_bytes(b"%PDF-1.7 early")
    assert [p.name for p, _ in inbox.ready()] == ["zz-early.pdf"]  # sighted, settled, not claimed
    for n in range(100):
        (intake.settings.inbox / f"{n:03d}.pdf").write_bytes(b"%PDF-1.7 " + bytes([n]))
    given = inbox.settled()
    first = next(given)
    assert first[0].name == "zz-early.pdf"
    second = next(given)
    rows = len(ledger(intake))
    assert second[0].name == "000.pdf" and 1 < rows <= 1 + watch.LIST_AT_ONCE, rows
    rest = [first, second, *given]
    assert [p.name for p, _ in rest] == ["zz-early.pdf", *(f"{n:03d}.pdf" for n in range(100))]
    assert [s.arrival for _, s in rest] == sorted(s.arrival for _, s in rest)
    assert len(ledger(intake)) == 101 and {r["state"] for r in ledger(intake)} == {"settled"}


def test_a_file_taken_away_before_it_is_claimed_leaves_no_row(intake: Intake) -> None:
    inbox = Inbox(intake.settings.model_copy(update={"settle_seconds": 60.0}), intake.register)
    (intake.settings.inbox / "y.pdf").write_bytes(NOTICE.read_bytes())
    assert inbox.ready() == []
    assert [r["state"] for r in ledger(intake)] == ["received"]
    (intake.settings.inbox / "y.pdf").unlink()
    inbox.ready()
    assert ledger(intake) == []


def test_a_failure_outside_the_document_is_retried_then_succeeds(intake: Intake) -> None:
    # The outbox's cases folder is a file: writing the record fails with a real OSError, as a full disk would.
    cases_dir = intake.settings.cases_dir
    cases_dir.rmdir()
    cases_dir.write_bytes(b"")
    claim_into_work(intake, NOTICE)
    [result] = run_pass(intake)
    assert result.outcome == "failed_transient"
    [row] = ledger(intake)
    assert row["state"] == "failed_transient" and row["attempts"] == 1 and row["retry_at"]
    assert "file system refused" in row["reason"]
    assert len(list(intake.settings.work_dir.iterdir())) == 1, "the file waits in the work area"
    cases_dir.unlink()
    cases_dir.mkdir()
    [result] = run_pass(intake)
    assert result.outcome == "recorded"
    [row] = ledger(intake)
    assert row["state"] == "done" and row["attempts"] == 1
    assert len(list(cases_dir.iterdir())) == 1


def test_a_failure_that_persists_is_quarantined_after_the_bounded_retries(intake: Intake) -> None:
    cases_dir = intake.settings.cases_dir
    cases_dir.rmdir()
    cases_dir.write_bytes(b"")
    claim_into_work(intake, NOTICE)
    outcomes = [run_pass(intake)[0].outcome for _ in range(3)]
    assert outcomes == ["failed_transient", "failed_transient", "quarantined"]
    [row] = ledger(intake)
    assert row["state"] == "quarantined" and row["attempts"] == 2
    kept = intake.settings.state_dir / row["kept_as"]
    assert kept.read_bytes() == NOTICE.read_bytes()
    report = json.loads(kept.with_name(kept.name + ".error.json").read_text(encoding="utf-8"))
    assert report["code"] == "kept_failing" and "3 times" in report["reason"] and report["action"]
    assert run_pass(intake) == []


def test_a_locked_register_leaves_the_file_claimed_and_the_next_pass_finishes_it(intake: Intake) -> None:
    claim_into_work(intake, NOTICE)
    other = sqlite3.connect(intake.settings.database, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        [result] = run_pass(intake)  # nothing escapes: the service keeps running
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.outcome == "failed_transient" and result.reason == "the register was locked by another program"
    assert [r["state"] for r in ledger(intake)] == ["claimed"]
    [result] = run_pass(intake)
    assert result.outcome == "recorded" and [r["state"] for r in ledger(intake)] == ["done"]


def test_process_records_each_input_in_the_ledger_when_it_ends(intake: Intake, tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\nnothing else")
    inputs = [Input(NOTICE, NOTICE.name), Input(bad, bad.name), Input(NOTICE, "again.pdf")]
    results = list(intake.handle_many(inputs, move=False, channel="cli"))
    assert [r.outcome for r in results] == ["recorded", "quarantined", "duplicate"]
    # A row is written when its input ends (a duplicate ends at once, before the first copy is recorded).
    assert sorted((r["state"], r["channel"]) for r in ledger(intake)) == [
        ("done", "cli"),
        ("duplicate", "cli"),
        ("quarantined", "cli"),
    ]
    assert NOTICE.exists() and bad.exists(), "process leaves the caller's files alone"


def test_transient_reasons_name_the_cause() -> None:
    with pytest.raises(OSError) as full, open("/dev/full", "wb", buffering=0) as fh:  # a real ENOSPC
        fh.write(b"x")
    assert full.value.errno == errno.ENOSPC and transient_reason(full.value) == "the disk is full"
    assert transient_reason(sqlite3.OperationalError("database is locked")).startswith("the register was locked")
    assert "EACCES" in transient_reason(PermissionError(errno.EACCES, "Permission denied"))
    assert "ValueError" in transient_reason(ValueError("x"))


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: os.symlink(NOTICE, d / "link.pdf"), "symlink"),
        (lambda d: os.mkfifo(d / "fifo.pdf"), "pipe (FIFO)"),
        (lambda d: os.link(shutil.copy(NOTICE, d / "orig.pdf"), d / "link.pdf"), "hard links"),
    ],
)
def test_read_claimed_refuses_what_is_not_a_plain_file(tmp_path: Path, make: object, words: str) -> None:
    assert callable(make)
    make(tmp_path)
    entry = tmp_path / ("fifo.pdf" if words.startswith("pipe") else "link.pdf")
    with pytest.raises(RefusedEntryError) as refused:
        read_claimed(entry, 10**8)  # a FIFO without a writer would block an ordinary open
    assert words in refused.value.reason and refused.value.action


def test_read_claimed_refuses_a_device_without_opening_it() -> None:
    with pytest.raises(RefusedEntryError, match="device"):
        read_claimed(Path("/dev/null"), 10**8)


def test_read_claimed_reads_the_whole_file_up_to_the_limit_even_one_that_grew_after_it_was_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is read as long as fstat says, then on to the limit: bytes written after the fstat are read too (or
    refused, past the limit), never cut off at the size seen first."""
    path = tmp_path / "claimed.pdf"
    data = os.urandom(3000)
    path.write_bytes(data)
    assert read_claimed(path, 3000) == data
    with pytest.raises(LimitExceededError, match="at most 2999"):
        read_claimed(path, 2999)
    real_fstat = os.fstat

    def earlier(fd: int) -> os.stat_result:  # the size as it was before the writer's last 2,000 bytes
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 1000, *st[7:]))

    monkeypatch.setattr(os, "fstat", earlier)
    assert read_claimed(path, 5000) == data
    with pytest.raises(LimitExceededError, match="grew past 2500 bytes"):
        read_claimed(path, 2500)


def test_the_inbox_may_not_lie_inside_the_state_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inbox may not lie inside the state folder"):
        Settings(inbox=tmp_path / "var" / "in", outbox=tmp_path / "out", state_dir=tmp_path / "var")


def test_received_at_is_kept_from_the_first_sighting(intake: Intake) -> None:
    given = claim_into_work(intake, NOTICE)
    [row] = ledger(intake)
    seen_at = dt.datetime.fromisoformat(row["received_at"])
    [result] = list(intake.handle_many([given], move=True, channel="inbox"))
    case = intake.register.case(result.cases[0])
    assert case is not None and case.received_at == seen_at


def test_a_mail_is_one_input_in_the_ledger_and_its_attachments_make_the_cases(intake: Intake) -> None:
    from tests.test_mail import attach, message

    msg = message(4)
    attach(msg, NOTICE.read_bytes(), "a.pdf")
    attach(msg, OTHER.read_bytes(), "b.pdf")
    eml = intake.settings.inbox.parent / "mail.eml"
    eml.write_bytes(msg.as_bytes())
    claim_into_work(intake, eml, "mail.eml")
    [result] = run_pass(intake)
    assert result.outcome == "recorded" and len(result.cases) == 2
    [row] = ledger(intake)
    assert row["state"] == "done" and row["sha256"] == hashlib.sha256(eml.read_bytes()).hexdigest()
    # The same attachment dropped on its own later is a duplicate of the attachment's document.
    claim_into_work(intake, NOTICE, "dropped.pdf")
    [again] = run_pass(intake)
    assert again.outcome == "duplicate" and again.cases[0] in result.cases
    assert ledger(intake)[-1]["duplicate_of"] == again.document_id
    assert len(intake.register.list_cases()) == 2
