"""Fuzzing command-line values (issue 16): every option of every command, read from the
parsers themselves, given values a user could type by mistake or on purpose (empty, signs,
1e400, nan, inf, Arabic-Indic digits, separators out of place, dates that do not exist,
escape sequences). Every run ends with a documented status and never the internal-error one,
without a traceback or anything a terminal would obey."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from fuzzkit import FUZZ, MINI, MINI_PATIENTS, SEED, assert_clean, run
from hypothesis import given, settings
from hypothesis import strategies as st

from trialcode.cli import build_parser

VALUES = ["", " ", "-", "0", "1", "2", "3", "-1", "0.5", "0.025", "0.9999", "1e400", "-1e400",
          "1e-400", "nan", "inf", "-inf", "0x10", "١٢", "1_000", " 1 ", "0.5,", ",", "1,,2",
          "0.3,0.2", "0.25,0.5,0.75,1", "9" * 40, "\x1b[31m", "\u202e1", "2024-02-30",
          "2024-06-30", "99999", "1:0", "0:0", "2:1", "a:b", "hsd:-2", "z:1,2", "obf", "user",
          "ld-obf", "survival", "-2", "1e9"]
# the operands each command needs, so that the fuzzed options are what is tested
OPERANDS = {
    "check": ["{SEED}"], "fmt": ["{COPY}"], "dump": ["{SEED}"],
    "render": ["{SEED}", "-o", "{TMP}/out"], "export": ["{SEED}", "--to", "usdm"],
    "validate": ["{MINI}", "--patients", "{MINI_PATIENTS}"],
    "boundaries": [], "simon": [], "design": ["means"], "monitor": ["{SEED}", "--data", "{INTERIM}"],
    "report": ["{TMP}"],
}
# options whose value is a path, or that would rewrite a file: given operands above instead
SKIPPED = {"-o", "--output", "--json", "--html", "--csv", "--patients", "--sdtm", "--map",
           "--data", "-w", "--write", "-h", "--help", "--parquet"}
# (--spark is fuzzed here without --parquet, so it never starts a Java virtual machine; its
# values with --parquet, and Spark that cannot start: tests/io/test_spark_cli.py)
# the slowest legitimate runs (a group-sequential design solved for many looks, a Simon search
# over many patients): a bound for the suite, not a performance target (benchmarks/ has those)
SLOW = 30.0


def _options() -> dict[str, list[argparse.Action]]:
    parser = build_parser()
    commands = {}
    for action in parser._subparsers._group_actions:  # type: ignore[union-attr]
        for name, sub in action.choices.items():
            if name in OPERANDS:
                commands[name] = [a for a in sub._actions if a.option_strings
                                  and not set(a.option_strings) & SKIPPED]
    return commands


OPTIONS = _options()


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [command, *OPERANDS[command]]
    for action in draw(st.lists(st.sampled_from(OPTIONS[command]), max_size=5, unique_by=id)
                       if OPTIONS[command] else st.just([])):
        argv.append(draw(st.sampled_from(action.option_strings)))
        if action.nargs == 0:
            continue
        pool = [str(c) for c in action.choices] if action.choices else []
        argv.append(draw(st.sampled_from(pool + VALUES if pool else VALUES)))
    return argv


@settings(FUZZ, max_examples=300)
@given(command_lines())
def test_no_option_value_makes_trialcode_fail_badly(tmp_path_factory, argv: list[str]) -> None:
    folder = tmp_path_factory.mktemp("cli")
    copy = folder / "protocol.trial"
    shutil.copy(SEED, copy)
    interim = folder / "interim.json"
    interim.write_text(json.dumps({"format": "trialcode.interim/1", "safety": {"grade4": {
        "patients": 12, "events": 1}}}))
    names = {"{SEED}": SEED, "{MINI}": MINI, "{MINI_PATIENTS}": MINI_PATIENTS,
             "{COPY}": copy, "{INTERIM}": interim, "{TMP}": folder}
    argv = [_fill(a, names) for a in argv]
    started = time.monotonic()
    status, out, err = run(*argv)
    assert time.monotonic() - started < SLOW, argv
    assert_clean(status, out, err)
    assert copy.read_bytes() == SEED.read_bytes()  # no option rewrote the protocol


def _fill(arg: str, names: dict[str, Path]) -> str:
    for key, path in names.items():
        arg = arg.replace(key, str(path))
    return arg


def test_every_command_is_fuzzed() -> None:
    assert set(OPTIONS) == set(OPERANDS)
    assert sum(len(v) for v in OPTIONS.values()) >= 40
