"""The stages of reading one document, each a small function with one job. They run inside a worker process;
:mod:`pipeline.conductor` calls them in order."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel

from pipeline import identify as identification
from pipeline import mail, rules
from pipeline.document import PdfDocument
from pipeline.errors import NotSupportedError, UnknownFormError
from pipeline.formspec import FieldType, FormSpec
from pipeline.fsutil import atomic_write, write_private
from pipeline.letters import LetterContext, render_letter
from pipeline.limits import Limits
from pipeline.models import (
    Assessment,
    CaseRecord,
    CaseStatus,
    FieldValue,
    HistoryEntry,
    LetterKind,
    LetterRef,
    Outcome,
    Problem,
    Provenance,
    RawField,
    RecordSummary,
    Severity,
    Source,
    Status,
)
from pipeline.readers import Reader, merge
from pipeline.readers.acroform import AcroFormReader
from pipeline.readers.textlayer import TextLayerReader
from pipeline.scan import batch, raster
from pipeline.scan.align import CANON_DPI, AlignedPage, AlignmentError, align_page
from pipeline.scan.batch import ManifestPage, PageId, Split
from pipeline.scan.ocr import OcrEngine, default_engine
from pipeline.scan.zonal import PageReading, Template, corroborate, doubt_joined_names, doubt_lost_marks, read_page
from pipeline.validate import domain_model, validate

READERS: dict[Source, Reader] = {Source.ACROFORM: AcroFormReader(), Source.TEXT: TextLayerReader()}


@dataclass(frozen=True)
class Input:
    """A file to take: where it is now, and the name it arrived with (shown to staff, never logged)."""

    path: Path
    name: str
    arrival: int | None = None  # its ledger row, when the service claimed it just now
    received_at: dt.datetime | None = None  # that row's, so it need not be looked up again


@dataclass(frozen=True)
class Job:
    """One input handed to a worker: its bytes (read once, by the parent) and what the parent knows of it."""

    data: bytes
    sha256: str
    received_at: dt.datetime
    provenance: Provenance
    max_pages: int
    thresholds: Mapping[str, float]
    outbox: Path
    document_base: str | None = None  # an attachment's: derived from its message's (``<message>-<n>``)
    max_attachments: int = 20
    max_mail_depth: int = 3
    limits: Limits = field(default_factory=Limits)
    tmp_dir: Path | None = None  # the service's private temporary folder, for the worker to use too


@dataclass
class RenderedLetter:
    kind: LetterKind
    recipient: rules.Recipient
    pdf: bytes


@dataclass
class DocumentResult:
    record: CaseRecord
    letters: list[str] = field(default_factory=list)  # written, relative to the outbox
    personnummer: str | None = None  # for linking in the register; never logged
    crops: dict[str, bytes] = field(default_factory=dict)  # PNG of each field that needs a person's eye
    manifest: list[ManifestPage] | None = None  # for the input's first document: what every page of the file is
    text: str = ""  # the record as JSON, as the worker wrote it
    staged: Path | None = None  # that file, written (not fsynced) in the private temporary folder, to be renamed

    @property
    def summary(self) -> RecordSummary:
        """What registering the record needs; from the record itself once that is at hand."""
        if "record" in self.__dict__:
            return RecordSummary.of(self.record)
        summary: RecordSummary = self.__dict__["_summary"]
        return summary

    def __getstate__(self) -> dict[str, Any]:
        """From the worker the record travels as its JSON and a summary: the service parses the JSON (with
        pydantic-core) only if it must change the record, which most documents never need."""
        state = self.__dict__.copy()
        if self.text:
            state["_summary"] = RecordSummary.of(self.record)
            del state["record"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __getattr__(self, name: str) -> Any:
        """Only for a record that came as JSON and is needed after all: parsed once, on first use."""
        if name != "record" or "text" not in self.__dict__:
            raise AttributeError(name)
        record = self.__dict__["record"] = CaseRecord.model_validate_json(self.__dict__["text"])
        return record


Read = list[DocumentResult] | mail.Unpacked  # what a worker returns: a document's results, or a message's contents


def sniff(job: Job) -> raster.Kind | Literal["mail"]:
    """By the first bytes, never the name."""
    if mail.looks_like_mail(job.data):
        return "mail"
    return raster.sniff(job.data)


def unpack_mail(job: Job) -> mail.Unpacked:
    """A message's attachments, read by the service as inputs of their own. An attachment is never a message."""
    if job.document_base is not None:
        raise NotSupportedError("A mail message inside an attachment was not unpacked.")
    return mail.unpack(job.data, max_attachments=job.max_attachments, max_depth=job.max_mail_depth)


