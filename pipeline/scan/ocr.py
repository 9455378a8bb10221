"""The OCR engine seam. pytesseract is the default; anything with ``words(image)`` can stand in (tests, tesserocr).

One call per page: the caller stitches every field crop of a page into one image, so the engine starts once per
page, not once per field. ``OMP_THREAD_LIMIT=1`` is set by the worker: tesseract's own threading is several times
slower on a small machine where every core already runs a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0..1
    left: int
    top: int
    width: int
    height: int
    line: tuple[int, int, int]  # (block, paragraph, line) as the engine grouped them


TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"


class OcrEngine(Protocol):
    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        """Words in the image; ``charset`` limits what may be recognised (digits for a personnummer); ``model`` is
        the trained model to read with (Swedish by default; the Swedish model has no '@', so e-mail reads with
        English)."""
        ...


class Tesseract:
    """pytesseract: a tesseract process per call, Swedish model, LSTM engine, the stitched crops as one block."""

    def __init__(self, config: str = "--oem 1 --psm 6") -> None:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self.config = config

    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        import pytesseract

        config = self.config + (f" -c tessedit_char_whitelist={charset}" if charset else "")
        data = pytesseract.image_to_data(image, lang=model, config=config, output_type=pytesseract.Output.DICT)
        out = []
        for i, text in enumerate(data["text"]):
            conf = float(data["conf"][i])
            if not text.strip() or conf < 0:
                continue
            out.append(
                Word(
                    text.strip(),
                    conf / 100,
                    int(data["left"][i]),
                    int(data["top"][i]),
                    int(data["width"][i]),
                    int(data["height"][i]),
                    (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i])),
                )
            )
        return out


class TesserOcr:
    """The same tesseract kept loaded in the worker (tesserocr): no process start and no model load per page."""

    def __init__(self) -> None:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        import tesserocr

        self._tesserocr = tesserocr
        self._apis: dict[str, Any] = {}
        self._api("swe")  # loaded now, so a missing model fails at start-up rather than on the first scan

    def _api(self, model: str) -> Any:
        if model not in self._apis:
            t = self._tesserocr
            self._apis[model] = t.PyTessBaseAPI(path=TESSDATA, lang=model, psm=t.PSM.SINGLE_BLOCK, oem=t.OEM.LSTM_ONLY)
        return self._apis[model]

    def words(self, image: Image.Image, charset: str | None = None, model: str = "swe") -> list[Word]:
        t = self._tesserocr
        api = self._api(model)
        api.SetVariable("tessedit_char_whitelist", charset or "")
        api.SetImage(image)
        api.Recognize()
        out: list[Word] = []
        it = api.GetIterator()
        level = t.RIL.WORD
        block = par = line = 0
        for word in t.iterate_level(it, level):
            if word.IsAtBeginningOf(t.RIL.BLOCK):
                block += 1
            if word.IsAtBeginningOf(t.RIL.PARA):
                par += 1
            if word.IsAtBeginningOf(t.RIL.TEXTLINE):
                line += 1
            try:
                text = (word.GetUTF8Text(level) or "").strip()
            except RuntimeError:  # tesserocr raises where the engine found a word box but no text
                continue
            box = word.BoundingBox(level)
            if not text or box is None:
                continue
            x0, y0, x1, y1 = box
            out.append(Word(text, word.Confidence(level) / 100, x0, y0, x1 - x0, y1 - y0, (block, par, line)))
        return out


def default_engine() -> OcrEngine:
    """tesserocr where it is installed (it is a project dependency), pytesseract otherwise."""
    try:
        return TesserOcr()
    except ImportError:
        return Tesseract()
