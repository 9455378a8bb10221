"""A 7429 filled by a third-party tool (pdftk) from our blank is read with every field exact."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from faker import Faker

from fixtures.generate import expected_fields, fake_notice
from pipeline.conductor import read_document
from pipeline.formspec import FieldType, FormSpec
from pipeline.models import Provenance
from pipeline.stages import Job
from pipeline.validate import DEFAULT_THRESHOLDS


def _xfdf(spec: FormSpec, values: dict[str, object]) -> str:
    """XFDF as a coordinator's tool would send it: UTF-8, checkbox 'Yes', radio the option's export value."""
    rows = []
    for fs in spec.fields:
        value = values.get(fs.name)
        if value is None or fs.type is FieldType.SIGNATURE:
            continue
        text = ("Yes" if value else "Off") if fs.type is FieldType.CHECKBOX else str(value)
        rows.append(f'<field name="{fs.acroform[0]}"><value>{escape(text)}</value></field>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<xfdf xmlns="http://ns.adobe.com/xfdf/" xml:space="preserve">'
        f"<fields>{''.join(rows)}</fields></xfdf>"
    )


def _read(path: Path, specs: dict[str, FormSpec]) -> dict[str, object]:
    data = path.read_bytes()
    job = Job(
        data,
        hashlib.sha256(data).hexdigest(),
        dt.datetime.now(dt.UTC),
        Provenance(),
        50,
        DEFAULT_THRESHOLDS,
        path.parent / "outbox",
    )
    [result] = read_document(job, specs)
    return {name: v.value for name, v in result.record.fields.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pdftk_fill_form_is_read_exactly(tmp_path: Path, specs: dict[str, FormSpec], seed: int) -> None:
    spec = specs["fk7429"]
    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    values = fake_notice(faker)
    values["patient_efternamn"] = ["Nguyễn", "Ødegård", "Wiśniewski"][seed - 1]
    values["patient_fornamn"] = ["Thị Ánh", "Åsa-Lena", "Łukasz"][seed - 1]
    values["behov_beskrivning"] = f'{values["behov_beskrivning"]}\nAndra raden: <stöd> & "plan".'
    (tmp_path / "data.xfdf").write_text(_xfdf(spec, values), encoding="utf-8")
    filled = tmp_path / "filled.pdf"
    subprocess.run(
        ["pdftk", str(spec.blank_path), "fill_form", str(tmp_path / "data.xfdf"), "output", str(filled)],
        check=True,
        capture_output=True,
    )
    got = _read(filled, specs)
    assert got == expected_fields(spec, values)
    assert got["patient_efternamn"] == values["patient_efternamn"]


def test_pdftk_flattened_form_is_read_from_its_text_layer(tmp_path: Path, specs: dict[str, FormSpec]) -> None:
    """pdftk draws appearances in Helvetica, so flattening keeps Latin-1 names (Ødegård) but not Nguyễn."""
    spec = specs["fk7429"]
    faker = Faker("sv_SE")
    faker.seed_instance(4)
    values = fake_notice(faker)
    values["patient_efternamn"] = "Ødegård"
    (tmp_path / "data.xfdf").write_text(_xfdf(spec, values), encoding="utf-8")
    flat = tmp_path / "flat.pdf"
    subprocess.run(
        ["pdftk", str(spec.blank_path), "fill_form", str(tmp_path / "data.xfdf"), "output", str(flat), "flatten"],
        check=True,
        capture_output=True,
    )
    got = _read(flat, specs)
    assert got == expected_fields(spec, values)
