"""The `trialcode` command line. Each subcommand lives in `trialcode.commands.<module>`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from protocol.errors import ProtocolError

# Modules that provide subcommands through `register(subparsers)`, in help order.
COMMAND_MODULES = (
    "trialcode.commands.protocol_cmds",
    "trialcode.commands.render",
    "trialcode.commands.validate",
    "trialcode.commands.stats",
    "trialcode.commands.monitor",
)


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="trialcode",
        description="Clinical-trial protocols as code: check, validate patient data, render.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the version and which form of the engine runs, and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command not part of this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status (0 ok, 1 problems found, 2 usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ProtocolError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("trialcode: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
