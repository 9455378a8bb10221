"""Letters to the person a document is about, as A4 PDFs in plain Swedish.

One function per :class:`~pipeline.models.LetterKind` returns the body; :func:`_layout` adds letterhead,
reference lines and the address block (placed for a right-hand window envelope) and builds the PDF. Wording
rests only on the seed pages: letters describe next steps and say that Försäkringskassan decides; they never
promise anything.

Everything that comes from a document (names, address, case id, form title, missing items) goes through
:func:`_esc` before it enters Paragraph markup, so ``<b>`` or ``&`` in a name is printed, not interpreted.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from pydantic import BaseModel
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepInFrame,
    ListFlowable,
    ListItem,
    NextPageTemplate,
    PageTemplate,
    Paragraph,
    Spacer,
)

from pipeline.errors import ConfigError
from pipeline.models import LetterKind

SENDER = "Försäkringskassan"

# Fonts: a Unicode TTF is embedded (subset) so that any name prints (Ødegård, Nguyễn, Łukasz); the PDF base
# fonts cover Latin-1 only. Debian/Ubuntu ship DejaVu in fonts-dejavu-core.
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_PACKAGE = "fonts-dejavu-core"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

# Page geometry in mm from the page's top-left corner. The address block is placed to show through the window
# of a right-hand window envelope; if the mailroom's envelopes differ, change these constants.
PAGE_WIDTH: float = A4[0]  # points
PAGE_HEIGHT: float = A4[1]
MARGIN_LEFT_MM = 20
MARGIN_RIGHT_MM = 15
MARGIN_BOTTOM_MM = 20
LETTERHEAD_TOP_MM = 15
ADDRESS_LEFT_MM = 110
ADDRESS_TOP_MM = 45
ADDRESS_WIDTH_MM = 85
ADDRESS_HEIGHT_MM = 35
REFERENCE_LEFT_MM = MARGIN_LEFT_MM  # date, case number and subject: left of the window, same height
REFERENCE_WIDTH_MM = ADDRESS_LEFT_MM - MARGIN_LEFT_MM - 5
BODY_TOP_MM = ADDRESS_TOP_MM + ADDRESS_HEIGHT_MM + 12  # first page: below the window
LATER_BODY_TOP_MM = 30  # later pages have only a small running header

TITLES: dict[LetterKind, str] = {
    LetterKind.CONFIRMATION: "Bekräftelse – ansökan om samordning av rehabiliteringsinsatser",
    LetterKind.COMPLETION: "Begäran om komplettering – ansökan om samordning av rehabiliteringsinsatser",
    LetterKind.ACKNOWLEDGEMENT: "Vi har tagit emot din ansökan om samordning av rehabiliteringsinsatser",
    LetterKind.NOTICE_TO_PATIENT: "Information – Försäkringskassan har fått uppgifter från regionen",
}


class LetterContext(BaseModel):
    case_id: str
    letter_date: dt.date
    recipient_name: str
    address: str | None
    postnummer: str | None
    postort: str | None
    form_title: str  # the document the letter is about
    missing: list[str]  # Swedish sentences naming what is missing or needs correcting (completion letter)
    received_date: dt.date


# --- fonts and styles: set up once per process --------------------------------------------------------------


@functools.cache
def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with reportlab. Cached: the TTF files are parsed once per
    process; a failure is not cached, so installing the package and trying again works."""
    for name, file in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        path = FONT_DIR / file
        if not path.is_file():
            raise ConfigError(
                f"Font file {path} not found: letters need it to print every name.",
                action=f"Install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}).",
                step="letters",
            )
        pdfmetrics.registerFont(TTFont(name, str(path)))
    # so that <b> inside a Paragraph in the regular font picks the bold file instead of failing
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14.5, spaceAfter=7)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=9, leading=12, spaceAfter=0)
_ADDRESS = ParagraphStyle("address", parent=_BODY, fontSize=10.5, leading=13.5, spaceAfter=0)
# Headings use the regular face, larger: a second embedded face costs a font subset per letter (about a fifth of
# the time a letter takes), and every letter is made at intake speed.
_LETTERHEAD = ParagraphStyle("letterhead", parent=_BODY, fontName=FONT, fontSize=17, leading=21)
_HEADING = ParagraphStyle("heading", parent=_BODY, fontName=FONT, fontSize=14, leading=18, spaceAfter=9)
_SUBHEADING = ParagraphStyle("subheading", parent=_BODY, fontName=FONT, fontSize=11.5, spaceBefore=5, spaceAfter=3)
_BULLET = ParagraphStyle("bullet", parent=_BODY, spaceAfter=3)
_SIGNATURE = ParagraphStyle("signature", parent=_BODY, spaceAfter=0)


