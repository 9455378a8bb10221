"""Everything the service writes: letters, records, the archive and quarantine. Every write is atomic and private.

Paths derive from the content (case ids from the sha256), so writing the same result again after a crash replaces
a file with identical content instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import stat
from collections.abc import Mapping
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import DocumentError
from pipeline.fsutil import atomic_write, copy_private, move_entry, move_private
from pipeline.models import CaseRecord, CaseStatus, HistoryEntry, RecordSummary
from pipeline.register import Register
from pipeline.scan.batch import ManifestPage
from pipeline.stages import DocumentResult


def case_ids(row: sqlite3.Row) -> list[str]:
    ids: list[str] = json.loads(row["case_ids"])
    return ids


def person_key(register: Register, result: DocumentResult) -> str | None:
    return register.person_key(result.personnummer) if result.personnummer else None


def link(
    register: Register, result: DocumentResult, pending: Mapping[str, list[str]] | None = None
) -> tuple[str | None, bool]:
    """Link a case to the person's earlier cases (a 7429 to the application, or the other way round): those in the
    register, and ``pending`` ones (by person key) recorded in the same transaction. Returns the person key and
    whether the record changed."""
    key = person_key(register, result)
    if key is None:
        return None, False
    case_id = result.summary.case_id
    earlier = [c for c in [*register.cases_of_person(key), *(pending or {}).get(key, [])] if c != case_id]
    if earlier:
        result.record.linked_case_ids = earlier
        result.record.history.append(
            HistoryEntry(at=dt.datetime.now(dt.UTC), by="pipeline", event="linked", detail=", ".join(earlier))
        )
    return key, bool(earlier)


def write_crops(settings: Settings, result: DocumentResult) -> list[Path]:
    """What the machine saw of each doubtful field (of a case in review, or a field left unconfirmed in a case that
    went on), for the person who checks it; the record then names its crops. Returns the files written (not yet
    synced: the caller syncs them with the record, before the commit, so a record never names a crop that a power
    cut took)."""
    if not result.crops:
        return []
    written = []
    for name, png in result.crops.items():
        relative = Path("review") / result.record.case_id / f"{name}.png"
        atomic_write(settings.state_dir / relative, png, sync=False)
        result.record.fields[name].crop = relative.as_posix()
        written.append(settings.state_dir / relative)
    return written


def write_manifest(settings: Settings, sha256: str, manifest: list[ManifestPage]) -> Path:
    """Beside the archived original: what every page of the file became."""
    path = settings.archive / sha256[:2] / f"{sha256}.manifest.json"
    data = json.dumps([p.model_dump() for p in manifest], indent=2).encode()
    atomic_write(path, data)
    return path


def record_path(settings: Settings, record: CaseRecord | RecordSummary) -> Path:
    """Recorded cases go to the outbox for staff; cases awaiting review stay in the state folder."""
    folder = settings.review_dir if record.status is CaseStatus.REVIEW else settings.cases_dir
    return folder / f"{record.case_id}.json"


def write_record(settings: Settings, record: CaseRecord) -> Path:
    path = record_path(settings, record)
    atomic_write(path, record.to_json().encode())
    return path


def place_record(settings: Settings, record: CaseRecord | RecordSummary, staged: Path | None, text: str) -> Path:
    """The record's file as the worker staged it, renamed into place; or written here if it cannot be renamed
    (another file system, a folder not made yet). Not fsynced: the caller syncs it and its folder (the rename)."""
    path = record_path(settings, record)
    if staged is not None:
        try:
            os.replace(staged, path)
            return path
        except OSError:
            discard(staged)
    atomic_write(path, text.encode(), sync=False)
    return path


def discard(staged: Path | None) -> None:
    """A staged record that will not be used (a duplicate, a postponed document): it is only a temporary copy."""
    if staged is not None:
        staged.unlink(missing_ok=True)


def archive_target(settings: Settings, path: Path, sha256: str) -> Path:
    """Where the original is kept, named by content (file names may carry personal data)."""
    return settings.archive / sha256[:2] / f"{sha256}{_suffix(path)}"


def duplicate_target(settings: Settings, path: Path) -> Path:
    """A duplicate is not deleted: it joins the archive beside the first copy."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return settings.archive / "duplicates" / f"{stamp}{_suffix(path)}"


def quarantine_target(settings: Settings, document_id: str, name: str) -> Path:
    return settings.quarantine / f"{document_id}-{safe_name(name)}"


def keep(src: Path, target: Path, move: bool, *, sync: bool = True) -> None:
    """Move a claimed input on (or copy the caller's file, for ``process``). An input already kept by content is not
    copied again. Anything that is not a plain file with one name (a symlink, a FIFO, a hard link) is moved as the
    directory entry it is: never opened, and its mode is not touched (that would change the linked file)."""
    if not move:
        if not target.exists():
            copy_private(src, target)
        return
    st = src.lstat()
    if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
        move_private(src, target, sync=sync)
    else:
        move_entry(src, target)


def archive(settings: Settings, path: Path, sha256: str, move: bool) -> None:
    keep(path, archive_target(settings, path, sha256), move)


def error_report(target: Path, sha256: str | None, document_id: str, exc: DocumentError) -> None:
    """``<file>.error.json`` beside a quarantined input: what went wrong, at which step, and what to do."""
    report = {
        "document_id": document_id,
        "sha256": sha256,
        "step": exc.step,
        "code": exc.code,
        "reason": exc.reason,
        "action": exc.action,
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    atomic_write(
        target.with_name(target.name + ".error.json"),
        json.dumps(report, ensure_ascii=False, indent=2).encode(),
    )


_UNSAFE = re.compile(r"[^\w.\- ]")


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or confuse a terminal."""
    cleaned = _UNSAFE.sub("_", name).strip(". ") or "input"
    return cleaned[:120]


def _suffix(path: Path) -> str:
    return path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,5}", path.suffix.lower()) else ""
