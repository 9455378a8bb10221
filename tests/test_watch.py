"""The watched inbox, as `make run` starts it: a real `pipeline watch` process and files dropped into the inbox."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.conftest import FIXTURES, ROOT


def wait_for(check: Callable[[], bool], seconds: float = 20, every: float = 0.1) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(every)
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


# --- intake and the ledger, through a real service process ------------------------------------------------------


class Service:
    """A `pipeline watch` process on the test's folders; its log goes to a file (a pipe nobody reads could fill)."""

    def __init__(self, env: dict[str, str], settings: Settings, *, own_group: bool = False, **overrides: str) -> None:
        self.settings = settings
        self.log = settings.inbox.parent / f"service-{time.monotonic_ns()}.log"
        settings.inbox.mkdir(parents=True, exist_ok=True)
        extra = {f"PIPELINE_{k.upper()}": v for k, v in {"settle_seconds": "0.3", **overrides}.items()}
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "watch"],
                cwd=ROOT,
                text=True,
                env=env | extra,
                stderr=log,
                start_new_session=own_group,  # a process group of its own, to be signalled as a whole
            )
        assert wait_for(lambda: "watching the inbox" in self.logs() or self.proc.poll() is not None, 60)
        assert self.proc.poll() is None, self.logs()

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def start(env: dict[str, str], settings: Settings) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def _start(**overrides: str) -> Service:
        started.append(Service(env, settings, **overrides))
        return started[-1]

    yield _start
    for service in started:
        service.kill()


def ledger(settings: Settings) -> list[dict[str, object]]:
    if not settings.database.exists():
        return []
    db = sqlite3.connect(f"file:{settings.database}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM ledger ORDER BY id")]
    finally:
        db.close()


def final(settings: Settings) -> list[dict[str, object]]:
    return [r for r in ledger(settings) if r["state"] in ("done", "review", "quarantined", "duplicate")]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_slowly_written_file_is_taken_only_when_complete(start: Callable[..., Service], settings: Settings) -> None:
    source = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"
    service = start(settle_seconds="2.0")
    data = source.read_bytes()
    with (settings.inbox / "slow.pdf").open("wb") as fh:  # a scanner writing under the final name
        for offset in range(0, len(data), 1024):
            fh.write(data[offset : offset + 1024])
            fh.flush()
            time.sleep(0.1)
    assert wait_for(lambda: len(final(settings)) == 1, 60), service.logs()
    [row] = ledger(settings)
    assert row["state"] == "done" and row["sha256"] == sha256(source)
    assert len(_cases(settings)) == 1
    assert not settings.quarantine.exists() or not list(settings.quarantine.iterdir()), "no partial was quarantined"
    assert service.stop() == 0


def test_the_same_file_copied_in_twice_makes_one_case(start: Callable[..., Service], settings: Settings) -> None:
    source = FIXTURES / "fk7429" / "notice-05-need-appearances.pdf"
    service = start()
    shutil.copy(source, settings.inbox / "first.pdf")
    shutil.copy(source, settings.inbox / "second.pdf")
    assert wait_for(lambda: len(final(settings)) == 2, 60), service.logs()
    shutil.copy(source, settings.inbox / "a week later.pdf")
    assert wait_for(lambda: len(final(settings)) == 3, 60), service.logs()
    rows = ledger(settings)
    assert sorted(str(r["state"]) for r in rows) == ["done", "duplicate", "duplicate"]
    [done] = [r for r in rows if r["state"] == "done"]
    assert all(r["duplicate_of"] == done["document_id"] for r in rows if r["state"] == "duplicate")
    assert len(_cases(settings)) == 1 and len(list(settings.letters_dir.rglob("*.pdf"))) == 1
    assert service.stop() == 0  # the ledger is committed before a file moves on; stopping finishes the moves
    assert len(list((settings.archive / "duplicates").iterdir())) == 2, "duplicates are kept, not deleted"


