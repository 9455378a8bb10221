"""Watch the inbox: file-system events plus a listing at start and a periodic rescan as a safety net; in polling
mode (network shares, where events never arrive) only the listing, every ``poll_seconds``.

Every file seen gets a ledger row (``received``). It is taken only once it has settled (size and mtime unchanged for
``settle_seconds``, and it opens), never while it is named like a partial or temporary file (``*.part``, ``*.tmp``,
``*.crdownload``, ``~$*``, hidden). A folder dropped into the inbox is taken file by file; the emptied folder is left
where it is (removing it could race a person still copying into it). A settled file is claimed: the ledger row says
``claimed`` first, then the file is renamed into the state folder's work area, so it is taken once and a crash in
between is recognised at restart. From there it moves on to the archive or quarantine, never back.

A claimed file is opened once, without following links, and refused unless it is a plain file with one name (see
:func:`pipeline.conductor.read_claimed`): links, hard links, FIFOs and devices go to quarantine unread.

SIGTERM and SIGINT stop the intake: no new file is claimed, the documents already with the workers are finished,
and the process exits 0. Files claimed but not finished (a crash) are finished first at the next start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import gc
import itertools
import logging
import math
import os
import secrets
import select
import signal
import stat
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.inotify import InotifyEmitter, InotifyObserver
from watchdog.observers.inotify_c import InotifyConstants, Mask

from pipeline import signals
from pipeline.conductor import Intake
from pipeline.config import Settings
from pipeline.fsutil import private_dir
from pipeline.imap import Poller
from pipeline.outputs import safe_name
from pipeline.register import Register
from pipeline.service import open_intake
from pipeline.stages import Input

log = logging.getLogger("pipeline.watch")

T = TypeVar("T")
STAGING = ".pipeline-claimed"  # inside the inbox, hidden: claims on a file system other than the state folder's


def is_partial(name: str) -> bool:
    return name.startswith((".", "~$")) or name.endswith((".part", ".tmp", ".crdownload"))


class Wake:
    """Wake-ups from file-system events and from signals, through a pipe. A signal handler runs in the main thread
    wherever it was interrupted, even inside the lock a queue.Queue would take: a queue there deadlocked the stop."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

    def set(self) -> None:
        with contextlib.suppress(BlockingIOError):  # a full pipe already wakes the loop
            os.write(self._write, b"!")

    def wait(self, timeout: float) -> None:
        """Until woken or ``timeout`` seconds; a burst of wake-ups is one."""
        select.select([self._read], [], [], max(timeout, 0))
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 4096):
                pass


# Only what can announce a new file: not opens, reads, writes or deletions (the settle check opens every file, and
# each claim's rename out of the inbox is an event too). A file being written is seen at its creation and watched
# until it settles; the periodic rescan catches anything events miss.
ARRIVALS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirMovedEvent,
]


class _ArrivalsEmitter(InotifyEmitter):
    """Asks the kernel for moves into the inbox, not out of it. Every claim is a rename out of the inbox; with
    IN_MOVED_FROM in the mask, each claim woke watchdog's reader thread, and its emitter again half a second later
    (a move out is held that long for a matching move in), on the cores the workers read on, for an event nobody
    uses: in a backlog of filled 7429s, about one thread wake-up per document in all, half of the service's."""

    def get_event_mask_from_filter(self) -> Mask:
        return Mask(super().get_event_mask_from_filter() & ~InotifyConstants.IN_MOVED_FROM)


class _ArrivalsObserver(InotifyObserver):
    """watchdog's inotify observer with the emitter above (tests/test_watch.py reads the mask the kernel holds, so
    a watchdog that stops using it is noticed)."""

    def __init__(self) -> None:
        super().__init__()
        self._emitter_class = _ArrivalsEmitter


class _Events(FileSystemEventHandler):
    def __init__(self, wake: Wake) -> None:
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.wake.set()


