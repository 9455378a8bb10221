"""Swedish identifiers and formats, with property tests for the personnummer parser."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import identifiers as ids
from pipeline.formspec import FormSpec
from pipeline.models import RawField, Source
from pipeline.validate import validate

TODAY = dt.date(2026, 11, 25)


def _check_digit(nine: str) -> str:
    return next(str(d) for d in range(10) if ids.luhn_ok(nine + str(d)))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19850312-2395", "19850312-2395"),
        ("198503122395", "19850312-2395"),
        ("850312-2395", "19850312-2395"),
        ("8503122395", "19850312-2395"),
        (" 19850312 - 2395 ", "19850312-2395"),
        ("19850372-2392", "19850372-2392"),  # samordningsnummer: day 12 + 60
    ],
)
def test_personnummer_forms(raw: str, expected: str) -> None:
    assert ids.normalise_personnummer(raw, TODAY) == expected


def test_plus_means_a_hundred_years_or_more() -> None:
    nine = "201112123"
    pnr = f"{nine[:6]}+{nine[6:]}{_check_digit(nine)}"
    assert ids.normalise_personnummer(pnr, TODAY).startswith("19201112")
    assert ids.normalise_personnummer(pnr.replace("+", "-"), TODAY).startswith("20201112")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("19850312-2394", "kontrollsiffra"),
        ("19850231-2395", "giltigt datum"),
        ("20991231-1234", "framtiden"),
        ("1985-03-12", "tolv siffror"),
        ("19850312+2395", "plustecken"),
        ("09031130-9306", "giltigt datum"),  # a misread century: once accepted as the year 903
        ("abc", "tolv siffror"),
    ],
)
def test_personnummer_errors_explain_without_repeating_the_value(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        ids.normalise_personnummer(raw, TODAY)
    assert raw.strip() not in str(err.value)


@given(st.dates(dt.date(1900, 1, 1), TODAY), st.integers(0, 999), st.booleans())
def test_any_valid_personnummer_round_trips(born: dt.date, serial: int, samordning: bool) -> None:
    day = born.day + (60 if samordning else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    check = _check_digit(nine)
    text = f"{born:%Y%m}{day:02d}-{serial:03d}{check}"
    parsed = ids.parse_personnummer(text, TODAY)
    assert str(parsed) == text
    assert parsed.birth_date == born and parsed.samordningsnummer == samordning
    wrong = str((int(check) + 1) % 10)
    with pytest.raises(ValueError, match="kontrollsiffra"):
        ids.parse_personnummer(text[:-1] + wrong, TODAY)


@given(st.from_regex(r"\A\d{8}-?\d{4}\Z"))
def test_a_normalised_personnummer_parses_to_itself(text: str) -> None:
    """What the parser accepts, it accepts again in its normal form (a domain model re-checks accepted values)."""
    try:
        once = ids.normalise_personnummer(text, TODAY)
    except ValueError:
        return
    assert ids.normalise_personnummer(once, TODAY) == once


@given(st.text(max_size=20))
def test_parser_never_fails_other_than_with_value_error(text: str) -> None:
    try:
        result = ids.normalise_personnummer(text, TODAY)
    except ValueError:
        return
    assert len(result) == 13 and result[8] == "-"


def test_masking_hides_personnummer_in_text() -> None:
    masked = ids.mask_personnummer("case for 19850312-2395 and 850312-2395 and 198503122395, id 42")
    assert "2395" not in masked and masked.count("[personnummer]") == 3 and "id 42" in masked


def test_masking_leaves_ids_and_numbers_that_fail_the_check_digit() -> None:
    text = "case RK-623979064076, document 0100eeace5fe-1, invoice 1985031223"
    assert ids.mask_personnummer(text) == text


@pytest.mark.parametrize(("raw", "expected"), [("12345", "123 45"), ("123 45", "123 45"), (" 98 1 23", "981 23")])
def test_postnummer(raw: str, expected: str) -> None:
    assert ids.normalise_postnummer(raw) == expected


@pytest.mark.parametrize("raw", ["1234", "123456", "01234", "12a45"])
def test_postnummer_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        ids.normalise_postnummer(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("2026-11-25", "2026-11-25"), ("20261125", "2026-11-25"), ("2026.1.5", "2026-01-05")]
)
def test_dates(raw: str, expected: str) -> None:
    assert ids.normalise_date(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "25/11/2026", "igår"])
def test_dates_reject(raw: str) -> None:
    with pytest.raises(ValueError):
        ids.normalise_date(raw)


def test_phone_and_email() -> None:
    assert ids.normalise_phone("070-123 45 67") == "0701234567"
    assert ids.normalise_phone("+46 70 123 45 67") == "+46701234567"
    assert ids.normalise_phone("0046 70 123 45 67") == "0046701234567"
    with pytest.raises(ValueError, match="börja med 0"):
        ids.normalise_phone("46 70 123 45 67")  # a +46 number whose + was lost: not dialable as it stands
    with pytest.raises(ValueError, match="börja med 0"):
        ids.normalise_phone("70 123 45 67")
    with pytest.raises(ValueError):
        ids.normalise_phone("ring mig")
    assert ids.normalise_phone("08-465 004 17") == "0846500417"
    # Numbers no country's plan holds: a mobile with a digit dropped or doubled, a +46 whose + was read as +1.
    for impossible in ("070-174 06", "070-174 06 900", "+146701740697", "+45 70 174 06 63"):
        with pytest.raises(ValueError, match="nummerplan"):
            ids.normalise_phone(impossible)
    assert ids.normalise_email(" Anna.Berg@Region.SE ") == "Anna.Berg@region.se"
    for bad in ("anna@@region.se", "anna.region.se", "anna@region"):
        with pytest.raises(ValueError):
            ids.normalise_email(bad)


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("ANNA-LENA O'BRIEN", "name"),
        ("NGUYỄN", "name"),
        ("ST. OLOF", "name"),
        ("STORGATAN 12 B", "address"),
        ("C/O SVENSSON, BOX 12", "address"),
        ("ÄNGSVÄGEN 6-8", "address"),
    ],
)
def test_names_and_addresses_as_people_write_them(text: str, charset: str) -> None:
    ids.check_charset(text, charset)


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("50", "name"),
        ("B0", "name"),
        ("MALMÖ]", "name"),
        ("ANNA_LENA", "name"),
        ("BACKGATAN 6]", "address"),
        ("ÄNGSVÄGEN &", "address"),
        ("STORGATAN 1|", "address"),
    ],
)
def test_what_no_name_or_address_contains_is_refused(text: str, charset: str) -> None:
    """A misreading that no person would write ('50' for BO, ']' for 1) is never accepted as a name or address."""
    with pytest.raises(ValueError, match=r"bokstäver|adress"):
        ids.check_charset(text, charset)


def test_a_name_with_digits_goes_to_a_person(specs: dict[str, FormSpec]) -> None:
    spec = specs["ansokan-samordning"]
    values, problems = validate(spec, {"fornamn": RawField(value="50", source=Source.OCR, confidence=0.99)})
    assert not values["fornamn"].accepted
    assert [p.message for p in problems if p.field == "fornamn"] == ["Förnamn: får bara innehålla bokstäver"]
