"""Sub-day timepoints (docs/engine-semantics.md, "Timepoints"): planned from the actual dose and
its time, matched with minute precision, deviations in minutes, and the one rule of
engine.clock for records or doses without a time of day.

Days are protocol days from D0 = 2024-01-10 (the anchor `first_dose`, day 1: the protocol counts
its days from 1), so `day(0)` is Day 1 and `day(13)` Day 14.
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from enginekit import Timeline, clock, day
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from engine import compile_trial, evaluate
from engine.patient import ClockTime, DoseEvent, Observation, Patient
from engine.results import EventRole, PatientResult, ScheduleRow, Status

PROTOCOL = """
trial PK {
  calendar { days counted from 1 }
  intervention study_drug drug "Study drug" { dose 100 mg oral }
  arm a "A" experimental { study_drug }
  arm b "B" placebo_comparator { study_drug }
  data {
    lab pk_conc "Plasma concentration" unit ng/mL
    vital sysbp "Systolic blood pressure" unit `mm[Hg]`
    category ecg "ECG" values "normal", "abnormal"
  }
  schedule anchored at first_dose {
    anchor first_dose "First dose"
    anchor withdrawal "Withdrawal" then withdraw
    visit day_1 "Day 1" at day 1 { sysbp }
    dose study_drug every 1 day from day 1 for 14 days
    timepoints pk "PK sampling" after dose of study_drug on day 1, 14 {
      assess pk_conc predose within 60 minutes
      assess pk_conc at 0.5, 1, 2, 4, 8, 12, 24 hours window +-5 minutes up to 2 hours, +-15 minutes after
      assess sysbp at 1 hour window +-10 minutes
    }
    timepoints ecg_tp "ECG" after dose of study_drug on day 1 arms a {
      assess ecg at 2 hours window +-10 minutes
    }
  }
}
"""
TRIAL = dsl.parse(PROTOCOL)
PLAN = compile_trial(TRIAL)
AS_OF = day(40)


def patient(*, arm: str = "a", dose_at: str | None = "08:00", dose_days: range = range(14),
            extra: tuple = ()) -> Timeline:
    tl = Timeline(randomized=None)
    tl.anchor("first_dose", 0, at=dose_at)
    tl.visit("day_1", 0)
    for d in dose_days:
        tl.dose("study_drug", d, amount=100, unit="mg", at=dose_at)
    for ev in extra:
        tl.add(ev)
    tl.arm = arm  # type: ignore[attr-defined]
    return tl


def run(tl: Timeline, as_of: datetime.date = AS_OF) -> PatientResult:
    return evaluate(PLAN, tl.patient(arm=getattr(tl, "arm", "a")), as_of)


def obs(tl: Timeline, kind: str, d: int, at: str | None, value: object = 1.0,
        timepoint: str | None = None) -> Timeline:
    unit = {"pk_conc": "ng/mL", "sysbp": "mm[Hg]"}.get(kind)
    if kind == "ecg":
        value = "normal"
    return tl.add(Observation(kind, day(d), tl._ref(), value, unit, time=clock(at),
                              timepoint=timepoint))


def rows(r: PatientResult, activity: str) -> list[ScheduleRow]:
    return [x for x in r.schedule if x.activity == activity]


def row(r: PatientResult, activity: str, label: str) -> ScheduleRow:
    found = [x for x in rows(r, activity) if x.label == label]
    assert len(found) == 1, [x.label for x in rows(r, activity)]
    return found[0]


# ---- planning ----------------------------------------------------------------------------------


def test_timepoints_are_planned_from_the_dose_and_its_time() -> None:
    r = run(patient())
    pk = rows(r, "pk_conc")
    assert [x.label for x in pk[:8]] == [
        "day 1 pre-dose", "day 1 0.5 h post-dose", "day 1 1 h post-dose", "day 1 2 h post-dose",
        "day 1 4 h post-dose", "day 1 8 h post-dose", "day 1 12 h post-dose",
        "day 1 24 h post-dose"]
    assert len(pk) == 16 and [x.occurrence for x in pk] == list(range(1, 17))
    t = pk[1].timing
    assert t is not None and t.timepoint == "PT30M"
    assert t.reference == "dose of study_drug on day 14" or t.reference == "dose of study_drug on day 1"
    assert t.planned == (day(0), ClockTime(8 * 3600_000_000 + 30 * 60_000_000, "minute"))
    assert t.window == ((day(0), clock("08:25")), (day(0), clock("08:35")))
    late = pk[7].timing  # 24 h: ±15 minutes, on the next day
    assert late is not None and late.window == ((day(1), clock("07:45")), (day(1), clock("08:15")))
    assert pk[7].planned_day == 2 and pk[7].planned_date == day(1)
    pre = pk[0].timing
    assert pre is not None and pre.window == ((day(0), clock("07:00")), (day(0), clock("08:00")))


def test_every_status_of_a_timepoint() -> None:
    tl = patient()
    obs(tl, "pk_conc", 0, "07:30")            # pre-dose: on time
    obs(tl, "pk_conc", 0, "08:33")            # 0.5 h: on time (window 08:25-08:35)
    obs(tl, "pk_conc", 0, "08:52")            # 1 h: early by 3 minutes (opens 08:55)
    obs(tl, "pk_conc", 0, "10:09")            # 2 h: late by 4 minutes (closes 10:05)
    obs(tl, "pk_conc", 0, None)               # a date only: 4 h, its time unknown
    # 8 h and 12 h: missed; 24 h on day 2 at 08:10: on time
    obs(tl, "pk_conc", 1, "08:10")
    r = run(tl, as_of=day(13))  # the data cut is Day 14: its dose is not yet due
    got = {x.label: (x.status, x.timing.deviation_minutes if x.timing else None)
           for x in rows(r, "pk_conc")}
    assert got["day 1 pre-dose"] == (Status.ON_TIME, 0)
    assert got["day 1 0.5 h post-dose"] == (Status.ON_TIME, 0)
    assert got["day 1 1 h post-dose"] == (Status.EARLY, -3)
    assert got["day 1 2 h post-dose"] == (Status.LATE, 4)
    assert got["day 1 4 h post-dose"] == (Status.TIME_UNKNOWN, None)
    assert got["day 1 8 h post-dose"] == (Status.MISSED, None)
    assert got["day 1 12 h post-dose"] == (Status.MISSED, None)
    assert got["day 1 24 h post-dose"] == (Status.ON_TIME, 0)
    assert {got[f"day 14 {x}"][0] for x in ("pre-dose", "1 h post-dose", "24 h post-dose")} == {
        Status.NOT_DUE}
    early = row(r, "pk_conc", "day 1 1 h post-dose")
    assert early.reason == "3 minutes before the window opened" and early.deviation_days is None
    unknown = row(r, "pk_conc", "day 1 4 h post-dose")
    assert unknown.reason == ("done, but whether within its window cannot be told: the record "
                              "has no time of day")
    assert unknown.deviation_days is None and unknown.actual_date == day(0)
    # the arm restriction: one row for patients of the other arm
    b = run(patient(arm="b"))
    ecg = rows(b, "ecg")
    assert [(x.occurrence, x.status, x.reason) for x in ecg] == [
        (0, Status.NOT_APPLICABLE, "not planned for arm b (only arms a)")]


def test_a_missed_dose_makes_its_timepoints_not_applicable_and_a_late_one_moves_them() -> None:
    # no dose on Day 14 (day(13)): its timepoints cannot be timed
    r = run(patient(dose_days=range(13)))
    day14 = [x for x in rows(r, "pk_conc") if x.label.startswith("day 14")]
    assert {x.status for x in day14} == {Status.NOT_APPLICABLE}
    assert day14[0].reason == "the dose of study_drug on day 14 was not given"
    # the Day 14 dose given later in the day: the samples follow its time
    tl = patient(dose_days=range(13))
    tl.dose("study_drug", 13, amount=100, unit="mg", at="11:00")
    obs(tl, "pk_conc", 13, "11:31")
    half = row(run(tl), "pk_conc", "day 14 0.5 h post-dose")
    assert half.status is Status.ON_TIME
    assert half.timing is not None and half.timing.reference_stamp == (day(13), clock("11:00"))
    # single doses on Days 1 and 14 with a window of a day: one given on Day 15 is the Day 14
    # dose, late, and its timepoints are timed from it
    plan = compile_trial(dsl.parse(PROTOCOL.replace(
        "dose study_drug every 1 day from day 1 for 14 days",
        "dose study_drug at day 1, 14 window +-1 days")))
    tl = patient(dose_days=range(1))
    tl.dose("study_drug", 14, amount=100, unit="mg", at="09:00")
    obs(tl, "pk_conc", 14, "09:31")
    r = evaluate(plan, tl.patient(arm="a"), AS_OF)
    half = row(r, "pk_conc", "day 14 0.5 h post-dose")
    assert half.status is Status.ON_TIME and half.planned_date == day(14)
    assert half.timing is not None and half.timing.reference_stamp == (day(14), clock("09:00"))
    assert row(r, "study_drug", "day 14").status is Status.ON_TIME


def test_a_dose_without_a_time_makes_a_same_day_sample_time_unknown_and_a_far_one_late() -> None:
    tl = patient(dose_at=None)
    obs(tl, "pk_conc", 0, "09:00")
    obs(tl, "pk_conc", 3, "09:00")
    r = run(tl)
    first = rows(r, "pk_conc")[0]
    assert first.status is Status.TIME_UNKNOWN
    assert first.reason == ("done, but whether within its window cannot be told: the dose of "
                            "study_drug on day 1 has no time of day")
    assert first.timing is not None and first.timing.planned is None
    # three days later cannot be any timepoint of Day 1 (24 h at the latest ends on Day 2)
    assert any(u.date == day(3) for u in r.unplanned)


def test_a_record_naming_its_timepoint_takes_it_wherever_its_time_falls() -> None:
    tl = patient()
    obs(tl, "pk_conc", 0, "09:40", timepoint="PT1H")  # 35 minutes late, but labelled 1 h
    obs(tl, "pk_conc", 0, "10:01")  # 2 h, on time
    r = run(tl)
    one = row(r, "pk_conc", "day 1 1 h post-dose")
    assert (one.status, one.timing.deviation_minutes) == (Status.LATE, 35)  # type: ignore[union-attr]
    assert row(r, "pk_conc", "day 1 2 h post-dose").status is Status.ON_TIME


def test_replicates_inside_a_matched_window_belong_to_it() -> None:
    tl = patient()
    for at in ("09:58", "10:00", "10:03"):  # ECG in triplicate at 2 h
        obs(tl, "ecg", 0, at)
    r = run(tl)
    ecg = rows(r, "ecg")
    assert [(x.status, x.actual_date) for x in ecg] == [(Status.ON_TIME, day(0))]
    details = [a.detail for a in r.events if a.role is EventRole.MATCHED and "ecg" in str(a.detail)]
    assert sorted(details) == ["assess ecg #1", "assess ecg #1 (replicate)",
                               "assess ecg #1 (replicate)"]
    assert not r.unplanned


def test_a_day_level_assessment_and_a_timepoint_of_the_same_item_each_take_their_own() -> None:
    tl = patient()
    obs(tl, "sysbp", 0, "07:30")   # at the Day 1 visit, before the dose
    obs(tl, "sysbp", 0, "09:04")   # 1 h post-dose
    r = run(tl)
    bp = rows(r, "sysbp")
    assert [(x.occurrence, x.label, x.status) for x in bp[:2]] == [
        (1, "Day 1", Status.ON_TIME), (2, "day 1 1 h post-dose", Status.ON_TIME)]
    assert bp[0].ref != bp[1].ref
    # a date-only reading goes to the visit first
    tl = patient()
    obs(tl, "sysbp", 0, None)
    r = run(tl)
    assert [x.status for x in rows(r, "sysbp")[:2]] == [Status.ON_TIME, Status.MISSED]


def test_a_withdrawal_makes_the_later_timepoints_not_applicable() -> None:
    tl = patient(dose_days=range(5))
    tl.anchor("withdrawal", 6)
    obs(tl, "pk_conc", 13, "08:00")
    r = run(tl)
    day14 = [x for x in rows(r, "pk_conc") if x.label.startswith("day 14")]
    assert {x.status for x in day14} == {Status.NOT_APPLICABLE}
    assert [u.reason for u in r.unplanned if u.activity == "pk_conc"] == [
        "after withdrawal on 2024-01-16"]


def test_utc_offsets_compare_instants_and_a_missing_one_is_unknown() -> None:
    tl = patient(dose_at="08:00+01:00")
    obs(tl, "pk_conc", 0, "07:30Z")  # 08:30+01:00: 0.5 h, on time
    obs(tl, "pk_conc", 0, "09:00")   # no offset: it may be any offset in use
    r = run(tl)
    assert row(r, "pk_conc", "day 1 0.5 h post-dose").status is Status.ON_TIME
    assert row(r, "pk_conc", "day 1 1 h post-dose").status is Status.TIME_UNKNOWN


def test_timepoints_from_an_anchor_event() -> None:
    text = PROTOCOL.replace(
        "timepoints ecg_tp \"ECG\" after dose of study_drug on day 1 arms a {",
        "timepoints ecg_tp \"ECG\" after first_dose arms a {")
    plan = compile_trial(dsl.parse(text))
    tl = patient()
    obs(tl, "ecg", 0, "10:12")
    r = evaluate(plan, tl.patient(arm="a"), AS_OF)
    (ecg,) = [x for x in r.schedule if x.activity == "ecg"]
    assert ecg.label == "2 h after first dose" and ecg.status is Status.LATE
    assert ecg.timing is not None and ecg.timing.deviation_minutes == 2


# ---- laws --------------------------------------------------------------------------------------


MINUTES_PER_DAY = 1440


def _shift(date: datetime.date, time: ClockTime | None, minutes: int
           ) -> tuple[datetime.date, ClockTime | None]:
    if time is None:
        return date + datetime.timedelta(days=minutes // MINUTES_PER_DAY), None
    total = date.toordinal() * MINUTES_PER_DAY + time.micros // 60_000_000 + minutes
    n, minute = divmod(total, MINUTES_PER_DAY)
    return datetime.date.fromordinal(n), ClockTime(minute * 60_000_000, time.precision,
                                                   time.offset)


def shifted(p: Patient, minutes: int) -> Patient:
    events = []
    for ev in p.events:
        if isinstance(ev, DoseEvent):
            start, t = _shift(ev.start, ev.start_time, minutes)
            events.append(attrs.evolve(ev, start=start, start_time=t))
        else:
            d, t = _shift(ev.date, ev.time, minutes)  # type: ignore[union-attr]
            events.append(attrs.evolve(ev, date=d, time=t))  # type: ignore[arg-type]
    return attrs.evolve(p, events=tuple(events))


def verdicts(r: PatientResult) -> list[tuple[object, ...]]:
    return [(x.activity, x.occurrence, x.label, x.status, x.deviation_days,
             x.timing.deviation_minutes if x.timing else None, x.reason, x.ref)
            for x in r.schedule] + sorted((u.activity, str(u.ref), u.reason) for u in r.unplanned)


@st.composite
def cohorts(draw: st.DrawFn, all_timed: bool) -> Patient:
    """A patient dosed on Days 1-14 at a time of day, with samples at random instants around
    the dosing days (all of them timed, of the items only timepoints plan; or some with a date
    only, and vital signs, which the Day 1 visit plans too)."""
    dose_minute = draw(st.integers(6 * 60, 10 * 60))
    at = f"{dose_minute // 60:02d}:{dose_minute % 60:02d}"
    tl = Timeline(randomized=None)
    tl.anchor("first_dose", 0, at=at)
    tl.visit("day_1", 0, at=at)
    for d in range(draw(st.integers(10, 14))):
        tl.dose("study_drug", d, amount=100, unit="mg", at=at)
    kinds = ["pk_conc", "pk_conc", "ecg"] if all_timed else ["pk_conc", "sysbp", "ecg"]
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(kinds))
        base = draw(st.sampled_from([0, 13])) * MINUTES_PER_DAY + dose_minute
        instant = base + draw(st.integers(-90, 26 * 60))
        d, minute = divmod(instant, MINUTES_PER_DAY)
        timed = all_timed or draw(st.booleans())
        obs(tl, kind, d, f"{minute // 60:02d}:{minute % 60:02d}" if timed else None)
    return tl.patient(arm=draw(st.sampled_from(["a", "b"])))


LAW = settings(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow])
LATER = datetime.date(2024, 6, 1)  # a data cut after every shifted date


@LAW
@given(cohorts(all_timed=True), st.integers(-3, 3), st.integers(-6 * 60, 13 * 60))
def test_shifting_every_date_time_by_the_same_amount_changes_no_verdict(
        p: Patient, days: int, minutes: int) -> None:
    # Any whole days plus up to -6 h / +13 h: the doses (06:00-10:00) stay on their dates, as
    # the day-level rules that plan them need; the samples may cross midnight.
    base = evaluate(PLAN, p, LATER)
    moved = evaluate(PLAN, shifted(p, days * MINUTES_PER_DAY + minutes), LATER)
    assert verdicts(moved) == verdicts(base)


@LAW
@given(cohorts(all_timed=False), st.integers(-3, 3))
def test_shifting_dates_and_times_by_whole_days_changes_no_verdict(p: Patient, days: int) -> None:
    base = evaluate(PLAN, p, LATER)
    moved = evaluate(PLAN, shifted(p, days * MINUTES_PER_DAY), LATER)
    assert verdicts(moved) == verdicts(base)


@LAW
@given(cohorts(all_timed=False), st.sampled_from([day(0), day(5), day(13), AS_OF]))
def test_every_event_once_and_no_record_in_two_rows(p: Patient, as_of: datetime.date) -> None:
    r = evaluate(PLAN, p, as_of)
    assert [a.index for a in r.events] == list(range(len(p.events)))
    cited = [x.ref for x in r.schedule if x.ref is not None]
    assert len(cited) == len(set(cited))
    unplanned = {u.ref for u in r.unplanned}
    assert not unplanned & set(cited)
    for a in r.events:
        if a.role is EventRole.MATCHED and "replicate" not in str(a.detail):
            assert a.ref in cited or a.event_type == "dose"
        if a.role is EventRole.UNPLANNED:
            assert a.ref in unplanned


@pytest.mark.parametrize("minutes", [-1, 1, 59, 61, 24 * 60 + 7])
def test_a_shift_that_crosses_midnight_moves_the_planned_dates_with_it(minutes: int) -> None:
    tl = patient(dose_at="23:30")
    obs(tl, "pk_conc", 1, "00:01")  # 0.5 h after a dose at 23:30: on the next date
    p = tl.patient(arm="a")
    r = evaluate(PLAN, shifted(p, minutes), LATER)
    half = row(r, "pk_conc", "day 1 0.5 h post-dose")
    assert half.status is Status.ON_TIME
