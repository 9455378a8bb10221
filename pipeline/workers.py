"""Worker processes: untrusted bytes are parsed only here, under a memory, a CPU and a wall-clock limit.

One process per core by default (setting ``workers``). Each keeps its form definitions, OCR engines, lexicon, page
templates and fonts loaded for its whole life: no process start per document. What does not depend on the settings is
loaded once by the forkserver the workers are forked from (``stages.warm``), so a worker, a replacement too, reads its
first scan as fast as the next. The service side has one thread per worker (a "slot") that hands its worker documents
over a pipe, reads them one at a time, and waits for each answer no longer than the wall-clock limit. Small documents
are handed over while the one before is still being read, so the worker never waits for the slot between documents; and
while more are waiting for it, a worker answers a few quick ones in one message, so its slot wakes once for several
(each wake-up costs the service more than the answer itself). Which document a worker is reading is in memory both sides
see, so a death is blamed on the right one::

    Intake ─submit(job)─▶ queue ─▶ slot thread i ─pipe─▶ worker process i    RLIMIT_AS; RLIMIT_CPU re-armed per document
                                    └ no answer within worker_wall_seconds: SIGKILL, a new worker, TimeLimitError

A worker that dies (the CPU limit's SIGXCPU, a parser crashing, the system's out-of-memory killer) or overruns the
wall clock is replaced by its slot; only the document it was reading is affected, and it is quarantined with the limit
it hit in words a mailroom person can act on (the others it held, read but not yet answered or not started, go to the
new worker). The other slots go on meanwhile. A death with no limit to blame is given one more try on a fresh worker
first, so a document is not quarantined for something that happened to its worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import gc
import logging
import math
import multiprocessing
import os
import queue
import resource
import select
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from pipeline import logs
from pipeline.conductor import read_input
from pipeline.errors import DocumentError, LimitExceededError, PipelineError
from pipeline.formspec import FormSpec, load_forms
from pipeline.limits import short_of_memory
from pipeline.stages import Job, Read

log = logging.getLogger("pipeline.workers")

_SPECS: Mapping[str, FormSpec] = {}
_CPU_SECONDS = 0
_MEMORY_MB = 0
START_SECONDS = 120.0  # a new worker imports its libraries and loads the forms; generous on a loaded machine


class InternalError(DocumentError):
    code = "internal_error"
    step = "read"
    action = "The pipeline failed on this document. Keep it here and report its document id to the team."


class MemoryLimitError(LimitExceededError):
    code = "memory_limit"
    step = "read"
    action = (
        "The file is probably a very large scan or image. Scan it again at 300 dpi or less, or in smaller parts, and "
        "put it in the inbox again. If such files are normal here, ask the team to raise PIPELINE_WORKER_MEMORY_MB."
    )


class CpuLimitError(LimitExceededError):
    code = "cpu_limit"
    step = "read"
    action = (
        "Split the file into smaller parts (fewer pages per file) and put them in the inbox again. If such files are "
        "normal here, ask the team to raise PIPELINE_WORKER_CPU_SECONDS."
    )


class TimeLimitError(LimitExceededError):
    code = "time_limit"
    step = "read"
    action = (
        "Split the file into smaller parts (fewer pages per file) and put them in the inbox again. If this happens "
        "to ordinary files, the machine is overloaded or PIPELINE_WORKER_WALL_SECONDS is too low: tell the team."
    )


class WorkerCrashError(DocumentError):
    code = "worker_crashed"
    step = "read"
    action = (
        "The file may be damaged. Ask the sender for a new copy; if it happens again, keep the file here and report "
        "its document id to the team."
    )


class OutsideDocumentError(OSError):
    """A write failed for a reason outside the document (the disk is full): sent to the service as the bare error
    number, which postpones the document (failed-transient, tried again after a back-off) instead of quarantining
    it. The file name is left out: it is the worker's, and the service has no use for it."""


