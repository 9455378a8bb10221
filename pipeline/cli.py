"""``pipeline …`` (also ``python -m pipeline …``). Exceptions become exit codes here and nowhere else.

Exit codes: 0 done; 1 some input was quarantined or needs review (``process``); 2 bad settings or usage;
3 a broken form definition; 4 the blanks are not current (``forms build --check``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline import audit, logs, signals
from pipeline.blank import build_blank
from pipeline.config import Settings
from pipeline.errors import ConfigError, PipelineError
from pipeline.formspec import FormSpec, load_forms
from pipeline.stages import Input


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.func is not cmd_watch:
        signals.release()  # the service handles a stop itself, from the first moment (``watch``)
    logs.configure(args.log_level)
    try:
        settings = _settings(args)
        result: int = args.func(args, settings)
        return result
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"workers": args.workers} if getattr(args, "workers", None) else {}
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"Settings are invalid: {exc.errors(include_url=False, include_input=False)}") from exc


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pipeline", description="Intake of rehabilitation-coordination forms.")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--user", help="who is working, for the audit log (default: $PIPELINE_USER, else the OS user)")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    forms = sub.add_parser("forms", help="form definitions").add_subparsers(required=True, metavar="ACTION")
    build = forms.add_parser("build", help="generate forms/<id>/blank.pdf from each definition")
    build.add_argument("--check", action="store_true", help="only check that the committed blanks are current")
    build.set_defaults(func=cmd_forms_build)
    describe = forms.add_parser("describe", help="print a form definition as JSON")
    describe.add_argument("form_id")
    describe.set_defaults(func=cmd_forms_describe)

    schema = sub.add_parser("schema", help="write (or --check) schema/case-record.schema.json")
    schema.add_argument("--check", action="store_true")
    schema.set_defaults(func=cmd_schema)

    process = sub.add_parser("process", help="process files (or folders of files) through every stage")
    process.add_argument("paths", nargs="+", type=Path)
    process.add_argument("--json", action="store_true", help="one JSON object per input on standard output")
    process.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    process.set_defaults(func=cmd_process)

    watch = sub.add_parser("watch", help="watch the inbox and process what arrives (the service)")
    watch.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    watch.set_defaults(func=cmd_watch)

    imap = sub.add_parser("imap", help="poll the IMAP mailbox into the inbox (pipeline watch does this too)")
    imap.add_argument("--once", action="store_true", help="one pass, then exit")
    imap.set_defaults(func=cmd_imap)

    cases = sub.add_parser("cases", help="the case register").add_subparsers(required=True, metavar="ACTION")
    listing = cases.add_parser("list", help="list cases")
    listing.add_argument("--status", choices=["recorded", "review"])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_cases_list)
    show = cases.add_parser("show", help="print one case record as JSON")
    show.add_argument("case_id")
    show.set_defaults(func=cmd_cases_show)

    review = sub.add_parser("review", help="cases waiting for a person").add_subparsers(required=True, metavar="ACTION")
    rlist = review.add_parser("list", help="cases waiting for review")
    rlist.add_argument("--json", action="store_true")
    rlist.add_argument(
        "--unconfirmed",
        action="store_true",
        help="instead, cases that went on with fields left for staff to check (an e-mail, a description)",
    )
    rlist.set_defaults(func=cmd_review_list)
    rshow = review.add_parser("show", help="each doubtful field: value, confidence, and the crop the machine saw")
    rshow.add_argument("case_id")
    rshow.add_argument("--json", action="store_true")
    rshow.set_defaults(func=cmd_review_show)
    rset = review.add_parser("set", help="correct one field")
    rset.add_argument("case_id")
    rset.add_argument("field")
    rset.add_argument("value")
    rset.add_argument("--by", help="who (default: $PIPELINE_REVIEWER or $USER)")
    rset.set_defaults(func=cmd_review_set)
    rapprove = review.add_parser("approve", help="confirm the rest as read and let the flow resume")
    rapprove.add_argument("case_id")
    rapprove.add_argument("--by", help="who (default: $PIPELINE_REVIEWER or $USER)")
    rapprove.set_defaults(func=cmd_review_approve)

    letters = sub.add_parser("letters", help="letters for the mailroom").add_subparsers(required=True, metavar="ACTION")
    lbatch = letters.add_parser("batch", help="merge the letters not yet batched into one PDF, with a manifest")
    lbatch.add_argument("--date", type=_date, help="only letters written on this day (YYYY-MM-DD)")
    lbatch.add_argument("--json", action="store_true")
    lbatch.set_defaults(func=cmd_letters_batch)

    retention = sub.add_parser("retention", help="remove what has been kept longer than its retention period")
    retention.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    retention.set_defaults(func=cmd_retention)

    status = sub.add_parser(
        "status", help="inputs per ledger state, oldest waiting input, review backlog, documents per minute"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    return p


def cmd_forms_build(args: argparse.Namespace, settings: Settings) -> int:
    stale = []
    for spec in load_forms(settings.forms_dir).values():
        pdf = build_blank(spec)
        path = settings.forms_dir / spec.id / "blank.pdf"
        current = path.read_bytes() if path.exists() else b""
        if args.check:
            if current != pdf:
                stale.append(spec.id)
            continue
        if current != pdf:
            path.write_bytes(pdf)
        print(f"{spec.id}: {path}")
    if stale:
        print(f"not current: {', '.join(stale)}; run `pipeline forms build`", file=sys.stderr)
        return 4
    return 0


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.schema import SCHEMA_PATH, case_record_schema

    text = case_record_schema()
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    if args.check:
        if current != text:
            print("schema/case-record.schema.json is not current; run `pipeline schema`", file=sys.stderr)
            return 4
        return 0
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    print(SCHEMA_PATH)
    return 0


def cmd_forms_describe(args: argparse.Namespace, settings: Settings) -> int:
    specs = load_forms(settings.forms_dir)
    if args.form_id not in specs:
        raise ConfigError(f"No form {args.form_id!r}; known forms: {', '.join(sorted(specs))}.")
    print(describe(specs[args.form_id]))
    return 0


def describe(spec: FormSpec) -> str:
    fields = [
        {
            "name": f.name,
            "label": f.label,
            "type": f.type.value,
            "required": f.required,
            "choices": [{"value": o.value, "label": o.label, "box": list(o.box)} for o in f.options] or None,
            "page": f.page,
            "box": list(f.box) if f.box else None,
            "acroform": list(f.acroform),
        }
        for f in spec.fields
    ]
    meta = {
        "id": spec.id,
        "version": spec.form.version,
        "number": spec.form.number,
        "title": spec.form.title,
        "pages": spec.form.pages,
        "coordinates": "PDF points, origin bottom-left",
        "fields": fields,
    }
    return json.dumps(meta, ensure_ascii=False, indent=2)


def _expand(paths: Sequence[Path]) -> Iterator[Input]:
    for path in paths:
        if path.is_dir():
            yield from (Input(p, p.name) for p in sorted(path.rglob("*")) if p.is_file())
        else:
            yield Input(path, path.name)


def cmd_process(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.service import open_intake

    inputs = list(_expand(args.paths))
    counts: dict[str, int] = {}
    progress = sys.stderr.isatty() and not args.json and len(inputs) > 20
    with open_intake(settings) as intake:
        for n, result in enumerate(intake.handle_many(inputs, move=False, channel="cli"), start=1):
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
            if args.json:
                data = asdict(result)
                data.pop("document_id")
                data.pop("sha256")
                print(json.dumps(data, ensure_ascii=False), flush=True)
            elif not progress:
                print(
                    f"{result.input}: {result.outcome} {' '.join(result.cases)}"
                    + (f" ({result.reason})" if result.reason else "")
                )
            if progress:
                print(f"\rprocessed {n}/{len(inputs)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    print("; ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "nothing to do", file=sys.stderr)
    return 1 if counts.get("quarantined") or counts.get("review") or counts.get("failed_transient") else 0


def cmd_watch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.watch import watch

    watch(settings)
    return 0


def cmd_imap(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from pipeline import imap
    from pipeline.fsutil import private_dir

    if not settings.imap_host:
        raise ConfigError(
            "No IMAP server is set.", action="Set PIPELINE_IMAP_HOST and the other PIPELINE_IMAP_ settings."
        )
    private_dir(settings.inbox)
    if args.once:
        imap.password(settings)
        try:
            taken = imap.poll(settings)
        except Exception as exc:  # the server's or the network's: the type only (text may quote the server)
            print(f"error: the mailbox could not be read ({type(exc).__name__})", file=sys.stderr)
            return 1
        print(f"mail taken: {taken}", file=sys.stderr)
        return 0
    poller = imap.Poller(settings)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    poller.start()
    while not stopped.wait(1.0):
        pass
    poller.close()
    return 0


def cmd_cases_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.register import Register

    register = Register(settings.database)
    rows = [dict(r) for r in register.list_cases(args.status)]
    audit.record(settings.state_dir, "read", "cases list", detail=f"{len(rows)} cases", by=args.user)
    _emit(
        rows,
        args.json,
        lambda r: f"{r['case_id']}  {r['form_id']:<20} {r['status']:<9} {r['outcome'] or '':<18} {r['received_at']}",
    )
    return 0


def _emit(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    """A listing: JSON for programs, one line per row for people."""
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(line(row))


def cmd_cases_show(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.register import Register

    record = Register(settings.database).case(args.case_id)
    if record is None:
        raise ConfigError(f"No case {args.case_id!r} in the register.", action="Check the case number.")
    audit.record(settings.state_dir, "read", "cases show", case_id=record.case_id, by=args.user)
    print(record.model_dump_json(indent=2))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def cmd_letters_batch(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.printbatch import batch_letters
    from pipeline.register import Register

    register = Register(settings.database)
    try:
        batches = batch_letters(settings, register, load_forms(settings.forms_dir), args.date)
    finally:
        register.close()
    for b in batches:  # the manifest beside the batch names each letter's case
        audit.record(
            settings.state_dir, "exported", "letters batch", detail=f"{b.batch_id}: {b.letters} letters", by=args.user
        )
    if args.json:
        print(json.dumps([asdict(b) | {"pdf": str(b.pdf), "manifest": str(b.manifest)} for b in batches], indent=2))
        return 0
    for b in batches:
        again = " (finished for a run that was interrupted)" if b.resumed else ""
        print(f"{b.batch_id}: {b.letters} letters, {b.pages} pages: {b.pdf} (manifest {b.manifest}){again}")
    if not batches:
        print("no letters waiting to be batched" + (f" from {args.date}" if args.date else ""))
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.register import Register
    from pipeline.status import describe, status

    register = Register(settings.database)
    try:
        report = status(settings, register)
    finally:
        register.close()
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print("\n".join(describe(report)))
    return 0


def cmd_review_list(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.register import Register

    rows = []
    register = Register(settings.database)
    for row in register.list_cases("recorded" if args.unconfirmed else "review"):
        record = register.case(row["case_id"])
        assert record is not None
        reasons = record.assessment.reasons if record.assessment else []
        doubtful = sum(1 for v in record.fields.values() if not v.accepted)
        if args.unconfirmed and not doubtful:
            continue
        rows.append(
            {
                "case_id": record.case_id,
                "form_id": record.form_id,
                "received_at": row["received_at"],
                "doubtful_fields": doubtful,
                "reasons": reasons,
            }
        )
    audit.record(settings.state_dir, "read", "review list", detail=f"{len(rows)} cases", by=args.user)
    _emit(
        rows,
        args.json,
        lambda r: f"{r['case_id']}  {r['form_id']:<20} {r['doubtful_fields']:>2} doubtful  {'; '.join(r['reasons'])}",
    )
    return 0


def cmd_review_show(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import review
    from pipeline.register import Register

    record = review.open_case(Register(settings.database), args.case_id, unconfirmed=True)
    spec = load_forms(settings.forms_dir)[record.form_id]
    fields = review.doubtful(record, spec, settings)
    audit.record(settings.state_dir, "read", "review show", case_id=record.case_id, by=args.user)
    if args.json:
        print(
            json.dumps(
                {
                    "case_id": record.case_id,
                    "reasons": record.assessment.reasons if record.assessment else [],
                    "fields": [f.model_dump(mode="json") for f in fields],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(f"{record.case_id} ({record.form_id})")
    for reason in record.assessment.reasons if record.assessment else []:
        print(f"  reason: {reason}")
    for f in fields:
        print(f"  {f.name:<28} {f.value!r:<32} confidence {f.confidence:.2f}  {f.problem or ''}")
        if f.crop:
            print(f"  {'':<28} crop: {f.crop}")
    return 0


def cmd_review_set(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import review
    from pipeline.register import Register

    value = review.set_value(
        Register(settings.database),
        load_forms(settings.forms_dir),
        settings,
        args.case_id,
        args.field,
        args.value,
        args.by or args.user or review.reviewer(),
    )
    print(f"{args.case_id} {args.field} = {value.value!r}")
    return 0


def cmd_review_approve(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import review
    from pipeline.register import Register

    register = Register(settings.database)
    record = review.approve(
        register, load_forms(settings.forms_dir), settings, args.case_id, args.by or args.user or review.reviewer()
    )
    letters = ", ".join(letter.path for letter in record.letters) or "no letter"
    outcome = record.assessment.outcome.value if record.assessment else ""
    print(f"{record.case_id}: approved, {outcome}; {letters}")
    return 0


def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline import retention

    removals = retention.run(settings, dry_run=args.dry_run, by=args.user)
    verb = "would remove" if args.dry_run else "removed"
    for r in removals:
        print(f"{verb} {r.kind:<11} {r.shown}  ({r.age_days:.0f} days)")
    counts = retention.summary(removals)
    print(f"{verb}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing"), file=sys.stderr)
    return 0
