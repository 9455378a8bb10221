"""The service as `make run` starts it: a backlog waiting in the inbox, `pipeline watch` with 1 and then 2 workers.

Throughput is counted from the service's "watching the inbox" line (its workers are started and warm) until every
input has left the inbox and the work folder for the archive or quarantine: claim, read, record, letter, archive,
all of it real, fsyncs included. The backlog was there before the start, so it has long settled
(``PIPELINE_SETTLE_SECONDS=0``).

Measured from outside, in /proc, just before the service is stopped: each worker's RSS high-water mark (VmHWM, which
counts in full the engines and lexicon it shares with the forkserver and the other worker) and the memory it alone
holds (private pages), and the CPU time of the service's main process and of its workers since the start line, so
the figures say which side limits the throughput.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    workers: int
    inputs: int
    pages: int
    seconds: float
    peak_mb: list[float]  # per worker process
    private_mb: list[float]  # per worker process, at the end: its own pages, not those shared with the forkserver
    main_cpu: float  # seconds, the service's main process
    worker_cpu: float  # seconds, all workers together
    outcomes: dict[str, int]

    @property
    def per_second(self) -> float:
        return self.inputs / self.seconds

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the state on (the name may hold spaces)


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _private_mb(pid: int) -> float:
    """Pages the worker alone holds (its RSS less what it shares with the forkserver and its sibling, which loaded
    the engines and the lexicon once for all of them)."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def _workers(service: int) -> list[int]:
    """The worker processes: children of the service's forkserver."""
    for child in _children(service):
        if b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
            return sorted(_children(child))
    return []


# A log line that says what became of an input: recorded, to review, quarantined or a duplicate (not "postponed",
# which is tried again).
_CONCLUDED = re.compile(r'"message": "(?:document (?!postponed)|mail )')


def _empty(folder: Path) -> bool:
    """Whether a folder has no entry, from the first one listed (not a listing of the whole backlog)."""
    with os.scandir(folder) as entries:
        return next(entries, None) is None


def _running(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        raise RuntimeError(f"the service stopped (exit code {proc.returncode})")


def run_service(files: list[Path], pages: int, workers: int, state: Path) -> Run:
    inbox, outbox, var = state / "inbox", state / "outbox", state / "var"
    inbox.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, inbox / path.name)
    env = os.environ | {
        "PIPELINE_INBOX": str(inbox),
        "PIPELINE_OUTBOX": str(outbox),
        "PIPELINE_STATE_DIR": str(var),
        "PIPELINE_WORKERS": str(workers),
        "PIPELINE_SETTLE_SECONDS": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "watch"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    started, finished = threading.Event(), threading.Event()
    ended: list[float] = []  # when the last input's outcome was logged
    assert proc.stderr is not None
    stderr = proc.stderr

    def read_log() -> None:
        concluded = 0
        for line in stderr:
            if '"event": "start"' in line:
                started.set()
            elif _CONCLUDED.search(line):
                concluded += 1
                if concluded == len(files):
                    ended.append(time.perf_counter())
                    finished.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        if not started.wait(300):
            raise RuntimeError("the service did not start")
        start = time.perf_counter()
        # CPU spent starting (imports, forms, engines) is not the documents': counted from here.
        main_before = _cpu_seconds(proc.pid)
        workers_before = {pid: _cpu_seconds(pid) for pid in _workers(proc.pid)}
        work = var / "work"
        # The end is the log line of the last input's outcome (the service logs it once the file has moved on):
        # polling the folders instead cost this process about 0.5 ms a listing of the backlog, CPU that the
        # service's 2 workers then lacked. The folders are checked once it is logged, and polled only if an input
        # is still there (then that poll is the end).
        while not finished.wait(1.0):
            _running(proc)
        end = ended[0]
        while not (_empty(inbox) and _empty(work)):
            _running(proc)
            time.sleep(0.05)
            end = time.perf_counter()
        seconds = end - start
        pids = _workers(proc.pid)
        peaks = [_peak_mb(pid) for pid in pids]
        private = [_private_mb(pid) for pid in pids]
        worker_cpu = sum(_cpu_seconds(pid) - workers_before.get(pid, 0.0) for pid in pids)
        main_cpu = _cpu_seconds(proc.pid) - main_before
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        reader.join(5)
    db = sqlite3.connect(var / "register.sqlite3")
    outcomes = {row[0]: row[1] for row in db.execute("SELECT outcome, count(*) FROM documents GROUP BY outcome")}
    db.close()
    return Run(workers, len(files), pages, seconds, peaks, private, main_cpu, worker_cpu, outcomes)


def _spin(count: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(count):
        total += i * i
    return time.perf_counter() - start


def parallel_capacity(count: int = 20_000_000) -> float:
    """What the machine gives right now: how many times as much work two busy processes get done as one (2.0 on
    an idle machine with two free cores). On a shared machine the speed-up of 2 workers cannot exceed this."""
    import multiprocessing

    one = _spin(count)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        start = time.perf_counter()
        pool.map(_spin, [count, count])
        two = time.perf_counter() - start
    return 2 * one / two


def report(title: str, runs: dict[int, list[Run]], unit: str, capacity: float) -> float:
    """Each worker count was run several times, alternating (1, 2, 1, 2, …), so a slow spell of the shared machine
    falls on both; the median run of each stands for it. Returns the speed-up of 2 workers over 1."""

    def rate(r: Run) -> float:
        return r.per_second if unit == "documents" else r.pages_per_second

    print(f"\n{title}")
    medians = {}
    for n, rs in runs.items():
        rates = sorted(rate(r) for r in rs)
        r = sorted(rs, key=rate)[len(rs) // 2]
        medians[n] = rate(r)
        peaks = ", ".join(f"{mb:.0f}" for mb in r.peak_mb)
        private = ", ".join(f"{mb:.0f}" for mb in r.private_mb)
        spread = f" (runs: {', '.join(f'{x:.1f}' for x in rates)})" if len(rs) > 1 else ""
        print(
            f"  {n} worker{'s' if n > 1 else ' '}  {rate(r):7.1f} {unit}/s median{spread}, "
            f"{r.inputs} inputs in {r.seconds:5.1f} s; peak RSS per worker {peaks} MB "
            f"(its own at the end, not shared: {private} MB)"
        )
        print(
            f"             CPU per input: main process {r.main_cpu / r.inputs * 1000:6.1f} ms, "
            f"workers {r.worker_cpu / r.inputs * 1000:6.1f} ms   outcomes {r.outcomes}"
        )
    speedup = medians[2] / medians[1]
    paired = [rate(b) / rate(a) for a, b in zip(runs[1], runs[2], strict=True)]
    met = "met" if speedup >= 1.8 else "NOT met"
    print(
        f"  speed-up 2 workers / 1 worker {speedup:5.2f}x of the medians (target at least 1.8x: {met}); "
        f"round by round: {', '.join(f'{x:.2f}x' for x in paired)}"
    )
    print(
        f"  the machine meanwhile: two busy processes got {capacity:4.2f}x the work of one done "
        f"(2.00 with two free cores); the speed-up is {speedup / capacity:4.0%} of what it allowed"
    )
    return speedup
