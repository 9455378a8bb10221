"""The eligibility rules, driven by the data cases in tests/rules/*.toml (both sides of every rule)."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline import rules
from pipeline.errors import ConfigError
from pipeline.models import DOMAIN_MODELS, Problem

CASES = Path(__file__).parent / "rules"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        kind = "application" if path.stem == "application" else "notice"
        for case in data["case"]:
            out.append(pytest.param(kind, data["base"], case, id=f"{path.stem}: {case['name']}"))
    return out


@pytest.mark.parametrize(("kind", "base", "case"), _cases())
def test_rule_case(kind: rules.Kind, base: dict[str, Any], case: dict[str, Any]) -> None:
    inputs = {k: v for k, v in (base | case.get("inputs", {})).items() if v != ""}
    model = DOMAIN_MODELS[kind].model_validate(inputs)
    problems = [Problem(label=p["field"], **p) for p in case.get("problems", [])]
    on = dt.date.fromisoformat(case["date"])
    if "error" in case:
        with pytest.raises(ConfigError, match=case["error"]):
            rules.assess(kind, model, problems, on)
        return
    assessment = rules.assess(kind, model, problems, on)
    statuses = {c.rule: c.status.value for c in assessment.criteria}
    for rule_id, expected in case.get("expect", {}).items():
        assert statuses[rule_id] == expected, rule_id
    assert assessment.outcome.value == case["outcome"]
    if "letters" in case:
        given = [[k.value, to] for k, to in rules.letter_rule(kind, on).letters[assessment.outcome]]
        assert given == case["letters"]
        assert assessment.letter_kinds == [k for k, _ in case["letters"]]
    for words in case.get("reasons_mention", []):
        assert any(words.lower() in r.lower() for r in assessment.reasons), (words, assessment.reasons)


def test_every_rule_has_cases_on_both_sides() -> None:
    seen: dict[str, set[str]] = {}
    for param in _cases():
        _, _, case = param.values
        for rule_id, status in case.get("expect", {}).items():
            seen.setdefault(rule_id, set()).add(status)
    for rule in rules.RULES:
        assert "met" in seen.get(rule.id, set()), rule.id
        assert seen[rule.id] - {"met"}, f"{rule.id} has no case on the other side"


def test_every_rule_cites_a_source_and_a_validity_date() -> None:
    for rule in (*rules.RULES, *rules.LETTER_RULES):
        assert rule.source.title and rule.source.reference
        assert rule.valid_from <= dt.date.today()


def test_no_letter_ever_goes_to_the_coordinator() -> None:
    recipients = {to for rule in rules.LETTER_RULES for letters in rule.letters.values() for _, to in letters}
    assert recipients <= {"applicant", "patient"}
    notice = rules.letter_rule("notice", dt.date(2026, 1, 1))
    assert {to for letters in notice.letters.values() for _, to in letters} == {"patient"}
