"""Mail from a real IMAP server: Dovecot (Debian's dovecot-imapd, installed by scripts/setup.sh --dev) on loopback,
with its own configuration in a temporary folder, STARTTLS with a self-signed certificate the client is told to
trust, and mail delivered by IMAP APPEND. The service is the real `pipeline watch` with IMAP configured."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import AND, MailBoxStartTls

from pipeline.config import Settings
from tests.conftest import ROOT
from tests.test_mail import SCAN, attach, message, notice
from tests.test_watch import wait_for

PASSWORD = "rätt-häst-batteri-häfta"  # the test server's own


@dataclass
class Dovecot:
    port: int
    user: str
    ca_file: Path
    log: Path

    def mailbox(self) -> MailBoxStartTls:
        import ssl

        context = ssl.create_default_context(cafile=str(self.ca_file))
        box = MailBoxStartTls("127.0.0.1", self.port, timeout=30, ssl_context=context)
        box.login_utf8(self.user, PASSWORD)
        return box

    def deliver(self, data: bytes) -> None:
        with self.mailbox() as box:
            box.append(data, "INBOX")

    def uids(self, folder: str, criteria: str | AND = "ALL") -> list[str]:
        with self.mailbox() as box:
            if not box.folder.exists(folder):
                return []
            box.folder.set(folder)
            return box.uids(criteria)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accounts() -> tuple[str, str, int, int]:
    """Dovecot will not run its login process as root: as root, use the users the Debian package made (dovecot for
    internal work and the mail, dovenull for logins); as anyone else, that user for everything."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        return "dovecot", "dovenull", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    # Not pytest's tmp_path: its parents are 0700 and the login process (another user, as root) must reach its sockets.
    root = Path(tempfile.mkdtemp(prefix="pipeline-dovecot-", dir="/tmp"))
    root.chmod(0o755)
    internal, login, uid, gid = _accounts()
    home = root / "home"
    home.mkdir()
    os.chown(home, uid, gid)
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    (root / "passwd").write_text(f"kontor:{{PLAIN}}{PASSWORD}::::\n", encoding="utf-8")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        textwrap.dedent(f"""\
        base_dir = {root}/run
        state_dir = {root}/state
        log_path = {root}/dovecot.log
        protocols = imap
        listen = 127.0.0.1
        ssl = required
        ssl_cert = <{cert}
        ssl_key = <{key}
        auth_mechanisms = plain
        default_internal_user = {internal}
        default_login_user = {login}
        first_valid_uid = {uid}
        last_valid_uid = {uid}
        passdb {{
          driver = passwd-file
          args = scheme=PLAIN username_format=%u {root}/passwd
        }}
        userdb {{
          driver = static
          args = uid={uid} gid={gid} home={home}/%u
        }}
        mail_location = maildir:~/Maildir
        service imap-login {{
          inet_listener imap {{
            address = 127.0.0.1
            port = {port}
          }}
          inet_listener imaps {{
            port = 0
          }}
          chroot =
        }}
        service anvil {{
          chroot =
        }}
        """),
        encoding="utf-8",
    )
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Dovecot(port, "kontor", cert, root / "dovecot.log")

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                return s.recv(64).startswith(b"* OK")
        except OSError:
            return False

    try:
        assert wait_for(up, 60), "Dovecot did not start: " + (server.log.read_text() if server.log.exists() else "")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


def imap_env(env: dict[str, str], server: Dovecot, tmp_path: Path, **more: str) -> dict[str, str]:
    secret = tmp_path / "imap-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    return env | {
        "PIPELINE_IMAP_HOST": "127.0.0.1",
        "PIPELINE_IMAP_PORT": str(server.port),
        "PIPELINE_IMAP_SECURITY": "starttls",
        "PIPELINE_IMAP_CA_FILE": str(server.ca_file),
        "PIPELINE_IMAP_USER": server.user,
        "PIPELINE_IMAP_PASSWORD_FILE": str(secret),
        "PIPELINE_IMAP_POLL_SECONDS": "0.5",
        "PIPELINE_SETTLE_SECONDS": "0.3",
        **more,
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def cases(settings: Settings) -> list[Path]:
    folders = (settings.cases_dir, settings.review_dir)
    return sorted(p for f in folders if f.exists() for p in f.glob("*.json"))


