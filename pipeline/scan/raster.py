"""Scanned input as page images: image-only PDFs (rendered with pypdfium2), multi-page TIFF, JPEG and PNG.

The type is decided by the file's first bytes, never its name. Pixel counts are checked before anything is decoded
or rendered, so a page of 200 x 200 inches or a pixel bomb is refused, not allocated.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any, Literal

from PIL import Image

from pipeline.errors import LimitExceededError, NotSupportedError, UnreadablePdfError
from pipeline.limits import TOO_LARGE_ACTION, Limits

Kind = Literal["pdf", "tiff", "png", "jpeg"]

RENDER_DPI = 200


def sniff(data: bytes) -> Kind:
    head = data[:16]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    raise NotSupportedError(
        _what_it_is(data) + " The pipeline reads PDFs, scanned images (TIFF, PNG or JPEG) and e-mail messages."
    )


# What a file that is not ours is, by its first bytes, so the reason says more than "not supported".
_KNOWN: tuple[tuple[tuple[bytes, ...], str], ...] = (
    ((b"MZ",), "The file is a Windows program, not a document."),
    ((b"\x7fELF",), "The file is a program (ELF), not a document."),
    ((b"#!",), "The file is a script, not a document."),
    ((b"PK\x03\x04", b"PK\x05\x06"), "The file is a ZIP archive (or an Office document), not a PDF."),
    ((b"\xd0\xcf\x11\xe0",), "The file is an old Office document, not a PDF."),
    ((b"GIF8",), "The file is a GIF image, which is not a scan format the pipeline reads."),
    ((b"BM",), "The file is a BMP image, which is not a scan format the pipeline reads."),
)


def _what_it_is(data: bytes) -> str:
    if not data:
        return "The file is empty (0 bytes): it was probably not copied completely."
    for magics, said in _KNOWN:
        if data.startswith(magics):
            return said
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "The file is a web page (HTML), not a PDF, even if its name ends in .pdf."
    return "The file is neither a PDF nor a scanned image."


_PIL_FORMAT = {"tiff": "TIFF", "png": "PNG", "jpeg": "JPEG"}


def image_pages(data: bytes, kind: Kind, max_pages: int, limits: Limits) -> Iterator[Image.Image]:
    """Frames of a TIFF, or the one page of a PNG or JPEG, as decoded images. Pillow opens only the format the
    first bytes named (no other decoder of its many sees the bytes), and the size is checked before decoding."""
    Image.MAX_IMAGE_PIXELS = limits.page_pixels  # Pillow's own check at open (limits.apply makes its warning an error)
    try:
        with Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[kind]]) as img:
            yield from _frames(img, max_pages, limits)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceededError(
            f"The image has more than {limits.page_pixels} pixels; a scanned form page has far fewer.",
            action=TOO_LARGE_ACTION,
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, TypeError, KeyError, IndexError) as exc:
        # Pillow's decoders raise all of these on damaged files (a TIFF without its width is a TypeError).
        raise UnreadablePdfError("The image is damaged and cannot be read.") from exc


def _frames(img: Image.Image, max_pages: int, limits: Limits) -> Iterator[Image.Image]:
    frames = getattr(img, "n_frames", 1)
    if frames > limits.tiff_frames:
        raise LimitExceededError(
            f"The image has {frames} pages (frames); at most {limits.tiff_frames} are allowed.",
            action="Scan each application into a file of its own, or in batches of fewer pages.",
        )
    if frames > max_pages:
        raise LimitExceededError(f"The image has {frames} pages; at most {max_pages} are allowed.")
    for index in range(frames):
        img.seek(index)
        if img.width == 0 or img.height == 0:
            raise UnreadablePdfError(f"Page {index + 1} of the image is empty (0 pixels wide or high).")
        if img.width * img.height > limits.page_pixels:
            raise LimitExceededError(
                f"Page {index + 1} of the image is {img.width} x {img.height} pixels; "
                f"at most {limits.page_pixels} pixels are allowed.",
                action=TOO_LARGE_ACTION,
            )
        page = img.copy()
        page.info["dpi"] = img.info.get("dpi", (200, 200))
        yield page


def pdf_pages(data: bytes, max_pages: int, limits: Limits, dpi: int = RENDER_DPI) -> Iterator[Image.Image]:
    """Render an image-only PDF page by page (greyscale, at ``dpi``); each page's size is checked first."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError("The PDF cannot be opened for rendering.") from exc
    try:
        if len(pdf) > max_pages:
            raise LimitExceededError(f"The PDF has {len(pdf)} pages; at most {max_pages} are allowed.")
        for index in range(len(pdf)):
            yield _render(pdf, index, limits, dpi)
    finally:
        pdf.close()


def _render(pdf: Any, index: int, limits: Limits, dpi: int) -> Image.Image:
    import pypdfium2 as pdfium

    try:
        page = pdf[index]
        width, height = page.get_size()
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError(f"Page {index + 1} of the PDF is damaged and cannot be drawn.") from exc
    if width <= 0 or height <= 0:
        raise UnreadablePdfError(f"Page {index + 1} of the PDF has no size.")
    if width * height * (dpi / 72) ** 2 > limits.page_pixels:
        raise LimitExceededError(
            f"Page {index + 1} of the PDF is {width / 72 * 2.54:.0f} x {height / 72 * 2.54:.0f} cm; "
            "a form page is A4 (21 x 29.7 cm), and a page this large cannot be read safely.",
            action=TOO_LARGE_ACTION,
        )
    try:
        image: Image.Image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError(f"Page {index + 1} of the PDF is damaged and cannot be drawn.") from exc
    image.info["dpi"] = (dpi, dpi)
    return image
