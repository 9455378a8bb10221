"""One input document held in memory: the bytes are read once, and each library opens them at most once.

Library errors are translated here into :mod:`pipeline.errors` with a reason a mailroom person can act on; the
library's own message is chained, never put into the reason (it may quote document content).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import pypdf
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError
from pypdf.generic import DictionaryObject, NumberObject

from pipeline.errors import DocumentError, EncryptedPdfError, LimitExceededError, NotSupportedError, UnreadablePdfError
from pipeline.limits import BOMB_ACTION, Limits, check_pdf_objects

PDF_MAGIC = b"%PDF-"


MAX_FIELD_DEPTH = 8
MAX_FIELDS = 2000


def _walk_fields(fields: Any, prefix: str, out: dict[str, DictionaryObject], depth: int) -> None:
    """Terminal fields by qualified name. A kid with a /T is a child field; kids without one are its widgets."""
    if depth > MAX_FIELD_DEPTH or len(out) > MAX_FIELDS:
        raise UnreadablePdfError("The PDF's form fields are nested too deeply or are too many.")
    for ref in fields.get_object() if fields is not None else []:
        field = ref.get_object()
        if not isinstance(field, DictionaryObject):
            continue
        name = str(field.get("/T", ""))
        qualified = f"{prefix}.{name}" if prefix and name else name or prefix
        kids = [k.get_object() for k in field.get("/Kids", [])]
        if any(isinstance(k, DictionaryObject) and "/T" in k for k in kids):
            _walk_fields(field["/Kids"], qualified, out, depth + 1)
        elif qualified:
            out.setdefault(qualified, field)


def _page_count(pdf: pypdf.PdfReader) -> int:
    """The page tree's own /Count when it is a plain number (cheap); else pypdf walks the tree. Readers never
    look past this many pages, so a /Count that lies low only hides pages, it cannot make work unbounded."""
    tree = pdf.root_object["/Pages"].get_object()
    count = tree.get("/Count") if isinstance(tree, DictionaryObject) else None
    return int(count) if isinstance(count, NumberObject) and int(count) > 0 else len(pdf.pages)


@contextmanager
def _translated(damaged: str) -> Iterator[None]:
    """pypdf's errors as ours: its limits and Python's recursion limit become LimitExceededError."""
    try:
        yield
    except DocumentError:
        raise
    except RecursionError as exc:
        raise LimitExceededError(
            "The PDF's data is nested too deeply to read safely; a form never is.", action=BOMB_ACTION
        ) from exc
    except LimitReachedError as exc:
        raise LimitExceededError(
            "The PDF declares parts far larger than a form's (it is damaged, or built to exhaust memory).",
            action=BOMB_ACTION,
        ) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnreadablePdfError(damaged) from exc


class PdfDocument:
    def __init__(self, data: bytes, *, max_pages: int, limits: Limits | None = None) -> None:
        if PDF_MAGIC not in data[:1024]:
            raise NotSupportedError("The file is not a PDF.")
        if b"%%EOF" not in data[-2048:]:
            raise UnreadablePdfError("The PDF ends early: the file seems to have been cut off while it was copied.")
        self.data = data
        self.limits = limits or Limits()
        with _translated("The PDF is damaged and cannot be opened."):
            self.pdf = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if self.pdf.is_encrypted:
                self._decrypt()
            self.page_count = _page_count(self.pdf)
        if self.page_count == 0:
            raise UnreadablePdfError("The PDF has no pages.")
        if self.page_count > max_pages:
            raise LimitExceededError(f"The PDF has {self.page_count} pages; at most {max_pages} are allowed.")

    def _decrypt(self) -> None:
        # An owner password alone (printing/copying restrictions) opens with the empty user password.
        try:
            ok = self.pdf.decrypt("")
        except (FileNotDecryptedError, NotImplementedError) as exc:
            raise EncryptedPdfError("The PDF is protected with a password.") from exc
        if not ok:
            raise EncryptedPdfError("The PDF is protected with a password.")

    @cached_property
    def acroform_fields(self) -> dict[str, DictionaryObject]:
        """Fully qualified AcroForm field name -> the terminal field's dictionary (empty for a flattened or scanned
        PDF). Walks ``/AcroForm /Fields`` itself instead of pypdf's ``get_fields``, which also parses every
        appearance stream and costs several times more on a filled form."""
        try:
            acroform = self.pdf.root_object.get("/AcroForm")
            acroform = acroform.get_object() if acroform is not None else None
            if not isinstance(acroform, DictionaryObject):
                return {}
            out: dict[str, DictionaryObject] = {}
            _walk_fields(acroform.get("/Fields"), "", out, depth=0)
            return out
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise UnreadablePdfError("The PDF's form fields are damaged.") from exc

    def check_objects(self) -> None:
        """Every object within the limits (decoded streams, image sizes, nesting), before pdfminer or PDFium see
        the file. The AcroForm reader alone does not need it: pypdf's own limits hold there, and it is the fast
        path."""
        if not self._checked:
            with _translated("The PDF is damaged and cannot be opened."):
                check_pdf_objects(self.pdf, self.limits)
            self._checked = True

    _checked = False

    @cached_property
    def plumber(self) -> Any:
        """pdfplumber over the same bytes, opened only when the text layer is needed (it is the slow reader)."""
        import pdfplumber

        self.check_objects()

        try:
            return pdfplumber.open(io.BytesIO(self.data), password="")
        except DocumentError:
            raise
        except Exception as exc:  # pdfminer raises many unrelated types for damaged files
            raise UnreadablePdfError("The PDF's text cannot be read.") from exc

    @cached_property
    def words(self) -> dict[int, list[dict[str, Any]]]:
        """Words of every page, 1-based page -> pdfplumber words with PDF (bottom-left) coordinates added."""
        out: dict[int, list[dict[str, Any]]] = {}
        try:
            for number, page in enumerate(self.plumber.pages[: self.page_count], start=1):
                words = page.extract_words(keep_blank_chars=False, x_tolerance=1.5, y_tolerance=2)
                for w in words:
                    w["y0_pdf"] = float(page.height) - float(w["bottom"])
                    w["y1_pdf"] = float(page.height) - float(w["top"])
                out[number] = words
        except DocumentError:
            raise
        except Exception as exc:
            raise UnreadablePdfError("The PDF's text cannot be read.") from exc
        return out

    @cached_property
    def marks(self) -> dict[int, list[tuple[float, float, float, float]]]:
        """Bounding boxes (PDF coordinates) of the vector marks on each page: lines, curves and rectangles. A tick
        drawn by a form filler's appearance stream is vector art, not a glyph."""
        out: dict[int, list[tuple[float, float, float, float]]] = {}
        try:
            for number, page in enumerate(self.plumber.pages[: self.page_count], start=1):
                h = float(page.height)
                out[number] = [
                    (float(o["x0"]), h - float(o["bottom"]), float(o["x1"]), h - float(o["top"]))
                    for o in (*page.lines, *page.curves, *page.rects)
                ]
        except DocumentError:
            raise
        except Exception as exc:
            raise UnreadablePdfError("The PDF's drawings cannot be read.") from exc
        return out

    def close(self) -> None:
        if "plumber" in self.__dict__:
            # pdfplumber walks the pages again to close them; on a damaged file that fails the way reading did, and
            # must not hide the reason the file was refused (found by the fuzz run).
            with contextlib.suppress(Exception):
                self.plumber.close()
