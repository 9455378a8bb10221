"""Workers under their limits: a document that needs too much memory, CPU or time is quarantined with that reason,
its worker is replaced, and the documents beside it keep flowing. Real worker processes, real inputs through the real
read path (fixtures/limits.py makes the expensive ones)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest

from fixtures.limits import long_batch_scan, memory_hungry_scan
from pipeline import stages, workers
from pipeline.conductor import read_input
from pipeline.config import Settings
from pipeline.errors import DocumentError, PipelineError
from pipeline.formspec import FormSpec
from pipeline.models import CaseRecord, Provenance, RecordSummary
from pipeline.scan import glyphs, lexicon, lines
from pipeline.stages import DocumentResult, Job
from pipeline.validate import DEFAULT_THRESHOLDS
from pipeline.workers import FINISHED, STARTED, ProcessRunner, TimeLimitError
from tests.conftest import FIXTURES, ROOT
from tests.test_watch import wait_for

NOTICES = sorted((FIXTURES / "fk7429").glob("notice-0[1457]-*.pdf"))  # four that are recorded with a letter


@pytest.fixture(scope="module")
def long_batch(tmp_path_factory: pytest.TempPathFactory, specs: dict[str, FormSpec]) -> Path:
    return long_batch_scan(tmp_path_factory.mktemp("long") / "batch-50-pages.tif", specs["ansokan-samordning"])


def _reports(settings: Settings) -> list[dict[str, str]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(settings.quarantine.glob("*.error.json"))]


def _cases(settings: Settings) -> list[Path]:
    return sorted(settings.cases_dir.glob("*.json")) if settings.cases_dir.exists() else []


def test_a_scan_that_needs_more_memory_than_allowed_is_quarantined_while_others_flow(
    tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    settings.inbox.mkdir(parents=True)
    memory_hungry_scan(settings.inbox / "huge-scan.png")
    for path in NOTICES[:2]:
        shutil.copy(path, settings.inbox / path.name)
    service = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "watch"],
        cwd=ROOT,
        text=True,
        # 800 MB: an ordinary 7429 peaks at about 610 MB in a worker, this scan at about 1,016 MB.
        env=env | {"PIPELINE_SETTLE_SECONDS": "0.3", "PIPELINE_WORKER_MEMORY_MB": "800"},
        stderr=subprocess.PIPE,
    )
    try:
        assert wait_for(lambda: len(_reports(settings)) == 1 and len(_cases(settings)) == 2, 120)
        [report] = _reports(settings)
        assert report["code"] == "memory_limit"
        assert "more memory than allowed" in report["reason"] and "800 MB" in report["reason"]
        assert "PIPELINE_WORKER_MEMORY_MB" in report["action"]
        assert (settings.quarantine / (report["document_id"] + "-huge-scan.png")).is_file()
        # The worker that ran out was replaced: documents dropped afterwards are read as before.
        for path in NOTICES[2:]:
            shutil.copy(path, settings.inbox / path.name)
        assert wait_for(lambda: len(_cases(settings)) == 4, 120), "documents after the memory-hungry one stalled"
        assert len(list(settings.letters_dir.rglob("*.pdf"))) == 4
        assert service.poll() is None
    finally:
        service.send_signal(signal.SIGTERM)
        code = service.wait(timeout=60)
        assert service.stderr is not None
        logs = [json.loads(line) for line in service.stderr.read().splitlines() if line.startswith("{")]
        service.stderr.close()
    assert code == 0
    assert any(e.get("event") == "worker_replaced" and e.get("code") == "memory_limit" for e in logs)
    assert not any("huge-scan" in json.dumps(e) for e in logs)


def test_a_scan_that_uses_more_cpu_than_allowed_is_quarantined_while_others_are_recorded(
    long_batch: Path, env: dict[str, str], settings: Settings
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "process", "--json", str(long_batch), *map(str, NOTICES)],
        cwd=ROOT,
        env=env | {"PIPELINE_WORKER_CPU_SECONDS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    results = {r["input"]: r for r in map(json.loads, done.stdout.splitlines())}
    batch = results.pop(long_batch.name)
    assert batch["outcome"] == "quarantined"
    assert batch["reason"].startswith("Reading the document used more processor time than allowed (1 s).")
    assert "PIPELINE_WORKER_CPU_SECONDS" in batch["reason"]
    assert {r["outcome"] for r in results.values()} == {"recorded"} and len(results) == len(NOTICES)
    [report] = _reports(settings)
    assert report["code"] == "cpu_limit" and report["step"] == "read"


def _job(path: Path, outbox: Path) -> Job:
    data = path.read_bytes()
    return Job(
        data,
        hashlib.sha256(data).hexdigest(),
        dt.datetime.now(dt.UTC),
        Provenance(channel="cli"),
        50,
        DEFAULT_THRESHOLDS,
        outbox,
    )


@pytest.fixture
def runner(settings: Settings) -> Iterator[ProcessRunner]:
    # One worker, so the slow document and the ones after it provably share (and replace) the same slot.
    with ProcessRunner(1, settings.forms_dir, 1024, 120, wall_seconds=2) as run:
        yield run


def test_a_scan_that_takes_longer_than_allowed_is_stopped_and_its_worker_replaced(
    long_batch: Path, runner: ProcessRunner, settings: Settings
) -> None:
    # The 50-page batch needs about ten seconds of work; the wall-clock limit is two.
    [before] = runner.pids()
    futures: list[Future[list[DocumentResult]]] = [runner.submit(_job(long_batch, settings.outbox))]
    futures += [runner.submit(_job(path, settings.outbox)) for path in NOTICES]
    with pytest.raises(TimeLimitError) as caught:
        runner.result(futures[0], _job(long_batch, settings.outbox))
    assert caught.value.reason == "Reading the document took longer than allowed (2 s) and was stopped."
    assert caught.value.code == "time_limit"
    for future, path in zip(futures[1:], NOTICES, strict=True):
        [result] = runner.result(future, _job(path, settings.outbox))
        assert result.record.status.value == "recorded" and result.letters
    [after] = runner.pids()
    assert after != before and runner.replaced == 1
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # the overrunning worker was killed, not left running


def test_a_worker_that_dies_between_documents_is_replaced_and_the_next_document_is_not_blamed(
    runner: ProcessRunner, settings: Settings
) -> None:
    [before] = runner.pids()
    os.kill(before, signal.SIGKILL)
    job = _job(NOTICES[0], settings.outbox)
    [result] = runner.result(runner.submit(job), job)  # the dead worker is noticed, replaced, and the job retried
    assert result.record.status.value == "recorded"
    [after] = runner.pids()
    assert after != before and runner.replaced == 1
    assert max(runner.peak_rss_kb().values()) > 10_000  # a worker with its libraries loaded: tens of MB at least


def _stop_mid_backlog(runner: ProcessRunner, pid: int, sig: signal.Signals) -> tuple[int, int]:
    """Stop the worker while it reads a document with the answers to documents it read before still held back
    (more were waiting for it); the counts of documents it had started and finished, read once it is stopped."""
    worker = runner._workers[0]
    assert worker is not None
    end = time.monotonic() + 120
    while time.monotonic() < end:
        started, finished = worker.progress[STARTED], worker.progress[FINISHED]
        if started > finished > worker.answered + 1:
            os.kill(pid, signal.SIGSTOP)
            while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
                time.sleep(0.001)
            started, finished = worker.progress[STARTED], worker.progress[FINISHED]
            if started > finished:  # not caught between two documents
                if sig != signal.SIGSTOP:
                    os.kill(pid, sig)
                return started, finished
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.001)
    raise AssertionError("the worker never held back an answer while reading the next document")


@pytest.mark.parametrize("sig", [signal.SIGSTOP, signal.SIGKILL], ids=["hung", "killed"])
def test_a_worker_stopped_while_holding_answers_back_is_blamed_only_for_the_document_it_was_reading(
    runner: ProcessRunner, settings: Settings, sig: signal.Signals
) -> None:
    """A worker answers quick documents a few at a time while more wait for it. Stopped in the middle of a backlog,
    it is blamed for the document it was reading, not the oldest unanswered one: a hung worker (SIGSTOP, so the
    wall clock runs out) for that document alone; a killed one (SIGKILL, no limit to blame) not at all, the document
    tried again. The documents it had read but not answered, and those it had not started, are read by the new
    worker, in order."""
    jobs = [_job(path, settings.outbox) for path in NOTICES * 4]
    [pid] = runner.pids()
    futures = [runner.submit(job) for job in jobs]
    started, finished = _stop_mid_backlog(runner, pid, sig)
    outcomes = []
    for future, job in zip(futures, jobs, strict=True):
        try:
            [result] = runner.result(future, job)
            outcomes.append(result.record.status.value)
        except TimeLimitError:
            outcomes.append("time_limit")
    culprit = started - 1
    if sig == signal.SIGSTOP:
        assert outcomes == ["recorded"] * culprit + ["time_limit"] + ["recorded"] * (len(jobs) - culprit - 1)
    else:
        assert outcomes == ["recorded"] * len(jobs)
    assert runner.replaced == 1 and runner.pids() != [pid]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the stopped worker was killed, not left behind
    assert 0 < finished < culprit + 1 <= len(jobs)


def test_workers_run_single_threaded(settings: Settings) -> None:
    """OMP_THREAD_LIMIT=1 (tesseract) and OPENBLAS_NUM_THREADS=1 (numpy) reach the workers even when the service
    was started without them: a worker that has read a scan (tesseract, the line reader, the glyph readers) runs on
    one thread."""
    script = (
        "import sys; from pathlib import Path; from pipeline.workers import ProcessRunner\n"
        "from tests.test_workers import _job\n"
        "with ProcessRunner(1, Path(sys.argv[1]), 1024, 120) as run:\n"
        "    job = _job(Path(sys.argv[2]), Path(sys.argv[3]))\n"
        "    run.result(run.submit(job), job)\n"
        "    pid = run.pids()[0]\n"
        "    env = Path(f'/proc/{pid}/environ').read_bytes().split(b'\\0')\n"
        "    threads = len(list(Path(f'/proc/{pid}/task').iterdir()))\n"
        "    print(b'OMP_THREAD_LIMIT=1' in env, b'OPENBLAS_NUM_THREADS=1' in env, threads)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS")}
    scan = FIXTURES / "scans" / "ansokan-samordning" / "application-complete-good.pdf"
    done = subprocess.run(
        [sys.executable, "-c", script, str(settings.forms_dir), str(scan), str(settings.outbox)],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.split() == ["True", "True", "1"], done.stderr


def test_a_new_worker_starts_with_what_a_scan_needs_loaded(settings: Settings) -> None:
    """The forkserver loads the line reader's network (and the lexicon, tesseract's English model, the fonts)
    before it forks a worker: a worker that has read nothing yet already has onnxruntime in its memory."""
    script = (
        "import sys; from pathlib import Path; from pipeline.workers import ProcessRunner\n"
        "with ProcessRunner(1, Path(sys.argv[1]), 1024, 120) as run:\n"
        "    maps = Path(f'/proc/{run.pids()[0]}/maps').read_bytes()\n"
        "    print(b'onnxruntime' in maps, b'tesserocr' in maps)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(settings.forms_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stdout.split() == ["True", "True"], done.stderr


def test_the_forkserver_freezes_what_it_loaded_so_the_workers_collector_leaves_it_alone() -> None:
    """Frozen before the first fork, the engines, tables and modules are never walked by a worker's collector nor
    written to by it, so their pages stay shared with the forkserver and the other workers."""
    script = "import gc, pipeline._forkserver; print(gc.get_freeze_count(), gc.get_count()[0])"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    frozen, young = map(int, done.stdout.split())
    assert frozen > 50_000 and young == 0, done.stderr


def test_warming_loads_the_scan_paths_tables_and_leaves_a_missing_part_to_the_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stages.warm()
    assert lexicon._lexicon.cache_info().currsize == 1
    assert lines._engine.cache_info().currsize == 2  # the line reader and the second opinion
    assert glyphs.net.cache_info().currsize == 1  # digits
    assert glyphs.letter_net.cache_info().currsize == 1  # capitals
    # Without the dictionary, warming goes on (the forkserver must not fail); the scan that needs it says why.
    monkeypatch.setattr(lexicon, "DICTIONARY", tmp_path / "sv_SE.dic")
    lexicon._lexicon.cache_clear()
    try:
        stages.warm()
        with pytest.raises(PipelineError, match="lexicon") as caught:
            lexicon.marks_doubtful("BORLANGE")
        assert "hunspell-sv" in caught.value.action
    finally:
        lexicon._lexicon.cache_clear()  # built again, from the real dictionary, by the next test that needs it


def test_a_document_error_from_a_worker_keeps_its_reason_and_action(runner: ProcessRunner, settings: Settings) -> None:
    """Errors cross the process boundary intact (what a mailroom person reads), and the worker stays."""
    broken = settings.state_dir / "broken.pdf"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"%PDF-1.7\nnothing else")
    job = _job(broken, settings.outbox)
    with pytest.raises(DocumentError) as caught:
        runner.result(runner.submit(job), job)
    assert caught.value.code == "unreadable_pdf" and "cut off" in caught.value.reason
    assert runner.replaced == 0


def test_a_result_crosses_from_the_worker_as_the_record_it_staged(
    runner: ProcessRunner, settings: Settings, specs: dict[str, FormSpec]
) -> None:
    """The record travels as its JSON and a summary; it is parsed on this side only when asked for: what arrives is
    the record the worker built and staged, field for field, with its letters."""
    job = replace(_job(NOTICES[0], settings.outbox), tmp_dir=settings.tmp_dir / "w")
    [result] = runner.result(runner.submit(job), job)
    summary = result.summary
    assert "record" not in vars(result), "registering a result needs only its summary: the record is not parsed yet"
    assert isinstance(result.record, CaseRecord) and result.record.letters
    assert summary == RecordSummary.of(result.record) == result.summary
    assert [path for path, _, _ in summary.letters] == result.letters
    assert result.staged is not None and result.staged.read_text(encoding="utf-8") == result.text
    assert result.record == CaseRecord.model_validate_json(result.text)
    assert result.record.to_json() == result.text
    in_process = read_input(replace(job, tmp_dir=settings.tmp_dir / "here"), specs)
    assert isinstance(in_process, list)
    assert in_process[0].record.fields == result.record.fields
    assert in_process[0].record.assessment == result.record.assessment


def test_the_same_bytes_read_twice_at_once_keep_each_its_own_staged_record(
    settings: Settings, specs: dict[str, FormSpec]
) -> None:
    """A mail's attachment and the same PDF dropped beside it are read side by side and make the same case: the
    second read must not replace the record the first staged (the first is recorded, the second is a duplicate)."""
    plain = replace(_job(NOTICES[0], settings.outbox), tmp_dir=settings.tmp_dir / "w")
    attachment = replace(plain, document_base="0123456789ab-2")
    first_read, second_read = read_input(attachment, specs), read_input(plain, specs)
    assert isinstance(first_read, list) and isinstance(second_read, list)
    [first], [second] = first_read, second_read
    assert first.summary.case_id == second.summary.case_id
    assert first.staged is not None and second.staged is not None
    assert json.loads(first.staged.read_text(encoding="utf-8"))["document_id"] == "0123456789ab-2-1"
    assert json.loads(second.staged.read_text(encoding="utf-8"))["document_id"] == f"{plain.sha256[:12]}-1"


@pytest.mark.parametrize(("short", "code"), [(True, "memory_limit"), (False, "internal_error")])
def test_a_librarys_own_error_is_a_lack_of_memory_only_where_memory_is_short(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, short: bool, code: str
) -> None:
    """onnxruntime reports a failed allocation as a RuntimeException of its own: where the worker cannot get memory
    either, the document is quarantined for memory (the action says which setting to raise); elsewhere it is an
    unexpected error, as before."""
    import pipeline.workers as workers

    class RuntimeException(Exception):
        pass

    def fail(job: Job, specs: object) -> None:
        raise RuntimeException("bad allocation")

    monkeypatch.setattr(workers, "read_input", fail)
    monkeypatch.setattr(workers, "short_of_memory", lambda size: short)
    monkeypatch.setattr(workers, "_MEMORY_MB", 1536)
    monkeypatch.setattr(workers.resource, "setrlimit", lambda *args: None)  # a worker's CPU limit, not pytest's
    with pytest.raises(DocumentError) as caught:
        workers._run(_job(NOTICES[0], settings.outbox))
    assert caught.value.code == code
    if short:
        assert "1536 MB" in caught.value.reason and "PIPELINE_WORKER_MEMORY_MB" in caught.value.action


def test_what_waits_in_a_workers_pipe_is_handed_over_without_ever_waiting() -> None:
    """The budget ``_widen`` gives a pipe holds in its buffer: sent without blocking while nobody reads (a busy
    worker), in messages the size of a filled 7429, as the slot hands them over."""
    mine, theirs = multiprocessing.Pipe()
    budget = workers._widen(mine)
    os.set_blocking(mine.fileno(), False)  # a send that would wait raises instead
    message = b"x" * 25_000
    handed = 0
    while handed + len(message) <= budget:
        mine.send_bytes(message)
        handed += len(message)
    assert handed >= 8 * len(message)  # eight filled 7429s even where net.core.wmem_max is Debian's default
    assert budget <= workers.PIPE_BUFFER
    theirs.close()
    mine.close()
