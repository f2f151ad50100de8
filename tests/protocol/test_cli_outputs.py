"""Output paths and exit statuses of the command line (issue 16; docs/cli.md).

`-o` naming a folder, an existing file or a file in a missing folder; a report never left half
written when a run stops; a bug reported in one paragraph with its own exit status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trialcode import exits
from trialcode.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"
MINI = ROOT / "tests" / "io" / "data" / "mini.trial"
MINI_PATIENTS = ROOT / "tests" / "io" / "data" / "mini-patients.jsonl"


def run(*args: object) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize("command", [
    ("render", SEED, "--to", "html", "-o"),
    ("render", SEED, "--to", "md", "-o"),
    ("export", SEED, "--to", "usdm", "-o"),
    ("export", SEED, "--to", "ctgov", "-o"),
    ("validate", MINI, "--patients", MINI_PATIENTS, "--json"),
    ("validate", MINI, "--patients", MINI_PATIENTS, "--html"),
])
def test_a_file_option_naming_a_folder_or_a_missing_folder_is_a_usage_error(
    command: tuple[object, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(*command, tmp_path) == exits.EXIT_USAGE
    assert capsys.readouterr().err.endswith(f"{tmp_path}: is a folder; give a file name\n")
    missing = tmp_path / "reprots" / "out.x"
    assert run(*command, missing) == exits.EXIT_USAGE
    err = capsys.readouterr().err
    assert f"the folder '{missing.parent}' does not exist (trialcode does not create it)" in err
    assert not missing.parent.exists()


@pytest.mark.parametrize("command", [
    ("export", SEED, "--to", "sdtm", "-o"),
    ("validate", MINI, "--patients", MINI_PATIENTS, "--csv"),
])
def test_a_folder_option_may_name_a_new_folder_but_not_a_file_or_a_missing_parent(
    command: tuple[object, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert run(*command, a_file) == exits.EXIT_USAGE
    assert capsys.readouterr().err.endswith(f"'{a_file}' is not a folder\n")
    assert run(*command, tmp_path / "no" / "new") == exits.EXIT_USAGE
    assert not (tmp_path / "no").exists()
    assert run(*command, tmp_path / "new") == exits.EXIT_OK
    assert (tmp_path / "new").is_dir() and any((tmp_path / "new").iterdir())


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "protocol.md"
    out.write_text("an earlier version, much longer than the new one " * 1000)
    assert run("render", SEED, "--to", "md", "-o", out) == exits.EXIT_OK
    assert out.read_text(encoding="utf-8").startswith("# ")
    assert [p.name for p in tmp_path.iterdir()] == ["protocol.md"]  # no temporary file left


def _fail_midway(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run fails once the first part of the patients is in the reports."""
    from trialcode.parallel.parts import Reports

    original = Reports.merge

    def merge(self: Reports, part: Any) -> None:
        original(self, part)
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(Reports, "merge", merge)


def test_a_run_that_stops_midway_leaves_no_half_written_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = json.dumps({"schema": "trialcode.report/1", "note": "an earlier report"})
    (tmp_path / "r.json").write_text(earlier)
    _fail_midway(monkeypatch)
    status = run("validate", MINI, "--patients", MINI_PATIENTS, "--as-of", "2024-06-30",
                 "--json", tmp_path / "r.json", "--html", tmp_path / "r.html",
                 "--csv", tmp_path / "csv")
    assert status == exits.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: the disk is on fire" in err
    assert "Traceback" not in err and "This is a bug in trialcode" in err
    assert (tmp_path / "r.json").read_text() == earlier  # the earlier report is intact
    assert not (tmp_path / "r.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["csv", "r.json"]
    assert list((tmp_path / "csv").iterdir()) == []  # no partial listing


def test_trialcode_debug_shows_the_traceback_of_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_midway(monkeypatch)
    monkeypatch.setenv("TRIALCODE_DEBUG", "1")
    with pytest.raises(RuntimeError, match="on fire"):
        run("validate", MINI, "--patients", MINI_PATIENTS, "--json", tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_the_exit_statuses_are_the_documented_ones() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text[text.index("## Exit status"):]
    documented = {int(line.split("|")[1].strip(" *`")) for line in section.splitlines()
                  if line.startswith("| ") and line.split("|")[1].strip(" *`").isdigit()}
    assert documented == set(exits.EXIT_STATUSES)
