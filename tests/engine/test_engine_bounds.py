"""A value exactly on a bound is on it, whatever unit it or the bound is written in.

Numbers reach a comparison through binary floating point: a threshold converted into the
record's unit, a multiple of a reference limit, a ratio of two records, a washout of N
half-lives converted into days. Each can land a hair beside the exact bound (1.1 g/L is
110.00000000000001 mg/dL), and the verdict on a patient who sits exactly on the bound was then
decided by that rounding: a wrong `eligible` when the bound is an exclusion's. The engine
compares numbers to 1 part in 10^9 (engine.expressions.close; docs/engine-semantics.md,
"Comparisons"). Each test first shows the rounding it guards against, then the verdict.
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from derivedkit import protocol, result, timeline
from enginekit import DATA, RANDO, Timeline, exclusion, trial

from engine import evaluate
from engine.logic import FALSE, TRUE
from engine.results import CriterionVerdict
from protocol import expr as ex
from protocol.design import AttributeUnit, DataItem
from protocol.timing import Duration, TimeUnit
from protocol.units import convert
from protocol.vocab import DataKind

LB_PER_KG = 1 / 0.45359237


def test_a_threshold_converted_into_the_record_unit() -> None:
    """Height 230 cm against `<= 2.3 m`: 2.3 m is 229.99999999999997 cm in floating point, so
    an exact comparison said 230 cm > 2.3 m."""
    assert convert(2.3, "m", "cm") < 230
    trial_ = protocol("    I1: latest height <= 2.3 m\n    I2: latest height > 2.3 m")
    tl = timeline().obs("height", -3, 230.0, "cm")
    assert result(trial_, tl, "I1").truth is TRUE
    assert result(trial_, tl, "I2").truth is FALSE


def test_a_range_converted_into_the_record_unit() -> None:
    """`in 1.1..2.3 m`: both ends are off by a rounding in cm (110.00000000000001 and
    229.99999999999997); 110 cm and 230 cm are both in the range, as 1.1 m and 2.3 m are."""
    assert convert(1.1, "m", "cm") > 110
    trial_ = protocol("    I1: latest height in 1.1..2.3 m")
    for cm in (110.0, 230.0):
        assert result(trial_, timeline().obs("height", -3, cm, "cm")).truth is TRUE
    for m in (1.1, 2.3):
        assert result(trial_, timeline().obs("height", -3, m, "m")).truth is TRUE
    assert result(trial_, timeline().obs("height", -3, 231.0, "cm")).truth is FALSE


def test_a_multiple_of_the_upper_limit() -> None:
    """Bilirubin 1.8 mg/dL with a ULN of 1.2 mg/dL is exactly 1.5 x ULN, but 1.5 * 1.2 is
    1.7999999999999998: `<= 1.5 x ULN` was false."""
    assert 1.5 * 1.2 < 1.8
    trial_ = protocol("    I1: latest bilirubin <= 1.5 x ULN\n"
                      "    I2: latest bilirubin > 1.5 x ULN")
    tl = timeline().obs("bilirubin", -3, 1.8, "mg/dL", low=0.3, high=1.2)
    assert result(trial_, tl, "I1").truth is TRUE
    assert result(trial_, tl, "I2").truth is FALSE


@pytest.mark.parametrize("kg", [50.0, 70.0, 90.0, 100.0, 105.0])
def test_a_ratio_with_an_input_in_pounds(kg: float) -> None:
    """T2DM_ADDON's E2, `insulin / weight > 1.2 U/kg`, with an insulin dose of exactly 1.2 U
    per kg: 120 U at 100 kg is 1.2 U/kg, not above it. With the weight in pounds (100 kg =
    220.462... lb) the quotient came out 1.2000000000000002 U/kg and the patient was excluded;
    in kilograms and in pounds alike it is not met."""
    trial_ = protocol("    I1: latest insulin_dose / latest weight > 1.2 U/kg")
    for value, unit in ((kg, "kg"), (kg * LB_PER_KG, "[lb_av]"), (kg * 1000, "g")):
        tl = timeline().obs("insulin_dose", -3, 1.2 * kg, "U").obs("weight", -3, value, unit)
        c = result(trial_, tl)
        assert c.truth is FALSE, (unit, c.evidence[0].explanation)


# ---- a washout of N half-lives -------------------------------------------------------------

AS_OF = datetime.date(2024, 6, 1)
PRIOR = DataItem(DataKind.EVENT, "prior_drug", "Prior investigational drug",
                 attributes=("half_life",), attribute_units=(AttributeUnit("half_life", "h"),))
WASHOUT = exclusion("E1", ex.Exists(ex.Selection("prior_drug", ex.WithinLongest(
    (Duration(7, TimeUnit.DAY), ex.DataDuration(5, "half_life")), ex.Direction.BEFORE,
    RANDO))))


@pytest.mark.parametrize(("days_before", "expected"), [
    (8, CriterionVerdict.MET),      # 5 x 38.4 h = 192 h = 8 days: on the bound, inside
    (9, CriterionVerdict.NOT_MET),  # one day further: outside 8 days and 7 days
])
def test_five_half_lives_that_make_whole_days(days_before: int,
                                              expected: CriterionVerdict) -> None:
    """A half-life of 38.4 hours: 5 x 38.4 h is exactly 8 days, computed as
    7.999999999999999 days, so a drug stopped 8 days before randomization was outside its
    washout and the patient not excluded (the wrong `eligible` this guards against)."""
    assert 5 * convert(38.4, "h", "d") < 8
    tl = Timeline().occ("prior_drug", -days_before - 10, end=-days_before, half_life=38.4)
    t = attrs.evolve(trial(exclusions=(WASHOUT,)), data=(*DATA, PRIOR))
    (c,) = [c for c in evaluate(t, tl.patient(), AS_OF).eligibility.criteria if c.id == "E1"]
    assert c.verdict is expected, c.evidence[0].explanation
