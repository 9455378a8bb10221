"""The AcroForm and text-layer readers, and identification, on PDFs built in memory with pypdf and reportlab."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any, cast

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
from reportlab.pdfgen.canvas import Canvas

from fixtures.generate import fill_acroform
from pipeline.document import PdfDocument
from pipeline.errors import UnknownFormError
from pipeline.formspec import A4, Box, FormSpec
from pipeline.identify import identify
from pipeline.models import Severity, Source
from pipeline.readers.acroform import AcroFormReader
from pipeline.readers.textlayer import TextLayerReader
from pipeline.validate import validate
from tests.conftest import FIXTURES

Value = str | bool | None
Edit = Callable[[PdfWriter], None]

NOTICE_VALUES: dict[str, Value] = {
    "patient_efternamn": "Ødegård",
    "patient_fornamn": "Ingrid",
    "patient_personnummer": "19730729-1919",
    "patient_telefon": "070-174 06 45",
    "patient_adress": "Industrigatan 52",
    "patient_postnummer": "368 32",
    "patient_postort": "Alingsås",
    "region": "Region Uppsala",
    "vardenhet": "Rehabenheten Solgården",
    "koordinator_namn": "Łukasz Wiśniewski",
    "koordinator_telefon": "08-465 004 55",
    "koordinator_epost": "lukasz.wisniewski@regionuppsala.example",
    "sjukskriven": "ja",
    "sjukskriven_fran": "2026-03-04",
    "sjukskrivning_omfattning": "75",
    "behov_beskrivning": "Patienten har varit sjukskriven länge.\nEn gradvis återgång bedöms som realistisk.",
    "samtycke": True,
    "samtycke_datum": "2026-10-10",
    "datum": "2026-10-21",
    "namnfortydligande": "Łukasz Wiśniewski",
}


# ------------------------------------------------------------------------------------------------ helpers


@pytest.fixture
def notice(specs: dict[str, FormSpec]) -> FormSpec:
    return specs["fk7429"]


def _blank(spec: FormSpec) -> bytes:
    return spec.blank_path.read_bytes()


def _write(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _edit(data: bytes, *edits: Edit, incremental: bool = False) -> bytes:
    """Apply ``edits`` to a copy of ``data``; with ``incremental`` the changes are appended as a new revision."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(reader, incremental=True) if incremental else PdfWriter(clone_from=reader)
    for edit in edits:
        edit(writer)
    return _write(writer)


def _dict(obj: Any) -> DictionaryObject:
    return cast(DictionaryObject, obj.get_object())


def _top_fields(writer: PdfWriter) -> ArrayObject:
    return cast(ArrayObject, _dict(writer.root_object["/AcroForm"])["/Fields"])


def _field(writer: PdfWriter, name: str) -> DictionaryObject:
    for ref in _top_fields(writer):
        if _dict(ref).get("/T") == name:
            return _dict(ref)
    raise KeyError(name)


def _widgets(node: DictionaryObject) -> list[DictionaryObject]:
    return [_dict(k) for k in cast(ArrayObject, node["/Kids"])] if "/Kids" in node else [node]


def _appearances(widget: DictionaryObject, kind: str) -> DictionaryObject:
    return _dict(_dict(widget["/AP"])[kind])


def _rename_state(widget: DictionaryObject, old: str, new: str) -> None:
    """Rename a widget's on-state in its normal and down appearances, as another tool would have named it."""
    for kind in ("/N", "/D"):
        states = _appearances(widget, kind)
        states[NameObject(new)] = states.pop(old)


def _set_state(name: str, value: str | None, shown: dict[int, str]) -> Edit:
    """Set a button's /V (``None``: remove it) and its widgets' /AS (widget index -> state; others /Off)."""

    def edit(writer: PdfWriter) -> None:
        node = _field(writer, name)
        if value is None:
            node.pop("/V", None)
        else:
            node[NameObject("/V")] = NameObject(value)
        for i, widget in enumerate(_widgets(node)):
            widget[NameObject("/AS")] = NameObject(shown.get(i, "/Off"))

    return edit


