"""Staff review: see what the machine saw, correct or confirm it, and let the flow resume.

A corrected or confirmed value gets the source ``review`` and confidence 1; every change is in the record's history
with who and when. Approval re-runs validation, the rules, the record and the letters from the saved values: the
document is not read again.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from pipeline import audit, outputs, stages
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.formspec import FormSpec
from pipeline.models import CaseRecord, CaseStatus, FieldValue, HistoryEntry, Outcome, RawField, Source
from pipeline.register import Register
from pipeline.validate import validate_value


class ReviewError(PipelineError):
    exit_code = 2
    step = "review"
    action = "Check the case number, the field name and the value, and try again."


def reviewer() -> str:
    return os.environ.get("PIPELINE_REVIEWER") or audit.who()


def open_case(register: Register, case_id: str, unconfirmed: bool = False) -> CaseRecord:
    """A case waiting for review; with ``unconfirmed``, also a case that went on with fields left for staff to check
    (to show and correct them, never to approve: its letters are sent)."""
    record = register.case(case_id)
    if record is None:
        raise ReviewError(f"No case {case_id} in the register.")
    if record.status is CaseStatus.REVIEW:
        return record
    if unconfirmed and any(not v.accepted for v in record.fields.values()):
        return record
    raise ReviewError(f"Case {case_id} is not waiting for review (status {record.status.value}).")


class DoubtfulField(BaseModel):
    name: str
    label: str
    value: str | bool | None
    confidence: float
    source: Source
    problem: str | None
    crop: str | None


def doubtful(record: CaseRecord, spec: FormSpec, settings: Settings) -> list[DoubtfulField]:
    out = []
    for fs in spec.fields:
        v = record.fields.get(fs.name)
        if v is None or v.accepted:
            continue
        crop = str(settings.state_dir / v.crop) if v.crop else None
        out.append(
            DoubtfulField(
                name=fs.name,
                label=fs.label,
                value=v.value,
                confidence=v.confidence,
                source=v.source,
                problem=v.problem,
                crop=crop,
            )
        )
    return out


def set_value(
    register: Register,
    specs: Mapping[str, FormSpec],
    settings: Settings,
    case_id: str,
    name: str,
    text: str,
    by: str,
) -> FieldValue:
    record = open_case(register, case_id, unconfirmed=True)
    if name not in record.fields:
        raise ReviewError(f"Case {case_id} has no field {name!r}.")
    if record.status is not CaseStatus.REVIEW and record.fields[name].accepted:
        raise ReviewError(
            f"Case {case_id} went on; only its unconfirmed fields can be corrected here.",
            action="Correct the case's other fields in the case system.",
        )
    fs = specs[record.form_id].field(name)
    value, problem = validate_value(fs, text)
    if problem is not None:
        raise ReviewError(f"The value is not valid for {fs.label}: {problem.message}", action="Correct the value.")
    record.fields[name] = FieldValue(value=value, source=Source.REVIEW, confidence=1.0, accepted=True)
    record.problems = [p for p in record.problems if p.field != name]
    record.history.append(HistoryEntry(at=_now(), by=by, event="corrected", detail=name))
    _save(register, settings, record, person=None)
    audit.record(settings.state_dir, "changed", "review set", case_id=case_id, detail=name, by=by)
    return record.fields[name]


def approve(register: Register, specs: Mapping[str, FormSpec], settings: Settings, case_id: str, by: str) -> CaseRecord:
    """Confirm what is left as read, then resume: validate, assess, record, letters."""
    record = open_case(register, case_id)
    if record.data_minimised:
        raise ReviewError(
            f"Case {case_id} is a 7429 without consent; it is not registered as an ordinary case.",
            action="Handle it outside the pipeline, as the routine for notices without consent says.",
        )
    spec = specs[record.form_id]
    raw = {
        name: RawField(
            value=v.value,
            source=Source.REVIEW if not v.accepted else v.source,
            confidence=1.0 if not v.accepted else v.confidence,
        )
        for name, v in record.fields.items()
    }
    values, problems, model = stages.check(spec, raw, settings.thresholds)
    invalid = [p.message for p in problems if p.severity.value in ("invalid", "doubtful")]
    if invalid:
        raise ReviewError(
            "Some values are still not valid: " + "; ".join(invalid),
            action="Correct them with `pipeline review set CASE FIELD VALUE`, then approve again.",
        )
    today = dt.date.today()
    assessment = stages.assess(spec, model, problems, today)
    if assessment.outcome is Outcome.REVIEW:
        raise ReviewError(
            "The case still cannot go on: " + "; ".join(assessment.reasons),
            action="Correct what is named, then approve again.",
        )
    for name, v in values.items():
        v.crop = record.fields[name].crop
    record.fields, record.problems, record.assessment = values, problems, assessment
    record.status = CaseStatus.RECORDED
    record.history.append(HistoryEntry(at=_now(), by=by, event="approved", detail=assessment.outcome.value))
    stages.write_letters(settings.outbox, record, stages.render_letters(spec, record, model, today))
    outcome = assessment.outcome.value
    result = stages.DocumentResult(record, personnummer=stages.personnummer(spec, record))
    person, _ = outputs.link(register, result)
    _save(register, settings, record, person=person)
    (settings.review_dir / f"{case_id}.json").unlink(missing_ok=True)
    audit.record(settings.state_dir, "approved", "review approve", case_id=case_id, detail=outcome, by=by)
    return record


def _save(register: Register, settings: Settings, record: CaseRecord, person: str | None) -> Path:
    path = outputs.write_record(settings, record)
    with register.transaction():
        register.save_case(record, person)
    return path


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
