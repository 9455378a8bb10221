"""Which form is this? By AcroForm field names first, else by the title or form number in the text layer."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipeline.document import PdfDocument
from pipeline.errors import UnknownFormError
from pipeline.formspec import FormSpec
from pipeline.models import Source


def identify(doc: PdfDocument, specs: Mapping[str, FormSpec]) -> tuple[FormSpec, Source]:
    """The form and the reader to trust first (AcroForm when it has values, else the text layer)."""
    spec = _by_acroform(doc, specs)
    if spec is not None:
        return spec, Source.ACROFORM
    spec = _by_text(doc, specs)
    if spec is not None:
        return spec, Source.TEXT
    if not any(doc.words.values()):
        raise UnknownFormError(
            "The PDF has no form fields and no text: it looks like a scan, which this path cannot read yet.",
            action="Send it to a handläggare for manual registration.",
        )
    raise UnknownFormError("The PDF is not one of the forms the pipeline reads.")


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