def _esc(text: str) -> str:
    """Escape document text for Paragraph markup (``<``, ``>``, ``&``)."""
    return escape(text)


def _p(markup: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(markup, style)


def _date(d: dt.date) -> str:
    return d.isoformat()


def _mm_from_top(y_mm: float) -> float:
    """reportlab measures y from the bottom of the page; the layout constants are from the top."""
    return float(PAGE_HEIGHT - y_mm * mm)


# --- the letters' bodies ------------------------------------------------------------------------------------


def _case_number_line(ctx: LetterContext) -> Paragraph:
    return _p(f"Skriv ärendenumret {_esc(ctx.case_id)} när du kontaktar oss om det här.")


def _confirmation(ctx: LetterContext) -> list[Flowable]:
    return [
        _p("Vi har tagit emot din ansökan", _HEADING),
        _p(
            f"Vi har tagit emot din ansökan om samordning av rehabiliteringsinsatser den "
            f"{_date(ctx.received_date)}. Ansökan innehåller de uppgifter vi behöver för att gå igenom den."
        ),
        _p(
            "Försäkringskassan går nu igenom din ansökan. Det är Försäkringskassan som beslutar om du har "
            "rätt till samordning av rehabiliteringsinsatser."
        ),
        _p("Vad händer nu?", _SUBHEADING),
        _p("Försäkringskassan bokar in ett första digitalt möte med dig."),
        _p(
            "Om du har rätt till samordning träffar du oftast Försäkringskassan och Arbetsförmedlingen "
            "tillsammans på ett digitalt möte. Där pratar ni om vilket stöd du behöver för att kunna jobba."
        ),
        _p(
            "Samordning innebär att Försäkringskassan samordnar insatser med andra aktörer, främst "
            "Arbetsförmedlingen och kommunerna. Det är ingen ersättning som ger pengar."
        ),
        _p("Annat stöd som kan vara aktuellt", _SUBHEADING),
        _p(
            "Deltar du i Arbetsförmedlingens program kan du få aktivitetsstöd eller utvecklingsersättning.",
        ),
        _p(
            "Om du deltar i arbetslivsinriktad rehabilitering kan du ha rätt till särskilt bidrag. Bidraget "
            "täcker vissa merkostnader för till exempel resor."
        ),
        _case_number_line(ctx),
    ]


def _completion(ctx: LetterContext) -> list[Flowable]:
    if not ctx.missing:
        # a request for completion that names nothing would leave the person guessing: a caller bug
        raise ValueError("a completion letter needs at least one item in ctx.missing")
    items = [ListItem(_p(_esc(item), _BULLET), value="•") for item in ctx.missing]
    return [
        _p("Vi behöver fler uppgifter från dig", _HEADING),
        _p(
            f"Vi har tagit emot din ansökan om samordning av rehabiliteringsinsatser den "
            f"{_date(ctx.received_date)}. Något saknas eller behöver rättas innan vi kan gå igenom den."
        ),
        _p("Det här behöver vi från dig:", _SUBHEADING),
        ListFlowable(items, bulletType="bullet", bulletFontName=FONT, leftIndent=12, bulletFontSize=10.5),
        Spacer(0, 6),
        _p(
            "Skicka kompletteringen till Försäkringskassan. Skriv ärendenumret "
            f"{_esc(ctx.case_id)} på det du skickar, så att vi kan koppla det till din ansökan."
        ),
        _p(
            "När vi har fått kompletteringen går vi igenom din ansökan. Det är Försäkringskassan som "
            "beslutar om du har rätt till samordning av rehabiliteringsinsatser."
        ),
    ]


def _acknowledgement(ctx: LetterContext) -> list[Flowable]:
    # neutral on purpose: no reasons, no judgement, nothing promised
    return [
        _p("Vi har tagit emot din ansökan", _HEADING),
        _p(f"Vi har tagit emot din ansökan den {_date(ctx.received_date)}."),
        _p("En handläggare kommer att titta på den och kontaktar dig om det behövs."),
        _case_number_line(ctx),
    ]


def _notice_to_patient(ctx: LetterContext) -> list[Flowable]:
    return [
        _p("Vi har fått information om dig från regionen", _HEADING),
        _p(
            f"Försäkringskassan har den {_date(ctx.received_date)} fått information från regionen, från "
            "rehabiliteringskoordinatorn, om att du kan behöva rehabilitering."
        ),
        _p(
            "Vi kontaktar dig oftast för att stämma av informationen och prata om hur vi går vidare.",
        ),
        _p(
            "Informationen betyder inte automatiskt att du kommer att få rehabilitering. Det är "
            "Försäkringskassan som beslutar om du ska få rehabilitering enligt 30 kapitlet i "
            "socialförsäkringsbalken."
        ),
        _case_number_line(ctx),
    ]


_BODIES: dict[LetterKind, Callable[[LetterContext], list[Flowable]]] = {
    LetterKind.CONFIRMATION: _confirmation,
    LetterKind.COMPLETION: _completion,
    LetterKind.ACKNOWLEDGEMENT: _acknowledgement,
    LetterKind.NOTICE_TO_PATIENT: _notice_to_patient,
}


# --- layout -------------------------------------------------------------------------------------------------


def _address_lines(ctx: LetterContext) -> list[str]:
    """Name, street, postnummer + postort; parts that are missing are left out (a name alone still prints)."""
    lines = [ctx.recipient_name]
    if ctx.address:
        lines.append(ctx.address)
    postal = " ".join(part for part in (ctx.postnummer, ctx.postort) if part)
    if postal:
        lines.append(postal)
    return lines


def _draw_box(
    canv: Canvas,
    flowables: list[Flowable],
    left_mm: float,
    top_mm: float,
    w_mm: float,
    h_mm: float,
) -> None:
    """Draw flowables into a fixed box; shrink them if a long name or address would overflow (never spill)."""
    frame = Frame(left_mm * mm, _mm_from_top(top_mm + h_mm), w_mm * mm, h_mm * mm, 0, 0, 0, 0, showBoundary=0)
    frame.addFromList([KeepInFrame(w_mm * mm, h_mm * mm, flowables, mode="shrink")], canv)


def _layout(kind: LetterKind, ctx: LetterContext, body: list[Flowable]) -> bytes:
    title = TITLES[kind]

    def first_page(canv: Canvas, _doc: BaseDocTemplate) -> None:
        # the document's CreationDate is the letter's date: true, and still byte-for-byte reproducible
        stamp = f"D:{ctx.letter_date:%Y%m%d}000000+00'00'"
        canv.setDateFormatter(lambda *_: stamp)
        _draw_box(canv, [_p(SENDER, _LETTERHEAD)], MARGIN_LEFT_MM, LETTERHEAD_TOP_MM, 90, 10)
        reference = [
            _p(f"Datum: {_date(ctx.letter_date)}", _SMALL),
            _p(f"Ärende: {_esc(ctx.case_id)}", _SMALL),
            _p(f"Gäller: {_esc(ctx.form_title)}", _SMALL),
        ]
        _draw_box(canv, reference, REFERENCE_LEFT_MM, ADDRESS_TOP_MM, REFERENCE_WIDTH_MM, ADDRESS_HEIGHT_MM)
        address = [_p(_esc(line), _ADDRESS) for line in _address_lines(ctx)]
        _draw_box(canv, address, ADDRESS_LEFT_MM, ADDRESS_TOP_MM, ADDRESS_WIDTH_MM, ADDRESS_HEIGHT_MM)

    def later_page(canv: Canvas, doc: BaseDocTemplate) -> None:
        canv.setFont(FONT, 9)
        header = f"{SENDER} · Ärende: {ctx.case_id} · {_date(ctx.letter_date)} · sida {doc.page}"
        canv.drawString(MARGIN_LEFT_MM * mm, _mm_from_top(LETTERHEAD_TOP_MM + 4), header)

    body_width = PAGE_WIDTH - (MARGIN_LEFT_MM + MARGIN_RIGHT_MM) * mm

    def body_frame(top_mm: float, frame_id: str) -> Frame:
        height = PAGE_HEIGHT - top_mm * mm - MARGIN_BOTTOM_MM * mm
        return Frame(MARGIN_LEFT_MM * mm, MARGIN_BOTTOM_MM * mm, body_width, height, 0, 0, 0, 0, id=frame_id)

    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        title=title,
        author=SENDER,
        subject=f"{title}. Ärende {ctx.case_id}",
        creator=SENDER,
        initialFontName=FONT,  # else every page references a non-embedded Helvetica
        lang="sv-SE",
        displayDocTitle=True,
        invariant=1,
        pageCompression=0,  # zlib was a third of a letter's time; a letter stays under 50 KB without it
        pageTemplates=[
            PageTemplate("first", [body_frame(BODY_TOP_MM, "first")], onPage=first_page),
            PageTemplate("later", [body_frame(LATER_BODY_TOP_MM, "later")], onPage=later_page),
        ],
    )
    signature = [Spacer(0, 8), _p("Med vänliga hälsningar", _SIGNATURE), _p(SENDER)]
    doc.build([NextPageTemplate("later"), *body, *signature])
    return buf.getvalue()


def render_letter(kind: LetterKind, ctx: LetterContext) -> bytes:
    """The letter of ``kind`` for ``ctx`` as PDF bytes (A4, Swedish, fonts embedded)."""
    register_fonts()
    return _layout(kind, ctx, _BODIES[kind](ctx))
