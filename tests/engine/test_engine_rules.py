"""Patient stopping rules: every rule kind on hand-built timelines, with the expected dates."""

from __future__ import annotations

from enginekit import (
    Timeline,
    and_,
    any_,
    at_day,
    cmp,
    day,
    dose,
    for_,
    latest,
    name,
    q,
    repeat,
    s,
    statuses,
    trial,
    uln,
    visit,
    window,
)

from engine import evaluate
from engine.results import RetestStatus, Status, StopStatus
from protocol import expr as ex
from protocol.stopping import Discontinue, PatientRule, Retest, RetestFalls, Withdraw
from protocol.timing import Duration, TimeUnit

ITEMS = (
    dose("drug", timing=repeat(7, 1, for_(84)), win=window(2)),
    visit("week8", at_day(56), window(3)),
)

AE_RULE = PatientRule(
    Discontinue(("drug",)),
    any_("adverse_event", None,
         and_(cmp(name("grade"), ">=", q(3)), cmp(name("related"), "==", s("drug"))),
         ex.Lasting(ex.CompareOp.GT, Duration(14, TimeUnit.DAY))),
    name="ae_stop")
RELAPSE = PatientRule(Withdraw(), ex.LogRise("mrd", ex.CompareOp.GT, 1.0, 2), name="relapse")
ALT3 = PatientRule(Discontinue(("drug",)),
                   ex.Consecutive("alt", ex.CompareOp.GT, uln(3), 2), name="alt3")
RETEST = PatientRule(Retest("alt", Duration(7, TimeUnit.DAY)),
                     cmp(latest("alt"), ">", q(120, "U/L")), name="alt_weekly")
STOP_UNLESS = PatientRule(Discontinue(("drug",)), cmp(latest("alt"), ">", q(400, "U/L")),
                          name="alt_stop",
                          unless=RetestFalls("alt", Duration(2, TimeUnit.DAY), 10.0))


LATER = day(200)


def run(rule, tl, as_of=LATER):
    return evaluate(trial(items=ITEMS, rules=(rule,)), tl.patient(), as_of)


def only(result):
    assert len(result.stopping) == 1, result.stopping
    return result.stopping[0]


def test_ae_lasting_more_than_14_days_fires_on_start_plus_15():
    r = run(AE_RULE, Timeline().occ("adverse_event", 10, ongoing=True, grade=3, related="drug"))
    e = only(r)
    assert (e.rule, e.date, e.action, e.status) == ("ae_stop", day(25), "discontinue", StopStatus.FIRED)
    assert e.interventions == ("drug",)
    assert "adverse_event" in e.evidence[0].explanation
    # doses from day 29 on are not applicable (day 22 was due before)
    assert statuses(r, "drug")[:5] == ["missed", "missed", "missed", "missed", "not_applicable"]
    assert row_status(r, "week8") == "missed"  # visits go on after a discontinuation


def row_status(r, activity):
    return next(x.status.value for x in r.schedule if x.activity == activity)


def test_ae_lasting_exactly_14_days_does_not_fire():
    assert run(AE_RULE, Timeline().occ("adverse_event", 10, end=24, grade=3, related="drug")).stopping == ()
    e = only(run(AE_RULE, Timeline().occ("adverse_event", 10, end=25, grade=3, related="drug")))
    assert e.date == day(25)


def test_ae_rule_needs_the_where_to_hold_and_the_data_known_by_then():
    assert run(AE_RULE, Timeline().occ("adverse_event", 10, ongoing=True, grade=2,
                                       related="drug")).stopping == ()
    tl = Timeline().occ("adverse_event", 10, ongoing=True, grade=3, related="drug")
    assert run(AE_RULE, tl, as_of=day(24)).stopping == ()  # not yet 15 days on the as-of date


def test_withdraw_on_a_log_rise_on_two_consecutive_samples():
    tl = (Timeline().obs("mrd", 1, 1.0, "%").obs("mrd", 30, 0.001, "%")
          .obs("mrd", 60, 0.02, "%").obs("mrd", 90, 0.05, "%").visit("week8", 56))
    r = run(RELAPSE, tl)
    e = only(r)
    assert (e.date, e.action) == (day(90), "withdraw")
    assert len(e.evidence) == 2 and "rise" in e.evidence[0].explanation
    # everything planned from day 90 on is not applicable
    drug = [x for x in r.schedule if x.activity == "drug"]
    assert all(x.status is Status.NOT_APPLICABLE for x in drug if x.planned_day >= 90)
    one_rise = Timeline().obs("mrd", 1, 1.0, "%").obs("mrd", 30, 0.001, "%").obs("mrd", 60, 0.02, "%")
    assert run(RELAPSE, one_rise.obs("mrd", 90, 0.005, "%")).stopping == ()