def test_files_arriving_every_way_are_taken(start: Callable[..., Service], settings: Settings, tmp_path: Path) -> None:
    fk = FIXTURES / "fk7429"
    settings.inbox.mkdir(parents=True)
    shutil.copy(fk / "notice-01-appearance.pdf", settings.inbox / "present before start.pdf")
    # The safety-net listing an hour away: what arrives after the start is taken on its events alone.
    service = start(rescan_seconds="3600")
    masks = _inotify_masks(service.proc.pid)
    assert masks, "events mode listens for events"
    for mask in masks:
        # Moves into the inbox and finished writes announce a file; moves out of it (every claim) are not asked for.
        assert mask & IN_MOVED_TO and mask & IN_CLOSE_WRITE and mask & IN_CREATE
        assert not mask & IN_MOVED_FROM
    # Renamed into the inbox from elsewhere on the same file system.
    outside = tmp_path / "outside.pdf"
    shutil.copy(fk / "notice-05-need-appearances.pdf", outside)
    os.rename(outside, settings.inbox / "renamed in.pdf")
    # A whole folder, with a folder inside, dropped in at once.
    folder = tmp_path / "batch"
    (folder / "inner").mkdir(parents=True)
    shutil.copy(fk / "notice-07-not-sick-listed-need-appearances.pdf", folder / "one.pdf")
    shutil.copy(fk / "notice-09-flattened.pdf", folder / "inner" / "two.pdf")
    os.rename(folder, settings.inbox / "batch")
    assert wait_for(lambda: len(final(settings)) == 4, 60), service.logs()
    assert {r["state"] for r in ledger(settings)} == {"done"}
    assert len(_cases(settings)) == 4
    # The emptied folders are left where they are; no file is left behind.
    assert (settings.inbox / "batch" / "inner").is_dir()
    assert not [p for p in settings.inbox.rglob("*") if not p.is_dir()]
    assert service.stop(signal.SIGINT) == 0
    for name in ("present before start", "renamed in", "one.pdf", "two.pdf"):
        assert name not in service.logs()


IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE = 0x8, 0x40, 0x80, 0x100  # inotify(7)


def _inotify_masks(pid: int) -> list[int]:
    """The event masks of a process's inotify watches, as the kernel holds them (``/proc/PID/fdinfo``)."""
    masks = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if "inotify" in os.readlink(fd):
                for line in (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text().splitlines():
                    if line.startswith("inotify wd:"):
                        masks.append(int(line.split(" mask:")[1].split()[0], 16))
    return masks


def test_polling_mode_takes_files_without_file_system_events(start: Callable[..., Service], settings: Settings) -> None:
    service = start(intake_mode="polling", poll_seconds="0.5")
    fd = [p for p in (Path(f"/proc/{service.proc.pid}/fd")).iterdir()]
    assert not any("inotify" in os.readlink(p) for p in fd if p.is_symlink()), "polling mode uses no inotify"
    shutil.copy(FIXTURES / "fk7429" / "notice-01-appearance.pdf", settings.inbox / "share.pdf")
    assert wait_for(lambda: len(final(settings)) == 1, 60), service.logs()
    assert service.stop() == 0


def test_links_hard_links_and_fifos_are_refused_and_the_service_keeps_going(
    start: Callable[..., Service], settings: Settings, tmp_path: Path
) -> None:
    fk = FIXTURES / "fk7429"
    service = start()
    target = tmp_path / "elsewhere.pdf"
    shutil.copy(fk / "notice-01-appearance.pdf", target)
    target.chmod(0o644)
    os.symlink(target, settings.inbox / "symlink.pdf")
    os.link(target, settings.inbox / "hardlink.pdf")
    os.mkfifo(settings.inbox / "fifo.pdf")
    assert wait_for(lambda: len(final(settings)) == 3, 60), service.logs()
    rows = ledger(settings)
    assert {r["state"] for r in rows} == {"quarantined"} and not any(r["sha256"] for r in rows), "nothing was read"
    assert wait_for(lambda: not list(settings.work_dir.iterdir())), "the ledger is committed before the move"
    reasons = {}
    for row in rows:
        kept = settings.state_dir / str(row["kept_as"])
        assert os.path.lexists(kept) and not os.path.lexists(settings.work_dir / str(row["work_name"]))
        report = json.loads(kept.with_name(kept.name + ".error.json").read_text(encoding="utf-8"))
        assert report["code"] == "refused_entry" and report["action"]
        reasons[str(row["name"])] = (report["reason"], kept)
    assert "symlink" in reasons["symlink.pdf"][0] and reasons["symlink.pdf"][1].is_symlink()
    assert "hard links" in reasons["hardlink.pdf"][0]
    assert "FIFO" in reasons["fifo.pdf"][0] and stat.S_ISFIFO(reasons["fifo.pdf"][1].lstat().st_mode)
    # The linked file was neither moved nor changed (not even its mode).
    assert target.read_bytes() == (fk / "notice-01-appearance.pdf").read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert not list(settings.inbox.iterdir())
    # The service keeps going.
    shutil.copy(fk / "notice-09-flattened.pdf", settings.inbox / "valid.pdf")
    assert wait_for(lambda: len(final(settings)) == 4, 60), service.logs()
    assert ledger(settings)[-1]["state"] == "done" and len(_cases(settings)) == 1
    assert service.stop() == 0


def test_a_restart_finishes_claimed_work_once(
    start: Callable[..., Service], settings: Settings, env: dict[str, str]
) -> None:
    from pipeline.register import Register

    fk = FIXTURES / "fk7429"
    # What a crash leaves: a claimed ledger row and its file in the work area, and a file in the work area that the
    # ledger does not know (claimed by an older version).
    settings.work_dir.mkdir(parents=True)
    settings.inbox.mkdir(parents=True)
    register = Register(settings.database)
    arrival, _ = register.sight("claimed.pdf", "claimed.pdf")
    register.claim(arrival, "0123456789abcdef.pdf")
    register.close()
    shutil.copy(fk / "notice-01-appearance.pdf", settings.work_dir / "0123456789abcdef.pdf")
    shutil.copy(fk / "notice-09-flattened.pdf", settings.work_dir / "fedcba9876543210.pdf")
    service = start()
    assert wait_for(lambda: len(final(settings)) == 2, 60), service.logs()
    assert service.stop() == 0
    after_first = ledger(settings)
    assert [r["state"] for r in after_first] == ["done", "done"] and after_first[0]["id"] == arrival
    assert not list(settings.work_dir.iterdir())
    again = start()
    assert again.stop() == 0
    assert ledger(settings) == after_first, "a second start does nothing"
    assert len(_cases(settings)) == 2 and len(list(settings.letters_dir.rglob("*.pdf"))) == 2
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "pipeline", "status", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
        ).stdout
    )
    assert status["ledger"]["done"] == 2 and status["ledger"]["claimed"] == 0
    assert status["oldest_waiting_seconds"] is None and status["per_minute_last_hour"] > 0


