"""Aligning scanned form pages: the real blanks, rendered with pypdfium2 and "scanned" in software (turned, skewed,
scaled, shifted on a scanner bed, blurred, noised, JPEG'd, thresholded to black and white), must come back upright
at the canonical resolution with marks and field boxes where a direct rendering of the blank has them."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import pytest
import segno
from PIL import Image, ImageDraw

from pipeline.errors import DocumentError
from pipeline.formspec import A4, FORMS_DIR, FormSpec
from pipeline.scan.align import CANON_DPI, AlignedPage, AlignmentError, align_page, find_qr

Gray = npt.NDArray[np.uint8]

TOLERANCE = 3  # canonical pixels a mark or box corner may land away from where the blank has it
SEARCH = 8  # how far the comparison looks, so a miss by more than TOLERANCE is measured, not just not found
PATCH = 32  # half-size of the compared neighbourhood, canonical pixels


# ------------------------------------------------------------------------------------------------ making scans


@cache
def render(form_id: str, page: int, dpi: float) -> Gray:
    """The blank page rendered straight; cached, read-only."""
    pdf = pdfium.PdfDocument(FORMS_DIR / form_id / "blank.pdf")
    try:
        image = pdf[page - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()
    pixels = np.array(image)
    pixels.flags.writeable = False
    return pixels


@dataclass(frozen=True)
class Scan:
    """How a page is put through the (simulated) scanner."""

    form_id: str = "ansokan-samordning"
    page: int = 1
    dpi: float = 200
    angle: float = 0.0  # degrees counter-clockwise on screen
    keystone: float = 0.0  # one side this much (relative) longer than the other
    bed: int = 255  # grey level of the scanner bed around the page
    border: int = 40  # pixels of bed on each side
    shift: tuple[int, int] = (0, 0)  # page moved on the bed, pixels (it may run off the image)
    noise: float = 0.0  # sigma of Gaussian sensor noise, grey levels
    blur: float = 0.0  # sigma of Gaussian blur, pixels
    jpeg: int | None = None  # JPEG quality of a round trip
    mode: str = "L"  # mode of the image handed over: 'L', 'RGB' or '1'

    @property
    def turns(self) -> int:
        return round(self.angle / 90) % 4 * 90


def place(page: Gray, scan: Scan) -> Gray:
    """The page turned about its centre, keystoned and laid on the scanner bed."""
    h, w = page.shape
    a = math.radians(scan.angle)
    turn = np.array([[math.cos(a), math.sin(a), 0], [-math.sin(a), math.cos(a), 0], [0, 0, 1]])  # y points down
    centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]])
    keystone = np.array([[1, 0, 0], [0, 1, 0], [scan.keystone / w, scan.keystone / 2 / h, 1]])
    m = turn @ keystone @ centre
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float64), m)[0]
    low, high = corners.min(axis=0) - scan.border, corners.max(axis=0) + scan.border
    m = np.array([[1, 0, scan.shift[0] - low[0]], [0, 1, scan.shift[1] - low[1]], [0, 0, 1]]) @ m
    size = tuple(int(v) for v in np.ceil(high - low))
    return np.asarray(cv2.warpPerspective(page, m, size, flags=cv2.INTER_LINEAR, borderValue=scan.bed), np.uint8)


def degrade(pixels: Gray, scan: Scan) -> Image.Image:
    rng = np.random.default_rng(7)
    out = pixels.astype(np.float32)
    if scan.blur:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), scan.blur), np.float32)
    if scan.noise:
        out += rng.normal(0, scan.noise, out.shape).astype(np.float32)
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    if scan.jpeg:
        buf = io.BytesIO()
        image.convert("RGB").save(buf, "JPEG", quality=scan.jpeg)
        image = Image.open(buf)
        image.load()
    return image.convert(scan.mode)


def scanned(scan: Scan, page: Gray | None = None) -> Image.Image:
    return degrade(place(render(scan.form_id, scan.page, scan.dpi) if page is None else page, scan), scan)


def qr_image(payload: str, module: int) -> Image.Image:
    matrix = np.array(list(segno.make(payload, error="m", micro=False).matrix_iter(border=2)), bool)
    return Image.fromarray(np.where(np.kron(matrix, np.ones((module, module), bool)), 0, 255).astype(np.uint8))


def mark_box(spec: FormSpec, mark: int, dpi: float) -> tuple[int, int, int, int]:
    """Pixel rows and columns (top, bottom, left, right) a mark covers on a straight rendering, with a margin."""
    s = dpi / 72
    x, y = spec.layout.marks[mark]
    half = spec.layout.mark_size / 2 + 2
    return round((A4[1] - y - half) * s), round((A4[1] - y + half) * s), round((x - half) * s), round((x + half) * s)


# ------------------------------------------------------------------------------------------------ checking alignment


def features(spec: FormSpec, page: int) -> list[tuple[str, float, float]]:
    """Points in PDF points to compare: the four marks and the outer corners of the page's first and last box."""
    boxes = [b for f in spec.fields if f.page == page for b in f.boxes]
    first, last = boxes[0], boxes[-1]
    marks = [(f"mark {i}", x, y) for i, (x, y) in enumerate(spec.layout.marks)]
    return [
        *marks,
        ("first box top-left", first[0], first[3]),
        ("first box bottom-right", first[2], first[1]),
        ("last box top-left", last[0], last[3]),
        ("last box bottom-right", last[2], last[1]),
    ]


