"""Splitting a batch scan into documents by the QR code on each page.

A page showing page 1 of a form starts a new document; the form's later pages join it; a page without our QR code
(a doctor's certificate, a letter) is an attachment of the document before it. Pages before the first form page
belong to no document and go to review. The manifest accounts for every page exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel


@dataclass(frozen=True)
class PageId:
    """What one page of the file is, as far as its QR code tells: a form page, or not ours (None form)."""

    number: int  # 1-based page of the file
    form_id: str | None
    form_page: int | None = None


@dataclass
class Split:
    form_id: str
    pages: dict[int, int] = field(default_factory=dict)  # form page -> file page
    attachments: list[int] = field(default_factory=list)


class ManifestPage(BaseModel):
    page: int
    role: Literal["form", "attachment", "unassigned", "repeated"]
    document: int | None = None  # index of the document in the file, 1-based
    form_id: str | None = None
    form_page: int | None = None


def split(pages: list[PageId]) -> tuple[list[Split], list[ManifestPage]]:
    documents: list[Split] = []
    manifest: list[ManifestPage] = []
    for p in pages:
        current = documents[-1] if documents else None
        if p.form_id is not None and p.form_page is not None:
            starts = current is None or p.form_page == 1 or current.form_id != p.form_id
            if starts:
                current = Split(p.form_id)
                documents.append(current)
            assert current is not None
            if p.form_page in current.pages:  # the same form page twice in a row: keep the first, flag the second
                manifest.append(
                    ManifestPage(
                        page=p.number,
                        role="repeated",
                        document=len(documents),
                        form_id=p.form_id,
                        form_page=p.form_page,
                    )
                )
                continue
            current.pages[p.form_page] = p.number
            manifest.append(
                ManifestPage(
                    page=p.number, role="form", document=len(documents), form_id=p.form_id, form_page=p.form_page
                )
            )
        elif current is not None:
            current.attachments.append(p.number)
            manifest.append(ManifestPage(page=p.number, role="attachment", document=len(documents)))
        else:
            manifest.append(ManifestPage(page=p.number, role="unassigned"))
    return documents, manifest
