"""Assembling the service: settings checked, folders made private, register opened, workers started."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline import limits
from pipeline.conductor import Intake
from pipeline.config import Settings
from pipeline.formspec import load_forms
from pipeline.fsutil import DIR_MODE, fresh_tmp, private_dir, sweep_partial_writes
from pipeline.register import Register
from pipeline.validate import check_domain_model
from pipeline.workers import ProcessRunner

log = logging.getLogger("pipeline")


def prepare(settings: Settings) -> None:
    """Fail loudly at start-up: every definition loads and matches its domain model; folders exist, private."""
    os.umask(0o077)
    limits.check_pypdf()
    for spec in load_forms(settings.forms_dir).values():
        check_domain_model(spec)
    private_dir(settings.inbox)  # created private if missing; an existing inbox may be shared with the mailroom
    for folder in (
        settings.outbox,
        settings.state_dir,
        settings.cases_dir,
        settings.letters_dir,
        settings.archive,
        settings.quarantine,
        settings.review_dir,
        settings.work_dir,
        settings.tmp_dir,
    ):
        private_dir(folder)
        if stat.S_IMODE(folder.stat().st_mode) != DIR_MODE:  # made before, by hand or with another umask
            os.chmod(folder, DIR_MODE)
    for shard in range(256):  # the archive's folders by the sha256's first byte, made once rather than per file
        private_dir(settings.archive / f"{shard:02x}")


@contextmanager
def open_intake(settings: Settings) -> Iterator[Intake]:
    prepare(settings)
    # The workers' private temporary folder: each job names it to its worker (conductor.read_input). This process
    # keeps its own, where multiprocessing's forkserver keeps its socket (whose path may not be long).
    fresh_tmp(settings.tmp_dir)
    swept = sweep_partial_writes(settings.outbox, settings.state_dir)
    if swept:
        log.info("partial writes of a stopped run removed", extra={"event": "start", "count": swept})
    register = Register(settings.database)
    try:
        with ProcessRunner(
            settings.workers,
            settings.forms_dir,
            settings.worker_memory_mb,
            settings.worker_cpu_seconds,
            settings.worker_wall_seconds,
        ) as runner:
            yield Intake(settings, register, runner)
    finally:
        register.close()
