"""The data cut is a wall: nothing dated after it changes any verdict.

On every example with a synthetic cohort (the seed trial, the cycle, crossover, phase 1 PK and
T2DM add-on studies) and on the real CDISC pilot, a patient evaluated at a data cut gives the
same eligibility, schedule, dosing, stopping and unplanned listings as the same patient with
every record dated after the cut removed. A progression, a dose, a disposition or a lab value the data manager could not
have seen at the cut must not move a verdict (docs/engine-semantics.md: events after the as-of
date are not used).
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import evaluate
from engine.patient import DoseEvent, Event, Occurrence, Patient, RecordRef
from engine.results import PatientResult
from tests.io.examplekit import DEMO_AS_OF, PILOT_SDTM, cohort, differences

AS_OF = {name: day for name, day in DEMO_AS_OF.items()
         if name != "cdiscpilot01" or PILOT_SDTM.is_dir()}
COHORTS = {name: cohort(name) for name in AS_OF}


def first_date(e: Event) -> datetime.date:
    """When an event is first known: its date, or the start of something that lasts."""
    for field in ("date", "start"):
        d = getattr(e, field, None)
        if isinstance(d, datetime.date):
            return d
    raise AssertionError(f"an event without a date: {e!r}")


def decided(r: PatientResult) -> tuple[object, ...]:
    """Everything the engine decided about a patient, without the account of input events
    (whose indices differ once records are removed)."""
    schedule = tuple((x.activity, x.occurrence, x.label, x.status, x.planned_day, x.window,
                      x.actual_day, x.deviation_days, x.epoch, x.ref, x.timing)
                     for x in r.schedule)
    eligibility = (r.eligibility.verdict,
                   tuple((c.id, c.verdict, c.truth, tuple(c.evidence)) for c in
                         r.eligibility.criteria))
    stopping = tuple((s.rule, s.action, s.status, s.retest_status) for s in r.stopping)
    dosing = tuple((d.intervention, d.planned, d.due, d.given, d.on_time, d.early, d.late,
                    d.missed, d.not_applicable, d.extra) for d in r.dosing)
    unplanned = tuple(sorted((u.activity, str(u.ref), u.day, u.reason) for u in r.unplanned))
    return schedule, eligibility, stopping, dosing, unplanned


LAW = settings(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", sorted(AS_OF))
@LAW
@given(data=st.data(), offset=st.integers(-400, 30))
def test_records_after_the_data_cut_change_no_verdict(
        name: str, data: st.DataObject, offset: int) -> None:
    plan, cohort = COHORTS[name]
    p = cohort[data.draw(st.integers(0, len(cohort) - 1))]
    cut = AS_OF[name] + datetime.timedelta(days=offset)
    seen = attrs.evolve(p, events=tuple(e for e in p.events if first_date(e) <= cut))
    whole, known = decided(evaluate(plan, p, cut)), decided(evaluate(plan, seen, cut))
    assert whole == known, f"{name} {p.id} at cut {cut}, with the later records:\n" + \
        differences(whole, known, "without them:")


def _exposure(e: Event) -> bool:
    """A dose given over days, or a medication taken at a dose: one exposure however many
    records it is written in. (A chemotherapy cycle or an adverse event is one episode per
    record: `count(induction_cycle ...)` counts records, so splitting one is not this law.)"""
    if isinstance(e, DoseEvent):
        return True
    return isinstance(e, Occurrence) and any("dose" in k for k, _ in e.attributes)


def _splittable(p: Patient) -> list[int]:
    return [i for i, e in enumerate(p.events)
            if isinstance(e, (DoseEvent, Occurrence)) and _exposure(e) and e.end is not None
            and (e.end - e.start).days >= 1 and e.start_time is None and e.end_time is None]


SPLITTABLE = sorted(name for name, (_, cohort) in COHORTS.items()
                    if any(_splittable(p) for p in cohort))


def _split(p: Patient, i: int, at: int) -> Patient:
    e = p.events[i]
    assert isinstance(e, (DoseEvent, Occurrence)) and e.end is not None
    mid = e.start + datetime.timedelta(days=at)
    first = attrs.evolve(e, end=mid)
    second = attrs.evolve(e, start=mid + datetime.timedelta(days=1),
                          ref=RecordRef(e.ref.source, f"{e.ref.locator} (second part)"))
    return attrs.evolve(p, events=p.events[:i] + (first, second) + p.events[i + 1:])


def statuses(r: PatientResult) -> tuple[object, ...]:
    """The verdicts, without which record stands for them (a split record has two refs)."""
    schedule = tuple((x.activity, x.occurrence, x.label, x.status, x.planned_day,
                      x.deviation_days) for x in r.schedule)
    eligibility = (r.eligibility.verdict,
                   tuple((c.id, c.verdict, c.truth) for c in r.eligibility.criteria))
    stopping = tuple((s.rule, s.action, s.status, s.retest_status) for s in r.stopping)
    dosing = tuple((d.intervention, d.planned, d.due, d.on_time, d.early, d.late,
                    d.missed, d.not_applicable) for d in r.dosing)
    return schedule, eligibility, stopping, dosing


@pytest.mark.parametrize("name", SPLITTABLE)
@LAW
@given(data=st.data())
def test_splitting_a_record_that_lasts_into_two_consecutive_ones_changes_no_verdict(
        name: str, data: st.DataObject) -> None:
    """Days 1-30 of a dose or a medication written as days 1-12 and 13-30 (a new record at a
    pharmacy refill, a site entering a period in two lines) is the same exposure."""
    plan, cohort = COHORTS[name]
    candidates = [(j, i) for j, p in enumerate(cohort) for i in _splittable(p)]
    assume(candidates)
    j, i = data.draw(st.sampled_from(candidates))
    p = cohort[j]
    e = p.events[i]
    assert isinstance(e, (DoseEvent, Occurrence)) and e.end is not None
    at = data.draw(st.integers(0, (e.end - e.start).days - 1))
    cut = AS_OF[name]
    whole, split = statuses(evaluate(plan, p, cut)), statuses(evaluate(plan, _split(p, i, at), cut))
    assert whole == split, f"{name} {p.id} {e!r} split after day {at}, as one record:\n" + \
        differences(whole, split, "split:")
