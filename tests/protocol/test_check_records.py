"""Checks of time windows and aggregates over records: each mistake one located message."""

from __future__ import annotations

import pytest

import trialcode

TEMPLATE = """trial t {
  data {
    event blood_donation "Blood donation" attributes volume
    vital qtcf "QTcF interval" unit ms
    category smoker "Smoker" values "a", "b"
    event metformin "Metformin" attributes daily_dose
    event zinc "Zinc"
    event prior_drug "Prior drug" attributes half_life in h, weight in kg, amount, drug
  }
  table half_lives "Half-lives" {
    "metformin": 6.2 hours
    "amiodarone": 58 days
  }
  table doses "Doses" {
    "metformin": 2000 mg
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
  }
  inclusion {
    I1: CRITERION
  }
}
"""


def diagnostics(criterion: str) -> list[tuple[int, int, str, str | None]]:
    text = TEMPLATE.replace("CRITERION", criterion)
    try:
        trialcode.load_source(text, "t.trial")
    except trialcode.ProtocolError as exc:
        return [(d.span.line, d.span.column, d.message, d.hint) if d.span is not None
                else (0, 0, d.message, d.hint) for d in exc.diagnostics]
    return []


@pytest.mark.parametrize("criterion", [
    "sum(volume of blood_donation within 12 months before randomization) >= 800",
    "mean(qtcf within 1 day before randomization) > 450 ms",
    "count(distinct volume of blood_donation) <= 3",
    "continuous metformin where daily_dose >= 1500 for 3 months before randomization "
    "with unchanged daily_dose allowing gaps of 7 days",
    "not any zinc strictly within 21 days before randomization",
    "not any zinc within 48 hours before randomization",
    "any prior_drug within 90 days or 5 x half_life whichever is longer before randomization",
    "any prior_drug within 90 days or 5 x half_lives[drug] whichever is longer before "
    "randomization",
])
def test_well_formed_constructs_check_clean(criterion: str) -> None:
    assert diagnostics(criterion) == []


def test_strictly_within_zero_is_an_empty_window() -> None:
    assert diagnostics("any zinc strictly within 0 days before randomization") == [
        (21, 18, "'strictly within 0 days' selects nothing: the window is empty",
         "give a duration, or drop 'strictly'")]


def test_sum_of_a_category_or_an_event_needs_numbers() -> None:
    assert diagnostics('sum(smoker) >= 2') == [
        (21, 9, "sum needs numbers; 'smoker' is a category", None)]
    assert diagnostics("sum(blood_donation) >= 2") == [
        (21, 9, "sum needs numbers; 'blood_donation' is a event",
         "name the attribute to add up: 'sum(ATTRIBUTE of blood_donation ...)'")]


def test_an_aggregate_names_an_attribute_the_item_has() -> None:
    assert diagnostics("count(distinct volum of blood_donation) <= 3") == [
        (21, 9, "'blood_donation' has no attribute 'volum'", "did you mean 'volume'?")]
    assert diagnostics("mean(weight of blood_donation) > 3") == [
        (21, 9, "'blood_donation' has no attribute 'weight'",
         "declare it: 'attributes weight' on 'blood_donation'")]


def test_continuous_counts_whole_days() -> None:
    assert diagnostics("continuous metformin for 72 hours before randomization") == [
        (21, 34, "'continuous' counts whole days: the period (72 hours) must be in days, weeks, "
                 "months or years", None)]
    assert diagnostics("continuous metformin for 0 days before randomization") == [
        (21, 34, "'continuous ... for 0 days' asks for nothing", "give the length of the period")]
    assert diagnostics("continuous metformin for 3 months before randomization with unchanged "
                       "daily_dos") == [
        (21, 9, "'metformin' has no attribute 'daily_dos'", "did you mean 'daily_dose'?")]


def test_a_window_length_from_the_data_is_a_duration() -> None:
    assert diagnostics("any prior_drug within 90 days or 5 x amount whichever is longer before "
                       "randomization") == [
        (21, 42, "'amount' of 'prior_drug' is used as a duration but has no unit",
         "declare it: 'attributes amount in h' (or d, wk) on 'prior_drug'")]
    assert diagnostics("any prior_drug within 90 days or 5 x weight whichever is longer before "
                       "randomization") == [
        (21, 42, "'weight' of 'prior_drug' is in kg, not a time: it cannot give a window's "
                 "length", None)]
    assert diagnostics("any prior_drug within 90 days or 5 x doses[drug] whichever is longer "
                       "before randomization") == [
        (15, 5, "table 'doses' gives a window's length, but its value for \"metformin\" is not "
                "a duration", "give each value with a time unit: '36 hours', '5 days'")]
    assert diagnostics("any prior_drug within 90 days or 5 x half_live[drug] whichever is "
                       "longer before randomization") == [
        (21, 42, "undefined table 'half_live'", "did you mean 'half_lives'?")]
    assert diagnostics("any prior_drug within 36 hours or 5 x half_life whichever is longer "
                       "before randomization") == [
        (21, 31, "'whichever is longer' counts whole days: 36 hours must be in days, weeks, "
                 "months or years", None)]
