"""No personal data in logs: the masking filter, and the whole pipeline over every fixture at DEBUG."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import logs
from pipeline.formspec import FieldType, FormSpec
from pipeline.identifiers import luhn_ok
from tests.conftest import FIXTURES, ROOT

# Synthetic numbers with a correct check digit: a personnummer, and a samordningsnummer (day + 60).
PNR = "19811218-9876"
SAMORDNING = "19701063-2391"


def test_the_synthetic_numbers_are_valid() -> None:
    assert luhn_ok(PNR[2:].replace("-", "")) and luhn_ok(SAMORDNING[2:].replace("-", ""))


def _logged(*records: tuple[str, tuple[object, ...]], exc: BaseException | None = None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonLines())
    handler.addFilter(logs.MaskPersonnummer())
    logger = logging.getLogger("pipeline.test-masking")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        for msg, args in records:
            logger.debug(msg, *args)
        if exc is not None:
            try:
                raise exc
            except type(exc):
                logger.exception("failed")
    finally:
        logger.handlers.clear()
    return stream.getvalue()


@pytest.mark.parametrize(
    "number",
    [
        PNR,
        PNR.replace("-", ""),
        PNR[2:],
        PNR[2:].replace("-", ""),
        PNR[2:].replace("-", "+"),
        SAMORDNING,
        SAMORDNING.replace("-", ""),
        SAMORDNING[2:],
    ],
)
def test_personnummer_and_samordningsnummer_are_masked_in_message_and_arguments(number: str) -> None:
    out = _logged((f"read {number} on page 1", ()), ("value %s", (number,)), ("value %r", (number,)))
    digits = number.replace("-", "").replace("+", "")
    assert digits[-4:] not in out, out
    assert out.count("[personnummer]") == 3


def test_numbers_with_a_wrong_check_digit_and_case_ids_are_left_alone() -> None:
    wrong = PNR[:-1] + str((int(PNR[-1]) + 1) % 10)
    out = _logged((f"case RK-0123456789AB document {wrong}", ()))
    assert "RK-0123456789AB" in out and wrong in out


def test_an_exception_that_reaches_a_log_brings_its_type_not_its_text() -> None:
    out = _logged(exc=ValueError(f"bad value {PNR} for Nguyễn Thị Ánh"))
    entry = json.loads(out)
    assert entry["error"] == "ValueError"
    assert "Nguyễn" not in out and PNR not in out and PNR[-4:] not in out


@pytest.mark.parametrize(
    ("library", "says"),
    [
        ("pypdf._reader", "pypdf._reader reported a problem in a document (error)"),
        ("watchdog.observers.inotify", "watchdog.observers.inotify reported a problem (error)"),
    ],
)
def test_a_library_error_keeps_only_who_reported_it(library: str, says: str) -> None:
    """A parser's message may quote a field, watchdog's a file name: neither is logged; only a document parser's
    is said to be about a document."""
    stream = io.StringIO()
    logs.configure("INFO")
    logging.getLogger(library.split(".")[0]).handlers[0].setStream(stream)  # type: ignore[attr-defined]
    logging.getLogger(library).error("could not decode %s in /inbox/Nguyễn %s.pdf", "Ödegård", PNR)
    [line] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert line["message"] == says and line["level"] == "error"
    assert "Nguyễn" not in stream.getvalue() and "Ödegård" not in stream.getvalue() and PNR not in stream.getvalue()


# --- the whole pipeline over the fixtures ---------------------------------------------------------------------


def _personal_values(specs: dict[str, FormSpec]) -> tuple[set[str], set[str]]:
    """Every personnummer and name the fixtures' expected files hold."""
    numbers: set[str] = set()
    names: set[str] = set()
    for path in FIXTURES.rglob("*.expected.json"):
        expected = json.loads(path.read_text(encoding="utf-8"))
        spec = specs.get(expected.get("form_id", ""))
        if spec is None:
            continue
        for fs in spec.fields:
            value = expected["fields"].get(fs.name)
            if not isinstance(value, str) or not value:
                continue
            if fs.type is FieldType.PERSONNUMMER:
                digits = re.sub(r"\D", "", value)
                numbers |= {value, digits, digits[2:], f"{digits[2:8]}-{digits[8:]}"}
            elif "namn" in fs.name:
                names.add(value)
                names |= {word for word in value.split() if len(word) >= 4}
    return numbers, names


def test_no_personnummer_and_no_name_from_the_fixtures_reaches_a_log(
    specs: dict[str, FormSpec], env: dict[str, str], tmp_path: Path
) -> None:
    inputs = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".pdf", ".tif", ".png") and "blank" not in p.name)
    assert len(inputs) > 40
    numbers, names = _personal_values(specs)
    assert len(numbers) > 40 and len(names) > 40
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--log-level", "DEBUG", "process", "--json", *map(str, inputs)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(inputs)
    assert {r["outcome"] for r in results} >= {"recorded", "review"}, "the run reached records and review"
    log = done.stderr
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines, "the run logged"
    assert all(line.get("document_id") or line.get("event") for line in lines if line["level"] != "debug")
    folded = log.casefold()
    leaked_numbers = sorted(n for n in numbers if n in log)
    leaked_names = sorted(n for n in names if n.casefold() in folded)
    assert not leaked_numbers and not leaked_names, (leaked_numbers, leaked_names)
    for path in inputs:
        assert path.name not in log, "input file names are not logged either"
