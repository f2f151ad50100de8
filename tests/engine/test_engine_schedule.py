"""Schedule planning and conformance: every status on hand-built timelines, written out."""

from __future__ import annotations

import datetime

import pytest
from enginekit import (
    D0,
    Timeline,
    after_anchor,
    any_,
    assess,
    at_day,
    at_times,
    day,
    dose,
    for_,
    last_dose,
    named,
    regimen,
    repeat,
    rows,
    statuses,
    times,
    trial,
    until,
    visit,
    window,
)

from engine import evaluate
from engine.patient import Observation, RecordRef
from engine.results import EventRole, Status
from protocol.design import Arm, ArmIntervention, Intervention
from protocol.schedule import AsNeeded, DayRange, OnEvent
from protocol.stopping import Discontinue, PatientRule
from protocol.timing import Calendar, DayPoint, TimeUnit
from protocol.vocab import ArmType, InterventionType

ITEMS = (
    visit("screening", DayRange(DayPoint(TimeUnit.DAY, -14), DayPoint(TimeUnit.DAY, -1)),
          activities=("alt",)),
    visit("baseline", at_day(0)),
    visit("week2", at_day(14), window(3)),
    visit("week4", after_anchor(14, named("week2")), window(3)),
    dose("drug", timing=repeat(7, 1, for_(28)), win=window(2), arms=("a",)),
    assess("alt", timing=repeat(28, 28, times(2)), win=window(3)),
    visit("eot", after_anchor(30, last_dose("drug")), window(7), arms=("a",)),
    visit("early_termination", OnEvent("discontinuation")),
    visit("unscheduled", AsNeeded()),
    visit("follow_up", at_day(90), window(7), condition="discontinuation"),
)
T = trial(items=ITEMS)
AS_OF = day(200)


def compliant() -> Timeline:
    tl = Timeline()
    tl.visit("screening", -7).obs("alt", -7, 20, "U/L").visit("baseline", 0)
    for d in (1, 8, 15, 22):
        tl.dose("drug", d, amount=100, unit="mg")
    tl.visit("week2", 14).visit("week4", 28).obs("alt", 28, 21, "U/L").obs("alt", 56, 22, "U/L")
    tl.visit("eot", 52)
    return tl


def row(result, activity, occurrence=1):
    return next(r for r in result.schedule if r.activity == activity and r.occurrence == occurrence)


def test_a_compliant_patient_is_on_time_everywhere():
    r = evaluate(T, compliant().patient(), AS_OF)
    assert statuses(r, "screening") == ["on_time"]
    assert statuses(r, "drug") == ["on_time"] * 4
    assert statuses(r, "alt") == ["on_time"] * 3
    assert statuses(r, "eot") == ["on_time"]
    assert r.unplanned == ()
    # the event-driven and conditional visits are not planned: no discontinuation
    assert rows(r, "early_termination") == [] and rows(r, "follow_up") == []
    scr = row(r, "screening")
    assert scr.planned_day == -1 and scr.window == (-14, -1) and scr.actual_day == -7
    assert scr.deviation_days == 0
    eot = row(r, "eot")  # 30 days after the last dose (day 22), which is over
    assert eot.planned_day == 52 and eot.window == (45, 59)
    assert [x.label for x in rows(r, "alt")] == ["Screening", "day 28", "day 56"]


def test_early_and_late_carry_signed_deviations_to_the_window_edge():
    tl = Timeline().visit("screening", -7).visit("baseline", 0)
    tl.visit("week2", 9)  # window 11..17: 2 days early
    tl.visit("week4", 35)  # 14 days after the actual week 2 (23), window 20..26: 9 days late
    r = evaluate(T, tl.patient(), AS_OF)
    w2, w4 = row(r, "week2"), row(r, "week4")
    assert (w2.status, w2.deviation_days, w2.actual_day) == (Status.EARLY, -2, 9)
    assert w4.planned_day == 23 and w4.window == (20, 26)
    assert (w4.status, w4.deviation_days) == (Status.LATE, 9)


def test_missed_and_not_due_depend_on_the_as_of_date():
    tl = Timeline().visit("screening", -7).visit("baseline", 0)
    r = evaluate(T, tl.patient(), day(17))
    assert row(r, "week2").status is Status.NOT_DUE  # window 11..17 still open on day 17
    assert statuses(r, "drug") == ["missed", "missed", "not_due", "not_due"]
    r = evaluate(T, tl.patient(), day(18))
    assert row(r, "week2").status is Status.MISSED
    assert row(r, "week2").reason == "no matching event and the window has closed"


