"""`anchor NAME "label" then ACTION`: what an anchor's event does to the plan, stated in the
protocol instead of being known by the anchor's name (engine.anchor_effects)."""

from __future__ import annotations

import datetime

import pytest

import dsl
import trialcode
from engine.api import evaluate
from engine.results import Status
from tests.engine.enginekit import Timeline, day, rows, statuses

AS_OF = datetime.date(2024, 6, 1)

TEXT = """
trial T {
  title "Anchor effects"
  intervention a drug "A" { dose 1 mg oral every 1 week for 8 weeks }
  intervention b drug "B" { dose 1 mg oral every 1 week for 8 weeks }
  arm ab "A and B" experimental {
    a
    b
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    anchor stop_a "Stop of drug A" then discontinue a
    anchor off_study "Off study" then withdraw
    visit week4 "Week 4" at day 28 window +-3 days
    visit week8 "Week 8" at day 56 window +-3 days
    dose a, b every 7 days from day 0 for 8 weeks window +-1 day
    visit stop_a_visit "Stop of A" on stop_a window -0 to +7 days
  }
}
"""


@pytest.fixture(scope="module")
def trial() -> object:
    return dsl.parse(TEXT, "t.trial")


def _doses(tl: Timeline, until: int) -> Timeline:
    for d in range(0, until + 1, 7):
        tl.dose("a", d).dose("b", d)
    return tl


def test_an_anchor_that_discontinues_one_drug_stops_only_that_drug(trial: object) -> None:
    tl = _doses(Timeline(), 14).anchor("stop_a", 15)
    for d in range(21, 57, 7):
        tl.dose("b", d)
    tl.visit("week4", 28).visit("week8", 56).visit("stop_a_visit", 16)
    r = evaluate(trial, tl.patient(arm="ab"), AS_OF)  # type: ignore[arg-type]
    assert statuses(r, "a") == ["on_time"] * 3 + ["not_applicable"] * 5
    assert "after discontinuation (stop_a) on 2024-01-25" in rows(r, "a")[3].reason
    assert statuses(r, "b") == ["on_time"] * 8
    assert statuses(r, "week8") == ["on_time"]  # follow-up goes on
    (stop,) = r.stopping
    assert (stop.rule, stop.action, stop.interventions, stop.date) == (
        "stop_a", "discontinue", ("a",), day(15))
    assert rows(r, "stop_a_visit")[0].status is Status.ON_TIME


def test_an_anchor_that_withdraws_stops_everything_after_it(trial: object) -> None:
    tl = _doses(Timeline(), 21).visit("week4", 28).anchor("off_study", 30)
    r = evaluate(trial, tl.patient(arm="ab"), AS_OF)  # type: ignore[arg-type]
    assert statuses(r, "week4") == ["on_time"]
    assert statuses(r, "week8") == ["not_applicable"]
    # the day-28 dose was due before the withdrawal on day 30
    assert statuses(r, "a") == ["on_time"] * 4 + ["missed"] + ["not_applicable"] * 3
    assert "after withdrawal (off_study) on 2024-02-09" in rows(r, "week8")[0].reason


def test_a_withdrawing_disposition_dates_an_anchor_that_discontinues(trial: object) -> None:
    # Nothing in the data names stop_a; a withdrawal ends drug A too, so the visit planned on
    # stop_a is due from the withdrawal's date.
    tl = _doses(Timeline(), 14).disposition("withdrawn", 18)
    r = evaluate(trial, tl.patient(arm="ab"), AS_OF)  # type: ignore[arg-type]
    (row,) = rows(r, "stop_a_visit")
    assert (row.planned_date, row.status) == (day(18), Status.MISSED)


def test_without_an_effect_an_anchor_only_dates_things() -> None:
    text = TEXT.replace(' then discontinue a', '').replace(' then withdraw', '')
    t = dsl.parse(text, "t.trial")
    tl = _doses(Timeline(), 56).anchor("stop_a", 15).anchor("off_study", 30)
    r = evaluate(t, tl.patient(arm="ab"), AS_OF)
    assert statuses(r, "a") == ["on_time"] * 8
    assert r.stopping == ()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"Randomization"', '"Randomization" then withdraw',
         "anchor randomization is the schedule anchor: it cannot also stop the patient's "
         "treatment or participation"),
        ("then discontinue a", "then discontinue aa", "undefined intervention 'aa'"),
    ],
)
def test_checker_rejects_bad_effects(tmp_path: object, old: str, new: str, message: str) -> None:
    assert old in TEXT
    text = TEXT.replace(old, new, 1)
    path = tmp_path / "t.trial"  # type: ignore[operator]
    path.write_text(text, encoding="utf-8")
    report = trialcode.check(path)
    assert any(message in d.message for d in report.errors), report.render()
