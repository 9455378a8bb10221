"""Print batches for the mailroom: the letters not yet batched, merged into one PDF, with a manifest CSV.

``outbox/batches/<batch>.pdf`` is what goes to the printer; ``<batch>.csv`` says, for each letter, which pages of the
batch it is, its case, its kind and its recipient, so the mailroom can check each envelope. The CSV holds names, so it
is written ``0600`` like every file with personal data.

No letter is batched twice, and none is lost, whatever moment a run is killed at::

    1. record   one transaction: choose the letters (not batched, not in an open batch), record the batch as open
                with its letters in print order
    2. write    the PDF and the CSV, each atomically (temporary file, fsync, rename)
    3. mark     one transaction: the letters get ``batched_at``, the batch ``written_at``

A run first finishes any batch a killed run left open (step 2 again, then 3), with the same letters in the same order
under the same name; only then does it choose new letters.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pypdf

from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.formspec import FormSpec
from pipeline.fsutil import atomic_write
from pipeline.register import Register

SCHEMA = """
CREATE TABLE IF NOT EXISTS print_batches (
    batch_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    letters TEXT NOT NULL,
    written_at TEXT
);
"""

COLUMNS = ("pages", "case_id", "letter_kind", "recipient", "letter_file")


class PrintBatchError(PipelineError):
    step = "letters"
    action = "Find out what happened to the letter (it should be in outbox/letters/), then run the batch again."


@dataclass(frozen=True)
class PrintBatch:
    batch_id: str
    pdf: Path
    manifest: Path
    letters: int
    pages: int
    resumed: bool  # finished for a run that was stopped after recording it


def batch_letters(
    settings: Settings, register: Register, specs: Mapping[str, FormSpec], on: dt.date | None = None
) -> list[PrintBatch]:
    """Finish any batch left open, then batch the letters waiting (those written on ``on``, if given)."""
    register.db.executescript(SCHEMA)
    done = [write_and_mark(settings, register, specs, batch_id, resumed=True) for batch_id in open_batches(register)]
    batch_id = record(register, on)
    if batch_id is not None:
        done.append(write_and_mark(settings, register, specs, batch_id, resumed=False))
    return done


def open_batches(register: Register) -> list[str]:
    rows = register.db.execute("SELECT batch_id FROM print_batches WHERE written_at IS NULL ORDER BY batch_id")
    return [r["batch_id"] for r in rows]


def record(register: Register, on: dt.date | None, now: dt.datetime | None = None) -> str | None:
    """Step 1: choose the letters and record the batch, in one transaction. None: no letter is waiting."""
    now = now or dt.datetime.now(dt.UTC)
    with register.transaction() as db:
        taken: set[str] = set()
        for row in db.execute("SELECT letters FROM print_batches WHERE written_at IS NULL"):
            taken.update(json.loads(row["letters"]))  # a concurrent run's open batch: its letters are spoken for
        rows = db.execute("SELECT path, created_at FROM letters WHERE batched_at IS NULL ORDER BY created_at, path")
        chosen = [r["path"] for r in rows if r["path"] not in taken and (on is None or _local_date(r) == on)]
        if not chosen:
            return None
        day = now.astimezone().date().isoformat()
        number = db.execute("SELECT count(*) FROM print_batches WHERE batch_id LIKE ?", (f"{day}-%",)).fetchone()[0]
        batch_id = f"{day}-{number + 1:02d}"
        db.execute(
            "INSERT INTO print_batches (batch_id, created_at, letters) VALUES (?, ?, ?)",
            (batch_id, now.isoformat(), json.dumps(chosen)),
        )
    return batch_id


def write_and_mark(
    settings: Settings, register: Register, specs: Mapping[str, FormSpec], batch_id: str, *, resumed: bool
) -> PrintBatch:
    batch = write(settings, register, specs, batch_id)
    mark(register, batch_id)
    return PrintBatch(batch.batch_id, batch.pdf, batch.manifest, batch.letters, batch.pages, resumed)


def write(settings: Settings, register: Register, specs: Mapping[str, FormSpec], batch_id: str) -> PrintBatch:
    """Step 2: the merged PDF and its manifest, each written atomically. Writing them again (after a crash)
    writes the same letters in the same order under the same names."""
    row = register.db.execute("SELECT letters FROM print_batches WHERE batch_id = ?", (batch_id,)).fetchone()
    paths: list[str] = json.loads(row["letters"])
    writer = pypdf.PdfWriter()
    manifest = io.StringIO()
    table = csv.writer(manifest, lineterminator="\n")
    table.writerow(COLUMNS)
    for path in paths:
        letter = register.db.execute("SELECT case_id, kind FROM letters WHERE path = ?", (path,)).fetchone()
        data = _letter_bytes(settings, register, letter["case_id"], path)
        first = len(writer.pages) + 1
        writer.append(pypdf.PdfReader(io.BytesIO(data)))
        last = len(writer.pages)
        recipient = _recipient(register, specs, letter["case_id"])
        table.writerow([f"{first}-{last}", letter["case_id"], letter["kind"], _cell(recipient), path])
    pdf = io.BytesIO()
    writer.write(pdf)
    folder = settings.outbox / "batches"
    target, listing = folder / f"{batch_id}.pdf", folder / f"{batch_id}.csv"
    atomic_write(target, pdf.getvalue())
    atomic_write(listing, manifest.getvalue().encode("utf-8"))
    return PrintBatch(batch_id, target, listing, len(paths), len(writer.pages), resumed=False)


def mark(register: Register, batch_id: str) -> None:
    """Step 3: the letters are batched and the batch written, together or not at all."""
    now = dt.datetime.now(dt.UTC).isoformat()
    with register.transaction() as db:
        row = db.execute("SELECT letters FROM print_batches WHERE batch_id = ?", (batch_id,)).fetchone()
        paths = json.loads(row["letters"])
        db.executemany(
            "UPDATE letters SET batched_at = ? WHERE path = ? AND batched_at IS NULL", [(now, p) for p in paths]
        )
        db.execute("UPDATE print_batches SET written_at = ? WHERE batch_id = ? AND written_at IS NULL", (now, batch_id))


def _local_date(row: sqlite3.Row) -> dt.date:
    return dt.datetime.fromisoformat(row["created_at"]).astimezone().date()


def _letter_bytes(settings: Settings, register: Register, case_id: str, path: str) -> bytes:
    """The letter as recorded: the file in the outbox, checked against the sha256 in the case record."""
    file = settings.outbox / path
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise PrintBatchError(f"A letter of case {case_id} is missing from the outbox ({path}).") from exc
    record = register.case(case_id)
    expected = {ref.sha256 for ref in record.letters if ref.path == path} if record else set()
    if hashlib.sha256(data).hexdigest() not in expected:
        raise PrintBatchError(f"A letter of case {case_id} is not the one the pipeline wrote ({path}).")
    return data


def _recipient(register: Register, specs: Mapping[str, FormSpec], case_id: str) -> str:
    """The recipient's name as the letter is addressed (the form's recipient name fields)."""
    record = register.case(case_id)
    if record is None or record.form_id not in specs:
        return ""
    names = (record.fields.get(name) for name in specs[record.form_id].recipient.name)
    return " ".join(str(v.value) for v in names if v is not None and v.value)


def _cell(text: str) -> str:
    """A name opened in a spreadsheet must not run as a formula (names come from untrusted documents)."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
