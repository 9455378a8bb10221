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

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

WEIGHTS = Path(__file__).with_name("glyphs.npz")
CLASSES = "0123456789-+"
LETTER_WEIGHTS = Path(__file__).with_name("letters.npz")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉÜ-"  # a name's or a street's capitals, and a double name's hyphen
SIDE = 20  # a character is scaled to fit this square
LETTER_SIDE, LETTER_FIT = 24, 20  # the letters' network sees a capital scaled to fit 20 pixels of a 24-pixel square
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
    # Of capitals: how many parts lay above each character read (dots, a ring, an accent, a fleck): the ink's own
    # witness of marks, whatever the network made of the letter under them.
    marks: tuple[int, ...] = ()

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
    return [_cropped(np.isin(labels[:, g0:g1], members)) for g0, g1, members in _grouped(stats)]


def _grouped(stats: npt.NDArray[Any]) -> list[tuple[int, int, list[int]]]:
    """Components (not dust) grouped left to right: each group's columns and its members, those that overlap in
    columns by half the narrower's width together."""
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
    return groups


def _cropped(mask: npt.NDArray[np.bool_]) -> Mask:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.uint8) * 255


def features(char: Mask, line_height: float) -> npt.NDArray[np.float32]:
    """The character scaled into a square: its stroke directions per cell and its coarse pixels; plus its shape,
    aspect and size against the line's height (a dash is short, a 1 narrow)."""
    square, shape = _square(char, SIDE, SIDE - 4), _shape(char, line_height)
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


def bitmap(char: Mask, line_height: float) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """A capital as the letters' network sees it: its ink scaled to fit a square, grey levels 0 to 1; and its shape,
    aspect and size against the line's height (an I is narrow, a dash short)."""
    return (_square(char, LETTER_SIDE, LETTER_FIT) / 255).astype(np.float32), _shape(char, line_height)


