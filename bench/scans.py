"""Scanned applications: seconds per page end to end, two full-page OCR baselines from the same run on the same
pages, and per quality level the field accuracy, the share flagged for review, the share of cases needing no review,
and the count of fields accepted automatically but wrong (the number that matters most)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import random
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

from fixtures.scans import APPLICATION_KINDS, expected_on_paper, fill_paper, make_application, scan_document, write_scan
from pipeline.conductor import read_document
from pipeline.formspec import FormSpec
from pipeline.models import CaseStatus, Provenance, RawField, Source
from pipeline.stages import Job, conclude
from pipeline.validate import DEFAULT_THRESHOLDS

LEVELS = ("good", "typical", "poor")


@dataclass
class Tally:
    fields: int = 0
    exact: int = 0
    flagged: int = 0
    wrong_accepted: int = 0
    cases: int = 0
    clean_cases: int = 0
    went_on_unconfirmed: int = 0
    # Cases a reader that read every field right would have let go on: a case whose paper lacks part of the address
    # goes to a person however well it is read (no letter can reach the applicant).
    clean_on_paper: int = 0
    pages: int = 0
    seconds: float = 0.0
    wrong: list[tuple[str, object, object]] = field(default_factory=list)


def same(got: object, want: object) -> bool:
    """Exact after normalisation: text compares case-insensitively (forms are filled in capitals)."""
    if isinstance(want, str) and isinstance(got, str):
        return " ".join(got.split()).casefold() == " ".join(want.split()).casefold()
    return got == want


Expected = dict[str, str | bool | None]


def make_scans(folder: Path, level: str, count: int, seed: int, spec: FormSpec) -> list[tuple[Path, Expected]]:
    faker = Faker("sv_SE")
    faker.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for i in range(count):
        values = make_application(faker, rng, APPLICATION_KINDS[i % len(APPLICATION_KINDS)])
        rotation = (0, 0, 180, 90, 0, 270)[i % 6]
        pages = scan_document(fill_paper(spec, values, rng), level, rng, rotation=rotation)  # type: ignore[arg-type]
        path = folder / f"{level}-{i:03d}.{('pdf', 'tif')[i % 2]}"
        write_scan(pages, path)
        out.append((path, expected_on_paper(spec, values)))
    return out


def measure(scans: list[tuple[Path, Expected]], specs: Mapping[str, FormSpec], out: Path) -> Tally:
    tally = Tally()
    for path, expected in scans:
        data = path.read_bytes()
        job = Job(
            data, hashlib.sha256(data).hexdigest(), dt.datetime.now(dt.UTC), Provenance(), 50, DEFAULT_THRESHOLDS, out
        )
        start = time.perf_counter()
        results = read_document(job, specs)
        tally.seconds += time.perf_counter() - start
        [result] = results
        tally.pages += len(result.record.pages)
        tally.cases += 1
        unconfirmed = False
        for name, want in expected.items():
            got = result.record.fields[name]
            tally.fields += 1
            if not got.accepted:
                tally.flagged += 1
                unconfirmed = True
            elif same(got.value, want):
                tally.exact += 1
            else:
                tally.wrong_accepted += 1
                tally.wrong.append((name, got.value, want))
        # No review needed: the case went on by itself (recorded, its letter written). It may still carry a field
        # left for staff to check (an e-mail, a description: see ``holds_case`` in the form's definition).
        went_on = result.record.status is not CaseStatus.REVIEW
        tally.clean_cases += went_on
        tally.went_on_unconfirmed += went_on and unconfirmed
        spec = specs[result.record.form_id]
        right = {name: RawField(value=want, source=Source.OCR, confidence=1.0) for name, want in expected.items()}
        on_paper = conclude(job, spec, 1, result.record.pages, right)
        tally.clean_on_paper += on_paper.record.status is not CaseStatus.REVIEW
    return tally


def full_page_baseline(pages: list[Path], omp_one: bool) -> float:
    """Seconds per page for `tesseract` over the whole page image (pytesseract's image_to_string does exactly
    this), with tesseract's default threading or pinned to one thread."""
    env = dict(os.environ)
    if omp_one:
        env["OMP_THREAD_LIMIT"] = "1"
    else:
        env.pop("OMP_THREAD_LIMIT", None)
    start = time.perf_counter()
    for page in pages:
        subprocess.run(["tesseract", str(page), "-", "-l", "swe"], env=env, check=True, capture_output=True)
    return (time.perf_counter() - start) / len(pages)