def open_pdf(job: Job) -> PdfDocument:
    return PdfDocument(job.data, max_pages=job.max_pages, limits=job.limits)


def identify(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> tuple[FormSpec, Source] | None:
    found = identification.identify_digital(doc, specs)
    if found is None:
        doc.check_objects()  # a scan: PDFium renders it next, so every object is checked first
    return found


# --- the scan path ------------------------------------------------------------------------------------------------

ENGINE: OcrEngine = default_engine()  # the seam: pytesseract, or tesserocr kept loaded in the worker
_TEMPLATES: dict[tuple[str, str, int], Template] = {}


def warm() -> None:
    """Load once what reading does beyond importing its code: the lexicon's tables, the line readers' networks,
    tesseract's English model (e-mail addresses), the per-character readers, the letters' fonts. The workers'
    forkserver calls this before it forks the first worker, so every worker, a replacement too, starts with them,
    shared rather than copied: a worker's first scan cost about 3 s more than the next, which a backlog read by two
    workers paid twice. A part that cannot load (a dictionary not installed) is left to fail again where a document
    needs it, with its own advice: the forkserver has no log, and a failure here would stop every worker."""
    from pipeline.letters import register_fonts
    from pipeline.scan import glyphs, lexicon, lines

    parts: list[Callable[[], object]] = [
        lexicon.warm,
        lines.warm,
        lambda: ENGINE.words(Image.new("L", (32, 32), 255), model="eng"),
        lambda: glyphs.net(glyphs.WEIGHTS),
        glyphs.letter_net,
        register_fonts,
    ]
    for part in parts:
        try:
            part()
        except Exception:  # see above: the document that needs the part reports it
            continue


@dataclass
class Located:
    """One page of the file: what its QR code says, and the page aligned (None: not ours, or not alignable)."""

    id: PageId
    page: AlignedPage | None = None


def page_images(job: Job, kind: raster.Kind) -> Iterator[tuple[int, Image.Image]]:
    if kind == "pdf":
        pages = raster.pdf_pages(job.data, job.max_pages, job.limits)
    else:
        pages = raster.image_pages(job.data, kind, job.max_pages, job.limits)
    return enumerate(pages, start=1)


def locate(image: Image.Image, number: int, specs: Mapping[str, FormSpec]) -> Located:
    """Which form page this is (its QR code) and the page warped onto the template (its corner marks)."""
    try:
        aligned = align_page(image, specs)
    except AlignmentError as exc:  # our QR code, but the page cannot be straightened: read as unreadable
        return Located(PageId(number, exc.form_id, exc.page))
    if aligned is None:
        return Located(PageId(number, None))
    return Located(PageId(number, aligned.form_id, aligned.page), page=aligned)


def split_batch(located: list[Located]) -> tuple[list[Split], list[ManifestPage]]:
    documents, manifest = batch.split([p.id for p in located])
    if not documents:
        raise UnknownFormError(
            "The file is not one of the forms the pipeline reads: no page carries the QR code of one of our forms "
            "(blank pages, or another document)."
        )
    return documents, manifest


def template(spec: FormSpec, page: int) -> Template:
    """The blank page at the canonical resolution, rendered once per worker and kept."""
    key = (spec.id, spec.form.version, page)
    if key not in _TEMPLATES:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(spec.blank_path))
        try:
            image = pdf[page - 1].render(scale=CANON_DPI / 72, grayscale=True, may_draw_forms=False).to_pil()
        finally:
            pdf.close()
        _TEMPLATES[key] = Template.from_blank(image, CANON_DPI)
    return _TEMPLATES[key]


def read_scan(document: Split, located: list[Located], spec: FormSpec) -> PageReading:
    """Zonal reading of each page of one document; a page that could not be aligned is read as unreadable."""
    merged = PageReading()
    for form_page in range(1, spec.form.pages + 1):
        number = document.pages.get(form_page)
        page = located[number - 1] if number is not None else None
        if page is None or page.page is None:  # a page missing from the scan, or one that could not be aligned
            for fs in (f for f in spec.fields if f.page == form_page):
                merged.values[fs.name] = RawField(value="", source=Source.OCR, confidence=0.0)
            merged.problems.append(_page_problem(form_page, page))
            continue
        reading = read_page(page.page.image, template(spec, form_page), spec, form_page, ENGINE)
        merged.values.update(reading.values)
        merged.crops.update(reading.crops)
        merged.marks_lost = merged.marks_lost or reading.marks_lost
        merged.marks_settled |= reading.marks_settled
    corroborate(spec, merged.values)
    doubt_joined_names(spec, merged.values)
    if merged.marks_lost:
        doubt_lost_marks(spec, merged.values, merged.marks_settled)
    return merged


