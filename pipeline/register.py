"""The case register: SQLite in the state folder.

``documents`` has one row per content (keyed by the sha256 of its bytes), so the same bytes arriving twice are
known; ``cases`` one row per case with its full record as JSON; ``letters`` one row per letter written. People are
found by a keyed hash of their personnummer (the key lives in the state folder), so linking a 7429 to an earlier case
needs no personnummer in an index.

``ledger`` has one row per arrival (a file seen in the inbox, or given to ``process``), with the sha256 of its bytes
once they are read. Its state moves forward only::

    received ─▶ settled ─▶ claimed ─┬─▶ done | review | quarantined | duplicate          (final)
                                    └─▶ failed_transient ─(back-off)─▶ claimed again, or quarantined after N tries

``received``/``settled`` rows describe files still in the inbox (a file taken away before it is claimed loses its
row: it was never ours). A claimed row names its file in the work area; a final row names where the file was kept
(``kept_as``, relative to the state folder). The row is committed before the file moves, so after a crash the ledger
says what to finish: a claimed file is read again, a final one is only moved on.
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
from pipeline.models import CaseRecord, RecordSummary

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
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    inbox_path TEXT,
    work_name TEXT UNIQUE,
    sha256 TEXT,
    document_id TEXT,
    duplicate_of TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at TEXT,
    reason TEXT,
    kept_as TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS ledger_state ON ledger(state);
CREATE INDEX IF NOT EXISTS ledger_sha256 ON ledger(sha256);
CREATE INDEX IF NOT EXISTS ledger_finished ON ledger(finished_at);
CREATE INDEX IF NOT EXISTS ledger_inbox ON ledger(inbox_path);
CREATE TABLE IF NOT EXISTS letters (
    path TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(case_id),
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    batched_at TEXT
);
"""


