"""Run by tests/test_disk_full.py inside ``unshare --user --map-root-user --mount``: the outbox is a small tmpfs,
filled up, so a worker writing a letter meets a real ENOSPC. Prints what became of the document, as JSON."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path

from pipeline.config import Settings
from pipeline.service import open_intake
from pipeline.watch import Inbox, unfinished


def fill(path: Path) -> None:
    with open(path, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc


def main(root: Path, source: Path) -> None:
    outbox = root / "outbox"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(outbox)], check=True)
    settings = Settings(
        inbox=root / "inbox", outbox=outbox, state_dir=root / "var", workers=1, retry_seconds=0.0, settle_seconds=0.0
    )
    with open_intake(settings) as intake:
        fill(outbox / "filler")
        (settings.inbox / "brev.pdf").write_bytes(source.read_bytes())
        inbox = Inbox(settings, intake.register)
        [first] = intake.handle_many(inbox.claim_all(inbox.ready(), lambda: False), move=True, channel="inbox")
        row = intake.register.db.execute("SELECT state, attempts FROM ledger").fetchone()
        waiting = [p.name for p in settings.work_dir.iterdir()]
        quarantined = [p.name for p in settings.quarantine.iterdir()]
        (outbox / "filler").unlink()
        [second] = intake.handle_many(unfinished(settings, intake.register), move=True, channel="inbox")
        final = intake.register.db.execute("SELECT state FROM ledger").fetchone()
    letters = [p.name for p in settings.letters_dir.rglob("*.pdf")]
    print(
        json.dumps(
            {
                "first": {"outcome": first.outcome, "reason": first.reason},
                "state": row["state"],
                "attempts": row["attempts"],
                "waiting": waiting,
                "quarantined": quarantined,
                "second": {"outcome": second.outcome, "cases": second.cases},
                "final": final["state"],
                "letters": letters,
                "work_left": [p.name for p in settings.work_dir.iterdir()],
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
