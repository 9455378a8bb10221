"""Worker processes: untrusted bytes are parsed only here, under memory and CPU limits.

One process per core by default; each keeps its form definitions, fonts and libraries loaded for its whole life
(no process start per document). A worker that dies (a limit, a crash in a parser) breaks the pool: the document it
held is quarantined with the likely reason and the pool is started again, so the service keeps going.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pipeline import logs
from pipeline.conductor import read_input
from pipeline.errors import DocumentError, LimitExceededError, PipelineError
from pipeline.formspec import FormSpec, load_forms
from pipeline.stages import Job, Read

_SPECS: Mapping[str, FormSpec] = {}
_CPU_SECONDS = 0


class InternalError(DocumentError):
    code = "internal_error"
    step = "read"
    action = "The pipeline failed on this document. Keep it here and report its document id to the team."


def _init(forms_dir: Path, memory_mb: int, cpu_seconds: int, log_level: int) -> None:
    """Runs once per worker: limits first, then load what every document needs."""
    global _SPECS, _CPU_SECONDS
    logs.configure(logging.getLevelName(log_level))
    # The service stops its workers itself after finishing the documents they hold: a Ctrl-C reaching the whole
    # process group must not kill a worker mid-document. (SIGTERM stays: the pool uses it to end broken workers.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["OMP_THREAD_LIMIT"] = "1"  # tesseract's own threading is slower on a small machine
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _CPU_SECONDS = cpu_seconds
    _SPECS = load_forms(forms_dir)
    import pipeline.letters as letters  # noqa: F401  (fonts register at import, once per worker)


def _run(job: Job) -> Read:
    """One document. The CPU limit is re-armed per document: soft limit = CPU used so far + the budget."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (spent + _CPU_SECONDS, hard))
    try:
        return read_input(job, _SPECS)
    except DocumentError:
        raise
    except MemoryError as exc:
        raise LimitExceededError("Reading the document needed more memory than allowed.") from exc
    except RecursionError as exc:
        raise LimitExceededError("The document is nested too deeply to read safely.") from exc
    except PipelineError as exc:
        raise InternalError(exc.reason) from exc
    except Exception as exc:  # a parser bug must not stop the service; the document keeps its place
        raise InternalError(f"Unexpected {type(exc).__name__} while reading the document.") from exc


class ProcessRunner:
    def __init__(self, workers: int, forms_dir: Path, memory_mb: int, cpu_seconds: int) -> None:
        self._args = (forms_dir, memory_mb, cpu_seconds, logging.getLogger("pipeline").getEffectiveLevel())
        self._workers = workers
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        return ProcessPoolExecutor(self._workers, mp_context=ctx, initializer=_init, initargs=self._args)

    def submit(self, job: Job) -> Future[Read]:
        try:
            return self._pool.submit(_run, job)
        except BrokenProcessPool:
            self._restart()
            return self._pool.submit(_run, job)

    def result(self, future: Future[Read], job: Job) -> Read:
        """A broken pool fails every document in flight; each is tried once more alone, so only the one that
        breaks a worker again is quarantined."""
        try:
            return future.result()
        except BrokenProcessPool:
            self._restart()
        try:
            return self._pool.submit(_run, job).result()
        except BrokenProcessPool as exc:
            self._restart()
            raise LimitExceededError(
                "The worker reading this document stopped: it needed more memory or CPU time than allowed, "
                "or a parser crashed on it."
            ) from exc

    def _restart(self) -> None:
        if not getattr(self._pool, "_broken", False):
            return  # another document's retry has already started a fresh pool
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ProcessRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
