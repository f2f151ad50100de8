"""Study periods and crossover (docs/engine-semantics.md, section 4, 'Study periods'): each
period is planned from the actual last dose of the one before, its items from its own first
dose; a period not started is not due, one after a stop not applicable."""

from __future__ import annotations

import datetime

import attrs
from enginekit import Timeline as _Timeline
from enginekit import day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from engine import compile_trial, evaluate
from engine.patient import DoseEvent, Observation, Patient, RecordRef
from engine.results import EventRole, PatientResult, ScheduleRow, Status

# Day 0 is randomization (the enginekit timelines count from it); days counted from 0 here, so
# `at day 0` of a period is the day of its dose.
PROTOCOL = """
trial XO {
  intervention a drug "Drug A" { dose 100 mg oral once }
  intervention b drug "Drug B" { dose 50 mg oral once }
  intervention c drug "Drug C" { dose 25 mg oral once }
  arm ab "Sequence AB" experimental { sequence a, b }
  arm ba "Sequence BA" experimental { sequence b, a }
  arm none "Not randomized" other { a }
  data {
    lab alt "ALT" unit U/L
    lab pk "Concentration" unit ng/mL
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    anchor discontinuation "Discontinuation" then discontinue
    periods tx "Period" from day 0 window -0 to +1 days washout WASHOUT {
      visit admission "Admission" at day -1 { alt }
      dose a, b at day 0
      assess pk at day 0, 1
      visit discharge "Discharge" at day 2
    }
    visit follow_up "Follow-up" at 7 days after last dose of period 2 window +-2 days
  }
}
"""


class Timeline(_Timeline):
    """A volunteer of one sequence (the arm)."""

    def __init__(self, arm: str = "ab"):
        super().__init__()
        self.arm = arm

    def at_visit(self, kind: str, d: int, value: object, unit: str, visit: str) -> None:
        self.add(Observation(kind, day(d), RecordRef("test", f"row {len(self.events) + 1}"),
                             value, unit, None, None, None, visit))

    def patient(self, pid: str = "P1", **kw: object) -> Patient:  # type: ignore[override]
        return super().patient(pid, arm=self.arm)


def make(washout: str = "7 to 14 days", text: str = PROTOCOL):
    return compile_trial(dsl.parse(text.replace("WASHOUT", washout)))


BOUNDED = make()
OPEN = make("at least 7 days")


def period(tl: Timeline, first: str, start: int, admission: int | None = None,
           pk: tuple[int, ...] = (0, 1), discharge: int | None = 2) -> None:
    """One period's records: admission the day before the dose, samples, discharge."""
    tl.visit("admission", start - 1 if admission is None else admission)
    tl.at_visit("alt", start - 1 if admission is None else admission, 20, "U/L", "admission")
    tl.dose(first, start, amount=100 if first == "a" else 50, unit="mg")
    for d in pk:
        tl.obs("pk", start + d, 10, "ng/mL")
    if discharge is not None:
        tl.visit("discharge", start + discharge)


def by_label(r: PatientResult, activity: str) -> dict[str, ScheduleRow]:
    return {x.label: x for x in r.schedule if x.activity == activity}


def on_time(arm: str = "ab", second: int = 8) -> Timeline:
    first, then = ("a", "b") if arm == "ab" else ("b", "a")
    tl = Timeline(arm=arm)
    period(tl, first, 0)
    period(tl, then, second)
    tl.visit("follow_up", second + 7)
    return tl


def test_an_on_time_crossover_is_on_time_and_labelled_by_period() -> None:
    r = evaluate(BOUNDED, on_time().patient(), day(60))
    assert {x.status for x in r.schedule} == {Status.ON_TIME}
    assert [(x.label, x.epoch) for x in r.schedule if x.activity == "a"] == [("P1D0", "tx_1")]
    assert [(x.label, x.epoch) for x in r.schedule if x.activity == "b"] == [("P2D0", "tx_2")]
    assert list(by_label(r, "admission")) == ["P1 Admission", "P2 Admission"]
    assert list(by_label(r, "pk")) == ["P1D0", "P1D1", "P2D0", "P2D1"]
    # the sequence says which drug each period doses, and the regimen its amount
    assert [(x.activity, x.planned_amount, x.planned_unit) for x in r.schedule
            if x.activity_type == "dose"] == [("a", 100, "mg"), ("b", 50, "mg")]


