"""The IMAP poller: mail in a mailbox folder becomes a ``.eml`` in the inbox, then is marked on the server.

    poll ─▶ search (not yet marked) ─▶ for each message: fetch its bytes (BODY.PEEK: fetching marks nothing)
         ─▶ write inbox/<sha256>.eml (temporary name, fsync, rename, fsync the folder) ─▶ mark: move or flag

The order is the guarantee. A crash after the write and before the mark leaves the message unmarked, so it is
fetched again: the same bytes, the same file name, and the register's sha256 knows it, so it is done once. A crash
before the write loses nothing either: the message is still unmarked on the server. The message is never parsed
here (that happens in a worker, like every untrusted input); its subject and sender are never logged or used as a
name. ``pipeline watch`` runs the poller in a thread when ``PIPELINE_IMAP_HOST`` is set; ``pipeline imap`` runs it
alone (``--once`` for one pass).
"""

from __future__ import annotations

import hashlib
import logging
import re
import ssl
import threading
from pathlib import Path

from imap_tools import AND, BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted

from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.fsutil import atomic_write

log = logging.getLogger("pipeline.imap")

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def password(settings: Settings) -> str:
    """From the file if one is named (its first line), else from ``PIPELINE_IMAP_PASSWORD``. Never logged."""
    if settings.imap_password_file is not None:
        try:
            return settings.imap_password_file.read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError, UnicodeError) as exc:
            raise ConfigError(
                "The IMAP password file cannot be read.", action="Check PIPELINE_IMAP_PASSWORD_FILE."
            ) from exc
    if settings.imap_password is None:
        raise ConfigError(
            "No IMAP password is set.", action="Set PIPELINE_IMAP_PASSWORD_FILE or PIPELINE_IMAP_PASSWORD."
        )
    return settings.imap_password.get_secret_value()


def connect(settings: Settings) -> BaseMailBox:
    assert settings.imap_host is not None and settings.imap_user is not None
    host, timeout = settings.imap_host, settings.imap_timeout_seconds
    context = ssl.create_default_context(cafile=str(settings.imap_ca_file) if settings.imap_ca_file else None)
    box: BaseMailBox
    if settings.imap_security == "tls":
        box = MailBox(host, settings.imap_port or 993, timeout=timeout, ssl_context=context)
    elif settings.imap_security == "starttls":
        box = MailBoxStartTls(host, settings.imap_port or 143, timeout=timeout, ssl_context=context)
    else:
        box = MailBoxUnencrypted(host, settings.imap_port or 143, timeout=timeout)
    user, secret = settings.imap_user, password(settings)
    if (user + secret).isascii():
        box.login(user, secret, initial_folder=settings.imap_folder)
    else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8 (a password with å, ä or ö)
        box.login_utf8(user, secret, initial_folder=settings.imap_folder)
    done = settings.imap_processed_folder
    if done is not None and not box.folder.exists(done):
        box.folder.create(done)
    return box


def waiting(settings: Settings, box: BaseMailBox) -> list[str]:
    """UIDs not yet handed to the intake: all in the folder when handled mail is moved away, else unflagged."""
    if settings.imap_processed_folder is not None:
        return box.uids("ALL")
    flag = settings.imap_processed_flag
    return box.uids(AND(seen=False) if flag.lower() == "\\seen" else AND(no_keyword=flag))


def fetch(box: BaseMailBox, uid: str, max_bytes: int) -> bytes | None:
    """The message's exact bytes (so a second fetch hashes the same), or None if it is gone or too large."""
    typ, data = box.client.uid("FETCH", uid, "(RFC822.SIZE)")
    size = _SIZE.search(data[0]) if typ == "OK" and data and isinstance(data[0], bytes) else None
    if size is None:
        return None
    if int(size.group(1)) > max_bytes:
        log.warning("mail larger than allowed, left on the server", extra={"event": "imap", "count": 1})
        return None
    typ, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    for item in data if typ == "OK" else []:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def spool(inbox: Path, data: bytes) -> Path:
    """Into the inbox under its hash, atomically and durably; the watcher takes it like any dropped file."""
    path = inbox / f"{hashlib.sha256(data).hexdigest()}.eml"
    if not path.exists():
        atomic_write(path, data)
    return path


def mark(settings: Settings, box: BaseMailBox, uid: str) -> None:
    if settings.imap_processed_folder is not None:
        box.move(uid, settings.imap_processed_folder)
    else:
        box.flag(uid, settings.imap_processed_flag, True)


def poll(settings: Settings, stop: threading.Event | None = None) -> int:
    """One pass over the folder; returns how many messages were handed to the intake."""
    handed = 0
    with connect(settings) as box:
        for uid in waiting(settings, box):
            if stop is not None and stop.is_set():
                break
            data = fetch(box, uid, settings.max_file_bytes)
            if data is None:
                continue
            spool(settings.inbox, data)  # durable first ...
            mark(settings, box, uid)  # ... then marked: a crash in between fetches it again, and it is a duplicate
            handed += 1
            log.info("mail taken", extra={"event": "imap", "document_id": f"{hashlib.sha256(data).hexdigest()[:12]}-0"})
    return handed


def run(settings: Settings, stop: threading.Event) -> None:
    """Poll until ``stop`` is set. A failed pass (server away, login refused) is logged by its type and retried;
    the service goes on."""
    while not stop.is_set():
        try:
            count = poll(settings, stop)
            if count:
                log.info("mail handed to the intake", extra={"event": "imap", "count": count})
        except Exception as exc:  # imaplib, socket, TLS and imap-tools errors alike: the type only (text may quote)
            log.warning("mail could not be fetched; trying again", extra={"event": "imap", "code": type(exc).__name__})
        stop.wait(settings.imap_poll_seconds)


class Poller:
    """The poller in a thread beside the watcher (``pipeline watch`` with IMAP configured)."""

    def __init__(self, settings: Settings) -> None:
        password(settings)  # a missing password stops the start, not the thread
        self.stop = threading.Event()
        self.thread = threading.Thread(target=run, args=(settings, self.stop), name="imap", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
