"""Align a scanned form page to its template, so a field's box in points is a fixed crop of the page image.

The page's QR code says which form, version and page it is and, from its four corners, roughly where the page lies
in the scan: which way up, how large (any dpi), how skewed. That rough placement predicts where the four solid
registration marks in the corners are; each is looked for in a small window around its prediction and located to a
fraction of a pixel. A homography from the template (marks plus QR corners) to the scan then warps the page, once,
into the canonical frame: upright, ``dpi`` dots per inch, pixel (col, row) = (x_pt * s, (A4 height - y_pt) * s),
s = dpi / 72 — the same frame as the blank PDF rendered at that resolution.

A page without a QR code of ours is not a form page (an attachment, or blank) and gives ``None``. A form page that
cannot be aligned reliably raises AlignmentError; it is never passed on half-aligned.

Coordinates in this module are OpenCV's: x right, y down, the centre of pixel (c, r) at (c, r). The canonical frame
above puts pixel *edges* at integer multiples of s, hence the half-pixel shifts in ``_template``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image

from pipeline.errors import DocumentError
from pipeline.formspec import A4, FormSpec, Layout
from pipeline.limits import short_of_memory

# Pages are aligned in worker processes, one per core; OpenCV's own thread pool on top of that would oversubscribe
# the cores and make every worker slower.
cv2.setNumThreads(1)

CANON_DPI = 200
QR_PREFIX = "FKRK:"
MAX_RESIDUAL = 3.0  # mean mark error after fitting, canonical pixels; beyond it marks and QR code disagree

_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_PAYLOAD = re.compile(r"FKRK:([a-z0-9][a-z0-9-]*):([0-9A-Za-z.]+):([0-9]{1,3})")  # as FormSpec.qr_payload writes it
_QR_DPI = 150  # find_qr's detection resolution: the QR has ~4 px modules there, plenty for zxing
_SEARCH_RADIUS = 2.5  # mark search window half-size, in mark sides: covers QR-corner error over the page's length
_SIDE_TOLERANCE = 0.25  # a mark's side may differ this much from the expected one (blur, scale error)
_MIN_FILL = 0.85  # share of its minimal rectangle a blob fills: a solid square ~1, a punched hole ~0.79

Gray = npt.NDArray[np.uint8]
Points = npt.NDArray[np.float64]  # shape (n, 2)
Matrix = npt.NDArray[np.float64]  # 3x3, maps template (canonical) points to image points


class AlignmentError(DocumentError):
    """A page with our QR code that cannot be aligned; ``form_id`` and ``page`` say which form page it is, where the
    QR code names one we know (so the page can still be placed in its document)."""

    code = "unaligned"
    step = "align"
    action = (
        "Rescan the page straight and whole, with all four corner marks and the QR code visible, and send it again."
    )

    def __init__(self, reason: str, *, form_id: str | None = None, page: int | None = None) -> None:
        super().__init__(reason)
        self.form_id = form_id
        self.page = page


@dataclass(frozen=True)
class QrHit:
    """One QR code of ours: its payload and the symbol's corners (top-left, top-right, bottom-right, bottom-left of
    the code as printed, whichever way the scan is turned) in pixel coordinates of the image it was found in."""

    text: str
    corners: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class AlignedPage:
    form_id: str
    version: str  # as printed in the QR code; the current definition's layout was used to align it
    page: int
    image: Image.Image  # 'L', upright, the template page at the canonical dpi (see the module docstring)
    dpi: float  # estimated resolution of the input scan
    residual: float  # mean error of the marks after fitting, canonical pixels
    rotation: int  # 0, 90, 180 or 270: the scan shows the page turned this far counter-clockwise


@dataclass(frozen=True, eq=False)
class _Shrunk:
    """A copy of the scan shrunk by a whole factor (1: the scan itself), for detection and as the warp's source."""

    image: Gray
    factor: int  # original pixels per copy pixel

    def to_original(self, pts: Points) -> Points:
        return (pts + 0.5) * self.factor - 0.5

    def from_original(self, pts: Points) -> Points:
        return (pts + 0.5) / self.factor - 0.5

    def matrix_to_original(self) -> Matrix:
        k = self.factor
        return np.array([[k, 0, (k - 1) / 2], [0, k, (k - 1) / 2], [0, 0, 1]], np.float64)


