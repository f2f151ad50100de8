"""Items done at a visit only for some patients (docs/engine-semantics.md, section 4)."""

from __future__ import annotations

import attrs
from enginekit import Timeline, at_day, day, trial, window
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import compile_trial, evaluate
from engine.patient import Observation
from engine.results import EventRole, Status
from protocol.design import DataItem
from protocol.schedule import ItemCondition, Visit
from protocol.vocab import DataKind, Sex

VISITS = (
    Visit("screening", "Screening", at_day(-7), window(7),
          activities=("alt", "cbp", "pregnancy_test", "ecg"),
          item_conditions=(ItemCondition("pregnancy_test", sex=Sex.FEMALE, condition="cbp"),
                           ItemCondition("ecg", arms=("a",)))),
    Visit("week_4", "Week 4", at_day(28), window(3), activities=("pregnancy_test",),
          item_conditions=(ItemCondition("pregnancy_test", sex=Sex.FEMALE),)),
)
def _trial(visits: tuple[Visit, ...]):
    t = trial(items=visits)
    data = (*t.data, DataItem(DataKind.CATEGORY, "cbp", "Childbearing potential",
                              values=("yes", "no")),
            DataItem(DataKind.CATEGORY, "pregnancy_test", "Pregnancy test"),
            DataItem(DataKind.PROCEDURE, "ecg", "ECG"))
    return compile_trial(attrs.evolve(t, data=data))


TRIAL = _trial(VISITS)


def statuses(p, as_of: int = 60) -> dict[tuple[str, str], tuple[Status, str | None]]:
    r = evaluate(TRIAL, p, day(as_of))
    return {(x.activity, x.label): (x.status, x.reason) for x in r.schedule}


def test_a_woman_of_childbearing_potential_has_the_test_planned() -> None:
    tl = Timeline().visit("screening", -5)
    tl.add(Observation("cbp", day(-5), tl._ref(), "yes", visit="screening"))
    s = statuses(tl.patient(sex="F"))
    assert s[("pregnancy_test", "Screening")][0] is Status.MISSED
    assert s[("ecg", "Screening")][0] is Status.MISSED  # arm a


def test_a_woman_without_childbearing_potential_does_not() -> None:
    tl = Timeline().visit("screening", -5)
    tl.add(Observation("cbp", day(-5), tl._ref(), "no", visit="screening"))
    s = statuses(tl.patient(sex="F", arm="b"))
    assert s[("pregnancy_test", "Screening")] == (
        Status.NOT_APPLICABLE, "not planned for this patient (only if cbp)")
    assert s[("pregnancy_test", "Week 4")][0] is Status.MISSED  # only sex female there
    assert s[("ecg", "Screening")] == (
        Status.NOT_APPLICABLE, "not planned for arm b (only arms a)")


def test_a_man_has_no_pregnancy_test_and_his_record_is_unplanned() -> None:
    tl = Timeline().visit("screening", -5)
    tl.add(Observation("pregnancy_test", day(-5), tl._ref(), "negative", visit="screening"))
    p = tl.patient(sex="M")
    s = statuses(p)
    assert s[("pregnancy_test", "Screening")] == (
        Status.NOT_APPLICABLE, "not planned for this patient (only female patients)")
    r = evaluate(TRIAL, p, day(60))
    assert r.events[-1].role in (EventRole.UNPLANNED, EventRole.NOT_SCHEDULE_RELEVANT)


def test_unknown_keeps_the_item_planned() -> None:
    # sex not recorded; the condition's data item not collected for the patient
    tl = Timeline().visit("screening", -5)
    s = statuses(tl.patient(sex=None, collected=frozenset({"alt", "pregnancy_test", "ecg"})))
    assert s[("pregnancy_test", "Screening")][0] is Status.MISSED
    assert s[("pregnancy_test", "Week 4")][0] is Status.MISSED


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(["F", "M", None]), st.sampled_from(["a", "b"]),
       st.sampled_from([None, "yes", "no"]), st.integers(-30, 60))
def test_a_restriction_only_ever_turns_rows_not_applicable(sex, arm, cbp, as_of) -> None:
    """Removing every item restriction changes only rows that were not applicable."""
    tl = Timeline().visit("screening", -5).visit("week_4", 27)
    if cbp is not None:
        tl.add(Observation("cbp", day(-5), tl._ref(), cbp, visit="screening"))
    tl.add(Observation("pregnancy_test", day(-5), tl._ref(), "negative", visit="screening"))
    p = tl.patient(sex=sex, arm=arm)
    free = _trial(tuple(attrs.evolve(v, item_conditions=()) for v in VISITS))
    a = {(x.activity, x.label): x for x in evaluate(TRIAL, p, day(as_of)).schedule}
    b = {(x.activity, x.label): x for x in evaluate(free, p, day(as_of)).schedule}
    assert a.keys() == b.keys()
    for k, x in a.items():
        if x.status is not Status.NOT_APPLICABLE:
            assert (x.status, x.actual_day) == (b[k].status, b[k].actual_day)