def offsets(aligned: Image.Image, spec: FormSpec, page: int) -> dict[str, tuple[int, int]]:
    """How far each feature of the aligned page lies from where a direct rendering of the blank has it."""
    reference = render(spec.id, page, CANON_DPI)
    pixels = np.asarray(aligned)
    s = CANON_DPI / 72
    found = {}
    for name, x, y in features(spec, page):
        cx, cy = round(x * s), round((A4[1] - y) * s)
        patch = reference[cy - PATCH : cy + PATCH, cx - PATCH : cx + PATCH]
        window = pixels[cy - PATCH - SEARCH : cy + PATCH + SEARCH, cx - PATCH - SEARCH : cx + PATCH + SEARCH]
        _, _, _, best = cv2.minMaxLoc(cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED))
        found[name] = (best[0] - SEARCH, best[1] - SEARCH)
    return found


def assert_aligned(
    result: AlignedPage | None, spec: FormSpec, scan: Scan, page: int = 1, missing: frozenset[str] = frozenset()
) -> None:
    assert result is not None
    assert (result.form_id, result.version, result.page) == (spec.id, spec.form.version, page)
    assert result.rotation == scan.turns
    assert result.residual < 1.0
    assert result.dpi == pytest.approx(scan.dpi, rel=0.01)
    assert result.image.mode == "L"
    assert result.image.size == render(spec.id, page, CANON_DPI).shape[::-1]
    found = offsets(result.image, spec, page)
    misses = {k: v for k, v in found.items() if k not in missing and max(map(abs, v)) > TOLERANCE}
    assert not misses, f"features away from the template: {misses}"


# ------------------------------------------------------------------------------------------------ scans that align

CASES = {
    "150dpi-straight": Scan(dpi=150),
    "200dpi-skew+4-grey-bed-shifted": Scan(dpi=200, angle=4, bed=170, border=120, shift=(-60, 35)),
    "300dpi-quarter-turn-skew-3": Scan(dpi=300, angle=87),
    "300dpi-upside-down-skew+2": Scan(dpi=300, angle=182),
    "600dpi-three-quarter-turn": Scan(dpi=600, angle=268.5),
    "300dpi-colour-jpeg": Scan(dpi=300, angle=-2, mode="RGB", jpeg=35),
    "300dpi-black-and-white": Scan(dpi=300, angle=1.5, mode="1", noise=25),
    "150dpi-noise-blur-jpeg": Scan(dpi=150, angle=-5, noise=20, blur=1.0, jpeg=50),
    "300dpi-keystone": Scan(dpi=300, angle=1, keystone=0.03),
    "350dpi-wide-bed-border": Scan(dpi=350, angle=1, bed=160, border=320),
    "application-page-2": Scan(page=2, dpi=300, angle=185),
    "fk7429-turned": Scan(form_id="fk7429", dpi=200, angle=95, bed=120),
}


@pytest.mark.parametrize("scan", CASES.values(), ids=CASES.keys())
def test_scans_align_to_the_template(scan: Scan, specs: dict[str, FormSpec]) -> None:
    image = scanned(scan)
    assert image.mode == scan.mode
    assert_aligned(align_page(image, specs), specs[scan.form_id], scan, scan.page)