@dataclass(frozen=True, eq=False)
class _Template:
    """Where the page furniture sits in the canonical frame."""

    marks: Points  # 4 mark centres
    qr: Points  # QR symbol corners: top-left, top-right, bottom-right, bottom-left
    mark_side: float  # pixels
    size: tuple[int, int]  # width, height


# ------------------------------------------------------------------------------------------------ public API


def find_qr(gray: npt.NDArray[np.uint8]) -> list[QrHit]:
    """Our QR codes (payload starting ``FKRK:``) on a greyscale page image; other QR codes are ignored."""
    return _find_qr(gray, _shrink(gray, _size_dpi(gray) / _QR_DPI))


def align_page(image: Image.Image, specs: Mapping[str, FormSpec], dpi: int = CANON_DPI) -> AlignedPage | None:
    """Align a scanned page to its form's template, or ``None`` when the page carries no QR code of ours.

    Handles scans at any resolution from about 100 dpi up, colour, greyscale or black-and-white, the page turned by
    quarter turns (upside-down included), skewed, shifted or in slight perspective, with scanner bed around it.
    All four marks are normally used. If exactly one is missing (a corner cut off or covered), the page is fitted
    with an affine transform through the other three and the QR corners instead: exact for a flatbed scan, blind to
    perspective; the residual check still applies.

    Raises AlignmentError when the QR code names no known form or page, or the marks cannot be found or do not fit.
    """
    gray = _to_gray(image)
    det = _shrink(gray, _size_dpi(gray) / dpi)  # detection copy at, or a little above, the canonical resolution
    hit = _one_qr(_find_qr(gray, det))
    if hit is None:
        if short_of_memory(gray.size * 4):  # zxing's failed allocation looks like a page without a code
            raise MemoryError("no memory left to look for the QR code")
        return None
    spec, version, page = _identify(hit.text, specs)
    template = _template(spec.layout, dpi)
    qr = det.from_original(np.array(hit.corners, np.float64))
    rough = _similarity(template.qr, qr)
    try:
        fitted, residual = _fit(template, _find_marks(det.image, template, rough, qr), qr)
    except AlignmentError as exc:
        raise AlignmentError(exc.reason, form_id=spec.id, page=page) from None
    scale = _scale(fitted, template)
    return AlignedPage(
        form_id=spec.id,
        version=version,
        page=page,
        image=Image.fromarray(_warp(gray, det, fitted, scale, template.size)),
        dpi=round(dpi * scale * det.factor, 1),
        residual=round(residual, 3),
        rotation=_quarter_turns(rough),
    )


# ------------------------------------------------------------------------------------------------ image preparation


def _to_gray(image: Image.Image) -> Gray:
    # PIL's own conversion beats numpy + cv2.cvtColor here: it avoids materialising the 3-channel array.
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _size_dpi(gray: Gray) -> float:
    """The resolution the image would have if it were exactly an A4 page (a border makes this a slight overestimate)."""
    return float(max(gray.shape)) / (A4[1] / 72)