def test_the_other_sequence_doses_the_other_way_round() -> None:
    r = evaluate(BOUNDED, on_time("ba").patient(), day(60))
    assert [(x.activity, x.label) for x in r.schedule if x.activity_type == "dose"] == [
        ("a", "P2D0"), ("b", "P1D0")]
    assert {x.status for x in r.schedule} == {Status.ON_TIME}


def test_period_2_is_timed_from_the_actual_last_dose_of_period_1() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 1)  # a day late, inside the +1 window
    period(tl, "b", 11)  # 10 days later: inside 7 to 14
    r = evaluate(BOUNDED, tl.patient(), day(60))
    b = by_label(r, "b")["P2D0"]
    assert (b.planned_day, b.window, b.actual_day, b.status) == (8, (8, 16), 11, Status.ON_TIME)
    # the period's own visits and samples count from its actual first dose
    assert by_label(r, "admission")["P2 Admission"].planned_day == 10
    assert by_label(r, "pk")["P2D1"].planned_day == 12
    assert by_label(r, "discharge")["P2 Discharge"].planned_day == 13
    assert by_label(r, "follow_up")["Follow-up"].planned_day == 18


def test_a_washout_shorter_than_stated_is_an_early_start() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 0)
    period(tl, "b", 5)
    r = evaluate(BOUNDED, tl.patient(), day(60))
    b = by_label(r, "b")["P2D0"]
    assert (b.status, b.deviation_days) == (Status.EARLY, -2)
    assert b.reason == ("2 day(s) before the window opened: washout of 5 days after the last "
                        "dose of period 1 on 2024-01-10 (7 to 14 days stated)")
    # the rest of the period follows its actual start
    assert by_label(r, "pk")["P2D1"].status is Status.ON_TIME


def test_a_washout_longer_than_its_maximum_is_a_late_start() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 0)
    period(tl, "b", 17)
    b = by_label(evaluate(BOUNDED, tl.patient(), day(60)), "b")["P2D0"]
    assert (b.status, b.deviation_days) == (Status.LATE, 2)
    assert "washout of 17 days" in str(b.reason)


def test_a_period_not_started_is_not_due_while_its_start_window_is_open() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 0)
    r = evaluate(BOUNDED, tl.patient(), day(12))  # period 2 may start until day 15
    second = [x for x in r.schedule if x.epoch == "tx_2"]
    assert second and {x.status for x in second} == {Status.NOT_DUE}
    assert {x.reason for x in second} == {"Period 2 has not started by the as-of date"}
    # open-ended: never missed while nothing says the patient stopped
    late = evaluate(OPEN, tl.patient(), day(200))
    assert {x.status for x in late.schedule if x.epoch == "tx_2"} == {Status.NOT_DUE}


def test_a_period_whose_start_window_closed_is_missed() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 0)
    r = evaluate(BOUNDED, tl.patient(), day(30))
    second = [x for x in r.schedule if x.epoch == "tx_2"]
    assert {x.status for x in second} == {Status.MISSED}


def test_a_patient_who_stops_in_period_1_has_period_2_not_applicable() -> None:
    tl = Timeline(arm="ab")
    period(tl, "a", 0)
    tl.anchor("discontinuation", 1)
    r = evaluate(BOUNDED, tl.patient(), day(60))
    second = [x for x in r.schedule if x.epoch == "tx_2"]
    assert second and {x.status for x in second} == {Status.NOT_APPLICABLE}
    assert {x.reason for x in second if x.activity_type != "dose"} == {
        "period 2 did not start: discontinuation on 2024-01-11"}
    # the running period goes on: its discharge visit after the stop is still on time
    assert by_label(r, "discharge")["P1 Discharge"].status is Status.ON_TIME
    # the follow-up counts from the last dose actually given (period 1's)
    assert by_label(r, "follow_up")["Follow-up"].planned_day == 7