def _rename_states(name: str, renames: dict[str, str]) -> Edit:
    def edit(writer: PdfWriter) -> None:
        for widget in _widgets(_field(writer, name)):
            for old, new in renames.items():
                if old in _appearances(widget, "/N"):
                    _rename_state(widget, old, new)

    return edit


def _set_text(name: str, text: str) -> Edit:
    def edit(writer: PdfWriter) -> None:
        _field(writer, name)[NameObject("/V")] = TextStringObject(text)

    return edit


def _rename_field(name: str, new: str) -> Edit:
    def edit(writer: PdfWriter) -> None:
        _field(writer, name)[NameObject("/T")] = TextStringObject(new)

    return edit


def _nest_field(name: str, parent: str, partial: str) -> Edit:
    """Move a top-level field under a new non-terminal field ``parent``: its full name becomes parent.partial."""

    def edit(writer: PdfWriter) -> None:
        fields = _top_fields(writer)
        node = _field(writer, name)
        ref = next(r for r in fields if _dict(r) is node)
        group = DictionaryObject({NameObject("/T"): TextStringObject(parent), NameObject("/Kids"): ArrayObject([ref])})
        group_ref = writer._add_object(group)
        node[NameObject("/T")] = TextStringObject(partial)
        node[NameObject("/Parent")] = group_ref
        fields[fields.index(ref)] = group_ref

    return edit


def _pdf_fields(data: bytes) -> dict[str, Any]:
    return PdfReader(io.BytesIO(data)).get_fields() or {}


def _read(data: bytes, spec: FormSpec) -> dict[str, Value]:
    doc = PdfDocument(data, max_pages=50)
    return {name: raw.value for name, raw in AcroFormReader().read(doc, spec).items()}


def _with_aliases(spec: FormSpec, name: str, *aliases: str) -> FormSpec:
    """A variant of the definition whose field ``name`` also answers to ``aliases`` (validated afresh)."""
    data = spec.model_dump()
    for fs in data["fields"]:
        if fs["name"] == name:
            fs["acroform"] = (*fs["acroform"], *aliases)
    return FormSpec.model_validate(data)


# ------------------------------------------------------------------------------------- AcroForm: values


def test_appearance_streams_and_need_appearances_read_the_same(notice: FormSpec) -> None:
    with_ap = _read(fill_acroform(_blank(notice), notice, NOTICE_VALUES, "appearance"), notice)
    need_ap_pdf = fill_acroform(_blank(notice), notice, NOTICE_VALUES, "need_appearances")
    assert b"/NeedAppearances" in need_ap_pdf
    assert with_ap == _read(need_ap_pdf, notice) == NOTICE_VALUES


def test_empty_form_reads_as_empty(notice: FormSpec) -> None:
    values = _read(_blank(notice), notice)
    assert set(values) == set(NOTICE_VALUES)
    assert values["samtycke"] is False
    assert {v for n, v in values.items() if n != "samtycke"} == {None}


# --------------------------------------------------------------------------------------- AcroForm: ticks


@pytest.mark.parametrize(
    ("on_state", "v", "shown", "expected"),
    [
        ("/Yes", "/Yes", "/Yes", True),
        ("/On", "/On", "/On", True),
        ("/Ja", "/Ja", "/Ja", True),
        ("/Samtycke", "/Samtycke", "/Samtycke", True),
        ("/Yes", "/Off", "/Off", False),
        ("/Ja", None, "/Ja", True),
        ("/Yes", None, "/Yes", True),
        ("/Yes", None, "/Off", False),
    ],
)
def test_checkbox_export_values(notice: FormSpec, on_state: str, v: str | None, shown: str, expected: bool) -> None:
    data = _edit(
        _blank(notice),
        _rename_states("samtycke", {"/Yes": on_state}),
        _set_state("samtycke", v, {0: shown}),
    )
    assert _read(data, notice)["samtycke"] is expected


@pytest.mark.parametrize(
    ("v", "shown", "expected"),
    [
        ("/nej", {1: "/nej"}, "nej"),
        ("/ja", {0: "/ja"}, "ja"),
        (None, {1: "/nej"}, "nej"),
        (None, {}, None),
        ("/Off", {}, None),
    ],
)
def test_radio_group(notice: FormSpec, v: str | None, shown: dict[int, str], expected: str | None) -> None:
    data = _edit(_blank(notice), _set_state("sjukskriven", v, shown))
    assert _read(data, notice)["sjukskriven"] == expected


