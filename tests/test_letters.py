"""Letters: real PDFs rendered with reportlab and read back with pypdf and pdfplumber."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any, cast

import pdfplumber
import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from pipeline import letters
from pipeline.errors import ConfigError
from pipeline.letters import LetterContext, render_letter
from pipeline.models import LetterKind

CASE_ID = "RK-0123456789AB"
APPLICATION = "Ansökan om samordning av rehabiliteringsinsatser"
NOTICE = "7429 Information om antaget behov av rehabiliteringsåtgärder enligt 30 kap. SFB"
MARKUP_NAME = "<b>Eva</b> & Co <font size=40>"


def make_ctx(**changes: Any) -> LetterContext:
    values: dict[str, Any] = {
        "case_id": CASE_ID,
        "letter_date": dt.date(2025, 3, 4),
        "recipient_name": "Anna Andersson",
        "address": "Storgatan 1",
        "postnummer": "123 45",
        "postort": "Småstad",
        "form_title": APPLICATION,
        "missing": ["Du har inte skrivit under ansökan.", "Läkarintyget saknas."],
        "received_date": dt.date(2025, 3, 1),
    }
    values.update(changes)
    return LetterContext(**values)


def text_of(pdf: bytes) -> str:
    """All pages' text with whitespace collapsed, so sentences that wrap across lines still match."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def lines_of(pdf: bytes) -> list[str]:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [line.strip() for page in pages for line in page.extract_text().splitlines()]


@pytest.mark.parametrize("kind", list(LetterKind))
def test_every_kind_has_letterhead_date_case_number_and_sign_off(kind: LetterKind) -> None:
    pdf = render_letter(kind, make_ctx())
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / mm), round(height / mm)) == (210, 297)  # A4
    text = text_of(pdf)
    assert "Försäkringskassan" in lines_of(pdf)[0]
    assert "Datum: 2025-03-04" in text
    assert f"Ärende: {CASE_ID}" in text
    assert "Med vänliga hälsningar Försäkringskassan" in text


def test_confirmation_describes_next_steps_and_related_support() -> None:
    text = text_of(render_letter(LetterKind.CONFIRMATION, make_ctx()))
    assert "Försäkringskassan går nu igenom din ansökan" in text
    assert "Försäkringskassan bokar in ett första digitalt möte" in text
    assert "Försäkringskassan och Arbetsförmedlingen tillsammans på ett digitalt möte" in text
    assert "Det är ingen ersättning som ger pengar." in text
    assert "aktivitetsstöd eller utvecklingsersättning" in text
    assert "särskilt bidrag" in text
    assert "merkostnader för till exempel resor" in text
    assert "2025-03-01" in text  # the date the application was received


def test_completion_lists_each_missing_item_and_asks_for_the_case_number() -> None:
    missing = ["Du har inte skrivit under ansökan.", "Läkarintyget saknas.", "Personnumret är ofullständigt."]
    pdf = render_letter(LetterKind.COMPLETION, make_ctx(missing=missing))
    text = text_of(pdf)
    for item in missing:
        assert item in text
    assert "Skicka kompletteringen till Försäkringskassan" in text
    assert f"Skriv ärendenumret {CASE_ID} på det du skickar" in text
    # each item is its own bullet, in the order given (pdfplumber keeps a bullet and its text on one line)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        lines = (doc.pages[0].extract_text() or "").splitlines()
    bullets = [line.removeprefix("•").strip() for line in lines if line.startswith("•")]
    assert bullets == missing


def test_completion_escapes_missing_items() -> None:
    item = "Fältet <Postort> & <b>datum</b>"
    text = text_of(render_letter(LetterKind.COMPLETION, make_ctx(missing=[item])))
    assert item in text


def test_completion_without_missing_items_is_refused() -> None:
    with pytest.raises(ValueError, match="missing"):
        render_letter(LetterKind.COMPLETION, make_ctx(missing=[]))


def test_long_completion_flows_onto_a_second_page_with_a_running_header() -> None:
    missing = [f"Uppgift nummer {i} saknas i ansökan." for i in range(60)]
    pdf = render_letter(LetterKind.COMPLETION, make_ctx(missing=missing))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    second = reader.pages[1].extract_text()
    assert f"Ärende: {CASE_ID}" in second
    assert "sida 2" in second
    text = text_of(pdf)
    assert all(item in text for item in missing)


def test_acknowledgement_is_neutral() -> None:
    ctx = make_ctx()
    text = text_of(render_letter(LetterKind.ACKNOWLEDGEMENT, ctx))
    assert "Vi har tagit emot din ansökan den 2025-03-01." in text
    assert "En handläggare kommer att titta på den och kontaktar dig om det behövs." in text
    # no reasons and no judgement: nothing from the problem list leaks in, no next steps are promised
    for item in ctx.missing:
        assert item not in text
    assert "digitalt möte" not in text
    assert "komplettering" not in text.lower()


def test_notice_letter_to_patient_promises_nothing() -> None:
    text = text_of(render_letter(LetterKind.NOTICE_TO_PATIENT, make_ctx(form_title=NOTICE)))
    assert "fått information från regionen" in text
    assert "rehabiliteringskoordinatorn" in text
    assert "kontaktar dig oftast för att stämma av informationen" in text
    assert "Informationen betyder inte automatiskt att du kommer att få rehabilitering." in text
    assert (
        "Det är Försäkringskassan som beslutar om du ska få rehabilitering enligt 30 kapitlet i "
        "socialförsäkringsbalken." in text
    )
    assert NOTICE in text
    assert "digitalt möte" not in text


