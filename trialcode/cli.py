"""The `trialcode` command line. Each subcommand lives in `trialcode.commands.<module>`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from protocol.errors import ProtocolError
from protocol.safe_text import terminal_safe
from trialcode.exits import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    OutputPathError,
)

# Modules that provide subcommands through `register(subparsers)`, in help order.
COMMAND_MODULES = (
    "trialcode.commands.protocol_cmds",
    "trialcode.commands.render",
    "trialcode.commands.validate",
    "trialcode.commands.report",
    "trialcode.commands.stats",
    "trialcode.commands.design",
    "trialcode.commands.monitor",
    "trialcode.commands.lsp",
)

# The module of each subcommand: running one command imports only its module (the statistics
# and monitoring commands import scipy, about a second of every start otherwise).
# tests/test_cli_commands.py checks this against what each module registers.
COMMANDS = {
    "check": "trialcode.commands.protocol_cmds",
    "fmt": "trialcode.commands.protocol_cmds",
    "dump": "trialcode.commands.protocol_cmds",
    "render": "trialcode.commands.render",
    "export": "trialcode.commands.render",
    "validate": "trialcode.commands.validate",
    "report": "trialcode.commands.report",
    "boundaries": "trialcode.commands.stats",
    "simon": "trialcode.commands.stats",
    "design": "trialcode.commands.design",
    "monitor": "trialcode.commands.monitor",
    "lsp": "trialcode.commands.lsp",
}

# What `trialcode --help` says of each command, without importing any command's module (the
# help must start in a blink; tests/protocol/test_cli_start.py checks these against what the
# modules register).
SUMMARIES = {
    "check": "parse and check protocol files",
    "fmt": "print a protocol in canonical layout",
    "dump": "print the protocol model as JSON",
    "render": "write the protocol document (Markdown, HTML, Word or PDF)",
    "export": "export the protocol as CDISC USDM JSON, SDTM trial design or ClinicalTrials.gov text",
    "validate": "evaluate patient data against a protocol",
    "report": "the HTML and CSV reports from Parquet results",
    "boundaries": "group sequential efficacy / futility boundaries",
    "simon": "Simon optimal and minimax two-stage designs",
    "design": "sample size and power of a fixed or group sequential design",
    "monitor": "interim monitoring: continue or stop, per trial-level rule",
    "lsp": "run the language server for editors (Language Server Protocol on stdin/stdout)",
}


class _Version(argparse.Action):
    """`--version`: the package version and whether the engine runs compiled or pure Python
    (worth knowing when timing a run, or when a build is stale: engine/native.py)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        from engine import native

        try:
            number = version("trialcode")
        except PackageNotFoundError:
            number = "(not installed)"
        print(f"trialcode {number}; engine: {native.describe()}")
        parser.exit()


def build_parser(command: str | None = None, *, summaries: bool = False) -> argparse.ArgumentParser:
    """The argument parser with every available subcommand, or only with the subcommands of
    `command`'s module when `command` is one of COMMANDS (what `main` runs). With `summaries`
    and no known command, the subcommands are only named, with their SUMMARIES, and no
    command module is imported (for `trialcode --help` and usage errors)."""
    parser = argparse.ArgumentParser(
        prog="trialcode",
        description="Clinical-trial protocols as code: check, validate patient data, render.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version and which form of the engine runs, and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    if summaries and command not in COMMANDS:
        for name, text in SUMMARIES.items():
            subparsers.add_parser(name, help=text, add_help=False)
        return parser
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not part of this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (EXIT_STATUSES; docs/cli.md)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # the command is the first argument: options before it (--version, --help) need every one
    command = arguments[0] if arguments and not arguments[0].startswith("-") else None
    parser = build_parser(command, summaries=True)
    args = parser.parse_args(arguments)
    try:
        return int(args.func(args))
    except ProtocolError as exc:
        print(terminal_safe(exc.render()), file=sys.stderr)
        return EXIT_PROBLEMS
    except OutputPathError as exc:
        print(f"trialcode {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("trialcode: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one paragraph, not with a traceback
        if os.environ.get("TRIALCODE_DEBUG", "") not in ("", "0"):
            raise
        what = terminal_safe(f"{type(exc).__name__}: {exc}")[:500]
        print(
            f"trialcode {args.command}: internal error: {what}\n"
            "This is a bug in trialcode. Please report it with the command that caused it; "
            "TRIALCODE_DEBUG=1 shows the traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
