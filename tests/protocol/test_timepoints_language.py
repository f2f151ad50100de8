"""Sub-day timepoints in the language: parsed to the model, printed back canonically, and
checked with located messages (docs/language.md, "Sub-day timepoints")."""

from __future__ import annotations

from pathlib import Path

import pytest

import dsl
from dsl.formatter import format_source
from protocol.expr import DoseAnchor
from protocol.schedule import DoseOnDays, Timepoints
from protocol.timing import Duration, TimeUnit, Window
from trialcode.cli import main

BASE = """trial T1 {
  phase 1

  calendar { month 30 days; days counted from 1 }

  intervention drug_a drug "Drug A"

  arm a "Arm A" experimental {
    drug_a
  }

  data {
    lab pk_conc "Plasma concentration" unit ng/mL
    vital sysbp "Systolic blood pressure" unit `mm[Hg]`
  }

  schedule anchored at first_dose {
    anchor first_dose "First dose"
    dose drug_a every 1 day from day 1 for 14 days
    timepoints pk "PK sampling" after dose of drug_a on day 1, 14 {
      assess pk_conc predose within 60 minutes
      assess pk_conc at 30 minutes, 1, 2, 24 hours window +-5 minutes up to 2 hours, +-15 minutes after
      assess sysbp at 1 hour window -5 to +10 minutes sex female
    }
    timepoints after_first "After the first dose" after first dose of drug_a {
      assess sysbp at 4 hours window +-10 minutes
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


def test_the_model_of_a_timepoints_block() -> None:
    trial = dsl.parse(BASE)
    assert trial.schedule is not None
    pk, first = trial.schedule.timepoints
    assert isinstance(pk, Timepoints) and isinstance(pk.reference, DoseOnDays)
    assert [d.value for d in pk.reference.days] == [1, 14]
    pre, at, bp = pk.items
    assert pre.predose == Duration(60, TimeUnit.MINUTE) and pre.offsets == ()
    assert [d.minutes() for d in at.offsets] == [30, 60, 120, 1440]
    assert at.window_for(at.offsets[2]) == Window(5, 5, TimeUnit.MINUTE)  # 2 h: up to 2 hours
    assert at.window_for(at.offsets[3]) == Window(15, 15, TimeUnit.MINUTE)
    assert at.timepoint_codes() == ["PT30M", "PT1H", "PT2H", "PT24H"]
    assert pre.timepoint_codes() == ["PREDOSE"]
    assert bp.sex is not None and bp.windows[0].window == Window(5, 10, TimeUnit.MINUTE)
    assert isinstance(first.reference, DoseAnchor)


def test_the_format_is_canonical_and_round_trips() -> None:
    text = format_source(dsl.parse_source(BASE))
    assert text == BASE
    assert dsl.parse(text) == dsl.parse(BASE)
    # `after` of the last band and a unit per run of numbers are written as the author did
    loose = BASE.replace("+-15 minutes after", "+-15 minutes")
    assert format_source(dsl.parse_source(loose)) == BASE


def test_the_example_is_ok(tmp_path, capsys) -> None:
    status, out = _check(tmp_path, BASE, capsys)
    assert status == 0, out


@pytest.mark.parametrize(("old", "new", "message"), [
    ("after dose of drug_a on day 1, 14", "after dose of drug_b on day 1, 14",
     "t.trial:20:47: error: undefined intervention 'drug_b'"),
    ("at 30 minutes, 1, 2, 24 hours", "at 30 minutes, 1, 2, 24 hours, 3 days",
     "error: a timepoint is in hours or minutes, not days"),
    ("at 30 minutes, 1, 2, 24 hours", "at 30 minutes, 2, 1, 24 hours",
     "error: the times must be listed once each, in increasing order"),
    ("+-15 minutes after", "+-15 minutes up to 12 hours",
     "error: no window covers the timepoint at 24 hours: the last window is up to 12 hours"),
    ("window +-5 minutes up to 2 hours, +-15 minutes after",
     "window +-15 minutes, +-5 minutes up to 2 hours",
     "error: only the last window may have no 'up to'"),
    ("after first dose of drug_a {\n      assess sysbp at 4 hours window +-10 minutes",
     "after first_dose {\n      assess sysbp predose within 30 minutes",
     "error: 'predose' is a time before a dose, but these timepoints are timed from an event"),
    ("assess sysbp at 1 hour window -5 to +10 minutes sex female",
     "assess pk_conc at 1 hour window -5 to +10 minutes",
     "error: 'pk_conc' is planned twice at the same time of 'pk'"),
    ("assess sysbp at 1 hour window -5 to +10 minutes sex female",
     "dose drug_a at 1 hour",
     "error: timepoints time assessments and procedures, not doses"),
    ("after dose of drug_a on day 1, 14", "after dose of drug_a on day 0, 14",
     "error: there is no day 0: this protocol counts its days from 1"),
    ("window +-5 minutes up to 2 hours", "window +-1 days up to 2 hours",
     "error: a timepoint's window is in minutes or hours, not days"),
])
def test_located_errors(tmp_path, capsys, old, new, message) -> None:
    assert old in BASE
    status, out = _check(tmp_path, BASE.replace(old, new, 1), capsys)
    assert status == 1 and message in out, out


def test_predose_is_allowed_after_a_first_or_last_dose(tmp_path, capsys) -> None:
    text = BASE.replace("assess sysbp at 4 hours window +-10 minutes",
                        "assess sysbp predose within 30 minutes")
    status, out = _check(tmp_path, text, capsys)
    assert status == 0, out


def test_warnings_for_a_time_without_window_and_overlapping_windows(tmp_path, capsys) -> None:
    text = BASE.replace("assess sysbp at 4 hours window +-10 minutes",
                        "assess sysbp at 4 hours, 4.25 hours window +-10 minutes\n"
                        "      assess pk_conc at 6 hours")
    status, out = _check(tmp_path, text, capsys)
    assert status == 0
    assert "warning: the windows of the timepoints at 4 hours and 4.25 hours overlap" in out
    assert "warning: these timepoints have no window: each must be done at the exact minute" in out
