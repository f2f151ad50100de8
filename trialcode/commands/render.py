"""`trialcode render` (the protocol document) and `trialcode export` (machine formats)."""

from __future__ import annotations

import argparse
import json
import sys

from protocol.errors import ProtocolError
from render.atomic import write_atomic
from trialcode.commands.outputs import check_output_file, check_output_folder


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "render",
        help="write the protocol document (Markdown, HTML, Word or PDF)",
        description="Write the protocol document, sections numbered after ICH M11.",
    )
    p.add_argument("protocol", metavar="PROTOCOL", help="protocol file (.trial)")
    p.add_argument("--to", dest="fmt", choices=["md", "html", "docx", "pdf"], default="html")
    p.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output for md/html)")
    p.set_defaults(func=run_render)

    e = subparsers.add_parser(
        "export",
        help="export the protocol as CDISC USDM JSON, SDTM trial design or ClinicalTrials.gov text",
        description="Export the protocol in a standard machine format.",
    )
    e.add_argument("protocol", metavar="PROTOCOL", help="protocol file (.trial)")
    e.add_argument("--to", dest="fmt", choices=["usdm", "sdtm", "ctgov"], required=True)
    e.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output file (usdm, ctgov; default standard output) or directory (sdtm, required)",
    )
    e.set_defaults(func=run_export)


def _load(path: str) -> object:
    import trialcode

    return trialcode.load(path)


def run_render(args: argparse.Namespace) -> int:
    from render import render_document
    from render.wording import check_text_vs_expr

    try:
        trial = _load(args.protocol)
    except ProtocolError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    from protocol.trial import Trial

    assert isinstance(trial, Trial)
    for c in trial.eligibility.criteria:
        for f in check_text_vs_expr(c, trial.calendar, trial):
            where = f"{c.span}: " if c.span else ""
            print(f"{where}warning: criterion {f}", file=sys.stderr)
    if args.fmt in ("docx", "pdf") and not args.output:
        print(f"trialcode render: --to {args.fmt} needs -o FILE", file=sys.stderr)
        return 2
    if args.output not in (None, "-"):
        check_output_file(args.output, "-o")
    try:
        out = render_document(trial, args.fmt)
    except RuntimeError as exc:  # PDF backend missing
        print(f"trialcode render: {exc}", file=sys.stderr)
        return 1
    _write(out, args.output)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from render.export import export_ctgov_eligibility, export_usdm, write_sdtm_design

    try:
        trial = _load(args.protocol)
    except ProtocolError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    from protocol.trial import Trial

    assert isinstance(trial, Trial)
    if args.output not in (None, "-"):
        if args.fmt == "sdtm":
            check_output_folder(args.output, "-o")
        else:
            check_output_file(args.output, "-o")
    if args.fmt == "usdm":
        _write(json.dumps(export_usdm(trial), indent=2, ensure_ascii=False) + "\n", args.output)
    elif args.fmt == "ctgov":
        _write(export_ctgov_eligibility(trial), args.output)
    else:
        if not args.output:
            print("trialcode export: --to sdtm needs -o DIRECTORY", file=sys.stderr)
            return 2
        for path in write_sdtm_design(trial, args.output):
            print(path)
    return 0


def _write(out: str | bytes, path: str | None) -> None:
    if path is None or path == "-":
        if isinstance(out, bytes):
            sys.stdout.buffer.write(out)
        else:
            sys.stdout.write(out)
        return
    write_atomic(path, out)  # whole or not at all; the folder was checked before
