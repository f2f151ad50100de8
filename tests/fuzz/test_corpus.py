"""The nastiest inputs found by hand and by the fuzzing tests, kept as regression files in
tests/fuzz/corpus/ (issue 16). Each file is one case; its name says how it is run and the exit
status expected, `NAME.exitN.KIND`:

* `.trial`: `trialcode check FILE`;
* `.jsonl`: `trialcode validate` of tests/io/data/mini.trial with FILE as the patients, every
  line and event accounted for;
* `.interim.json`: `trialcode monitor` of the seed protocol with FILE as the interim data;
* `.sdtm`: an SDTM folder written as one file, each dataset after a line `--- NAME`, run
  through `trialcode validate --sdtm` of mini.trial (map of tests/fuzz/test_fuzz_sdtm.py);
* `.args`: a JSON list of arguments (`{SEED}`, `{MINI}`, `{MINI_PATIENTS}`, `{TMP}` replaced).

Every run must also print no traceback and nothing a terminal would obey."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fuzzkit import MINI, MINI_PATIENTS, SEED, account_lines, assert_clean, run
from test_fuzz_patients import TRIAL, _data_lines
from test_fuzz_sdtm import MAP_TOML

from engine.io.jsonl import read_patients

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file())
NAME = re.compile(r"[\w-]+\.exit(\d+)\.(trial|jsonl|interim\.json|sdtm|args)")


def test_every_case_is_named_as_documented() -> None:
    assert len(CASES) >= 25
    for case in CASES:
        assert NAME.fullmatch(case.name), case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    match = NAME.fullmatch(case.name)
    assert match, case.name
    expected, kind = int(match.group(1)), match.group(2)
    if kind == "trial":
        argv: list[object] = ["check", case]
    elif kind == "jsonl":
        argv = ["validate", MINI, "--patients", case, "--as-of", "2024-06-30",
                "--json", tmp_path / "r.json"]
    elif kind == "interim.json":
        argv = ["monitor", SEED, "--data", case]
    elif kind == "sdtm":
        study = tmp_path / "study"
        study.mkdir()
        for part in case.read_bytes().split(b"--- ")[1:]:
            name, _, content = part.partition(b"\n")
            (study / name.decode().strip()).write_bytes(content)
        (tmp_path / "map.toml").write_text(MAP_TOML, encoding="utf-8")
        argv = ["validate", MINI, "--sdtm", study, "--map", tmp_path / "map.toml",
                "--as-of", "2020-12-31"]
    else:
        names = {"{SEED}": SEED, "{MINI}": MINI, "{MINI_PATIENTS}": MINI_PATIENTS,
                 "{TMP}": tmp_path}
        argv = [_fill(a, names) for a in json.loads(case.read_text(encoding="utf-8"))]
    status, out, err = run(*argv)
    assert_clean(status, out, err)
    assert status == expected, err
    if kind == "jsonl" and status == 0:
        account_lines(list(read_patients(case, TRIAL)), _data_lines(case.read_bytes()))


def _fill(arg: str, names: dict[str, Path]) -> str:
    for key, path in names.items():
        arg = arg.replace(key, str(path))
    return arg
