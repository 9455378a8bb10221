"""Files and folders: umask 077, folders 0700, files 0600, and a private temporary folder in the state folder that
the service and its workers (and tesseract under them) write into, emptied of what dead processes left."""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from pipeline import fsutil, stages
from pipeline.conductor import read_input
from pipeline.config import Settings
from pipeline.formspec import FormSpec
from pipeline.fsutil import fresh_tmp, sync_together
from pipeline.limits import Limits
from pipeline.models import Provenance
from pipeline.scan.ocr import Word
from pipeline.service import open_intake, prepare
from pipeline.validate import DEFAULT_THRESHOLDS
from tests.conftest import FIXTURES, ROOT


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_start_up_sets_umask_077_and_tightens_folders_made_before(settings: Settings) -> None:
    settings.inbox.mkdir(mode=0o775, parents=True)
    os.chmod(settings.inbox, 0o775)
    for folder in (settings.state_dir, settings.outbox, settings.archive):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
    old = os.umask(0o022)
    try:
        prepare(settings)
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)
    for folder in (settings.state_dir, settings.outbox, settings.archive, settings.quarantine, settings.tmp_dir):
        assert _mode(folder) == 0o700, folder
    assert _mode(settings.inbox) == 0o775, "the inbox may be shared with the mailroom: left as it was"


def test_the_temporary_folder_is_emptied_of_what_dead_processes_left(settings: Settings) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = gone.stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        root = settings.tmp_dir
        (root / dead_pid).mkdir(parents=True)
        (root / dead_pid / "tess_x.png").write_bytes(b"left behind by a crash")
        (root / "stray.txt").write_bytes(b"not a process folder")
        (root / str(live.pid)).mkdir()
        (root / str(live.pid) / "in-use.png").write_bytes(b"another service's file, in use")

        mine = fresh_tmp(root)

        assert sorted(p.name for p in root.iterdir()) == sorted([str(live.pid), str(os.getpid())])
        assert (root / str(live.pid) / "in-use.png").exists()
        assert mine == root / str(os.getpid()) and not list(mine.iterdir()) and _mode(mine) == 0o700
    finally:
        live.kill()
        live.wait()


WRITER = """
import os, sys, time
folder = sys.argv[1]
end = time.monotonic() + float(sys.argv[2])
n = 0
while time.monotonic() < end:
    try:
        os.makedirs(os.path.join(folder, "records"), exist_ok=True)
        with open(os.path.join(folder, "records", f"{n}.json"), "w") as fh:
            fh.write("{}")
    except OSError:  # the folder removed under it (as a worker's write then fails)
        pass
    n += 1
"""


def test_start_up_survives_a_dead_services_worker_still_writing(settings: Settings) -> None:
    """A service killed with SIGKILL leaves its workers finishing their documents, writing staged records into the
    dead service's temporary folder while the next service starts and empties it. The start must not fail."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    folder = settings.tmp_dir / gone.stdout.strip()
    folder.mkdir(parents=True)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder), "3"])
    try:
        starts = 0
        while writer.poll() is None:
            fresh_tmp(settings.tmp_dir)
            starts += 1
        assert writer.returncode == 0 and starts > 20
        fresh_tmp(settings.tmp_dir)  # the worker gone, the next start removes what it wrote
        assert [p.name for p in settings.tmp_dir.iterdir()] == [str(os.getpid())]
    finally:
        writer.kill()
        writer.wait()


def test_start_up_removes_partial_writes_that_dead_processes_left(settings: Settings) -> None:
    """A kill between an atomic write's temporary file and its rename leaves ``.<name>.<pid>.tmp``: it is no
    record, letter or report, and a count of what is in quarantine or the archive must not meet it."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = gone.stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        prepare(settings)
        left = [
            settings.quarantine / f".arrival-3-x.pdf.error.json.{dead_pid}.tmp",
            settings.cases_dir / f".abc-1.json.{dead_pid}.tmp",
            settings.archive / "ab" / f".ab12.manifest.json.{dead_pid}.tmp",
        ]
        kept = [
            settings.quarantine / f".arrival-4-y.pdf.error.json.{live.pid}.tmp",  # still being written
            settings.quarantine / "arrival-5-x.pdf.tmp",  # a quarantined input that happens to end in .tmp
            settings.cases_dir / "abc-1.json",
        ]
        for path in [*left, *kept]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"{")
        with open_intake(settings):
            pass
        assert [p for p in left if p.exists()] == []
        assert [p for p in kept if not p.exists()] == []
    finally:
        live.kill()
        live.wait()


class _Recording:
    """The real OCR engine, noting where temporary files go at the moment it runs."""

    def __init__(self, engine: stages.OcrEngine) -> None:
        self.engine = engine
        self.seen: set[tuple[str, str | None]] = set()

    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        self.seen.add((tempfile.gettempdir(), os.environ.get("TMPDIR")))
        return self.engine.words(image, charset, model)


