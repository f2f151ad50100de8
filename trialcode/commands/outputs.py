"""Output paths given on the command line, checked before any work is done.

A file option (`render -o`, `validate --json/--html`) must name a file whose folder exists; a
folder option (`export --to sdtm -o`, `validate --csv`) may name a new folder, whose parent must
exist. trialcode never creates missing parent folders: a mistyped `-o reprots/x.html` would
otherwise make a folder nobody looks in. An existing file is replaced (whole: see
render/atomic.py). A bad path is a usage error (exit status 2), reported before the run.
"""

from __future__ import annotations

import os
from pathlib import Path

from protocol.safe_text import one_line
from trialcode.exits import OutputPathError

__all__ = ["OutputPathError", "check_output_file", "check_output_folder"]


def _folder_problem(folder: Path, shown: str) -> str | None:
    if not folder.exists():
        return f"the folder '{shown}' does not exist (trialcode does not create it)"
    if not folder.is_dir():
        return f"'{shown}' is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write in the folder '{shown}' (permission denied)"
    return None


def check_output_file(path: str | Path, option: str) -> Path:
    """`path` as a Path when a file can be written there; else OutputPathError."""
    target = Path(path)
    shown = one_line(str(target))
    if str(path) == "":
        raise OutputPathError(f"{option}: the file name is empty")
    if target.is_dir():
        raise OutputPathError(f"{option} {shown}: is a folder; give a file name")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputPathError(f"{option} {shown}: cannot replace the file (permission denied)")
    parent = target.parent
    problem = _folder_problem(parent, one_line(str(parent)))
    if problem is not None:
        raise OutputPathError(f"{option} {shown}: {problem}")
    return target


def check_output_folder(path: str | Path, option: str) -> Path:
    """`path` as a Path when it is a folder, or can be made as one (its parent exists)."""
    target = Path(path)
    shown = one_line(str(target))
    if str(path) == "":
        raise OutputPathError(f"{option}: the folder name is empty")
    if target.exists():
        problem = _folder_problem(target, shown)
        if problem is not None:
            raise OutputPathError(f"{option} {shown}: {problem}")
        return target
    problem = _folder_problem(target.parent, one_line(str(target.parent)))
    if problem is not None:
        raise OutputPathError(f"{option} {shown}: {problem}")
    return target
