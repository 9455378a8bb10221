""".eml messages in the inbox: each PDF or image attachment a document of its own, with the message's provenance.

End to end through the CLI (real worker processes, real SQLite) with the project's own fixtures as attachments, and
messages built with the email package; the senders' names come from a seeded Faker('sv_SE').
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from faker import Faker

from pipeline import mail
from pipeline.config import Settings
from pipeline.errors import LimitExceededError
from pipeline.service import open_intake
from pipeline.stages import Input
from tests.conftest import FIXTURES, ROOT
from tests.test_pipeline import _plain_pdf, run_cli

NOTICES = FIXTURES / "fk7429"
SCAN = FIXTURES / "scans" / "ansokan-samordning" / "application-has-sgi-good.tif"
SENT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def notice(n: int) -> bytes:
    return next(NOTICES.glob(f"notice-{n:02d}-*.pdf")).read_bytes()


def message(seed: int, *, sent: dt.datetime = SENT) -> EmailMessage:
    """A coordinator's mail: a Swedish name and a region's address (Faker sv_SE, seeded)."""
    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    msg = EmailMessage()
    first, last = faker.first_name(), faker.last_name()
    msg["From"] = f"{first} {last} <koordinator{seed}@region.example>"
    msg["To"] = "rehab@forsakringskassan.example"
    msg["Subject"] = f"Information om {faker.name()}"  # a subject with a name: never logged, never a file name
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = f"<{seed}.{faker.uuid4()}@region.example>"
    msg.set_content(f"Hej,\n\nbifogat finns blanketten.\n\n{first} {last}\nRehabkoordinator\n")
    return msg


def attach(msg: EmailMessage, data: bytes, filename: str | None, ctype: str = "application/pdf") -> None:
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def forwarded(inner: EmailMessage, seed: int) -> EmailMessage:
    outer = message(seed)
    outer.add_attachment(inner)  # message/rfc822
    return outer


def write(folder: Path, name: str, data: bytes | EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.as_bytes(policy=policy.SMTP))
    return path


def process(env: dict[str, str], *paths: Path) -> dict[str, dict[str, Any]]:
    done = run_cli(env, "process", "--json", *paths)
    assert done.returncode in (0, 1), done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(paths)
    return {r["input"]: r | {"stderr": done.stderr} for r in results}


def record(settings: Settings, case_id: str) -> dict[str, Any]:
    for folder in (settings.cases_dir, settings.review_dir):
        path = folder / f"{case_id}.json"
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise AssertionError(f"no record for {case_id}")


def files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def quarantine_report(settings: Settings, prefix: str) -> dict[str, Any]:
    reports = list(settings.quarantine.glob(f"{prefix}*.error.json"))
    assert len(reports) == 1, reports
    data: dict[str, Any] = json.loads(reports[0].read_text(encoding="utf-8"))
    return data


# --- in-process: typing by content, and what the walk finds -------------------------------------------------------


def test_a_mail_is_recognised_by_its_first_bytes_not_its_name() -> None:
    eml = message(1).as_bytes()
    assert mail.looks_like_mail(eml)
    assert mail.looks_like_mail(b"Return-Path: <a@b.example>\r\nDelivered-To: c@d.example\r\n\r\nbody")
    assert mail.looks_like_mail(b"From a@b.example Thu Nov 20 09:30:00 2026\nFrom: a@b.example\nTo: c@d\n\nx")
    assert not mail.looks_like_mail(notice(1))
    assert not mail.looks_like_mail(SCAN.read_bytes())
    assert not mail.looks_like_mail(b"<html><head><title>From: x</title></head></html>")
    assert not mail.looks_like_mail(b"Name: Anna\nAge: 40\n\nnot a mail, no usual header")
    assert not mail.looks_like_mail(b" From: a@b\nTo: c@d\n\n")  # starts with a continuation
    assert not mail.looks_like_mail(b"")


def test_attachments_are_numbered_and_labelled_but_their_names_are_only_text() -> None:
    msg = message(2)
    attach(msg, notice(1), "../../etc/x.pdf")
    attach(msg, b"PK\x03\x04" + b"\x00" * 40, "intyg\\..\\..\\evil.docx", "application/octet-stream")
    attach(msg, SCAN.read_bytes(), None, "image/tiff")
    found = mail.unpack(msg.as_bytes(), max_attachments=5, max_depth=1)
    assert [(a.number, a.kind) for a in found.attachments] == [(1, "pdf"), (3, "tiff")]
    assert found.attachments[0].data == notice(1)
    assert found.not_read == [
        "Bilaga 2 (intyg_.._.._evil.docx): filtypen stöds inte (application/octet-stream) och lästes inte."
    ]
    assert found.provenance.channel == "email"
    assert found.provenance.sender == "koordinator2@region.example"
    assert found.provenance.sent_at == SENT.isoformat()
    assert found.provenance.message_id is not None and found.provenance.message_id.startswith("<2.")


def test_the_attachment_limit_refuses_the_whole_message() -> None:
    msg = message(3)
    for n in (1, 5, 9):
        attach(msg, notice(n), f"{n}.pdf")
    assert len(mail.unpack(msg.as_bytes(), max_attachments=3, max_depth=1).attachments) == 3
    with pytest.raises(LimitExceededError, match="fler än 2 bilagor"):
        mail.unpack(msg.as_bytes(), max_attachments=2, max_depth=1)


def test_a_logo_in_the_html_body_is_not_an_attachment() -> None:
    msg = message(4)
    msg.add_alternative("<p>Hej</p><img src='cid:logo'>", subtype="html")
    html = msg.get_payload()[1]  # type: ignore[index]
    html.add_related(SCAN.read_bytes()[:64] + b"\x00" * 8, maintype="image", subtype="png", cid="<logo>")
    attach(msg, notice(1), "7429.pdf")
    found = mail.unpack(msg.as_bytes(), max_attachments=5, max_depth=1)
    assert [a.number for a in found.attachments] == [1] and found.not_read == []


def test_damaged_headers_lose_only_their_piece_of_provenance() -> None:
    raw = (
        b"From: <<<@@@>\r\nDate: inte ett datum\r\nMessage-ID: <a\x01b@x>\r\nTo: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--B--\r\n"
    )
    found = mail.unpack(raw, max_attachments=5, max_depth=1)
    assert found.provenance.sender is None and found.provenance.sent_at is None
    assert found.provenance.message_id == "<ab@x>"  # control characters removed
    assert [a.kind for a in found.attachments] == ["pdf"]


def test_a_message_of_thousands_of_parts_is_refused_without_reading_them() -> None:
    parts = b"".join(b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(mail.MAX_PARTS + 5))
    raw = b"From: a@b.example\r\nTo: c@d.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" + parts
    with pytest.raises(LimitExceededError, match="fler delar"):
        mail.unpack(raw + b"--B--\r\n", max_attachments=5, max_depth=1)


# --- end to end ----------------------------------------------------------------------------------------------------


def test_each_attachment_becomes_a_case_carrying_the_messages_provenance(
    tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    drop = tmp_path / "drop"
    first = message(10)
    attach(first, notice(1), "7429 Nguyen.pdf")
    attach(first, notice(9), "skannad.pdf", "application/octet-stream")  # the bytes decide, not the declared type
    attach(first, SCAN.read_bytes(), "ansokan.tif", "image/tiff")
    attach(first, b"PK\x03\x04" + b"\x00" * 60, "lakarintyg.zip", "application/zip")
    eml = write(drop, "from-region.eml", first)
    again = write(drop, "same-message-again.msg", eml.read_bytes())  # same bytes under another name
    other = message(11)  # a different message carrying an attachment already received, and a new one
    attach(other, notice(1), "kopia.pdf")
    attach(other, notice(5), "ny.pdf")
    second = write(drop, "reminder.eml", other)
    dropped = NOTICES / "notice-09-flattened.pdf"  # the same PDF dropped on its own

    results = process(env, eml, again, second, dropped)

    one = results["from-region.eml"]
    assert one["outcome"] in ("recorded", "review")  # the scan may need a person; the digital forms do not
    assert len(one["cases"]) == 3
    assert "Bilaga 4 (lakarintyg.zip): filtypen stöds inte" in one["reason"]
    sha = hashlib.sha256(eml.read_bytes()).hexdigest()[:12]
    records = [record(settings, c) for c in one["cases"]]
    assert [r["document_id"] for r in records] == [f"{sha}-1-1", f"{sha}-2-1", f"{sha}-3-1"]
    for r in records:
        assert r["provenance"] == {
            "channel": "email",
            "message_id": first["Message-ID"],
            "sender": "koordinator10@region.example",
            "sent_at": SENT.isoformat(),
        }
    assert [r["form_id"] for r in records] == ["fk7429", "fk7429", "ansokan-samordning"]
    # The same message again is a duplicate: nothing new.
    assert results["same-message-again.msg"]["outcome"] == "duplicate"
    assert results["same-message-again.msg"]["cases"] == one["cases"]
    # An attachment received before makes no second case; the new one does.
    two = results["reminder.eml"]
    assert two["outcome"] == "recorded" and len(two["cases"]) == 2
    assert two["cases"][0] == one["cases"][0]
    assert "tagits emot tidigare" in two["reason"]
    assert results["notice-09-flattened.pdf"]["outcome"] == "duplicate"
    assert results["notice-09-flattened.pdf"]["cases"] == [one["cases"][1]]
    # Four distinct forms, four cases, one letter each for the digital 7429s: nothing twice.
    cases = json.loads(run_cli(env, "cases", "list", "--json").stdout)
    assert len(cases) == 4
    letters = sorted(p.name for p in settings.letters_dir.rglob("*.pdf"))
    assert len([n for n in letters if n.endswith("information-7429.pdf")]) == 3
    assert len(letters) == len(set(letters))
    # The originals are archived by hash: the message and each attachment it yielded.
    archived = {p.name for p in settings.archive.rglob("*") if p.is_file()}
    assert any(n.endswith(".eml") for n in archived)
    assert sum(n.endswith(".pdf") for n in archived) == 3 and sum(n.endswith(".tif") for n in archived) == 1
    # Logs carry document ids, never the sender, the subject or a file name.
    logs = one["stderr"]
    assert "koordinator10" not in logs and first["Subject"] not in logs and "Nguyen" not in logs
    assert f"{sha}-0" in logs


def test_forwarded_mail_is_followed_to_the_depth_limit_and_refused_beyond(
    tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    drop = tmp_path / "drop"
    deepest = message(20)
    attach(deepest, notice(5), "7429.pdf")
    two_levels = forwarded(forwarded(deepest, 21), 22)  # the form two forwards down
    deepest_too = message(23)
    attach(deepest_too, notice(7), "7429.pdf")
    three_levels = forwarded(forwarded(forwarded(deepest_too, 24), 25), 26)
    as_file = message(27)  # a forwarded message attached as a plain file: its bytes say it is a mail
    inner = message(28)
    attach(inner, notice(9), "7429.pdf")
    attach(as_file, inner.as_bytes(), "vidarebefordrat.eml", "application/octet-stream")
    paths = write(drop, "two.eml", two_levels), write(drop, "three.eml", three_levels), write(drop, "file.eml", as_file)

    results = process(env | {"PIPELINE_MAIL_MAX_DEPTH": "2"}, *paths)

    assert results["two.eml"]["outcome"] == "recorded" and len(results["two.eml"]["cases"]) == 1
    case = record(settings, results["two.eml"]["cases"][0])
    assert case["provenance"]["message_id"] == two_levels["Message-ID"]  # the message that reached us
    assert results["file.eml"]["outcome"] == "recorded" and len(results["file.eml"]["cases"]) == 1
    refused = results["three.eml"]
    assert refused["outcome"] == "quarantined" and refused["cases"] == []
    assert "nivå 3" in refused["reason"] and "högst 2 nivåer" in refused["reason"]
    report = quarantine_report(settings, "")
    assert report["code"] == "mail_without_attachment" and "vidarebefordrat" in report["reason"]
    assert report["action"].startswith("Be avsändaren")


HOSTILE_NAMES = {
    1: b'filename="../x.pdf"',
    3: b'filename="/tmp/{outside}/abs.pdf"',
    5: b'filename="nul\x00.pdf"',
    7: b'filename="..\\\\..\\\\back.pdf"',
    9: b'filename="=?utf-8?b?Li4vLi4vZW5jb2RlZC5wZGY=?="',  # ../../encoded.pdf
    11: b"filename*=utf-8''..%2F..%2Frfc2231.pdf",
}


def hostile_message(outside: str) -> bytes:
    """Raw MIME, so names the email package would not write itself (a NUL, a lone backslash) reach the parser."""
    import base64

    parts = [b"From: =?utf-8?q?L=C3=B6wenhielm?= <kansliet@region.example>", b"To: rehab@fk.example"]
    parts += [b"Message-ID: <hostile@region.example>", b"Date: Thu, 20 Nov 2026 09:30:00 +0000"]
    parts += [b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="XX"', b"", b"--XX"]
    parts += [b"Content-Type: text/plain; charset=utf-8", b"", b"Se bilagor."]
    for n, name in HOSTILE_NAMES.items():
        body = base64.encodebytes(notice(n))
        disposition = name.replace(b"{outside}", outside.encode())
        parts += [b"--XX", b"Content-Type: application/pdf", b"Content-Transfer-Encoding: base64"]
        parts += [b"Content-Disposition: attachment; " + disposition, b"", body]
    not_ours = base64.encodebytes(_plain_pdf("Faktura 2026-113 att betala 1 200 kr"))
    parts += [b"--XX", b"Content-Type: application/pdf", b"Content-Transfer-Encoding: base64"]
    parts += [b'Content-Disposition: attachment; filename="../../quarantine-escape.pdf"', b"", not_ours]
    parts += [b"--XX--", b""]
    return b"\r\n".join(parts)


def test_hostile_attachment_names_never_become_paths(tmp_path: Path, env: dict[str, str], settings: Settings) -> None:
    outside = f"pipeline-mail-test-{os.getpid()}"
    drop = tmp_path / "drop"
    eml = write(drop, "hostile.eml", hostile_message(outside))
    before_tmp = files(tmp_path)

    result = process(env, eml)["hostile.eml"]

    assert result["outcome"] == "quarantined"  # one attachment is not our form; the six forms are recorded
    assert len(result["cases"]) == 6
    for case_id in result["cases"]:
        assert record(settings, case_id)["provenance"]["sender"] == "kansliet@region.example"
    # Every file written lies in the state folder or the outbox; nothing lands where a name pointed.
    written = files(tmp_path) - before_tmp
    assert written and all(settings.state_dir in p.parents or settings.outbox in p.parents for p in written)
    assert not Path(f"/tmp/{outside}").exists()
    fragments = ("x.pdf", "abs", "nul", "back", "encoded", "rfc2231", "escape")
    names = " ".join(p.name for p in written)
    assert not [f for f in fragments if f in names]
    # Where a name like ../../x.pdf would land, from the working folder or the state folder's work area.
    around = {ROOT, ROOT.parent, ROOT.parent.parent, tmp_path.parent, Path("/"), Path("/tmp")}
    landed = {"x.pdf", "abs.pdf", "nul.pdf", "nul", "back.pdf", "encoded.pdf", "rfc2231.pdf", "quarantine-escape.pdf"}
    assert [p for folder in around for p in folder.iterdir() if p.name in landed] == []
    # The one that is not our form is quarantined under its document id, with the reason beside it.
    report = quarantine_report(settings, "")
    assert report["code"] == "unknown_form" and report["document_id"].endswith("-7-0")


def test_broken_mime_and_mail_without_a_usable_attachment_are_quarantined_with_a_reason(
    tmp_path: Path, env: dict[str, str], settings: Settings
) -> None:
    drop = tmp_path / "drop"
    text_only = message(30)
    unsupported = message(31)
    attach(unsupported, b"PK\x03\x04" + b"\x00" * 60, "underlag.docx", "application/octet-stream")
    attach(unsupported, b"\xd0\xcf\x11\xe0" + b"\x00" * 60, "gammal.doc", "application/msword")
    no_boundary = (
        b"From: a@region.example\r\nTo: b@fk.example\r\nMessage-ID: <nb@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\nJVBERi0xLjcKJeLjz9MK trasig\r\n'
    )
    damaged = message(32)
    attach(damaged, notice(1), "7429.pdf")
    raw = damaged.as_bytes()
    body_start = raw.index(b"JVBER")  # the base64 of the PDF: break it in the middle
    raw = raw[: body_start + 200] + b"!!*&%" + raw[body_start + 200 :]
    too_many = message(33)
    for n in (1, 2, 3):
        attach(too_many, notice(n), f"{n}.pdf")
    paths = [
        write(drop, "text.eml", text_only),
        write(drop, "unsupported.eml", unsupported),
        write(drop, "no-boundary.eml", no_boundary),
        write(drop, "damaged.eml", raw),
        write(drop, "too-many.eml", too_many),
    ]

    results = process(env | {"PIPELINE_MAIL_MAX_ATTACHMENTS": "2"}, *paths)

    assert all(r["outcome"] == "quarantined" and r["cases"] == [] for r in results.values())
    assert "ingen bilaga som kan läsas" in results["text.eml"]["reason"]
    assert "inga bilagor alls" in results["text.eml"]["reason"]
    listed = results["unsupported.eml"]["reason"]
    assert "Bilaga 1 (underlag.docx): filtypen stöds inte" in listed and "Bilaga 2 (gammal.doc)" in listed
    assert "trasigt" in results["no-boundary.eml"]["reason"]
    assert "skadad" in results["damaged.eml"]["reason"]
    assert "fler än 2 bilagor" in results["too-many.eml"]["reason"]
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in settings.quarantine.glob("*.error.json")]
    assert sorted(r["code"] for r in reports) == sorted(
        [
            "mail_without_attachment",
            "mail_without_attachment",
            "broken_mail",
            "mail_without_attachment",
            "limit_exceeded",
        ]
    )
    assert all(r["reason"] and r["action"] for r in reports)
    assert not list(settings.letters_dir.rglob("*.pdf"))


def test_a_copy_read_beside_its_first_leaves_no_letter_of_its_own(settings: Settings, own_umask: None) -> None:
    """The same 7429 as a mail's attachment and dropped beside it, both read at once: the dropped copy is a
    duplicate, and the letter its worker wrote too is the first copy's or none. Here the mail came in a minute
    before midnight, so the dropped copy's letter lay in the next day's folder: a second letter for one case."""
    drop = settings.state_dir.parent / "drop"
    msg = message(12)
    attach(msg, notice(1), "7429.pdf")
    eml, pdf = write(drop, "from-region.eml", msg), write(drop, "7429.pdf", notice(1))
    late = dt.datetime(2026, 11, 19, 23, 59, tzinfo=dt.UTC)
    inputs = [Input(eml, eml.name, received_at=late), Input(pdf, pdf.name, received_at=late + dt.timedelta(minutes=2))]
    with open_intake(settings) as intake:
        first, again = intake.handle_many(inputs, move=False, channel="cli")
    assert (first.outcome, again.outcome) == ("recorded", "duplicate")
    assert again.cases == first.cases and len(first.letters) == 1
    letters = [p.relative_to(settings.outbox).as_posix() for p in settings.outbox.rglob("*.pdf")]
    assert letters == first.letters and first.letters[0].startswith("letters/2026-11-19/")
