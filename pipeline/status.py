"""``pipeline status``: what the service has in hand, from the ledger and a listing of the inbox."""

from __future__ import annotations

import datetime as dt
import os

from pydantic import BaseModel

from pipeline.config import Settings
from pipeline.register import FINAL, WAITING, Register
from pipeline.watch import candidates


class Backlog(BaseModel):
    count: int
    oldest_seconds: float | None


class Status(BaseModel):
    ledger: dict[str, int]  # inputs per ledger state
    inbox_files: int  # files in the inbox now (the service may not have seen them yet)
    oldest_waiting_seconds: float | None  # in the inbox, or claimed and not finished
    review: Backlog  # cases waiting for a person
    per_minute_last_hour: float  # inputs finished (not counting duplicates) per minute over the last hour
    documents: dict[str, int]  # one per content, by outcome
    cases: dict[str, int]
    letters: dict[str, int]


def status(settings: Settings, register: Register) -> Status:
    now = dt.datetime.now(dt.UTC)
    oldest = register.oldest_waiting()
    inbox_files = 0
    for path in candidates(settings.inbox):
        inbox_files += 1
        try:
            mtime = dt.datetime.fromtimestamp(os.lstat(path).st_mtime, dt.UTC)
        except FileNotFoundError:
            continue
        oldest = mtime if oldest is None else min(oldest, mtime)
    count, oldest_review = register.review_backlog()
    counts = register.counts()
    return Status(
        ledger=register.ledger_counts(),
        inbox_files=inbox_files,
        oldest_waiting_seconds=_age(now, oldest),
        review=Backlog(count=count, oldest_seconds=_age(now, oldest_review)),
        per_minute_last_hour=round(register.finished_since(now - dt.timedelta(hours=1)) / 60, 2),
        documents=counts["documents"],
        cases=counts["cases"],
        letters=counts["letters"],
    )


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    return None if then is None else round(max((now - then).total_seconds(), 0.0), 1)


def describe(s: Status) -> list[str]:
    """For people: one line per thing to look at."""
    waiting = ", ".join(f"{state} {s.ledger[state]}" for state in WAITING)
    final = ", ".join(f"{state} {s.ledger[state]}" for state in FINAL)
    return [
        f"waiting: {waiting}; files in the inbox {s.inbox_files}",
        f"oldest waiting input: {_duration(s.oldest_waiting_seconds)}",
        f"finished: {final}",
        f"review backlog: {s.review.count} case(s), oldest {_duration(s.review.oldest_seconds)}",
        f"throughput: {s.per_minute_last_hour} documents per minute over the last hour",
        f"letters: written {s.letters['written']}, batched {s.letters['batched']}",
    ]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
