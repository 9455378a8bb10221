"""Which form is this? By AcroForm field names first, else by the title or form number in the text layer."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipeline.document import PdfDocument
from pipeline.errors import UnknownFormError
from pipeline.formspec import FormSpec
from pipeline.models import Source


def identify_digital(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> tuple[FormSpec, Source] | None:
    """The form and the reader to trust first (AcroForm, else the text layer); None when neither tells, as for a
    scan: the page images are then identified by their QR code."""
    spec = _by_acroform(doc, specs)
    if spec is not None:
        return spec, Source.ACROFORM
    spec = _by_text(doc, specs)
    if spec is not None:
        return spec, Source.TEXT
    return None


def identify(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> tuple[FormSpec, Source]:
    found = identify_digital(doc, specs)
    if found is None:
        raise UnknownFormError(NOT_OURS)
    return found


NOT_OURS = "The PDF is not one of the forms the pipeline reads."


def _by_acroform(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> FormSpec | None:
    names = {n.rsplit(".", 1)[-1] for n in doc.acroform_fields} | set(doc.acroform_fields)
    if not names:
        return None
    best, best_share = None, 0.0
    for spec in specs.values():
        mapped = [f for f in spec.fields if f.acroform]
        share = sum(1 for f in mapped if names.intersection(f.acroform)) / len(mapped)
        if share >= spec.identify.acroform_min_share and share > best_share:
            best, best_share = spec, share
    return best


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold()


def _by_text(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> FormSpec | None:
    first_page = _fold(" ".join(w["text"] for w in doc.words.get(1, [])))
    for spec in specs.values():
        if any(_fold(t) in first_page for t in spec.identify.title_text):
            return spec
    return None
