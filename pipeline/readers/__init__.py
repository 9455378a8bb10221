"""Readers share one contract: given a document and a form definition, return what each field holds.

A reader returns only the fields it could see; an empty field is returned with ``value=None`` (or ``False`` for a
tick box), a field the reader cannot see at all is left out. The conductor asks readers in order of trust and takes,
per field, the first non-empty answer.
"""

from __future__ import annotations

from typing import Protocol

from pipeline.document import PdfDocument
from pipeline.formspec import FormSpec
from pipeline.models import RawField, Source


class Reader(Protocol):
    source: Source

    def read(self, doc: PdfDocument, spec: FormSpec) -> dict[str, RawField]: ...


def merge(answers: list[dict[str, RawField]]) -> dict[str, RawField]:
    """Per field, the first reader (most trusted first) with a non-empty value; else the first that saw it empty."""
    merged: dict[str, RawField] = {}
    for answer in answers:
        for name, raw in answer.items():
            current = merged.get(name)
            if current is None or (_empty(current) and not _empty(raw)):
                merged[name] = raw
    return merged


def _empty(raw: RawField) -> bool:
    return raw.value is None or raw.value is False or raw.value == ""
