"""Retention: ``pipeline retention [--dry-run]`` removes what has been kept longer than its period.

Each kind of file has its own period (settings ``retention_*_days``; None keeps that kind for ever), counted from
the file's modification time, which is when the pipeline wrote or moved it into its folder:

    original      <state>/archive/**               the inputs as received, their manifests, duplicates
    quarantined   <state>/quarantine/*             a file that could not be read, with its .error.json
    crop          <state>/review/<case>/*.png      what the machine saw of a field; kept while the case is in review
    record        <outbox>/cases/<case>.json       the case record, and its row in the register
    letter        <outbox>/letters/<date>/*.pdf

Nothing else is touched: only regular files inside these folders (a symlink is never followed). Every removal is
recorded in the audit log, by a name that holds no personal data (quarantined files are named by document id, not
by the name they arrived with). A dry run lists what would go and records nothing.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pipeline import audit
from pipeline.config import Settings
from pipeline.fsutil import fsync_dir
from pipeline.models import CaseStatus
from pipeline.register import Register

Kind = Literal["original", "quarantined", "crop", "record", "letter"]
DAY = 86_400.0


@dataclass(frozen=True)
class Removal:
    kind: Kind
    path: Path
    shown: str  # for people and the audit log: relative, without an input's own name
    age_days: float
    case_id: str | None = None
    companions: tuple[Path, ...] = ()  # removed with it (a quarantined file's .error.json)


def plan(settings: Settings, register: Register, now: float | None = None) -> list[Removal]:
    now = time.time() if now is None else now
    periods: dict[Kind, int | None] = {
        "original": settings.retention_originals_days,
        "quarantined": settings.retention_quarantine_days,
        "crop": settings.retention_crops_days,
        "record": settings.retention_records_days,
        "letter": settings.retention_letters_days,
    }
    found: list[Removal] = []
    for removal in _candidates(settings, register, now):
        period = periods[removal.kind]
        if period is not None and removal.age_days > period:
            found.append(removal)
    return found


def run(settings: Settings, *, dry_run: bool, by: str | None = None) -> list[Removal]:
    register = Register(settings.database)
    try:
        removals = plan(settings, register)
        if dry_run:
            return removals
        for removal in removals:
            _remove(settings, register, removal, by)
        _prune_empty(settings)
        return removals
    finally:
        register.close()


def _remove(settings: Settings, register: Register, removal: Removal, by: str | None) -> None:
    if removal.kind == "record" and removal.case_id is not None:
        with register.transaction():
            register.forget_case(removal.case_id)
    for path in (removal.path, *removal.companions):
        path.unlink(missing_ok=True)
    fsync_dir(removal.path.parent)
    audit.record(
        settings.state_dir,
        "removed",
        "retention",
        case_id=removal.case_id,
        detail=f"{removal.kind} {removal.shown} ({removal.age_days:.0f} days)",
        by=by,
    )


def _files(root: Path, pattern: str = "*") -> Iterator[Path]:
    """Regular files under ``root``; symlinks (to files or folders) are never followed or removed."""
    if not root.is_dir() or root.is_symlink():
        return
    for path in sorted(root.rglob(pattern)):
        if path.is_symlink() or not path.is_file() or any(p.is_symlink() for p in path.relative_to(root).parents):
            continue
        yield path


def _age(path: Path, now: float) -> float:
    return (now - path.lstat().st_mtime) / DAY


_QUARANTINED = re.compile(r"^(?P<document>[0-9a-f]{12}-\d+)-")


def _candidates(settings: Settings, register: Register, now: float) -> Iterator[Removal]:
    state = settings.state_dir
    for path in _files(settings.archive):
        yield Removal("original", path, path.relative_to(state).as_posix(), _age(path, now))

    for path, report in _quarantined(settings.quarantine):
        m = _QUARANTINED.match(path.name)
        shown = f"quarantine/{m['document'] if m else 'unnamed'}"
        # Its age is the report's, written when it was quarantined (a refused symlink or FIFO keeps its own mtime).
        age = _age(report, now) if report is not None else _age(path, now)
        yield Removal("quarantined", path, shown, age, companions=(report,) if report is not None else ())

    for folder in sorted(p for p in settings.review_dir.glob("RK-*") if p.is_dir() and not p.is_symlink()):
        if register.case_status(folder.name) == CaseStatus.REVIEW.value:
            continue  # the person resolving the case still needs to see what the machine saw
        for path in _files(folder, "*.png"):
            yield Removal("crop", path, path.relative_to(state).as_posix(), _age(path, now), folder.name)

    for path in _files(settings.cases_dir, "*.json"):
        yield Removal("record", path, f"cases/{path.name}", _age(path, now), path.stem)

    for path in _files(settings.letters_dir, "*.pdf"):
        case = re.match(r"RK-[0-9A-F]{12}", path.name)
        yield Removal(
            "letter",
            path,
            path.relative_to(settings.outbox).as_posix(),
            _age(path, now),
            case[0] if case else None,
        )


def _quarantined(folder: Path) -> Iterator[tuple[Path, Path | None]]:
    """Each quarantined entry with its report. An entry may be a refused symlink, FIFO or hard link: it is removed
    as the directory entry it is (unlinking a symlink never touches its target). A report whose entry is gone
    is an entry of its own."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for path in sorted(folder.iterdir()):
        report = path.with_name(path.name + ".error.json")
        if path.name.endswith(".error.json"):
            entry = path.with_name(path.name.removesuffix(".error.json"))
            if not os.path.lexists(entry) and _regular(path):
                yield path, None
            continue
        if stat.S_ISDIR(path.lstat().st_mode):
            continue
        yield path, report if _regular(report) else None


def _regular(path: Path) -> bool:
    return os.path.lexists(path) and stat.S_ISREG(path.lstat().st_mode)


def _prune_empty(settings: Settings) -> None:
    """Folders that retention emptied (a case's crops, a day's letters, an archive shard) go too."""
    for root in (settings.archive, settings.review_dir, settings.letters_dir):
        if not root.is_dir():
            continue
        for folder in sorted((p for p in root.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()


def summary(removals: list[Removal]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for removal in removals:
        counts[removal.kind] = counts.get(removal.kind, 0) + 1
    return counts
