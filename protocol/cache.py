"""The user's cache folder for things that are slow to build and cheap to read back.

The grammar's LALR tables (dsl/parser.py) and what is known about each unit code
(protocol/units.py) are kept there, each in a file named after the versions that made it and
checked when read, so a stale or damaged file only costs the build.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_folder() -> Path | None:
    """$XDG_CACHE_HOME/trialcode, else ~/.cache/trialcode (never a shared temporary folder);
    None when TRIALCODE_NO_CACHE is set, no absolute folder is known, or it cannot be made."""
    if os.environ.get("TRIALCODE_NO_CACHE", "") not in ("", "0"):
        return None
    home = os.path.expanduser("~")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    if not os.path.isabs(base):  # no home folder known: no cache, rather than one in the cwd
        return None
    folder = Path(base, "trialcode")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a reader never sees half a file; errors are ignored
    (a cache that cannot be written only costs the next build)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
