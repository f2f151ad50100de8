"""The compiled engine (mypyc, engine/native.py) computes exactly what the pure-Python engine
computes, and a compiled build that no longer matches its sources is never run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import native

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718"
PILOT = ROOT / "examples" / "cdiscpilot01"
PILOT_SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"


def _run(code: str, *, pure: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TRIALCODE_PURE", None)
    if pure:
        env["TRIALCODE_PURE"] = "1"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                          capture_output=True, check=False)


def _form(*, pure: bool) -> str:
    out = _run("import engine.native as n, engine; print(n.describe())", pure=pure)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_trialcode_pure_selects_the_sources() -> None:
    assert _form(pure=True) == "pure Python: TRIALCODE_PURE is set"


@pytest.mark.parametrize("edited", ["engine.dosing", "engine._construct"])
def test_a_changed_source_is_never_run_compiled(monkeypatch: pytest.MonkeyPatch,
                                                edited: str) -> None:
    """An edited compiled module, or the edited C source of engine/_construct.c."""
    if not native.MODULES or _form(pure=False) != "compiled (mypyc)":
        pytest.skip("the engine is not compiled in this installation")
    monkeypatch.delenv("TRIALCODE_PURE", raising=False)
    real = native.source_digest
    monkeypatch.setattr(native, "source_digest", lambda m: "edited" if m == edited else real(m))
    reason, warn = native._why_pure()
    assert reason == f"compiled modules older than their sources ({edited}): rebuild with `make`"
    assert warn


def test_a_compiled_module_left_from_another_build_is_never_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIALCODE_PURE", raising=False)
    real = native._compiled_modules
    monkeypatch.setattr(native, "_compiled_modules", lambda: [*real(), "engine.report_json"])
    reason, warn = native._why_pure()
    assert reason == ("compiled modules not in this build (engine.report_json): `make clean`, "
                      "then `make`")
    assert warn
    assert "engine.report_json" in native._SourceFinder().modules


VALIDATE = """
import sys
from trialcode.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _validate(out: Path, args: list[str], *, pure: bool) -> None:
    out.mkdir(parents=True)
    argv = ", ".join(repr(a) for a in ["validate", *args, "--json", str(out / "report.json"), "--html",
                                       str(out / "report.html"), "--csv", str(out / "csv")])
    result = _run(f"import sys; sys.argv[1:] = [{argv}]\n{VALIDATE}", pure=pure)
    assert result.returncode in (0, 1), result.stderr


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# the illustrative examples whose schedules use treatment cycles and study periods
EXAMPLE_COHORTS = {"oncology_cycles": "2024-12-31", "crossover_ab": "2024-06-04"}


@pytest.mark.parametrize("case", ["seed", "pilot", *EXAMPLE_COHORTS])
def test_compiled_and_pure_give_identical_reports(case: str, tmp_path: Path) -> None:
    """Every byte of the JSON, HTML and CSV reports is the same in both forms: the seed trial's
    synthetic cohort (every status, stopping rules, titration), the real CDISC pilot, and the
    cycle and crossover examples (engine.cycles and engine.periods compiled)."""
    if _form(pure=False) != "compiled (mypyc)":
        pytest.skip("the engine is not compiled in this installation")
    if case in EXAMPLE_COHORTS:
        folder = ROOT / "examples" / case
        args = [str(folder / "protocol.trial"), "--patients", str(folder / "patients.jsonl"),
                "--as-of", EXAMPLE_COHORTS[case]]
    elif case == "seed":
        cohort = tmp_path / "cohort.jsonl"
        made = _run(
            "from engine.io.jsonl import write_patients\n"
            "from engine.io.synthetic import TRIAL, cohort\n"
            f"write_patients({str(cohort)!r}, cohort(300, 7), trial=TRIAL, generator='test')",
            pure=True)
        assert made.returncode == 0, made.stderr
        args = [str(SEED / "protocol.trial"), "--patients", str(cohort), "--as-of", "2025-01-31"]
    else:
        if not PILOT_SDTM.is_dir():
            pytest.skip("the CDISC pilot data is not beside the checkout")
        args = [str(PILOT / "protocol.trial"), "--sdtm", str(PILOT_SDTM), "--map",
                str(PILOT / "sdtm-map.toml"), "--as-of", "2015-03-31"]
    _validate(tmp_path / "pure", args, pure=True)
    _validate(tmp_path / "compiled", args, pure=False)
    pure, compiled = _outputs(tmp_path / "pure"), _outputs(tmp_path / "compiled")
    assert sorted(compiled) == sorted(pure)
    for name in pure:
        assert compiled[name] == pure[name], f"{case}: {name} differs between the two forms"


# Compiled code stores a value read through a `float` annotation as a C double, so an integer
# 5 becomes 5.0 and a report would print "5.0". Every number that may be an integer is therefore
# typed `int | float` in the compiled modules and in the model classes they read.
CHECKED = sorted(
    {ROOT / "engine" / "patient.py", ROOT / "engine" / "results.py",
     *(ROOT / "protocol").glob("*.py"), *(native.source_path(m) for m in native.MODULES)}
)


def _bare_floats(source: str) -> list[int]:
    tree = ast.parse(source)
    parent = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}

    def members(node: ast.AST) -> list[ast.AST]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return members(node.left) + members(node.right)
        return [node]

    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == "float"):
            continue
        top: ast.AST = node
        while isinstance(parent.get(top), ast.BinOp) and isinstance(parent[top].op, ast.BitOr):
            top = parent[top]
        if any(isinstance(m, ast.Name) and m.id == "int" for m in members(top)):
            continue
        up = parent.get(top)
        in_type = (
            top is not node  # part of a union
            or isinstance(up, ast.arg | ast.AnnAssign)
            or (isinstance(up, ast.Subscript) and up.value is not top)
            or (isinstance(up, ast.FunctionDef) and up.returns is top)
            or (isinstance(up, ast.Tuple) and isinstance(parent.get(up), ast.Subscript))
        )
        if in_type:
            lines.append(node.lineno)
    return lines


def test_the_bare_float_check_finds_annotations() -> None:
    found = _bare_floats("def f(x: float, y: list[float]) -> float | None:\n"
                         "    z: tuple[float, str] = (float(x), 'a')\n"
                         "    return x if isinstance(x, (int, float)) else None\n")
    assert found == [1, 1, 1, 2]
    assert _bare_floats("def f(x: int | float) -> float | int:\n    return float(x)\n") == []


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_numbers_that_may_be_integers_are_not_typed_float(path: Path) -> None:
    assert _bare_floats(path.read_text(encoding="utf-8")) == [], (
        f"{path.relative_to(ROOT)}: write `int | float` (see the comment above CHECKED)")


def test_version_says_which_engine_runs() -> None:
    out = _run("from trialcode.cli import main; main(['--version'])", pure=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("trialcode ")
    assert out.stdout.rstrip().endswith("; engine: pure Python: TRIALCODE_PURE is set")
