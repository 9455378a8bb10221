"""Limits on what one untrusted document may cost, and the libraries' own limits set to match.

``Limits`` travels with each job into the worker; :func:`apply` sets pypdf's and Pillow's limits there before
anything is parsed. pypdf's limits are named settings of ``pypdf.Configuration``: :func:`check_pypdf` runs at
start-up and refuses to start when the installed pypdf lacks one of them (an upgrade that renamed a setting would
otherwise switch that protection off without a word).

:func:`check_pdf_objects` walks every object reachable from a PDF's trailer, without recursion, before pdfminer or
PDFium see the file: it decodes each stream that is not an image through pypdf (so a decompression bomb stops at
``stream_bytes``), checks each image's declared size against ``page_pixels`` without decoding it, and bounds the
number of objects and how deeply arrays and dictionaries nest.
"""

from __future__ import annotations

import dataclasses
import mmap
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

import pypdf
from PIL import Image
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from pipeline.errors import ConfigError, LimitExceededError, UnreadablePdfError

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one document may hold. Defaults fit the two forms with a wide margin (see ``pipeline/config.py``)."""

    page_pixels: int = 60_000_000  # one page image; A4 at 600 dpi is about 35 million
    tiff_frames: int = 50
    stream_bytes: int = 16 * MIB  # one decoded PDF stream that is not an image (a form's largest is a font)
    document_stream_bytes: int = 64 * MIB  # all of them together
    pdf_objects: int = 20_000  # a filled form has a few hundred
    nesting: int = 32  # arrays and dictionaries inside each other


def pypdf_settings(limits: Limits) -> dict[str, int]:
    """pypdf's own limits, by their ``pypdf.Configuration`` names, lowered to what a form needs."""
    stream = limits.stream_bytes
    return {
        "maximum_declared_stream_length": stream,
        "array_based_stream_maximum_output_length": stream,
        "zlib_maximum_output_length": stream,
        "lzw_maximum_output_length": stream,
        "run_length_maximum_output_length": stream,
        "jbig2_maximum_output_length": stream,
        "brotli_maximum_output_length": stream,
        "image_maximum_buffer_size": stream,
        "stream_decoding_work_maximum_length": 4 * stream,
        "stream_filters_maximum_length": 4,
        "array_maximum_element_count": 50_000,
        "dictionary_maximum_element_count": 10_000,
        "page_tree_maximum_entries": 1_000,
        "page_tree_maximum_depth": 16,
        "page_tree_maximum_page_entries": 20_000,
        "form_fields_maximum_entries": 2_000,
        "form_fields_maximum_depth": 16,
        "outline_maximum_entries": 1_000,
        "outline_maximum_depth": 16,
        "named_destinations_maximum_entries": 1_000,
        "named_destinations_maximum_depth": 16,
        "xmp_maximum_input_length": MIB,
        "xmp_maximum_element_count": 10_000,
    }


def check_pypdf() -> None:
    """Start-up: every limit we set must still exist in the installed pypdf."""
    configuration = getattr(pypdf, "Configuration", None)
    known = {f.name for f in dataclasses.fields(configuration)} if configuration is not None else set()
    missing = sorted(set(pypdf_settings(Limits())) - known)
    if missing:
        raise ConfigError(
            f"The installed pypdf {pypdf.__version__} has no limit setting {', '.join(missing)}; "
            "without it a hostile PDF could use unbounded memory.",
            action="Install the pypdf version in pyproject.toml, or map the renamed settings in pipeline/limits.py.",
        )


def apply(limits: Limits) -> None:
    """Set pypdf's and Pillow's limits in this process (a worker, before it parses a document)."""
    check_pypdf()
    pypdf.overwrite_configuration(None, **pypdf_settings(limits))
    Image.MAX_IMAGE_PIXELS = limits.page_pixels
    # Pillow only warns between one and two times MAX_IMAGE_PIXELS; a warning is not a stop.
    warnings.simplefilter("error", Image.DecompressionBombWarning)


BOMB = (
    "The PDF holds compressed data that expands to more than {mib} MB; a form never does (it may be a "
    "decompression bomb)."
)
BOMB_ACTION = "Do not open the file. Ask the sender to send the form again, or print and scan it."
TOO_LARGE_ACTION = (
    "Ask the sender for the form at A4 size (a scan at 200 to 300 dpi), or raise the limit if it is genuine."
)


def check_pdf_objects(pdf: pypdf.PdfReader, limits: Limits) -> None:
    """Walk every object reachable from the trailer once; raise LimitExceededError on what a form never holds."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Any, int]] = [(pdf.trailer, 0)]
    decoded = 0
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > limits.pdf_objects:
                raise LimitExceededError(
                    f"The PDF is made of more than {limits.pdf_objects} objects; a form has a few hundred.",
                    action=BOMB_ACTION,
                )
            obj = obj.get_object()
            depth = 0
        if depth > limits.nesting:
            raise LimitExceededError(
                f"The PDF's data is nested more than {limits.nesting} levels deep; a form never is.",
                action=BOMB_ACTION,
            )
        if isinstance(obj, StreamObject):
            decoded += _check_stream(obj, limits)
            if decoded > limits.document_stream_bytes:
                raise LimitExceededError(BOMB.format(mib=limits.document_stream_bytes // MIB), action=BOMB_ACTION)
        if isinstance(obj, DictionaryObject):  # a stream is a dictionary too
            stack.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend((v, depth + 1) for v in obj)


def _check_stream(stream: StreamObject, limits: Limits) -> int:
    """An image's declared size is checked, not decoded (PDFium decodes it when rendering); any other stream is
    decoded under pypdf's limits. Returns the bytes decoded."""
    if stream.get("/Subtype") == "/Image":
        width, height = stream.get("/Width", 0), stream.get("/Height", 0)
        if not isinstance(width, int) or not isinstance(height, int):
            raise UnreadablePdfError("An image in the PDF is damaged (its size is not a number).")
        if width * height > limits.page_pixels:
            raise LimitExceededError(
                f"An image in the PDF is {width} x {height} pixels; at most {limits.page_pixels} pixels are allowed.",
                action=TOO_LARGE_ACTION,
            )
        return 0
    try:
        return len(stream.get_data())
    except LimitReachedError as exc:
        raise LimitExceededError(BOMB.format(mib=limits.stream_bytes // MIB), action=BOMB_ACTION) from exc
    except (PyPdfError, ValueError, TypeError, KeyError, NotImplementedError, zlib.error):
        return 0  # a damaged stream is the readers' to judge; only its size is ours


def short_of_memory(size: int) -> bool:
    """Whether ``size`` bytes of address space can be had now. PDFium and zxing report an allocation that failed (a
    worker near its memory limit) as a damaged page or as no QR code; asking for the space ourselves tells which it
    was, so the mailroom reads "more memory than allowed", not "damaged" or "not one of our forms". An anonymous
    mapping is reserved and returned untouched: no page of it is written, so the probe costs neither time nor RSS."""
    try:
        mmap.mmap(-1, size).close()
    except (OSError, MemoryError):
        return True
    return False
