"""Imported only by the workers' forkserver (a preload of :class:`pipeline.workers.ProcessRunner`).

A stop signal sent to the whole process group (systemd's default ``KillMode=control-group``, ``kill -TERM -PGID``)
reaches the forkserver and the workers too. The forkserver's death would kill every worker mid-document (they die
with their parent), so it ignores ``SIGTERM``, and the workers inherit that: the service alone decides, finishes
the documents in flight, and closes the workers. The forkserver still exits when the service does.
"""

import atexit
import gc
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)

# What reading needs beyond its code is loaded here, once, before the first worker is forked: each worker, and each
# replacement, starts with it (see ``stages.warm``).
from pipeline import stages  # noqa: E402

stages.warm()
# All of it lives as long as the forkserver and its workers: frozen, a worker's collector never walks it (half of a
# filled 7429's collection time, measured) nor writes to its pages, which stay shared with the other workers.
gc.freeze()
atexit.register(gc.unfreeze)  # at the forkserver's exit, collected again: nanobind would report them as leaked
