"""Train the per-character readers: digits (``pipeline/scan/glyphs.npz``) and capitals (``letters.npz``), with
``make glyphs``; ``python -m scripts.train_glyphs digits`` (or ``letters``) trains one.

The characters are drawn in hand-writing and plain fonts from Debian packages (installed by ``scripts/setup.sh
--glyphs``), each many times with the variation of a hand and a scanner: size, slant, rotation, width, stroke weight,
blur. The fonts the test fixtures write with (Comic Neue, Humor Sans, DkgHandwriting) are never used here, so the
bench measures the readers on hands they have not seen. Seeded: the same fonts give the same weights.

Digits: one hidden layer over stroke directions, in numpy. Capitals: small convolutional networks, trained with jax
(``setup.sh --glyphs`` installs it; the service runs them in numpy, ``glyphs.ConvNet``), each drawing also seen
bent as a hand bends a letter (an elastic warp), retraced or written with another pen. Chosen by their reading of
whole fonts held out of training (7 of the 30; ``python -m scripts.train_glyphs letters --held-out``): one hidden
layer read 84.4% of those fonts' capitals, one convolutional network 84.6% unbent, 86.6% to 87.5% bent (three
starts), the three averaged 88.6%.
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
    conv: bool = False  # convolutional networks over the bitmap (glyphs.ConvNet), not one layer over features


KINDS = {
    "digits": Kind(glyphs.CLASSES, glyphs.WEIGHTS, 160, 40),
    "letters": Kind(glyphs.LETTERS, glyphs.LETTER_WEIGHTS, 128, 12, conv=True),
}
HELD_OUT_FONTS = (1, 5, 9, 14, 19, 24, 28)  # FONTS' indices, for --held-out
BENT = 2  # each capital's drawing is seen this many times more, bent (``_bent``)
STARTS = (7, 8, 9)  # the capitals' networks: one per seed, their probabilities averaged


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


def drawings(rng: random.Random, classes: str) -> list[tuple[np.ndarray, float, int, int]]:
    """Every drawing: its ink, the line's capital height, its class and its font (an index into FONTS)."""
    out = []
    for index, name in enumerate(FONTS):
        for _ in range(PER_FONT):
            font = ImageFont.truetype(str(ROOT / name), rng.randint(22, 44))
            for label, char in enumerate(classes):
                if not font_has(ROOT / name, char):
                    continue
                drawn = draw(font, char, rng)
                if drawn is not None:
                    out.append((*drawn, label, index))
    return out


def dataset(rng: random.Random, classes: str) -> tuple[np.ndarray, np.ndarray]:
    drawn = drawings(rng, classes)
    return np.stack([glyphs.features(ink, height) for ink, height, _, _ in drawn]), np.array([d[2] for d in drawn])


