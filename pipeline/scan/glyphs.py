"""A reader of hand-written digits and block capitals, independent of tesseract and the line reader: one character
at a time.

Tesseract reads a line of hand-written digits as a whole and misreads about half of them, often confidently enough
that two of its models agree on the same wrong digit. This reader splits the ink into characters (connected
components, pieces above one another joined) and classifies each with a small network trained on characters drawn
in other hand-writing fonts than the test fixtures use (``scripts/train_glyphs.py``; the weights in ``glyphs.npz``
for digits, ``letters.npz`` for capitals). Where it and another reader read the same characters, readers that fail
in different ways agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

WEIGHTS = Path(__file__).with_name("glyphs.npz")
CLASSES = "0123456789-+"
LETTER_WEIGHTS = Path(__file__).with_name("letters.npz")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉÜ-"  # a name's or a street's capitals, and a double name's hyphen
SIDE = 20  # a character is scaled to fit this square
INK = 150  # grey level below which a pixel is ink (on a scan straightened and read by ``zonal``)
SPECK = 6  # a component of fewer pixels is dust
CELL, BINS = 5, 9  # orientation histograms over 5 x 5 pixel cells

Mask = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Reading:
    text: str
    confidence: float  # the least sure character's probability
    # The per-character reader's probability of each class (``classes``) for each character it read, in order.
    probabilities: tuple[tuple[float, ...], ...] = ()
    classes: str = CLASSES

    def likely(self, text: str, least: float) -> bool:
        """Whether every character of ``text`` is one this reader gave ``least`` or more at its place, where it read
        as many: of digits, the digits and a plus (separators aside: another reader may have read a point, or
        dropped it); of letters, all but spaces (it reads none)."""
        if len(self.probabilities) != len(self.text):  # a reading without its probabilities
            return False
        if self.classes == CLASSES:
            chars = [c for c in text if c.isdigit() or c == "+"]
            rows = [p for p, best in zip(self.probabilities, self.text, strict=True) if best != "-"]
        else:
            chars, rows = [c for c in text.upper() if not c.isspace()], list(self.probabilities)
        if not chars or len(chars) != len(rows):
            return False
        pairs = zip(chars, rows, strict=True)
        return all(c in self.classes and p[self.classes.index(c)] >= least for c, p in pairs)


def characters(ink: Mask) -> list[Mask]:
    """The characters of a line of ink, left to right: components, those that overlap in columns joined (the two
    strokes of a broken 4, a dot above)."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    parts = sorted((int(s[0]), int(s[0] + s[2]), i) for i, s in enumerate(stats) if i and s[4] >= SPECK)
    groups: list[tuple[int, int, list[int]]] = []
    for x0, x1, i in parts:
        if groups:
            g0, g1, members = groups[-1]
            overlap = min(x1, g1) - max(x0, g0)
            if overlap > 0.5 * min(x1 - x0, g1 - g0):
                groups[-1] = (g0, max(g1, x1), [*members, i])
                continue
        groups.append((x0, x1, [i]))
    out = []
    for g0, g1, members in groups:
        mask = np.isin(labels[:, g0:g1], members)
        rows = np.flatnonzero(mask.any(axis=1))
        out.append(mask[rows[0] : rows[-1] + 1].astype(np.uint8) * 255)
    return out


def features(char: Mask, line_height: float) -> npt.NDArray[np.float32]:
    """The character scaled into a square: its stroke directions per cell and its coarse pixels; plus its shape,
    aspect and size against the line's height (a dash is short, a 1 narrow)."""
    h, w = char.shape
    scale = (SIDE - 4) / max(h, w)
    small = cv2.resize(char, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    square = np.zeros((SIDE, SIDE), np.uint8)
    top, left = (SIDE - small.shape[0]) // 2, (SIDE - small.shape[1]) // 2
    square[top : top + small.shape[0], left : left + small.shape[1]] = small
    shape = np.array([np.log(h / w), h / line_height, w / line_height], np.float32)
    pixels = cv2.resize(square, (SIDE // 2, SIDE // 2), interpolation=cv2.INTER_AREA).ravel() / 255
    return np.concatenate([_orientations(square), pixels, shape]).astype(np.float32)


def _orientations(square: Mask) -> npt.NDArray[np.float32]:
    """Stroke directions per cell (a histogram of gradient orientations, unsigned, weighted by strength)."""
    f = square.astype(np.float32) / 255
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)
    bins = ((np.arctan2(gy, gx) % np.pi) / np.pi * BINS).astype(int) % BINS
    cells = SIDE // CELL
    out = np.zeros((cells, cells, BINS), np.float32)
    rows, cols = np.indices(square.shape) // CELL
    np.add.at(out, (rows, cols, bins), magnitude)
    out /= np.linalg.norm(out) + 1e-6
    return out.ravel()


def line_features(ink: Mask) -> npt.NDArray[np.float32]:
    chars = characters(ink)
    if not chars:
        return np.zeros((0, 0), np.float32)
    height = float(np.median([c.shape[0] for c in chars]))
    return np.stack([features(c, height) for c in chars])


@dataclass(frozen=True)
class Net:
    """One hidden layer: the weights and the standardisation of the input learnt in training."""

    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]
    w1: npt.NDArray[np.float32]
    b1: npt.NDArray[np.float32]
    w2: npt.NDArray[np.float32]
    b2: npt.NDArray[np.float32]

    def probabilities(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        hidden = np.maximum(((x - self.mean) / self.std) @ self.w1 + self.b1, 0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        p: npt.NDArray[np.float32] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        return p


@cache
def net(weights: Path = WEIGHTS) -> Net:
    with np.load(weights) as data:
        return Net(**{k: data[k] for k in ("mean", "std", "w1", "b1", "w2", "b2")})


def read_digits(grey: npt.NDArray[np.uint8]) -> Reading:
    """A field's crop (the printed form whitened) read character by character. Spaces are not read: readings are
    compared without them."""
    return _read(((grey < INK) * 255).astype(np.uint8), WEIGHTS, CLASSES)


def read_letters(grey: npt.NDArray[np.uint8]) -> Reading:
    """A line of capitals read character by character, as ``read_digits`` reads digits. Its ink is parted from the
    paper by the crop's own grey levels (Otsu): a faint, blurred scan's letters, cut at a fixed grey level, break
    into flecks. Measured on poor calibration scans (84 applications): the street names it would confirm went from
    44 to 51, none wrong."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return _read(np.asarray(ink, np.uint8), LETTER_WEIGHTS, LETTERS)


def _read(ink: Mask, weights: Path, classes: str) -> Reading:
    x = line_features(ink)
    if not len(x):
        return Reading("", 0.0, (), classes)
    p = net(weights).probabilities(x)
    best = p.argmax(axis=1)
    chances = tuple(tuple(float(v) for v in row) for row in p)
    return Reading("".join(classes[i] for i in best), float(p.max(axis=1).min()), chances, classes)