def test_rotation_is_counter_clockwise_as_pil_turns_it(specs: dict[str, FormSpec]) -> None:
    upright = Image.fromarray(render("fk7429", 1, 150))
    for turns in (90, 180, 270):
        result = align_page(upright.rotate(turns, expand=True), specs)
        assert result is not None
        assert result.rotation == turns


def test_canonical_resolution_is_a_parameter(specs: dict[str, FormSpec]) -> None:
    result = align_page(scanned(Scan(dpi=300, angle=2)), specs, dpi=100)
    assert result is not None
    assert result.image.size == render("ansokan-samordning", 1, 100).shape[::-1]
    assert result.dpi == pytest.approx(300, rel=0.01)


def test_one_corner_cut_off_falls_back_to_three_marks(specs: dict[str, FormSpec]) -> None:
    spec = specs["ansokan-samordning"]
    page = render(spec.id, 1, 300).copy()
    rows, cols = np.indices(page.shape)
    page[rows + cols > page.shape[0] + page.shape[1] - 70 * 300 / 72] = 150  # bottom-right corner torn off
    scan = Scan(dpi=300, angle=2)
    assert_aligned(align_page(scanned(scan, page), specs), spec, scan, missing=frozenset({"mark 1"}))


def test_a_punched_hole_is_not_taken_for_a_missing_mark(specs: dict[str, FormSpec]) -> None:
    spec = specs["ansokan-samordning"]
    page = render(spec.id, 1, 300).copy()
    top, bottom, left, right = mark_box(spec, 0, 300)
    page[top:bottom, left:right] = 255
    # a dark round hole (black lid behind it) of the mark's size, a little above where the mark was
    hole = Image.fromarray(page)
    radius = spec.layout.mark_size / 2 * 300 / 72
    cx, cy = (left + right) / 2, (top + bottom) / 2 - 30
    ImageDraw.Draw(hole).ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=0)
    scan = Scan(dpi=300, angle=-1)
    assert_aligned(align_page(scanned(scan, np.array(hole)), specs), spec, scan, missing=frozenset({"mark 0"}))


def test_qr_codes_are_found_with_their_corners_in_symbol_order(specs: dict[str, FormSpec]) -> None:
    spec = specs["fk7429"]
    s = 300 / 72
    x0, _, _, y1 = spec.layout.qr_box
    upright = render(spec.id, 1, 300)
    (hit,) = find_qr(upright)
    assert hit.text == spec.qr_payload(1)
    assert hit.corners[0] == pytest.approx((x0 * s, (A4[1] - y1) * s), abs=2)
    (turned,) = find_qr(np.ascontiguousarray(upright[::-1, ::-1]))  # upside down
    h, w = upright.shape
    assert turned.corners[0] == pytest.approx((w - 1 - x0 * s, h - 1 - (A4[1] - y1) * s), abs=2)


# ------------------------------------------------------------------------------------------------ not form pages


def text_page() -> Image.Image:
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    for line in range(30):
        draw.text((150, 150 + 60 * line), "Läkarintyg. Patienten bedöms ha nedsatt arbetsförmåga. " * 2, fill=0)
    return page


def test_a_page_without_our_qr_code_is_not_a_form_page(specs: dict[str, FormSpec]) -> None:
    assert align_page(text_page(), specs) is None
    assert align_page(Image.new("1", (1241, 1754), 1), specs) is None
    assert align_page(Image.new("RGB", (1, 1)), specs) is None  # a degenerate image is no crash either


def test_a_foreign_qr_code_is_ignored(specs: dict[str, FormSpec]) -> None:
    page = text_page()
    page.paste(qr_image("https://vard.example/intyg/FKRK:fk7429:2026.1:1", 8), (1200, 100))
    assert find_qr(np.asarray(page)) == []
    assert align_page(page, specs) is None
    # ...and does not hide ours
    form = Image.fromarray(render("fk7429", 1, 200))
    form.paste(qr_image("https://vard.example/intyg/123", 6), (600, 1200))
    assert [h.text for h in find_qr(np.asarray(form))] == [specs["fk7429"].qr_payload(1)]


# ------------------------------------------------------------------------------------------------ cannot be aligned


