"""Visits triggered by every qualifying record (docs/engine-semantics.md, section 4)."""

from __future__ import annotations

from enginekit import Timeline, at_day, cmp, day, name, trial, visit

from engine import compile_trial, evaluate
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