@pytest.mark.parametrize("name", ["Ødegård", "Nguyễn Thị Ánh", "Łukasz Żółć", "Zoë Ångström-Çelik"])
def test_unicode_names_extract_exactly(name: str) -> None:
    pdf = render_letter(LetterKind.CONFIRMATION, make_ctx(recipient_name=name, postort="Łódź"))
    lines = lines_of(pdf)
    assert name in lines
    assert "123 45 Łódź" in lines
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert name in (doc.pages[0].extract_text() or "")


def test_markup_in_document_text_is_printed_literally() -> None:
    ctx = make_ctx(
        recipient_name=MARKUP_NAME,
        address="Gatan <i>2</i> &amp;",
        postort="<br/>Ort",
        form_title="<para>Ansökan</para>",
        case_id="RK-<b>&",
    )
    for kind in LetterKind:
        text = text_of(render_letter(kind, ctx))
        assert MARKUP_NAME in text
        assert "Gatan <i>2</i> &amp;" in text
        assert "123 45 <br/>Ort" in text
        assert "Gäller: <para>Ansökan</para>" in text
        assert "Ärende: RK-<b>&" in text


def test_metadata_title_author_subject_and_language() -> None:
    for kind in LetterKind:
        reader = PdfReader(io.BytesIO(render_letter(kind, make_ctx())))
        meta = reader.metadata
        assert meta is not None
        assert meta.title == letters.TITLES[kind]
        assert meta.author == "Försäkringskassan"
        assert meta.subject is not None and CASE_ID in meta.subject
        assert str(reader.root_object["/Lang"]) == "sv-SE"
    confirmation = PdfReader(io.BytesIO(render_letter(LetterKind.CONFIRMATION, make_ctx())))
    assert confirmation.metadata is not None
    assert confirmation.metadata.title == "Bekräftelse – ansökan om samordning av rehabiliteringsinsatser"


def test_every_font_is_an_embedded_truetype_dejavu() -> None:
    reader = PdfReader(io.BytesIO(render_letter(LetterKind.CONFIRMATION, make_ctx())))
    resources = cast(DictionaryObject, reader.pages[0]["/Resources"].get_object())
    fonts = cast(DictionaryObject, resources["/Font"].get_object())
    assert len(fonts) >= 1
    for ref in fonts.values():
        font = cast(DictionaryObject, ref.get_object())
        assert "DejaVuSans" in str(font["/BaseFont"])
        assert "/FontFile2" in cast(DictionaryObject, font["/FontDescriptor"].get_object())


def test_address_block_sits_in_the_envelope_window() -> None:
    pdf = render_letter(LetterKind.CONFIRMATION, make_ctx(recipient_name="Anna Andersson"))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        words = doc.pages[0].extract_words()
    block = [w for w in words if w["text"] in {"Anna", "Andersson", "Storgatan", "Småstad"}]
    assert len(block) == 4
    left = letters.ADDRESS_LEFT_MM * mm
    right = left + letters.ADDRESS_WIDTH_MM * mm
    top = letters.ADDRESS_TOP_MM * mm
    bottom = top + letters.ADDRESS_HEIGHT_MM * mm
    for word in block:
        assert left - 0.5 <= word["x0"] and word["x1"] <= right
        assert top - 0.5 <= word["top"] and word["bottom"] <= bottom


def test_very_long_address_is_kept_inside_the_window() -> None:
    long_name = "Maria Fernanda de los Ángeles Gutiérrez-Vasconcelos y Ødegård-Łukasiewicz " * 3
    pdf = render_letter(LetterKind.ACKNOWLEDGEMENT, make_ctx(recipient_name=long_name.strip()))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        chars = [c for c in doc.pages[0].chars if c["x0"] >= letters.ADDRESS_LEFT_MM * mm - 0.5]
    window_bottom = (letters.ADDRESS_TOP_MM + letters.ADDRESS_HEIGHT_MM) * mm
    in_window = [c for c in chars if c["top"] < window_bottom + 20]
    assert in_window
    assert max(c["bottom"] for c in in_window) <= window_bottom
    assert max(c["x1"] for c in in_window) <= (letters.ADDRESS_LEFT_MM + letters.ADDRESS_WIDTH_MM) * mm


def test_recipient_without_address_gets_name_only() -> None:
    ctx = make_ctx(recipient_name="Łukasz Żółć", address=None, postnummer=None, postort=None)
    for kind in LetterKind:
        pdf = render_letter(kind, ctx)
        lines = lines_of(pdf)
        assert "Łukasz Żółć" in lines
        assert "Storgatan" not in text_of(pdf)
        assert "123 45" not in text_of(pdf)


def test_letter_carries_the_given_date_and_is_reproducible() -> None:
    first = render_letter(LetterKind.CONFIRMATION, make_ctx())
    assert render_letter(LetterKind.CONFIRMATION, make_ctx()) == first
    later = render_letter(LetterKind.CONFIRMATION, make_ctx(letter_date=dt.date(2026, 1, 2)))
    assert later != first
    assert "Datum: 2026-01-02" in text_of(later)
    meta = PdfReader(io.BytesIO(later)).metadata
    assert meta is not None and meta.creation_date is not None
    assert meta.creation_date.date() == dt.date(2026, 1, 2)


def test_font_is_registered_once_per_process() -> None:
    render_letter(LetterKind.ACKNOWLEDGEMENT, make_ctx())
    font = pdfmetrics.getFont(letters.FONT)
    render_letter(LetterKind.ACKNOWLEDGEMENT, make_ctx())
    assert pdfmetrics.getFont(letters.FONT) is font


def test_missing_font_file_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(letters, "FONT_DIR", tmp_path)
    # the uncached function: in this process the fonts are already registered
    with pytest.raises(ConfigError, match="fonts-dejavu-core") as info:
        letters.register_fonts.__wrapped__()
    assert str(tmp_path / "DejaVuSans.ttf") in str(info.value)
