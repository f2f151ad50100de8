"""Windows the data give: `within 90 days or 5 x half_life whichever is longer before X`.

Each record's window is the longest of its lengths; a record the fixed length already places
inside is in whatever its data, and a length it lacks the data for makes it unknown.
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from enginekit import DATA, RANDO, Timeline, cmp, count, exclusion, latest, q, trial
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import evaluate
from engine.results import CriterionVerdict
from protocol import expr as ex
from protocol.design import AttributeUnit, DataItem
from protocol.timing import Duration, TimeUnit
from protocol.vocab import DataKind

AS_OF = datetime.date(2024, 6, 1)
MET, NOT_MET, UNKNOWN = CriterionVerdict.MET, CriterionVerdict.NOT_MET, CriterionVerdict.UNKNOWN
PRIOR = DataItem(DataKind.EVENT, "prior_drug", "Prior investigational drug",
                 attributes=("half_life",), attribute_units=(AttributeUnit("half_life", "h"),))


def longest(*lengths: Duration | ex.DataDuration, after: bool = False) -> ex.WithinLongest:
    return ex.WithinLongest(tuple(lengths), ex.Direction.AFTER if after else ex.Direction.BEFORE,
                            RANDO)


NINETY = Duration(90, TimeUnit.DAY)
FIVE_HALF_LIVES = ex.DataDuration(5, "half_life")
WASHOUT = exclusion("E1", ex.Exists(ex.Selection("prior_drug", longest(NINETY,
                                                                        FIVE_HALF_LIVES))))


def judge(crit, tl: Timeline):
    t = attrs.evolve(trial(exclusions=(crit,)), data=(*DATA, PRIOR))
    result = evaluate(t, tl.patient(), AS_OF)
    (c,) = [c for c in result.eligibility.criteria if c.id == crit.id]
    return c


def stopped(days_before: int, half_life: float | str | None) -> Timeline:
    """A prior drug taken for 30 days and stopped `days_before` days before randomization."""
    attributes = {"half_life": half_life} if half_life is not None else {}
    return Timeline().occ("prior_drug", -days_before - 30, end=-days_before, **attributes)


@pytest.mark.parametrize(("days_before", "half_life", "expected"), [
    (100, 36, NOT_MET),      # 100 days > 90 days and > 5 x 36 h = 7.5 days
    (80, 36, MET),           # inside the fixed 90 days
    (100, 720, MET),         # 5 x 720 h = 150 days: inside
    (150, 720, MET),         # exactly 150 days: the bound is included
    (151, 720, NOT_MET),
    (80, None, MET),         # no half-life, but the 90 days already decide
    (100, None, UNKNOWN),    # no half-life, and outside the 90 days: unknown
    (0, 36, MET),            # still taken at randomization
])
def test_the_longer_of_90_days_and_5_half_lives(days_before, half_life, expected) -> None:
    assert judge(WASHOUT, stopped(days_before, half_life)).verdict is expected


def test_an_unknown_length_says_why() -> None:
    c = judge(WASHOUT, stopped(100, None))
    assert c.evidence[0].explanation == (
        "any prior_drug within 90 days or 5 x half_life whichever is longer before "
        "randomization: unknown (prior_drug 2023-09-02 to 2023-10-02 has no half_life: it may or "
        "may not be within 90 days or 5 x half_life whichever is longer before randomization "
        "(randomization 2024-01-10))")


def test_a_half_life_in_days_converts() -> None:
    in_days = attrs.evolve(PRIOR, attribute_units=(AttributeUnit("half_life", "d"),))
    t = attrs.evolve(trial(exclusions=(WASHOUT,)), data=(*DATA, in_days))
    # 30 days x 5 = 150 days
    result = evaluate(t, stopped(120, 30).patient(), AS_OF)
    assert result.eligibility.criteria[-1].verdict is MET


def test_a_half_life_written_with_its_unit() -> None:
    # the record's own unit wins over the declared hours: 30 d x 5 = 150 days, inside
    assert judge(WASHOUT, stopped(120, "30 d")).verdict is MET
    assert judge(WASHOUT, stopped(120, "36 h")).verdict is NOT_MET
    assert judge(WASHOUT, stopped(120, "720")).verdict is MET
    c = judge(WASHOUT, stopped(120, "long"))
    assert c.verdict is UNKNOWN
    assert "prior_drug 2023-08-13 to 2023-09-12: half_life 'long' is not a number" in \
        c.evidence[0].explanation


def test_after_the_anchor() -> None:
    consent = ex.NamedAnchor("consent")
    crit = exclusion("E2", ex.Exists(ex.Selection("prior_drug", ex.WithinLongest(
        (Duration(7, TimeUnit.DAY), FIVE_HALF_LIVES), ex.Direction.AFTER, consent))))
    # started 10 days after consent: inside 5 x 72 h = 15 days, not 7 days
    tl = Timeline().anchor("consent", -30).occ("prior_drug", -20, end=-10, half_life=72)
    assert judge(crit, tl).verdict is MET
    tl = Timeline().anchor("consent", -30).occ("prior_drug", -20, end=-10, half_life=24)
    assert judge(crit, tl).verdict is NOT_MET


def test_count_and_latest_with_a_record_of_unknown_length() -> None:
    n = exclusion("E3", cmp(count("prior_drug", longest(NINETY, FIVE_HALF_LIVES)), ">=", q(1)))
    assert judge(n, stopped(100, None)).verdict is UNKNOWN
    assert judge(n, stopped(100, 36)).verdict is NOT_MET
    # latest: a doubtful record earlier than the one found does not matter
    last = exclusion("E4", cmp(latest("prior_drug", longest(NINETY, FIVE_HALF_LIVES)), "==",
                               ex.BoolLiteral(True)))
    tl = stopped(100, None).occ("prior_drug", -50, end=-40, half_life=36)
    assert judge(last, tl).verdict is MET


# ---- the length from a declared drug table ---------------------------------------------------


def test_five_half_lives_from_a_drug_table() -> None:
    from protocol.definitions import Table, TableRow
    from protocol.units import Quantity

    half_lives = Table("half_lives", (
        TableRow("metformin", ex.QuantityLiteral(Quantity(6.2, "h"))),
        TableRow("amiodarone", ex.QuantityLiteral(Quantity(58, "d"))),
    ))
    with_drug = attrs.evolve(PRIOR, attributes=("half_life", "drug"))
    crit = exclusion("E5", ex.Exists(ex.Selection("prior_drug", longest(
        NINETY, ex.DataDuration(5, "drug", "half_lives")))))
    t = attrs.evolve(trial(exclusions=(crit,)), data=(*DATA, with_drug), tables=(half_lives,))

    def verdict(drug: str | None) -> CriterionVerdict:
        attributes = {"drug": drug} if drug is not None else {}
        tl = Timeline().occ("prior_drug", -230, end=-200, **attributes)
        (c,) = evaluate(t, tl.patient(), AS_OF).eligibility.criteria
        return c.verdict

    # stopped 200 days before: 5 x 58 days = 290 days for amiodarone, 31 hours for metformin
    assert verdict("Amiodarone") is MET
    assert verdict("metformin") is NOT_MET
    assert verdict("unlisted") is UNKNOWN  # the table has no row for it
    assert verdict(None) is UNKNOWN


# ---- a law: the unit the half-life is declared in never changes a verdict ----------------------

HOURS_IN = {"h": 1.0, "d": 24.0, "min": 1 / 60, "wk": 168.0}  # hours in one unit


@settings(max_examples=100, deadline=None, derandomize=True)
@given(days_before=st.integers(0, 400), half_life_h=st.floats(1, 2000), unit=st.sampled_from(
    sorted(HOURS_IN)))
def test_the_unit_of_the_half_life_never_changes_a_verdict(days_before: int, half_life_h: float,
                                                           unit: str) -> None:
    # stopped on day -days_before; its window reaches back max(90 days, 5 half-lives)
    if abs(days_before * 24 - 5 * half_life_h) < 1e-6:
        return  # a floating-point tie at the bound: either answer is a rounding
    in_unit = attrs.evolve(PRIOR, attribute_units=(AttributeUnit("half_life", unit),))
    t = attrs.evolve(trial(exclusions=(WASHOUT,)), data=(*DATA, in_unit))
    (c,) = evaluate(t, stopped(days_before, half_life_h / HOURS_IN[unit]).patient(),
                    AS_OF).eligibility.criteria
    inside = days_before <= 90 or days_before * 24 < 5 * half_life_h
    assert c.verdict is (MET if inside else NOT_MET)


# ---- one length from the data: `within washouts[drug] before X` ------------------------------

WASHOUT_TABLE = """trial T {
  data {
    event con_med "Concomitant medication" attributes drug
    event prior_drug "Prior drug" attributes half_life in h
  }
  table washouts "Washout period before enrollment" {
    "valproic acid": 2 weeks
    "felbamate": 1 month
    "meclizine": 3 days
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
  }
  exclusion {
    E1: any con_med within washouts[drug] before randomization
    E2: any prior_drug within 5 x half_life before randomization
  }
}
"""


def _one_length(cid: str, tl: Timeline) -> CriterionVerdict:
    import dsl

    t = dsl.parse(WASHOUT_TABLE)
    (c,) = [c for c in evaluate(t, tl.patient(), AS_OF).eligibility.criteria if c.id == cid]
    return c.verdict


@pytest.mark.parametrize(("drug", "stopped_days_before", "expected"), [
    ("Valproic acid", 14, MET),      # its 2 weeks: the far day included
    ("valproic acid", 15, NOT_MET),
    ("felbamate", 20, MET),          # 1 month = 30 days
    ("felbamate", 31, NOT_MET),
    ("meclizine", 3, MET),
    ("meclizine", 4, NOT_MET),
    ("aspirin", 200, UNKNOWN),       # the table has no row for it: its washout is unknown
    (None, 1, UNKNOWN),              # no drug recorded
])
def test_a_washout_per_drug_from_a_table(drug, stopped_days_before, expected) -> None:
    attributes = {"drug": drug} if drug is not None else {}
    tl = Timeline().occ("con_med", -stopped_days_before - 30, end=-stopped_days_before,
                        **attributes)
    assert _one_length("E1", tl) is expected


@pytest.mark.parametrize(("days_before", "half_life", "expected"), [
    (7, 36, MET),        # 5 x 36 h = 7.5 days
    (8, 36, NOT_MET),
    (8, None, UNKNOWN),  # no half-life: no length at all
])
def test_five_half_lives_alone(days_before, half_life, expected) -> None:
    attributes = {"half_life": half_life} if half_life is not None else {}
    tl = Timeline().occ("prior_drug", -days_before - 10, end=-days_before, **attributes)
    assert _one_length("E2", tl) is expected


def test_one_length_is_a_data_window_in_every_output() -> None:
    import dsl
    from dsl.formatter import format_source
    from protocol.serialize import to_data
    from render.export import export_usdm
    from render.prose import Prose

    t = dsl.parse(WASHOUT_TABLE)
    text = format_source(dsl.parse_source(WASHOUT_TABLE, "t.trial"))
    assert "any con_med within washouts[drug] before randomization" in text
    assert "any prior_drug within 5 x half_life before randomization" in text
    assert dsl.parse(text) == t
    e1, e2 = t.eligibility.exclusion
    assert Prose(t).generated(e1) == (
        "At least one recorded concomitant medication within the washout period before "
        "enrollment for its drug before randomization.")
    assert Prose(t).generated(e2) == (
        "At least one recorded prior drug within 5 × its recorded half life before "
        "randomization.")
    assert to_data(e1)["expr"]["selection"]["temporal"] == {
        "node": "WithinLongest", "lengths": [
            {"node": "DataDuration", "factor": 1, "attribute": "drug", "table": "washouts"}],
        "direction": "before", "anchor": {"node": "NamedAnchor", "name": "randomization"}}
    import json
    items = export_usdm(t)["study"]["versions"][0]["eligibilityCriterionItems"]
    (usdm,) = [json.loads(x["valueString"]) for i in items if i["name"] == "E1"
               for x in i["extensionAttributes"] if x["url"].endswith("criterion-expression")]
    assert usdm["selection"]["temporal"]["lengths"] == [
        {"type": "DataDuration", "factor": 1, "attribute": "drug", "table": "washouts"}]


def test_a_fixed_length_alone_is_not_a_data_window() -> None:
    with pytest.raises(ValueError, match="needs a length from the data"):
        ex.WithinLongest((NINETY,), ex.Direction.BEFORE, RANDO)
    with pytest.raises(ValueError):
        ex.WithinLongest((), ex.Direction.BEFORE, RANDO)


def test_checks_of_a_single_length() -> None:
    import dsl
    from protocol.check import check

    bad = WASHOUT_TABLE.replace("within washouts[drug]", "within washout_days[drug]")
    errors = [d.message for d in check(dsl.parse(bad)) if d.is_error]
    assert any("washout_days" in m for m in errors), errors
    bad = WASHOUT_TABLE.replace("within washouts[drug]", "within washouts[agent]")
    errors = [d.message for d in check(dsl.parse(bad)) if d.is_error]
    assert any("'con_med' has no attribute 'agent'" in m for m in errors), errors


def test_only_the_listed_drugs_with_is_present() -> None:
    import dsl

    src = WASHOUT_TABLE.replace(
        "any con_med within washouts[drug] before randomization",
        "any con_med within washouts[drug] before randomization where washouts[drug] is present")
    t = dsl.parse(src)

    def verdict(drug: str) -> CriterionVerdict:
        tl = Timeline().occ("con_med", -40, end=-10, drug=drug)
        (c,) = [c for c in evaluate(t, tl.patient(), AS_OF).eligibility.criteria
                if c.id == "E1"]
        return c.verdict

    assert verdict("aspirin") is NOT_MET   # not on the list: allowed
    assert verdict("felbamate") is MET     # 10 days before: inside its month
    assert verdict("meclizine") is NOT_MET  # outside its 3 days


def test_an_unlisted_drug_says_which_record_and_why() -> None:
    import dsl

    t = dsl.parse(WASHOUT_TABLE)
    tl = Timeline().occ("con_med", -40, end=-10, drug="aspirin")
    (c,) = [c for c in evaluate(t, tl.patient(), AS_OF).eligibility.criteria if c.id == "E1"]
    assert c.evidence[0].explanation == (
        "any con_med within washouts[drug] before randomization: unknown (con_med 2023-12-01 to "
        "2023-12-31: washouts has no duration for drug 'aspirin': it may or may not be within "
        "washouts[drug] before randomization (randomization 2024-01-10))")
