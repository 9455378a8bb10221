"""Train the per-character readers: digits (``pipeline/scan/glyphs.npz``) and capitals (``letters.npz``), with
``make glyphs``; ``python -m scripts.train_glyphs digits`` (or ``letters``) trains one.

The characters are drawn in hand-writing and plain fonts from Debian packages (installed by ``scripts/setup.sh
--glyphs``), each many times with the variation of a hand and a scanner: size, slant, rotation, width, stroke weight,
blur. The fonts the test fixtures write with (Comic Neue, Humor Sans, DkgHandwriting) are never used here, so the
bench measures the readers on hands they have not seen. Seeded: the same fonts give the same weights.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fixtures.scans import font_has
from pipeline.scan import glyphs

FONTS = [
    "truetype/breip/Breip.ttf",
    "opentype/bwht/BecauseWeBuild-Regular.otf",
    "opentype/bwht/BecauseWeConnect-Regular.otf",
    "opentype/bwht/BecauseWeCreate-Regular.otf",
    "opentype/bwht/BecauseWeLearn-Regular.otf",
    "opentype/bwht/BecauseWeMentor-Regular.otf",
    "opentype/bwht/BecauseWeOrganize-Regular.otf",
    "truetype/femkeklaver/femkeklaver.ttf",
    "truetype/klee/KleeOne-Regular.ttf",
    "truetype/klee/KleeOne-SemiBold.ttf",
    "truetype/kristi/Kristi.ttf",
    "truetype/rufscript/Rufscript010.ttf",
    "truetype/tomsontalks/TomsonTalks.ttf",
    "truetype/sjfonts/Delphine.ttf",
    "truetype/sjfonts/SteveHand.ttf",
    "truetype/tlwg/Purisa.ttf",
    "truetype/tlwg/Purisa-Bold.ttf",
    "truetype/tlwg/Purisa-Oblique.ttf",
    "truetype/yusei-magic/YuseiMagic-Regular.ttf",
    "truetype/kiloji/kiloji.ttf",
    "truetype/kiloji/kiloji_p.ttf",
    "opentype/opendyslexic/OpenDyslexic-Regular.otf",
    "opentype/jura/Jura-Regular.otf",
    "opentype/jura/Jura-Bold.otf",
    "truetype/gnutypewriter/GNUTypewriter.ttf",
    "truetype/dejavu/DejaVuSans.ttf",
    "truetype/liberation/LiberationSans-Regular.ttf",
    "truetype/freefont/FreeSans.ttf",
    "opentype/urw-base35/URWGothic-Book.otf",
    "opentype/urw-base35/NimbusSans-Italic.otf",
]
ROOT = Path("/usr/share/fonts")
PER_FONT = 120  # drawings of each character in each font
SEED = 7


@dataclass(frozen=True)
class Kind:
    classes: str
    weights: Path
    hidden: int  # the network's hidden units: capitals are more classes, told apart by finer strokes
    epochs: int


KINDS = {
    "digits": Kind(glyphs.CLASSES, glyphs.WEIGHTS, 160, 40),
    "letters": Kind(glyphs.LETTERS, glyphs.LETTER_WEIGHTS, 320, 30),
}


def draw(font: ImageFont.FreeTypeFont, char: str, rng: random.Random) -> tuple[np.ndarray, float] | None:
    """One drawing of ``char``: its ink after a hand's and a scanner's variation, and the line's capital height."""
    canvas = Image.new("L", (200, 200), 0)
    ImageDraw.Draw(canvas).text((100, 100), char, font=font, fill=255, anchor="ls")
    ink = np.asarray(canvas)
    cap = font.getbbox("0", anchor="ls")
    cap_height = float(cap[3] - cap[1])
    angle = rng.uniform(-5, 5)
    shear = rng.uniform(-0.1, 0.25)
    sx = rng.uniform(0.8, 1.2)
    m = cv2.getRotationMatrix2D((100, 100), angle, 1.0)
    m = m @ np.array([[sx, -shear, shear * 100 - (sx - 1) * 100], [0, 1, 0], [0, 0, 1]])
    ink = cv2.warpAffine(ink, m, (200, 200), flags=cv2.INTER_LINEAR)
    weight = rng.choice((-1, 0, 1, 1, 2, 2, 3))
    if weight > 0:
        ink = cv2.dilate(ink, np.ones((weight + 1, weight + 1), np.uint8))
    elif weight < 0:
        ink = cv2.erode(ink, np.ones((2, 2), np.uint8))
    if rng.random() < 0.5:
        ink = cv2.GaussianBlur(ink, (3, 3), rng.uniform(0.3, 1.0))
    mask = ((ink > rng.uniform(90, 160)) * 255).astype(np.uint8)
    chars = glyphs.characters(mask)
    if len(chars) != 1:
        return None
    return chars[0], cap_height * rng.uniform(0.9, 1.1)


def dataset(rng: random.Random, classes: str) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for name in FONTS:
        for _ in range(PER_FONT):
            font = ImageFont.truetype(str(ROOT / name), rng.randint(22, 44))
            for label, char in enumerate(classes):
                if not font_has(ROOT / name, char):
                    continue
                drawn = draw(font, char, rng)
                if drawn is not None:
                    xs.append(glyphs.features(*drawn))
                    ys.append(label)
    return np.stack(xs), np.array(ys)


def train(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, k: int, hidden: int, epochs: int
) -> dict[str, np.ndarray]:
    """A one-hidden-layer network over ``k`` classes, softmax, Adam: small enough to run in numpy in the worker."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-3
    x = (x - mean) / std
    params = {
        "w1": rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0, np.sqrt(2 / hidden), (hidden, k)),
        "b2": np.zeros(k),
    }
    moments = {n: (np.zeros_like(p), np.zeros_like(p)) for n, p in params.items()}
    onehot = np.eye(k)[y]
    step, rate, decay = 0, 1e-3, 1e-4
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            h = np.maximum(x[idx] @ params["w1"] + params["b1"], 0)
            logits = h @ params["w2"] + params["b2"]
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            d2 = (p - onehot[idx]) / len(idx)
            dh = (d2 @ params["w2"].T) * (h > 0)
            grads = {"w2": h.T @ d2, "b2": d2.sum(0), "w1": x[idx].T @ dh, "b1": dh.sum(0)}
            step += 1
            for n, g in grads.items():
                if n.startswith("w"):
                    g = g + decay * params[n]
                m, v = moments[n]
                m[:] = 0.9 * m + 0.1 * g
                v[:] = 0.999 * v + 0.001 * g * g
                params[n] -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return {"mean": mean, "std": std, **params}


def fit(kind: Kind) -> None:
    rng = random.Random(SEED)
    x, y = dataset(rng, kind.classes)
    order = np.random.default_rng(SEED).permutation(len(x))
    held = order[: len(x) // 10]
    learn = order[len(x) // 10 :]
    weights = train(x[learn], y[learn], np.random.default_rng(SEED), len(kind.classes), kind.hidden, kind.epochs)
    net = glyphs.Net(**{k: v.astype(np.float32) for k, v in weights.items()})
    accuracy = float((net.probabilities(x[held]).argmax(axis=1) == y[held]).mean())
    print(f"{kind.weights.name}: {len(x)} drawings, {len(FONTS)} fonts; held-out drawings read right: {accuracy:.2%}")
    arrays: dict[str, Any] = {k: v.astype(np.float32) for k, v in weights.items()}
    np.savez_compressed(kind.weights, **arrays)


def main(argv: list[str]) -> int:
    for name in argv or list(KINDS):
        fit(KINDS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
