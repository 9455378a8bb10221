"""The text layer inside each field's box (pdfplumber), for forms flattened or printed to PDF.

A word belongs to a field when its centre lies in the field's box. A tick box or option counts as ticked when any
glyph lies in it (an X, a check mark, a ZapfDingbats symbol) or any vector mark other than the box's own border
(a flattened appearance stream draws its cross as lines). Digital text is exact when it is there, but a font
without a proper Unicode map can garble it, so its confidence stays just below the AcroForm reader's.
"""

from __future__ import annotations

from typing import Any

from pipeline.document import PdfDocument
from pipeline.formspec import Box, FieldType, FormSpec
from pipeline.models import RawField, Source

CONFIDENCE = 0.97


class TextLayerReader:
    source = Source.TEXT

    def read(self, doc: PdfDocument, spec: FormSpec) -> dict[str, RawField]:
        out: dict[str, RawField] = {}
        for fs in spec.fields:
            words = doc.words.get(fs.page)
            if words is None or fs.type is FieldType.SIGNATURE:
                continue
            value: str | bool | None
            marks = doc.marks.get(fs.page, [])
            if fs.type is FieldType.CHECKBOX:
                assert fs.box is not None
                value = _ticked(words, marks, fs.box)
            elif fs.type is FieldType.CHOICE:
                ticked = [o.value for o in fs.options if _ticked(words, marks, o.box)]
                value = ticked[0] if len(ticked) == 1 else ("|".join(ticked) or None)
            else:
                assert fs.box is not None
                value = _text(_inside(words, fs.box)) or None
            out[fs.name] = RawField(value=value, source=self.source, confidence=CONFIDENCE)
        return out


def _inside(words: list[dict[str, Any]], box: Box) -> list[dict[str, Any]]:
    x0, y0, x1, y1 = box
    return [w for w in words if x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and y0 <= (w["y0_pdf"] + w["y1_pdf"]) / 2 <= y1]


def _ticked(words: list[dict[str, Any]], marks: list[Box], box: Box) -> bool:
    if _inside(words, box):
        return True
    x0, y0, x1, y1 = box
    tol = 1.0
    for m0, n0, m1, n1 in marks:
        within = m0 >= x0 - tol and n0 >= y0 - tol and m1 <= x1 + tol and n1 <= y1 + tol
        if within and not _border(box, (m0, n0, m1, n1)):
            return True
    return False


def _border(box: Box, mark: Box, tol: float = 0.5) -> bool:
    """The box's own border: one rectangle, or one of its sides drawn as a separate line (as some printers do)."""
    x0, y0, x1, y1 = box
    m0, n0, m1, n1 = mark
    whole = max(abs(m0 - x0), abs(n0 - y0), abs(m1 - x1), abs(n1 - y1)) < tol
    side_h = n1 - n0 < tol and min(abs(n0 - y0), abs(n1 - y1)) < tol
    side_v = m1 - m0 < tol and min(abs(m0 - x0), abs(m1 - x1)) < tol
    return whole or side_h or side_v


def _text(words: list[dict[str, Any]]) -> str:
    """Words in reading order: lines from the top, words left to right."""
    lines: list[list[dict[str, Any]]] = []
    for w in sorted(words, key=lambda w: (-w["y1_pdf"], w["x0"])):
        if lines and abs(lines[-1][0]["y1_pdf"] - w["y1_pdf"]) < 3:
            lines[-1].append(w)
        else:
            lines.append([w])
    return "\n".join(" ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"])) for line in lines)