def candidates(inbox: Path) -> Iterator[Path]:
    """Every entry that is not a folder, in folders too, without following links (a link is a candidate: it is
    refused once claimed). Partial names and hidden folders are skipped."""
    try:
        entries = sorted(os.scandir(inbox), key=lambda e: e.name)
    except FileNotFoundError:  # a dropped folder that was emptied and removed meanwhile
        return
    for entry in entries:
        if is_partial(entry.name):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from candidates(Path(entry.path))
        else:
            yield Path(entry.path)


@dataclass
class Sighting:
    """A file in the inbox: its ledger row, and what it looked like when last listed."""

    arrival: int
    received_at: str  # when first seen, as the ledger row has it
    size: int = -1
    mtime: float = -1.0
    since: float = 0.0
    settled: bool = False


def settled(path: Path, seen: Sighting, settle: float) -> bool:
    """True once size and mtime have stayed the same for ``settle`` seconds and a plain file opens. Links, FIFOs
    and devices are never opened here: they settle on their own and are refused once claimed."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return False
    now = time.monotonic()
    if (st.st_size, st.st_mtime) != (seen.size, seen.mtime):
        seen.size, seen.mtime, seen.since = st.st_size, st.st_mtime, now
        if settle > 0:
            return False
    if now - seen.since < settle:
        return False
    if stat.S_ISREG(st.st_mode):
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC))
        except OSError:  # still locked by the writer (network shares), or not readable yet
            return False
    return True


class Inbox:
    """What the service knows of the inbox between listings, mirrored in the ledger."""

    def __init__(self, settings: Settings, register: Register) -> None:
        self.settings = settings
        self.register = register
        self.seen: dict[str, Sighting] = {}
        for row in register.sightings():  # the last run's sightings: settling starts again
            self.seen[_listed(row["inbox_path"])] = Sighting(int(row["id"]), row["received_at"])

    def ready(self) -> list[tuple[Path, Sighting]]:
        """List the inbox; return the settled files, oldest sighting first."""
        return list(self.settled())

    def settled(self) -> Iterator[tuple[Path, Sighting]]:
        """List the inbox and yield its settled files, oldest sighting first: those sighted before, then new ones
        as the listing finds them, a few at a time (one commit for each few). So a large backlog starts flowing to
        the workers while the rest of it is still being listed. A consumer may claim what it was given meanwhile."""
        inbox = self.settings.inbox
        known = sorted(self.seen.items(), key=lambda item: item[1].arrival)
        if known:  # no write lock for nothing: most passes of a quiet inbox know no file
            with self.register.transaction():
                known = [(r, seen) for r, seen in known if self._settled(inbox / r, seen)]
            yield from ((inbox / relative, seen) for relative, seen in known)
        present: set[str] = set()
        for chunk in _chunks(candidates(inbox), LIST_AT_ONCE):
            found = []
            with self.register.transaction():
                for path in chunk:
                    relative = _relative(inbox, path)
                    present.add(relative)
                    if relative in self.seen:  # sighted before: looked at above
                        continue
                    seen = Sighting(*self.register.sight(_stored(relative), safe_name(path.name)))
                    self.seen[relative] = seen
                    if self._settled(path, seen):
                        found.append((path, seen))
            yield from found
        gone = [r for r in self.seen if r not in present]
        if gone:
            with self.register.transaction():
                for relative in gone:
                    self.register.forget(self.seen.pop(relative).arrival)

    def _settled(self, path: Path, seen: Sighting) -> bool:
        if not settled(path, seen, self.settings.settle_seconds):
            return False
        if not seen.settled:
            self.register.mark(seen.arrival, "settled")
            seen.settled = True
        return True

    def claim(self, path: Path, seen: Sighting) -> Input | None:
        return next(self.claim_all([(path, seen)], lambda: False), None)

    def claim_all(self, ready: Iterable[tuple[Path, Sighting]], stopped: Callable[[], bool]) -> Iterator[Input]:
        """Claim settled files a few at a time, until ``stopped``: the ledger first (one commit for the few), then
        each file's atomic rename into the work area (a rename moves a link or FIFO as the entry it is: nothing is
        opened or followed). A crash in between is recognised at restart (a claimed row whose file is still in the
        inbox waits again). A file someone else took first is simply gone. An inbox on another file system (a network
        share) cannot be renamed into the state folder: the file is claimed by a rename into the inbox's hidden
        staging folder instead, read from there, and copied (fsynced) on to the archive."""
        for few in _chunks(ready, CLAIM_AT_ONCE, lambda item: max(item[1].size, 0), CLAIM_BYTES):
            if stopped():
                return
            chunk = [(path, seen, f"{secrets.token_hex(8)}{path.suffix.lower()[:6]}") for path, seen in few]
            with self.register.transaction():
                for _path, seen, work_name in chunk:
                    self.register.claim(seen.arrival, work_name)
            claimed = [self._move_in(path, seen, work_name) for path, seen, work_name in chunk]
            yield from (given for given in claimed if given is not None)

    def _move_in(self, path: Path, seen: Sighting, work_name: str) -> Input | None:
        self.seen.pop(_relative(self.settings.inbox, path), None)
        target = self.settings.work_dir / work_name
        try:
            try:
                os.rename(path, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                target = private_dir(staging(self.settings)) / work_name
                os.rename(path, target)
        except FileNotFoundError:  # taken away meanwhile: it was never ours
            with self.register.transaction():
                self.register.mark(seen.arrival, "received", work_name=None)
                self.register.forget(seen.arrival)
            return None
        return Input(target, safe_name(path.name), seen.arrival, dt.datetime.fromisoformat(seen.received_at))


GC_THRESHOLDS = (20_000, 20, 20)  # CPython's default is (700, 10, 10)
# Files claimed per ledger commit: up to 32, and no more once they hold 1 MB. A stop waits for the claimed ones to
# be finished: a few scans, or a few dozen filled 7429s (each commit writes the ledger's pages to its log again).
CLAIM_AT_ONCE = 32
CLAIM_BYTES = 1024 * 1024
LIST_AT_ONCE = 32  # new files sighted per ledger commit while the inbox is listed


def _chunks(
    items: Iterable[T], size: int, weight: Callable[[T], int] = lambda _: 0, budget: float = math.inf
) -> Iterator[list[T]]:
    """Lists of ``size`` items, or fewer once their ``weight`` reaches ``budget``; taken lazily from ``items``."""
    chunk: list[T] = []
    total = 0
    for item in items:
        chunk.append(item)
        total += weight(item)
        if len(chunk) == size or total >= budget:
            yield chunk
            chunk, total = [], 0
    if chunk:
        yield chunk


def _relative(inbox: Path, path: Path) -> str:
    """A listed path's place in the inbox, as ``seen`` keys it: cut from its string (every listed path lies in the
    inbox), where a Path's ``relative_to`` parsed both paths again for every file of a backlog."""
    return os.fspath(path)[len(os.path.join(os.fspath(inbox), "")) :]