# Errors of the disk, not the document, when a worker writes a letter or a staged record.
OUTSIDE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
# What a worker must still be able to allocate after a library's unexpected error for that error not to be a lack of
# memory (onnxruntime, for one, reports a failed allocation as a RuntimeException).
MEMORY_PROBE = 64 * 1024 * 1024


class WorkerStartError(PipelineError):
    """Not a document's fault: the service cannot read anything until this is fixed."""

    step = "workers"
    action = "Check the installation (`make setup`) and the form definitions, then start the service again."


# --- the worker process ------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: be killed when the forkserver (our parent, which exits with the service) goes, so no orphan keeps
    reading or writing letters after the service was killed."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _init(forms_dir: Path, memory_mb: int, cpu_seconds: int, log_level: int) -> None:
    """Runs once per worker: limits first, then load what every document needs."""
    global _SPECS, _CPU_SECONDS, _MEMORY_MB
    _die_with_parent()
    # Ctrl-C and a group's SIGTERM reach the workers too; the service decides what stops (see pipeline._forkserver).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.configure(logging.getLevelName(log_level))
    os.environ["OMP_THREAD_LIMIT"] = "1"  # tesseract's own threading is slower on a small machine
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump a core of every overrun
    _CPU_SECONDS, _MEMORY_MB = cpu_seconds, memory_mb
    _SPECS = load_forms(forms_dir)  # the rest (engines, lexicon, fonts) the forkserver loaded: stages.warm
    gc.freeze()  # the forms too, like what the forkserver loaded: kept for the worker's life, never collected