def _page_problem(form_page: int, page: Located | None) -> Problem:
    if page is None:
        message = f"Sida {form_page} av blanketten saknas i skanningen."
    else:
        message = (
            f"Sida {form_page} av blanketten kunde inte rättas upp (sida {page.id.number} i filen): "
            "hörnmarkeringarna eller QR-koden syns inte helt. Skanna om sidan rak och hel."
        )
    return Problem(field=None, label=f"Sida {form_page}", severity=Severity.DOUBTFUL, message=message)


def note_manifest(results: list[DocumentResult], manifest: list[ManifestPage]) -> None:
    results[0].manifest = manifest


def conclude(
    job: Job,
    spec: FormSpec,
    index: int,
    pages: list[int],
    raw: Mapping[str, RawField],
    attachments: list[int] | None = None,
    crops: Mapping[str, Callable[[], bytes]] | None = None,
    page_problems: list[Problem] | None = None,
) -> DocumentResult:
    """From raw values to a finished result: validate, assess, record, letters (and crops for review)."""
    values, problems, model = check(spec, raw, job.thresholds)
    problems = [*(page_problems or []), *problems]
    on = job.received_at.date()
    assessment = assess(spec, model, problems, on)
    record = build_record(job, spec, index, pages, values, problems, assessment)
    record.attachment_pages = attachments or []
    crops = crops or {}
    pngs = {name: crops[name]() for name, v in record.fields.items() if not v.accepted and name in crops}
    # Not fsynced here: the service makes them durable with the group's other outputs before its commit.
    letters = write_letters(job.outbox, record, render_letters(spec, record, model, on), sync=False)
    text = record.to_json()
    return DocumentResult(record, letters, personnummer(spec, record), pngs, text=text, staged=stage(job, record, text))


def stage(job: Job, record: CaseRecord, text: str) -> Path | None:
    """The worker writes the record's file into the private temporary folder; the service renames it into place
    once the case is known not to be a duplicate (and fsyncs it there), so serialising and writing it is the
    worker's work. Named by the document, not the case: the same bytes in flight twice (a mail's attachment and the
    same file dropped beside it) make the same case, and the later copy's record must not replace the first's."""
    if job.tmp_dir is None:
        return None
    path = job.tmp_dir / "records" / f"{record.document_id}.json"
    write_private(path, text.encode())
    return path


def read_fields(doc: PdfDocument, spec: FormSpec, first: Source) -> dict[str, RawField]:
    """Ask readers in order of trust; the text layer is only opened when the AcroForm has no values (it is slow)."""
    answers = [READERS[first].read(doc, spec)]
    if first is Source.ACROFORM and not any(r.value for r in answers[0].values()):
        answers.append(READERS[Source.TEXT].read(doc, spec))
    return merge(answers)


def check(
    spec: FormSpec, raw: Mapping[str, RawField], thresholds: Mapping[str, float]
) -> tuple[dict[str, FieldValue], list[Problem], BaseModel]:
    values, problems = validate(spec, raw, thresholds)
    return values, problems, domain_model(spec, values)


def assess(spec: FormSpec, model: BaseModel, problems: list[Problem], on: dt.date) -> Assessment:
    """The rules' pre-assessment; a letter that could not reach its recipient sends the case to staff instead."""
    assessment = rules.assess(spec.form.kind, model, problems, on)
    if assessment.letter_kinds and not all(getattr(model, f) for f in spec.recipient.address_fields):
        reason = "Adressen är ofullständig, så inget brev kan skickas. Kontrollera adressen."
        assessment = assessment.model_copy(
            update={"outcome": Outcome.REVIEW, "reasons": [*assessment.reasons, reason], "letter_kinds": []}
        )
    return assessment


def case_id(sha256: str, index: int) -> str:
    """Derived from the content, so re-processing the same bytes (after a crash) gives the same case and paths."""
    return "RK-" + hashlib.sha256(f"{sha256}:{index}".encode()).hexdigest()[:12].upper()


