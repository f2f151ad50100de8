"""Treatment cycles (docs/engine-semantics.md, section 4, 'Cycles'): each cycle is planned from
the actual start of the one before, so a delay shifts the later cycles; `until` ends them."""

from __future__ import annotations

import datetime

import attrs
from enginekit import Timeline, day, trial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import compile_trial, evaluate
from engine.patient import DoseEvent, Observation, Patient
from engine.results import EventRole, PatientResult, Status
from protocol.schedule import Activity, CycleDays, Cycles
from protocol.timing import DayPoint, Duration, TimeUnit, Window
from protocol.vocab import ActivityKind

DAY = TimeUnit.DAY


START_WINDOW = Window(0, 3)


def cycles(until: tuple[str, ...] = ("progression",), max_cycles: int | None = 6,
           cycle_window: Window | None = START_WINDOW) -> Cycles:
    return Cycles(
        "tx", "Treatment cycle", Duration(21, DAY), DayPoint(DAY, 0),
        (Activity(ActivityKind.DOSE, ("drug",), CycleDays((1, 8)), Window(1, 1)),
         Activity(ActivityKind.ASSESS, ("alt",), CycleDays((1,)), Window(1, 0))),
        window=cycle_window, until=until, max_cycles=max_cycles)


TRIAL = compile_trial(trial(items=(cycles(),), anchors=("randomization", "progression")))


def rows(r: PatientResult, activity: str) -> dict[str, object]:
    return {x.label: x for x in r.schedule if x.activity == activity}


def on_time_patient(n: int = 6, delay: dict[int, int] | None = None) -> Timeline:
    """Cycles of 21 days, each day-1 dose delayed by delay[k] days (cycle k from 1)."""
    tl = Timeline()
    start = 0
    for k in range(1, n + 1):
        start += (delay or {}).get(k, 0)
        tl.dose("drug", start, amount=100, unit="mg")
        tl.obs("alt", start, 20, "U/L")
        tl.dose("drug", start + 7, amount=100, unit="mg")
        start += 21
    return tl


def test_on_time_cycles_are_labelled_and_on_time() -> None:
    r = evaluate(TRIAL, on_time_patient().patient(), day(200))
    doses = rows(r, "drug")
    assert list(doses) == [f"C{k}D{d}" for k in range(1, 7) for d in (1, 8)]
    assert all(x.status is Status.ON_TIME for x in doses.values())
    assert [doses[f"C{k}D1"].planned_day for k in range(1, 7)] == [0, 21, 42, 63, 84, 105]


def test_a_delay_shifts_the_later_cycles_and_is_late_once() -> None:
    r = evaluate(TRIAL, on_time_patient(delay={3: 6}).patient(), day(200))
    doses = rows(r, "drug")
    c3 = doses["C3D1"]
    assert c3.planned_day == 42 and c3.actual_day == 48
    assert c3.status is Status.LATE and c3.deviation_days == 3  # window -0 to +3 days
    assert doses["C3D8"].planned_day == 55 and doses["C3D8"].status is Status.ON_TIME
    assert [doses[f"C{k}D1"].planned_day for k in (4, 5, 6)] == [69, 90, 111]
    assert all(doses[f"C{k}D{d}"].status is Status.ON_TIME for k in (4, 5, 6) for d in (1, 8))
    assert rows(r, "alt")["C3D1"].status is Status.ON_TIME  # the labs follow the cycle


def test_a_missed_cycle_start_keeps_the_planned_start() -> None:
    tl = Timeline()
    tl.dose("drug", 0).dose("drug", 7)  # cycle 2 never given
    tl.dose("drug", 42).dose("drug", 49)
    r = evaluate(TRIAL, tl.patient(), day(60))
    doses = rows(r, "drug")
    assert doses["C2D1"].status is Status.MISSED and doses["C2D8"].status is Status.MISSED
    assert doses["C3D1"].planned_day == 42 and doses["C3D1"].status is Status.ON_TIME


def test_progression_ends_treatment() -> None:
    tl = on_time_patient(n=2)
    tl.dose("drug", 42, amount=100, unit="mg")
    tl.occ("progression", 45)
    tl.dose("drug", 49, amount=100, unit="mg")  # given after progression: unplanned
    r = evaluate(TRIAL, tl.patient(), day(120))
    doses = rows(r, "drug")
    assert list(doses) == ["C1D1", "C1D8", "C2D1", "C2D8", "C3D1", "C3D8"]
    assert doses["C3D1"].status is Status.ON_TIME
    assert doses["C3D8"].status is Status.NOT_APPLICABLE
    assert doses["C3D8"].reason == "after progression on 2024-02-24"
    assert [u.reason for u in r.unplanned if u.activity == "drug"] == \
        ["after progression on 2024-02-24"]


def test_at_most_max_cycles_and_not_due_in_the_future() -> None:
    r = evaluate(TRIAL, on_time_patient(n=2).patient(), day(25))
    doses = rows(r, "drug")
    assert len(doses) == 12
    assert doses["C2D8"].status is Status.NOT_DUE
    assert doses["C6D1"].status is Status.NOT_DUE and doses["C6D1"].planned_day == 105


