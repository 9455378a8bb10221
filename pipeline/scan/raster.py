"""Scanned input as page images: image-only PDFs (pypdfium2), multi-page TIFF, JPEG and PNG.

The type is decided by the file's first bytes, never its name. Pixel counts are checked before anything is decoded
or rendered, so a page of 200 x 200 inches or a pixel bomb is refused, not allocated.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal

from PIL import Image

from pipeline.errors import LimitExceededError, NotSupportedError, UnreadablePdfError
from pipeline.limits import TOO_LARGE_ACTION, Limits, short_of_memory

Kind = Literal["pdf", "tiff", "png", "jpeg"]

RENDER_DPI = 200


@cache
def _plain_colours() -> frozenset[int]:
    import pypdfium2.raw as pdfium_c

    return frozenset(
        {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_DEVICERGB, pdfium_c.FPDF_COLORSPACE_ICCBASED}
    )


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
        scanned = _scanned_image(page, limits, index)
        if scanned is not None:
            return scanned
        image: Image.Image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    except pdfium.PdfiumError as exc:
        if short_of_memory(round(width * height * (dpi / 72) ** 2) * 4):
            raise MemoryError(f"page {index + 1} could not be drawn in the memory left") from None
        raise UnreadablePdfError(f"Page {index + 1} of the PDF is damaged and cannot be drawn.") from exc
    image.info["dpi"] = (dpi, dpi)
    return image


def _scanned_image(page: Any, limits: Limits, index: int) -> Image.Image | None:
    """A scanner's page: one image of grey or colour pixels covering the page, and nothing else. That image is
    decoded as stored, at its own resolution (a JPEG in a seventh of the time it takes to draw the page; the aligner
    takes any resolution and any quarter turn). Anything else is drawn: other content, an image smaller than the
    page or mirrored, black-and-white (drawing applies its decode array), a stencil mask."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    image = objects[0]
    meta = image.get_metadata()
    if meta.bits_per_pixel < 8 or meta.colorspace not in _plain_colours():
        return None
    matrix = image.get_matrix()
    left, bottom, right, top = image.get_bounds()
    page_width, page_height = page.get_size()
    mirrored = matrix.a * matrix.d - matrix.b * matrix.c <= 0
    if mirrored or (right - left) * (top - bottom) < 0.9 * page_width * page_height:
        return None
    width, height = image.get_px_size()
    if width * height > limits.page_pixels:
        raise LimitExceededError(
            f"Page {index + 1} of the PDF is a scan of {width} x {height} pixels; a page this large cannot be read "
            "safely.",
            action=TOO_LARGE_ACTION,
        )
    try:
        decoded: Image.Image = image.get_bitmap(render=False).to_pil().convert("L")
    except pdfium.PdfiumError:
        if short_of_memory(width * height * 4):
            raise MemoryError(f"page {index + 1} could not be decoded in the memory left") from None
        raise
    inches = max(right - left, top - bottom) / 72
    dpi = round(max(decoded.size) / inches)
    decoded.info["dpi"] = (dpi, dpi)
    return decoded
