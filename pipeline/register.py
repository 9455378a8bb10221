"""The case register: SQLite in the state folder.

``documents`` has one row per input (keyed by the sha256 of its bytes), so the same bytes arriving twice are known;
``cases`` one row per case with its full record as JSON; ``letters`` one row per letter written. People are found
by a keyed hash of their personnummer (the key lives in the state folder), so linking a 7429 to an earlier case
needs no personnummer in an index.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.fsutil import FILE_MODE, private_dir
from pipeline.models import CaseRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    sha256 TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    case_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS cases (
    case_id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    form_id TEXT NOT NULL,
    person_key TEXT,
    status TEXT NOT NULL,
    outcome TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_person ON cases(person_key);
CREATE INDEX IF NOT EXISTS cases_status ON cases(status);
CREATE TABLE IF NOT EXISTS letters (
    path TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    batched_at TEXT
);
"""


class Register:
    def __init__(self, path: Path) -> None:
        private_dir(path.parent)
        new = not path.exists()
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        if new:
            os.chmod(path, FILE_MODE)
        self.db.row_factory = sqlite3.Row
        # WAL with synchronous=NORMAL: a commit survives a process crash; outputs are fsynced before the commit.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        self._key = _person_hash_key(path.parent / "person.key")

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def person_key(self, personnummer: str) -> str:
        return hmac.new(self._key, personnummer.encode(), hashlib.sha256).hexdigest()

    def document(self, sha256: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row

    def cases_of_person(self, person_key: str) -> list[str]:
        rows = self.db.execute(
            "SELECT case_id FROM cases WHERE person_key = ? ORDER BY received_at, case_id", (person_key,)
        )
        return [r["case_id"] for r in rows]

    def record_document(
        self,
        sha256: str,
        document_id: str,
        received_at: dt.datetime,
        outcome: str,
        reason: str | None,
        case_ids: list[str],
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            (sha256, document_id, received_at.isoformat(), outcome, reason, json.dumps(case_ids)),
        )

    def save_case(self, record: CaseRecord, person_key: str | None) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        outcome = record.assessment.outcome.value if record.assessment else None
        self.db.execute(
            """INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(case_id) DO UPDATE SET status=excluded.status, outcome=excluded.outcome,
               updated_at=excluded.updated_at, record=excluded.record,
               person_key=COALESCE(excluded.person_key, cases.person_key)""",
            (
                record.case_id,
                record.document_id,
                record.source_sha256,
                record.form_id,
                person_key,
                record.status.value,
                outcome,
                record.received_at.isoformat(),
                now,
                record.model_dump_json(),
            ),
        )
        for letter in record.letters:
            self.db.execute(
                "INSERT OR IGNORE INTO letters (path, case_id, kind, created_at) VALUES (?, ?, ?, ?)",
                (letter.path, record.case_id, letter.kind.value, letter.created_at.isoformat()),
            )

    def case(self, case_id: str) -> CaseRecord | None:
        row = self.db.execute("SELECT record FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return CaseRecord.model_validate_json(row["record"]) if row else None

    def list_cases(self, status: str | None = None) -> list[sqlite3.Row]:
        sql = "SELECT case_id, form_id, status, outcome, received_at FROM cases"
        rows = self.db.execute(
            sql + " WHERE status = ? ORDER BY received_at" if status else sql + " ORDER BY received_at",
            (status,) if status else (),
        )
        return list(rows)

    def counts(self) -> dict[str, dict[str, int]]:
        docs = {r[0]: r[1] for r in self.db.execute("SELECT outcome, count(*) FROM documents GROUP BY outcome")}
        cases = {r[0]: r[1] for r in self.db.execute("SELECT status, count(*) FROM cases GROUP BY status")}
        letters = self.db.execute("SELECT count(*), count(batched_at) FROM letters").fetchone()
        return {"documents": docs, "cases": cases, "letters": {"written": letters[0], "batched": letters[1]}}


def _person_hash_key(path: Path) -> bytes:
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    return path.read_bytes()
