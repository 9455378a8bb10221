"""A second reader for hand-written lines of text, independent of tesseract: PP-OCR's recognition model.

Tesseract reads block capitals in a hand it has not seen right about nine times in ten, but its confidence does not
say which nine: a right name comes out at 0.6 and a wrong one at 0.93. PP-OCR's recogniser (a different network,
trained on other data; the model ships inside the ``rapidocr`` wheel, so nothing is fetched at run time) fails on
other lines. Where the two read the same characters, that agreement is the evidence tesseract's confidence is not.

The model is loaded once by the workers' forkserver (``stages.warm``), before it forks the workers, and runs on
onnxruntime's one thread as tesseract does: there is one worker per core.
"""

from __future__ import annotations

import logging
from functools import cache
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
# 48 pixels high; writing at about 40% of that reads as well as filling it (better, in poor scans) and the line, so
# scaled, is half as long: half the time.
ROOM = 2.3


@cache
def _engine() -> Any:
    from rapidocr import RapidOCR

    engine = RapidOCR(params=_PARAMS)
    logging.getLogger("RapidOCR").propagate = False  # its own handler; and never the text it read
    return engine


def warm() -> None:
    """Load the network now (``stages.warm``) rather than on the first scan: the engine loads its model on the
    first line it reads, so it reads one (a bar of ink)."""
    line = np.full((48, 96), 255, np.uint8)
    line[20:28, 8:88] = 0
    read_line(line)


def read_line(grey: npt.NDArray[np.uint8]) -> Reading:
    """One line of writing (a field's crop, the printed form and dust removed); confidence is the model's mean
    character probability."""
    rows = np.flatnonzero((grey < INK).any(axis=1))
    if not len(rows):
        return Reading("", 0.0)
    extra = max(0, round(ROOM * (rows[-1] - rows[0] + 1)) - grey.shape[0])
    grey = np.pad(grey, ((extra // 2, extra - extra // 2), (0, 0)), constant_values=255)
    rgb = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    out = _engine()(rgb, use_det=False, use_cls=False, use_rec=True)
    if not out.txts:
        return Reading("", 0.0)
    return Reading(str(out.txts[0]), float(out.scores[0]))
