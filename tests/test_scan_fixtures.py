"""The scanned-form generator: deterministic, image-only files, ink where the form says, manifests that add up."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from faker import Faker
from PIL import Image

from fixtures.generate import Values
from fixtures.scans import (
    APPLICATION_KINDS,
    HAND_FONTS,
    LEVELS,
    SCAN_CASES,
    SCANS_DIR,
    Level,
    ScanPage,
    degrade,
    expected_on_paper,
    fill_paper,
    font_for,
    font_has,
    generate_scans,
    make_application,
    make_batch,
    make_case,
    render_blank,
    rotate_page,
    scan_document,
    write_scan,
)
from pipeline.formspec import A4, FieldSpec, FieldType, FormSpec

APPLICATION = "ansokan-samordning"
TICK_SLACK = 2.0  # points a tick or cross may reach past its box
COMMITTED = sorted(p for p in SCANS_DIR.glob("*/*") if p.suffix in {".pdf", ".tif", ".png", ".jpg"})


def _values(kind: str, seed: int) -> tuple[Values, random.Random]:
    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    return make_application(faker, rng, kind), rng


def _px(box: tuple[float, float, float, float], dpi: int, slack: float = 0.0) -> tuple[int, int, int, int]:
    """A box in points (origin bottom-left) as a pixel slice (origin top-left), widened by ``slack`` points."""
    s = dpi / 72
    x0, y0, x1, y1 = box
    return (
        int((x0 - slack) * s),
        int((A4[1] - y1 - slack) * s),
        int(np.ceil((x1 + slack) * s)),
        int(np.ceil((A4[1] - y0 + slack) * s)),
    )


def _ink(filled: Image.Image, blank: Image.Image) -> np.ndarray:
    return np.asarray(filled, np.int16) != np.asarray(blank, np.int16)


def _drawn_boxes(spec: FieldSpec, value: object) -> list[tuple[tuple[float, float, float, float], float]]:
    """The boxes a value puts ink in, each with how far past it ink may reach."""
    if spec.type is FieldType.CHOICE:
        option = spec.option(value) if isinstance(value, str) else None
        return [(option.box, TICK_SLACK)] if option else []
    assert spec.box is not None
    if spec.type is FieldType.CHECKBOX:
        return [(spec.box, TICK_SLACK)] if value is True else []
    if spec.type is FieldType.SIGNATURE:
        return [(spec.box, 0.0)] if value is True else []
    return [(spec.box, 0.0)] if isinstance(value, str) and value.strip() else []


# ----------------------------------------------------------------------------------------------- the ink


@pytest.mark.parametrize("seed", range(6))
def test_every_filled_field_has_ink_and_all_ink_lies_in_a_filled_box(specs: dict[str, FormSpec], seed: int) -> None:
    spec = specs[APPLICATION]
    values, rng = _values("interpreter", seed)  # every field filled, the interpreter's language too
    values["postort"] = "Ødegård-Nguyễn Łukasz Örnsköldsvik"  # letters two of the three fonts lack
    pages = zip(fill_paper(spec, values, rng), render_blank(spec), strict=True)
    for number, (filled, blank) in enumerate(pages, start=1):
        ink = _ink(filled, blank)
        allowed = np.zeros_like(ink)
        for field in (f for f in spec.fields if f.page == number):
            for box, slack in _drawn_boxes(field, values.get(field.name)):
                x0, y0, x1, y1 = _px(box, 300, slack)
                assert ink[y0:y1, x0:x1].any(), f"{field.name} has no ink"
                allowed[y0:y1, x0:x1] = True
        stray = ink & ~allowed
        assert not stray.any(), f"page {number}: {int(stray.sum())} pixels of ink outside the filled boxes"


@pytest.mark.parametrize("kind", ["optional_empty", "no_certificate", "no_signature", "missing_required"])
def test_empty_fields_unticked_boxes_and_unchosen_options_have_no_ink(specs: dict[str, FormSpec], kind: str) -> None:
    spec = specs[APPLICATION]
    values, rng = _values(kind, 11)
    empty_seen = 0
    pages = zip(fill_paper(spec, values, rng, dpi=150), render_blank(spec, 150), strict=True)
    for number, (filled, blank) in enumerate(pages, start=1):
        ink = _ink(filled, blank)
        for field in (f for f in spec.fields if f.page == number):
            value = values.get(field.name)
            boxes = [o.box for o in field.options if o.value != value] if field.options else []
            if not field.options and not _drawn_boxes(field, value):
                assert field.box is not None
                boxes = [field.box]
            for box in boxes:
                x0, y0, x1, y1 = _px(box, 150)
                assert not ink[y0:y1, x0:x1].any(), f"{kind}: ink in the empty {field.name}"
                empty_seen += 1
    assert empty_seen >= 5


def test_signature_is_expected_exactly_when_it_is_drawn(specs: dict[str, FormSpec]) -> None:
    spec = specs[APPLICATION]
    box = _px(spec.field("underskrift").box or (0, 0, 1, 1), 150)
    for kind in ("complete", "no_signature"):
        values, rng = _values(kind, 5)
        filled = fill_paper(spec, values, rng, dpi=150)[1]
        drawn = bool(_ink(filled, render_blank(spec, 150)[1])[box[1] : box[3], box[0] : box[2]].any())
        assert drawn == (kind != "no_signature")
        assert expected_on_paper(spec, values)["underskrift"] is drawn


def test_text_is_expected_in_capitals_as_written(specs: dict[str, FormSpec]) -> None:
    spec = specs[APPLICATION]
    values, _ = _values("complete", 2)
    values.update(efternamn="Ødegård", fornamn="Thị Ánh")
    fields = expected_on_paper(spec, values)
    assert (fields["efternamn"], fields["fornamn"]) == ("ØDEGÅRD", "THỊ ÁNH")
    assert fields["har_sgi"] == "nej"  # an option's value is not writing


@pytest.mark.parametrize("char", "ÅÄÖØÉÜŁỄỊ")
def test_every_letter_is_drawn_from_a_font_that_has_it(char: str) -> None:
    for hand in HAND_FONTS:
        assert font_has(font_for(char, hand), char)
    assert not font_has(HAND_FONTS[1], "Å")  # Humor Sans really lacks it: the fallback is needed


# ------------------------------------------------------------------------------------------ the scanner


@pytest.mark.parametrize("level", LEVELS)
def test_degrade_scans_at_the_levels_dpi_and_scans_the_whole_page(specs: dict[str, FormSpec], level: Level) -> None:
    page = render_blank(specs[APPLICATION])[0]
    allowed = {"good": {300}, "typical": {200, 240, 300}, "poor": {150, 200}}[level]
    max_skew = {"good": 0.5, "typical": 2.0, "poor": 5.0}[level]
    for seed in range(4):
        scan = degrade(page, level, random.Random(seed))
        assert scan.dpi in allowed
        assert abs(scan.skew) <= max_skew
        # The scan area reaches past the paper, so a crooked or shifted page is never cut.
        width, height = round(page.width * scan.dpi / 300), round(page.height * scan.dpi / 300)
        assert scan.image.width > width and scan.image.height > height
        assert scan.image.width - width == scan.image.height - height
        assert scan.image.mode in ("L", "1")
        assert scan.image.mode == "L" or level != "good"


def test_a_page_fed_sideways_or_upside_down_turns_back_exactly(specs: dict[str, FormSpec]) -> None:
    page = render_blank(specs[APPLICATION], 72)[0]
    assert rotate_page(page, 90).size == (page.height, page.width)
    assert rotate_page(rotate_page(page, 90), 270).tobytes() == page.tobytes()
    assert rotate_page(rotate_page(page, 180), 180).tobytes() == page.tobytes()
    assert rotate_page(page, 180).tobytes() != page.tobytes()
    scan = degrade(page, "good", random.Random(1), rotation=270, source_dpi=72)
    assert scan.rotation == 270 and scan.image.width > scan.image.height


# ----------------------------------------------------------------------------------------------- writing


def _document(specs: dict[str, FormSpec], level: Level, bilevel: bool) -> list[ScanPage]:
    values, rng = _values("complete", 3)
    return scan_document(fill_paper(specs[APPLICATION], values, rng), level, rng, bilevel=bilevel)


@pytest.mark.parametrize("bilevel", [False, True])
def test_pdf_is_image_only_with_pages_the_size_of_the_scan(
    specs: dict[str, FormSpec], tmp_path: Path, bilevel: bool
) -> None:
    pages = _document(specs, "typical", bilevel)
    path = tmp_path / "scan.pdf"
    write_scan(pages, path)
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) == 2
        for page in pdf.pages:
            assert not page.chars and not page.extract_text().strip()
            assert len(page.images) == 1
            assert page.width >= A4[0] - 1 and page.height >= A4[1] - 1  # A4 and the scanner's margin


@pytest.mark.parametrize(("bilevel", "compression"), [(True, "group4"), (False, "jpeg")])
def test_tiff_has_every_page_at_its_dpi(
    specs: dict[str, FormSpec], tmp_path: Path, bilevel: bool, compression: str
) -> None:
    pages = _document(specs, "poor", bilevel)
    path = tmp_path / "scan.tif"
    write_scan(pages, path)
    with Image.open(path) as tif:
        assert getattr(tif, "n_frames", 1) == 2
        for frame in range(2):
            tif.seek(frame)
            assert tif.info["dpi"] == pytest.approx((pages[0].dpi, pages[0].dpi))
            assert tif.info["compression"] == compression
            assert tif.mode == ("1" if bilevel else "L")


def test_single_images_carry_their_dpi_and_hold_one_page(specs: dict[str, FormSpec], tmp_path: Path) -> None:
    pages = _document(specs, "typical", False)
    for suffix in (".png", ".jpg"):
        write_scan(pages[:1], tmp_path / f"page{suffix}")
        with Image.open(tmp_path / f"page{suffix}") as im:
            assert round(im.info["dpi"][0]) == pages[0].dpi
        with pytest.raises(ValueError, match="one page"):
            write_scan(pages, tmp_path / f"both{suffix}")


# ------------------------------------------------------------------------------------------------ batches


def _page_count(path: Path) -> int:
    if path.suffix == ".pdf":
        with pdfplumber.open(path) as pdf:
            return len(pdf.pages)
    with Image.open(path) as image:
        return int(getattr(image, "n_frames", 1))


@pytest.mark.parametrize(("suffix", "seed"), [(".tif", 1), (".pdf", 2)])
def test_batch_manifest_accounts_for_every_page_once(tmp_path: Path, suffix: str, seed: int) -> None:
    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    path = tmp_path / f"batch{suffix}"
    manifest = make_batch(faker, random.Random(seed), 4, path, level="typical", stray_first=True, bilevel=True)
    assert json.loads(path.with_name("batch.manifest.json").read_text(encoding="utf-8")) == manifest
    entries = manifest["pages"]
    assert isinstance(entries, list)
    count = _page_count(path)
    assert count == manifest["page_count"] == len(entries)
    assert [e["page"] for e in entries] == list(range(1, count + 1))
    assert entries[0]["kind"] == "before_first_form"
    claimed = [entries[0]["page"]]
    applications = manifest["applications"]
    assert isinstance(applications, list) and len(applications) == 4
    for app in applications:
        form_pages, attached = app["form_pages"], app["attachment_pages"]
        assert [entries[p - 1]["form_page"] for p in form_pages] == [1, 2]
        assert all(entries[p - 1]["application"] == app["application"] for p in form_pages + attached)
        assert all(entries[p - 1]["kind"] == "attachment" for p in attached)
        assert attached == list(range(form_pages[-1] + 1, form_pages[-1] + 1 + len(attached)))
        assert app["fields"]["underskrift"] is (app["kind"] != "no_signature")
        claimed += form_pages + attached
    assert sorted(claimed) == list(range(1, count + 1))
    assert any(app["attachment_pages"] for app in applications)


# ------------------------------------------------------------------------------------- the committed sample


def test_make_case_is_deterministic(tmp_path: Path) -> None:
    cases = [c for c in SCAN_CASES if c.suffix in (".pdf", ".tif")][:2]
    for case in cases:
        first, second = make_case(case, tmp_path / "a", 3), make_case(case, tmp_path / "b", 3)
        assert first.read_bytes() == second.read_bytes()
        assert first.with_suffix("").with_suffix(".expected.json").exists()


def test_committed_sample_is_what_the_generator_makes(tmp_path: Path) -> None:
    made = generate_scans(tmp_path)
    assert sorted(p.relative_to(tmp_path) for p in made) == sorted(p.relative_to(SCANS_DIR) for p in COMMITTED)
    for path in tmp_path.rglob("*.*"):
        assert path.read_bytes() == (SCANS_DIR / path.relative_to(tmp_path)).read_bytes(), path.name
    assert sum(p.stat().st_size for p in SCANS_DIR.rglob("*")) < 6_500_000


@pytest.mark.parametrize("path", [p for p in COMMITTED if p.suffix == ".pdf"], ids=lambda p: p.stem)
def test_committed_pdfs_are_image_only(path: Path) -> None:
    with pdfplumber.open(path) as pdf:
        assert pdf.pages
        for page in pdf.pages:
            assert not page.chars
            assert min(page.width, page.height) >= A4[0] - 1 and max(page.width, page.height) >= A4[1] - 1


@pytest.mark.parametrize("path", [p for p in COMMITTED if "batch" not in p.parts], ids=lambda p: p.stem)
def test_committed_expected_files_describe_their_scans(path: Path, specs: dict[str, FormSpec]) -> None:
    expected = json.loads(path.with_suffix("").with_suffix(".expected.json").read_text(encoding="utf-8"))
    spec = specs[expected["form_id"]]
    assert set(expected["fields"]) == {f.name for f in spec.fields}
    assert expected["quality"] in LEVELS and expected["rotation"] in (0, 90, 180, 270)
    assert len(expected["skew"]) == spec.form.pages
    if path.suffix == ".tif":
        with Image.open(path) as tif:
            assert tif.n_frames == spec.form.pages
            assert round(tif.info["dpi"][0]) == expected["dpi"]


def test_sample_covers_kinds_levels_orientations_and_unicode_names() -> None:
    records = [json.loads(p.read_text(encoding="utf-8")) for p in SCANS_DIR.glob("*/*.expected.json")]
    assert {r["quality"] for r in records} == set(LEVELS)
    assert {r["rotation"] for r in records} == {0, 90, 180, 270}
    assert {r["bilevel"] for r in records} == {True, False}
    text = json.dumps(records, ensure_ascii=False)
    for name in ("ØDEGÅRD", "NGUYỄN", "ŁUKASZ"):
        assert name in text
    assert {False} == {
        r["fields"]["underskrift"] for r in records if "unsigned" in r["note"] or "not signed" in r["note"]
    }
    assert len({c.kind for c in SCAN_CASES} & set(APPLICATION_KINDS)) == len(APPLICATION_KINDS)
