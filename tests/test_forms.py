"""Form definitions: typed loading that fails loudly, the generated blanks, and `forms describe`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pypdf
import pypdfium2 as pdfium
import pytest

from pipeline.blank import build_blank
from pipeline.errors import FormDefinitionError
from pipeline.formspec import FORMS_DIR, FieldType, load_form, load_forms
from pipeline.validate import check_domain_model

ROOT = Path(__file__).resolve().parent.parent


def test_both_forms_load_and_match_their_domain_models() -> None:
    specs = load_forms()
    assert set(specs) == {"ansokan-samordning", "fk7429"}
    for spec in specs.values():
        check_domain_model(spec)


def _broken(tmp_path: Path, form_id: str, edit: str, replace: str) -> Path:
    folder = tmp_path / form_id
    folder.mkdir()
    text = (FORMS_DIR / form_id / "form.toml").read_text(encoding="utf-8")
    assert edit in text
    (folder / "form.toml").write_text(text.replace(edit, replace, 1), encoding="utf-8")
    return folder / "form.toml"


@pytest.mark.parametrize(
    ("edit", "replace", "message"),
    [
        ('name = "patient_fornamn"', 'name = "patient_efternamn"', "field names repeat"),
        ("box = [40, 662, 290, 680]", "box = [40, 662, 700, 680]", "inside an A4 page"),
        ('type = "text"', 'type = "txet"', "type"),
        ('acroform = ["region"]', 'acroform = ["patient_efternamn"]', "AcroForm name maps to two fields"),
        ("page = 1\nbox = [40, 662, 290, 680]", "page = 2\nbox = [40, 662, 290, 680]", "1-page form"),
        ('address = "patient_adress"', 'address = "adress"', "recipient names fields"),
        ("[form]", "[form]\ncolour = 'red'", "Extra inputs"),
    ],
)
def test_a_mistake_in_a_definition_fails_loudly(tmp_path: Path, edit: str, replace: str, message: str) -> None:
    path = _broken(tmp_path, "fk7429", edit, replace)
    with pytest.raises(FormDefinitionError, match=message):
        load_form(path)


@pytest.mark.parametrize(
    ("edit", "replace", "message"),
    [
        ('repeats = ["postort"]', 'repeats = ["har_sgi"]', "repeats names other text fields"),
        ('repeats = ["postort"]', 'repeats = ["ort"]', "repeats names other text fields"),
        ('acroform = ["fornamn"]', 'acroform = ["fornamn"]\nholds_case = false', "only an optional text"),
        ('acroform = ["bor_i_sverige"]', 'acroform = ["bor_i_sverige"]\nholds_case = false', "only an optional text"),
    ],
    ids=["repeats-a-choice", "repeats-itself", "a-required-field-left-to-staff", "a-tick-box-left-to-staff"],
)
def test_what_a_field_repeats_and_leaves_to_staff_is_checked(
    tmp_path: Path, edit: str, replace: str, message: str
) -> None:
    """A field repeats other text fields only; only an optional value a person wrote leaves its doubt to staff."""
    path = _broken(tmp_path, "ansokan-samordning", edit, replace)
    with pytest.raises(FormDefinitionError, match=message):
        load_form(path)


def test_committed_blanks_are_current() -> None:
    for spec in load_forms().values():
        assert spec.blank_path.read_bytes() == build_blank(spec), f"run `pipeline forms build` ({spec.id})"


def test_blank_has_a_widget_for_every_field_named_as_defined() -> None:
    for spec in load_forms().values():
        reader = pypdf.PdfReader(spec.blank_path)
        fields = reader.get_fields() or {}
        widgets = {a.get_object().get("/T"): a.get_object() for p in reader.pages for a in p["/Annots"]}
        for fs in spec.fields:
            if fs.type is FieldType.SIGNATURE:
                assert not set(fs.acroform) & set(fields)
                continue
            field = fields[fs.acroform[0]]
            kind = {"checkbox": "/Btn", "choice": "/Btn"}.get(fs.type.value, "/Tx")
            assert field["/FT"] == kind, fs.name
            if fs.type is FieldType.CHOICE:
                assert {s.lstrip("/") for s in field["/_States_"]} - {"Off"} == {o.value for o in fs.options}
            if fs.comb:
                assert field["/Ff"] & (1 << 24) and widgets[fs.acroform[0]]["/MaxLen"] == fs.comb, fs.name


def test_blank_widgets_sit_on_the_defined_boxes() -> None:
    spec = load_forms()["fk7429"]
    page = pypdf.PdfReader(spec.blank_path).pages[0]
    rects = {
        a.get_object()["/T"]: [float(v) for v in a.get_object()["/Rect"]]
        for a in page["/Annots"]
        if "/T" in a.get_object()
    }
    for fs in spec.fields:
        if fs.box and fs.type is not FieldType.CHECKBOX:
            assert rects[fs.acroform[0]] == pytest.approx(list(fs.box), abs=0.01), fs.name


def test_every_page_has_four_corner_marks_and_a_qr_code() -> None:
    for spec in load_forms().values():
        pdf = pdfium.PdfDocument(spec.blank_path)
        scale = 100 / 72
        for index in range(spec.form.pages):
            image = pdf[index].render(scale=scale).to_pil().convert("L")
            height = image.height
            for x, y in spec.layout.marks:
                assert image.getpixel((round(x * scale), round(height - y * scale))) < 60, (spec.id, index, x, y)
            x0, y0, x1, y1 = spec.layout.qr_box
            crop = image.crop(
                (round(x0 * scale), round(height - y1 * scale), round(x1 * scale), round(height - y0 * scale))
            )
            dark = crop.point(lambda p: 255 if p < 128 else 0).histogram()[255] / (crop.width * crop.height)
            assert 0.3 < dark < 0.7, "a QR code is about half dark"


def test_pdf_text_has_title_and_labels() -> None:
    for spec in load_forms().values():
        text = "".join(p.extract_text() for p in pypdf.PdfReader(spec.blank_path).pages)
        assert spec.form.title.split()[0] in text
        for fs in spec.fields:
            assert fs.label.split()[0] in text, fs.name


def test_forms_describe_prints_every_field_as_json() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "forms", "describe", "fk7429"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    described = json.loads(out)
    definition = tomllib.loads((FORMS_DIR / "fk7429" / "form.toml").read_text(encoding="utf-8"))
    assert [f["name"] for f in described["fields"]] == [f["name"] for f in definition["fields"]]
    first = described["fields"][0]
    assert set(first) == {"name", "label", "type", "required", "choices", "page", "box", "acroform"}
    omfattning = next(f for f in described["fields"] if f["name"] == "sjukskrivning_omfattning")
    assert [c["value"] for c in omfattning["choices"]] == ["25", "50", "75", "100"]


def test_forms_build_check_notices_a_stale_blank(tmp_path: Path) -> None:
    forms = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, forms)
    env = {"PIPELINE_FORMS_DIR": str(forms), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "pipeline", "forms", "build", "--check"]
    assert subprocess.run(run, env=env, cwd=tmp_path, capture_output=True).returncode == 0
    (forms / "fk7429" / "blank.pdf").write_bytes(b"%PDF-1.4 stale")
    assert subprocess.run(run, env=env, cwd=tmp_path, capture_output=True).returncode == 4
    built = subprocess.run(run[:-1], env=env, cwd=tmp_path, capture_output=True)
    assert built.returncode == 0
    assert (forms / "fk7429" / "blank.pdf").read_bytes() == (FORMS_DIR / "fk7429" / "blank.pdf").read_bytes()