STATES = ("received", "settled", "claimed", "failed_transient", "done", "review", "quarantined", "duplicate")
WAITING = STATES[:4]
FINAL = STATES[4:]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Register:
    def __init__(self, path: Path, *, busy_seconds: float = 30) -> None:
        private_dir(path.parent)
        new = not path.exists()
        self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_seconds)
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
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """``durable``: the commit is on disk when this returns (the WAL is fsynced), so a file moved on after it
        can never be ahead of the register after a power cut. Other commits survive a crash of the process only."""
        if durable:
            self.db.execute("PRAGMA synchronous=FULL")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        finally:
            if durable:
                self.db.execute("PRAGMA synchronous=NORMAL")

    def person_key(self, personnummer: str) -> str:
        return hmac.new(self._key, personnummer.encode(), hashlib.sha256).hexdigest()

    def document(self, sha256: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return row

    def has_letter(self, path: str) -> bool:
        """Whether a recorded case's letter is at ``path`` (relative to the outbox)."""
        return self.db.execute("SELECT 1 FROM letters WHERE path = ?", (path,)).fetchone() is not None

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

    def save_case(self, record: CaseRecord | RecordSummary, person_key: str | None, text: str | None = None) -> None:
        """``text``: the record's JSON, when the caller has it already (it wrote the record's file); with a summary
        it is required."""
        if isinstance(record, CaseRecord):
            text = text or record.model_dump_json()
            record = RecordSummary.of(record)
        assert text is not None
        now = dt.datetime.now(dt.UTC).isoformat()
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
                record.outcome,
                record.received_at,
                now,
                text,
            ),
        )
        for path, kind, created_at in record.letters:
            self.db.execute(
                "INSERT OR IGNORE INTO letters (path, case_id, kind, created_at) VALUES (?, ?, ?, ?)",
                (path, record.case_id, kind, created_at),
            )

    # --- the ledger ---------------------------------------------------------------------------------------------

    def sightings(self) -> list[sqlite3.Row]:
        """Rows of files still in the inbox (received or settled), as the last run left them."""
        return list(self.db.execute("SELECT * FROM ledger WHERE state IN ('received', 'settled') ORDER BY id"))

    def sight(self, inbox_path: str, name: str) -> tuple[int, str]:
        """A file appeared in the inbox (or is still there: a row waiting for it is used again). Returns the row's
        id and when the file was first seen."""
        row = self.db.execute(
            "SELECT id, received_at FROM ledger WHERE inbox_path = ? AND state IN ('received', 'settled')",
            (inbox_path,),
        ).fetchone()
        if row is not None:
            return int(row[0]), str(row[1])
        now = _now()
        cur = self.db.execute(
            "INSERT INTO ledger (state, channel, name, inbox_path, received_at, updated_at) "
            "VALUES ('received', 'inbox', ?, ?, ?, ?)",
            (name, inbox_path, now, now),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid, now

    def forget(self, arrival: int) -> None:
        """A file left the inbox before it was claimed (renamed or taken away by someone): it was never ours."""
        self.db.execute("DELETE FROM ledger WHERE id = ? AND state IN ('received', 'settled')", (arrival,))

    def mark(self, arrival: int, state: str, **values: object) -> None:
        """Move a row forward; ``values`` are other columns to set (attempts, reason, sha256, …)."""
        assert state in STATES
        columns = {"state": state, "updated_at": _now(), **values}
        if state in FINAL:
            columns.setdefault("finished_at", columns["updated_at"])
            columns["inbox_path"] = None
        assignments = ", ".join(f"{column} = ?" for column in columns)
        self.db.execute(f"UPDATE ledger SET {assignments} WHERE id = ?", (*columns.values(), arrival))

    def claim(self, arrival: int, work_name: str) -> None:
        """Committed before the rename into the work area, so a crash in between is recognised at restart."""
        self.mark(arrival, "claimed", work_name=work_name)

    def arrive(self, channel: str, name: str, work_name: str | None = None) -> int:
        """An input that was not sighted in the inbox first: given to ``process``, or found in the work area."""
        now = _now()
        cur = self.db.execute(
            "INSERT INTO ledger (state, channel, name, work_name, received_at, updated_at) "
            "VALUES ('claimed', ?, ?, ?, ?, ?)",
            (channel, name, work_name, now, now),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def arrival(self, arrival: int) -> sqlite3.Row:
        row: sqlite3.Row = self.db.execute("SELECT * FROM ledger WHERE id = ?", (arrival,)).fetchone()
        return row

    def arrival_in_work(self, work_name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM ledger WHERE work_name = ?", (work_name,)).fetchone()
        return row

    def unfinished(self) -> list[sqlite3.Row]:
        """Claimed or failed-transient rows: their files are in the work area (or about to be)."""
        return list(self.db.execute("SELECT * FROM ledger WHERE state IN ('claimed', 'failed_transient') ORDER BY id"))

    def ledger_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        counts.update({r[0]: r[1] for r in self.db.execute("SELECT state, count(*) FROM ledger GROUP BY state")})
        return counts

    def oldest_waiting(self) -> dt.datetime | None:
        marks = ", ".join("?" * len(WAITING))
        row = self.db.execute(f"SELECT min(received_at) FROM ledger WHERE state IN ({marks})", WAITING).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row[0] else None

    def finished_since(self, since: dt.datetime) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM ledger WHERE finished_at >= ? AND state != 'duplicate'", (since.isoformat(),)
        ).fetchone()
        return int(row[0])

    def review_backlog(self) -> tuple[int, dt.datetime | None]:
        row = self.db.execute("SELECT count(*), min(received_at) FROM cases WHERE status = 'review'").fetchone()
        return int(row[0]), dt.datetime.fromisoformat(row[1]) if row[1] else None

    def case(self, case_id: str) -> CaseRecord | None:
        row = self.db.execute("SELECT record FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return CaseRecord.model_validate_json(row["record"]) if row else None

    def forget_case(self, case_id: str) -> None:
        """Retention: the case and its letters' rows go; the document's row stays, so the same bytes arriving
        again are still known (as a duplicate) and never make a second case or letter."""
        self.db.execute("DELETE FROM letters WHERE case_id = ?", (case_id,))
        self.db.execute("DELETE FROM cases WHERE case_id = ?", (case_id,))

    def case_status(self, case_id: str) -> str | None:
        row = self.db.execute("SELECT status FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return str(row["status"]) if row else None

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
