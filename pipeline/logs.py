"""Operational logs: JSON lines with document ids, never file names or personal data.

The filter masks anything shaped like a personnummer or samordningsnummer in the message and its arguments, as a
last line of defence: code logs document ids, not content.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

from pipeline.identifiers import mask_personnummer

_EXTRA = ("document_id", "cases", "step", "code", "count", "seconds", "event")


class MaskPersonnummer(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_personnummer(str(record.msg))
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(mask_personnummer(a) if isinstance(a, str) else a for a in args)
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in _EXTRA if hasattr(record, k)})
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__  # the type only: exception text may quote content
        return mask_personnummer(json.dumps(entry, ensure_ascii=False))


class LibraryMessage(logging.Filter):
    """pypdf and pdfminer warn with document content (a field's value, a string they could not decode), watchdog
    with file names: keep only which library warned, and at what level."""

    def filter(self, record: logging.LogRecord) -> bool:
        about = " in a document" if record.name.split(".")[0] in DOCUMENT_LIBRARIES else ""
        record.msg = f"{record.name} reported a problem{about} ({record.levelname.lower()})"
        record.args = ()
        record.exc_info = None
        return True


DOCUMENT_LIBRARIES = ("pypdf", "pdfminer", "pdfplumber", "PIL", "reportlab")
LIBRARIES = (*DOCUMENT_LIBRARIES, "watchdog", "py.warnings")


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    handler.addFilter(MaskPersonnummer())
    root = logging.getLogger("pipeline")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)  # warnings.warn text can quote content too
    library = logging.StreamHandler(sys.stderr)
    library.setFormatter(JsonLines())
    library.addFilter(LibraryMessage())
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        logger.handlers[:] = [library]
        logger.setLevel(logging.ERROR)
        logger.propagate = False