def _shrink(gray: Gray, factor: float) -> _Shrunk:
    """A copy shrunk by the whole part of ``factor`` by area averaging, which keeps thin lines (and turns '1'-mode
    dithering into grey); no copy below 2, where the warp's bilinear sampling still uses every pixel."""
    k = math.floor(factor)
    h, w = gray.shape
    if k < 2 or min(h, w) < k:
        return _Shrunk(gray, 1)
    # Whole k x k blocks take OpenCV's fast path (20x faster); the < k dropped pixels at the edge are scanner bed.
    small = cv2.resize(gray[: h - h % k, : w - w % k], (w // k, h // k), interpolation=cv2.INTER_AREA)
    return _Shrunk(np.asarray(small, np.uint8), k)


# ------------------------------------------------------------------------------------------------ QR code


def _find_qr(gray: Gray, det: _Shrunk) -> list[QrHit]:
    """Our QR codes, read from the cheapest copy of the scan that shows them."""
    for copy in _qr_copies(gray, det):
        hits = _read_qr(copy.image)
        if hits:
            return [QrHit(h.text, _corner_tuple(copy.to_original(np.array(h.corners)))) for h in hits]
    return []


def _qr_copies(gray: Gray, det: _Shrunk) -> Iterator[_Shrunk]:
    """The detection copy; half of it, whose averaging melts dithering and noise into grey (zxing misses the code
    on dithered black-and-white scans at full size); the full image, for a code too small for the copies."""
    yield det
    half = _shrink(det.image, 2)
    if half.factor > 1:
        yield _Shrunk(half.image, det.factor * half.factor)
    if det.factor > 1:
        yield _Shrunk(gray, 1)


def _read_qr(gray: Gray) -> list[QrHit]:
    # try_downscale would search a pyramid (20x slower); the caller hands in a suitably small image instead.
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(gray), formats=_QR_FORMAT, try_downscale=False, try_invert=False
    )
    hits = []
    for code in found:
        if code.valid and code.text.startswith(QR_PREFIX):
            p = code.position
            # zxing reports corners on pixel edges; shift to pixel centres.
            pts = np.array([(q.x, q.y) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], np.float64)
            hits.append(QrHit(code.text, _corner_tuple(pts - 0.5)))
    return hits


def _corner_tuple(
    pts: Points,
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]:
    (a, b), (c, d), (e, f), (g, h) = pts.tolist()
    return ((a, b), (c, d), (e, f), (g, h))


def _one_qr(hits: list[QrHit]) -> QrHit | None:
    if len({h.text for h in hits}) > 1:
        raise AlignmentError("the page carries more than one form QR code (two pages scanned as one?)")
    return hits[0] if hits else None


def _identify(payload: str, specs: Mapping[str, FormSpec]) -> tuple[FormSpec, str, int]:
    """Form, version and page from ``FKRK:<form id>:<version>:<page>``."""
    # The payload is never quoted in a reason: it is text from outside, and reasons reach the logs.
    match = _PAYLOAD.fullmatch(payload)
    if match is None:
        raise AlignmentError("the page's QR code is ours but not in the expected form (FKRK:form:version:page)")
    form_id, version, page_text = match.groups()
    spec = specs.get(form_id)
    if spec is None:
        raise AlignmentError("the page's QR code names a form this pipeline does not know")
    page = int(page_text)
    if not 1 <= page <= spec.form.pages:
        raise AlignmentError(f"the page's QR code names page {page} of a {spec.form.pages}-page form", form_id=spec.id)
    return spec, version, page


# ------------------------------------------------------------------------------------------------ geometry


def _template(layout: Layout, dpi: float) -> _Template:
    s = dpi / 72

    def canon(pts: list[tuple[float, float]]) -> Points:
        # pixel edges sit at multiples of s, so a point's pixel-centre coordinate is half a pixel less
        return np.array([(x * s - 0.5, (A4[1] - y) * s - 0.5) for x, y in pts], np.float64)

    x0, y0, x1, y1 = layout.qr_box
    side = min(x1 - x0, y1 - y0)  # the blank draws the QR square from the box's top-left corner
    qr = [(x0, y1), (x0 + side, y1), (x0 + side, y1 - side), (x0, y1 - side)]
    return _Template(
        marks=canon(list(layout.marks)),
        qr=canon(qr),
        mark_side=layout.mark_size * s,
        size=(math.ceil(A4[0] * s), math.ceil(A4[1] * s)),
    )


def _similarity(src: Points, dst: Points) -> Matrix:
    """Least-squares rotation + uniform scale + shift taking ``src`` to ``dst`` (points as complex numbers)."""
    z = src[:, 0] + 1j * src[:, 1]
    w = dst[:, 0] + 1j * dst[:, 1]
    zc, wc = z - z.mean(), w - w.mean()
    a = complex(np.vdot(zc, wc) / np.vdot(zc, zc))
    b = complex(w.mean() - a * z.mean())
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag], [0, 0, 1]], np.float64)


