"""Items restricted to one sex (`sex female`): not applicable for the other, planned otherwise."""

from __future__ import annotations

import datetime

import trialcode
from engine import evaluate
from engine.patient import AnchorEvent, Observation, Patient, RecordRef
from engine.results import Status

PROTOCOL = """
trial sexes {
  data { category pregnancy_test "Pregnancy test" values "negative", "positive" }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    assess pregnancy_test at day -4 window +-3 days sex female
  }
}
"""
D0 = datetime.date(2024, 3, 1)
AS_OF = datetime.date(2024, 6, 1)
REF = RecordRef("test", "line 1")


def _patient(sex: str | None, tested: bool) -> Patient:
    events: list = [AnchorEvent("randomization", D0, REF)]
    if tested:
        events.append(Observation("pregnancy_test", D0 - datetime.timedelta(days=5), REF,
                                  value="negative"))
    return Patient("P1", REF, sex=sex, events=tuple(events))


def _statuses(patient: Patient) -> list[tuple[Status, str | None]]:
    trial = trialcode.load_source(PROTOCOL)
    result = evaluate(trial, patient, AS_OF)
    return [(r.status, r.reason) for r in result.schedule if r.activity == "pregnancy_test"]


def test_women_have_the_test_planned_and_missing_it_is_missed() -> None:
    assert [s for s, _ in _statuses(_patient("F", tested=True))] == [Status.ON_TIME]
    assert [s for s, _ in _statuses(_patient("female", tested=False))] == [Status.MISSED]


def test_men_have_it_not_applicable_with_the_reason() -> None:
    assert _statuses(_patient("M", tested=False)) == [
        (Status.NOT_APPLICABLE, "not planned for this patient (only female patients)")]


def test_unknown_sex_keeps_it_planned_so_a_gap_stays_visible() -> None:
    assert [s for s, _ in _statuses(_patient(None, tested=False))] == [Status.MISSED]


def test_the_restriction_round_trips_through_the_formatter() -> None:
    import dsl
    from dsl.formatter import format_trial

    trial = dsl.parse(PROTOCOL)
    text = format_trial(trial)
    assert "assess pregnancy_test at day -4 window +-3 days sex female\n" in text
    assert dsl.parse(text) == trial