def test_sigterm_stops_intake_finishes_what_is_in_hand_and_nothing_is_lost(
    start: Callable[..., Service], settings: Settings
) -> None:
    sources = sorted((FIXTURES / "fk7429").glob("*.pdf"))[:8]
    service = start(workers="1")
    for n, source in enumerate(sources):
        shutil.copy(source, settings.inbox / f"{n}.pdf")
    assert wait_for(lambda: len(final(settings)) >= 1, 60), service.logs()
    assert service.stop() == 0
    rows = ledger(settings)
    done = [r for r in rows if r["state"] in ("done", "review")]
    claimed = [r for r in rows if r["state"] == "claimed"]
    left = [p for p in settings.inbox.iterdir()]
    assert len(done) + len(left) + len(claimed) == 8, "every file is finished, still in the inbox, or claimed"
    assert len(list(settings.work_dir.iterdir())) == len(claimed)
    resumed = start(workers="1")
    assert wait_for(lambda: len(final(settings)) == 8, 90), resumed.logs()
    assert resumed.stop() == 0
    assert len({r["sha256"] for r in final(settings)}) == 8


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "pipeline"], [str(Path(sys.executable).with_name("pipeline"))]],
    ids=["python-m-pipeline", "the-pipeline-script"],
)
def test_sigterm_while_the_service_still_loads_stops_it_cleanly(
    env: dict[str, str], settings: Settings, command: list[str]
) -> None:
    """Told to stop during its first second (the CLI's imports), the service still exits 0 and says it stopped:
    the stop is held before the CLI loads and the service starts stopped, where the signal's default action would
    end it (exit 143)."""
    settings.inbox.mkdir(parents=True)
    log = settings.inbox.parent / "early.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([*command, "watch"], cwd=ROOT, env=env, stderr=sink)
    time.sleep(0.3)  # past the interpreter's start, inside the imports that take most of a second
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0, log.read_text(encoding="utf-8")
    assert '"event": "stop"' in log.read_text(encoding="utf-8")


