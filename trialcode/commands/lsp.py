"""`trialcode lsp`: the language server for editors (docs/editor.md)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the lsp subcommand."""
    p = subparsers.add_parser(
        "lsp", help="run the language server for editors (Language Server Protocol on "
        "stdin/stdout)",
        description="Run the trialcode language server: the Language Server Protocol on "
        "stdin/stdout, as editors start it (the VS Code extension in editors/vscode does). "
        "Diagnostics as you type (the messages of `trialcode check`), hover, go to definition, "
        "references, rename, completion, outline, formatting and quick fixes.")
    p.add_argument("--stdio", action="store_true",
                   help="accepted for editors that pass it; stdin/stdout is the only transport")
    p.set_defaults(func=run_lsp)


def run_lsp(args: argparse.Namespace) -> int:
    from trialcode.lsp.server import serve

    serve()
    return 0
