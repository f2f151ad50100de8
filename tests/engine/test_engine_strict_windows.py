"""Window bounds that say whether they are inclusive (issue 13, item 9), and a value definition,
each on hand-built timelines giving met, not met and unknown.

`within 21 days before X` keeps a record that ended exactly 21 days before X; `strictly within
21 days before X` does not (the far bound excluded, the anchor's day kept).
"""

from __future__ import annotations

import datetime

import pytest
from enginekit import Timeline

import dsl
from engine import evaluate
from engine.results import CriterionVerdict

MET, NOT_MET, UNKNOWN = CriterionVerdict.MET, CriterionVerdict.NOT_MET, CriterionVerdict.UNKNOWN
AS_OF = datetime.date(2024, 6, 1)

TRIAL = dsl.parse("""trial T {
  data {
    event zinc "Zinc supplement"
    vital weight "Body weight" unit kg
    vital height "Height" unit cm
  }
  define bmi_value "Body mass index" = bmi(latest weight, latest height)
  schedule anchored at randomization {
    anchor randomization "Randomization"
    anchor day_1 "Day 1"
  }
  exclusion {
    E4 "Zinc supplements within 21 days before Day 1.":
      any zinc within 21 days before day_1
    E5 "Zinc supplements stopped less than 21 days before Day 1.":
      any zinc strictly within 21 days before day_1
    E6 "Zinc supplements in the 7 days after Day 1, the seventh excluded.":
      any zinc strictly within 7 days after day_1
  }
  inclusion {
    I1 "BMI 18.5 to 32 kg/m2.": bmi_value in 18.5..32 kg/m2
  }
}
""")


def verdict(cid: str, tl: Timeline) -> CriterionVerdict:
    (c,) = [c for c in evaluate(TRIAL, tl.patient(), AS_OF).eligibility.criteria
            if c.id == cid]
    return c.verdict


def zinc(ended_days_before: int, day_1: int | None = 0) -> Timeline:
    tl = Timeline()
    if day_1 is not None:
        tl.anchor("day_1", day_1)
    return tl.occ("zinc", -ended_days_before - 60, end=-ended_days_before)


@pytest.mark.parametrize(("ended", "within", "strictly"), [
    (20, MET, MET),
    (21, MET, NOT_MET),      # exactly 21 days before: the far bound
    (22, NOT_MET, NOT_MET),
    (0, MET, MET),           # ended on Day 1 itself: the anchor's day is kept
])
def test_within_keeps_the_far_bound_strictly_within_does_not(ended, within, strictly) -> None:
    assert verdict("E4", zinc(ended)) is within
    assert verdict("E5", zinc(ended)) is strictly


def test_no_zinc_recorded_is_not_met_and_day_1_without_a_date_is_unknown() -> None:
    assert verdict("E5", Timeline().anchor("day_1", 0)) is NOT_MET
    assert verdict("E5", zinc(10, day_1=None)) is UNKNOWN
    assert verdict("E4", zinc(10, day_1=None)) is UNKNOWN


def test_strictly_within_after() -> None:
    # Day 1 three weeks before randomization: eligibility sees data up to randomization only
    def started(days_after: int) -> Timeline:
        return Timeline().anchor("day_1", -21).occ("zinc", -21 + days_after, end=-21 + days_after)

    assert verdict("E6", started(6)) is MET
    assert verdict("E6", started(7)) is NOT_MET  # the seventh day after: excluded
    assert verdict("E6", zinc(10, day_1=None)) is UNKNOWN


def test_a_value_definition_met_not_met_and_unknown() -> None:
    def measured(weight: float | None) -> Timeline:
        tl = Timeline().obs("height", -5, 175, "cm")
        return tl.obs("weight", -5, weight, "kg") if weight is not None else tl

    assert verdict("I1", measured(70)) is MET       # 22.9 kg/m2
    assert verdict("I1", measured(110)) is NOT_MET  # 35.9 kg/m2
    assert verdict("I1", measured(None)) is UNKNOWN