def test_other_arm_items_are_one_not_applicable_row_each_and_their_events_unplanned():
    tl = compliant()
    r = evaluate(T, tl.patient(arm="b"), AS_OF)
    (drug,) = rows(r, "drug")
    assert drug.status is Status.NOT_APPLICABLE and drug.occurrence == 0
    assert "arm b" in drug.reason
    (eot,) = rows(r, "eot")
    assert eot.status is Status.NOT_APPLICABLE
    unplanned = {(u.activity, u.date) for u in r.unplanned}
    assert ("drug", day(1)) in unplanned and ("eot", day(52)) in unplanned
    assert len(r.unplanned) == 5


def test_discontinuation_makes_later_doses_not_applicable_and_plans_event_visits():
    tl = compliant()
    tl.events = [e for e in tl.events if not (hasattr(e, "intervention") and e.start > day(10))]
    tl.events = [e for e in tl.events if getattr(e, "visit", None) != "eot"]
    tl.disposition("discontinued", 10).visit("early_termination", 12).visit("follow_up", 95)
    tl.visit("eot", 38)  # 30 days after the actual last dose on day 8
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "drug") == ["on_time", "on_time", "not_applicable", "not_applicable"]
    assert "after discontinuation" in row(r, "drug", 3).reason
    et = row(r, "early_termination")
    assert (et.planned_day, et.status, et.deviation_days) == (10, Status.LATE, 2)
    assert row(r, "follow_up").status is Status.ON_TIME
    assert row(r, "eot").planned_day == 38 and row(r, "eot").status is Status.ON_TIME
    # visits and assessments go on after a discontinuation of treatment
    assert row(r, "week4").status is Status.ON_TIME
    (stop,) = r.stopping
    assert (stop.action, stop.date, stop.source) == ("discontinue", day(10), "disposition")
    d = r.dosing[0]
    assert (d.planned, d.due, d.given, d.not_applicable, d.compliance) == (2, 2, 2, 2, 1.0)


def test_withdrawal_cancels_everything_after_but_not_event_visits():
    tl = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1)
    tl.disposition("withdrawn by subject", 5).visit("early_termination", 5)
    tl.obs("alt", 28, 30, "U/L")  # after the withdrawal: unplanned
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "week2") == ["not_applicable"]
    assert statuses(r, "alt") == ["missed", "not_applicable", "not_applicable"]
    assert statuses(r, "early_termination") == ["on_time"]
    (u,) = r.unplanned
    assert u.activity == "alt" and "after withdrawal" in u.reason


def test_a_stated_effect_decides_not_the_wording():
    # "adverse event" says nothing the engine would read as an effect; the record states one
    tl = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1).dose("drug", 8)
    tl.disposition("adverse event", 10, effect="discontinue").visit("early_termination", 12)
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "drug") == ["on_time", "on_time", "not_applicable", "not_applicable"]
    assert row(r, "week4").status is not Status.NOT_APPLICABLE  # follow-up goes on
    (stop,) = r.stopping
    assert (stop.rule, stop.action, stop.date) == ("disposition: adverse event", "discontinue",
                                                   day(10))
    # the same record without the effect changes nothing: its wording is not recognised
    bare = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1).dose("drug", 8)
    bare.disposition("adverse event", 10)
    r = evaluate(T, bare.patient(), AS_OF)
    assert "not_applicable" not in statuses(r, "drug") and r.stopping == ()
    # and a stated "none" overrides wording that would withdraw the patient
    tl = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1)
    tl.disposition("withdrawn by subject", 5, effect="none")
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "week2") != ["not_applicable"] and r.stopping == ()


def test_a_discontinue_rule_changes_the_plan():
    rule = PatientRule(Discontinue(("drug",)),
                       any_("adverse_event", None, None), name="ae_stop")
    t = trial(items=ITEMS, rules=(rule,))
    tl = compliant().occ("adverse_event", 9, grade=3)
    r = evaluate(t, tl.patient(), AS_OF)
    assert statuses(r, "drug") == ["on_time", "on_time", "not_applicable", "not_applicable"]
    assert {u.date for u in r.unplanned} == {day(15), day(22)}
    assert rows(r, "early_termination")[0].planned_day == 9


def test_unplanned_extra_events():
    tl = compliant().visit("week2", 40).obs("alt", 100, 25, "U/L").visit(None, 30, "Phone call")
    r = evaluate(T, tl.patient(), AS_OF)
    got = sorted((u.activity, u.day) for u in r.unplanned)
    assert got == [("Phone call", 30), ("alt", 100), ("week2", 40)]
    assert statuses(r, "week2") == ["on_time"]


def test_as_needed_visits_are_never_missed_and_labels_map_to_visits():
    tl = compliant().visit(None, 20, "Unscheduled").visit("unscheduled", 33)
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "unscheduled") == ["on_time", "on_time"]
    assert [x.actual_day for x in rows(r, "unscheduled")] == [20, 33]
    assert r.unplanned == ()