def _stored(relative: str) -> str:
    """An inbox path as the ledger keeps it: any bytes a name may hold (not UTF-8, a newline) survive as %XX."""
    return urllib.parse.quote(os.fsencode(relative), safe="/ ")


def _listed(stored: str) -> str:
    return os.fsdecode(urllib.parse.unquote_to_bytes(stored))


def staging(settings: Settings) -> Path:
    return settings.inbox / STAGING


def unfinished(settings: Settings, register: Register) -> list[Input]:
    """Files in the work area to finish now: claimed (a crash, or the register was out of reach), a final row whose
    file had not moved on yet, or failed-transient and due again. A claimed row whose file never reached the work
    area (a crash between the ledger and the rename) goes back to waiting in the inbox."""
    now = dt.datetime.now(dt.UTC).isoformat()
    inputs = []
    present = set()
    for folder in (settings.work_dir, staging(settings)):
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if not e.is_dir(follow_symlinks=False))
        present.update(names)
        for name in names:
            row = register.arrival_in_work(name)
            if row is not None and row["state"] == "failed_transient" and (row["retry_at"] or "") > now:
                continue
            inputs.append(Input(folder / name, row["name"] if row is not None else name))
    for row in register.unfinished():
        if row["work_name"] in present or row["work_name"] is None:
            continue
        if row["inbox_path"] and os.path.lexists(settings.inbox / _listed(row["inbox_path"])):
            register.mark(int(row["id"]), "received", work_name=None)
        elif row["id"] not in _MISSING:  # someone removed it from the work area: it stays waiting, for a person
            _MISSING.add(row["id"])
            log.warning("claimed file missing from the work area", extra={"document_id": f"arrival-{row['id']}"})
    return inputs