def _quarter_turns(m: Matrix) -> int:
    # y points down, so a counter-clockwise turn on screen has a negative angle here
    angle = -math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return round(angle / 90) % 4 * 90


def _apply(m: Matrix, pts: Points) -> Points:
    return np.asarray(cv2.perspectiveTransform(pts.reshape(-1, 1, 2), m), np.float64).reshape(-1, 2)


def _scale(m: Matrix, template: _Template) -> float:
    """Image pixels per canonical pixel at the middle of the page (square root of the local area ratio)."""
    cx, cy = template.size[0] / 2, template.size[1] / 2
    p = _apply(m, np.array([(cx, cy), (cx + 1, cy), (cx, cy + 1)], np.float64))
    jacobian = np.stack([p[1] - p[0], p[2] - p[0]])
    return math.sqrt(abs(float(np.linalg.det(jacobian))))


# ------------------------------------------------------------------------------------------------ registration marks


def _find_marks(gray: Gray, template: _Template, rough: Matrix, qr: Points) -> list[Points | None]:
    """Each mark's centre in ``gray``, or None where it is not found near where the QR code predicts it."""
    side = template.mark_side * math.hypot(rough[0, 0], rough[1, 0])
    # Averaging over ~1/16 of a mark (a point) melts dithering, noise and JPEG ringing into grey, so the marks
    # threshold solid; the QR code, seen the same way, tells what ink and paper look like on this scan. An odd
    # width keeps the average centred (an even one would shift every mark by half a pixel).
    smooth = 2 * round(side / 32) + 1
    threshold = _ink_threshold(_window(gray, qr, 0)[0], smooth)
    return [_find_mark(gray, p, side, smooth, threshold) for p in _apply(rough, template.marks)]


def _window(gray: Gray, pts: Points, margin: float) -> tuple[Gray, tuple[int, int]]:
    """The part of ``gray`` around ``pts`` (clipped to the image) and its top-left corner."""
    h, w = gray.shape
    x0, y0 = (max(0, math.floor(v - margin)) for v in pts.reshape(-1, 2).min(axis=0))
    x1, y1 = (math.ceil(v + margin) + 1 for v in pts.reshape(-1, 2).max(axis=0))
    return gray[y0 : max(0, min(h, y1)), x0 : max(0, min(w, x1))], (x0, y0)


