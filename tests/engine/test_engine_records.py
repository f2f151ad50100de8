"""Aggregates over records: sum, mean, count(distinct ...), continuous exposure.

Every construct on hand-built timelines, each of its three verdicts, with the evidence a
person checks it by. Days are protocol days from D0 (randomization, the reference anchor).
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from enginekit import (
    RANDO,
    Timeline,
    cmp,
    day,
    exclusion,
    inclusion,
    name,
    q,
    sel,
    trial,
    within,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import evaluate
from engine.compile_records import uncovered
from engine.results import CriterionVerdict
from protocol import expr as ex
from protocol.timing import Duration, TimeUnit

AS_OF = datetime.date(2024, 6, 1)
MET, NOT_MET, UNKNOWN = CriterionVerdict.MET, CriterionVerdict.NOT_MET, CriterionVerdict.UNKNOWN


def sum_of(kind: str, temporal: ex.Temporal | None = None, attribute: str | None = None,
           where: ex.Expr | None = None) -> ex.Statistic:
    return ex.Statistic(ex.StatisticFn.SUM, sel(kind, temporal, where), attribute)


def mean_of(kind: str, temporal: ex.Temporal | None = None) -> ex.Statistic:
    return ex.Statistic(ex.StatisticFn.MEAN, sel(kind, temporal))


def distinct(attribute: str, kind: str, temporal: ex.Temporal | None = None,
             where: ex.Expr | None = None) -> ex.CountDistinct:
    return ex.CountDistinct(attribute, sel(kind, temporal, where))


def continuous(kind: str, months: float, where: ex.Expr | None = None,
               unchanged: str | None = None, gap_days: float | None = None) -> ex.Continuous:
    return ex.Continuous(sel(kind, None, where), Duration(months, TimeUnit.MONTH), RANDO,
                         unchanged, Duration(gap_days, TimeUnit.DAY) if gap_days is not None
                         else None)


def judge(crit, tl: Timeline, collected: frozenset[str] | None = None):
    kind = "inclusions" if crit.category.value == "inclusion" else "exclusions"
    result = evaluate(trial(**{kind: (crit,)}), tl.patient(collected=collected), AS_OF)
    (c,) = [c for c in result.eligibility.criteria if c.id == crit.id]
    return c


YEAR = within(365)
# volume in mL (a number: the attribute has no declared unit here)
BLOOD = exclusion("E1", cmp(sum_of("blood_donation", YEAR, "volume"), ">=", q(800)))


# ---- sum --------------------------------------------------------------------------------------


def donations(*days_and_volumes: tuple[int, object]) -> Timeline:
    tl = Timeline()
    for d, v in days_and_volumes:
        tl.occ("blood_donation", d, **({"volume": v} if v is not None else {}))
    return tl


def test_sum_over_the_window_met_with_every_input_in_the_evidence() -> None:
    c = judge(BLOOD, donations((-300, 450), (-100, 400)))
    assert c.verdict is MET
    (e,) = c.evidence
    assert e.explanation == (
        "sum(volume of blood_donation within 365 days before randomization) = 450 on "
        "2023-03-16 + 400 on 2023-10-02: 850 on 2023-10-02 >= 800: true")


def test_sum_not_met_and_records_outside_the_window_do_not_count() -> None:
    c = judge(BLOOD, donations((-400, 450), (-100, 400)))
    assert c.verdict is NOT_MET
    assert "= 400 on 2023-10-02: 400 on 2023-10-02 >= 800: false" in c.evidence[0].explanation


def test_sum_of_no_record_is_zero() -> None:
    c = judge(BLOOD, Timeline())
    assert c.verdict is NOT_MET
    assert "(no record): 0 >= 800: false" in c.evidence[0].explanation


def test_sum_with_a_record_lacking_the_attribute_is_unknown() -> None:
    c = judge(BLOOD, donations((-300, 450), (-100, None)))
    assert c.verdict is UNKNOWN
    assert "blood_donation on 2023-10-02 has no volume" in c.evidence[0].explanation


def test_sum_of_a_kind_not_collected_is_unknown() -> None:
    c = judge(BLOOD, Timeline(), collected=frozenset({"alt"}))
    assert c.verdict is UNKNOWN


# ---- mean ---------------------------------------------------------------------------------------


QTCF = exclusion("E2", cmp(mean_of("qtcf", within(1)), ">", q(450, "ms")))


def triplicate(*values: float | None, unit: str = "ms") -> Timeline:
    tl = Timeline()
    for v in values:
        tl.obs("qtcf", -1, v, unit)
    return tl


@pytest.mark.parametrize(("values", "expected"), [
    ((452, 455, 449), MET),          # mean 452
    ((452, 440, 449), NOT_MET),      # mean 447
    ((460, None, 445), MET),         # a reading not done is left out: mean 452.5
    ((), UNKNOWN),                   # no reading: no mean
])
def test_mean_of_triplicate_qtcf(values, expected) -> None:
    assert judge(QTCF, triplicate(*values)).verdict is expected


def test_mean_evidence_lists_each_reading() -> None:
    c = judge(QTCF, triplicate(452, 455, 449))
    assert c.evidence[0].explanation == (
        "mean(qtcf within 1 day before randomization) = (452 ms on 2024-01-09 + 455 ms on "
        "2024-01-09 + 449 ms on 2024-01-09) / 3: 452 ms on 2024-01-09 > 450 ms: true")


def test_mean_converts_units() -> None:
    # 0.452 s is 452 ms
    tl = triplicate(452, 455).obs("qtcf", -1, 0.449, "s")
    assert judge(QTCF, tl).verdict is MET


# ---- count(distinct ...) ------------------------------------------------------------------------


UP_TO_3 = inclusion("I3", cmp(distinct("drug", "antidiabetic", ex.OngoingAt(RANDO)), "<=",
                              q(3)))


def drugs(*names: str | None) -> Timeline:
    tl = Timeline()
    for i, n in enumerate(names):
        tl.occ("antidiabetic", -200 + i, ongoing=True, **({"drug": n} if n else {}))
    return tl


def test_count_distinct_counts_different_values_regardless_of_case() -> None:
    c = judge(UP_TO_3, drugs("metformin", "Metformin ", "sitagliptin", "glipizide"))
    assert c.verdict is MET
    assert c.evidence[0].explanation == (
        'count(distinct drug of antidiabetic ongoing at randomization) ("metformin", '
        '"sitagliptin", "glipizide"): 3 on 2023-06-27 <= 3: true')


def test_count_distinct_not_met() -> None:
    c = judge(UP_TO_3, drugs("metformin", "sitagliptin", "glipizide", "pioglitazone"))
    assert c.verdict is NOT_MET


def test_count_distinct_unknown_when_a_record_lacks_the_attribute() -> None:
    # three drugs and one without its name: 3 or 4 drugs, and `<= 3` depends on which
    c = judge(UP_TO_3, drugs("metformin", "sitagliptin", "glipizide", None))
    assert c.verdict is UNKNOWN
    assert "has no drug: it may be a further one" in c.evidence[0].explanation


def test_count_distinct_decided_when_every_count_it_may_be_answers_alike() -> None:
    """Metformin and a drug without its name: 1 drug (the same) or 2, and both are <= 3, so
    the missing name cannot matter: met (it was unknown). With five named drugs and one
    without a name, 5 or 6 > 3: not met."""
    c = judge(UP_TO_3, drugs("metformin", None))
    assert c.verdict is MET
    assert c.evidence[0].explanation.startswith(
        "count(distinct drug of antidiabetic ongoing at randomization): 1 to 2 (antidiabetic "
        "from 2023-06-25, ongoing has no drug: it may be a further one) <= 3: true")
    c = judge(UP_TO_3, drugs("a", "b", "c", "d", "e", None))
    assert c.verdict is NOT_MET
    # only unnamed records: at least one drug, at most as many as records
    assert judge(UP_TO_3, drugs(None, None)).verdict is MET
    assert judge(UP_TO_3, drugs(None, None, None, None)).verdict is UNKNOWN


# ---- continuous ---------------------------------------------------------------------------------


STABLE = inclusion("I4", continuous("metformin", 3, cmp(name("daily_dose"), ">=", q(1500)),
                                    "daily_dose", 7))


def periods(*spans: tuple[int, int | None, object]) -> Timeline:
    """metformin from day a to day b (None: ongoing) at a daily dose."""
    tl = Timeline()
    for a, b, dose in spans:
        attrs = {"daily_dose": dose} if dose is not None else {}
        tl.occ("metformin", a, end=b, ongoing=b is None, **attrs)
    return tl


def test_continuous_met_covered_with_a_short_gap() -> None:
    # the period is day -90 to day 0; a 5-day gap (days -40 to -36) is allowed
    c = judge(STABLE, periods((-200, -41, 1500), (-35, None, 1500)))
    assert c.verdict is MET
    assert c.evidence[0].explanation == (
        "continuous metformin where daily_dose >= 1500 for 3 months before randomization with "
        "unchanged daily_dose allowing gaps of 7 days: 2023-10-12 to 2024-01-10 covered by 2 "
        "record(s), longest gap 5 days from 2023-12-01 (gaps of up to 7 days allowed); "
        "daily_dose 1500 throughout: true")


def test_continuous_evidence_lists_the_records_of_the_period() -> None:
    # the records overlapping the period, in date order, each with its source; one before the
    # period is not an input; a record whose `where` cannot be decided says so
    tl = periods((-400, -300, 1500), (-200, -61, 1500), (-60, -30, None), (-29, None, 1500))
    c = judge(STABLE, tl)
    assert c.verdict is UNKNOWN
    inputs = c.evidence[0].inputs
    assert [(i.explanation, i.value, i.date, i.ref is not None) for i in inputs] == [
        ("daily_dose of metformin from 2023-06-24 to 2023-11-10: 1500 on 2023-06-24", 1500,
         day(-200), True),
        ("metformin from 2023-11-11 to 2023-12-11: counts only if its `where` holds", None,
         day(-60), True),
        ("daily_dose of metformin from 2023-12-12, ongoing: 1500 on 2023-12-12", 1500,
         day(-29), True),
    ]
    assert c.evidence[0].subject == (
        "continuous metformin where daily_dose >= 1500 for 3 months before randomization with "
        "unchanged daily_dose allowing gaps of 7 days")
    # without `with unchanged`, each record is listed as being in the period
    no_gap = inclusion("I5", continuous("metformin", 3))
    c = judge(no_gap, periods((-200, None, 1500)))
    assert [i.explanation for i in c.evidence[0].inputs] == [
        "metformin from 2023-06-24, ongoing: in the period"]


def test_continuous_not_met_with_a_long_gap() -> None:
    c = judge(STABLE, periods((-200, -51, 1500), (-35, None, 1500)))
    assert c.verdict is NOT_MET
    assert "not covered from 2023-11-21 to 2023-12-05 (15 days" in c.evidence[0].explanation


def test_continuous_not_met_when_started_too_late() -> None:
    # started on day -80: the first 10 days of the period are uncovered
    assert judge(STABLE, periods((-80, None, 1500))).verdict is NOT_MET


def test_continuous_not_met_below_the_dose() -> None:
    # a lower dose for a month is not the dose asked for: a 31-day gap
    assert judge(STABLE, periods((-200, -61, 1500), (-60, -30, 1000),
                                 (-29, None, 1500))).verdict is NOT_MET


def test_continuous_not_met_when_the_dose_changed() -> None:
    c = judge(STABLE, periods((-200, -41, 1500), (-40, None, 2000)))
    assert c.verdict is NOT_MET
    assert "daily_dose changed from 1500" in c.evidence[0].explanation


def test_continuous_unknown_when_a_record_that_fills_the_gap_lacks_the_dose() -> None:
    c = judge(STABLE, periods((-200, -61, 1500), (-60, -30, None), (-29, None, 1500)))
    assert c.verdict is UNKNOWN


def test_continuous_without_gap_tolerance_needs_every_day() -> None:
    no_gap = inclusion("I5", continuous("metformin", 3))
    assert judge(no_gap, periods((-200, -41, 1500), (-39, None, 1500))).verdict is NOT_MET
    assert judge(no_gap, periods((-200, -41, 1500), (-40, None, 1500))).verdict is MET


def test_continuous_unknown_without_the_anchor_date() -> None:
    tl = Timeline(randomized=None).occ("metformin", -200, ongoing=True, daily_dose=1500)
    assert judge(STABLE, tl).verdict is UNKNOWN


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=6))
@settings(max_examples=200, deadline=None)
def test_uncovered_runs_are_exactly_the_days_no_interval_covers(raw) -> None:
    lo = datetime.date(2024, 1, 1)
    hi = lo + datetime.timedelta(days=40)
    intervals = [(lo + datetime.timedelta(days=a - 10),
                  lo + datetime.timedelta(days=a - 10 + n)) for a, n in raw]
    covered = {a + datetime.timedelta(days=i) for a, b in intervals
               for i in range((b - a).days + 1)}
    days = {lo + datetime.timedelta(days=i) for i in range(41)}
    runs = uncovered(intervals, lo, hi)
    from_runs = {a + datetime.timedelta(days=i) for a, b in runs for i in range((b - a).days + 1)}
    assert from_runs == days - covered
    # maximal runs: consecutive runs are separated by covered days
    for (_, end), (start, _) in zip(runs, runs[1:], strict=False):
        assert (start - end).days > 1


# ---- a law: converting an input to another unit never changes a verdict ------------------------

UNITS = {"ms": 1.0, "s": 1000.0, "us": 0.001}  # how many ms one unit is


@given(st.lists(st.tuples(st.integers(380, 520), st.sampled_from(sorted(UNITS))), min_size=1,
                max_size=4),
       st.sampled_from([ex.StatisticFn.SUM, ex.StatisticFn.MEAN]))
@settings(max_examples=200, deadline=None)
def test_the_unit_of_each_reading_changes_no_verdict(readings, fn) -> None:
    threshold = 450 if fn is ex.StatisticFn.MEAN else 450 * len(readings)
    total = sum(v for v, _ in readings)
    value = total / len(readings) if fn is ex.StatisticFn.MEAN else total
    if abs(value - threshold) < 1e-6:
        return  # a floating-point tie at the threshold: either answer is a rounding
    crit = exclusion("E9", cmp(ex.Statistic(fn, sel("qtcf", within(1))), ">", q(threshold, "ms")))
    in_ms = Timeline()
    converted = Timeline()
    for v, unit in readings:
        in_ms.obs("qtcf", -1, v, "ms")
        converted.obs("qtcf", -1, v / UNITS[unit], unit)
    expected = MET if value > threshold else NOT_MET
    assert judge(crit, in_ms).verdict is expected
    assert judge(crit, converted).verdict is expected


# ---- a law: moving a whole timeline by whole days changes no verdict ---------------------------


@st.composite
def record_timelines(draw: st.DrawFn) -> list[tuple[str, int, int | None, object]]:
    out: list[tuple[str, int, int | None, object]] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["blood_donation", "metformin", "antidiabetic"]))
        start = draw(st.integers(-400, 0))
        if kind == "blood_donation":
            out.append((kind, start, None, draw(st.sampled_from([None, 300, 450, 500]))))
        elif kind == "metformin":
            end = draw(st.one_of(st.none(), st.integers(start, 0)))
            out.append((kind, start, end, draw(st.sampled_from([None, 1000, 1500, 2000]))))
        else:
            out.append((kind, start, None, draw(st.sampled_from([None, "a", "b", "c", "d"]))))
    return out


def build(records: list[tuple[str, int, int | None, object]], shift: int) -> Timeline:
    tl = Timeline(randomized=shift)
    for kind, start, end, value in records:
        attr = {"blood_donation": "volume", "metformin": "daily_dose",
                "antidiabetic": "drug"}[kind]
        attrs = {attr: value} if value is not None else {}
        if kind == "metformin":
            tl.occ(kind, start + shift, end=end + shift if end is not None else None,
                   ongoing=end is None, **attrs)
        elif kind == "antidiabetic":
            tl.occ(kind, start + shift, ongoing=True, **attrs)
        else:
            tl.occ(kind, start + shift, **attrs)
    return tl


@given(record_timelines(), st.integers(-500, 100))  # the anchor stays before the data cut
@settings(max_examples=150, deadline=None)
def test_shifting_every_date_by_whole_days_changes_no_aggregate_verdict(records, shift) -> None:
    for crit in (BLOOD, STABLE, UP_TO_3):
        assert judge(crit, build(records, shift)).verdict is judge(crit, build(records, 0)).verdict


# ---- a sum of an attribute declared with its unit ----------------------------------------------


def test_a_sum_of_an_attribute_with_a_declared_unit_compares_with_any_volume_unit() -> None:
    from protocol.design import AttributeUnit, DataItem
    from protocol.vocab import DataKind

    in_ml = DataItem(DataKind.EVENT, "blood_donation", "Blood donation", attributes=("volume",),
                     attribute_units=(AttributeUnit("volume", "mL"),))
    data = tuple(in_ml if d.name == "blood_donation" else d for d in trial().data)
    for threshold in (q(800, "mL"), q(0.8, "L")):
        crit = exclusion("E1", cmp(sum_of("blood_donation", YEAR, "volume"), ">=", threshold))
        t = attrs.evolve(trial(exclusions=(crit,)), data=data)
        result = evaluate(t, donations((-300, 450), (-100, 400)).patient(), AS_OF)
        (c,) = result.eligibility.criteria
        assert c.verdict is MET
        assert c.evidence[0].explanation.startswith(
            "sum(volume of blood_donation within 365 days before randomization) = 450 mL on "
            "2023-03-16 + 400 mL on 2023-10-02: 850 mL on 2023-10-02 >= ")


def test_the_evidence_of_a_sum_lists_exactly_its_inputs() -> None:
    c = judge(BLOOD, donations((-400, 300), (-300, 450), (-100, 400)))
    (e,) = c.evidence
    # the donation 400 days before is outside the window: not an input
    assert [(i.value, i.date, str(i.ref)) for i in e.inputs] == [
        (450, datetime.date(2023, 3, 16), "test row 3"),
        (400, datetime.date(2023, 10, 2), "test row 4")]


def test_the_evidence_of_a_distinct_count_lists_every_record() -> None:
    c = judge(UP_TO_3, drugs("metformin", "Metformin ", "sitagliptin"))
    assert [i.value for i in c.evidence[0].inputs] == ["metformin", "Metformin ", "sitagliptin"]


# ---- `with unchanged` compares quantities, not how they are written ----------------------------


@pytest.mark.parametrize(("later", "expected"), [
    (1500, MET),          # a number, read in the declared mg
    ("1.5 g", MET),       # the same dose written in grams: unchanged (was "changed", not met)
    ("1500 mg", MET),     # written with its unit
    ("1500.0", MET),      # a number written as text
    ("2 g", NOT_MET),     # a real change, 1500 mg to 2000 mg
    ("1500 mL", NOT_MET), # not a mass: cannot be the same dose
])
def test_an_unchanged_dose_written_in_another_unit(later: object, expected) -> None:
    """Metformin 1500 mg/day (a number, in the attribute's declared mg) until day -41, then
    the same dose written as `later` from day -40: the period (days -90 to 0) is covered and
    the dose unchanged unless `later` is another quantity."""
    from protocol.design import AttributeUnit, DataItem
    from protocol.vocab import DataKind

    in_mg = DataItem(DataKind.EVENT, "metformin", "Metformin", attributes=("daily_dose",),
                     attribute_units=(AttributeUnit("daily_dose", "mg"),))
    data = tuple(in_mg if d.name == "metformin" else d for d in trial().data)
    crit = inclusion("I4", continuous("metformin", 3, None, "daily_dose", 7))
    t = attrs.evolve(trial(inclusions=(crit,)), data=data)
    tl = periods((-200, -41, 1500), (-40, None, later))
    (c,) = evaluate(t, tl.patient(), AS_OF).eligibility.criteria
    assert c.verdict is expected, c.evidence[0].explanation
    if expected is MET:
        assert c.evidence[0].explanation.endswith("daily_dose 1500 throughout: true")
