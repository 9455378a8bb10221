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
import hashlib
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pipeline import mail, outputs, stages
from pipeline.config import Settings
from pipeline.errors import DocumentError, LimitExceededError, NotSupportedError, UnreadablePdfError
from pipeline.formspec import FormSpec
from pipeline.fsutil import atomic_write
from pipeline.models import Provenance
from pipeline.register import Register
from pipeline.scan.raster import Kind
from pipeline.stages import DocumentResult, Input, Job, Read

log = logging.getLogger("pipeline")

Outcome = Literal["recorded", "review", "quarantined", "duplicate"]


def read_input(job: Job, specs: Mapping[str, FormSpec]) -> Read:
    """What a worker runs: a mail message is unpacked (the service takes its attachments), anything else read."""
    if stages.sniff(job) == "mail":
        return stages.unpack_mail(job)
    return read_document(job, specs)


def read_document(job: Job, specs: Mapping[str, FormSpec]) -> list[DocumentResult]:
    """Everything that touches the document's content. Raises DocumentError for an input that cannot go on."""
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


class Intake:
    """The service side: take an input, have a worker read it, then record, write and archive."""

    def __init__(self, settings: Settings, register: Register, run: Runner) -> None:
        self.settings = settings
        self.register = register
        self.run = run

    def handle_many(
        self, inputs: Iterable[Input], *, move: bool, channel: Literal["inbox", "cli"]
    ) -> Iterator[InputResult]:
        """A sliding window keeps every worker busy while this process records finished documents; results are
        recorded in the order the inputs were taken. ``move``: the input was claimed from the inbox and moves on
        (archive, quarantine); else it is copied and the caller's file is left alone."""
        window: deque[tuple[Input, Job | InputResult, Future[Read] | None]] = deque()
        seen: dict[str, str] = {}
        for given in inputs:
            item = self._take(given, channel, seen)
            window.append((given, item, self.run.submit(item) if isinstance(item, Job) else None))
            if len(window) >= self.settings.workers * 3:
                yield self._finish(*window.popleft(), move)
        while window:
            yield self._finish(*window.popleft(), move)

    def _take(self, given: Input, channel: Literal["inbox", "cli"], seen: dict[str, str]) -> Job | InputResult:
        """Read the bytes once; the same bytes seen before (now or in the register) are a duplicate."""
        path = given.path
        received = dt.datetime.now(dt.UTC)
        try:
            size = path.stat().st_size
            if size > self.settings.max_file_bytes:
                raise LimitExceededError(
                    f"The file is {size} bytes; at most {self.settings.max_file_bytes} are allowed."
                )
            data = path.read_bytes()
        except DocumentError as exc:
            return self._quarantine(given, hashlib.sha256(b"").hexdigest(), received, exc, move=False)
        except OSError as exc:
            error = UnreadablePdfError("The file could not be read from the inbox.")
            error.__cause__ = exc
            return self._quarantine(given, hashlib.sha256(str(path).encode()).hexdigest(), received, error, False)
        sha = hashlib.sha256(data).hexdigest()
        first = self.register.document(sha)
        if first is not None or sha in seen:
            return InputResult(
                given.name,
                "duplicate",
                f"{sha[:12]}-0",
                outputs.case_ids(first) if first is not None else [seen[sha]],
                [],
                "The same file has been received before; nothing new was done.",
                sha,
            )
        seen[sha] = stages.case_id(sha, 1)
        return self._job(data, sha, received, Provenance(channel=channel))

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
        )

    def _finish(self, given: Input, item: Job | InputResult, future: Future[Read] | None, move: bool) -> InputResult:
        if isinstance(item, InputResult):
            if item.outcome == "duplicate":
                first = self.register.document(item.sha256) if item.sha256 else None
                item.cases = outputs.case_ids(first) if first is not None else item.cases
                outputs.retire_duplicate(self.settings, given.path, move)
            return item
        assert future is not None
        try:
            results = self.run.result(future, item)
        except DocumentError as exc:
            return self._quarantine(given, item.sha256, item.received_at, exc, move)
        if isinstance(results, mail.Unpacked):
            return self._mail(given, item, results, move)
        first = self.register.document(item.sha256)
        if first is not None:  # recorded meanwhile: an attachment of a mail taken before this file
            outputs.retire_duplicate(self.settings, given.path, move)
            again = "The same file has been received before; nothing new was done."
            return InputResult(given.name, "duplicate", f"{item.sha256[:12]}-0", outputs.case_ids(first), [], again)
        return self._record(given, item, results, move)

    def _mail(self, given: Input, job: Job, unpacked: mail.Unpacked, move: bool) -> InputResult:
        """Each attachment is an input of its own, keyed by its own sha256: bytes seen before (the same PDF in an
        earlier mail, or dropped) make no second case. Attachments are recorded first and the message last, so a
        crash in between re-reads the message and finds its own attachments done."""
        base = job.sha256[:12]
        parts: list[tuple[Input, Job | InputResult, Future[Read] | None]] = []
        seen: set[str] = set()
        for attachment in unpacked.attachments:
            given_part, item = self._take_attachment(given, job, unpacked.provenance, attachment, seen)
            parts.append((given_part, item, self.run.submit(item) if isinstance(item, Job) else None))
        done = [self._finish_attachment(*part) for part in parts]
        order = ("duplicate", "recorded", "review", "quarantined")
        outcome = max((d.outcome for d in done), key=order.index)
        reasons = [f"{d.input}: {d.reason}" for d in done if d.reason] + unpacked.not_read
        cases = list(dict.fromkeys(c for d in done for c in d.cases))
        reason = " ".join(reasons) or None
        with self.register.transaction():
            self.register.record_document(job.sha256, f"{base}-0", job.received_at, outcome, reason, cases)
        outputs.archive(self.settings, given.path, job.sha256, move)
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

    def _finish_attachment(self, given: Input, item: Job | InputResult, future: Future[Read] | None) -> InputResult:
        if isinstance(item, InputResult):
            return item
        assert future is not None and item.document_base is not None
        try:
            results = self.run.result(future, item)
            if isinstance(results, mail.Unpacked):
                raise NotSupportedError("A mail message inside an attachment was not unpacked.")
        except DocumentError as exc:
            return self._quarantine(given, item.sha256, item.received_at, exc, True, f"{item.document_base}-0")
        return self._record(given, item, results, True)

    def _record(self, given: Input, job: Job, results: list[DocumentResult], move: bool) -> InputResult:
        letters: list[str] = []
        for result in results:
            outputs.link(self.register, result)
            outputs.write_crops(self.settings, result)
            letters += result.letters
            outputs.write_record(self.settings, result.record)
        reasons = [reason for r in results if r.record.assessment for reason in r.record.assessment.reasons]
        manifest = results[0].manifest or []
        stray = [p.page for p in manifest if p.role in ("unassigned", "repeated")]
        if manifest:
            outputs.write_manifest(self.settings, job.sha256, manifest)
        if stray:
            reasons.append(f"Pages {', '.join(map(str, stray))} belong to no form and need a person to look.")
        review = bool(stray) or any(r.record.status.value == "review" for r in results)
        outcome: Outcome = "review" if review else "recorded"
        with self.register.transaction():
            for result in results:
                self.register.save_case(result.record, outputs.person_key(self.register, result))
            self.register.record_document(
                job.sha256,
                results[0].record.document_id,
                job.received_at,
                outcome,
                "; ".join(reasons) if review else None,
                [r.record.case_id for r in results],
            )
        outputs.archive(self.settings, given.path, job.sha256, move)
        log.info(
            "document %s",
            outcome,
            extra={
                "document_id": results[0].record.document_id,
                "cases": [r.record.case_id for r in results],
            },
        )
        return InputResult(
            given.name,
            outcome,
            results[0].record.document_id,
            [r.record.case_id for r in results],
            letters,
            "; ".join(reasons) or None,
        )

    def _quarantine(
        self,
        given: Input,
        sha: str,
        received: dt.datetime,
        exc: DocumentError,
        move: bool,
        document_id: str | None = None,
    ) -> InputResult:
        document_id = document_id or f"{sha[:12]}-0"
        outputs.quarantine(self.settings, given, sha, document_id, exc, move)
        with self.register.transaction():
            self.register.record_document(sha, document_id, received, "quarantined", exc.reason, [])
        log.warning("document quarantined", extra={"document_id": document_id, "step": exc.step, "code": exc.code})
        return InputResult(given.name, "quarantined", document_id, [], [], f"{exc.reason} {exc.action}")
