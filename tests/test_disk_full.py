"""A full disk is not the document's fault: a worker that cannot write a letter for lack of room leaves the document
waiting (failed-transient, tried again after a back-off), never quarantined, and it is finished once there is room.

The disk is real: a 1 MB tmpfs, filled, mounted as the outbox inside a user and mount namespace of its own (no
root needed), with the real service side and a real worker process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
HELPER = Path(__file__).with_name("disk_full_run.py")


def test_a_full_disk_while_a_worker_writes_a_letter_postpones_the_document(tmp_path: Path) -> None:
    (tmp_path / "outbox").mkdir()
    notice = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", sys.executable, str(HELPER), str(tmp_path), str(notice)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OMP_THREAD_LIMIT": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["first"] == {"outcome": "failed_transient", "reason": "the disk is full"}, out
    assert out["state"] == "failed_transient" and out["attempts"] == 1, "tried again later, not given up"
    assert len(out["waiting"]) == 1 and out["quarantined"] == [], "the file waits in the work area"
    assert out["second"]["outcome"] == "recorded" and out["final"] == "done", out
    assert len(out["letters"]) == 1 and out["work_left"] == [], "one letter once there was room; the file moved on"
