"""What a command costs to start: running one command imports only its own module (not
scipy.stats for `check` or `validate`), and the grammar's tables come from a cache that is
checked, not trusted."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trialcode import cli

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"


def test_commands_map_each_command_to_the_module_that_registers_it() -> None:
    registered: dict[str, str] = {}
    for name in cli.COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert registered == cli.COMMANDS


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True,
                          capture_output=True, check=False, env={**os.environ, **env})


@pytest.mark.parametrize("command", ["check", "validate"])
def test_a_protocol_command_does_not_import_the_statistics(command: str, tmp_path: Path) -> None:
    args = [command, str(SEED)]
    if command == "validate":
        patients = tmp_path / "none.jsonl"
        patients.write_text('{"format": "trialcode.patients/1"}\n', encoding="utf-8")
        args += ["--patients", str(patients), "--as-of", "2025-01-31", "-q"]
    out = _run(f"import sys; from trialcode.cli import main; status = main({args!r}); "
               "print(status, 'scipy.stats' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["0", "False"]


def test_help_still_lists_every_command() -> None:
    out = _run("from trialcode.cli import main; main(['--help'])")
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split("COMMAND\n", 1)[1].split("\noptions:", 1)[0]
    assert sorted(line.split()[0] for line in listed.splitlines()
                  if line.startswith("    ") and not line.startswith("     ")) \
        == sorted(cli.COMMANDS)


PARSE = ("import dsl.parser as p; from dsl import parse_file; "
         f"print(p.cache_file()); print(parse_file({str(SEED)!r}).name)")


def test_the_grammar_cache_is_made_and_a_damaged_one_is_rebuilt(tmp_path: Path) -> None:
    first = _run(PARSE, XDG_CACHE_HOME=str(tmp_path))
    assert first.returncode == 0, first.stderr
    path, name = first.stdout.split()
    assert Path(path).parent == tmp_path / "trialcode" and Path(path).stat().st_size > 0
    Path(path).write_bytes(b"not a cache")  # a damaged file costs the build, nothing else
    again = _run(PARSE, XDG_CACHE_HOME=str(tmp_path))
    assert again.returncode == 0 and again.stderr == ""
    assert again.stdout.split() == [path, name]
    assert Path(path).read_bytes() != b"not a cache"  # and is written afresh


def test_no_cache_without_an_absolute_cache_folder(tmp_path: Path) -> None:
    out = _run(PARSE, XDG_CACHE_HOME="relative/folder")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "None"


def test_the_cache_can_be_switched_off(tmp_path: Path) -> None:
    out = _run(PARSE, XDG_CACHE_HOME=str(tmp_path), TRIALCODE_NO_CACHE="1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "None"
    assert not (tmp_path / "trialcode").exists()


def test_help_summaries_are_what_each_module_registers() -> None:
    registered: dict[str, str] = {}
    for name in cli.COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update({a.dest: str(a.help) for a in sub._choices_actions})
    assert registered == cli.SUMMARIES


def test_help_imports_no_command_and_not_the_parser() -> None:
    out = _run("import sys, contextlib, io\n"
               "from trialcode.cli import main\n"
               "with contextlib.redirect_stdout(io.StringIO()):\n"
               "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
               "print(sorted(m for m in sys.modules if m.startswith('trialcode.commands.')"
               " or m in ('lark', 'dsl', 'networkx', 'numpy', 'jinja2')))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_check_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    # the units of the seed protocol are read from the cache after the first run
    heavy = ("pandas", "scipy", "weasyprint", "numpy", "pint", "networkx", "jinja2")
    code = (f"import sys; from trialcode.cli import main; status = main(['check', {str(SEED)!r}]);"
            f" print(status, sorted(m for m in {heavy!r} if m in sys.modules))")
    first = _run(code, XDG_CACHE_HOME=str(tmp_path))
    assert first.returncode == 0, first.stderr
    again = _run(code, XDG_CACHE_HOME=str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "0 []"
    # without a cache the units are measured, with pint, and give the same verdict
    cold = _run(code, TRIALCODE_NO_CACHE="1")
    assert cold.stdout.splitlines()[-1].startswith("0 ")
