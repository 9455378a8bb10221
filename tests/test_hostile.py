"""The hostile-input corpus (``fixtures/hostile.py``) through the real intake and its worker processes, with valid
documents flowing beside it: each file ends in quarantine with a reason a person can act on, or is read where it is
harmless, and the intake keeps going."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.hostile import CASES
from pipeline.config import Settings
from pipeline.service import open_intake
from pipeline.stages import Input
from tests.conftest import FIXTURES

VALID = [
    FIXTURES / "fk7429" / "notice-01-appearance.pdf",
    FIXTURES / "ansokan-samordning" / "application-01-complete.pdf",
    FIXTURES / "scans" / "ansokan-samordning" / "application-has-sgi-good.tif",
    FIXTURES / "fk7429" / "notice-09-flattened.pdf",
    FIXTURES / "fk7429" / "notice-10-no-consent-flattened.pdf",
]


def _expected_outcomes(path: Path) -> set[str]:
    """A digital fixture's expected file names its outcome; a scan's reading may leave a field for a person."""
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return {expected["outcome"]} if "outcome" in expected else {"recorded", "review"}


def _claim(settings: Settings, source: Path, data: bytes, n: int) -> Input:
    """As the watcher does: the file is renamed into the work area, its arrival name kept for staff."""
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    target = settings.work_dir / f"{n:04d}{source.suffix}"
    target.write_bytes(data)
    return Input(target, source.name)


@pytest.fixture
def tree(tmp_path: Path) -> set[Path]:
    return set(tmp_path.rglob("*"))


def test_every_hostile_file_is_accounted_for_while_valid_documents_flow(
    tmp_path: Path, settings: Settings, tree: set[Path]
) -> None:
    corpus = {case.name: case.make() for case in CASES}
    inputs: list[Input] = []
    valid = iter(VALID)
    n = 0
    for i, case in enumerate(CASES):
        inputs.append(_claim(settings, Path(case.name), corpus[case.name], n := n + 1))
        if i % 4 == 0:  # a valid document every few hostile ones
            beside = next(valid, None)
            if beside is not None:
                inputs.append(_claim(settings, beside, beside.read_bytes(), n := n + 1))

    with open_intake(settings) as intake:
        results = {r.input: r for r in intake.handle_many(inputs, move=True, channel="inbox")}
        # The intake is still there after all of it: a valid document read afterwards is read as usual.
        after = FIXTURES / "fk7429" / "notice-04-not-sick-listed-appearance.pdf"
        [last] = intake.handle_many([_claim(settings, after, after.read_bytes(), 9999)], move=True, channel="inbox")
    assert last.outcome == "recorded", last

    for valid in VALID:
        assert results[valid.name].outcome in _expected_outcomes(valid), results[valid.name]
        assert results[valid.name].cases

    for case in CASES:
        result = results[case.name]
        assert result.outcome == case.outcome, (case.name, result)
        if case.outcome != "quarantined":
            continue
        assert case.words is not None and case.words in (result.reason or ""), (case.name, result.reason)
        kept = settings.quarantine / f"{result.document_id}-{case.name}"
        assert kept.read_bytes() == corpus[case.name], "the original is kept as it arrived"
        report = json.loads(kept.with_name(kept.name + ".error.json").read_text(encoding="utf-8"))
        assert report["code"] == case.code, (case.name, report)
        assert case.words in report["reason"] and report["action"], report
        assert not result.letters

    # Every input left the work area for exactly one place; nothing was written outside the state folder and the
    # outbox (the test's own drop area aside).
    assert not [p for p in settings.work_dir.iterdir() if p.is_file()]
    quarantined = sum(1 for c in CASES if c.outcome == "quarantined")
    assert len(list(settings.quarantine.glob("*.error.json"))) == quarantined
    new = set(tmp_path.rglob("*")) - tree
    outside = [p for p in new if settings.state_dir not in p.parents and settings.outbox not in p.parents]
    assert sorted(outside) == sorted([settings.inbox, settings.outbox, settings.state_dir]), outside


def test_the_corpus_can_be_written_out_for_trying_by_hand(tmp_path: Path) -> None:
    from fixtures.hostile import write

    written = write(tmp_path / "hostile")
    assert sorted(p.name for p in written) == sorted(c.name for c in CASES)
    assert all(p.stat().st_size > 0 for p in written if p.name != "zero-bytes.pdf")