def letters(settings: Settings) -> list[Path]:
    return sorted(settings.letters_dir.rglob("*.pdf")) if settings.letters_dir.exists() else []


def test_the_poller_spools_each_message_under_its_hash_then_marks_it(
    dovecot: Dovecot, tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    msg = message(40)
    attach(msg, notice(1), "7429.pdf")
    dovecot.deliver(msg.as_bytes())
    config = imap_env(env, dovecot, tmp_path)

    done = run(config, "imap", "--once")

    assert done.returncode == 0, done.stderr
    [spooled] = [p for p in settings.inbox.iterdir()]
    assert spooled.name.endswith(".eml") and len(spooled.name) == 64 + 4  # the hash, never the subject
    assert spooled.stat().st_mode & 0o777 == 0o600
    assert dovecot.uids("INBOX", AND(seen=False)) == []  # flagged \\Seen on the server (the default)
    with dovecot.mailbox() as box:  # the spooled bytes are the message exactly as the server holds it
        [uid] = box.uids("ALL")
        assert box.client.uid("FETCH", uid, "(BODY.PEEK[])")[1][0][1] == spooled.read_bytes()
    # A second pass takes nothing: the message is marked.
    again = run(config, "imap", "--once")
    assert again.returncode == 0 and "mail taken: 0" in again.stderr
    assert len(list(settings.inbox.iterdir())) == 1
    # The password is never logged, nor the sender or subject.
    logs = done.stderr + again.stderr
    assert PASSWORD not in logs and "koordinator40" not in logs and str(msg["Subject"]) not in logs
    # A wrong password is refused by the server, reported by type, and the message stays where it is.
    (tmp_path / "imap-password").write_text("fel\n", encoding="utf-8")
    wrong = run(config, "imap", "--once")
    assert wrong.returncode == 1 and "MailboxLoginError" in wrong.stderr
    assert len(dovecot.uids("INBOX")) == 1


def test_mail_on_the_server_is_processed_once_by_the_service(
    dovecot: Dovecot, tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    first = message(41)
    attach(first, notice(1), "7429.pdf")
    attach(first, SCAN.read_bytes(), "ansokan.tif", "image/tiff")
    second = message(42)
    attach(second, notice(9), "7429.pdf")
    for msg in (first, second):
        dovecot.deliver(msg.as_bytes())
    config = imap_env(env, dovecot, tmp_path, PIPELINE_IMAP_PROCESSED_FOLDER="Intaget")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch"], cwd=ROOT, env=config, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(cases(settings)) == 3, 180), "the mail was not processed"
        assert wait_for(lambda: len(dovecot.uids("Intaget")) == 2, 60)
        assert dovecot.uids("INBOX") == []
        # More mail arriving while the service runs is taken too.
        third = message(43)
        attach(third, notice(5), "7429.pdf")
        dovecot.deliver(third.as_bytes())
        assert wait_for(lambda: len(cases(settings)) == 4, 120)
        assert wait_for(lambda: not [p for p in settings.inbox.iterdir() if p.is_file()], 60)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    assert proc.stderr is not None
    logs = proc.stderr.read().decode()
    proc.stderr.close()
    records = [json.loads(p.read_text(encoding="utf-8")) for p in cases(settings)]
    assert sorted(r["provenance"]["sender"] for r in records) == sorted(
        ["koordinator41@region.example"] * 2 + ["koordinator42@region.example", "koordinator43@region.example"]
    )
    assert all(r["provenance"]["channel"] == "email" for r in records)
    assert len(dovecot.uids("Intaget")) == 3
    assert PASSWORD not in logs and "koordinator4" not in logs


def test_a_crash_between_taking_a_message_and_marking_it_loses_nothing_and_duplicates_nothing(
    dovecot: Dovecot, tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    msg = message(44)
    attach(msg, notice(1), "7429.pdf")
    dovecot.deliver(msg.as_bytes())
    config = imap_env(env, dovecot, tmp_path, PIPELINE_IMAP_PROCESSED_FOLDER="Intaget")
    # The real service, with one change: the moment it would mark the message on the server, it is killed.
    crash = (
        "import os, signal, pipeline.imap as imap; "
        "imap.mark = lambda *a: os.kill(os.getpid(), signal.SIGKILL); "
        "from pipeline.cli import main; raise SystemExit(main(['watch']))"
    )
    with (tmp_path / "killed.log").open("wb") as log:  # a file, not a pipe: orphaned workers may hold it open
        killed = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, env=config, stderr=log, timeout=180)
    assert killed.returncode == -signal.SIGKILL
    # The message was written into the intake, and is still unmarked on the server.
    spooled = [p for p in settings.inbox.iterdir() if p.name.endswith(".eml")]
    assert len(spooled) == 1 or any(settings.work_dir.glob("*.eml"))
    assert len(dovecot.uids("INBOX")) == 1 and dovecot.uids("Intaget") == []

    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "watch"], cwd=ROOT, env=config, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: len(dovecot.uids("Intaget")) == 1, 120), "the message was not marked after restart"
        assert wait_for(lambda: len(cases(settings)) == 1 and len(letters(settings)) == 1, 120)
        assert wait_for(lambda: not [p for p in settings.inbox.iterdir() if p.is_file()], 60)
        assert wait_for(lambda: not [p for p in settings.work_dir.iterdir() if p.is_file()], 60)
        time.sleep(2)  # several more polls: nothing further may happen
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        if proc.stderr is not None:
            proc.stderr.close()
    assert len(cases(settings)) == 1 and len(letters(settings)) == 1
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Intaget")) == 1
    status = json.loads(run(config, "status", "--json").stdout)
    assert status["cases"] == {"recorded": 1} and status["letters"]["written"] == 1
    # The message and its attachment are each in the register once, the message archived by its hash.
    assert sum(status["documents"].values()) == 2
    assert len(list(settings.archive.glob("*/*.eml"))) == 1


