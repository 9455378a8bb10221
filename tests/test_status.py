"""`pipeline status`: counts per ledger state, the oldest waiting input, the review backlog, documents per minute."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from pipeline.conductor import Intake
from pipeline.config import Settings
from pipeline.formspec import FormSpec
from pipeline.register import Register
from pipeline.service import prepare
from pipeline.status import status
from tests.conftest import FIXTURES, ROOT
from tests.test_ledger import NOTICE, OTHER, InlineRunner, claim_into_work, run_pass


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def intake(settings: Settings, specs: dict[str, FormSpec]) -> Iterator[Intake]:
    prepare(settings)
    register = Register(settings.database)
    yield Intake(settings, register, InlineRunner(specs))
    register.close()


def test_status_counts_states_backlog_and_rate(intake: Intake) -> None:
    claim_into_work(intake, NOTICE)
    claim_into_work(intake, FIXTURES / "fk7429" / "notice-02-no-consent-appearance.pdf", "n.pdf")
    run_pass(intake)
    claim_into_work(intake, OTHER, "waiting.pdf")
    (intake.settings.inbox / "new.pdf").write_bytes(b"not yet seen")
    report = status(intake.settings, intake.register)
    assert report.ledger["done"] == 1 and report.ledger["review"] == 1 and report.ledger["claimed"] == 1
    assert report.inbox_files == 1
    assert report.oldest_waiting_seconds is not None and report.oldest_waiting_seconds >= 0
    assert report.review.count == 1 and report.review.oldest_seconds is not None
    assert report.per_minute_last_hour == round(2 / 60, 2)


def test_status_on_the_command_line(env: dict[str, str], settings: Settings) -> None:
    empty = json.loads(cli(env, "status", "--json").stdout)
    assert set(empty["ledger"].values()) == {0} and empty["oldest_waiting_seconds"] is None
    assert empty["review"] == {"count": 0, "oldest_seconds": None} and empty["per_minute_last_hour"] == 0
    assert "oldest waiting input: none" in cli(env, "status").stdout

    no_consent = FIXTURES / "fk7429" / "notice-02-no-consent-appearance.pdf"
    assert cli(env, "process", str(NOTICE), str(no_consent), str(NOTICE)).returncode == 1  # one goes to review
    # A file waiting in the inbox while the service is not running, dropped three hours ago.
    shutil.copy(OTHER, settings.inbox / "waiting.pdf")
    hours_ago = time.time() - 3 * 3600
    os.utime(settings.inbox / "waiting.pdf", (hours_ago, hours_ago))

    report = json.loads(cli(env, "status", "--json").stdout)
    assert report["ledger"] | {"done": 0, "review": 0, "duplicate": 0} == dict.fromkeys(report["ledger"], 0)
    assert (report["ledger"]["done"], report["ledger"]["review"], report["ledger"]["duplicate"]) == (1, 1, 1)
    assert report["inbox_files"] == 1 and report["oldest_waiting_seconds"] >= 3 * 3600
    assert report["review"]["count"] == 1 and report["review"]["oldest_seconds"] >= 0
    assert report["per_minute_last_hour"] == round(2 / 60, 2), "duplicates are not counted"
    assert report["documents"] == {"recorded": 1, "review": 1} and report["letters"]["written"] == 1

    text = cli(env, "status").stdout
    assert "oldest waiting input: 3.0 h" in text
    assert "finished: done 1, review 1, quarantined 0, duplicate 1" in text
    assert "review backlog: 1 case(s)" in text and "0.03 documents per minute" in text