def test_a_period_start_is_never_taken_from_after_the_next_periods_treatment() -> None:
    """AB: A missed in period 1 and given after B. Period 1 does not take that A (it comes
    after period 2's B), so period 1's A is missed and the late A is unplanned."""
    tl = Timeline(arm="ab")
    tl.dose("b", 8, amount=50, unit="mg")
    tl.dose("a", 16, amount=100, unit="mg")
    r = evaluate(BOUNDED, tl.patient(), day(60))
    assert by_label(r, "a")["P1D0"].status is Status.MISSED
    assert by_label(r, "b")["P2D0"].status is Status.ON_TIME
    assert [(u.activity, u.reason) for u in r.unplanned] == [
        ("a", "no planned occurrence within reach")]


def test_an_early_admission_is_the_periods_own() -> None:
    """A visit record names its visit: the first period's admission two days early is that
    admission, early, not an unplanned visit."""
    tl = Timeline(arm="ab")
    period(tl, "a", 0, admission=-3)
    period(tl, "b", 8)
    r = evaluate(BOUNDED, tl.patient(), day(60))
    first = by_label(r, "admission")["P1 Admission"]
    assert (first.status, first.deviation_days) == (Status.EARLY, -2)
    assert not r.unplanned


def test_an_arm_without_a_sequence_has_the_sequence_doses_not_applicable() -> None:
    r = evaluate(BOUNDED, Timeline(arm="none").patient(), day(60))
    rows = [(x.activity, x.occurrence, x.status, x.reason) for x in r.schedule
            if x.activity_type == "dose"]
    assert rows == [
        ("a", 0, Status.NOT_APPLICABLE, "not planned for arm none: the periods dose it as a "
                                        "sequence says, and there is none"),
        ("b", 0, Status.NOT_APPLICABLE, "not planned for arm none: the periods dose it as a "
                                        "sequence says, and there is none")]


WILLIAMS = """
trial W3 {
  intervention a drug "A" { dose 10 mg oral once }
  intervention b drug "B" { dose 20 mg oral once }
  intervention c drug "C" { dose 40 mg oral once }
  arm abc "ABC" experimental { sequence a, b, c }
  arm bca "BCA" experimental { sequence b, c, a }
  arm cab "CAB" experimental { sequence c, a, b }
  arm acb "ACB" experimental { sequence a, c, b }
  arm bac "BAC" experimental { sequence b, a, c }
  arm cba "CBA" experimental { sequence c, b, a }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    periods tx "Period" from day 0 washout 5 days {
      dose a, b, c at day 0
    }
  }
}
"""


def test_a_three_period_williams_design_doses_each_sequence_in_order() -> None:
    plan = compile_trial(dsl.parse(WILLIAMS))
    tl = Timeline(arm="cab")
    tl.dose("c", 0, amount=40, unit="mg")
    tl.dose("a", 6, amount=10, unit="mg")  # a day late: washout exactly 5 days stated
    tl.dose("b", 11, amount=20, unit="mg")
    r = evaluate(plan, tl.patient(), day(30))
    rows = [(x.activity, x.label, x.planned_day, x.actual_day, x.status, x.planned_amount)
            for x in r.schedule]
    assert sorted(rows, key=lambda x: x[1]) == [
        ("c", "P1D0", 0, 0, Status.ON_TIME, 40),
        ("a", "P2D0", 5, 6, Status.LATE, 10),
        ("b", "P3D0", 11, 11, Status.ON_TIME, 20)]  # timed from period 2's actual dose