def minimise(spec: FormSpec, values: dict[str, FieldValue], assessment: Assessment) -> bool:
    """A 7429 without consent keeps the least data: the patient's personal fields are left out of the record."""
    refused = any(c.rule == "samtycke" and c.status is Status.NOT_MET for c in assessment.criteria)
    if not refused:
        return False
    for fs in spec.fields:
        if fs.personal:
            del values[fs.name]
    return True


def build_record(
    job: Job,
    spec: FormSpec,
    index: int,
    pages: list[int],
    values: dict[str, FieldValue],
    problems: list[Problem],
    assessment: Assessment,
) -> CaseRecord:
    minimised = minimise(spec, values, assessment)
    if minimised:
        problems = [p for p in problems if p.field in values or p.field is None]
    status = CaseStatus.REVIEW if assessment.outcome is Outcome.REVIEW else CaseStatus.RECORDED
    history = [
        HistoryEntry(at=job.received_at, by="pipeline", event="received", detail=job.provenance.channel),
        HistoryEntry(at=dt.datetime.now(dt.UTC), by="pipeline", event="assessed", detail=assessment.outcome.value),
    ]
    if minimised:
        history.append(
            HistoryEntry(
                at=dt.datetime.now(dt.UTC),
                by="pipeline",
                event="minimised",
                detail="samtycke saknas: patientens uppgifter sparas inte i ärendet",
            )
        )
    return CaseRecord(
        case_id=case_id(job.sha256, index),
        document_id=f"{job.document_base or job.sha256[:12]}-{index}",
        form_id=spec.id,
        form_version=spec.form.version,
        source_sha256=job.sha256,
        received_at=job.received_at,
        status=status,
        provenance=job.provenance,
        pages=pages,
        fields=values,
        problems=problems,
        assessment=assessment,
        data_minimised=minimised,
        history=history,
    )


def personnummer(spec: FormSpec, record: CaseRecord) -> str | None:
    """The person's identifier, if it was read and accepted (the first personnummer field of the form)."""
    for fs in spec.fields:
        if fs.type is FieldType.PERSONNUMMER:
            value = record.fields.get(fs.name)
            return str(value.value) if value and value.accepted and value.value else None
    return None


def render_letters(spec: FormSpec, record: CaseRecord, model: BaseModel, on: dt.date) -> list[RenderedLetter]:
    if record.assessment is None or record.status is CaseStatus.REVIEW:
        return []
    recipient = _recipient(spec, model)
    out = []
    for kind, to in rules.letter_rule(spec.form.kind, on).letters[record.assessment.outcome]:
        ctx = LetterContext(
            case_id=record.case_id,
            letter_date=on,
            received_date=record.received_at.date(),
            form_title=spec.form.title,
            missing=record.assessment.reasons if kind is LetterKind.COMPLETION else [],
            **recipient,
        )
        out.append(RenderedLetter(kind=kind, recipient=to, pdf=render_letter(kind, ctx)))
    return out


def _recipient(spec: FormSpec, model: BaseModel) -> dict[str, Any]:
    r = spec.recipient
    name = " ".join(str(getattr(model, n)) for n in r.name if getattr(model, n))
    return {
        "recipient_name": name,
        "address": getattr(model, r.address),
        "postnummer": getattr(model, r.postnummer),
        "postort": getattr(model, r.postort),
    }


def write_letters(outbox: Path, record: CaseRecord, letters: list[RenderedLetter], *, sync: bool = True) -> list[str]:
    """Letters are written by the worker that rendered them, with ``sync=False``: a worker never waits on the disk;
    the service fsyncs them with the other outputs of the documents it records together. The path derives from
    the case id, so writing again after a crash replaces the same file: never a second letter."""
    written = []
    for letter in letters:
        relative = Path("letters") / record.received_at.date().isoformat() / f"{record.case_id}-{letter.kind.value}.pdf"
        atomic_write(outbox / relative, letter.pdf, sync=sync)
        now = dt.datetime.now(dt.UTC)
        record.letters.append(
            LetterRef(
                kind=letter.kind,
                path=relative.as_posix(),
                recipient=letter.recipient,
                sha256=hashlib.sha256(letter.pdf).hexdigest(),
                created_at=now,
            )
        )
        record.history.append(HistoryEntry(at=now, by="pipeline", event="letter", detail=letter.kind.value))
        written.append(relative.as_posix())
    return written
