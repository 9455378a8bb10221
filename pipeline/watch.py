"""Watch the inbox: watchdog events plus a scan at start and a periodic rescan as a safety net.

A file is taken only when it has settled (size and mtime unchanged for ``settle_seconds``) and is not named like a
partial or temporary file. It is claimed by an atomic rename into the state folder's work area, so it is taken
once; from there it moves on to the archive or quarantine, never back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import secrets
import signal
import stat
import time
from pathlib import Path
from types import FrameType

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.config import Settings
from pipeline.imap import Poller
from pipeline.outputs import safe_name
from pipeline.service import open_intake
from pipeline.stages import Input

log = logging.getLogger("pipeline.watch")

RESCAN_SECONDS = 30.0


def is_partial(name: str) -> bool:
    return name.startswith((".", "~$")) or name.endswith((".part", ".tmp", ".crdownload"))


class _Events(FileSystemEventHandler):
    def __init__(self, wake: queue.Queue[None]) -> None:
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.wake.put(None)


def candidates(inbox: Path) -> list[Path]:
    return sorted(
        p
        for p in inbox.rglob("*")
        if not is_partial(p.name)
        and not p.is_dir()
        and not any(is_partial(part) for part in p.relative_to(inbox).parts)
    )


def settled(path: Path, seen: dict[Path, tuple[int, float, float]], settle: float) -> bool:
    """True once size and mtime have stayed the same for ``settle`` seconds."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        seen.pop(path, None)
        return False
    now = time.monotonic()
    key = (st.st_size, st.st_mtime)
    before = seen.get(path)
    if before is None or before[:2] != key:
        seen[path] = (*key, now)
        return settle == 0
    return now - before[2] >= settle


def claim(path: Path, work: Path) -> Input | None:
    """Atomic rename into the work area; a file someone else took first is simply gone."""
    target = work / f"{secrets.token_hex(8)}{path.suffix.lower()[:6]}"
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None  # symlinks, FIFOs and devices are left alone here; the hardened service refuses them
        os.rename(path, target)
    except FileNotFoundError:
        return None
    return Input(target, safe_name(path.name))


def watch(settings: Settings) -> None:
    stop = False

    def _stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop
        stop = True
        wake.put(None)

    wake: queue.Queue[None] = queue.Queue()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with open_intake(settings) as intake:
        poller = Poller(settings) if settings.imap_host else None  # mail from a mailbox lands in the inbox
        if poller is not None:
            poller.start()
        observer = Observer()
        observer.schedule(_Events(wake), str(settings.inbox), recursive=True)
        observer.start()
        log.info("watching the inbox", extra={"event": "start"})
        seen: dict[Path, tuple[int, float, float]] = {}
        # Files claimed before a crash are finished first (the register makes a second pass a no-op).
        leftovers = [Input(p, p.name) for p in sorted(settings.work_dir.iterdir()) if p.is_file()]
        for _ in intake.handle_many(leftovers, move=True, channel="inbox"):
            pass
        try:
            while not stop:
                ready = [p for p in candidates(settings.inbox) if settled(p, seen, settings.settle_seconds)]
                claimed = [c for c in (claim(p, settings.work_dir) for p in ready) if c is not None]
                for p in ready:
                    seen.pop(p, None)
                for _ in intake.handle_many(claimed, move=True, channel="inbox"):
                    pass
                timeout = min(RESCAN_SECONDS, max(settings.settle_seconds / 2, 0.1)) if seen else RESCAN_SECONDS
                with contextlib.suppress(queue.Empty):
                    wake.get(timeout=timeout)
        finally:
            if poller is not None:
                poller.close()
            observer.stop()
            observer.join()
            log.info("stopped", extra={"event": "stop"})
