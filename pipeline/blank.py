"""Generate a form's blank PDF from its definition: printable, alignable, and fillable.

Every page carries four registration marks and a QR code (form id, version, page) so a scan can be identified and
aligned; every field except the signature gets an AcroForm widget named as in the definition, so the same file can
be filled on screen or printed for paper. Output is byte-for-byte reproducible (reportlab's invariant mode), which
lets a test check that the committed blanks are current.
"""

from __future__ import annotations

import io

import segno
from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from pipeline.formspec import A4, FieldSpec, FieldType, FormSpec

_STYLES = {
    "title": ("Helvetica-Bold", 14.0),
    "heading": ("Helvetica-Bold", 10.5),
    "body": ("Helvetica", 9.0),
    "small": ("Helvetica", 7.5),
}
_LABEL = ("Helvetica", 7.5)
_TICK_LABEL = ("Helvetica", 8.5)
_INK = colors.black
_BOX = colors.Color(0.25, 0.25, 0.25)
_HINT = colors.Color(0.4, 0.4, 0.4)


def build_blank(spec: FormSpec) -> bytes:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"{spec.form.number} {spec.form.title}".strip())
    c.setAuthor("Försäkringskassan")
    c.setSubject(f"{spec.form.id} version {spec.form.version}")
    c.setCreator("pipeline forms build")
    for page in range(1, spec.form.pages + 1):
        _furniture(c, spec, page)
        for text in (t for t in spec.texts if t.page == page):
            _static_text(c, text.text, text.at, text.style, text.width)
        for field in (f for f in spec.fields if f.page == page):
            _field(c, field)
        c.showPage()
    c.save()
    return buf.getvalue()


def _furniture(c: Canvas, spec: FormSpec, page: int) -> None:
    """Registration marks in the corners and the QR code the scan path identifies and aligns the page by."""
    half = spec.layout.mark_size / 2
    c.setFillColor(_INK)
    for x, y in spec.layout.marks:
        c.rect(x - half, y - half, 2 * half, 2 * half, stroke=0, fill=1)
    qr = segno.make(spec.qr_payload(page), error="m", micro=False)
    matrix = list(qr.matrix_iter(border=0))
    x0, y0, x1, y1 = spec.layout.qr_box
    size = min(x1 - x0, y1 - y0)
    module = size / len(matrix)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                path.rect(x0 + col * module, y1 - (r + 1) * module, module, module)
    c.drawPath(path, stroke=0, fill=1)
    c.setFont(*_LABEL)
    c.drawRightString(x1, y0 - 9, f"{spec.form.id} {spec.form.version} s. {page}/{spec.form.pages}")


def _static_text(c: Canvas, text: str, at: tuple[float, float], style: str, width: float) -> None:
    font, size = _STYLES[style]
    c.setFillColor(_INK)
    c.setFont(font, size)
    x, y = at
    for line in simpleSplit(text, font, size, width):
        c.drawString(x, y, line)
        y -= size * 1.3


def _field(c: Canvas, field: FieldSpec) -> None:
    c.setStrokeColor(_BOX)
    c.setLineWidth(0.8)
    if field.type is FieldType.CHECKBOX:
        assert field.box is not None
        _tick_box(c, field.box, field.label)
        c.acroForm.checkbox(name=field.acroform[0], tooltip=field.label, fieldFlags="", **_tick_widget(field.box))
        return
    if field.type is FieldType.CHOICE:
        first = field.options[0].box
        _label(c, field, first[0], first[3] + 4)
        for option in field.options:
            _tick_box(c, option.box, option.label)
            c.acroForm.radio(
                name=field.acroform[0],
                value=option.value,
                selected=False,
                tooltip=option.label,
                fieldFlags="noToggleToOff radio",
                **_tick_widget(option.box),
            )
        return
    assert field.box is not None
    x0, y0, x1, y1 = field.box
    c.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)
    _label(c, field, x0, y1 + 3)
    if field.type is FieldType.SIGNATURE:
        return
    if field.comb:
        c.setLineWidth(0.4)
        step = (x1 - x0) / field.comb
        for i in range(1, field.comb):
            c.line(x0 + i * step, y0, x0 + i * step, y0 + (y1 - y0) * 0.4)
    multiline = field.type is FieldType.FREETEXT
    flags = ["multiline"] if multiline else []
    if field.comb:
        flags.append("comb")
    c.acroForm.textfield(
        name=field.acroform[0],
        tooltip=field.label,
        x=x0,
        y=y0,
        width=x1 - x0,
        height=y1 - y0,
        borderWidth=0,
        fillColor=colors.transparent,
        borderColor=colors.transparent,
        textColor=_INK,
        fontName="Helvetica",
        fontSize=0 if multiline else 10,
        fieldFlags=" ".join(flags),
        maxlen=field.comb or field.max_length or (2000 if multiline else 200),
    )


def _label(c: Canvas, field: FieldSpec, x: float, y: float) -> None:
    c.setFillColor(_INK)
    c.setFont(*_LABEL)
    c.drawString(x, y, field.label)
    if field.hint:
        c.setFillColor(_HINT)
        c.drawString(x + c.stringWidth(field.label + "  ", *_LABEL), y, field.hint)
        c.setFillColor(_INK)


def _tick_box(c: Canvas, box: tuple[float, float, float, float], label: str) -> None:
    x0, y0, x1, y1 = box
    c.rect(x0, y0, x1 - x0, y1 - y0, stroke=1, fill=0)
    c.setFillColor(_INK)
    c.setFont(*_TICK_LABEL)
    c.drawString(x1 + 5, y0 + 2, label)


def _tick_widget(box: tuple[float, float, float, float]) -> dict[str, object]:
    x0, y0, x1, _ = box
    return {
        "x": x0,
        "y": y0,
        "size": x1 - x0,
        "buttonStyle": "cross",
        "shape": "square",
        "borderWidth": 0,
        "fillColor": colors.transparent,
        "borderColor": colors.transparent,
        "textColor": _INK,
    }
