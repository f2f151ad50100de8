"""Properties of the engine over generated timelines (hypothesis):

* shifting every date of a patient (and the as-of date) by the same amount changes no verdict;
* adding an event of an unrelated kind changes no verdict;
* every input event appears exactly once in the output;
* widening a window never turns `on_time` into anything else.
"""

from __future__ import annotations

import datetime

import attrs
from enginekit import (
    Timeline,
    after_anchor,
    and_,
    any_,
    assess,
    at_day,
    cmp,
    day,
    dose,
    exclusion,
    for_,
    inclusion,
    last_dose,
    latest,
    name,
    ongoing_at,
    q,
    repeat,
    times,
    trial,
    uln,
    visit,
    window,
    within,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import compile_trial, evaluate
from engine.patient import Observation, Patient, RecordRef
from engine.results import EventRole, PatientResult, Status
from engine.timeline import event_date
from protocol import expr as ex
from protocol.schedule import AsNeeded, OnEvent
from protocol.stopping import Discontinue, PatientRule, Retest, Withdraw
from protocol.timing import Duration, TimeUnit

RULES = (
    PatientRule(Discontinue(("drug",)),
                any_("adverse_event", None, cmp(name("grade"), ">=", q(3)),
                     ex.Lasting(ex.CompareOp.GT, Duration(7, TimeUnit.DAY))), name="ae"),
    PatientRule(Withdraw(), ex.LogRise("mrd", ex.CompareOp.GT, 1.0, 2), name="relapse"),
    PatientRule(Retest("alt", Duration(7, TimeUnit.DAY)), cmp(latest("alt"), ">", uln(3)),
                name="alt_retest"),
)
CRITERIA = (
    inclusion("I1", cmp(latest("alt", within(14)), "<=", uln(2.5))),
    inclusion("I2", cmp(latest("ecog", within(28)), "<=", q(2))),
    exclusion("E1", any_("infection", ongoing_at())),
    exclusion("E2", and_(cmp(name("sex"), "==", ex.StringLiteral("female")),
                         any_("pregnancy", within(30)))),
)


def make_trial(w: int = 2, vw: int = 3):
    items = (
        visit("screening", at_day(-7), window(7), activities=("alt", "ecog")),
        visit("baseline", at_day(0)),
        dose("drug", timing=repeat(7, 1, for_(56)), win=window(w), arms=("a",)),
        assess("alt", timing=repeat(14, 14, times(4)), win=window(w)),
        visit("week4", at_day(28), window(vw)),
        visit("eot", after_anchor(14, last_dose("drug")), window(vw), arms=("a",)),
        visit("early_termination", OnEvent("discontinuation")),
        visit("unscheduled", AsNeeded()),
    )
    return trial(inclusions=CRITERIA[:2], exclusions=CRITERIA[2:], items=items, rules=RULES)


TRIAL = compile_trial(make_trial())
AS_OF_DAY = 90

days_ = st.integers(min_value=-40, max_value=100)


@st.composite
def timelines(draw) -> Patient:
    tl = Timeline(randomized=None if draw(st.integers(0, 20)) == 0 else 0)
    for _ in range(draw(st.integers(0, 3))):
        tl.visit(draw(st.sampled_from(["screening", "baseline", "week4", "eot", "unscheduled",
                                       "early_termination", None])), draw(days_), "Visit")
    for _ in range(draw(st.integers(0, 10))):
        d = draw(days_)
        end = d + draw(st.integers(1, 10)) if draw(st.integers(0, 5)) == 0 else None
        tl.dose(draw(st.sampled_from(["drug", "other"])), d, end=end, amount=100, unit="mg")
    for k in draw(st.lists(st.integers(0, 7), max_size=8, unique=True)):  # near the plan
        tl.dose("drug", 1 + 7 * k + draw(st.integers(-4, 4)), amount=100, unit="mg")
    for k in draw(st.lists(st.integers(1, 4), max_size=4, unique=True)):
        tl.obs("alt", 14 * k + draw(st.integers(-4, 4)), draw(st.floats(5, 300)), "U/L",
               low=7, high=40)
    for _ in range(draw(st.integers(0, 8))):
        high = draw(st.sampled_from([None, 40.0]))
        tl.obs("alt", draw(days_), draw(st.floats(5, 300)), "U/L", low=7 if high else None, high=high)
    for _ in range(draw(st.integers(0, 2))):
        tl.obs("ecog", draw(days_), draw(st.integers(0, 4)))
    for _ in range(draw(st.integers(0, 4))):
        tl.obs("mrd", draw(days_), draw(st.sampled_from([0.001, 0.01, 0.1, 1.0, 10.0])), "%")
    for _ in range(draw(st.integers(0, 3))):
        d = draw(days_)
        end = draw(st.sampled_from([None, d + 3, d + 20]))
        tl.occ(draw(st.sampled_from(["adverse_event", "infection", "pregnancy"])), d, end=end,
               ongoing=end is None and draw(st.booleans()), grade=draw(st.integers(1, 4)))
    if draw(st.integers(0, 6)) == 0:
        tl.disposition(draw(st.sampled_from(["discontinued", "withdrawn", "completed"])),
                       draw(days_))
    return tl.patient(arm=draw(st.sampled_from(["a", "b", None])),
                      sex=draw(st.sampled_from(["F", "M", None])), birth=None, age=50.0)


def verdicts(r: PatientResult) -> tuple:
    """Everything a verdict is, without dates."""
    return (
        r.eligibility.verdict,
        tuple((c.id, c.verdict) for c in r.eligibility.criteria),
        r.eligibility.unresolved,
        tuple((x.activity, x.occurrence, x.status, x.planned_day, x.window, x.actual_day,
               x.deviation_days) for x in r.schedule),
        tuple(sorted((u.activity, u.day or 0) for u in r.unplanned)),
        tuple((s.rule, s.action, s.status, s.retest_status) for s in r.stopping),
        tuple((d.intervention, d.planned, d.due, d.given, d.missed, d.extra, d.longest_gap_days)
              for d in r.dosing),
    )


def shift(p: Patient, days: int) -> Patient:
    delta = datetime.timedelta(days=days)
    events = []
    for e in p.events:
        changes = {}
        for f in ("date", "start", "end"):
            v = getattr(e, f, None)
            if isinstance(v, datetime.date):
                changes[f] = v + delta
        events.append(attrs.evolve(e, **changes))
    return attrs.evolve(p, events=tuple(events))


SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(timelines(), st.integers(-4000, 4000))
def test_shifting_every_date_changes_no_verdict(p: Patient, k: int):
    as_of = day(AS_OF_DAY)
    a = evaluate(TRIAL, p, as_of)
    b = evaluate(TRIAL, shift(p, k), as_of + datetime.timedelta(days=k))
    assert verdicts(a) == verdicts(b)


@SETTINGS
@given(timelines(), days_, st.sampled_from(["unrelated_lab", "hemoglobin"]))
def test_an_unrelated_event_changes_no_verdict(p: Patient, d: int, kind: str):
    as_of = day(AS_OF_DAY)
    extra = Observation(kind, day(d), RecordRef("test", "extra"), 12.5, "g/dL")
    p2 = attrs.evolve(p, events=(*p.events, extra))
    a, b = evaluate(TRIAL, p, as_of), evaluate(TRIAL, p2, as_of)
    assert verdicts(a) == verdicts(b)
    assert b.events[-1].role in (EventRole.NOT_SCHEDULE_RELEVANT, EventRole.NOT_EVALUATED)


@SETTINGS
@given(timelines(), st.integers(-10, 120))
def test_every_input_event_appears_exactly_once(p: Patient, as_of_day: int):
    as_of = day(as_of_day)
    r = evaluate(TRIAL, p, as_of)
    assert [a.index for a in r.events] == list(range(len(p.events)))
    by_role: dict[EventRole, set[int]] = {}
    for a in r.events:
        by_role.setdefault(a.role, set()).add(a.index)
        assert a.ref == p.events[a.index].ref
    refs = {i: p.events[i].ref for i in range(len(p.events))}
    cited = {x.ref for x in r.schedule if x.ref is not None}
    for i in by_role.get(EventRole.MATCHED, set()):
        detail = r.events[i].detail or ""
        assert refs[i] in cited or detail.endswith("(same-day replicate)")
    assert cited <= {refs[i] for i in by_role.get(EventRole.MATCHED, set())}
    assert sorted(str(refs[i]) for i in by_role.get(EventRole.UNPLANNED, set())) == \
        sorted(str(u.ref) for u in r.unplanned)
    for i in by_role.get(EventRole.NOT_EVALUATED, set()):
        assert event_date(p.events[i]) > as_of or r.anchor_date is None
    # one status per planned occurrence
    keys = [(x.activity_type, x.activity, x.occurrence) for x in r.schedule]
    assert len(keys) == len(set(keys))


@SETTINGS
@given(timelines(), st.integers(0, 3), st.integers(1, 6))
def test_widening_a_window_never_turns_on_time_into_anything_else(p: Patient, w: int, extra: int):
    as_of = day(AS_OF_DAY)
    narrow = evaluate(make_trial(w, 1 + w), p, as_of)
    wide = evaluate(make_trial(w + extra, 1 + w + extra), p, as_of)
    wide_rows = {(x.activity_type, x.activity, x.occurrence): x for x in wide.schedule}
    for x in narrow.schedule:
        if x.status is Status.ON_TIME:
            y = wide_rows[(x.activity_type, x.activity, x.occurrence)]
            assert y.status is Status.ON_TIME, (x, y)
