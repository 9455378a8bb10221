"""Limits as settings: what one document may cost, and pypdf's and Pillow's own limits set to match."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from fixtures.hostile import one_page, pdf, png_header_only
from pipeline import limits
from pipeline.config import Settings
from pipeline.document import PdfDocument
from pipeline.errors import ConfigError, LimitExceededError, NotSupportedError, UnreadablePdfError
from pipeline.limits import Limits
from pipeline.scan import raster
from pipeline.service import prepare
from tests.conftest import FIXTURES

MIB = 1024 * 1024


def test_settings_carry_the_limits_to_the_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_MAX_PAGE_PIXELS", "2000000")
    monkeypatch.setenv("PIPELINE_MAX_TIFF_FRAMES", "7")
    monkeypatch.setenv("PIPELINE_MAX_STREAM_BYTES", str(2 * MIB))
    settings = Settings(inbox=tmp_path / "in", outbox=tmp_path / "out", state_dir=tmp_path / "var")
    got = settings.limits
    assert (got.page_pixels, got.tiff_frames, got.stream_bytes) == (2_000_000, 7, 2 * MIB)
    assert got.document_stream_bytes == 8 * MIB


def test_every_pypdf_limit_we_set_exists_in_the_installed_pypdf() -> None:
    limits.check_pypdf()
    names = {f.name for f in dataclasses.fields(pypdf.Configuration)}
    assert set(limits.pypdf_settings(Limits())) <= names


def test_a_pypdf_that_renamed_a_limit_stops_the_start(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """An upgrade that renames a setting must fail loudly at start, not silently drop the protection."""
    names = [f.name for f in dataclasses.fields(pypdf.Configuration)]
    renamed = dataclasses.make_dataclass(
        "Configuration", [("zlib_output_cap" if n == "zlib_maximum_output_length" else n) for n in names]
    )
    monkeypatch.setattr(pypdf, "Configuration", renamed)
    with pytest.raises(ConfigError, match="zlib_maximum_output_length") as caught:
        prepare(settings)
    assert caught.value.exit_code == 2 and "pyproject.toml" in caught.value.action


def test_apply_sets_pypdf_and_pillow_limits() -> None:
    before = (pypdf.get_configuration(), Image.MAX_IMAGE_PIXELS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")  # as a fresh worker has it, not as pytest's "error" does
            limits.apply(Limits(page_pixels=1_000_000, stream_bytes=3 * MIB))
            configuration = pypdf.get_configuration()
            assert configuration.zlib_maximum_output_length == 3 * MIB
            assert configuration.maximum_declared_stream_length == 3 * MIB
            assert Image.MAX_IMAGE_PIXELS == 1_000_000
            # Between one and two times the limit Pillow only warns; here the warning stops the image.
            with pytest.raises(Image.DecompressionBombWarning):
                Image.open(io.BytesIO(png_header_only(1200, 1000)))
    finally:
        pypdf.overwrite_configuration(before[0])
        Image.MAX_IMAGE_PIXELS = before[1]


def _pdf_with_zeros(size: int) -> bytes:
    return one_page(zlib.compress(bytes(size)), content_extra=b"/Filter /FlateDecode ")


def test_a_stream_larger_than_the_setting_is_refused_and_a_raised_setting_lets_it_through() -> None:
    data = _pdf_with_zeros(20 * MIB)
    before = pypdf.get_configuration()
    try:
        limits.apply(Limits())
        with pytest.raises(LimitExceededError, match="more than 16 MB"):
            PdfDocument(data, max_pages=5, limits=Limits()).check_objects()
        with pytest.raises(LimitExceededError, match="more than 16 MB"):
            _ = PdfDocument(data, max_pages=5, limits=Limits()).words  # pdfminer only sees checked files
        roomy = Limits(stream_bytes=32 * MIB, document_stream_bytes=64 * MIB)
        limits.apply(roomy)
        PdfDocument(data, max_pages=5, limits=roomy).check_objects()
    finally:
        pypdf.overwrite_configuration(before)


def test_the_object_walk_bounds_objects_and_nesting() -> None:
    form = (FIXTURES / "fk7429" / "notice-01-appearance.pdf").read_bytes()
    PdfDocument(form, max_pages=5, limits=Limits()).check_objects()
    with pytest.raises(LimitExceededError, match="more than 50 objects"):
        PdfDocument(form, max_pages=5, limits=Limits(pdf_objects=50)).check_objects()
    nested = pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Deep [[[[[[[[[[1]]]]]]]]]] >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ]
    )
    PdfDocument(nested, max_pages=5, limits=Limits()).check_objects()
    with pytest.raises(LimitExceededError, match="nested more than 6 levels"):
        PdfDocument(nested, max_pages=5, limits=Limits(nesting=6)).check_objects()


def _tiff(frames: int) -> bytes:
    pages = [Image.new("L", (40, 50), 255) for _ in range(frames)]
    out = io.BytesIO()
    pages[0].save(out, format="TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def test_frames_per_tiff_is_a_setting_of_its_own() -> None:
    data = _tiff(5)
    with pytest.raises(LimitExceededError, match="5 pages \\(frames\\); at most 3"):
        list(raster.image_pages(data, "tiff", 50, Limits(tiff_frames=3)))
    assert len(list(raster.image_pages(data, "tiff", 50, Limits(tiff_frames=10)))) == 5


def test_pixels_per_page_are_checked_before_anything_is_decoded_or_rendered() -> None:
    big = png_header_only(3000, 2000)  # 6 million pixels declared, one row of data
    with pytest.raises(LimitExceededError, match="more than 5000000 pixels"):
        list(raster.image_pages(big, "png", 5, Limits(page_pixels=5_000_000)))
    # A page of 30 x 30 inches is 36 million pixels at 200 dpi: refused under a lower limit, drawn under the default.
    page = one_page(b"BT ET", mediabox=b"[0 0 2160 2160]")
    with pytest.raises(LimitExceededError, match="76 x 76 cm"):
        list(raster.pdf_pages(page, 5, Limits(page_pixels=30_000_000)))
    [image] = raster.pdf_pages(page, 5, Limits())
    assert image.size == (6000, 6000)


def test_only_the_format_the_first_bytes_name_is_opened() -> None:
    out = io.BytesIO()
    Image.new("L", (20, 20), 255).save(out, format="JPEG")
    jpeg = out.getvalue()
    assert raster.sniff(jpeg) == "jpeg"
    assert len(list(raster.image_pages(jpeg, "jpeg", 5, Limits()))) == 1
    with pytest.raises(UnreadablePdfError):  # Pillow would open it, but not as a PNG
        list(raster.image_pages(jpeg, "png", 5, Limits()))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty (0 bytes)"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "web page (HTML)"),
        (b"\x7fELF\x02\x01\x01" + bytes(40), "a program (ELF)"),
        (b"MZ\x90\x00" + bytes(40), "Windows program"),
        (b"PK\x03\x04" + bytes(40), "ZIP archive"),
        (b"GIF89a" + bytes(40), "GIF image"),
        (b"plain text, nothing else", "neither a PDF nor a scanned image"),
    ],
)
def test_the_type_is_read_from_the_first_bytes_and_named_in_the_reason(data: bytes, words: str) -> None:
    with pytest.raises(NotSupportedError, match=re.escape(words)):
        raster.sniff(data)


def _image_pdf(image: Image.Image, dpi: float) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=dpi)
    return out.getvalue()


def test_a_scanners_page_is_its_image_as_stored_and_anything_else_is_drawn() -> None:
    """A page that is one grey image covering it is decoded as stored, at its own resolution; a page with anything
    else (black and white, whose decode array drawing applies) is drawn at the render resolution."""
    grey = Image.new("L", (600, 848), 230)
    grey.paste(40, (100, 100, 300, 140))
    [image] = raster.pdf_pages(_image_pdf(grey, 72.0), 5, Limits())
    assert image.size == (600, 848) and image.info["dpi"] == (72, 72)
    assert np.array_equal(np.asarray(image)[90:150, 90:310] < 128, np.asarray(grey)[90:150, 90:310] < 128)
    [drawn] = raster.pdf_pages(_image_pdf(grey.convert("1"), 72.0), 5, Limits())
    scale = raster.RENDER_DPI / 72
    assert drawn.size == (round(600 * scale), round(848 * scale)) and drawn.info["dpi"] == (raster.RENDER_DPI,) * 2


def test_a_scanned_image_is_held_to_the_pixel_limit_before_it_is_decoded() -> None:
    """The page is A4 (so drawing it would be allowed), but the image inside has more pixels than a page may."""
    dense = _image_pdf(Image.new("L", (2480, 3508), 255), 300.0)
    with pytest.raises(LimitExceededError, match="2480 x 3508 pixels"):
        list(raster.pdf_pages(dense, 5, Limits(page_pixels=5_000_000)))


def test_short_of_memory_tells_what_the_address_space_limit_leaves() -> None:
    """Run in a process of its own, under a limit: what fits is there, what does not is reported, not raised."""
    code = (
        "import resource; from pipeline.limits import short_of_memory as s\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1024 * 2**20, 1024 * 2**20))\n"
        "print(s(16 * 2**20), s(4 * 2**30))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(("short", "raised"), [(True, MemoryError), (False, UnreadablePdfError)])
def test_a_page_pdfium_could_not_draw_is_told_apart_from_a_lack_of_memory(
    monkeypatch: pytest.MonkeyPatch, short: bool, raised: type[Exception]
) -> None:
    """PDFium reports a failed allocation as a failed drawing: where the memory is not there either, the reason is
    memory (the worker quarantines with "more memory than allowed"); where it is, the page is damaged."""
    import pypdfium2 as pdfium

    def fail(*args: object, **kwargs: object) -> None:
        raise pdfium.PdfiumError("Failed to render page.")

    monkeypatch.setattr(pdfium.PdfPage, "render", fail)
    monkeypatch.setattr(raster, "short_of_memory", lambda size: short)
    with pytest.raises(raised):
        list(raster.pdf_pages(one_page(b"BT ET"), 5, Limits()))
