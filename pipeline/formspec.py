"""Form definitions: one TOML file per form in ``forms/<form-id>/form.toml``.

The definition is the single source of truth for a form: blank-form generation, identification, extraction and
validation all read it. It is loaded into a typed, frozen model at start-up so a mistake fails loudly there, not
half-way through a document.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.errors import FormDefinitionError

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"

# A4 in PDF points; boxes are given with the origin at the bottom-left, as PDF does.
A4 = (595.28, 841.89)

Box = Annotated[tuple[float, float, float, float], Field(description="x0, y0, x1, y1 in PDF points, bottom-left")]


class FieldType(StrEnum):
    TEXT = "text"
    FREETEXT = "freetext"
    PERSONNUMMER = "personnummer"
    DATE = "date"
    POSTNUMMER = "postnummer"
    PHONE = "phone"
    EMAIL = "email"
    CHECKBOX = "checkbox"
    CHOICE = "choice"
    SIGNATURE = "signature"


# Types whose value is written character by character into a comb of boxes.
COMB_TYPES = {FieldType.PERSONNUMMER: 13, FieldType.DATE: 10}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_box(box: tuple[float, float, float, float], where: str) -> None:
    x0, y0, x1, y1 = box
    if not (0 <= x0 < x1 <= A4[0] and 0 <= y0 < y1 <= A4[1]):
        raise ValueError(f"{where}: box {box} is not a non-empty box inside an A4 page")


class Option(_Strict):
    value: str = Field(pattern=r"^[a-z0-9_]+$", description="the normalised value, also the AcroForm export name")
    label: str
    box: Box

    @model_validator(mode="after")
    def _box_ok(self) -> Self:
        _check_box(self.box, f"option {self.value}")
        return self


# Values a person wrote, rather than ticks and choices that rules decide by.
_VALUE_TYPES = {FieldType.TEXT, FieldType.FREETEXT, FieldType.EMAIL, FieldType.DATE, FieldType.PHONE}


class FieldSpec(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: FieldType
    required: bool = False
    page: int = Field(ge=1)
    box: Box | None = None
    options: tuple[Option, ...] = ()
    acroform: tuple[str, ...] = Field(default=(), description="AcroForm field names (the first is ours, then aliases)")
    max_length: int | None = Field(default=None, ge=1)
    lines: int = Field(default=1, ge=1, description="rows of a free-text box")
    hint: str | None = Field(default=None, description="small print beside the label, e.g. a format")
    personal: bool = Field(default=False, description="data about the patient, left out when consent is missing")
    charset: Literal["name", "address"] | None = Field(
        default=None, description="what a text may contain: a name or place has no digits, an address no brackets"
    )
    repeats: tuple[str, ...] = Field(
        default=(),
        description="text fields whose values, joined by a space, this text field usually repeats in other ink (the "
        "printed name under a signature: the first and last names; the place of signing: the postal town): where "
        "one is read with confidence, it confirms the same reading of the other",
    )
    words: Literal["languages"] | None = Field(
        default=None,
        description="the list most of a text field's values come from (languages: every living language's name, from "
        "Debian's iso-codes): a name of the list as spelt, read alike by two readers, needs no dictionary's word",
    )
    holds_case: bool = Field(
        default=True,
        description="whether a doubtful reading holds the whole case for review; false only for an optional value "
        "that no rule and no letter uses (an e-mail, a free-text description): its doubt is flagged on the field, "
        "with its crop, for staff to check, and the case goes on",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        where = f"field {self.name}"
        if self.type is FieldType.CHOICE:
            if len(self.options) < 2 or self.box is not None:
                raise ValueError(f"{where}: a choice has two or more options, each with its own box, and no box")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"{where}: option values repeat")
        else:
            if self.options:
                raise ValueError(f"{where}: only a choice has options")
            if self.box is None:
                raise ValueError(f"{where}: needs a box")
            _check_box(self.box, where)
        if self.type is FieldType.SIGNATURE and self.acroform:
            raise ValueError(f"{where}: a signature is read by ink on paper and has no AcroForm widget")
        if (self.charset or self.words) and self.type is not FieldType.TEXT:
            raise ValueError(f"{where}: only a text field takes a charset or a list of words")
        if not self.holds_case and (self.required or self.type not in _VALUE_TYPES):
            raise ValueError(f"{where}: only an optional text, e-mail, date or phone may leave its doubt to staff")
        if self.type is not FieldType.SIGNATURE and not self.acroform:
            raise ValueError(f"{where}: name at least one AcroForm field")
        return self

    @property
    def boxes(self) -> tuple[Box, ...]:
        return tuple(o.box for o in self.options) if self.options else (self.box,) if self.box else ()

    @property
    def comb(self) -> int | None:
        return COMB_TYPES.get(self.type)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


class StaticText(_Strict):
    page: int = Field(ge=1)
    at: tuple[float, float]
    text: str
    style: str = Field(default="body", pattern=r"^(title|heading|body|small)$")
    width: float = 515.0


class Identify(_Strict):
    title_text: tuple[str, ...] = Field(min_length=1, description="any of these in the page text identifies the form")
    acroform_min_share: float = Field(default=0.6, gt=0, le=1)


class Layout(_Strict):
    """Where the page furniture that scans are aligned by sits: registration marks (centres) and the QR code."""

    marks: tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]
    mark_size: float = Field(gt=4, le=40)
    qr_box: Box


class Recipient(_Strict):
    """Which fields name and address the person letters about this form go to."""

    name: tuple[str, ...] = Field(min_length=1)
    address: str
    postnummer: str
    postort: str

    @property
    def address_fields(self) -> tuple[str, str, str]:
        return (self.address, self.postnummer, self.postort)


class FormMeta(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str = Field(pattern=r"^[0-9A-Za-z.]+$")
    number: str = Field(default="", description="the printed form number, where the form has one")
    title: str
    pages: int = Field(ge=1)
    kind: Literal["application", "notice"]


class FormSpec(_Strict):
    form: FormMeta
    identify: Identify
    layout: Layout
    recipient: Recipient
    texts: tuple[StaticText, ...] = ()
    fields: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [f.name for f in self.fields]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"field names repeat: {sorted(dupes)}")
        acro = [a for f in self.fields for a in f.acroform]
        if len(set(acro)) != len(acro):
            raise ValueError("an AcroForm name maps to two fields")
        missing = set(self.recipient.name + self.recipient.address_fields) - set(names)
        if missing:
            raise ValueError(f"recipient names fields the form does not have: {sorted(missing)}")
        for f in self.fields:
            if f.page > self.form.pages:
                raise ValueError(f"field {f.name} is on page {f.page} of a {self.form.pages}-page form")
            texts = [g for g in self.fields if g.name in f.repeats and g.type is FieldType.TEXT]
            if f.repeats and (f.type is not FieldType.TEXT or len(texts) != len(f.repeats) or f.name in f.repeats):
                raise ValueError(f"field {f.name}: repeats names other text fields, and is text itself")
        return self

    @property
    def id(self) -> str:
        return self.form.id

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @cached_property
    def by_acroform(self) -> dict[str, FieldSpec]:
        return {a: f for f in self.fields for a in f.acroform}

    def qr_payload(self, page: int) -> str:
        return f"FKRK:{self.form.id}:{self.form.version}:{page}"

    @property
    def directory(self) -> Path:
        return FORMS_DIR / self.form.id

    @property
    def blank_path(self) -> Path:
        return self.directory / "blank.pdf"


def load_form(path: Path) -> FormSpec:
    """Load and check one definition; any mistake raises FormDefinitionError naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        spec = FormSpec.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise FormDefinitionError(f"form definition {path} is invalid: {exc}") from exc
    if spec.form.id != path.parent.name:
        raise FormDefinitionError(f"form definition {path}: id {spec.form.id!r} differs from its folder name")
    return spec


def load_forms(forms_dir: Path = FORMS_DIR) -> dict[str, FormSpec]:
    specs = {}
    for path in sorted(forms_dir.glob("*/form.toml")):
        spec = load_form(path)
        specs[spec.id] = spec
    if not specs:
        raise FormDefinitionError(f"no form definitions found under {forms_dir}")
    return specs