def _ink_threshold(patch: Gray, smooth: int) -> float:
    level, _ = cv2.threshold(cv2.blur(patch, (smooth, smooth)), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(level)


def _find_mark(gray: Gray, centre: Points, side: float, smooth: int, threshold: float) -> Points | None:
    """The centroid of the solid dark square of about ``side`` pixels nearest ``centre``, within a search window."""
    patch, (x0, y0) = _window(gray, centre, _SEARCH_RADIUS * side)
    if min(patch.shape) < side:
        return None
    _, ink = cv2.threshold(cv2.blur(patch, (smooth, smooth)), threshold, 1, cv2.THRESH_BINARY_INV)
    # Opening erases text strokes, specks and thin QR rings, and cuts a mark free of print that touches it.
    k = max(3, round(side / 3))
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    n, label_image, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    labels = np.asarray(label_image, np.int32)
    marks = [
        np.add(centroids[i], (x0, y0), dtype=np.float64) for i in range(1, n) if _is_mark(labels, i, stats[i], side)
    ]
    return min(marks, key=lambda m: float(np.hypot(*(m - centre))), default=None)


def _is_mark(labels: npt.NDArray[np.int32], label: int, stat: npt.NDArray[np.int32], side: float) -> bool:
    """Whether blob ``label`` is a solid square of the expected size wholly inside the window (a blob cut by the
    window or the image edge cannot be trusted to have its centroid in the right place)."""
    left, top, width, height, area = (int(v) for v in stat)
    rows, cols = labels.shape
    if left == 0 or top == 0 or left + width == cols or top + height == rows:
        return False
    if not (1 - _SIDE_TOLERANCE) ** 2 <= area / side**2 <= (1 + _SIDE_TOLERANCE) ** 2:
        return False
    ys, xs = np.nonzero(labels[top : top + height, left : left + width] == label)
    _, (rw, rh), _ = cv2.minAreaRect(np.column_stack((xs, ys)).astype(np.float32))
    rw, rh = rw + 1, rh + 1  # the rectangle runs through pixel centres; the blob reaches half a pixel further
    sides_ok = all(abs(v - side) <= _SIDE_TOLERANCE * side for v in (rw, rh))
    return sides_ok and area / (rw * rh) >= _MIN_FILL


# ------------------------------------------------------------------------------------------------ fit and warp


def _fit(template: _Template, marks: list[Points | None], qr: Points) -> tuple[Matrix, float]:
    """The transform from canonical to image pixels and the marks' mean error in canonical pixels.

    The QR corners join the fit so there are more points than unknowns, which makes the residual mean something.
    """
    found = [i for i, m in enumerate(marks) if m is not None]
    if len(found) < 3:
        raise AlignmentError(f"the page's corner marks could not all be found (found {len(found)} of 4)")
    src = np.vstack([template.marks[found], template.qr])
    dst = np.vstack([np.array([marks[i] for i in found]), qr])
    fitted = _homography(src, dst) if len(found) == 4 else _affine(src, dst)
    scale = _scale(fitted, template) if fitted is not None else 0.0
    if fitted is None or scale < 1e-3:
        raise AlignmentError("the page's corner marks are in an impossible arrangement")
    residual = float(np.hypot(*(_apply(fitted, template.marks[found]) - dst[: len(found)]).T).mean()) / scale
    if residual > MAX_RESIDUAL:
        raise AlignmentError(
            f"the page's corner marks do not line up with the form (error {residual:.1f} px); "
            "the sheet may be folded, bent or photographed at an angle"
        )
    return fitted, residual


def _homography(src: Points, dst: Points) -> Matrix | None:
    fitted = cv2.findHomography(src, dst, 0)[0]  # plain least squares: every point is an inlier by now
    return None if fitted is None or fitted.size != 9 else np.asarray(fitted, np.float64)


def _affine(src: Points, dst: Points) -> Matrix:
    design = np.column_stack([src, np.ones(len(src))])
    solution = np.linalg.lstsq(design, dst, rcond=None)[0]
    return np.vstack([solution.T, (0.0, 0.0, 1.0)])


def _warp(gray: Gray, det: _Shrunk, fitted: Matrix, scale: float, size: tuple[int, int]) -> Gray:
    """The canonical page, warped in one pass from the detection copy.

    The copy is already area-averaged to at most 2x the canonical resolution, so bilinear sampling in the warp still
    uses every pixel (warpPerspective has no INTER_AREA: it silently samples bilinearly). If a wide border made the
    size-based guess too high and the copy came out noticeably coarser than canonical, warp from a copy shrunk by
    the now known factor instead.
    """
    source, to_source = det.image, fitted
    if det.factor > 1 and scale < 0.9:
        redo = _shrink(gray, scale * det.factor)
        source, to_source = redo.image, np.linalg.inv(redo.matrix_to_original()) @ det.matrix_to_original() @ fitted
    warped = cv2.warpPerspective(
        source,
        to_source,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )
    return np.asarray(warped, np.uint8)