def test_without_max_cycles_are_planned_while_they_start_by_the_as_of_date() -> None:
    t = compile_trial(trial(items=(cycles(max_cycles=None),),
                            anchors=("randomization", "progression")))
    r = evaluate(t, on_time_patient(n=3).patient(), day(50))
    assert [x.label for x in r.schedule if x.activity == "drug"] == \
        ["C1D1", "C1D8", "C2D1", "C2D8", "C3D1", "C3D8"]


# ---- properties --------------------------------------------------------------------------

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cycle_patients(draw: st.DrawFn) -> Patient:
    tl = on_time_patient(n=draw(st.integers(0, 6)),
                         delay={k: draw(st.integers(-2, 9)) for k in range(2, 7)})
    for _ in range(draw(st.integers(0, 4))):
        tl.dose("drug", draw(st.integers(-10, 150)), amount=100, unit="mg")
    for _ in range(draw(st.integers(0, 3))):
        tl.obs("alt", draw(st.integers(-10, 150)), 30, "U/L")
    if draw(st.booleans()):
        tl.occ("progression", draw(st.integers(10, 150)))
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
                  x.deviation_days) for x in r.schedule)


@SETTINGS
@given(cycle_patients(), st.integers(-3000, 3000), st.integers(0, 160))
def test_shifting_every_date_changes_no_verdict(p: Patient, k: int, as_of: int) -> None:
    a = evaluate(TRIAL, p, day(as_of))
    b = evaluate(TRIAL, shift(p, k), day(as_of) + datetime.timedelta(days=k))
    assert verdicts(a) == verdicts(b)


@SETTINGS
@given(st.integers(2, 6), st.integers(1, 10))
def test_a_cycle_delay_shifts_exactly_the_later_cycles(j: int, d: int) -> None:
    on_time = evaluate(TRIAL, on_time_patient().patient(), day(300))
    delayed = evaluate(TRIAL, on_time_patient(delay={j: d}).patient(), day(300))
    for activity, days in (("drug", (1, 8)), ("alt", (1,))):
        base, late = rows(on_time, activity), rows(delayed, activity)
        assert list(late) == list(base)
        for k in range(1, 7):
            for dd in days:
                label = f"C{k}D{dd}"
                moved = late[label].planned_day - base[label].planned_day
                # cycle j's start (its day-1 dose) keeps its planned day and is late; what
                # the cycle times from its actual start (the day-1 labs too) moves by d
                start = activity == "drug" and k == j and dd == 1
                expected = d if k > j or (k == j and not start) else 0
                assert moved == expected, (activity, label, moved)
                if not start:
                    assert late[label].status is base[label].status, (activity, label)


@SETTINGS
@given(cycle_patients(), st.integers(0, 160))
def test_every_input_event_appears_exactly_once(p: Patient, as_of: int) -> None:
    r = evaluate(TRIAL, p, day(as_of))
    assert [a.index for a in r.events] == list(range(len(p.events)))
    cited = [x.ref for x in r.schedule if x.ref is not None]
    assert len(cited) == len(set(cited))
    unplanned = {str(u.ref) for u in r.unplanned}
    for a in r.events:
        ev = p.events[a.index]
        if isinstance(ev, (DoseEvent, Observation)) and a.role is EventRole.MATCHED:
            assert ev.ref in cited or (a.detail or "").endswith("(same-day replicate)")
        if a.role is EventRole.UNPLANNED:
            assert str(ev.ref) in unplanned



def test_a_repeated_block_runs_until_the_decision() -> None:
    """'Repeat Day -6 and Day -5 until stable' (docs/language.md): 2-day cycles from day -6."""
    block = Cycles("run_in", "Run-in", Duration(2, DAY), DayPoint(DAY, -6),
                   (Activity(ActivityKind.ASSESS, ("alt",), CycleDays((1, 2))),),
                   until=("stable",), max_cycles=3)
    t = compile_trial(trial(items=(block,), anchors=("randomization", "stable")))
    tl = Timeline()
    for d in (-6, -5, -4, -3):
        tl.obs("alt", d, 20, "U/L")
    tl.anchor("stable", -3)
    r = evaluate(t, tl.patient(), day(10))
    assert [(x.label, x.planned_day, x.status) for x in r.schedule if x.activity == "alt"] == [
        ("C1D1", -6, Status.ON_TIME), ("C1D2", -5, Status.ON_TIME),
        ("C2D1", -4, Status.ON_TIME), ("C2D2", -3, Status.ON_TIME)]
    # not yet stable: the third repetition is owed
    tl2 = Timeline()
    for d in (-6, -5, -4, -3):
        tl2.obs("alt", d, 20, "U/L")
    r2 = evaluate(t, tl2.patient(), day(10))
    assert [x.label for x in r2.schedule if x.activity == "alt"][-2:] == ["C3D1", "C3D2"]
    assert [x.status for x in r2.schedule if x.activity == "alt"][-2:] == [Status.MISSED] * 2
