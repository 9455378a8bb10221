"""Splitting a batch scan by the QR code on each page: every page accounted for exactly once."""

from __future__ import annotations

from pipeline.scan.batch import PageId, split

A = "ansokan-samordning"


def _ids(*pages: tuple[str | None, int | None]) -> list[PageId]:
    return [PageId(n, form, page) for n, (form, page) in enumerate(pages, start=1)]


def test_applications_with_attachments_and_a_stray_page_before_the_first() -> None:
    pages = _ids((None, None), (A, 1), (A, 2), (None, None), (A, 1), (A, 2), ("fk7429", 1), (None, None), (None, None))
    documents, manifest = split(pages)
    assert [(d.form_id, d.pages, d.attachments) for d in documents] == [
        (A, {1: 2, 2: 3}, [4]),
        (A, {1: 5, 2: 6}, []),
        ("fk7429", {1: 7}, [8, 9]),
    ]
    assert [m.page for m in manifest] == list(range(1, 10))
    assert [m.role for m in manifest] == [
        "unassigned",
        "form",
        "form",
        "attachment",
        "form",
        "form",
        "form",
        "attachment",
        "attachment",
    ]
    assert [m.document for m in manifest] == [None, 1, 1, 1, 2, 2, 3, 3, 3]


def test_a_page_scanned_twice_is_flagged_not_read_twice() -> None:
    documents, manifest = split(_ids((A, 1), (A, 2), (A, 2)))
    assert len(documents) == 1 and documents[0].pages == {1: 1, 2: 2}
    assert manifest[2].role == "repeated"


def test_a_form_without_its_first_page_still_becomes_a_document() -> None:
    documents, _ = split(
        _ids(
            (A, 2),
        )
    )
    assert documents[0].pages == {2: 1}


def test_no_form_page_gives_no_document() -> None:
    documents, manifest = split(_ids((None, None), (None, None)))
    assert documents == [] and {m.role for m in manifest} == {"unassigned"}
