from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.formspec import FormSpec, load_forms

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture(autouse=True)
def _umask_kept() -> Iterator[None]:
    """The service sets umask 077 for its process; a test that starts it in this process gives the old one back,
    so files later tests make for other programs (a mail server's configuration) stay readable to them."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture(scope="session")
def specs() -> dict[str, FormSpec]:
    return load_forms()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(inbox=tmp_path / "inbox", outbox=tmp_path / "outbox", state_dir=tmp_path / "var", workers=2)


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    """The environment for running the CLI as a subprocess against the test's folders."""
    return os.environ | {
        "PIPELINE_INBOX": str(settings.inbox),
        "PIPELINE_OUTBOX": str(settings.outbox),
        "PIPELINE_STATE_DIR": str(settings.state_dir),
        "PIPELINE_WORKERS": "2",
    }


@pytest.fixture
def own_umask() -> Iterator[None]:
    """open_intake sets the service's umask (077) in this process; the tests after this one get theirs back."""
    mask = os.umask(0o077)
    os.umask(mask)
    yield
    os.umask(mask)