def with_qr(spec: FormSpec, payload: str) -> Image.Image:
    """A straight 200-dpi first page of the form with its QR code replaced."""
    s = 200 / 72
    x0, y0, x1, y1 = spec.layout.qr_box
    page = Image.fromarray(render(spec.id, 1, 200))
    ImageDraw.Draw(page).rectangle((x0 * s - 2, (A4[1] - y1) * s - 2, x1 * s + 2, (A4[1] - y0) * s + 2), fill=255)
    page.paste(qr_image(payload, 5), (round(x0 * s), round((A4[1] - y1) * s)))
    return page


def assert_unaligned(
    image: Image.Image, specs: dict[str, FormSpec], reason: str, form_page: tuple[str | None, int | None]
) -> None:
    """AlignmentError with ``reason``, naming the form page (form id, page) as far as the QR code told it."""
    with pytest.raises(AlignmentError) as caught:
        align_page(image, specs)
    error = caught.value
    assert isinstance(error, DocumentError)
    assert (error.code, error.step) == ("unaligned", "align")
    assert "corner marks" in error.action
    assert reason in error.reason
    assert (error.form_id, error.page) == form_page


@pytest.mark.parametrize(
    ("payload", "reason", "form_id"),
    [
        ("FKRK:ingen-sadan-blankett:2026.1:1", "does not know", None),
        ("FKRK:ansokan-samordning:2026.1:3", "page 3 of a 2-page form", "ansokan-samordning"),
        ("FKRK:ansokan-samordning:2026.1:0", "page 0", "ansokan-samordning"),
        ("FKRK:ansokan-samordning", "not in the expected form", None),
    ],
)
def test_our_qr_code_naming_no_known_form_page(
    payload: str, reason: str, form_id: str | None, specs: dict[str, FormSpec]
) -> None:
    assert_unaligned(with_qr(specs["ansokan-samordning"], payload), specs, reason, (form_id, None))


def test_two_different_form_qr_codes_on_one_image(specs: dict[str, FormSpec]) -> None:
    page = Image.fromarray(render("ansokan-samordning", 1, 200))
    page.paste(qr_image("FKRK:ansokan-samordning:2026.1:2", 5), (700, 1300))
    assert_unaligned(page, specs, "more than one form QR code", (None, None))


def test_two_corners_cut_off(specs: dict[str, FormSpec]) -> None:
    page = render("ansokan-samordning", 1, 300).copy()
    page[-60 * 300 // 72 :, :] = 140  # the bottom strip with both lower marks is missing
    expected = ("ansokan-samordning", 1)
    assert_unaligned(scanned(Scan(dpi=300, angle=1), page), specs, "could not all be found (found 2 of 4)", expected)


def test_a_steep_photograph(specs: dict[str, FormSpec]) -> None:
    with pytest.raises(AlignmentError) as caught:
        align_page(scanned(Scan(page=2, dpi=300, angle=2, keystone=0.15)), specs)
    assert (caught.value.form_id, caught.value.page) == ("ansokan-samordning", 2)


def test_a_mark_that_disagrees_with_the_qr_code(specs: dict[str, FormSpec]) -> None:
    """A fold between the QR code and the mark beside it: the fit cannot honour both, and says so."""
    spec = specs["ansokan-samordning"]
    page = render(spec.id, 1, 200).copy()
    top, bottom, left, right = mark_box(spec, 3, 200)
    moved = page[top:bottom, left:right].copy()
    page[top:bottom, left:right] = 255
    step = round(5 * 200 / 72)  # 5 points down and left
    page[top + step : bottom + step, left - step : right - step] = moved
    assert_unaligned(scanned(Scan(dpi=200, angle=1), page), specs, "do not line up", ("ansokan-samordning", 1))


@pytest.mark.parametrize(("short", "memory"), [(True, True), (False, False)])
def test_a_page_without_a_code_is_told_apart_from_a_lack_of_memory(
    monkeypatch: pytest.MonkeyPatch, specs: dict[str, FormSpec], short: bool, memory: bool
) -> None:
    """zxing finds no code when it cannot allocate: where memory is short, that is a lack of memory, not a page that
    is not ours (which would send the document to manual registration)."""
    import pipeline.scan.align as align

    monkeypatch.setattr(align, "short_of_memory", lambda size: short)
    page = Image.new("L", (1654, 2339), 255)
    if memory:
        with pytest.raises(MemoryError):
            align.align_page(page, specs)
    else:
        assert align.align_page(page, specs) is None
