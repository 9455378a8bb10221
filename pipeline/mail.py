"""E-mail: an RFC 822 message (a dropped ``.eml``, or one fetched over IMAP) is opened in a worker process, and each
PDF or image attachment becomes an input of its own, carrying the message's provenance.

    message ─ parse (email, policy.default) ─▶ walk the parts
        ├▶ text body, images of an HTML body                   ─▶ skipped
        ├▶ attachment whose bytes are a PDF or an image         ─▶ Attachment (number, kind, bytes)
        ├▶ forwarded message (message/rfc822, or bytes that are a mail) ─▶ walked again, one level deeper (bounded)
        └▶ anything else (zip, docx, damaged, too deep)          ─▶ listed as not read, never extracted

Nothing here touches the file system: an attachment's name is only ever shown to staff, cleaned, as a label; its
bytes decide its type. The service (:mod:`pipeline.conductor`) then treats each attachment like a dropped file, keyed
by its own sha256, so the same PDF in two mails (or mailed and also dropped) makes one case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import errors as mime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from pipeline.errors import DocumentError, LimitExceededError, NotSupportedError
from pipeline.models import Provenance
from pipeline.scan import raster

_HEADER = re.compile(rb"[!-9;-~]+:")  # a header field name (printable ASCII but the colon), then the colon
_KNOWN = {
    b"from",
    b"to",
    b"cc",
    b"date",
    b"subject",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"received",
    b"return-path",
    b"delivered-to",
    b"reply-to",
    b"sender",
}
_SNIFF_BYTES = 16384
MAX_PARTS = 2000  # MIME parts walked in one message, whatever they are: bounds the work a crafted message causes
MAX_NESTING = 32  # multipart inside multipart
_STRUCTURE = (
    mime.NoBoundaryInMultipartDefect,
    mime.StartBoundaryNotFoundDefect,
    mime.MultipartInvariantViolationDefect,
    mime.MissingHeaderBodySeparatorDefect,
    mime.InvalidMultipartContentTransferEncodingDefect,
)
_DAMAGED = (mime.InvalidBase64CharactersDefect, mime.InvalidBase64PaddingDefect, mime.InvalidBase64LengthDefect)
_SUFFIX: dict[raster.Kind, str] = {"pdf": ".pdf", "tiff": ".tif", "png": ".png", "jpeg": ".jpg"}

ACTION = (
    "Be avsändaren skicka blanketten igen som PDF-bilaga (eller skriv ut och skanna den). Meddelandet ligger kvar här."
)


class BrokenMailError(DocumentError):
    code = "broken_mail"
    step = "unpack"
    action = ACTION


class NoAttachmentError(DocumentError):
    code = "mail_without_attachment"
    step = "unpack"
    action = ACTION


def looks_like_mail(data: bytes) -> bool:
    """An RFC 822 message by its first bytes: header lines up to the first empty line (continuation lines allowed,
    an mbox ``From`` line first allowed), naming at least two of the usual fields. PDFs and images never do."""
    if data.startswith(b"%PDF-"):
        return False
    head = data[:_SNIFF_BYTES]
    lines = head.split(b"\n")
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]  # cut off mid-line
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    names: set[bytes] = set()
    for number, raw in enumerate(lines):
        line = raw.rstrip(b"\r")
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            if number == 0:
                return False
            continue
        match = _HEADER.match(line)
        if match is None:
            return False
        names.add(match.group()[:-1].lower())
    return len(names & _KNOWN) >= 2


@dataclass(frozen=True)
class Attachment:
    """One readable attachment. ``number`` is its place among the message's attachments (1-based, forwarded
    messages included, in the order they appear), so staff can find it in the archived message."""

    number: int
    kind: raster.Kind
    data: bytes

    @property
    def suffix(self) -> str:
        return _SUFFIX[self.kind]


@dataclass
class Unpacked:
    """What a worker found in a message: its provenance, the attachments to read, and what was not read (Swedish,
    one line each, for the outcome)."""

    provenance: Provenance
    attachments: list[Attachment]
    not_read: list[str] = field(default_factory=list)


def unpack(data: bytes, *, max_attachments: int, max_depth: int) -> Unpacked:
    """Raises NoAttachmentError (nothing to read), BrokenMailError (nothing to read and the structure is damaged)
    or LimitExceededError (more attachments than allowed: none is read, so nothing is half done)."""
    walk = _Walk(max_attachments, max_depth)
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
        provenance = _provenance(message)
        walk.message(message, 0)
    except DocumentError:
        raise
    except (mime.MessageError, LookupError, ValueError, TypeError, AttributeError, UnicodeError) as exc:
        # The email package tolerates most damage; what it cannot is the same for the mailroom: a broken message.
        raise BrokenMailError("E-postmeddelandet är trasigt: dess MIME-struktur går inte att läsa.") from exc
    if walk.attachments:
        return Unpacked(provenance, walk.attachments, walk.not_read)
    listed = " ".join(walk.not_read)
    if walk.damaged:
        raise BrokenMailError(
            "E-postmeddelandet är trasigt: dess MIME-struktur går inte att läsa, och ingen bilaga kunde tas ut."
            + (f" {listed}" if listed else "")
        )
    raise NoAttachmentError(
        "E-postmeddelandet har ingen bilaga som kan läsas (en PDF eller en skannad bild: TIFF, PNG eller JPEG)."
        + (f" {listed}" if listed else " Meddelandet har inga bilagor alls.")
    )


class _Walk:
    def __init__(self, max_attachments: int, max_depth: int) -> None:
        self.max_attachments = max_attachments
        self.max_depth = max_depth
        self.attachments: list[Attachment] = []
        self.not_read: list[str] = []
        self.numbered = 0
        self.parts = 0
        self.damaged = False

    def message(self, message: Message, depth: int) -> None:
        self.part(message, depth, 0, related=False)

    def part(self, part: Message, depth: int, nesting: int, *, related: bool) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS or nesting > MAX_NESTING:
            raise LimitExceededError(
                "E-postmeddelandet har fler delar, eller delar i fler nivåer, än som tas emot.",
                action="Be avsändaren skicka blanketten i ett enkelt meddelande med blanketten som bilaga.",
            )
        self._check(part)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            self._forwarded(inner if isinstance(inner, Message) else None, depth + 1)
        elif part.is_multipart():
            inside = ctype == "multipart/related"
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    self.part(sub, depth, nesting + 1, related=inside)
        elif not self._body(part, related):
            self._attachment(part, depth)

    def _check(self, part: Message) -> None:
        if any(isinstance(d, _STRUCTURE) for d in part.defects):
            self.damaged = True

    def _body(self, part: Message, related: bool) -> bool:
        """The text of the message, and pictures its HTML shows (a signature's logo): not attachments."""
        disposition = part.get_content_disposition()
        if disposition == "attachment":
            return False
        if part.get_content_maintype() == "text" and not _filename(part):
            return True
        return related and part.get("Content-ID") is not None

    def _forwarded(self, inner: Message | None, depth: int) -> None:
        if inner is None:
            self.damaged = True
            return
        if depth > self.max_depth:
            self.not_read.append(
                f"Ett vidarebefordrat meddelande i nivå {depth} öppnades inte: högst {self.max_depth} nivåer "
                "av vidarebefordran följs. Be avsändaren skicka bilagorna direkt."
            )
            return
        self.message(inner, depth)

    def _attachment(self, part: Message, depth: int) -> None:
        self.numbered += 1
        number = self.numbered
        if number > self.max_attachments:
            raise LimitExceededError(
                f"E-postmeddelandet har fler än {self.max_attachments} bilagor; ingen av dem lästes.",
                action="Be avsändaren dela upp bilagorna på flera meddelanden.",
            )
        label = _label(part, number)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if any(isinstance(d, _DAMAGED) for d in part.defects):
            self.not_read.append(f"{label}: bilagan är skadad i meddelandet och lästes inte.")
            return
        if not data:
            self.not_read.append(f"{label}: bilagan är tom.")
            return
        if looks_like_mail(data):  # a forwarded message attached as a file: its bytes say what it is
            self.numbered -= 1  # the message is a container; its attachments are numbered instead
            self._forwarded(BytesParser(policy=policy.default).parsebytes(data), depth + 1)
            return
        try:
            kind = raster.sniff(data)
        except NotSupportedError:
            self.not_read.append(f"{label}: filtypen stöds inte ({part.get_content_type()}) och lästes inte.")
            return
        self.attachments.append(Attachment(number, kind, data))


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (mime.MessageError, LookupError, ValueError, TypeError, AttributeError, UnicodeError):
        return None


def _label(part: Message, number: int) -> str:
    """``Bilaga 3 (intyg.docx)``: the declared name, cleaned, only as text for staff; never a path."""
    name = _filename(part) or ""
    cleaned = re.sub(r"[^\w.\- ]", "_", name).strip(". _")[:60]
    return f"Bilaga {number} ({cleaned})" if cleaned else f"Bilaga {number}"


def _provenance(message: EmailMessage | Message) -> Provenance:
    return Provenance(
        channel="email",
        message_id=_header(message, "Message-ID"),
        sender=_sender(message),
        sent_at=_sent(message),
    )


def _header(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
    except Exception:  # a header the parser chokes on only loses that piece of provenance
        return None
    if value is None:
        return None
    text = re.sub(r"[\x00-\x1f\x7f]", "", str(value)).strip()
    return text[:998] or None


def _sender(message: Message) -> str | None:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ())
        address = str(addresses[0].addr_spec) if addresses else None
    except Exception:
        return None
    address = _header_text(address)
    return address if address and re.fullmatch(r"[^\s<>@]+@[^\s<>@]+", address) else None


def _sent(message: Message) -> str | None:
    try:
        when = getattr(message.get("Date"), "datetime", None)
    except Exception:
        return None
    return when.isoformat() if when is not None else None


def _header_text(value: str | None) -> str | None:
    if not value:
        return None
    text = re.sub(r"[\x00-\x1f\x7f]", "", value).strip()
    return text[:320] or None
