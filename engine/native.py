"""Which engine modules are compiled, and the guard that keeps a stale build from being used.

The hot modules of the engine are compiled to C with mypyc when the package is installed
(setup.py reads MODULES from this file), and the engine's one hand-written C extension
(C_MODULES: engine/_construct.c, which builds event and result objects) is built with them.
A compiled module sits beside its source, and Python prefers it. That is dangerous in a source
checkout: after an edit to a `.py` (or the `.c`), the old compiled module would still run. So
the build records a SHA-256 of every source it compiled (MANIFEST), and this guard, run when
`engine` is first imported, compares them. If any source differs, or the compiled modules are
incomplete or include one this build does not list, or TRIALCODE_PURE=1 is set, the engine
runs its pure-Python sources instead (one line on stderr says so when a build was found stale).

Both forms compute the same results: the compiled one is the same source, the C builder makes
the very objects the Python one makes (tests/engine/test_construct.py), and
tests/engine/test_native.py compares every output of a run in each form.

This module must import only the standard library: setup.py executes it before the package
is installed.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from pathlib import Path
from types import ModuleType

# The modules compiled by mypyc: the loader and everything `evaluate` runs per patient.
# The model classes (engine.patient, engine.results) stay interpreted: they are attrs classes,
# which mypyc cannot compile natively, and compiling their module gains nothing.
MODULES: tuple[str, ...] = (
    "engine.anchor_effects",
    "engine.clock",
    "engine.compile_expr",
    "engine.compile_records",
    "engine.compile_select",
    "engine.compile_values",
    "engine.compiled",
    "engine.conformance",
    "engine.cycles",
    "engine.data_window",
    "engine.describe",
    "engine.dosing",
    "engine.eligibility",
    "engine.expressions",
    "engine.periods",
    "engine.rules",
    "engine.schedule",
    "engine.summary",
    "engine.timed_select",
    "engine.timeline",
    "engine.io.jsonl",
)

# Hand-written C extensions built with them (engine/_construct.c: the builder of result and
# event objects that engine.patient.fast_constructor uses with the compiled engine).
C_MODULES: tuple[str, ...] = ("engine._construct",)

# Everything the native build makes, each with its source recorded in the manifest.
BUILT: tuple[str, ...] = MODULES + C_MODULES

# The shared library mypyc builds for the group (it holds the code of every module above).
GROUP = "engine._native"
MANIFEST = "_native_sources.txt"

ENGINE_DIR = Path(__file__).resolve().parent
ROOT = ENGINE_DIR.parent


def source_path(module: str) -> Path:
    """The source of one of BUILT: the `.py` file of a compiled module, the `.c` file of a C
    extension."""
    return ROOT.joinpath(*module.split(".")).with_suffix(".c" if module in C_MODULES else ".py")


def built_sources() -> list[str]:
    """The sources of BUILT, relative to the checkout (for the Makefile's dependencies)."""
    return [str(source_path(m).relative_to(ROOT)) for m in BUILT]


def source_digest(module: str) -> str:
    """SHA-256 of a module's source, as recorded in the manifest at build time ('missing' when
    the source is not there: the build is then treated as stale, never trusted)."""
    try:
        return hashlib.sha256(source_path(module).read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def manifest_text() -> str:
    """The digest of every compiled source, one `module digest` line each."""
    return "".join(f"{module} {source_digest(module)}\n" for module in BUILT)


def write_manifest(text: str, folder: str | Path = ENGINE_DIR) -> None:
    """Record the digests of the sources just compiled (setup.py, after a successful build)."""
    Path(folder, MANIFEST).write_text(text, encoding="utf-8")


def _compiled_file(module: str) -> Path | None:
    path = source_path(module)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def _compiled_modules() -> list[str]:
    """Every engine module that has a compiled file beside it (the group library aside)."""
    found = []
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for path in ENGINE_DIR.rglob(f"*{suffix}"):
            module = ".".join(path.relative_to(ROOT).parts)[: -len(suffix)]
            if module != f"{GROUP}__mypyc" and path.with_name(
                    path.name[: -len(suffix)] + ".py").exists():
                found.append(module)
    return found


def _why_pure() -> tuple[str, bool]:
    """Why the engine runs its pure-Python sources ('' if it runs compiled), and whether the
    reason deserves a warning (a build that no longer matches its sources)."""
    if os.environ.get("TRIALCODE_PURE", "") not in ("", "0"):
        return "TRIALCODE_PURE is set", False
    compiled = [m for m in BUILT if _compiled_file(m) is not None]
    stray = sorted(set(_compiled_modules()) - set(MODULES))
    if not compiled and not stray:
        return "not compiled (pure-Python install)", False
    if stray:  # left by an earlier build that compiled more modules
        return f"compiled modules not in this build ({', '.join(stray)}): `make clean`, " \
               "then `make`", True
    if len(compiled) < len(BUILT):
        return "compiled modules incomplete: rebuild with `make`", True
    manifest = ENGINE_DIR / MANIFEST
    if not manifest.exists():
        return "compiled modules without a manifest: rebuild with `make`", True
    recorded = dict(
        line.split(" ", 1) for line in manifest.read_text(encoding="utf-8").splitlines() if line
    )
    stale = [m for m in BUILT if recorded.get(m) != source_digest(m)]
    if stale:
        return f"compiled modules older than their sources ({', '.join(stale)}): " \
               "rebuild with `make`", True
    return "", False


class _SourceFinder(MetaPathFinder):
    """Imports the compiled modules from their `.py` sources, never from a compiled file."""

    def __init__(self) -> None:
        self.modules = frozenset(MODULES) | frozenset(_compiled_modules())

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        return importlib.util.spec_from_file_location(fullname, source_path(fullname))


def _install() -> str:
    reason, warn = _why_pure()
    if reason:
        if warn:
            print(f"trialcode: running the pure-Python engine: {reason}", file=sys.stderr)
        sys.meta_path.insert(0, _SourceFinder())
    return reason


# Set once, when `engine` is first imported: '' when the compiled engine runs, else why not.
PURE_REASON: str = ""


def activate() -> None:
    """Decide compiled or pure for this process (engine/__init__ calls it once)."""
    global PURE_REASON
    PURE_REASON = _install()


def describe() -> str:
    """One line for people: which form of the engine this process runs."""
    return "compiled (mypyc)" if not PURE_REASON else f"pure Python: {PURE_REASON}"