_MISSING: set[int] = set()  # warned about once per run


def next_retry(register: Register) -> float | None:
    """Seconds until the earliest failed-transient row is due."""
    rows = [r for r in register.unfinished() if r["state"] == "failed_transient" and r["retry_at"]]
    if not rows:
        return None
    due = min(dt.datetime.fromisoformat(r["retry_at"]) for r in rows)
    return max((due - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


def watch(settings: Settings) -> None:
    stop = False
    wake = Wake()

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True
        wake.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop = stop or signals.held()  # told to stop while it still loaded (``signals.run``): it starts stopped
    with open_intake(settings) as intake:
        poller = Poller(settings) if settings.imap_host else None  # mail from a mailbox lands in the inbox
        if poller is not None:
            poller.start()
        observer = None
        if settings.intake_mode == "events":
            observer = _ArrivalsObserver()
            observer.schedule(_Events(wake), str(settings.inbox), recursive=True, event_filter=ARRIVALS)
            observer.start()
        # Everything loaded so far lives as long as the service: the collector need not walk it again, and a
        # document's few hundred short-lived objects need not trigger a collection each.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        log.info("watching the inbox", extra={"event": "start"})
        inbox = Inbox(settings, intake.register)
        try:
            while not stop:
                try:
                    _drain(intake, itertools.takewhile(lambda _: not stop, unfinished(settings, intake.register)))
                    if not stop:
                        _drain(intake, inbox.claim_all(inbox.settled(), lambda: stop))
                    _wait(settings, inbox, intake.register, wake)
                except Exception as exc:  # the register or a folder out of reach: the ledger says where to resume
                    log.warning("intake pass failed; trying again", extra={"code": type(exc).__name__})
                    # A pause however many events arrive meanwhile: a pass that keeps failing must not flood the log.
                    resume = time.monotonic() + min(settings.rescan_seconds, 5.0)
                    while not stop and (left := resume - time.monotonic()) > 0:
                        wake.wait(left)
        finally:
            if poller is not None:
                poller.close()
            if observer is not None:
                # An event that arrives while the observer stops makes watchdog log an error about its own stopped
                # thread; nothing is lost (the ledger and the next listing have every file), so it is not logged.
                logging.getLogger("watchdog").setLevel(logging.CRITICAL)
                observer.stop()
                observer.join()
            gc.unfreeze()  # the interpreter's exit collects them again (nanobind would report them as leaked)
            log.info("stopped", extra={"event": "stop"})


def _drain(intake: Intake, inputs: Iterable[Input]) -> None:
    """Hand inputs to the workers until they run out (each source stops when told to); what was handed over is
    finished either way."""
    for _ in intake.handle_many(inputs, move=True, channel="inbox"):
        pass


def _wait(settings: Settings, inbox: Inbox, register: Register, wake: Wake) -> None:
    """Until the next event, the next listing, a settling file's next check, or a retry that falls due."""
    timeout = settings.poll_seconds if settings.intake_mode == "polling" else settings.rescan_seconds
    if inbox.seen:  # files still settling: look again soon
        timeout = min(timeout, max(settings.settle_seconds / 2, 0.1))
    retry = next_retry(register)
    if retry is not None:
        timeout = min(timeout, max(retry, 0.1))
    wake.wait(timeout)