def test_a_stop_held_while_loading_reaches_any_other_command_as_it_arrived() -> None:
    """Commands other than the service get a held stop back when they know what they are (``release``): Ctrl-C
    while ``pipeline process`` loads still interrupts it."""
    from pipeline import signals

    signals.hold()
    os.kill(os.getpid(), signal.SIGINT)
    assert signals.held()
    with pytest.raises(KeyboardInterrupt):
        signals.release()
    assert not signals.held()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_sigterm_to_the_whole_process_group_still_finishes_the_documents_with_the_workers(
    env: dict[str, str], settings: Settings
) -> None:
    """systemd's default stop (``KillMode=control-group``) and ``kill -TERM -PGID`` signal the forkserver and the
    workers too. They ignore it: the service finishes what the workers hold instead of losing it mid-document."""
    service = Service(env, settings, own_group=True, workers="2")
    try:
        scans = sorted((FIXTURES / "scans" / "ansokan-samordning").glob("*.pdf"))[:6]
        for n, source in enumerate(scans):
            shutil.copy(source, settings.inbox / f"{n}.pdf")
        assert wait_for(lambda: any(r["state"] == "claimed" for r in ledger(settings)), 60), service.logs()
        os.killpg(service.proc.pid, signal.SIGTERM)
        assert service.proc.wait(timeout=120) == 0, service.logs()
    finally:
        service.kill()
    rows = ledger(settings)
    finished = [r for r in rows if r["state"] in ("done", "review")]
    assert finished and not [r for r in rows if r["state"] in ("failed_transient", "quarantined")], rows
    assert "worker replaced" not in service.logs()
    claimed = [r for r in rows if r["state"] == "claimed"]
    assert len(finished) + len(claimed) + len(list(settings.inbox.iterdir())) == len(scans) == 6


def test_an_inbox_on_another_file_system_is_claimed_through_its_staging_folder(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    """A network share, as far as a test can make one: the inbox on tmpfs, the state folder on the disk."""
    share = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        inbox = share / "inbox"
        assert share.stat().st_dev != tmp_path.stat().st_dev, "the inbox must be on another file system"
        env = env | {"PIPELINE_INBOX": str(inbox)}
        settings = settings.model_copy(update={"inbox": inbox})
        service = Service(env, settings, intake_mode="polling", poll_seconds="0.5")
        try:
            source = FIXTURES / "fk7429" / "notice-09-flattened.pdf"
            shutil.copy(source, inbox / "on the share.pdf")
            os.symlink(source, inbox / "link.pdf")
            assert wait_for(lambda: len(final(settings)) == 2, 60), service.logs()
            # The ledger is committed before the file moves on: wait for the move.
            assert wait_for(lambda: not [p for p in inbox.rglob("*") if not p.is_dir()]), "nothing left on the share"
            rows = {str(r["name"]): r for r in ledger(settings)}
            assert rows["on the share.pdf"]["state"] == "done" and rows["link.pdf"]["state"] == "quarantined"
            archived = settings.state_dir / str(rows["on the share.pdf"]["kept_as"])
            assert archived.read_bytes() == source.read_bytes()
            refused = settings.state_dir / str(rows["link.pdf"]["kept_as"])
            assert refused.is_symlink() and os.readlink(refused) == str(source), "the link is kept, not followed"
            assert service.stop() == 0
        finally:
            service.kill()
    finally:
        shutil.rmtree(share)


def test_file_names_with_a_newline_or_not_utf8_are_taken_and_never_logged(
    start: Callable[..., Service], settings: Settings
) -> None:
    """A name is the sender's text, not ours: it never becomes a path, a log line or a record field."""
    fk = FIXTURES / "fk7429"
    service = start()
    inbox = os.fsencode(settings.inbox)
    names = [b"line one\nline two.pdf", b"sj\xf6sala-latin1.pdf", b"\xff\xfe-not-utf8.pdf"]
    for name, source in zip(
        names, ("notice-01-appearance.pdf", "notice-05-need-appearances.pdf", "notice-09-flattened.pdf"), strict=True
    ):
        with open(os.path.join(inbox, name), "wb") as fh:
            fh.write((fk / source).read_bytes())
    assert wait_for(lambda: len(final(settings)) == 3, 60), service.logs()
    assert {r["state"] for r in ledger(settings)} == {"done"}
    assert len(_cases(settings)) == 3
    assert not os.listdir(inbox)
    assert service.stop() == 0
    logs = service.logs()
    assert "line one" not in logs and "line two" not in logs and "latin1" not in logs and "not-utf8" not in logs
    for line in logs.splitlines():
        json.loads(line)  # every line still one JSON object: the newline in a name did not split one
    for record in _cases(settings):
        text = record.read_text(encoding="utf-8")
        assert "line one" not in text and "latin1" not in text
