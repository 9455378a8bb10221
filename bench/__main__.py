"""``make bench``: filled 7429s end to end (read, validate, assess, record, letter).

Prints documents per second with 1 and 2 worker processes through the same intake the service uses, the share of
time per stage (measured in-process over the same documents), and a baseline measured in the same run on the same
files: a bare pypdf open + ``get_fields`` per document, the floor any AcroForm reader pays. The machine is shared,
so compare the figures of one run with each other, not with another run's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pypdf
from faker import Faker

from fixtures.generate import MODES, fake_notice, fill_acroform
from pipeline import outputs, stages
from pipeline.config import Settings
from pipeline.formspec import FormSpec, load_forms
from pipeline.models import Provenance
from pipeline.register import Register
from pipeline.service import open_intake
from pipeline.stages import Input, Job
from pipeline.validate import DEFAULT_THRESHOLDS


def make_notices(folder: Path, count: int, spec: FormSpec) -> list[Path]:
    """Seeded filled 7429s, alternating the two AcroForm ways a coordinator's tool fills them."""
    faker = Faker("sv_SE")
    faker.seed_instance(7429)
    blank = spec.blank_path.read_bytes()
    modes = [m for m in MODES if m != "flattened"]
    paths = []
    for i in range(count):
        path = folder / f"notice-{i:04d}.pdf"
        path.write_bytes(fill_acroform(blank, spec, fake_notice(faker), modes[i % len(modes)]))
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> float:
    """Seconds per document for pypdf alone: open the bytes and read the fields."""
    start = time.perf_counter()
    for path in paths:
        pypdf.PdfReader(io.BytesIO(path.read_bytes())).get_fields()
    return (time.perf_counter() - start) / len(paths)


def stage_shares(paths: list[Path], specs: dict[str, FormSpec], state: Path) -> dict[str, float]:
    """Seconds spent per stage over the documents, in one process (no pool), with real writes."""
    settings = Settings(inbox=state / "in", outbox=state / "out", state_dir=state / "var")
    register = Register(settings.database)
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, start: float) -> float:
        now = time.perf_counter()
        spent[name] += now - start
        return now

    for path in paths:
        t = time.perf_counter()
        data = path.read_bytes()
        job = Job(
            data,
            hashlib.sha256(data).hexdigest(),
            dt.datetime.now(dt.UTC),
            Provenance(channel="cli"),
            50,
            DEFAULT_THRESHOLDS,
            settings.outbox,
        )
        t = timed("take (read file, sha256)", t)
        doc = stages.open_pdf(job)
        found = stages.identify(doc, specs)
        assert found is not None
        spec, first = found
        t = timed("open + identify", t)
        raw = stages.read_fields(doc, spec, first)
        t = timed("read fields", t)
        values, problems, model = stages.check(spec, raw, job.thresholds)
        t = timed("validate", t)
        assessment = stages.assess(spec, model, problems, job.received_at.date())
        record = stages.build_record(job, spec, 1, [1], values, problems, assessment)
        t = timed("assess + build record", t)
        letters = stages.render_letters(spec, record, model, job.received_at.date())
        t = timed("render letter", t)
        result = stages.DocumentResult(
            record, stages.write_letters(settings.outbox, record, letters), stages.personnummer(spec, record)
        )
        t = timed("write letter (fsync)", t)
        outputs.link(register, result)
        outputs.write_record(settings, result.record)
        with register.transaction():
            register.save_case(result.record, outputs.person_key(register, result))
            register.record_document(
                job.sha256, record.document_id, job.received_at, "recorded", None, [record.case_id]
            )
        outputs.archive(settings, path, job.sha256, move=False)
        timed("record, register, archive (fsync)", t)
    register.close()
    return dict(spent)


def throughput(paths: list[Path], workers: int, state: Path) -> float:
    """As the service runs: inputs already claimed into the work area, moved on to the archive when recorded."""
    settings = Settings(inbox=state / "in", outbox=state / "out", state_dir=state / "var", workers=workers)
    with open_intake(settings) as intake:
        claimed = []
        for path in paths:
            target = settings.work_dir / path.name
            target.write_bytes(path.read_bytes())
            claimed.append(Input(target, path.name))
        # Warm the workers (imports, fonts) outside the timed part, as a running service is warm.
        warm = state / "warm"
        warm.mkdir()
        for i, path in enumerate(paths[: workers * 2]):
            (warm / f"{i}.pdf").write_bytes(path.read_bytes() + f"\n% warm {i}\n".encode())
        list(intake.handle_many([Input(p, p.name) for p in warm.iterdir()], move=False, channel="cli"))
        start = time.perf_counter()
        results = list(intake.handle_many(claimed, move=True, channel="inbox"))
        elapsed = time.perf_counter() - start
    assert all(r.outcome == "recorded" for r in results), {r.outcome for r in results}
    return len(paths) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--scans", type=int, default=14, help="scanned applications per quality level")
    args = parser.parse_args()
    specs = load_forms()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = Path(tmp)
        (root / "docs").mkdir()
        print(f"generating {args.documents} filled 7429s …", flush=True)
        paths = make_notices(root / "docs", args.documents, specs["fk7429"])
        base = baseline(paths)
        shares = stage_shares(paths, specs, root / "stages")
        rates = {n: throughput(paths, n, root / f"w{n}") for n in (1, 2)}
    total = sum(shares.values())
    print("\nfilled 7429s end to end (read, validate, assess, record, letter)")
    print(f"  baseline, same run: pypdf open + get_fields alone  {base * 1000:6.2f} ms/document")
    print(
        f"  in-process, all stages                            {total / len(paths) * 1000:6.2f} ms/document "
        f"({total / len(paths) / base:.1f}x the baseline)"
    )
    for n, rate in rates.items():
        print(f"  {n} worker{'s' if n > 1 else ' '} (service intake, real writes)        {rate:7.1f} documents/s")
    print(f"  speed-up 2 workers / 1 worker                      {rates[2] / rates[1]:6.2f}x")
    print(f"  target: at least 150 documents/s with 2 workers -> {'met' if rates[2] >= 150 else 'NOT met'}")
    print("\nshare of time per stage (in-process)")
    for name, seconds in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<42} {seconds / total * 100:5.1f}%  {seconds / len(paths) * 1000:6.2f} ms/document")
    if args.scans:
        from bench import scans

        scans.main(specs, count=args.scans)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