# Applications per quality level: at 14 one case was 7 points of the no-review share, and the bench's good share
# (93%) overstated what 546 calibration applications showed (81%).
SCANS = 40


def main(specs: Mapping[str, FormSpec], count: int = SCANS, seed: int = 3) -> None:
    spec = specs["ansokan-samordning"]
    with tempfile.TemporaryDirectory(prefix="bench-scans-") as tmp:
        root = Path(tmp)
        print(f"\ngenerating {count} scanned applications per quality level …", flush=True)
        sets = {level: make_scans(root, level, count, seed + n, spec) for n, level in enumerate(LEVELS)}
        # A worker loads its readers once (tesseract at start, the line reader and the lexicon on its first scan);
        # one scan read untimed first, so the figures are per page of a worker already running.
        measure(sets["good"][:1], specs, root / "warm")
        tallies = {level: measure(sets[level], specs, root / "out") for level in LEVELS}
        # Baselines on pages of the same run: the good set's pages at 300 dpi, as PNG files tesseract reads.
        from pipeline.limits import Limits
        from pipeline.scan.raster import image_pages, pdf_pages, sniff

        page_files = []
        for i, (path, _) in enumerate(sets["good"][:3]):
            data = path.read_bytes()
            kind = sniff(data)
            images = pdf_pages(data, 10, Limits(), dpi=300) if kind == "pdf" else image_pages(data, kind, 10, Limits())
            for j, image in enumerate(images):
                target = root / f"page-{i}-{j}.png"
                image.save(target)
                page_files.append(target)
        default = full_page_baseline(page_files, omp_one=False)
        pinned = full_page_baseline(page_files, omp_one=True)
    total_pages = sum(t.pages for t in tallies.values())
    per_page = sum(t.seconds for t in tallies.values()) / total_pages
    print("\nscanned applications, one worker, end to end (rasterise, identify, align, OCR, validate, record, letter)")
    print(f"  pipeline                                       {per_page:6.3f} s/page  (target <= 0.35)")
    print(
        f"  baseline: full-page tesseract, default threads {default:6.3f} s/page  -> {default / per_page:5.1f}x slower"
    )
    print(f"  baseline: full-page tesseract, 1 thread        {pinned:6.3f} s/page  -> {pinned / per_page:5.1f}x slower")
    print(
        "\nper quality level        fields  exact  flagged  wrong-accepted  cases  no-review  (with a field to check)"
        "   s/page  (no-review, every field read right)"
    )
    for level, t in tallies.items():
        print(
            f"  {level:<8} {t.fields:>14} {t.exact / t.fields:6.1%} {t.flagged / t.fields:8.1%} "
            f"{t.wrong_accepted:>15} {t.cases:>6} {t.clean_cases / t.cases:10.1%} "
            f"{t.went_on_unconfirmed / t.cases:23.1%} {t.seconds / t.pages:8.3f}  ({t.clean_on_paper / t.cases:.1%})"
        )
        for name, got, want in t.wrong[:8]:
            print(f"      wrong: {name}: read {got!r}, was {want!r}")
    ok = sum(t.exact + t.flagged for t in tallies.values()) / sum(t.fields for t in tallies.values())
    print(f"  exact or flagged, all levels: {ok:.2%} (target >= 99.5%)")
    # Of 40 cases, one is 2.5 points of the share: the interval says how far the share could be from the sample's.
    ranges = ", ".join(f"{level} {low:.1%} to {high:.1%}" for level, (low, high) in _no_review_ranges(tallies).items())
    print(f"  no-review, 95% interval of the share over {count} cases a level (Wilson): {ranges}")
    print(f"  targets of no-review: good {TARGETS['good']:.0%}, poor {TARGETS['poor']:.0%}")


TARGETS = {"good": 0.9, "poor": 0.7}


def _no_review_ranges(tallies: Mapping[str, Tally]) -> dict[str, tuple[float, float]]:
    return {level: wilson(t.clean_cases, t.cases) for level, t in tallies.items()}


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share ``hits / n`` (95% for z = 1.96): it holds for shares near 0 or 1,
    where the normal approximation runs past them."""
    share = hits / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half