@pytest.mark.parametrize(
    ("name", "options", "chosen"),
    [("sjukskriven", ("ja", "nej"), 1), ("sjukskrivning_omfattning", ("25", "50", "75", "100"), 2)],
)
def test_radio_group_with_index_exports(notice: FormSpec, name: str, options: tuple[str, ...], chosen: int) -> None:
    renames = {f"/{option}": f"/{i}" for i, option in enumerate(options)}
    data = _edit(_blank(notice), _rename_states(name, renames), _set_state(name, f"/{chosen}", {chosen: f"/{chosen}"}))
    assert _pdf_fields(data)[name]["/V"] == f"/{chosen}"
    assert _read(data, notice)[name] == options[chosen]


# ------------------------------------------------------------------------------ AcroForm: incremental saves


def test_incremental_update_reads_the_last_value(notice: FormSpec) -> None:
    first = fill_acroform(_blank(notice), notice, NOTICE_VALUES, "need_appearances")
    second = _edit(
        first, _set_text("patient_efternamn", "Berg"), _set_state("sjukskriven", "/nej", {1: "/nej"}), incremental=True
    )
    third = _edit(second, _set_text("patient_efternamn", "Lindqvist"), incremental=True)
    assert second.startswith(first) and len(second) > len(first)
    assert third.startswith(second) and len(third) > len(second)
    assert _read(first, notice)["patient_efternamn"] == "Ødegård"
    assert _read(second, notice) | {"patient_efternamn": "Lindqvist"} == _read(third, notice)
    assert _read(third, notice) == NOTICE_VALUES | {"patient_efternamn": "Lindqvist", "sjukskriven": "nej"}


# ------------------------------------------------------------------------------------ AcroForm: other names


def test_field_renamed_by_another_tool_is_matched_through_an_alias(notice: FormSpec) -> None:
    data = _edit(
        fill_acroform(_blank(notice), notice, NOTICE_VALUES, "appearance"),
        _rename_field("patient_efternamn", "Efternamn_pat"),
    )
    assert "patient_efternamn" not in _read(data, notice)
    values = _read(data, _with_aliases(notice, "patient_efternamn", "Efternamn_pat"))
    assert values == NOTICE_VALUES


@pytest.mark.parametrize("alias", ["Patient.Efternamn", "Efternamn"])
def test_hierarchical_field_name_is_matched_by_full_or_partial_alias(notice: FormSpec, alias: str) -> None:
    data = _edit(
        fill_acroform(_blank(notice), notice, NOTICE_VALUES, "appearance"),
        _nest_field("patient_efternamn", "Patient", "Efternamn"),
    )
    assert "Patient.Efternamn" in _pdf_fields(data)
    assert "patient_efternamn" not in _read(data, notice)
    assert _read(data, _with_aliases(notice, "patient_efternamn", alias)) == NOTICE_VALUES


# ------------------------------------------------------------------------------------------ identification


@pytest.mark.parametrize(
    ("path", "form_id", "source"),
    [
        ("fk7429/notice-01-appearance.pdf", "fk7429", Source.ACROFORM),
        ("fk7429/notice-05-need-appearances.pdf", "fk7429", Source.ACROFORM),
        ("ansokan-samordning/application-01-complete.pdf", "ansokan-samordning", Source.ACROFORM),
        ("fk7429/notice-09-flattened.pdf", "fk7429", Source.TEXT),
        ("ansokan-samordning/application-05-interpreter.pdf", "ansokan-samordning", Source.ACROFORM),
    ],
)
def test_identify_fixtures(specs: dict[str, FormSpec], path: str, form_id: str, source: Source) -> None:
    spec, first = identify(PdfDocument((FIXTURES / path).read_bytes(), max_pages=50), specs)
    assert (spec.id, first) == (form_id, source)


