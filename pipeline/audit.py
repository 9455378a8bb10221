"""The audit log: who read, changed, approved, exported or removed which case, and when.

Separate from the operational log (which is for running the service and holds no names of staff): one JSON line per
act in ``<state>/audit.jsonl``, ``0600``. Lines are only ever appended (``O_APPEND``, one ``write`` per line, then
fsync), never rewritten. An entry names the case and, for a change, the field, never a value: the log itself holds
no personal data about the person the case is about.

Who: ``--user`` (or ``--by``) if given, else ``PIPELINE_USER``, else the OS account. The OS account is always
recorded beside it, so a name given on the command line cannot hide who ran the command.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from pipeline.fsutil import FILE_MODE, private_dir

Action = Literal["read", "changed", "approved", "exported", "removed"]

FILE_NAME = "audit.jsonl"


class AuditEntry(BaseModel):
    at: dt.datetime
    who: str
    os_user: str
    action: Action
    command: str  # what was run: "cases show", "review set", "retention", …
    case_id: str | None = None
    detail: str | None = None  # a field name, a count, a file removed; never a value


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): the numeric id still says who
        return f"uid {os.getuid()}"


def who(given: str | None = None) -> str:
    return given or os.environ.get("PIPELINE_USER") or os_user()


def path(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def record(
    state_dir: Path,
    action: Action,
    command: str,
    *,
    case_id: str | None = None,
    detail: str | None = None,
    by: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=dt.datetime.now(dt.UTC),
        who=who(by),
        os_user=os_user(),
        action=action,
        command=command,
        case_id=case_id,
        detail=detail,
    )
    line = (entry.model_dump_json() + "\n").encode()
    private_dir(state_dir)
    fd = os.open(path(state_dir), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def entries(state_dir: Path) -> Iterator[AuditEntry]:
    file = path(state_dir)
    if not file.exists():
        return
    with file.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield AuditEntry.model_validate_json(line)
