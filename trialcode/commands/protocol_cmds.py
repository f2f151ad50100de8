"""`trialcode check`, `trialcode fmt` and `trialcode dump`: the protocol author's commands."""

from __future__ import annotations

import argparse
import json
import sys

import dsl
import trialcode
from dsl.formatter import format_source
from protocol.errors import ProtocolError
from protocol.serialize import dump


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the check, fmt and dump subcommands."""
    p = subparsers.add_parser("check", help="parse and check protocol files",
                              description="Parse and check protocol files. Exit status 0 when "
                              "every file is valid (warnings allowed), 1 otherwise.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.set_defaults(func=run_check)

    p = subparsers.add_parser("fmt", help="print a protocol in canonical layout",
                              description="Print a protocol in canonical layout, comments kept.")
    p.add_argument("file", metavar="FILE")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="only report whether the file is already formatted (exit 1 if not)")
    mode.add_argument("-w", "--write", action="store_true", help="rewrite the file in place")
    p.set_defaults(func=run_fmt)

    p = subparsers.add_parser("dump", help="print the protocol model as JSON",
                              description="Print the whole model as JSON (schema "
                              "trialcode.protocol/1, see docs/model-json.md).")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--spans", action="store_true", help="include source positions")
    p.set_defaults(func=run_dump)


def run_check(args: argparse.Namespace) -> int:
    status = 0
    for path in args.files:
        report = trialcode.check(path)
        if report.diagnostics:
            print(report.render(), file=sys.stderr)
        if not report.ok:
            status = 1
            n = len(report.errors)
            print(f"{path}: {n} error{'s' if n != 1 else ''}", file=sys.stderr)
        elif not args.quiet:
            w = len(report.warnings)
            tail = f" ({w} warning{'s' if w != 1 else ''})" if w else ""
            print(f"{path}: ok{tail}")
    return status


def run_fmt(args: argparse.Namespace) -> int:
    parsed = dsl.read_file(args.file)
    text = format_source(parsed)
    if args.check:
        if text != parsed.text:
            print(f"{args.file}: would be reformatted", file=sys.stderr)
            return 1
        return 0
    if args.write:
        if text != parsed.text:
            from render.atomic import write_atomic  # (render imports jinja2: only when needed)

            write_atomic(args.file, text)  # never a half-rewritten protocol
        return 0
    sys.stdout.write(text)
    return 0


def run_dump(args: argparse.Namespace) -> int:
    try:
        trial = trialcode.load(args.file)
    except ProtocolError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    json.dump(dump(trial, spans=args.spans), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
