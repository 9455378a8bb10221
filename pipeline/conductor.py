"""The conductor: the list of stages, nothing else.

``read_input`` runs in a worker process (it parses untrusted bytes, and renders and writes the letters, whose
paths derive from the content); ``Intake`` runs in the service process and owns the register and every other write.

    inbox file ─ take ─▶ Job ─(worker) type ▶ PDF: open ▶ identify ▶ read fields ─┐
                                           scan: pages ▶ locate (QR, marks) ▶ split ▶ zonal read ─┤
                               validate ▶ assess ▶ record ▶ letters ◀─────────────────────────────┘ ─▶ results
                                           mail: unpack ─▶ attachments ─▶ (each taken as an input of its own)
    results ─ link ▶ crops ▶ record ▶ manifest ▶ register ▶ archive        (any DocumentError ─▶ quarantine)
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import itertools
import logging
import os
import secrets
import sqlite3
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from pipeline import limits, mail, outputs, stages
from pipeline.config import Settings
from pipeline.errors import (
    DocumentError,
    KeptFailingError,
    LimitExceededError,
    NotSupportedError,
    RefusedEntryError,
    UnreadablePdfError,
)
from pipeline.formspec import FormSpec
from pipeline.fsutil import atomic_write, process_tmp, sync_together, using_tmp
from pipeline.models import Provenance
from pipeline.outputs import safe_name
from pipeline.register import FINAL, Register
from pipeline.scan.raster import Kind
from pipeline.stages import DocumentResult, Input, Job, Read

log = logging.getLogger("pipeline")

Outcome = Literal["recorded", "review", "quarantined", "duplicate", "failed_transient"]
Channel = Literal["inbox", "cli"]


def read_input(job: Job, specs: Mapping[str, FormSpec]) -> Read:
    """What a worker runs: a mail message is unpacked (the service takes its attachments), anything else read.
    Temporary files (tesseract's) go to the service's private folder in the state folder."""
    with using_tmp(job.tmp_dir):
        if stages.sniff(job) == "mail":
            return stages.unpack_mail(job)
        return read_document(job, specs)


def read_document(job: Job, specs: Mapping[str, FormSpec]) -> list[DocumentResult]:
    """Everything that touches the document's content. Raises DocumentError for an input that cannot go on."""
    limits.apply(job.limits)
    kind = stages.sniff(job)
    if kind == "mail":
        raise NotSupportedError("A mail message is unpacked, not read as a document.")
    if kind == "pdf":
        doc = stages.open_pdf(job)
        try:
            found = stages.identify(doc, specs)
            if found is not None:
                spec, first = found
                raw = stages.read_fields(doc, spec, first)
                return [stages.conclude(job, spec, 1, list(range(1, doc.page_count + 1)), raw)]
        finally:
            doc.close()
    return read_scanned(job, kind, specs)


def read_scanned(job: Job, kind: Kind, specs: Mapping[str, FormSpec]) -> list[DocumentResult]:
    """Page images: identify and align each by its QR code and marks, split the batch, read each form zonally."""
    located = [stages.locate(image, number, specs) for number, image in stages.page_images(job, kind)]
    documents, manifest = stages.split_batch(located)
    results = []
    for index, document in enumerate(documents, start=1):
        spec = specs[document.form_id]
        reading = stages.read_scan(document, located, spec)
        pages = sorted(document.pages.values())
        results.append(
            stages.conclude(
                job, spec, index, pages, reading.values, document.attachments, reading.crops, reading.problems
            )
        )
    stages.note_manifest(results, manifest)
    return results


class Runner(Protocol):
    """Runs ``read_input`` somewhere else (worker processes); ``result`` re-raises a DocumentError."""

    def submit(self, job: Job) -> Future[Read]: ...

    def result(self, future: Future[Read], job: Job) -> Read: ...


@dataclass
class InputResult:
    """What became of one input, as ``process --json`` prints it."""

    input: str
    outcome: Outcome
    document_id: str
    cases: list[str]
    letters: list[str]
    reason: str | None = None
    sha256: str = ""  # of a duplicate: its first case is looked up when it is finished (it may be in this run)


# The ledger's final state for each outcome.
LEDGER_STATE: dict[Outcome, str] = {
    "recorded": "done",
    "review": "review",
    "quarantined": "quarantined",
    "duplicate": "duplicate",
}
OUTCOME = {state: outcome for outcome, state in LEDGER_STATE.items()}


@dataclass
class _Taken:
    """An input in the window: its ledger row (None for ``process``: recorded only when it ends) and its job, or
    its result if it ended at take (an input refused or unreadable). A duplicate is concluded when it leaves the
    window, once the first copy (perhaps in this window) is recorded. An attachment of a mail has no row of its
    own (``in_ledger``): the message is the input."""

    given: Input
    channel: Channel
    arrival: int | None
    item: Job | InputResult
    future: Future[Read] | None = None
    duplicate: bool = False
    in_ledger: bool = True


@dataclass
class _Recording:
    """An input read into records, on its way into the register: its records' files written, not yet committed."""

    taken: _Taken
    job: Job
    results: list[DocumentResult]
    files: list[Path] = field(default_factory=list)  # records, letters, crops: content and folder need an fsync
    folders: list[Path] = field(default_factory=list)  # other folders with a new entry (a case's crop folder)
    saved: list[tuple[str | None, str]] = field(default_factory=list)  # per result: person key, the record's JSON
    outcome: Outcome = "recorded"
    reason: str | None = None
    target: Path = Path()

    @property
    def document_id(self) -> str:
        return self.results[0].summary.document_id


class Intake:
    """The service side: take an input, have a worker read it, then record, write and archive.

    Every input has a row in the register's ledger. The row's final state is committed in the same transaction as
    the case, before the file moves on; a crash in between leaves a final row and a file in the work area, and the
    next pass only moves the file on. A failure outside the document (disk full, locked register) leaves the file in
    the work area as ``failed_transient``, tried again after a back-off and quarantined after ``transient_retries``.
    """

    def __init__(self, settings: Settings, register: Register, run: Runner) -> None:
        self.settings = settings
        self.register = register
        self.run = run
        self._tmp = process_tmp(settings.tmp_dir)  # this process's: the same for every job

    def handle_many(self, inputs: Iterable[Input], *, move: bool, channel: Channel) -> Iterator[InputResult]:
        """A sliding window keeps every worker busy while this process records finished documents; results are
        recorded in the order the inputs were taken. ``move``: the input was claimed into the work area and moves on
        (archive, quarantine); else it is copied and the caller's file is left alone. The window is filled lazily,
        so a caller that stops yielding inputs (the service on SIGTERM) leaves only the window to finish."""
        window: deque[_Taken] = deque()
        seen: dict[str, str] = {}
        held = 0  # input bytes in the window
        for given in inputs:
            taken = self._take(given, channel, seen, move)
            if isinstance(taken.item, Job):
                taken.future = self.run.submit(taken.item)
                held += len(taken.item.data)
            window.append(taken)
            if len(window) >= self.settings.workers * 3 + 2 * GROUP:
                # A group is recorded while the next one is read: the workers never wait for this process.
                yield from self._finish_ready(window, move, group=GROUP)
            elif len(window) > self.settings.workers and held >= WINDOW_BYTES:
                # Large files: read ahead only what keeps workers busy, but never wait on a slow head while a
                # worker could run out of work (up to a hard limit of bytes held).
                busy = self.settings.workers if held < WINDOW_BYTES_MOST else 0
                yield from self._finish_ready(window, move, busy=busy)
            else:
                continue
            held = sum(len(t.item.data) for t in window if isinstance(t.item, Job))
        while window:
            yield from self._finish_ready(window, move)

    def _finish_ready(
        self, window: deque[_Taken], move: bool, group: int | None = None, busy: int = 0
    ) -> Iterator[InputResult]:
        """Finish the window's head and every document finished behind it, in order; with ``group``, once the first
        ``group`` are finished, and at most that many. Documents read into records are recorded together: their
        outputs made durable side by side (parallel fsyncs share one journal commit), then one durable commit for all
        of them: with several workers, an fsync and a commit per document made this process the bottleneck.
        ``busy``: return without finishing anything as soon as fewer than two documents per worker are left to read,
        so the caller hands over another before a worker runs dry behind a slow head."""
        heads = [t.future for t in itertools.islice(window, group or 1) if t.future is not None]
        while busy and not all(f.done() for f in heads):
            reading = [t.future for t in window if t.future is not None and not t.future.done()]
            if len(reading) < 2 * busy:
                return
            wait(reading, return_when=FIRST_COMPLETED)
        wait(heads)
        head = window.popleft()
        ready = [head]
        while window and self._plain(window[0]) and (group is None or len(ready) < group):
            ready.append(window.popleft())
        if not self._plain(head):
            yield self._finish(head, move)
            ready = ready[1:]
        if ready:
            yield from self._record_many([(taken, self._results(taken)) for taken in ready], move)

    def _plain(self, taken: _Taken) -> bool:
        """Read by a worker without error, into records (not a mail), and not a duplicate."""
        future = taken.future
        return (
            isinstance(taken.item, Job)
            and not taken.duplicate
            and future is not None
            and future.done()
            and future.exception() is None
            and isinstance(future.result(), list)
        )

    def _results(self, taken: _Taken) -> list[DocumentResult]:
        job, future = taken.item, taken.future
        assert isinstance(job, Job) and future is not None
        results = self.run.result(future, job)
        assert isinstance(results, list)
        return results

    def _take(self, given: Input, channel: Channel, seen: dict[str, str], move: bool) -> _Taken:
        taken = _Taken(given, channel, None, InputResult(given.name, "failed_transient", "", [], []))
        try:
            if move:
                taken.arrival = self._arrival(given, channel)
            self._read_and_check(taken, seen, move)
        except Exception as exc:  # the register or the disk, not the document: tried again later
            taken.item = self._postpone(taken, exc)
        return taken

    def _read_and_check(self, taken: _Taken, seen: dict[str, str], move: bool) -> None:
        """Read the bytes once; the same bytes seen before (now or in the register) are a duplicate."""
        given, channel, arrival = taken.given, taken.channel, taken.arrival
        received = dt.datetime.now(dt.UTC)
        if given.received_at is not None:  # claimed just now by this process: the row is 'claimed'
            received = given.received_at
        elif arrival is not None:
            row = self.register.arrival(arrival)
            if row["state"] in FINAL:  # the ledger was committed, the file had not moved on yet
                taken.item = self._move_on(given, row)
                return
            received = dt.datetime.fromisoformat(row["received_at"])
        try:
            data = read_claimed(given.path, self.settings.max_file_bytes) if move else self._read(given.path)
        except DocumentError as exc:
            taken.item = self._quarantine(taken, None, received, exc, move)
            return
        except OSError as exc:
            error = UnreadablePdfError("The file could not be read from the inbox.")
            error.__cause__ = exc
            taken.item = self._quarantine(taken, None, received, error, move)
            return
        sha = hashlib.sha256(data).hexdigest()
        if self.register.document(sha) is not None or sha in seen:
            taken.item = InputResult(given.name, "duplicate", f"{sha[:12]}-0", [], [], None, sha)
            taken.duplicate = True
            return
        seen[sha] = stages.case_id(sha, 1)
        taken.item = self._job(data, sha, received, Provenance(channel=channel))

    def _job(
        self, data: bytes, sha: str, received: dt.datetime, provenance: Provenance, base: str | None = None
    ) -> Job:
        s = self.settings
        return Job(
            data,
            sha,
            received,
            provenance,
            s.max_pages,
            s.thresholds,
            s.outbox,
            base,
            s.mail_max_attachments,
            s.mail_max_depth,
            limits=s.limits,
            tmp_dir=self._tmp,
        )

    def _arrival(self, given: Input, channel: Channel) -> int:
        """The ledger row of a claimed file (the service made it when it claimed the file; a file put into the work
        area some other way gets one now)."""
        if given.arrival is not None:
            return given.arrival
        row = self.register.arrival_in_work(given.path.name)
        if row is not None:
            return int(row["id"])
        return self.register.arrive(channel, safe_name(given.name), given.path.name)

    def _read(self, path: Path) -> bytes:
        """A file named to ``process``: the caller chose it, so it is read as named."""
        size = path.stat().st_size
        if size > self.settings.max_file_bytes:
            raise LimitExceededError(f"The file is {size} bytes; at most {self.settings.max_file_bytes} are allowed.")
        return path.read_bytes()

    def _finish(self, taken: _Taken, move: bool) -> InputResult:
        try:
            if isinstance(taken.item, InputResult):
                return self._duplicate(taken, taken.item.sha256, move) if taken.duplicate else taken.item
            job, future = taken.item, taken.future
            assert future is not None
            try:
                results = self.run.result(future, job)
            except DocumentError as exc:
                return self._quarantine(taken, job.sha256, job.received_at, exc, move)
            if isinstance(results, mail.Unpacked):
                return self._mail(taken, job, results, move)
            return self._record(taken, results, move)
        except Exception as exc:  # outside the document: disk full, a locked register, a bug; tried again later
            return self._postpone(taken, exc)

    def _mail(self, taken: _Taken, job: Job, unpacked: mail.Unpacked, move: bool) -> InputResult:
        """Each attachment is an input of its own, keyed by its own sha256: bytes seen before (the same PDF in an
        earlier mail, or dropped) make no second case. Attachments are recorded first and the message last, so a
        crash in between re-reads the message and finds its own attachments done. The message is the ledger's
        input; its final state is the most serious of its attachments' outcomes."""
        given = taken.given
        base = job.sha256[:12]
        parts: list[_Taken] = []
        seen: set[str] = set()
        for attachment in unpacked.attachments:
            given_part, item = self._take_attachment(given, job, unpacked.provenance, attachment, seen)
            part = _Taken(given_part, taken.channel, None, item, in_ledger=False)
            part.future = self.run.submit(item) if isinstance(item, Job) else None
            parts.append(part)
        done = [self._finish_attachment(part) for part in parts]
        order: tuple[Outcome, ...] = ("duplicate", "recorded", "review", "quarantined")
        outcome = max((d.outcome for d in done), key=order.index)
        reasons = [f"{d.input}: {d.reason}" for d in done if d.reason] + unpacked.not_read
        cases = list(dict.fromkeys(c for d in done for c in d.cases))
        reason = " ".join(reasons) or None
        target = outputs.archive_target(self.settings, given.path, job.sha256)
        with self.register.transaction(durable=True):
            self.register.record_document(job.sha256, f"{base}-0", job.received_at, outcome, reason, cases)
            self._conclude(taken, outcome, target, sha256=job.sha256, document_id=f"{base}-0", reason=reason)
        outputs.keep(given.path, target, move, sync=False)
        log.info("mail %s", outcome, extra={"document_id": f"{base}-0", "cases": cases, "count": len(done)})
        letters = [letter for d in done for letter in d.letters]
        return InputResult(given.name, outcome, f"{base}-0", cases, letters, reason)

    def _take_attachment(
        self, given: Input, job: Job, provenance: Provenance, attachment: mail.Attachment, seen: set[str]
    ) -> tuple[Input, Job | InputResult]:
        """The attachment's bytes go the normal way, named by their hash in the work area (never by the name the
        sender gave them), so recording and quarantine treat them like any claimed file."""
        base = f"{job.sha256[:12]}-{attachment.number}"
        name = f"{given.name} bilaga {attachment.number}"
        sha = hashlib.sha256(attachment.data).hexdigest()
        first = self.register.document(sha)
        if first is not None and first["document_id"].startswith(f"{job.sha256[:12]}-"):
            # This message's own attachment, recorded before a crash: it counts as it was recorded then.
            result = InputResult(name, first["outcome"], first["document_id"], outputs.case_ids(first), [])
            result.reason = first["reason"]
            return Input(Path(), name), result
        if first is not None or sha in seen:
            cases = outputs.case_ids(first) if first is not None else [stages.case_id(sha, 1)]
            again = "Bilagan har tagits emot tidigare; inget nytt ärende gjordes."
            return Input(Path(), name), InputResult(name, "duplicate", f"{base}-0", cases, [], again)
        seen.add(sha)
        path = self.settings.work_dir / "attachments" / f"{sha}{attachment.suffix}"
        atomic_write(path, attachment.data)
        return Input(path, name), self._job(attachment.data, sha, job.received_at, provenance, base)

    def _finish_attachment(self, part: _Taken) -> InputResult:
        item, future = part.item, part.future
        if isinstance(item, InputResult):
            return item
        assert future is not None and item.document_base is not None
        try:
            results = self.run.result(future, item)
            if isinstance(results, mail.Unpacked):
                raise NotSupportedError("A mail message inside an attachment was not unpacked.")
        except DocumentError as exc:
            return self._quarantine(part, item.sha256, item.received_at, exc, True, f"{item.document_base}-0")
        return self._record(part, results, True)

    def _record(self, taken: _Taken, results: list[DocumentResult], move: bool) -> InputResult:
        return self._record_many([(taken, results)], move)[0]

    def _record_many(self, items: list[tuple[_Taken, list[DocumentResult]]], move: bool) -> list[InputResult]:
        """Records, letters and crops first, made durable together (the workers wrote them without waiting on the
        disk); then one durable commit of every case, document and ledger row; only then the originals move on (a
        crash before a move leaves a final row: the next pass moves it on). A failure outside the documents
        postpones them, each to be tried again alone."""
        done: dict[int, InputResult] = {}
        ready: list[_Recording] = []
        pending: dict[str, list[str]] = {}  # person key -> cases earlier in this group, for linking
        rewritten: list[Path] = []  # a duplicate's letters that the worker wrote again over the first copy's
        for taken, results in items:
            job = taken.item
            assert isinstance(job, Job)
            try:
                if self.register.document(job.sha256) is not None:  # recorded meanwhile: an attachment of a mail
                    _discard(results)
                    rewritten.extend(self._letters_again(results))
                    done[id(taken)] = self._duplicate(taken, job.sha256, move)
                else:
                    ready.append(self._write(taken, job, results, pending))
            except Exception as exc:  # outside the document: disk full, a locked register; tried again later
                _discard(results)
                done[id(taken)] = self._postpone(taken, exc)
        try:
            files = [*rewritten, *(path for r in ready for path in r.files)]
            folders = [path.parent for path in files] + [folder for r in ready for folder in r.folders]
            sync_together(files, folders, self.settings.sync_method)
            with self.register.transaction(durable=True):
                for r in ready:
                    self._commit(r)
        except Exception as exc:
            for r in ready:
                done[id(r.taken)] = self._postpone(r.taken, exc)
            ready = []  # records already in place stay: the retry writes the same files again
        for r in ready:
            done[id(r.taken)] = self._kept(r, move)
        return [done[id(taken)] for taken, _ in items]

    def _letters_again(self, results: list[DocumentResult]) -> list[Path]:
        """A duplicate read beside its first copy wrote letters too. Where they are the first copy's (the same case
        and day: the same bytes) they are kept, to be synced again; any other is removed, so that no letter goes
        out for a case that was not recorded: the first copy was quarantined (its worker ran out of time), or read
        on the day before."""
        again = []
        for letter in (letter for x in results for letter in x.letters):
            path = self.settings.outbox / letter
            if self.register.has_letter(letter):
                again.append(path)
            else:
                path.unlink(missing_ok=True)
        return again

    def _write(
        self, taken: _Taken, job: Job, results: list[DocumentResult], pending: dict[str, list[str]]
    ) -> _Recording:
        """Link, crops, the records' files (not yet synced) and a scan batch's manifest; what the input became."""
        r = _Recording(taken, job, results)
        mine: list[tuple[str, str]] = []  # this input's cases by person: for the inputs after it, once it is written
        for result in results:
            key, linked = outputs.link(self.register, result, pending)
            crops = outputs.write_crops(self.settings, result)
            r.files.extend(crops)
            r.folders.extend(crop.parent for crop in crops)  # the case's crop folder is new in review/
            changed = bool(crops) or linked
            text = result.record.to_json() if changed or not result.text else result.text
            if changed:
                outputs.discard(result.staged)
            summary = result.summary
            r.files.append(outputs.place_record(self.settings, summary, None if changed else result.staged, text))
            r.files.extend(self.settings.outbox / letter for letter in result.letters)  # the worker did not sync them
            r.saved.append((key, text))
            if key is not None:
                mine.append((key, summary.case_id))
        reasons = [reason for x in results for reason in x.summary.reasons]
        manifest = results[0].manifest or []
        stray = [p.page for p in manifest if p.role in ("unassigned", "repeated")]
        if manifest:
            outputs.write_manifest(self.settings, job.sha256, manifest)
        if stray:
            reasons.append(f"Pages {', '.join(map(str, stray))} belong to no form and need a person to look.")
        review = bool(stray) or any(x.summary.status.value == "review" for x in results)
        r.outcome = "review" if review else "recorded"
        r.reason = "; ".join(reasons) or None
        r.target = outputs.archive_target(self.settings, taken.given.path, job.sha256)
        for key, case_id in mine:
            pending.setdefault(key, []).append(case_id)
        return r

    def _commit(self, r: _Recording) -> None:
        """Inside the group's transaction."""
        for result, (key, text) in zip(r.results, r.saved, strict=True):
            self.register.save_case(result.summary, key, text)
        cases = [x.summary.case_id for x in r.results]
        reason = r.reason if r.outcome == "review" else None
        self.register.record_document(r.job.sha256, r.document_id, r.job.received_at, r.outcome, reason, cases)
        self._conclude(r.taken, r.outcome, r.target, sha256=r.job.sha256, document_id=r.document_id)

    def _kept(self, r: _Recording, move: bool) -> InputResult:
        """After the commit: the original moves on. Its move need not be durable: the ledger's final row says where
        it goes, and a file still in the work area after a crash is moved on by the next pass."""
        cases = [x.summary.case_id for x in r.results]
        try:
            outputs.keep(r.taken.given.path, r.target, move, sync=False)
        except OSError as exc:
            log.warning("original not moved on yet", extra={"document_id": r.document_id, "code": type(exc).__name__})
        log.info("document %s", r.outcome, extra={"document_id": r.document_id, "cases": cases})
        letters = [letter for x in r.results for letter in x.letters]
        return InputResult(r.taken.given.name, r.outcome, r.document_id, cases, letters, r.reason)

    def _duplicate(self, taken: _Taken, sha: str, move: bool) -> InputResult:
        """The same bytes again: recorded as a duplicate of the first document, kept beside the archive. The first
        copy was recorded before this one left the window (or failed, and is known by its case id only)."""
        first = self.register.document(sha)
        first_id = first["document_id"] if first is not None else f"{sha[:12]}-1"
        cases = outputs.case_ids(first) if first is not None else [stages.case_id(sha, 1)]
        target = outputs.duplicate_target(self.settings, taken.given.path)
        with self.register.transaction(durable=True):
            self._conclude(taken, "duplicate", target if move else None, sha256=sha, duplicate_of=first_id)
        if move:
            outputs.keep(taken.given.path, target, move, sync=False)
        log.info("document duplicate", extra={"document_id": first_id, "cases": cases})
        reason = "The same file has been received before; nothing new was done."
        return InputResult(taken.given.name, "duplicate", first_id, cases, [], reason, sha)

    def _quarantine(
        self,
        taken: _Taken,
        sha: str | None,
        received: dt.datetime,
        exc: DocumentError,
        move: bool,
        document_id: str | None = None,
    ) -> InputResult:
        """The report first, then the ledger, then the file: a crash leaves the file to be moved on, never a file in
        quarantine that the ledger does not know about."""
        given = taken.given
        if document_id is None:
            document_id = f"{sha[:12]}-0" if sha else f"arrival-{taken.arrival}" if taken.arrival else "arrival-cli"
        target = outputs.quarantine_target(self.settings, document_id, given.name)
        if not move and sha is None:  # ``process`` on a file it could not read: no id to tell two of them apart
            target = target.with_name(f"{secrets.token_hex(4)}-{target.name}")
        outputs.error_report(target, sha, document_id, exc)
        with self.register.transaction(durable=True):
            if sha is not None:
                self.register.record_document(sha, document_id, received, "quarantined", exc.reason, [])
            self._conclude(taken, "quarantined", target, sha256=sha, document_id=document_id, reason=exc.reason)
        if move or given.path.is_file():
            outputs.keep(given.path, target, move, sync=False)
        log.warning("document quarantined", extra={"document_id": document_id, "step": exc.step, "code": exc.code})
        return InputResult(given.name, "quarantined", document_id, [], [], f"{exc.reason} {exc.action}")

    def _conclude(self, taken: _Taken, outcome: Outcome, kept: Path | None, **values: object) -> None:
        """Inside the outcome's transaction: the ledger row's final state and where the file is kept (None: a
        duplicate given to ``process``, whose file stays with the caller)."""
        if not taken.in_ledger:
            return
        arrival = taken.arrival
        if arrival is None:
            arrival = self.register.arrive(taken.channel, safe_name(taken.given.name))
        relative = kept.relative_to(self.settings.state_dir).as_posix() if kept else None
        self.register.mark(arrival, LEDGER_STATE[outcome], kept_as=relative, **values)

    def _move_on(self, given: Input, row: sqlite3.Row) -> InputResult:
        """A final row whose file is still in the work area (a crash after the commit): only move the file on."""
        outputs.keep(given.path, self.settings.state_dir / row["kept_as"], move=True, sync=False)
        outcome = OUTCOME[row["state"]]
        first = self.register.document(row["sha256"]) if row["sha256"] else None
        cases = outputs.case_ids(first) if first is not None else []
        document_id = row["document_id"] or row["duplicate_of"] or f"arrival-{row['id']}"
        log.info("document moved on after a restart", extra={"document_id": document_id})
        return InputResult(row["name"], outcome, document_id, cases, [], row["reason"])

    def _postpone(self, taken: _Taken, exc: Exception) -> InputResult:
        """A failure outside the document: the file stays in the work area and is tried again after a back-off;
        after ``transient_retries`` tries it is quarantined with the last reason."""
        reason = transient_reason(exc)
        document_id = f"arrival-{taken.arrival}" if taken.arrival else "arrival-cli"
        log.warning("document postponed", extra={"document_id": document_id, "code": type(exc).__name__})
        result = InputResult(taken.given.name, "failed_transient", document_id, [], [], reason)
        if taken.arrival is None:  # ``process``: the caller's file is untouched; the command reports the failure
            return result
        try:
            attempts = int(self.register.arrival(taken.arrival)["attempts"]) + 1
            if attempts > self.settings.transient_retries:
                error = KeptFailingError(
                    f"Processing failed {attempts} times, each for a reason outside the document: {reason}."
                )
                return self._quarantine(taken, None, dt.datetime.now(dt.UTC), error, True)
            delay = min(self.settings.retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
            with self.register.transaction():
                self.register.mark(
                    taken.arrival, "failed_transient", attempts=attempts, retry_at=retry_at.isoformat(), reason=reason
                )
        except Exception as again:  # the register itself is out of reach: the row stays claimed, tried next pass
            log.warning("ledger not updated", extra={"document_id": document_id, "code": type(again).__name__})
        return result


MAX_BACKOFF_SECONDS = 3600.0
# Documents recorded per durable commit while a backlog flows, so the commit's fsyncs and statements are shared (a
# lone document is still finished at once). Measured on a backlog of 7429s with 2 workers: 32 instead of 8 took
# about 0.25 ms per document off this process, and 64 instead of 32 about 0.025 ms more (A/B, 12 rounds). The
# window holds two groups and what keeps the workers busy, so the workers read the next group while this process
# records one: with one group, they ran dry at each (2 workers: 11% of their time waiting for a document, against
# 3%).
GROUP = 64
# Bytes of input the window may hold (each read whole, with its job). A group pays off for small documents (filled
# 7429s, tens of KB); a backlog of scans (hundreds of KB each, over half a second of reading) is read ahead only
# as far as keeps every worker busy, so it is not all in memory and a stop does not wait for dozens of scans.
WINDOW_BYTES = 4 * 1024 * 1024
# Behind a slow head (a poor scan), more is read ahead while a worker could run out, up to this: else the other
# worker waited, once for 0.6 s in a backlog of 50 scans.
WINDOW_BYTES_MOST = 4 * WINDOW_BYTES


def _discard(results: list[DocumentResult]) -> None:
    for result in results:
        outputs.discard(result.staged)


def transient_reason(exc: BaseException) -> str:
    """Why a document could not be finished, in words for the person who runs the service."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return "the register was locked by another program"
        if "full" in text:
            return "the disk holding the register is full"
        return "the register could not be written"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if isinstance(exc, OSError):
        return f"the file system refused ({errno.errorcode.get(exc.errno or 0, 'error')})"
    return f"an unexpected {type(exc).__name__} in the pipeline"


REFUSED = {
    stat.S_IFLNK: "The inbox held a link (symlink) to another file, not the file itself; links are never followed.",
    stat.S_IFIFO: "The inbox held a pipe (FIFO), not a file.",
    stat.S_IFCHR: "The inbox held a device, not a file.",
    stat.S_IFBLK: "The inbox held a device, not a file.",
    stat.S_IFSOCK: "The inbox held a socket, not a file.",
    stat.S_IFDIR: "The inbox held a folder where a file was expected.",
}
HARD_LINK = "The file has other names (hard links) elsewhere on the disk, so it could change after it was taken."


def _refuse(st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise RefusedEntryError(REFUSED.get(stat.S_IFMT(st.st_mode), "The inbox held something that is not a file."))
    if st.st_nlink != 1:
        raise RefusedEntryError(HARD_LINK)


def read_claimed(path: Path, max_bytes: int) -> bytes:
    """Open a claimed file once, without following a link, and check what was opened: a plain file with one name.
    Anything else is refused before a byte of it is read (a FIFO or device is not even opened)."""
    _refuse(os.lstat(path))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since the lstat
            raise RefusedEntryError(REFUSED[stat.S_IFLNK]) from exc
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        _refuse(st)
        if st.st_size > max_bytes:
            raise LimitExceededError(f"The file is {st.st_size} bytes; at most {max_bytes} are allowed.")
        # As much as fstat promised and one byte more, not ``max_bytes`` at once: a read of n bytes sets aside n
        # bytes first (50 MB by default), which cost more than reading a filled 7429. Then the rest, if it grew.
        data = fh.read(st.st_size + 1)
        if len(data) > st.st_size:
            data += fh.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:
        raise LimitExceededError(f"The file grew past {max_bytes} bytes while it was read.")
    return data