def _run(job: Job) -> Read:
    """One document. The CPU limit is re-armed per document: soft limit = CPU used so far + the budget (whole
    seconds, rounded up so the budget is never cut short), so the kernel's SIGXCPU ends a document that spins,
    wherever it spins (in C code too)."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = math.ceil(used.ru_utime + used.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = spent + _CPU_SECONDS if hard == resource.RLIM_INFINITY else min(spent + _CPU_SECONDS, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    try:
        return read_input(job, _SPECS)
    except DocumentError:
        raise
    except OSError as exc:
        if exc.errno in OUTSIDE_ERRNOS:  # the disk, not the document: the service tries it again later
            raise OutsideDocumentError(exc.errno, os.strerror(exc.errno)) from None
        raise InternalError(f"Unexpected {type(exc).__name__} while reading the document.") from exc
    except MemoryError as exc:
        raise MemoryLimitError(
            f"Reading the document needed more memory than allowed (the limit is {_MEMORY_MB} MB)."
        ) from exc
    except RecursionError as exc:
        raise LimitExceededError("The document is nested too deeply to read safely.") from exc
    except PipelineError as exc:
        raise InternalError(exc.reason) from exc
    except Exception as exc:  # a parser bug must not stop the service; the document keeps its place
        if short_of_memory(MEMORY_PROBE):  # a C library's failed allocation arrives as an error of its own kind
            raise MemoryLimitError(
                f"Reading the document needed more memory than allowed (the limit is {_MEMORY_MB} MB)."
            ) from exc
        raise InternalError(f"Unexpected {type(exc).__name__} while reading the document.") from exc


def _peak_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _serve(conn: Connection, progress: Any, forms_dir: Path, memory_mb: int, cpu_seconds: int, log_level: int) -> None:
    """A worker's life: ready, then one job at a time until the pipe closes. Answers go back as lists: a quick
    document's answer waits while another document is already waiting (at most ``BATCH``), so the slot reads
    several at once. ``progress`` (shared with the slot) counts the documents started and finished, so a death is
    blamed on the document being read, not on one whose answer was waiting. Each answer carries the worker's RSS
    high-water mark. After running out of memory the worker leaves, so a fresh one (clean heap) takes its place."""
    _init(forms_dir, memory_mb, cpu_seconds, log_level)
    conn.send([("ready", os.getpid(), _peak_kb())])
    waiting = select.poll()
    waiting.register(conn.fileno(), select.POLLIN)
    answers: list[tuple[str, Any, int]] = []
    while True:
        try:
            job = conn.recv()
            if job is not None:  # its bytes follow as they are: never pickled, copied once less each side
                job = dataclasses.replace(job, data=conn.recv_bytes())
        except EOFError:
            job = None
        if job is None:
            if answers:
                conn.send(answers)
            return
        progress[STARTED] += 1
        began = time.monotonic()
        try:
            answer: tuple[str, Any, int] = ("ok", _run(job), _peak_kb())
        except (DocumentError, OutsideDocumentError) as exc:
            exc.__cause__ = exc.__context__ = None  # the chain stays here: it may quote document content
            answer = ("error", exc, _peak_kb())
        progress[FINISHED] += 1
        answers.append(answer)
        leaving = isinstance(answer[1], MemoryLimitError)
        quick = time.monotonic() - began < BATCH_SECONDS
        if quick and not leaving and len(answers) < BATCH and waiting.poll(0):
            continue  # the next document is here: read it, answer both together
        try:
            conn.send(answers)
        except MemoryError:
            error = MemoryLimitError("The result of the document needed more memory than allowed.")
            conn.send([*answers[:-1], ("error", error, 0)])
            return
        answers = []
        if leaving:
            return


# --- the service side --------------------------------------------------------------------------------------------


class _Stopped(Exception):
    """The worker is gone: killed for the wall clock (``overran``) or dead with ``exitcode``."""

    def __init__(self, exitcode: int | None, overran: bool = False) -> None:
        super().__init__(exitcode)
        self.exitcode = exitcode
        self.overran = overran


class _Worker:
    def __init__(self, ctx: ForkServerContext, args: tuple[Any, ...]) -> None:
        self.conn, child = ctx.Pipe()
        self.ahead_bytes = min(AHEAD_BYTES, _widen(self.conn))
        self._answers = select.poll()  # kept: Connection.poll builds a selector for every call
        self._answers.register(self.conn.fileno(), select.POLLIN)
        self._received: deque[tuple[str, Any, int]] = deque()  # answers read from the pipe, not yet taken
        self.answered = 0
        self.progress = ctx.RawArray("q", 2)  # documents started, finished: counters in memory both sides see
        self.process = ctx.Process(
            target=_serve, args=(child, self.progress, *args), daemon=True, name="pipeline-worker"
        )
        self.process.start()
        child.close()
        try:
            ready = self.conn.poll(START_SECONDS)
            if ready:
                [(_, self.pid, self.peak_kb)] = self.conn.recv()
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop(kill=True)
            raise WorkerStartError(f"A worker process could not start (exit code {self.process.exitcode}).")

    def send(self, head: bytes, data: bytes) -> None:
        """Hand over a pickled job (``head``, without its bytes) and then its bytes; the worker reads it when it is
        done with the ones before. A worker that is gone is found out by ``answer``."""
        with contextlib.suppress(OSError):
            self.conn.send_bytes(head)
            self.conn.send_bytes(data)

    def answer(self, wall_seconds: float) -> tuple[str, Any]:
        """The answer to the oldest job handed over, waited for at most ``wall_seconds``."""
        if not self._received:
            try:
                if not self._answers.poll(math.ceil(wall_seconds * 1000)):  # readable, or the worker hung up
                    self.stop(kill=True)
                    raise _Stopped(self.process.exitcode, overran=True)
                self._received.extend(self.conn.recv())
            except (EOFError, OSError) as exc:
                self.stop(kill=False)
                raise _Stopped(self.process.exitcode) from exc
        kind, payload, peak = self._received.popleft()
        self.answered += 1
        self.peak_kb = max(self.peak_kb, peak)
        return kind, payload

    def reading(self) -> int | None:
        """Once the worker is stopped: which of the jobs not yet answered it was reading (0: the oldest), or None
        if it was between documents (its answers to the ones it finished, if any, never came)."""
        started, finished = self.progress[STARTED], self.progress[FINISHED]
        return started - self.answered - 1 if started > finished else None

    def stop(self, kill: bool) -> None:
        if kill and self.process.is_alive():
            self.process.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _death_error(exitcode: int | None, memory_mb: int, cpu_seconds: int, last: bool) -> DocumentError | None:
    """What a mailroom person is told when the worker reading a document died; None: try once more on a new
    worker first. The CPU limit is certain (the kernel's SIGXCPU); a SIGKILL we did not send is the system's
    out-of-memory killer, which may have picked our worker for another's appetite, so it gets a second try."""
    if exitcode == -signal.SIGXCPU:
        return CpuLimitError(f"Reading the document used more processor time than allowed ({cpu_seconds} s).")
    if not last:
        return None
    if exitcode == -signal.SIGKILL:
        return MemoryLimitError(
            f"Reading the document needed more memory than the machine could give (the limit is {memory_mb} MB)."
        )
    return WorkerCrashError(
        f"The worker process reading the document stopped unexpectedly, twice (exit code {exitcode})."
    )


@dataclass
class _Sent:
    """A document handed to a worker: its job, its future, and the job pickled once without its bytes (both sent
    again to a new worker if its worker stops before answering it); ``deaths``: workers that died reading it."""

    job: Job
    future: Future[Read]
    head: bytes
    deaths: int = 0

    @property
    def size(self) -> int:
        return len(self.head) + len(self.job.data)


def _fail(entries: Iterable[_Sent], exc: BaseException) -> None:
    for entry in {id(e): e for e in entries}.values():
        if not entry.future.done():
            entry.future.set_exception(exc)


# Answers a worker may hold back while more documents wait for it, and only of documents read this quickly: in a
# backlog of filled 7429s (about 6 ms each) each slot wakes once per sixteen, or per as many as its pipe holds
# (``_widen``: eight with a stock net.core.wmem_max); a scan's answer is never held. Each wake-up costs the
# service's process more than the answers it reads: with 2 workers over 1000 filled 7429s (A/B, 6 rounds each),
# eight instead of four took its CPU from 0.52 to 0.43 ms per document, sixteen instead of eight to 0.405.
BATCH = 16
BATCH_SECONDS = 0.05
STARTED, FINISHED = 0, 1  # the counters in a worker's ``progress``
AHEAD = BATCH + 1  # documents in a worker's hands at once: the one it reads and those waiting in its pipe
# What waits in the pipe stays under this many bytes, and under what its buffer holds (``_widen``): so handing a
# document over never blocks while the worker is busy (a scan of several MB would wait for the worker, which may wait
# for its answer to be read). A filled 7429 is about 25 KB.
AHEAD_BYTES = 512 * 1024
PIPE_BUFFER = 1024 * 1024  # asked of the kernel for the service's end; it grants at most net.core.wmem_max


def _widen(conn: Connection) -> int:
    """Widen the send buffer of the service's end of a worker's pipe (a socket pair); returns the bytes that may
    wait in it. The kernel reports twice what was granted (the rest is for its own bookkeeping), so half counts."""
    with socket.socket(fileno=os.dup(conn.fileno())) as sock:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BUFFER)
        granted: int = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        return granted // 2


