"""Scanned input as page images: image-only PDFs (rendered with pypdfium2), multi-page TIFF, JPEG and PNG.

The type is decided by the file's first bytes, never its name. Pixel counts are checked before anything is decoded
or rendered, so a page of 200 x 200 inches or a pixel bomb is refused, not allocated.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Literal

from PIL import Image

from pipeline.errors import LimitExceededError, NotSupportedError, UnreadablePdfError

Kind = Literal["pdf", "tiff", "png", "jpeg"]

# Pixels of one page at most (A4 at 600 dpi is about 35 million).
MAX_PIXELS = 60_000_000
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
    raise NotSupportedError("The file is neither a PDF nor a scanned image (TIFF, PNG or JPEG), nor an e-mail message.")


def image_pages(data: bytes, max_pages: int) -> Iterator[Image.Image]:
    """Frames of a TIFF, or the one page of a PNG or JPEG, as decoded images."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            frames = getattr(img, "n_frames", 1)
            if frames > max_pages:
                raise LimitExceededError(f"The image has {frames} pages; at most {max_pages} are allowed.")
            for index in range(frames):
                img.seek(index)
                if img.width * img.height > MAX_PIXELS or img.width == 0 or img.height == 0:
                    raise LimitExceededError("A page of the image is larger than allowed (or empty).")
                page = img.copy()
                page.info["dpi"] = img.info.get("dpi", (200, 200))
                yield page
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LimitExceededError("The image is larger than allowed.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadablePdfError("The image is damaged and cannot be read.") from exc


def pdf_pages(data: bytes, max_pages: int, dpi: int = RENDER_DPI) -> Iterator[Image.Image]:
    """Render an image-only PDF page by page (greyscale, at ``dpi``)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError("The PDF cannot be opened for rendering.") from exc
    try:
        if len(pdf) > max_pages:
            raise LimitExceededError(f"The PDF has {len(pdf)} pages; at most {max_pages} are allowed.")
        for index in range(len(pdf)):
            page = pdf[index]
            width, height = page.get_size()
            if width * height * (dpi / 72) ** 2 > MAX_PIXELS:
                raise LimitExceededError("A page of the PDF is larger than allowed.")
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            image.info["dpi"] = (dpi, dpi)
            yield image
    finally:
        pdf.close()
