"""Everything the service writes: letters, records, the archive and quarantine. Every write is atomic and private.

Paths derive from the content (case ids from the sha256), so writing the same result again after a crash replaces
a file with identical content instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import DocumentError
from pipeline.fsutil import atomic_write, copy_private, move_private
from pipeline.models import CaseRecord, CaseStatus, HistoryEntry
from pipeline.register import Register
from pipeline.scan.batch import ManifestPage
from pipeline.stages import DocumentResult, Input


def case_ids(row: sqlite3.Row) -> list[str]:
    ids: list[str] = json.loads(row["case_ids"])
    return ids


def person_key(register: Register, result: DocumentResult) -> str | None:
    return register.person_key(result.personnummer) if result.personnummer else None


def link(register: Register, result: DocumentResult) -> None:
    """Link a case to the person's earlier cases (a 7429 to the application, or the other way round)."""
    key = person_key(register, result)
    if key is None:
        return
    earlier = [c for c in register.cases_of_person(key) if c != result.record.case_id]
    if earlier:
        result.record.linked_case_ids = earlier
        result.record.history.append(
            HistoryEntry(at=dt.datetime.now(dt.UTC), by="pipeline", event="linked", detail=", ".join(earlier))
        )


def write_crops(settings: Settings, result: DocumentResult) -> None:
    """What the machine saw of each doubtful field, beside the case in review, for the person who resolves it."""
    if result.record.status is not CaseStatus.REVIEW:
        return
    for name, png in result.crops.items():
        relative = Path("review") / result.record.case_id / f"{name}.png"
        atomic_write(settings.state_dir / relative, png, sync=False)
        result.record.fields[name].crop = relative.as_posix()


def write_manifest(settings: Settings, sha256: str, manifest: list[ManifestPage]) -> Path:
    """Beside the archived original: what every page of the file became."""
    path = settings.archive / sha256[:2] / f"{sha256}.manifest.json"
    data = json.dumps([p.model_dump() for p in manifest], indent=2).encode()
    atomic_write(path, data)
    return path


def record_path(settings: Settings, record: CaseRecord) -> Path:
    """Recorded cases go to the outbox for staff; cases awaiting review stay in the state folder."""
    folder = settings.review_dir if record.status is CaseStatus.REVIEW else settings.cases_dir
    return folder / f"{record.case_id}.json"


def write_record(settings: Settings, record: CaseRecord) -> Path:
    path = record_path(settings, record)
    atomic_write(path, record.model_dump_json(indent=2).encode())
    return path


def archive(settings: Settings, path: Path, sha256: str, move: bool) -> None:
    """Keep the original, named by content (file names may carry personal data)."""
    target = settings.archive / sha256[:2] / f"{sha256}{_suffix(path)}"
    if move:
        move_private(path, target)
    elif not target.exists():
        copy_private(path, target)


def retire_duplicate(settings: Settings, path: Path, move: bool) -> None:
    """A duplicate leaves the inbox but is not deleted: it joins the archive beside the first copy."""
    if move:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        move_private(path, settings.archive / "duplicates" / f"{stamp}{_suffix(path)}")


def quarantine(settings: Settings, given: Input, sha256: str, document_id: str, exc: DocumentError, move: bool) -> Path:
    """The input and, beside it, ``<file>.error.json`` saying what went wrong, at which step, and what to do."""
    path = given.path
    target = settings.quarantine / f"{document_id}-{safe_name(given.name)}"
    if path.is_file():
        if move:
            move_private(path, target)
        else:
            copy_private(path, target)
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
    return target


def safe_name(name: str) -> str:
    """A file name that cannot leave its folder or confuse a terminal."""
    cleaned = re.sub(r"[^\w.\- ]", "_", name).strip(". ") or "input"
    return cleaned[:120]


def _suffix(path: Path) -> str:
    return path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,5}", path.suffix.lower()) else ""