def test_near_miss_is_matched_late_when_the_occurrence_would_be_missed():
    # drug days 1, 8, 15, 22 with window +-2: a dose on day 18 is outside day 15's window
    # (13..17) but nearer day 15 than day 22: late by 1, not unplanned.
    tl = Timeline()
    for d in (1, 8, 18, 22):
        tl.dose("drug", d)
    r = evaluate(T, tl.patient(), AS_OF)
    d3 = row(r, "drug", 3)
    assert (d3.status, d3.deviation_days, d3.actual_day) == (Status.LATE, 1, 18)
    # beyond the midpoint (day 19 and later belong to day 22), it is the next one's
    tl = Timeline()
    for d in (1, 8, 19):
        tl.dose("drug", d)
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "drug") == ["on_time", "on_time", "missed", "early"]
    assert row(r, "drug", 4).deviation_days == -1


def test_each_actual_is_used_once_and_order_is_kept():
    tl = Timeline().dose("drug", 7).dose("drug", 8)
    r = evaluate(T, tl.patient(), AS_OF)
    # day 8's window (6..10) takes the dose nearest its nominal day (8); day 7 cannot go to
    # day 1 (its catchment ends at day 4), so it is unplanned.
    assert statuses(r, "drug")[:2] == ["missed", "on_time"]
    assert row(r, "drug", 2).actual_day == 8
    assert [u.day for u in r.unplanned] == [7]


def test_periods_cover_one_planned_administration_each():
    t = trial(items=(dose("drug", timing=repeat(1, 0, for_(10))),))
    tl = Timeline().dose("drug", 0, end=3).dose("drug", 5, end=9)
    r = evaluate(t, tl.patient(), day(30))
    assert statuses(r, "drug") == ["on_time"] * 4 + ["missed"] + ["on_time"] * 5
    d = r.dosing[0]
    assert (d.planned, d.given, d.missed, d.longest_gap_days) == (10, 9, 1, 2)
    # a daily dose without a window allows 1 day between administrations: day 3 -> day 5 is 2
    (gap,) = d.gaps
    assert (gap.start, gap.end, gap.days, gap.allowed_days) == (day(3), day(5), 2, 1)
    accounts = {a.index: a.role for a in r.events}
    assert accounts[1] is EventRole.MATCHED and accounts[2] is EventRole.MATCHED


def test_titration_amounts_follow_the_arms_regimen_and_mismatches_are_reported():
    iv = Intervention("drug", InterventionType.DRUG, "Drug")
    arm = Arm("hi", "High", ArmType.EXPERIMENTAL, interventions=(
        ArmIntervention("drug", regimen((54, "mg", 1, 2), (81, "mg", 1, 3), (54, "mg", 1, None))),))
    t = trial(items=(dose("drug", timing=repeat(1, 0, for_(6))),), arms=(arm,),
              interventions=(iv,))
    tl = Timeline()
    for d, amount in ((0, 54), (1, 54), (2, 81), (3, 81), (4, 54), (5, 54)):
        tl.dose("drug", d, amount=amount, unit="mg")
    r = evaluate(t, tl.patient(arm="hi"), day(30))
    assert [x.planned_amount for x in rows(r, "drug")] == [54, 54, 81, 81, 81, 54]
    (mm,) = r.dosing[0].mismatches
    assert (mm.date, mm.planned_amount, mm.actual_amount) == (day(4), 81, 54)


def test_regimen_without_a_dose_activity_is_planned_from_day_zero():
    t = trial(items=(visit("baseline", at_day(0)),))  # arm a gives drug 100 mg every 7 days
    r = evaluate(t, Timeline().dose("drug", 0).patient(), day(20))
    assert [(x.planned_day, x.status.value) for x in rows(r, "drug")] == [
        (0, "on_time"), (7, "missed"), (14, "missed")]


def test_repeats_until_an_anchor_and_at_lists_in_months():
    items = (
        visit("eot", at_day(100)),
        assess("alt", timing=repeat(30, 0, until(named("eot")))),
        assess("mrd", timing=at_times(3, 6, unit=TimeUnit.MONTH), win=window(14)),
    )
    t = trial(items=items, calendar=Calendar(days_per_month=28))
    tl = Timeline().visit("eot", 95)  # until the actual eot date: days 0, 30, 60, 90
    r = evaluate(t, tl.patient(), day(400))
    assert [x.planned_day for x in rows(r, "alt")] == [0, 30, 60, 90]
    assert [x.planned_day for x in rows(r, "mrd")] == [84, 168]
    assert [x.label for x in rows(r, "mrd")] == ["month 3", "month 6"]


