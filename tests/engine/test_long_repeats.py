"""A repeat longer than the planner's bound is never cut without a word (issue 16).

A daily dose over 15 years is 5,475 occurrences; the planner used to stop at 5,000 and say
nothing, so the last 475 doses of a patient observed to the end were neither checked nor
listed. Now every occurrence whose window opens by the data cut is planned, and what is
left out (later occurrences, not yet due) is said in a note on the patient."""

from __future__ import annotations

import datetime

import dsl
from engine.api import evaluate
from engine.patient import AnchorEvent, DoseEvent, Patient, RecordRef
from engine.results import Status
from engine.schedule import MAX_OCCURRENCES

PROTOCOL = """
trial LONG01 {
  intervention drug_a drug "Drug A" {
    dose 10 mg oral every 1 day for 15 years
  }
  arm a "Arm A" experimental { drug_a }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    dose drug_a every 1 day from day 0 for 15 years window +-0 days arms a
  }
}
"""
TRIAL = dsl.parse(PROTOCOL)
START = datetime.date(2000, 1, 1)
REF = RecordRef("test", "row 1")
DAYS = 15 * 365  # 15 years (the default calendar: a year is 365 days)


def patient(doses: int) -> Patient:
    events = [AnchorEvent("randomization", START, REF)]
    if doses:
        events.append(DoseEvent("drug_a", START, REF, START + datetime.timedelta(doses - 1),
                                10, "mg"))
    return Patient("P1", REF, "a", None, None, None, tuple(events))


def dose_rows(as_of: datetime.date, doses: int) -> tuple[list[Status], tuple[str, ...]]:
    result = evaluate(TRIAL, patient(doses), as_of)
    return [r.status for r in result.schedule if r.activity_type == "dose"], result.notes


def test_every_dose_due_by_the_data_cut_is_planned_beyond_the_old_bound() -> None:
    statuses, notes = dose_rows(datetime.date(2020, 1, 1), DAYS - 10)
    assert len(statuses) == DAYS > MAX_OCCURRENCES
    assert statuses.count(Status.ON_TIME) == DAYS - 10
    assert statuses.count(Status.MISSED) == 10  # the last ten, which the cut at 5,000 hid
    assert not [n for n in notes if "not planned" in n or "not evaluated" in n]


def test_occurrences_after_the_data_cut_that_are_not_planned_are_counted_in_a_note() -> None:
    as_of = START + datetime.timedelta(days=6000 - 1)  # beyond the end: all due
    statuses, _ = dose_rows(as_of, DAYS)
    assert len(statuses) == DAYS
    as_of = START + datetime.timedelta(days=99)  # 100 days in
    statuses, notes = dose_rows(as_of, 100)
    assert len(statuses) == MAX_OCCURRENCES
    assert statuses.count(Status.ON_TIME) == 100
    assert statuses.count(Status.NOT_DUE) == MAX_OCCURRENCES - 100
    assert notes == (f"drug_a: {DAYS - MAX_OCCURRENCES:,} later occurrences, not yet due at the "
                     f"data cut {as_of.isoformat()}, are not planned (at most 5,000 occurrences "
                     "are)",)
