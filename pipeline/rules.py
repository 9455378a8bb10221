"""Eligibility rules as code. The pipeline pre-assesses; Försäkringskassan decides.

Each rule is a small unit with a label, the source it rests on and a validity period. A change in the guidance is a
new dated version of the rule appended to ``RULES``, never an ``if date >`` branch inside one. Cases on both sides
of every rule are data files in ``tests/rules/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipeline.errors import ConfigError
from pipeline.models import (
    Assessment,
    Criterion,
    Evidence,
    LetterKind,
    Outcome,
    Problem,
    Severity,
    SourceRef,
    Status,
)

SEED_APPLICATION = SourceRef(
    title="Ansökan om samordning av rehabiliteringsinsatser",
    updated=dt.date(2025, 2, 20),
    reference="forsakringskassan.se, avsnittet 'Vem kan få samordning av rehabiliteringsinsatser?' (shared/seeds/000)",
)
SEED_COORDINATOR = SourceRef(
    title="Information för dig som jobbar som rehabiliteringskoordinator i en region",
    updated=dt.date(2025, 6, 17),
    reference="forsakringskassan.se, Frågor och svar: 'Får jag återkoppling på vad som händer nu? Nej. I regel "
    "kontaktar vi patienten …' (shared/seeds/002); lag (2019:1297) om koordineringsinsatser för sjukskrivna patienter",
)
DESIGN_CONSENT = SourceRef(
    title="Designkortet, avsnittet '7429 notices': samtycke är obligatoriskt",
    reference="shared/DESIGN.md; regionen informerar enligt 4 § lag (2019:1297) om koordineringsinsatser, "
    "och bara om patienten samtycker",
)

Verdict = tuple[Status, list[Evidence], str]
Kind = Literal["application", "notice"]
Recipient = Literal["applicant", "patient"]


def _in_force(valid_from: dt.date, valid_to: dt.date | None, on: dt.date) -> bool:
    return valid_from <= on and (valid_to is None or on <= valid_to)


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    applies_to: Kind
    version: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: SourceRef
    evaluate: Callable[[Any], Verdict]

    def in_force(self, on: dt.date) -> bool:
        return _in_force(self.valid_from, self.valid_to, on)


def _ev(m: Any, *names: str) -> list[Evidence]:
    return [Evidence(field=n, value=getattr(m, n)) for n in names]


def _no_sgi(m: Any) -> Verdict:
    ev = _ev(m, "har_sgi")
    if m.har_sgi == "nej":
        return Status.MET, ev, "Personen uppger att hen inte har någon SGI."
    if m.har_sgi == "ja":
        return Status.NOT_MET, ev, "Personen uppger att hen har en SGI."
    return Status.UNKNOWN, ev, "Uppgift om du har en sjukpenninggrundande inkomst (SGI) – svara ja eller nej."


def _insured(m: Any) -> Verdict:
    ev = _ev(m, "bor_i_sverige", "arbetar_i_sverige")
    if m.bor_i_sverige or m.arbetar_i_sverige:
        return Status.MET, ev, "Personen uppger att hen bor eller arbetar i Sverige."
    return Status.UNKNOWN, ev, "Uppgift om du bor eller arbetar i Sverige (försäkrad i Sverige)."


def _certificate(m: Any) -> Verdict:
    ev = _ev(m, "lakarintyg_bifogas", "lakarintyg_skickat_tidigare")
    if m.lakarintyg_bifogas or m.lakarintyg_skickat_tidigare:
        return Status.MET, ev, "Läkarintyg bifogas eller har skickats tidigare."
    return (
        Status.UNKNOWN,
        ev,
        "Ett läkarintyg som visar att din arbetsförmåga är nedsatt på grund av sjukdom.",
    )


def _needs_rehab(m: Any) -> Verdict:
    ev = _ev(m, "behov_rehabilitering")
    if m.behov_rehabilitering:
        return (
            Status.MET,
            ev,
            "Personen uppger behov av arbetslivsinriktad rehabilitering för att kunna arbeta.",
        )
    return Status.UNKNOWN, ev, "Uppgift om du behöver arbetslivsinriktad rehabilitering för att kunna arbeta."


def _consent(m: Any) -> Verdict:
    ev = _ev(m, "samtycke")
    if m.samtycke:
        return Status.MET, ev, "Patienten har samtyckt till att regionen informerar Försäkringskassan."
    return (
        Status.NOT_MET,
        ev,
        "Samtycke saknas: regionen får bara informera Försäkringskassan om patienten samtycker.",
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "ingen_sgi",
        "Personen har ingen sjukpenninggrundande inkomst (SGI)",
        "application",
        "2025-02-20",
        dt.date(2025, 2, 20),
        None,
        SEED_APPLICATION,
        _no_sgi,
    ),
    Rule(
        "forsakrad_i_sverige",
        "Personen är försäkrad i Sverige (arbete eller bosättning)",
        "application",
        "2025-02-20",
        dt.date(2025, 2, 20),
        None,
        SEED_APPLICATION,
        _insured,
    ),
    Rule(
        "lakarintyg",
        "Läkarintyg visar nedsatt arbetsförmåga på grund av sjukdom",
        "application",
        "2025-02-20",
        dt.date(2025, 2, 20),
        None,
        SEED_APPLICATION,
        _certificate,
    ),
    Rule(
        "behov_av_rehabilitering",
        "Personen behöver arbetslivsinriktad rehabilitering för att kunna jobba",
        "application",
        "2025-02-20",
        dt.date(2025, 2, 20),
        None,
        SEED_APPLICATION,
        _needs_rehab,
    ),
    Rule(
        "samtycke",
        "Patienten samtycker till att regionen informerar Försäkringskassan",
        "notice",
        "2025-06-17",
        dt.date(2025, 6, 17),
        None,
        DESIGN_CONSENT,
        _consent,
    ),
)


@dataclass(frozen=True)
class LetterRule:
    """Which letters an outcome gives, and to whom. For a 7429 the coordinator gets no feedback (the seed says
    so), and Försäkringskassan usually contacts the patient: so the only recipient is the patient."""

    id: str
    applies_to: Kind
    version: str
    valid_from: dt.date
    valid_to: dt.date | None
    source: SourceRef
    letters: dict[Outcome, tuple[tuple[LetterKind, Recipient], ...]]

    def in_force(self, on: dt.date) -> bool:
        return _in_force(self.valid_from, self.valid_to, on)


LETTER_RULES: tuple[LetterRule, ...] = (
    LetterRule(
        "brev_ansokan",
        "application",
        "2025-02-20",
        dt.date(2025, 2, 20),
        None,
        SEED_APPLICATION,
        {
            Outcome.COMPLETE: ((LetterKind.CONFIRMATION, "applicant"),),
            Outcome.COMPLETION_NEEDED: ((LetterKind.COMPLETION, "applicant"),),
            Outcome.TO_HANDLAGGARE: ((LetterKind.ACKNOWLEDGEMENT, "applicant"),),
            Outcome.REVIEW: (),
        },
    ),
    LetterRule(
        "ingen_aterkoppling_till_koordinator",
        "notice",
        "2025-06-17",
        dt.date(2025, 6, 17),
        None,
        SEED_COORDINATOR,
        {
            Outcome.COMPLETE: ((LetterKind.NOTICE_TO_PATIENT, "patient"),),
            Outcome.COMPLETION_NEEDED: (),
            Outcome.TO_HANDLAGGARE: (),
            Outcome.REVIEW: (),
        },
    ),
)


def rules_in_force(kind: Kind, on: dt.date) -> list[Rule]:
    rules = [r for r in RULES if r.applies_to == kind and r.in_force(on)]
    ids = [r.id for r in rules]
    if not rules or len(set(ids)) != len(ids):
        raise ConfigError(f"no single set of {kind} rules is in force on {on.isoformat()}")
    return rules


def letter_rule(kind: Kind, on: dt.date) -> LetterRule:
    rules = [r for r in LETTER_RULES if r.applies_to == kind and r.in_force(on)]
    if len(rules) != 1:
        raise ConfigError(f"no single letter rule for {kind} is in force on {on.isoformat()}")
    return rules[0]


def assess(kind: Kind, model: Any, problems: Sequence[Problem], on: dt.date) -> Assessment:
    criteria = [_criterion(rule, model) for rule in rules_in_force(kind, on)]
    outcome, reasons = _outcome(kind, criteria, problems)
    letters = letter_rule(kind, on).letters[outcome]
    return Assessment(
        assessed_on=on,
        criteria=criteria,
        outcome=outcome,
        reasons=reasons,
        letter_kinds=[kind_.value for kind_, _ in letters],
    )


def _criterion(rule: Rule, model: Any) -> Criterion:
    status, evidence, explanation = rule.evaluate(model)
    return Criterion(
        rule=rule.id,
        label=rule.label,
        status=status,
        evidence=evidence,
        source=rule.source,
        rule_version=rule.version,
        explanation=explanation,
    )


def _outcome(kind: Kind, criteria: list[Criterion], problems: Sequence[Problem]) -> tuple[Outcome, list[str]]:
    doubtful = [p.message for p in problems if p.severity in (Severity.INVALID, Severity.DOUBTFUL)]
    if doubtful:
        return Outcome.REVIEW, doubtful
    not_met = [c.explanation for c in criteria if c.status is Status.NOT_MET]
    if kind == "notice" and not_met:
        return Outcome.REVIEW, not_met
    missing = [p.message for p in problems if p.severity is Severity.MISSING]
    if kind == "notice":
        return (Outcome.REVIEW, missing) if missing else (Outcome.COMPLETE, [])
    if not_met:
        return Outcome.TO_HANDLAGGARE, not_met
    unknown = [c.explanation for c in criteria if c.status is Status.UNKNOWN]
    if missing or unknown:
        return Outcome.COMPLETION_NEEDED, missing + unknown
    return Outcome.COMPLETE, []
