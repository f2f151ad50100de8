"""The unit facts `check` reads from the cache (protocol/units.py): made on first use, read
back without pint, rebuilt when damaged, never trusted past their checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ASK = ("import sys; from protocol import units as u\n"
       "answers = [u.compatible('mg/dL', 'umol/L', 113.12), u.compatible('mg/dL', 'umol/L'),\n"
       "           u.compatible('U/L', '10*9/L'), u.compatible('Cel', '[degF]'),\n"
       "           u.compatible('g/L', 'mg/dL')]\n"
       "try:\n    u.check_unit('furlong/fortnight/x')\nexcept u.UnitError as e:\n"
       "    answers.append(str(e))\n"
       "print(answers, 'pint' in sys.modules)")
EXPECTED = "[True, False, False, False, True, \"'furlong/fortnight/x' is not a UCUM unit\"]"


def _ask(cache: Path) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-c", ASK], cwd=ROOT, text=True, capture_output=True,
                         check=True, env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    answers, pint = out.stdout.strip().rsplit(" ", 1)
    return answers, pint


def test_units_are_measured_once_then_read_back_without_pint(tmp_path: Path) -> None:
    assert _ask(tmp_path) == (EXPECTED, "True")
    (path,) = (tmp_path / "trialcode").glob("units-*.json")
    facts = json.loads(path.read_text(encoding="utf-8"))
    assert facts["mg/dL"] == {"dims": {"[mass]": 1, "[length]": -3}, "offset": False}
    assert facts["Cel"]["offset"] is True
    assert _ask(tmp_path) == (EXPECTED, "False")


def test_a_damaged_or_doctored_cache_is_not_believed(tmp_path: Path) -> None:
    _ask(tmp_path)
    (path,) = (tmp_path / "trialcode").glob("units-*.json")
    path.write_text("not json", encoding="utf-8")
    assert _ask(tmp_path) == (EXPECTED, "True")
    facts = json.loads(path.read_text(encoding="utf-8"))
    facts["mg/dL"] = {"dims": "mass"}  # not what a measurement writes: measured again
    path.write_text(json.dumps(facts), encoding="utf-8")
    assert _ask(tmp_path) == (EXPECTED, "True")