def _bent(square: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A letter's bitmap as another hand might draw it: warped by a smooth random field of up to 1 to 3 pixels,
    and sometimes retraced a pixel or two aside (a sketchy hand draws strokes twice), heavier or lighter."""
    side = square.shape[0]
    rows, cols = np.mgrid[0:side, 0:side].astype(np.float32)
    alpha, sigma = rng.uniform(1.0, 3.0), rng.uniform(3.0, 5.0)
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (side, side)).astype(np.float32), (0, 0), sigma)
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (side, side)).astype(np.float32), (0, 0), sigma)
    most = max(np.abs(dx).max(), np.abs(dy).max(), 1e-6)
    out = cv2.remap(square, cols + dx / most * alpha, rows + dy / most * alpha, cv2.INTER_LINEAR)
    pen = rng.random()
    if pen < 0.3:
        out = np.maximum(out, np.roll(out, tuple(int(v) for v in rng.integers(-2, 3, 2)), axis=(0, 1)))
    elif pen < 0.45:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    elif pen < 0.55:
        out = cv2.erode(out, np.ones((2, 2), np.uint8))
    return np.asarray(out)


def train_conv(
    squares: np.ndarray, shapes: np.ndarray, y: np.ndarray, k: int, hidden: int, epochs: int, seed: int
) -> dict[str, np.ndarray]:
    """One network as ``glyphs.ConvNet`` runs it, trained with jax: cross-entropy, weight decay, Adam, batches of
    128. jax is imported here: only ``make glyphs`` needs it."""
    import jax
    import jax.numpy as jnp

    smean, sstd = shapes.mean(axis=0), shapes.std(axis=0) + 1e-3
    keys = jax.random.split(jax.random.PRNGKey(seed), 4)
    flat = 32 * (glyphs.LETTER_SIDE // 4) ** 2 + shapes.shape[1]

    def he(key: Any, shape: tuple[int, ...], fan: int) -> Any:
        return jax.random.normal(key, shape) * np.sqrt(2 / fan)

    params = {
        "c1": he(keys[0], (16, 1, 3, 3), 9),
        "b1": jnp.zeros(16),
        "c2": he(keys[1], (32, 16, 3, 3), 144),
        "b2": jnp.zeros(32),
        "d1": he(keys[2], (flat, hidden), flat),
        "e1": jnp.zeros(hidden),
        "d2": he(keys[3], (hidden, k), hidden),
        "e2": jnp.zeros(k),
    }

    def pooled(a: Any, w: Any, b: Any) -> Any:
        a = jax.nn.relu(jax.lax.conv_general_dilated(a, w, (1, 1), "SAME") + b[None, :, None, None])
        n, c, h, width = a.shape
        return a.reshape(n, c, h // 2, 2, width // 2, 2).max(axis=(3, 5))

    def loss(p: dict[str, Any], x: Any, s: Any, labels: Any) -> Any:
        a = pooled(pooled(x, p["c1"], p["b1"]), p["c2"], p["b2"])
        h = jax.nn.relu(jnp.concatenate([a.reshape(len(a), -1), (s - smean) / sstd], axis=1) @ p["d1"] + p["e1"])
        logp = jax.nn.log_softmax(h @ p["d2"] + p["e2"])
        decay = sum(jnp.sum(p[n] ** 2) for n in ("c1", "c2", "d1", "d2"))
        return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], 1)) + 1e-4 * decay

    def step(p: Any, m: Any, v: Any, t: int, x: Any, s: Any, labels: Any) -> Any:
        g = jax.grad(loss)(p, x, s, labels)
        m = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m, g)
        v = jax.tree_util.tree_map(lambda v, g: 0.999 * v + 0.001 * g * g, v, g)
        p = jax.tree_util.tree_map(
            lambda p, m, v: p - 1e-3 * (m / (1 - 0.9**t)) / (jnp.sqrt(v / (1 - 0.999**t)) + 1e-8), p, m, v
        )
        return p, m, v

    compiled = jax.jit(step)
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    rng, t = np.random.default_rng(seed), 0
    for _ in range(epochs):
        order = rng.permutation(len(squares))
        for start in range(0, len(order) - 127, 128):
            idx, t = order[start : start + 128], t + 1
            params, m, v = compiled(params, m, v, t, squares[idx, None] / 255, shapes[idx], y[idx])
    return {"smean": smean, "sstd": sstd, **{n: np.asarray(a) for n, a in params.items()}}


def fit_conv(kind: Kind, held_out: bool) -> None:
    """The capitals' networks, one per start in STARTS, stored stacked. With ``held_out``, the fonts HELD_OUT_FONTS
    are left out of training and read afterwards, and nothing is saved: how the networks read a hand they never
    saw, the measure their design was chosen by."""
    drawn = drawings(random.Random(SEED), kind.classes)
    bitmaps = [glyphs.bitmap(ink, height) for ink, height, _, _ in drawn]
    squares = np.stack([(sq * 255).round().astype(np.uint8) for sq, _ in bitmaps])
    shapes = np.stack([shape for _, shape in bitmaps])
    y, fonts = np.array([d[2] for d in drawn]), np.array([d[3] for d in drawn])
    test = np.isin(fonts, HELD_OUT_FONTS) if held_out else np.zeros(len(y), bool)
    rng = np.random.default_rng(SEED)
    learn = np.flatnonzero(~test)
    bent = [np.stack([_bent(squares[i].astype(np.float32) / 255, rng) for i in learn]) for _ in range(BENT)]
    x = np.concatenate([squares[learn], *[(b * 255).round().astype(np.uint8) for b in bent]])
    s, labels = np.tile(shapes[learn], (BENT + 1, 1)), np.tile(y[learn], BENT + 1)
    nets = [train_conv(x, s, labels, len(kind.classes), kind.hidden, kind.epochs, seed) for seed in STARTS]
    arrays: dict[str, Any] = {n: np.stack([w[n] for w in nets]).astype(np.float32) for n in nets[0]}
    net = glyphs.ConvNet.trained(arrays)
    if held_out:
        p = net.probabilities((squares[test] / 255).astype(np.float32), shapes[test])
        right = float((p.argmax(axis=1) == y[test]).mean())
        print(f"{kind.weights.name}: fonts held out of training, their drawings read right: {right:.2%}")
        return
    np.savez_compressed(kind.weights, **arrays)
    print(f"{kind.weights.name}: {len(y)} drawings, {BENT} times more bent; {len(FONTS)} fonts; {len(STARTS)} networks")


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


def fit(kind: Kind, held_out: bool = False) -> None:
    if kind.conv:
        fit_conv(kind, held_out)
        return
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
    held_out = "--held-out" in argv
    for name in [a for a in argv if a != "--held-out"] or list(KINDS):
        fit(KINDS[name], held_out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
