"""Pydantic models at the pipeline's boundaries: what a reader returns, the domain models validation builds, and the
case record written to the register and ``outbox/cases/``. The record's JSON Schema (``schema/case-record.json``)
is exported from :class:`CaseRecord`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pipeline import identifiers

SCHEMA_VERSION: Literal[1] = 1


class Source(StrEnum):
    ACROFORM = "acroform"
    TEXT = "text"
    OCR = "ocr"
    REVIEW = "review"


class RawField(BaseModel):
    """What a reader saw in one field, before validation. ``value`` is None when the field is empty."""

    model_config = ConfigDict(frozen=True)

    value: str | bool | None
    source: Source
    confidence: float = Field(ge=0, le=1)
    # Other readings of a doubtful field's ink that could stand (the line reader's): where another field that this
    # one repeats was read with confidence as one of them, that confirms it.
    alternatives: tuple[str, ...] = ()


class FieldValue(BaseModel):
    """One field in a record: the normalised value, where it came from, and whether it was accepted automatically."""

    value: str | bool | None
    source: Source
    confidence: float = Field(ge=0, le=1)
    accepted: bool
    problem: str | None = None
    crop: str | None = Field(default=None, description="PNG of the field as scanned, for review (state folder)")


class Severity(StrEnum):
    MISSING = "missing"  # required but empty: the person is asked to complete it
    INVALID = "invalid"  # present but not a valid value of its type: staff review
    DOUBTFUL = "doubtful"  # read with low confidence: staff review
    INCONSISTENT = "inconsistent"  # fields contradict each other
    # Read with low confidence (or not valid as read) in a field whose doubt does not hold the case: no rule and no
    # letter uses it. Flagged on the field, with its crop, for staff to check; the case goes on.
    UNCONFIRMED = "unconfirmed"


class Problem(BaseModel):
    field: str | None
    label: str
    severity: Severity
    message: str = Field(description="in Swedish, fit for a request for completion; never repeats the value")


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Evidence(BaseModel):
    field: str
    value: str | bool | None


class SourceRef(BaseModel):
    title: str
    publisher: str = "Försäkringskassan"
    updated: dt.date | None = None
    reference: str = Field(description="where the rule is written: seed page or design card, and the law it names")


class Criterion(BaseModel):
    rule: str
    label: str
    status: Status
    evidence: list[Evidence]
    source: SourceRef
    rule_version: str
    explanation: str


class Outcome(StrEnum):
    COMPLETE = "complete"
    COMPLETION_NEEDED = "completion_needed"
    TO_HANDLAGGARE = "to_handlaggare"
    REVIEW = "review"


class Assessment(BaseModel):
    """A pre-assessment only: Försäkringskassan decides."""

    assessed_on: dt.date
    criteria: list[Criterion]
    outcome: Outcome
    reasons: list[str]
    letter_kinds: list[str]


class LetterKind(StrEnum):
    CONFIRMATION = "bekraftelse"
    COMPLETION = "komplettering"
    ACKNOWLEDGEMENT = "mottagen"
    NOTICE_TO_PATIENT = "information-7429"


class LetterRef(BaseModel):
    kind: LetterKind
    path: str
    recipient: Literal["applicant", "patient"]
    sha256: str
    created_at: dt.datetime


class HistoryEntry(BaseModel):
    at: dt.datetime
    by: str = Field(description="'pipeline' or the staff member's user name")
    event: str
    detail: str | None = None


class CaseStatus(StrEnum):
    RECORDED = "recorded"
    REVIEW = "review"


class Provenance(BaseModel):
    channel: Literal["inbox", "cli", "email"] = "inbox"
    message_id: str | None = None
    sender: str | None = None
    sent_at: str | None = None


class CaseRecord(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    case_id: str = Field(pattern=r"^RK-[0-9A-F]{12}$")
    document_id: str
    form_id: str
    form_version: str
    source_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    received_at: dt.datetime
    status: CaseStatus
    provenance: Provenance = Provenance()
    pages: list[int] = Field(description="pages of the source file this document was read from, 1-based")
    attachment_pages: list[int] = Field(default_factory=list, description="pages not of our form that came with it")
    fields: dict[str, FieldValue]
    problems: list[Problem]
    assessment: Assessment | None
    linked_case_ids: list[str] = Field(default_factory=list, description="earlier cases of the same person")
    data_minimised: bool = Field(False, description="true when data was left out (a 7429 without consent)")
    letters: list[LetterRef] = Field(default_factory=list)
    history: list[HistoryEntry]

    def to_json(self) -> str:
        """The record as its file and the register keep it."""
        return self.model_dump_json(indent=2)


@dataclass(frozen=True)
class RecordSummary:
    """What the service needs of a record to place and register it: it travels from the worker beside the record's
    JSON, so the whole record is parsed only where it changes (a link to an earlier case, review crops)."""

    case_id: str
    document_id: str
    source_sha256: str
    form_id: str
    status: CaseStatus
    outcome: str | None
    received_at: str
    reasons: tuple[str, ...]
    letters: tuple[tuple[str, str, str], ...]  # path, kind, created at

    @classmethod
    def of(cls, record: CaseRecord) -> RecordSummary:
        assessment = record.assessment
        return cls(
            record.case_id,
            record.document_id,
            record.source_sha256,
            record.form_id,
            record.status,
            assessment.outcome.value if assessment else None,
            record.received_at.isoformat(),
            tuple(assessment.reasons) if assessment else (),
            tuple((x.path, x.kind.value, x.created_at.isoformat()) for x in record.letters),
        )


# --- domain models built from validated values -------------------------------------------------------------------


def _pnr(v: str) -> str:
    return identifiers.normalise_personnummer(v)


def _postnr(v: str) -> str:
    return identifiers.normalise_postnummer(v)


Personnummer = Annotated[str, AfterValidator(_pnr)]
Postnummer = Annotated[str, AfterValidator(_postnr)]
YesNo = Literal["ja", "nej"]


class Application(BaseModel):
    """Ansökan om samordning av rehabiliteringsinsatser. Optional where the person may leave a field empty; what
    is required is enforced by the form definition, so a missing field becomes a problem, not a crash."""

    model_config = ConfigDict(extra="forbid")

    efternamn: str | None = None
    fornamn: str | None = None
    personnummer: Personnummer | None = None
    adress: str | None = None
    postnummer: Postnummer | None = None
    postort: str | None = None
    telefon: str | None = None
    epost: str | None = None
    bor_i_sverige: bool = False
    arbetar_i_sverige: bool = False
    har_sgi: Literal["ja", "nej", "vet_inte"] | None = None
    lakarintyg_bifogas: bool = False
    lakarintyg_skickat_tidigare: bool = False
    lakarintyg_datum: dt.date | None = None
    behov_rehabilitering: bool = False
    behov_beskrivning: str | None = None
    inskriven_arbetsformedlingen: YesNo | None = None
    kontakt_socialtjanst: YesNo | None = None
    kan_delta_digitalt: bool = False
    behover_tolk: bool = False
    tolk_sprak: str | None = None
    ort: str | None = None
    datum: dt.date | None = None
    underskrift: bool = False
    namnfortydligande: str | None = None


class RehabNeedNotice(BaseModel):
    """7429 Information om antaget behov av rehabiliteringsåtgärder enligt 30 kap. SFB."""

    model_config = ConfigDict(extra="forbid")

    patient_efternamn: str | None = None
    patient_fornamn: str | None = None
    patient_personnummer: Personnummer | None = None
    patient_adress: str | None = None
    patient_postnummer: Postnummer | None = None
    patient_postort: str | None = None
    patient_telefon: str | None = None
    region: str | None = None
    vardenhet: str | None = None
    koordinator_namn: str | None = None
    koordinator_telefon: str | None = None
    koordinator_epost: str | None = None
    sjukskriven: YesNo | None = None
    sjukskriven_fran: dt.date | None = None
    sjukskrivning_omfattning: Literal["25", "50", "75", "100"] | None = None
    behov_beskrivning: str | None = None
    samtycke: bool = False
    samtycke_datum: dt.date | None = None
    datum: dt.date | None = None
    namnfortydligande: str | None = None


DOMAIN_MODELS: dict[str, type[Application] | type[RehabNeedNotice]] = {
    "application": Application,
    "notice": RehabNeedNotice,
}