def test_consecutive_threshold_on_each_samples_own_uln():
    tl = (Timeline().obs("alt", 10, 130, "U/L", 7, 40).obs("alt", 20, 50, "U/L", 7, 40)
          .obs("alt", 30, 130, "U/L", 7, 40).obs("alt", 37, 125, "U/L", 7, 40))
    e = only(run(ALT3, tl))
    assert e.date == day(37)
    tl2 = Timeline().obs("alt", 30, 130, "U/L", 7, 40).obs("alt", 37, 125, "U/L", 7, 50)
    assert run(ALT3, tl2).stopping == ()  # 125 is not above 3 x 50


def test_retest_done_late_and_missing():
    tl = (Timeline().obs("alt", 10, 150, "U/L").obs("alt", 15, 90, "U/L")
          .obs("alt", 30, 130, "U/L").obs("alt", 40, 90, "U/L").obs("alt", 60, 200, "U/L"))
    r = run(RETEST, tl, as_of=day(100))
    got = [(e.date, e.retest_status, e.retest_date, e.retest_due) for e in r.stopping]
    assert got == [
        (day(10), RetestStatus.DONE, day(15), day(17)),
        (day(30), RetestStatus.LATE, day(40), day(37)),
        (day(60), RetestStatus.MISSING, None, day(67)),
    ]
    assert all(e.action == "retest" and not e.effective for e in r.stopping)
    pending = run(RETEST, Timeline().obs("alt", 95, 300, "U/L"), as_of=day(100))
    assert only(pending).retest_status is RetestStatus.NOT_DUE


def test_a_high_retest_is_a_new_trigger():
    tl = Timeline().obs("alt", 10, 150, "U/L").obs("alt", 14, 160, "U/L").obs("alt", 18, 100, "U/L")
    r = run(RETEST, tl, as_of=day(100))
    assert [(e.date, e.retest_date) for e in r.stopping] == [(day(10), day(14)), (day(14), day(18))]


def test_unless_the_retest_falls_the_action_is_rescinded():
    tl = Timeline().obs("alt", 20, 500, "U/L").obs("alt", 21, 440, "U/L")
    e = only(run(STOP_UNLESS, tl))
    assert (e.status, e.date, e.retest_status, e.retest_date) == (
        StopStatus.RESCINDED, day(20), RetestStatus.DONE, day(21))
    assert "12 % below 500 U/L" in e.evidence[-1].explanation


def test_a_retest_that_did_not_fall_enough_confirms_the_action_on_its_date():
    tl = Timeline().obs("alt", 20, 500, "U/L").obs("alt", 21, 480, "U/L")
    r = run(STOP_UNLESS, tl)
    e = only(r)
    assert (e.status, e.date, e.action) == (StopStatus.FIRED, day(21), "discontinue")
    assert all(x.status is Status.NOT_APPLICABLE for x in r.schedule
               if x.activity == "drug" and x.planned_day >= 21)


def test_no_retest_confirms_the_action_when_its_time_is_over_or_leaves_it_pending():
    tl = Timeline().obs("alt", 20, 500, "U/L")
    e = only(run(STOP_UNLESS, tl, as_of=day(30)))
    assert (e.status, e.date, e.retest_status) == (StopStatus.FIRED, day(22), RetestStatus.MISSING)
    p = only(run(STOP_UNLESS, tl, as_of=day(21)))
    assert (p.status, p.date, p.effective) == (StopStatus.PENDING, day(20), False)


def test_after_a_rescinded_action_a_later_trigger_still_fires():
    tl = (Timeline().obs("alt", 20, 500, "U/L").obs("alt", 21, 440, "U/L")
          .obs("alt", 50, 600, "U/L").obs("alt", 51, 590, "U/L"))
    r = run(STOP_UNLESS, tl)
    assert [(e.status, e.date) for e in r.stopping] == [
        (StopStatus.RESCINDED, day(20)), (StopStatus.FIRED, day(51))]


def test_dispositions_and_discontinuation_anchors_are_stopping_events():
    r = run(RETEST, Timeline().disposition("Lost to follow-up", 40))
    e = only(r)
    assert (e.action, e.source, e.date) == ("withdraw", "disposition", day(40))
    r = run(RETEST, Timeline().anchor("discontinuation", 40))
    e = only(r)
    assert (e.action, e.source, e.interventions) == ("discontinue", "anchor", ("drug",))
    assert run(RETEST, Timeline().disposition("COMPLETED", 40)).stopping == ()