def _square(char: Mask, side: int, fit: int) -> Mask:
    """The character scaled to fit ``fit`` pixels, centred in a square of ``side``."""
    h, w = char.shape
    scale = fit / max(h, w)
    small = cv2.resize(char, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    square[top : top + small.shape[0], left : left + small.shape[1]] = small
    return square


def _shape(char: Mask, line_height: float) -> npt.NDArray[np.float32]:
    """Its aspect, and its height and width against the line's height."""
    h, w = char.shape
    return np.array([np.log(h / w), h / line_height, w / line_height], np.float32)


def _convolved(a: npt.NDArray[np.float32], kernels: npt.NDArray[np.float32], bias: npt.NDArray[np.float32]) -> Any:
    """Each network's 3 x 3 convolution, zero-padded to the input's size, then ReLU and 2 x 2 max-pooling, channels
    last: the input (networks or 1, n, h, w, c) as windows (networks or 1, n x h x w, c x 9), times each network's
    kernels (networks, c x 9, out), in one product for all the networks."""
    m, n, h, w, c = a.shape
    padded = np.zeros((m, n, h + 2, w + 2, c), np.float32)
    padded[:, :, 1:-1, 1:-1] = a
    windows = sliding_window_view(padded, (3, 3), axis=(2, 3)).reshape(m, n * h * w, c * 9)
    out = np.maximum(windows @ kernels + bias[:, None], 0)
    return out.reshape(len(out), n, h // 2, 2, w // 2, 2, -1).max(axis=(3, 5))


@dataclass(frozen=True)
class ConvNet:
    """The reader of capitals: two 3 x 3 convolutions (16 and 32 kernels, each pooled), then one hidden layer over
    what they found and the letter's shape. Several such networks, trained from different starts, are stored along
    the first axis of each array; their probabilities are averaged (one network alone reads a hand it never learnt
    by chance more than by shape: DkgHandwriting's K as K or as W). Stored as jax trains them (channels first); held
    channels last, as ``_convolved`` multiplies."""

    smean: npt.NDArray[np.float32]
    sstd: npt.NDArray[np.float32]
    c1: npt.NDArray[np.float32]
    b1: npt.NDArray[np.float32]
    c2: npt.NDArray[np.float32]
    b2: npt.NDArray[np.float32]
    d1: npt.NDArray[np.float32]
    e1: npt.NDArray[np.float32]
    d2: npt.NDArray[np.float32]
    e2: npt.NDArray[np.float32]

    @classmethod
    def trained(cls, arrays: dict[str, npt.NDArray[np.float32]]) -> ConvNet:
        """From the arrays as stored: each kernel (out, in, 3, 3) to rows in a window's order (in, 3, 3) and the
        hidden layer's rows from the channels-first flattening (channel, row, column) to channels last."""
        c = {k: np.asarray(v, np.float32) for k, v in arrays.items()}
        m, channels = c["c2"].shape[:2]
        found = c["d1"].shape[1] - c["smean"].shape[1]  # the rows over what the convolutions found; then the shape's
        side = int(np.sqrt(found // channels))
        pooled = c["d1"][:, :found].reshape(m, channels, side, side, -1).transpose(0, 2, 3, 1, 4).reshape(m, found, -1)

        def rows(k: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
            return k.transpose(0, 2, 3, 4, 1).reshape(len(k), -1, k.shape[1])

        return cls(
            **c | {"c1": rows(c["c1"]), "c2": rows(c["c2"]), "d1": np.concatenate([pooled, c["d1"][:, found:]], 1)}
        )

    def probabilities(self, squares: npt.NDArray[np.float32], shapes: npt.NDArray[np.float32]) -> Any:
        x = squares[None, ..., None].astype(np.float32)
        a = _convolved(_convolved(x, self.c1, self.b1), self.c2, self.b2)
        found = a.reshape(len(self.c1), len(squares), -1)
        shape = (shapes[None] - self.smean[:, None]) / self.sstd[:, None]
        hidden = np.maximum(np.concatenate([found, shape], axis=2) @ self.d1 + self.e1[:, None], 0)
        logits = hidden @ self.d2 + self.e2[:, None]
        e = np.exp(logits - logits.max(axis=2, keepdims=True))
        return (e / e.sum(axis=2, keepdims=True)).mean(axis=0)


@cache
def letter_net(weights: Path = LETTER_WEIGHTS) -> ConvNet:
    with np.load(weights) as data:
        return ConvNet.trained({k: data[k] for k in ConvNet.__dataclass_fields__})


def read_digits(grey: npt.NDArray[np.uint8]) -> Reading:
    """A field's crop (the printed form whitened) read character by character. Spaces are not read: readings are
    compared without them."""
    return _read(((grey < INK) * 255).astype(np.uint8), WEIGHTS, CLASSES)


def read_letters(grey: npt.NDArray[np.uint8], count: int = 0) -> Reading:
    """A line of capitals read character by character, as ``read_digits`` reads digits. Its ink is parted from the
    paper by the crop's own grey levels (Otsu): a faint, blurred scan's letters, cut at a fixed grey level, break
    into flecks. Measured on poor calibration scans (84 applications): the street names it would confirm went from
    44 to 51, none wrong.

    Two things the network alone reads badly are settled by the letters' shapes (``_letters``). A letter's marks:
    the network, shown a plain A in a hand it never learnt, reads Ä as often as A; so the body of the letter says
    which letter (A, O, E, U) and the parts above it say which mark, if any. And letters that touch (a hand that
    leans TA together) are one component: a body wider than the line is high is read as two letters where the two
    are read more surely than the one. Street names of calibration scans (seeds 23-34, 483 names) read exactly
    went from 45-51% to 61-62% a quality level. The letters' networks then became convolutional (``ConvNet``): names,
    streets and places of calibration scans (seeds 11-65) read exactly went, on good scans, from 92.9% to 100% in
    Comic Neue, 90.2% to 94.4% in Humor Sans and 33.4% to 53.0% in DkgHandwriting (poor: 93.8% to 95.5%, 84.6% to
    88.1%, 22.5% to 34.0%); that hand's K, a shape no training font has, had been read as W 507 times, and no more.

    ``count``: how many letters another reader read. Where the ink holds fewer bodies, the widest are cut in two
    however surely each reads whole (DkgHandwriting's T joins its bar to the next letter: TA read as M, TT as W);
    each half is then read on its own, so only the count is the other reader's."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    letters = _letters(np.asarray(ink, np.uint8))
    if not letters:
        return Reading("", 0.0, (), LETTERS)
    height = float(np.median([letter.height for letter in letters]))
    reader = letter_net()

    def chances(bodies: list[npt.NDArray[np.bool_]]) -> npt.NDArray[np.float32]:
        drawn = [bitmap(_cropped(body), height) for body in bodies]
        rows: npt.NDArray[np.float32] = reader.probabilities(
            np.stack([d[0] for d in drawn]), np.stack([d[1] for d in drawn])
        )
        return rows

    parts = [_split(letter, chances, height) for letter in letters]
    short = count - sum(len(read) for read in parts)
    if short > 0:  # fewer letters than another reader read: cut the widest bodies read as one letter
        whole = sorted((i for i, read in enumerate(parts) if len(read) == 1), key=lambda i: -letters[i].body.shape[1])
        for i in whole[:short]:
            parts[i] = _cut(letters[i], chances, height) or parts[i]
    rows, above = [], []
    for letter, read in zip(letters, parts, strict=True):
        for chance, marks in read:
            rows.append(_marked(chance, marks, attached=letter.height >= ATTACHED * height))
            above.append(len(marks))
    p = np.stack(rows)
    best = p.argmax(axis=1)
    probabilities = tuple(tuple(float(v) for v in row) for row in p)
    text = "".join(LETTERS[i] for i in best)
    return Reading(text, float(p.max(axis=1).min()), probabilities, LETTERS, tuple(above))


WIDE = 1.0  # a letter's body wider than the line is high may be two letters that touch
NARROWEST = 0.7  # where another reader read more letters, a body this wide against the line's height may be two
ATTACHED = 1.2  # a body this much taller than the line's letters may carry its marks joined: the network reads them
DOT = 2  # a dot of a small hand's Ä may be two pixels: smaller than dust (SPECK), but above a letter's body
MARKS = {"Ä": "A", "Å": "A", "Ö": "O", "É": "E", "Ü": "U"}  # each marked letter's base letter
ON = {"dots": {"A": "Ä", "O": "Ö", "U": "Ü"}, "ring": {"A": "Å", "E": "É", "O": "Ö", "U": "Ü"}}


@dataclass(frozen=True)
class _Letter:
    body: npt.NDArray[np.bool_]  # the letter's columns of the line, without the parts detached above it
    height: int  # the body's height
    marks: tuple[tuple[int, int, int, int], ...]  # the detached parts above: x (in the letter's columns), y, w, h


def _letters(ink: Mask) -> list[_Letter]:
    """The line's letters (grouped as ``characters`` groups them), each told apart from the marks above it: a
    smaller part, or a fleck too small to be a character, that lies above the top quarter of the body, within its
    columns and not higher than the body is high."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    flecks = [i for i in range(1, count) if DOT <= stats[i, 4] < SPECK]
    out = []
    for g0, g1, members in _grouped(stats):
        main = max(members, key=lambda i: int(stats[i, 4]))
        marks = [i for i in (*members, *flecks) if i != main and _above(stats[i], stats[main], g0, g1)]
        body = np.isin(labels[:, g0:g1], [i for i in members if i not in marks])
        rows = np.flatnonzero(body.any(axis=1))
        shapes = tuple((int(stats[i, 0]) - g0, int(stats[i, 1]), int(stats[i, 2]), int(stats[i, 3])) for i in marks)
        out.append(_Letter(body, int(rows[-1] - rows[0] + 1), shapes))
    return out


def _above(part: npt.NDArray[Any], body: npt.NDArray[Any], g0: int, g1: int) -> bool:
    """Whether a part (its component's stats) is a mark over the body: within the letter's columns g0-g1, ending
    above the body's top quarter, less than half as high and no further above it than the body is high."""
    x, y, w, h = (int(v) for v in part[:4])
    top, tall = int(body[1]), int(body[3])
    return g0 - 1 <= x + w / 2 <= g1 + 1 and top - tall <= y and y + h <= top + tall / 4 and h < tall / 2


Parts = list[tuple[npt.NDArray[np.float32], tuple[tuple[int, int, int, int], ...]]]  # each part's chances, marks
Chances = Callable[[list[npt.NDArray[np.bool_]]], npt.NDArray[np.float32]]


def _cuts(letter: _Letter, chances: Chances, least: float) -> tuple[npt.NDArray[np.float32], list[tuple[float, Parts]]]:
    """The network's reading of the letter's body, and of its two halves at each cut where the fewest ink columns
    are (of the middle 60%; the six lowest), if the body is at least ``least`` wide: each cut's score (the log of
    the halves' probabilities) and its parts, each keeping the marks over its columns. All read in one call."""
    body = letter.body
    width = body.shape[1]
    xs: list[int] = []
    if width >= least:
        ink = body.sum(axis=0)
        lows = [x for x in range(int(0.2 * width), int(0.8 * width)) if ink[x] <= ink[max(0, x - 1) : x + 2].min()]
        xs = [x for x in sorted(lows, key=lambda x: ink[x])[:6] if body[:, :x].any() and body[:, x:].any()]
    read = chances([body, *(half for x in xs for half in (body[:, :x], body[:, x:]))])
    out = []
    for i, x in enumerate(xs):
        left, right = read[1 + 2 * i], read[2 + 2 * i]
        marks = [m for m in letter.marks if m[0] + m[2] / 2 < x], [m for m in letter.marks if m[0] + m[2] / 2 >= x]
        parts = [(left, tuple(marks[0])), (right, tuple((m[0] - x, *m[1:]) for m in marks[1]))]
        out.append((float(np.log(left.max()) + np.log(right.max())), parts))
    return read[0], out


def _split(letter: _Letter, chances: Chances, height: float) -> Parts:
    """The network's reading of the letter's body, or of two letters that touch: a body wider than the line is high
    is cut where its two halves are read more surely than the whole (the product of their probabilities against
    the whole's)."""
    whole, cuts = _cuts(letter, chances, WIDE * height + 1e-9)
    best: Parts = [(whole, letter.marks)]
    score = float(np.log(whole.max()))
    for both, parts in cuts:
        if both > score:
            best, score = parts, both
    return best


def _cut(letter: _Letter, chances: Chances, height: float) -> Parts | None:
    """A body at least ``NARROWEST`` of the line's height wide, cut in two however surely the whole reads (another
    reader read more letters than the bodies): at its cut whose halves read most surely."""
    _, cuts = _cuts(letter, chances, NARROWEST * height)
    return max(cuts, key=lambda c: c[0])[1] if cuts else None


def _marked(
    p: npt.NDArray[np.float32], marks: tuple[tuple[int, int, int, int], ...], attached: bool
) -> npt.NDArray[np.float32]:
    """The network's probabilities with the marks settled by shape: the body's chance of a marked letter is its
    base letter's (unless the marks may be attached to a tall body), and the marks above make it the marked letter.
    Two parts are the dots; one wide and flat part, dots run together; one other part a ring (over an A) or an
    accent (over an E), or a lone dot of an Ä or Ö whose other the scan lost: then the plain and the marked letter
    are equally likely."""
    p = p.copy()
    if not attached:
        for marked, base in MARKS.items():
            p[LETTERS.index(base)] += p[LETTERS.index(marked)]
            p[LETTERS.index(marked)] = 0
    if not marks:
        return p
    w, h = marks[0][2], marks[0][3]
    fleck = len(marks) == 1 and max(w, h) <= 2 * DOT  # one dot of two, or dust
    kind = "dots" if len(marks) > 1 or w > 1.7 * h or fleck else "ring"
    share = 0.5 if fleck else 1.0
    for base, marked in ON[kind].items():
        moved = p[LETTERS.index(base)] * share
        p[LETTERS.index(marked)] += moved
        p[LETTERS.index(base)] -= moved
    return p


def _read(ink: Mask, weights: Path, classes: str) -> Reading:
    x = line_features(ink)
    if not len(x):
        return Reading("", 0.0, (), classes)
    p = net(weights).probabilities(x)
    best = p.argmax(axis=1)
    chances = tuple(tuple(float(v) for v in row) for row in p)
    return Reading("".join(classes[i] for i in best), float(p.max(axis=1).min()), chances, classes)
