"""A stop asked for while the CLI still loads, held until the command knows what to do with it.

The CLI's imports take most of a second. Until ``watch`` installs its own handlers, SIGTERM or SIGINT would end the
process by the signal's default action (exit 143 or a traceback), where a service told to stop should exit 0 with
nothing in flight. ``run`` (``python -m pipeline`` and the ``pipeline`` script) holds them before it imports the CLI;
the service then starts stopped (``held``), and every other command gets the signal back as if it had just arrived
(``release``).
"""

from __future__ import annotations

import signal
from types import FrameType

_held: list[int] = []
_holding = False


def _note(signum: int, frame: FrameType | None) -> None:
    _held.append(signum)


def hold() -> None:
    global _holding
    _holding = True
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _note)


def held() -> bool:
    """Whether a stop arrived while held."""
    return bool(_held)


def release() -> None:
    """The default handling back; a stop that arrived meanwhile is delivered now. Nothing where none was held (the
    CLI called in-process)."""
    global _holding
    if not _holding:
        return
    _holding = False
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    arrived = dict.fromkeys(_held)  # each kind once, in the order they came
    _held.clear()
    for signum in arrived:
        signal.raise_signal(signum)


def run() -> int:
    """The CLI, with a stop held while it loads."""
    hold()
    from pipeline.cli import main

    return main()
