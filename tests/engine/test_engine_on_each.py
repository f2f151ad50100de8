"""Visits triggered by every qualifying record (docs/engine-semantics.md, section 4)."""

from __future__ import annotations

from enginekit import Timeline, assess, at_day, cmp, day, name, repeat, times, trial, visit, window

from engine import compile_trial, evaluate
from engine.patient import Observation
from engine.results import Status
from protocol import expr as ex
from protocol.schedule import OnEach, Visit
from protocol.timing import Window

SERIOUS = cmp(name("serious"), "==", ex.StringLiteral("Y"))
TRIAL = compile_trial(trial(items=(
    visit("baseline", at_day(0)),
    Visit("sae_fu", "SAE follow-up", OnEach(ex.Selection("adverse_event", where=SERIOUS)),
          Window(0, 7), activities=("alt",)),
)))


def test_one_visit_per_serious_event() -> None:
    tl = Timeline().visit("baseline", 0)
    tl.occ("adverse_event", 9, serious="Y").visit("sae_fu", 14)
    tl.occ("adverse_event", 31, serious="N")
    tl.occ("adverse_event", 50, serious="Y").visit("sae_fu", 64)
    tl.occ("adverse_event", 84, grade=2)  # serious unknown: owed too
    tl.occ("adverse_event", 40, serious="Y")  # no follow-up at all
    r = evaluate(TRIAL, tl.patient(), day(88))
    rows = [(x.planned_day, x.window, x.actual_day, x.status) for x in r.schedule
            if x.activity == "sae_fu"]
    assert rows == [(9, (9, 16), 14, Status.ON_TIME), (40, (40, 47), None, Status.MISSED),
                    (50, (50, 57), 64, Status.LATE), (84, (84, 91), None, Status.NOT_DUE)]
    alt = [x.status for x in r.schedule if x.activity == "alt"]
    assert alt == [Status.MISSED, Status.MISSED, Status.MISSED, Status.NOT_DUE]


def test_no_trigger_no_visit_and_a_record_is_unplanned() -> None:
    tl = Timeline().visit("baseline", 0).visit("sae_fu", 20)
    r = evaluate(TRIAL, tl.patient(), day(60))
    assert not [x for x in r.schedule if x.activity == "sae_fu"]
    assert [u.reason for u in r.unplanned] == [
        "visit sae_fu is planned after each qualifying adverse_event, and none happened"]


def test_an_event_after_the_as_of_date_triggers_nothing_yet() -> None:
    tl = Timeline().visit("baseline", 0).occ("adverse_event", 70, serious="Y")
    r = evaluate(TRIAL, tl.patient(), day(60))
    assert not [x for x in r.schedule if x.activity == "sae_fu"]


# A repeating ALT (every 21 days, window -1 to 0) beside the SAE follow-up visit's ALT.
CYCLED = compile_trial(trial(items=(
    visit("baseline", at_day(0)),
    assess("alt", timing=repeat(21, 21, times(3)), win=window(1, 0)),
    Visit("sae_fu", "SAE follow-up", OnEach(ex.Selection("adverse_event", where=SERIOUS)),
          Window(0, 7), activities=("alt",)),
)))


def test_a_follow_up_visit_does_not_push_a_planned_assessment_out_of_its_window() -> None:
    # Found in the oncology example (ONC004, ONC014): an SAE on day 40, the cycle's ALT on day
    # 41 (its window 41-42), the follow-up visit's ALT on day 43. The visit's record, taken by
    # its label, came after the cycle's nominal day, and the rule that matches never cross
    # then kept the cycle from its own record: ALT day 42 "missed" and the day-41 record
    # "unplanned". The event-driven visit is not in the series the order rule is about.
    tl = Timeline().visit("baseline", 0)
    tl.occ("adverse_event", 40, serious="Y")
    tl.add(Observation("alt", day(41), tl._ref(), 30, "U/L"))
    tl.visit("sae_fu", 43)
    tl.add(Observation("alt", day(43), tl._ref(), 35, "U/L", visit="sae_fu"))
    r = evaluate(CYCLED, tl.patient(), day(90))
    alt = [(x.planned_day, x.actual_day, x.status) for x in r.schedule
           if x.activity == "alt" and x.planned_day in (40, 42)]
    by_day = {x[0]: x for x in alt}
    assert by_day[40][1:] == (43, Status.ON_TIME)
    assert by_day[42][1:] == (41, Status.ON_TIME)
    assert not [u for u in r.unplanned if u.activity == "alt"]


def test_a_follow_up_record_goes_to_its_own_follow_up_not_an_earlier_open_one() -> None:
    # Found by the SAE law of tests/io/test_example_schedule_laws.py (ONC017 with an SAE added
    # on day 35): an earlier SAE (day 26) without a follow-up, then a second SAE (day 35)
    # followed up on its own day. The ALT recorded under the follow-up visit went to the first
    # follow-up still open, late by 2 days, and the second follow-up's ALT was "missed", while
    # its visit record was on time. Each labelled record goes to the nearest occurrence.
    tl = Timeline().visit("baseline", 0)
    tl.occ("adverse_event", 26, serious="Y")
    tl.occ("adverse_event", 35, serious="Y")
    tl.visit("sae_fu", 35)
    tl.add(Observation("alt", day(35), tl._ref(), 30, "U/L", visit="sae_fu"))
    r = evaluate(TRIAL, tl.patient(), day(90))
    rows = [(x.activity, x.planned_day, x.actual_day, x.status) for x in r.schedule
            if x.activity in ("sae_fu", "alt")]
    assert sorted(rows) == [
        ("alt", 26, None, Status.MISSED), ("alt", 35, 35, Status.ON_TIME),
        ("sae_fu", 26, None, Status.MISSED), ("sae_fu", 35, 35, Status.ON_TIME)]
