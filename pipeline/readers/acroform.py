"""AcroForm values with pypdf: the most trusted reader, for forms filled on screen.

The value is taken from ``/V`` (what was typed), never from the appearance stream, so a form filled with
``NeedAppearances`` and no appearances reads the same as one with them. pypdf resolves incremental updates to the
last revision, so the last value written wins.
"""

from __future__ import annotations

from typing import Any

from pypdf.generic import NameObject

from pipeline.document import PdfDocument
from pipeline.formspec import FieldSpec, FieldType, FormSpec
from pipeline.models import RawField, Source

OFF = {"", "off", "no", "false", "0", "nej"}


class AcroFormReader:
    source = Source.ACROFORM

    def read(self, doc: PdfDocument, spec: FormSpec) -> dict[str, RawField]:
        out: dict[str, RawField] = {}
        for qualified, field in doc.acroform_fields.items():
            fs = spec.by_acroform.get(qualified) or spec.by_acroform.get(qualified.rsplit(".", 1)[-1])
            if fs is None or fs.name in out:
                continue
            out[fs.name] = RawField(value=_value(fs, field), source=self.source, confidence=1.0)
        return out


def _value(fs: FieldSpec, field: dict[str, Any]) -> str | bool | None:
    raw = field.get("/V")
    if fs.type is FieldType.CHECKBOX:
        state = _state(raw) if raw is not None else _kid_state(field)
        return state is not None and state.lower() not in OFF
    if fs.type is FieldType.CHOICE:
        state = _state(raw) if raw is not None else _kid_state(field)
        return None if state is None or state.lower() in {"", "off"} else _option(fs, state, field)
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text if text.strip() else None


def _state(raw: Any) -> str:
    text = str(raw)
    return text[1:] if isinstance(raw, NameObject) or text.startswith("/") else text


def _kid_state(field: dict[str, Any]) -> str | None:
    """Some tools set only the widgets' /AS: the state of the first widget that is not off. A lone checkbox is its
    own widget, and pypdf's field dict leaves its /AS out, so that is read from the field's own object."""
    ref = getattr(field, "indirect_reference", None)
    widgets = [kid.get_object() for kid in field.get("/Kids", [])] or [ref.get_object() if ref else field]
    for widget in widgets:
        state = widget.get("/AS")
        if state is not None and _state(state).lower() != "off":
            return _state(state)
    return None


def _widget_states(field: dict[str, Any]) -> list[str]:
    """The on-states of a button's widgets, in widget order (the keys of each widget's normal appearance)."""
    widgets = [k.get_object() for k in field.get("/Kids", [])] or [field]
    states: list[str] = []
    for widget in widgets:
        normal = widget.get("/AP", {}).get("/N", {})
        states += [str(k) for k in getattr(normal, "keys", list)() if str(k) != "/Off"]
    return states


def _option(fs: FieldSpec, state: str, field: dict[str, Any]) -> str:
    """Map an export value to the option's value: by value, by label, or by widget order (tools that export 0, 1…)."""
    wanted = state.casefold()
    for option in fs.options:
        if wanted in {option.value.casefold(), option.label.casefold()}:
            return option.value
    states = [_state(s) for s in _widget_states(field)]
    states = [s for s in states if s.lower() != "off"]
    if state.isdigit() and states == [str(i) for i in range(len(states))] and int(state) < len(fs.options):
        return fs.options[int(state)].value
    return state
