"""Windows the data give: `within 90 days or 5 x half_life whichever is longer before X`.

Each record's window is the longest of its lengths; a record the fixed length already places
inside is in whatever its data, and a length it lacks the data for makes it unknown.
"""

from __future__ import annotations

import datetime

import attrs
import pytest
from enginekit import DATA, RANDO, Timeline, cmp, count, exclusion, latest, q, trial

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


def stopped(days_before: int, half_life: float | None) -> Timeline:
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