def test_imap_settings_are_checked_at_start(tmp_path: Path) -> None:
    from pydantic import ValidationError

    base = {"inbox": tmp_path / "in", "outbox": tmp_path / "out", "state_dir": tmp_path / "var"}
    with pytest.raises(ValidationError, match="imap_user is required"):
        Settings(**base, imap_host="imap.region.example")
    with pytest.raises(ValidationError, match="imap_password_file"):
        Settings(**base, imap_host="imap.region.example", imap_user="kontor")
    with pytest.raises(ValidationError, match="only allowed on this machine"):
        Settings(**base, imap_host="imap.region.example", imap_user="k", imap_password="x", imap_security="plain")
    ok = Settings(**base, imap_host="127.0.0.1", imap_user="k", imap_password="hemligt", imap_security="plain")
    assert "hemligt" not in repr(ok) and "hemligt" not in str(ok.model_dump())
    # The command refuses to start without a password it can read, with exit code 2 and no traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_")} | {
        "PIPELINE_INBOX": str(tmp_path / "in"),
        "PIPELINE_STATE_DIR": str(tmp_path / "var"),
        "PIPELINE_OUTBOX": str(tmp_path / "out"),
        "PIPELINE_IMAP_HOST": "127.0.0.1",
        "PIPELINE_IMAP_USER": "kontor",
        "PIPELINE_IMAP_PASSWORD_FILE": str(tmp_path / "missing"),
    }
    done = run(env, "imap", "--once")
    assert done.returncode == 2 and "password file cannot be read" in done.stderr