def test_same_item_twice_on_one_day_is_one_planned_occurrence():
    items = (visit("baseline", at_day(0), activities=("tsh",)),
             assess("tsh", timing=repeat(90, 0, times(2)), win=window(7)))
    t = trial(items=items)
    r = evaluate(t, Timeline().obs("tsh", 3, 1.0, "m[IU]/L").patient(), day(200))
    assert [(x.planned_day, x.window, x.status.value) for x in rows(r, "tsh")] == [
        (0, (-7, 7), "on_time"), (90, (83, 97), "missed")]


def test_events_after_the_as_of_date_are_not_evaluated():
    r = evaluate(T, compliant().patient(), day(20))
    late = [a for a in r.events if a.role is EventRole.NOT_EVALUATED]
    assert {a.detail for a in late} == {"dated after the as-of date"}
    assert len(late) == 5  # the dose on day 22, week 4, alt on days 28 and 56, eot
    assert row(r, "week4").status is Status.NOT_DUE


@pytest.mark.parametrize("as_of", [day(20), day(60), day(400)])
def test_every_input_event_is_accounted_for_once(as_of: datetime.date):
    tl = compliant().visit(None, 30, "?").occ("adverse_event", 5, grade=1).anchor("consent", -20)
    tl.disposition("completed", 100).obs("ecog", -3, 1)
    p = tl.patient()
    r = evaluate(T, p, as_of)
    assert [a.index for a in r.events] == list(range(len(p.events)))
    matched = {a.index for a in r.events if a.role is EventRole.MATCHED}
    cited = {x.ref for x in r.schedule if x.ref is not None}
    assert {p.events[i].ref for i in matched} == cited  # no same-day replicates here
    unplanned = {a.index for a in r.events if a.role is EventRole.UNPLANNED}
    assert {p.events[i].ref for i in unplanned} == {u.ref for u in r.unplanned}


def test_d0_is_the_randomization_day():
    assert D0 == day(0)


def test_same_day_replicates_are_part_of_the_matched_assessment():
    tl = compliant().obs("alt", 28, 23, "U/L").dose("drug", 8)
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "alt") == ["on_time"] * 3
    replicate = r.events[-2]
    assert replicate.role is EventRole.MATCHED and replicate.detail == "assess alt #2 (same-day replicate)"
    # a second dose on the same day is not a replicate: it is an extra administration
    assert r.events[-1].role is EventRole.UNPLANNED and r.dosing[0].extra == 1


def test_assessments_of_kinds_not_collected_are_not_collected_not_missed():
    # neither missed (nobody can say it was not done) nor not applicable (it was planned)
    tl = Timeline().visit("screening", -7).visit("baseline", 0)
    r = evaluate(T, tl.patient(collected=frozenset({"ecog"})), AS_OF)
    assert statuses(r, "alt") == ["not_collected"] * 3
    assert "not collected" in rows(r, "alt")[0].reason


def test_an_assessment_recorded_under_a_visit_belongs_to_that_visit():
    # week 2 (window 11..17) took place late on day 22, with its lab; unlabelled, day 22 would be
    # too far from day 14 to count for it.
    items = (visit("week2", at_day(14), window(3), activities=("alt",)),
             visit("week4", at_day(28), window(3), activities=("alt",)))
    t = trial(items=items)
    tl = Timeline().visit("week2", 22).visit("week4", 28)
    tl.add(Observation("alt", day(22), RecordRef("lb", "row 1"), 30, "U/L", visit="week2"))
    tl.obs("alt", 28, 31, "U/L")
    r = evaluate(t, tl.patient(), AS_OF)
    assert [(x.label, x.status.value, x.deviation_days) for x in rows(r, "alt")] == [
        ("Week2", "late", 5), ("Week4", "on_time", 0)]


def test_a_completed_disposition_ends_the_plan_after_its_day():
    tl = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1).dose("drug", 8)
    tl.visit("week2", 14).disposition("COMPLETED", 15)
    r = evaluate(T, tl.patient(), AS_OF)
    assert statuses(r, "drug") == ["on_time", "on_time", "missed", "not_applicable"]
    assert row(r, "drug", 4).reason == "after completion on 2024-01-25"
    assert r.stopping == ()  # a completion is not a stopping event
    assert r.events[-1].role is EventRole.ANCHOR


def test_a_stated_complete_effect_ends_the_plan_and_a_stated_none_does_not():
    base = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1).dose("drug", 8)
    ended = evaluate(T, base.visit("week2", 14).disposition("end of study", 15, effect="complete")
                     .patient(), AS_OF)
    assert statuses(ended, "drug") == ["on_time", "on_time", "missed", "not_applicable"]
    base = Timeline().visit("screening", -7).visit("baseline", 0).dose("drug", 1).dose("drug", 8)
    going = evaluate(T, base.visit("week2", 14).disposition("COMPLETED", 15, effect="none")
                     .patient(), AS_OF)
    assert "not_applicable" not in statuses(going, "drug")
