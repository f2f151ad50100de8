"""Cycles, items restricted inside a visit and day numbering: parsed, formatted, checked, with
clear errors (docs/language.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

import dsl
from dsl.formatter import format_source
from protocol.schedule import CycleDays, Cycles
from trialcode.cli import main

BASE = """trial T1 {
  phase 2
  allocation na
  model single_group
  purpose treatment
  masking none

  calendar { month 30 days; days counted from 1 }

  intervention drug_x drug "Drug X"

  arm a "Arm A" experimental {
    drug_x
  }

  data {
    lab anc "ANC" unit `10*9/L`
    category cbp "Childbearing potential" values "yes", "no"
    category pregnancy_test "Pregnancy test" values "positive", "negative"
    event progression "Disease progression"
  }

  schedule anchored at registration {
    anchor registration "Registration"
    visit screening "Screening" at day -28 to day -1 {
      anc, cbp, pregnancy_test (sex female if cbp)
    }
    epoch treatment "Treatment" {
      cycles tx "Treatment cycle" every 21 days from day 1 window -0 to +3 days until progression max 6 cycles {
        dose drug_x on day 1, 8 window +-1 days
        assess anc on day 1, 8
        assess pregnancy_test on day 1 sex female if cbp
      }
    }
  }
}
"""


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "t.trial"
    path.write_text(text, encoding="utf-8")
    status = main(["check", str(path)])
    out, err = capsys.readouterr()
    return status, (out + err).replace(str(path), "t.trial")


def test_the_constructs_parse_check_and_format_canonically(tmp_path, capsys) -> None:
    parsed = dsl.parse_source(BASE, "t.trial")
    trial = parsed.trial
    assert trial.calendar.first_day == 1
    sched = trial.schedule
    assert sched is not None
    (block,) = sched.cycles
    assert isinstance(block, Cycles) and block.until == ("progression",) and block.max_cycles == 6
    assert block.epoch == "treatment" and all(a.epoch == "treatment" for a in block.items)
    assert block.items[0].timing == CycleDays((1, 8))
    cond = sched.visit("screening").item_condition("pregnancy_test")
    assert cond is not None and cond.condition == "cbp" and cond.sex is not None
    assert format_source(parsed) == BASE
    assert _check(tmp_path, BASE, capsys) == (0, "t.trial: ok\n")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("at day -28 to day -1", "at day -28 to day 0",
     "error: there is no day 0: this protocol counts its days from 1"),
    ("on day 1, 8 window", "on day 0, 8 window",
     "error: cycle day 0 does not exist: the days of a cycle count from 1"),
    ("assess anc on day 1, 8", "assess anc on day 1, 28",
     "error: day 28 is past the end of a 21 days cycle"),
    ("dose drug_x on day 1, 8", "dose drug_x on day 8, 1",
     "error: the days of a cycle must be listed once each, in order"),
    ("until progression", "until progresion", "error: undefined anchor 'progresion'"),
    ("pregnancy_test (sex female if cbp)", "pregnancy_test (arms b)", "error: undefined arm 'b'"),
    ("pregnancy_test (sex female if cbp)", "pregnancy_test ()",
     "error: 'pregnancy_test' has empty parentheses"),
])
def test_errors(tmp_path, capsys, old: str, new: str, message: str) -> None:
    assert old in BASE
    status, text = _check(tmp_path, BASE.replace(old, new), capsys)
    assert status == 1 and message in text, text


def test_a_cycle_needs_something_on_day_1(tmp_path, capsys) -> None:
    text = BASE.replace("on day 1, 8 window +-1 days", "on day 8 window +-1 days") \
        .replace("assess anc on day 1, 8", "assess anc on day 8") \
        .replace("assess pregnancy_test on day 1 sex", "assess pregnancy_test on day 2 sex")
    status, out = _check(tmp_path, text, capsys)
    assert status == 1 and "nothing is planned on day 1 of the cycles 'tx'" in out


def test_on_day_outside_a_cycle_is_refused(tmp_path, capsys) -> None:
    text = BASE.replace("    epoch treatment", "    assess anc on day 3\n    epoch treatment")
    status, out = _check(tmp_path, text, capsys)
    assert status == 1 and "'on day ...' times an activity inside a 'cycles' block only" in out


def test_an_endless_cycle_block_is_a_warning(tmp_path, capsys) -> None:
    status, out = _check(tmp_path, BASE.replace(" until progression max 6 cycles", ""), capsys)
    assert status == 0 and "the cycles 'tx' have no end" in out