class ProcessRunner:
    """``submit`` queues a document; a free slot's worker reads it. ``result`` returns the results or raises the
    DocumentError to quarantine it with."""

    def __init__(
        self, workers: int, forms_dir: Path, memory_mb: int, cpu_seconds: int, wall_seconds: float = 300.0
    ) -> None:
        # Set before the forkserver starts, so every worker inherits them before any OCR library is loaded: one
        # thread per worker, as there is one worker per core. OpenBLAS (numpy's, for the glyph readers) would
        # otherwise start a thread per core in every worker, which only spins when all the workers are busy.
        os.environ["OMP_THREAD_LIMIT"] = "1"
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        ctx = multiprocessing.get_context("forkserver")
        assert isinstance(ctx, ForkServerContext)
        # The forkserver imports the heavy modules once; a replacement worker is a fork of it, ready in a moment.
        ctx.set_forkserver_preload(["pipeline.workers", "pipeline._forkserver"])
        self._ctx = ctx
        self._args = (forms_dir, memory_mb, cpu_seconds, logging.getLogger("pipeline").getEffectiveLevel())
        self._memory_mb, self._cpu_seconds, self._wall_seconds = memory_mb, cpu_seconds, wall_seconds
        self._queue: queue.SimpleQueue[tuple[Job, Future[Read]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._peaks: dict[int, int] = {}
        self.replaced = 0
        self._workers: list[_Worker | None] = [None] * workers
        self._slots = [
            threading.Thread(target=self._slot, args=(i,), name=f"slot-{i}", daemon=True) for i in range(workers)
        ]
        # Started now, one after the other: the service is warm when the first file comes, and a worker that
        # cannot start stops the service at start-up, loudly.
        try:
            for index in range(workers):
                self._workers[index] = _Worker(ctx, self._args)
        except WorkerStartError:
            for worker in self._workers:
                if worker is not None:
                    worker.stop(kill=True)
            raise
        # What may wait in each worker's pipe: the least any was granted (the same system limit holds for all, and a
        # replacement's pipe is granted the same).
        self._ahead_bytes = min((w.ahead_bytes for w in self._workers if w is not None), default=AHEAD_BYTES)
        for slot in self._slots:
            slot.start()

    def submit(self, job: Job) -> Future[Read]:
        future: Future[Read] = Future()
        self._queue.put((job, future))
        return future

    def result(self, future: Future[Read], job: Job) -> Read:
        return future.result()

    def pids(self) -> list[int]:
        """Process ids of the workers now running (a slot whose worker was stopped starts one at its next document)."""
        with self._lock:
            return [w.pid for w in self._workers if w is not None]

    def peak_rss_kb(self) -> dict[int, int]:
        """Each worker process's RSS high-water mark so far (KiB), by process id."""
        with self._lock:
            return dict(self._peaks)

    def _slot(self, index: int) -> None:
        """Feed slot ``index``'s worker and collect its answers in order. A small next document is handed over
        before the current one is answered, so the worker starts it at once instead of waiting for this thread
        (a thread switch, and on a virtual machine a wake-up of an idle core: about 0.6 ms per 7429, measured)."""
        sent: deque[_Sent] = deque()  # handed to the worker, oldest first: the first is the one being read
        held: _Sent | None = None  # taken from the queue, too large to hand over yet: it waits for room
        closing = False
        try:
            while True:
                while not closing and held is None and len(sent) < AHEAD:
                    item = self._take(wait=not sent)
                    if item is None:
                        closing = True
                    if not isinstance(item, tuple):
                        break
                    job, future = item
                    if future.set_running_or_notify_cancel():
                        entry = _Sent(job, future, bytes(ForkingPickler.dumps(dataclasses.replace(job, data=b""))))
                        if self._fits(entry, sent):
                            self._send_or_fail(index, [entry], sent)
                        else:
                            held = entry  # could fill the pipe while the worker is busy writing its answer
                if held is not None and self._fits(held, sent):
                    self._send_or_fail(index, [held], sent)
                    held = None
                if not sent:
                    if closing:
                        return
                    continue
                entry = sent.popleft()
                try:
                    results = self._read(index, entry, sent)
                except WorkerStartError as exc:
                    _fail([entry, *sent], exc)
                    sent.clear()
                except BaseException as exc:  # DocumentError to quarantine; anything else stops the service
                    entry.future.set_exception(exc)
                else:
                    entry.future.set_result(results)
        finally:
            worker = self._workers[index]
            if worker is not None:
                self._note_peak(worker)
                worker.stop(kill=False)

    def _fits(self, entry: _Sent, sent: deque[_Sent]) -> bool:
        """Whether ``entry`` may be handed over now: the worker's hands are empty, or it fits in the pipe beside the
        documents waiting there (``sent`` less the first, which the worker is reading)."""
        return not sent or sum(e.size for e in sent) - sent[0].size + entry.size <= self._ahead_bytes

    def _take(self, wait: bool) -> tuple[Job, Future[Read]] | bool | None:
        """The next queued document; None: the runner closes; False: none queued (when not waiting)."""
        if wait:
            return self._queue.get()
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return False

    def _send(self, index: int, entries: list[_Sent], sent: deque[_Sent]) -> None:
        """Hand documents to the slot's worker (a new one if it was stopped), in order. If no worker can start,
        they join ``sent`` anyway, to fail with the rest (WorkerStartError)."""
        worker = self._workers[index]
        if worker is None:
            try:
                worker = self._workers[index] = _Worker(self._ctx, self._args)
            except WorkerStartError:
                sent.extend(entries)
                raise
        for entry in entries:
            worker.send(entry.head, entry.job.data)
            sent.append(entry)

    def _send_or_fail(self, index: int, entries: list[_Sent], sent: deque[_Sent]) -> None:
        try:
            self._send(index, entries, sent)
        except WorkerStartError as exc:  # nothing can be read until this is fixed: what this slot holds fails
            _fail(sent, exc)
            sent.clear()

    def _read(self, index: int, entry: _Sent, sent: deque[_Sent]) -> Read:
        """The answer for ``entry`` from slot ``index``'s worker, replacing the worker when it stops. What it held
        and had not answered (``entry`` and ``sent``, in order: read but not answered yet, or not started) goes to a
        new worker again, except the document it was reading when it stopped, if that one is to blame."""
        while True:
            worker = self._workers[index]
            assert worker is not None
            try:
                kind, payload = worker.answer(self._wall_seconds)
            except _Stopped as stopped:
                held = [entry, *sent]
                reading = worker.reading()
                culprit = held[reading] if reading is not None and reading < len(held) else entry
                culprit.deaths += 1
                error: DocumentError | None
                if stopped.overran:
                    error = TimeLimitError(
                        f"Reading the document took longer than allowed ({self._wall_seconds:g} s) and was stopped."
                    )
                else:
                    last = culprit.deaths >= 2
                    error = _death_error(stopped.exitcode, self._memory_mb, self._cpu_seconds, last=last)
                why = "time_limit" if stopped.overran else f"exit {stopped.exitcode}"
                again = [e for e in held if e is not culprit or error is None]
                self._replace(index, f"{culprit.job.sha256[:12]}-0", why, again, sent)
                if error is not None and culprit is entry:
                    raise error from None
                if error is not None:
                    culprit.future.set_exception(error)
                sent.popleft()  # ``entry`` again, answered next
                continue
            self._note_peak(worker)
            if kind == "error":
                if isinstance(payload, MemoryLimitError):  # the worker leaves after this; start afresh
                    self._replace(index, f"{entry.job.sha256[:12]}-0", "memory_limit", list(sent), sent)
                raise payload
            read: Read = payload
            return read

    def _note_peak(self, worker: _Worker) -> None:
        with self._lock:
            self._peaks[worker.pid] = max(self._peaks.get(worker.pid, 0), worker.peak_kb)

    def _replace(self, index: int, document_id: str, why: str, unstarted: list[_Sent], sent: deque[_Sent]) -> None:
        """The slot's worker is stopped (killed if need be); the documents it had not started (``unstarted``, which
        become ``sent``) go to a new one, in order. With none, the next document starts a new one."""
        sent.clear()
        worker = self._workers[index]
        self._workers[index] = None
        if worker is not None:
            self._note_peak(worker)
            worker.stop(kill=True)
        with self._lock:
            self.replaced += 1
        log.warning(
            "worker replaced (%s)", why, extra={"document_id": document_id, "event": "worker_replaced", "code": why}
        )
        if unstarted:
            self._send(index, unstarted, sent)

    def close(self) -> None:
        """Queued documents that no worker has started are cancelled; each worker finishes the ones in its hands
        (the one it reads, and the next if it was handed over ahead)."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].cancel()
        for _ in self._slots:
            self._queue.put(None)
        for slot in self._slots:
            slot.join()

    def __enter__(self) -> ProcessRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