def test_a_worker_and_tesseract_write_temporary_files_into_the_state_folder(
    settings: Settings, specs: dict[str, FormSpec], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = _Recording(stages.ENGINE)
    monkeypatch.setattr(stages, "ENGINE", recording)
    monkeypatch.setenv("TMPDIR", "/tmp")
    monkeypatch.setattr(tempfile, "tempdir", None)
    data = (FIXTURES / "scans" / "ansokan-samordning" / "application-has-sgi-good.tif").read_bytes()
    private = settings.tmp_dir / "4242"  # made when needed (an intake in a test may never have made it)
    job = stages.Job(
        data,
        hashlib.sha256(data).hexdigest(),
        dt.datetime.now(dt.UTC),
        Provenance(channel="cli"),
        10,
        DEFAULT_THRESHOLDS,
        settings.outbox,
        limits=Limits(),
        tmp_dir=private,
    )
    [result] = read_input(job, specs)
    assert isinstance(result, stages.DocumentResult) and result.record.form_id == "ansokan-samordning"
    assert recording.seen == {(str(private), str(private))}
    assert (tempfile.gettempdir(), os.environ["TMPDIR"]) == ("/tmp", "/tmp"), (
        "a runner in this process gets its own back"
    )


def test_the_service_makes_its_folder_and_names_it_in_every_job(settings: Settings) -> None:
    before = os.environ.get("TMPDIR"), tempfile.tempdir
    notice = FIXTURES / "fk7429" / "notice-01-appearance.pdf"
    with open_intake(settings) as intake:
        mine = settings.tmp_dir / str(os.getpid())
        assert mine.is_dir() and _mode(mine) == 0o700
        job = intake._job(notice.read_bytes(), "0" * 64, dt.datetime.now(dt.UTC), Provenance(channel="cli"))
        assert job.tmp_dir == mine
    assert (os.environ.get("TMPDIR"), tempfile.tempdir) == before, "the service process's own is left alone"


def test_a_run_leaves_only_private_files_and_nothing_in_the_shared_temporary_folder(
    env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    inputs = [
        FIXTURES / "scans" / "ansokan-samordning" / "application-interpreter-poor.pdf",
        FIXTURES / "fk7429" / "notice-01-appearance.pdf",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "process", "--json", *map(str, inputs)],
        env=env | {"TMPDIR": str(shared)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    assert len(done.stdout.splitlines()) == 2
    assert not list(shared.iterdir())
    assert settings.tmp_dir.is_dir()
    assert not [p for p in settings.tmp_dir.rglob("*") if p.is_file()], "temporary files are removed after use"
    for path in [*settings.state_dir.rglob("*"), *settings.outbox.rglob("*")]:
        assert _mode(path) == (0o700 if path.is_dir() else 0o600), (path, oct(_mode(path)))


def _group(root: Path, count: int) -> list[Path]:
    files = []
    for n in range(count):
        folder = root / f"f{n % 3}"
        folder.mkdir(exist_ok=True, parents=True)
        files.append(folder / f"{n}.json")
        files[-1].write_bytes(b"{}")
    return files


@pytest.mark.parametrize("count", [1, 2, 7, 8, 9, 30])
def test_sync_together_fsyncs_every_file_once_and_then_every_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    """Files shared out among the fsync threads: none left out, none twice (a path given twice is one file), and
    the folders (their renames) only once every file's content is on disk."""
    files = _group(tmp_path, count)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    used = sorted({p.parent for p in files})
    sync_together([*files, files[0]], [p.parent for p in files])
    assert sorted(synced[:count]) == sorted(map(str, files))
    assert sorted(synced[count:]) == sorted(map(str, used))


def test_a_group_is_made_durable_with_one_syncfs_per_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox and the state folder may lie on different file systems: each is synced, once, and no file or
    folder is fsynced one by one."""
    shm = Path(tempfile.mkdtemp(dir="/dev/shm"))  # tmpfs: another file system than tmp_path's
    try:
        files = _group(tmp_path, 12) + _group(shm, 12)
        assert os.stat(shm).st_dev != os.stat(tmp_path).st_dev
        synced: list[int] = []
        real = fsutil._syncfs
        monkeypatch.setattr(fsutil, "_syncfs", lambda folder: (synced.append(os.stat(folder).st_dev), real(folder)))
        monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("fsync of one file in a group synced by syncfs"))
        sync_together(files, [p.parent for p in files], "syncfs")
        assert sorted(synced) == sorted({os.stat(tmp_path).st_dev, os.stat(shm).st_dev})
    finally:
        shutil.rmtree(shm)


def test_a_lone_document_is_synced_file_by_file_even_with_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what it wrote: a record and a letter in their folders are fewer than ``SYNCFS_FROM`` paths."""
    files = _group(tmp_path, 2)
    synced: list[str] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd)))
    monkeypatch.setattr(fsutil, "_syncfs", lambda folder: pytest.fail("syncfs for a lone document"))
    sync_together(files, [p.parent for p in files], "syncfs")
    assert sorted(synced) == sorted(map(str, [*files, *{p.parent for p in files}]))


def test_a_failed_syncfs_is_an_error_not_a_silent_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write-back error reported by syncfs reaches the caller (the group is then postponed and tried again)."""

    class Failing:
        def syncfs(self, fd: int) -> int:
            os.fstat(fd)  # a real, open descriptor was handed over
            ctypes.set_errno(errno.EIO)
            return -1

    monkeypatch.setattr(fsutil, "_libc", lambda: Failing())
    files = _group(tmp_path, 10)
    with pytest.raises(OSError) as caught:
        sync_together(files, [p.parent for p in files], "syncfs")
    assert caught.value.errno == errno.EIO
