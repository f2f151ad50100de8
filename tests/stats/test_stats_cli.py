"""`trialcode boundaries` and `trialcode simon`: through a local argparse harness and,
when present, through `trialcode.cli.main`."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from trialcode.cli import main
from trialcode.commands import stats


def _harness(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trialcode")
    sub = parser.add_subparsers(dest="command")
    stats.register(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def _cli_main() -> Callable[[list[str]], int] | None:
    try:
        from trialcode import cli
    except ImportError:
        return None
    if "trialcode.commands.stats" not in getattr(cli, "COMMAND_MODULES", ()):
        return None
    return cli.main


RUNNERS = [pytest.param(_harness, id="harness")]
if _cli_main() is not None:
    RUNNERS.append(pytest.param(_cli_main(), id="trialcode.cli.main"))


@pytest.mark.parametrize("run", RUNNERS)
def test_boundaries_json_ldobf(
    run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        "boundaries --spending ld-obf --looks 0.25,0.5,0.75,1 --alpha 0.05 --sides 2 --json".split()
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    # ldbounds / gsDesign sfLDOF, K = 4, two-sided alpha 0.05: 4.3326 2.9631 2.3590 2.0141
    assert out["efficacy"] == pytest.approx([4.3326, 2.9631, 2.3590, 2.0141], abs=6e-5)
    assert out["futility"] == []
    assert len(out["nominal_p"]) == 4
    assert out["cumulative_alpha"][-1] == pytest.approx(0.05, abs=1e-10)


@pytest.mark.parametrize("run", RUNNERS)
def test_boundaries_json_with_futility(
    run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = (
        "boundaries --spending hsd --param -4 --looks 3 --alpha 0.025 --sides 1 "
        "--futility hsd:-2 --beta 0.1 --json"
    ).split()
    assert run(argv) == 0
    out = json.loads(capsys.readouterr().out)
    # gsDesign default design: upper 3.01 2.55 2.00, lower -0.24 0.94 2.00, ratio 1.07
    assert out["efficacy"] == pytest.approx([3.01, 2.55, 2.00], abs=0.006)
    assert out["futility"] == pytest.approx([-0.24, 0.94, 2.00], abs=0.006)
    assert out["inflation_factor"] == pytest.approx(1.07, abs=0.006)
    assert set(out) >= {"efficacy", "futility", "nominal_p", "cumulative_alpha"}


def test_boundaries_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert _harness("boundaries --family pocock --looks 5 --alpha 0.05 --sides 2".split()) == 0
    out = capsys.readouterr().out
    assert "Pocock boundary, two-sided symmetric, alpha = 0.05" in out
    assert "Efficacy Z" in out and "Nominal p" in out and "Cum alpha" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("1 ", "5 "))]
    assert rows[0][2] == "2.4132"  # J&T Table 2.1: C_P(5) = 2.413
    assert "inflation factor" in out


def test_boundaries_table_with_futility_and_observed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = (
        "boundaries --spending ld-obf --looks 4 --alpha 0.025 --sides 1 --futility hsd:-2 "
        "--binding --observed 0.3,0.55,0.8,1.1"
    ).split()
    assert _harness(argv) == 0
    out = capsys.readouterr().out
    assert "Futility Z" in out and "binding" in out
    assert "recomputed at the observed information" in out
    assert "1.1000" in out


@pytest.mark.parametrize("run", RUNNERS)
def test_simon_json(run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run("simon --p0 0.2 --p1 0.4 --alpha 0.05 --beta 0.2 --json".split()) == 0
    out = json.loads(capsys.readouterr().out)
    # Simon (1989) Table 1: optimal 3/13, 12/43; minimax 4/18, 10/33
    assert [out["optimal"][k] for k in ("r1", "n1", "r", "n")] == [3, 13, 12, 43]
    assert [out["minimax"][k] for k in ("r1", "n1", "r", "n")] == [4, 18, 10, 33]
    assert round(out["optimal"]["en0"], 1) == 20.6
    assert round(out["optimal"]["pet0"], 2) == 0.75


def test_simon_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert _harness("simon --p0 0.05 --p1 0.25 --alpha 0.05 --beta 0.2".split()) == 0
    out = capsys.readouterr().out
    assert "Optimal" in out and "0/9" in out and "2/17" in out
    assert "Minimax" in out and "0/12" in out and "2/16" in out


BAD = [
    (
        "boundaries --family pocock --looks 0.5,0.4,1 --alpha 0.05 --sides 2",
        "trialcode boundaries: error: information fractions must be strictly increasing, "
        "got 0.5 at look 1 and 0.4 at look 2",
    ),
    (
        "boundaries --family pocock --alpha 0.7 --sides 2",
        "trialcode boundaries: error: alpha must be strictly between 0 and 0.5, got 0.7",
    ),
    (
        "boundaries --family pocock --looks 0 --alpha 0.05 --sides 1",
        "trialcode boundaries: error: the number of looks K must be at least 1, got K = 0",
    ),
    (
        "boundaries --family nope --alpha 0.05 --sides 1",
        "trialcode boundaries: error: --family must be one of pocock, obf, wang-tsiatis, "
        "haybittle-peto, pampallona-tsiatis, got 'nope'",
    ),
    (
        "boundaries --family pocock --spending hsd --alpha 0.05 --sides 1",
        "trialcode boundaries: error: give exactly one of --family or --spending",
    ),
    ("boundaries --family pocock --sides 1", "trialcode boundaries: error: --alpha is required"),
    (
        "boundaries --family pocock --alpha x --sides 1",
        "trialcode boundaries: error: --alpha must be a number, got 'x'",
    ),
    (
        "boundaries --family pocock --alpha 0.05 --sides 3",
        "trialcode boundaries: error: --sides must be 1 or 2, got '3'",
    ),
    (
        "boundaries --family obf --alpha 0.05 --sides 1 --futility hsd --binding",
        "trialcode boundaries: error: binding beta-spending futility needs an error-spending "
        "efficacy bound (ld-obf, ld-pocock, hsd, power, user)",
    ),
    (
        "boundaries --spending hsd --alpha 0.05 --sides 1 --futility zz:1",
        "trialcode boundaries: error: --futility must be a beta-spending function (ld-obf, "
        "ld-pocock, hsd, power, user) with an optional :PARAM, z:BOUNDS or "
        "pampallona-tsiatis:DELTA0, got 'zz:1'",
    ),
    (
        "boundaries --family pocock --alpha",
        "trialcode boundaries: error: argument --alpha: expected one argument",
    ),
    (
        "simon --p0 0.4 --p1 0.2",
        "trialcode simon: error: p1 must exceed p0 (response rates), got p0 = 0.4, p1 = 0.2",
    ),
    ("simon --p1 0.2", "trialcode simon: error: --p0 is required"),
    # issue 17: numbers are read strictly (ASCII digits only), never with a traceback
    (
        "boundaries --family pocock --looks ² --alpha 0.05 --sides 2",
        "trialcode boundaries: error: --looks must be K or comma-separated information "
        "fractions, got '²': item 1 is '²'",
    ),
    (
        "boundaries --spending ld-obf --alpha 0.025 --sides 1 --observed ³",
        "trialcode boundaries: error: --observed must be comma-separated information fractions, "
        "got '³': item 1 is '³'",
    ),
    (
        "boundaries --family pocock --looks ٤ --alpha 0.05 --sides 2",
        "trialcode boundaries: error: --looks must be K or comma-separated information "
        "fractions, got '٤': item 1 is '٤'",
    ),
    (
        "boundaries --family pocock --looks 0.5,1 --alpha ٠.٠٥ --sides 2",
        "trialcode boundaries: error: --alpha must be a number, got '٠.٠٥'",
    ),
    (
        "boundaries --family pocock --looks 0.3,,1 --alpha 0.05 --sides 2",
        "trialcode boundaries: error: --looks must be K or comma-separated information "
        "fractions, got '0.3,,1': item 2 is empty",
    ),
    (
        "boundaries --spending ld-obf --alpha 0.025 --sides 1 --observed 0.3,0.6,",
        "trialcode boundaries: error: --observed must be comma-separated information fractions, "
        "got '0.3,0.6,': item 3 is empty",
    ),
    (
        "boundaries --family pocock --alpha 0.05 --sides 2.0",
        "trialcode boundaries: error: --sides must be 1 or 2, got '2.0'",
    ),
    (
        "boundaries --family pocock --alpha 1_0 --sides 2",
        "trialcode boundaries: error: --alpha must be a number, got '1_0'",
    ),
    (
        "boundaries --family pocock --alpha nan --sides 2",
        "trialcode boundaries: error: --alpha must be a number, got 'nan'",
    ),
    (
        "simon --p0 0.2 --p1 0.4 --n-max 1e2",
        "trialcode simon: error: --n-max must be a whole number of at least 2, got '1e2'",
    ),
    (
        "simon --p0 0.2 --p1 0.4 --n-max ٥٠",
        "trialcode simon: error: --n-max must be a whole number of at least 2, got '٥٠'",
    ),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_one_line_exit_2(
    argv: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = _harness(argv.split())
    except SystemExit as exc:  # argparse-level errors exit directly
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == message + "\n"


def _documented_commands() -> list[str]:
    """Every `trialcode boundaries|simon|design` command line in the docs' shell examples."""
    root = Path(__file__).resolve().parents[2]
    found: list[str] = []
    for page in ("cli.md", "statistics.md"):
        text = (root / "docs" / page).read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith(("trialcode boundaries ", "trialcode simon ", "trialcode design ")):
                found.append(line)
    return found


def _error_examples() -> set[str]:
    """Commands that docs/statistics.md shows failing on purpose (followed by an error line)."""
    root = Path(__file__).resolve().parents[2]
    lines = (root / "docs" / "statistics.md").read_text(encoding="utf-8").splitlines()
    return {
        a.removeprefix("$ ").strip()
        for a, b in zip(lines, lines[1:], strict=False)
        if a.startswith("$ trialcode") and ": error: " in b
    }


@pytest.mark.parametrize("command", _documented_commands())
def test_documented_commands_run(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 17: docs/cli.md showed `boundaries ... --interim` without the required --sides
    expected = 2 if command in _error_examples() else 0
    try:
        code = main(shlex.split(command)[1:])
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == expected, captured.err
    assert "Traceback" not in captured.err
