"""The watched inbox, as `make run` starts it: a real `pipeline watch` process and files dropped into the inbox."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.conftest import FIXTURES, ROOT


def wait_for(check: Callable[[], bool], seconds: float = 20) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def service(env: dict[str, str], settings: Settings) -> Iterator[subprocess.Popen[str]]:
    settings.inbox.mkdir(parents=True)
    shutil.copy(FIXTURES / "fk7429" / "notice-01-appearance.pdf", settings.inbox / "before-start.pdf")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "watch"],
        cwd=ROOT,
        text=True,
        env=env | {"PIPELINE_SETTLE_SECONDS": "0.3"},
        stderr=subprocess.PIPE,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def _cases(settings: Settings) -> list[Path]:
    return sorted(settings.cases_dir.glob("*.json")) if settings.cases_dir.exists() else []


def test_dropped_files_become_records_and_letters(service: subprocess.Popen[str], settings: Settings) -> None:
    # A file present before start is taken.
    assert wait_for(lambda: len(_cases(settings)) == 1), "file present at start was not processed"
    # A file being written under a partial name is left alone until it is renamed into place.
    partial = settings.inbox / "incoming.pdf.part"
    partial.write_bytes((FIXTURES / "fk7429" / "notice-05-need-appearances.pdf").read_bytes())
    time.sleep(1.0)
    assert partial.exists() and len(_cases(settings)) == 1
    partial.rename(settings.inbox / "incoming.pdf")
    # A file in a dropped folder is taken too.
    folder = settings.inbox / "batch"
    folder.mkdir()
    shutil.copy(FIXTURES / "fk7429" / "notice-07-not-sick-listed-need-appearances.pdf", folder / "x.pdf")
    assert wait_for(lambda: len(_cases(settings)) == 3), "renamed or foldered file was not processed"
    assert wait_for(lambda: len(list(settings.letters_dir.rglob("*.pdf"))) == 3)
    # Nothing is left in the inbox's files; the originals are archived, not deleted.
    assert wait_for(lambda: not [p for p in settings.inbox.rglob("*") if p.is_file()])
    assert len(list(settings.archive.rglob("*.pdf"))) == 3
    # Bad input is quarantined and the service keeps going.
    (settings.inbox / "broken.pdf").write_bytes(b"%PDF-1.7\nnothing else")
    shutil.copy(FIXTURES / "fk7429" / "notice-09-flattened.pdf", settings.inbox / "after.pdf")
    assert wait_for(lambda: len(_cases(settings)) == 4)
    assert wait_for(lambda: len(list(settings.quarantine.glob("*.error.json"))) == 1)
    report = json.loads(next(settings.quarantine.glob("*.error.json")).read_text(encoding="utf-8"))
    assert report["code"] == "unreadable_pdf"
    assert service.poll() is None

    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=20) == 0
    assert service.stderr is not None
    logs = service.stderr.read()
    assert "before-start" not in logs and "broken.pdf" not in logs