def test_the_cycles_doses_carry_the_regimens_amount() -> None:
    text = """
    trial C {
      intervention drug drug "Drug" { dose 100 mg intravenous }
      arm one "One" experimental { drug }
      schedule anchored at randomization {
        anchor randomization "Randomization"
        cycles tx "Cycle" every 21 days from day 0 max 2 cycles { dose drug on day 1, 8 }
      }
    }
    """
    tl = Timeline(arm="one")
    for d in (0, 7, 21, 28):
        tl.dose("drug", d, amount=100, unit="mg")
    r = evaluate(compile_trial(dsl.parse(text)), tl.patient(), day(60))
    assert [(x.label, x.planned_amount, x.planned_unit) for x in r.schedule] == [
        ("C1D1", 100, "mg"), ("C1D8", 100, "mg"), ("C2D1", 100, "mg"), ("C2D8", 100, "mg")]


# ---- properties --------------------------------------------------------------------------

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def crossover_patients(draw: st.DrawFn) -> Patient:
    arm = draw(st.sampled_from(["ab", "ba"]))
    first, then = ("a", "b") if arm == "ab" else ("b", "a")
    tl = Timeline(arm=arm)
    start = draw(st.integers(-2, 2))
    if draw(st.booleans()):
        period(tl, first, start, admission=start - draw(st.integers(0, 3)),
               pk=tuple(d for d in (0, 1) if draw(st.booleans())),
               discharge=draw(st.sampled_from([None, 2, 3])))
    if draw(st.booleans()):
        second = start + draw(st.integers(3, 20))
        period(tl, then, second, pk=tuple(d for d in (0, 1) if draw(st.booleans())),
               discharge=draw(st.sampled_from([None, 2])))
        if draw(st.booleans()):
            tl.visit("follow_up", second + draw(st.integers(4, 12)))
    for _ in range(draw(st.integers(0, 3))):
        tl.dose(draw(st.sampled_from(["a", "b"])), draw(st.integers(-5, 40)), amount=1, unit="mg")
    for _ in range(draw(st.integers(0, 3))):
        tl.obs("pk", draw(st.integers(-5, 40)), 1, "ng/mL")
    if draw(st.booleans()):
        tl.anchor("discontinuation", draw(st.integers(0, 30)))
    return tl.patient()


def shift(p: Patient, days: int) -> Patient:
    delta = datetime.timedelta(days=days)
    events = []
    for e in p.events:
        changes = {f: getattr(e, f) + delta for f in ("date", "start", "end")
                   if isinstance(getattr(e, f, None), datetime.date)}
        events.append(attrs.evolve(e, **changes))
    return attrs.evolve(p, events=tuple(events))


def verdicts(r: PatientResult) -> tuple:
    return tuple((x.activity, x.label, x.status, x.planned_day, x.window, x.actual_day,
                  x.deviation_days, x.epoch) for x in r.schedule)


@SETTINGS
@given(crossover_patients(), st.integers(-3000, 3000), st.integers(0, 60),
       st.sampled_from([BOUNDED, OPEN]))
def test_shifting_every_date_changes_no_verdict(p: Patient, k: int, as_of: int, plan) -> None:
    a = evaluate(plan, p, day(as_of))
    b = evaluate(plan, shift(p, k), day(as_of) + datetime.timedelta(days=k))
    assert verdicts(a) == verdicts(b)


@SETTINGS
@given(crossover_patients(), st.integers(0, 60), st.sampled_from([BOUNDED, OPEN]))
def test_every_input_event_appears_exactly_once(p: Patient, as_of: int, plan) -> None:
    r = evaluate(plan, p, day(as_of))
    assert [a.index for a in r.events] == list(range(len(p.events)))
    cited = [x.ref for x in r.schedule if x.ref is not None]
    assert len(cited) == len(set(cited))  # no record in two schedule rows
    unplanned = {str(u.ref) for u in r.unplanned}
    for a in r.events:
        ev = p.events[a.index]
        if isinstance(ev, (DoseEvent, Observation)) and a.role is EventRole.MATCHED:
            assert ev.ref in cited or (a.detail or "").endswith("(same-day replicate)")
        if a.role is EventRole.UNPLANNED:
            assert str(ev.ref) in unplanned
