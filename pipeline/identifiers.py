"""Swedish identifiers and formats: parse what a person wrote, return the normalised value or say what is wrong.

Every parser takes the raw text and either returns the normalised string or raises ``ValueError`` with a message
in Swedish that can go straight into a request for completion. The message never repeats the value: it may be a
personnummer, and messages reach logs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers

_PNR = re.compile(
    r"^(?P<century>\d{2})?(?P<yy>\d{2})(?P<mm>\d{2})(?P<dd>\d{2})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$"
)


def luhn_ok(digits: str) -> bool:
    """Luhn over the 10-digit form, weights 2,1,2,1,… from the left (as Skatteverket computes it)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


@dataclass(frozen=True)
class Personnummer:
    """A personnummer or samordningsnummer (day + 60)."""

    birth_date: dt.date
    serial: str  # three digits
    check: str  # one digit
    samordningsnummer: bool

    def __str__(self) -> str:
        day = self.birth_date.day + (60 if self.samordningsnummer else 0)
        return f"{self.birth_date:%Y%m}{day:02d}-{self.serial}{self.check}"

    @property
    def masked(self) -> str:
        return f"{self.birth_date:%Y}XXXX-XXXX"


def parse_personnummer(raw: str, today: dt.date | None = None) -> Personnummer:
    """Accept ``YYYYMMDD-NNNN``, ``YYYYMMDDNNNN``, ``YYMMDD-NNNN``, ``YYMMDDNNNN`` and ``YYMMDD+NNNN`` (aged 100+)."""
    today = today or dt.date.today()
    text = re.sub(r"\s+", "", raw)
    m = _PNR.match(text)
    if not m:
        raise ValueError("personnumret ska skrivas ÅÅÅÅMMDD-NNNN (tolv siffror)")
    yy, mm, dd = int(m["yy"]), int(m["mm"]), int(m["dd"])
    samordning = dd > 60
    if samordning:
        dd -= 60
    if m["century"]:
        if m["sep"] == "+":
            raise ValueError("plustecken används bara med tio siffror; skriv ÅÅÅÅMMDD-NNNN")
        if m["century"] not in ("18", "19", "20"):  # no one alive was born in another century: a misreading
            raise ValueError("personnumret innehåller inget giltigt datum")
        year = int(m["century"]) * 100 + yy
    else:
        # The 10-digit form: the most recent year with those two digits, one century further back with '+'.
        year = today.year - (today.year - yy) % 100
        if m["sep"] == "+":
            year -= 100
    try:
        born = dt.date(year, mm, dd)
    except ValueError:
        raise ValueError("personnumret innehåller inget giltigt datum") from None
    if born > today:
        raise ValueError("personnumret anger ett födelsedatum i framtiden")
    ten = f"{year % 100:02d}{mm:02d}{int(m['dd']):02d}{m['serial']}{m['check']}"
    if not luhn_ok(ten):
        raise ValueError("personnumrets kontrollsiffra stämmer inte")
    return Personnummer(born, m["serial"], m["check"], samordning)


def normalise_personnummer(raw: str, today: dt.date | None = None) -> str:
    return str(parse_personnummer(raw, today))


_SIX_DIGITS = re.compile(r"\d{6}")  # what every match holds: a quick look first, most log lines have none
_PNR_LIKE = re.compile(r"(?<![\w-])(\d{2})?(\d{6})([-+\s]?)(\d{4})(?![\w-])")


def mask_personnummer(text: str) -> str:
    """Mask anything shaped like a personnummer or samordningsnummer in free text (for logs): ten or twelve digits,
    optionally with a separator, whose check digit is right. Ids such as ``RK-…`` are left alone."""

    def mask(m: re.Match[str]) -> str:
        return "[personnummer]" if luhn_ok(m[2] + m[4]) else m[0]

    return _PNR_LIKE.sub(mask, text) if _SIX_DIGITS.search(text) else text


def normalise_postnummer(raw: str) -> str:
    digits = re.sub(r"\s+", "", raw)
    if not re.fullmatch(r"\d{5}", digits) or digits[0] == "0":
        raise ValueError("postnumret ska ha fem siffror, till exempel 123 45")
    return f"{digits[:3]} {digits[3:]}"


_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})$"),
    re.compile(r"^(?P<y>\d{4})[./ ](?P<m>\d{1,2})[./ ](?P<d>\d{1,2})$"),
)


def normalise_date(raw: str) -> str:
    text = raw.strip()
    for form in _DATE_FORMS:
        m = form.match(text) or form.match(re.sub(r"\s+", "", text))
        if m:
            try:
                return dt.date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
            except ValueError:
                raise ValueError("datumet finns inte i kalendern") from None
    raise ValueError("datum ska skrivas ÅÅÅÅ-MM-DD")


def normalise_phone(raw: str) -> str:
    """Keep a leading + and the digits, of a number its country's number plan holds. Without a +, a number
    that can be dialled starts with 0 (an area code, 07 for a mobile, or 00 before a country code): 46701234567 is
    a +46 number whose + was lost (a scan often loses it), never accepted as it stands."""
    text = raw.strip()
    if not re.fullmatch(r"\+?[\d\s\-()/]+", text):
        raise ValueError("telefonnumret får bara innehålla siffror, mellanslag, bindestreck och +")
    digits = re.sub(r"\D", "", text)
    plus = text.startswith("+")
    if not 7 <= len(digits) <= 15:
        raise ValueError("telefonnumret har för få eller för många siffror")
    if not plus and not digits.startswith("0"):
        raise ValueError("telefonnumret ska börja med 0, eller med + och landsnumret")
    # The number plan of its country (libphonenumber's): a Swedish mobile has ten digits, a +1 number eleven. A digit
    # dropped or doubled, or a + read as a 1, seldom gives a number that can exist.
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(text, "SE"))
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise ValueError("telefonnumret finns inte i landets nummerplan: kontrollera siffrorna")
    return ("+" if plus else "") + digits


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


def normalise_email(raw: str) -> str:
    text = raw.strip()
    if text.count("@") != 1 or not _EMAIL.match(text):
        raise ValueError("e-postadressen ska ha formen namn@exempel.se")
    local, domain = text.split("@")
    return f"{local}@{domain.lower()}"


def normalise_text(raw: str) -> str:
    return re.sub(r"\s+", " ", raw).strip()


# What a name or a place may contain: letters in any alphabet, and the marks that join them (Anna-Lena, O'Brien,
# St. Olof). An address adds digits and what house numbers and c/o use. Anything else is a misreading or a mistake.
_CHARSETS = {
    "name": (re.compile(r"^[^\W\d_]+(?:[ \-'.]+[^\W\d_]+)*\.?$"), "får bara innehålla bokstäver"),
    "address": (re.compile(r"^(?:[^\W_]|[ .,\-'/])+$"), "innehåller tecken som inte hör till en adress"),
}


def check_charset(text: str, charset: str) -> None:
    pattern, message = _CHARSETS[charset]
    if not pattern.fullmatch(text):
        raise ValueError(message)