def test_identify_rejects_a_plain_text_pdf_with_an_actionable_reason(specs: dict[str, FormSpec]) -> None:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    c.drawString(72, 760, "Faktura 2026-117 från Kontorsvaror AB")
    c.drawString(72, 740, "Att betala: 1 250 kr senast 2026-12-01")
    c.save()
    with pytest.raises(UnknownFormError) as caught:
        identify(PdfDocument(buf.getvalue(), max_pages=50), specs)
    error = caught.value
    assert "not one of the forms" in error.reason
    assert "handläggare" in error.action and error.step == "identify"
    assert "Faktura" not in str(error)


# ------------------------------------------------------------------------------------------- text layer


def test_text_layer_reads_the_flattened_fixture(specs: dict[str, FormSpec]) -> None:
    path = FIXTURES / "fk7429" / "notice-09-flattened.pdf"
    expected = json.loads(path.with_name("notice-09-flattened.expected.json").read_text(encoding="utf-8"))
    spec = specs["fk7429"]
    doc = PdfDocument(path.read_bytes(), max_pages=50)
    assert doc.acroform_fields == {}
    values, problems = validate(spec, TextLayerReader().read(doc, spec))
    assert {name: v.value for name, v in values.items()} == expected["fields"]
    assert problems == []


def _cross(c: Canvas, box: Box) -> None:
    x0, y0, x1, y1 = box
    c.line(x0 + 2, y0 + 2, x1 - 2, y1 - 2)
    c.line(x0 + 2, y1 - 2, x1 - 2, y0 + 2)


def _four_lines(c: Canvas, box: Box) -> None:
    """A box border drawn as four separate strokes, as some PDF printers draw table cells."""
    x0, y0, x1, y1 = box
    for line in ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0)):
        c.line(*line)


def _printed(spec: FormSpec, crosses: Iterable[Box] = (), border: Callable[[Canvas, Box], None] | None = None) -> bytes:
    """The blank "printed to PDF": its boxes drawn again as vector art, ``crosses`` ticked with two lines each,
    and no form left (no /AcroForm, no widgets)."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4)
    for box in (b for fs in spec.fields for b in fs.boxes):
        if border is None:
            c.rect(box[0], box[1], box[2] - box[0], box[3] - box[1])
        else:
            border(c, box)
    for box in crosses:
        _cross(c, box)
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_blank(spec))))
    page = writer.pages[0]
    page.merge_page(PdfReader(buf).pages[0])
    page.pop("/Annots", None)
    writer.root_object.pop("/AcroForm", None)
    return _write(writer)


def _text_read(data: bytes, spec: FormSpec) -> dict[str, Value]:
    doc = PdfDocument(data, max_pages=50)
    assert doc.acroform_fields == {}
    return {name: raw.value for name, raw in TextLayerReader().read(doc, spec).items()}


@pytest.mark.parametrize("border", [None, _four_lines], ids=["rects", "four-lines"])
def test_vector_tick_counts_and_box_border_alone_does_not(
    notice: FormSpec, border: Callable[[Canvas, Box], None] | None
) -> None:
    samtycke = notice.field("samtycke").box
    assert samtycke is not None
    empty = _text_read(_printed(notice, border=border), notice)
    ticked = _text_read(_printed(notice, [samtycke], border=border), notice)
    assert empty["samtycke"] is False
    assert ticked["samtycke"] is True
    for name in ("sjukskriven", "sjukskrivning_omfattning"):
        assert empty[name] is None and ticked[name] is None


def test_two_ticked_options_are_flagged(notice: FormSpec) -> None:
    sjukskriven = notice.field("sjukskriven")
    one = _text_read(_printed(notice, [sjukskriven.options[1].box]), notice)
    assert one["sjukskriven"] == "nej"
    raw = TextLayerReader().read(
        PdfDocument(_printed(notice, [o.box for o in sjukskriven.options]), max_pages=50), notice
    )
    assert raw["sjukskriven"].value == "ja|nej"
    values, problems = validate(notice, raw)
    assert not values["sjukskriven"].accepted
    [problem] = [p for p in problems if p.field == "sjukskriven"]
    assert problem.severity is Severity.INVALID and "flera alternativ" in problem.message
