"""Expressions and rules in protocol sentences, and the text-vs-expression number check."""

from __future__ import annotations

from conftest import EXAMPLES

import dsl
from protocol.eligibility import Criterion
from protocol.expr import (
    Aggregate,
    AggregateFn,
    Compare,
    CompareOp,
    Count,
    Direction,
    Exists,
    InRange,
    Limit,
    NamedAnchor,
    RelativeLimit,
    Selection,
    Within,
)
from protocol.timing import Duration, TimeUnit
from protocol.vocab import CriterionCategory
from render.prose import Prose
from render.wording import check_text_vs_expr

NCT = dsl.parse_file(EXAMPLES / "nct06802718" / "protocol.trial")
RAND = NamedAnchor("randomization")


def _alt(op: CompareOp, multiple: float, days: float = 14) -> Compare:
    sel = Selection("alt", Within(Duration(days, TimeUnit.DAY), Direction.BEFORE, RAND))
    return Compare(op, Aggregate(AggregateFn.LATEST, sel), RelativeLimit(multiple, Limit.ULN))


def _crit(text: str, expr) -> Criterion:
    return Criterion("I9", CriterionCategory.INCLUSION, expr, text)


def test_lab_threshold_sentence():
    p = Prose(NCT)
    assert p.expr(_alt(CompareOp.LE, 2.5)) == "ALT ≤ 2.5 × ULN within 14 days before randomization"


def test_criteria_of_the_seed_read_as_sentences():
    p = Prose(NCT)
    by_id = {c.id: p.generated(c) for c in NCT.eligibility.criteria}
    assert by_id["I6"] == "Creatinine ≤ 1.5 × ULN within 14 days before randomization."
    assert by_id["E9"].startswith("At least one recorded participation in another clinical trial")
    assert "within 1 month before randomization" in by_id["E9"]
    assert by_id["I4"] == "ECOG performance status 0 to 2 within 28 days before randomization."


def test_stopping_rules_read_as_protocols_state_them():
    p = Prose(NCT)
    rules = [p.rule(r) for r in NCT.stopping.rules]
    assert rules[0] == (
        "Discontinue Polyethylene glycol interferon alpha-2b if an adverse event of grade ≥ 3 "
        "related to Polyethylene glycol interferon alpha-2b lasts more than 14 days."
    )
    assert rules[1].startswith("Withdraw the participant from the trial if molecular MRD rises by more than 1 log")
    assert "O'Brien–Fleming" in rules[2] and "50%" in rules[2]
    assert "Beta(1, 1)" in rules[3] and "20%" in rules[3] and "90%" in rules[3]


def test_count_at_least_one():
    e = Compare(CompareOp.GE, Count(Selection("other_trial", None)), _q(1))
    assert Prose(NCT).expr(e) == "at least one recorded participation in another clinical trial"


def _q(v: float):
    from protocol.expr import QuantityLiteral
    from protocol.units import Quantity

    return QuantityLiteral(Quantity(v))


# ---- the check ---------------------------------------------------------------------------------


def test_planted_mismatch_is_flagged():
    c = _crit("ALT ≤ 2.5 x ULN", _alt(CompareOp.LE, 3))
    findings = check_text_vs_expr(c)
    assert len(findings) == 1
    assert "2.5 x ULN" in findings[0].message and "3 × ULN" in findings[0].message


def test_matching_text_is_clean_in_every_spelling():
    for text in (
        "ALT ≤ 2.5 x ULN",
        "ALT <= 2.5 × ULN",
        "ALT at most 2.5 times the upper limit of normal",
        "ALT no more than 2.5 times ULN",
    ):
        assert check_text_vs_expr(_crit(text, _alt(CompareOp.LE, 2.5))) == [], text


def test_comparison_mismatch_is_flagged():
    findings = check_text_vs_expr(_crit("ALT ≤ 2.5 x ULN", _alt(CompareOp.LT, 2.5)))
    assert len(findings) == 1 and "≤" in findings[0].message


def test_ranges_and_words():
    count = Count(Selection("induction_cycle", None))
    assert check_text_vs_expr(_crit("after 1-2 cycles", InRange(count, 1, 2))) == []
    assert check_text_vs_expr(_crit("after 1 to 2 cycles", InRange(count, 1, 2))) == []
    bad = check_text_vs_expr(_crit("after 1-3 cycles", InRange(count, 1, 2)))
    assert len(bad) == 1 and "1-3" in bad[0].message


def test_durations_in_words_and_days():
    sel = Selection("other_trial", Within(Duration(1, TimeUnit.MONTH), Direction.BEFORE, RAND))
    e = Exists(sel)
    assert check_text_vs_expr(_crit("other trials within one month", e)) == []
    assert check_text_vs_expr(_crit("other trials within 30 days", e)) == []
    bad = check_text_vs_expr(_crit("other trials within two months", e))
    assert len(bad) == 1


def test_examples_have_no_findings():
    for name in ("nct06802718", "cdiscpilot01"):
        trial = dsl.parse_file(EXAMPLES / name / "protocol.trial")
        for c in trial.eligibility.criteria:
            assert check_text_vs_expr(c, trial.calendar) == [], (name, c.id)


COMPUTED = dsl.parse("""trial T {
  data {
    vital weight "Body weight" unit kg
    vital height "Height" unit cm
    lab creatinine "Serum creatinine" unit umol/L molar_mass 113.12
    lab alt "Alanine aminotransferase" unit U/L
    lab ast "Aspartate aminotransferase" unit U/L
    event sulfonylurea "Sulfonylurea" attributes drug, daily_dose in mg
  }
  table max_dose "Maximum approved daily dose" {
    "glimepiride": 8 mg
  }
  define liver_ok "Adequate liver function" = all of latest (alt, ast) <= 2.5 x ULN
  inclusion {
    I1: bmi(latest weight within 28 days before randomization, latest height) in 18.5..32 kg/m2
    I2: cockcroft_gault(creatinine = latest creatinine, weight = latest weight) >= 60 mL/min
    I3: age at consent >= 18 years
    I4: liver_ok
    I5: any of latest (alt, ast) within 14 days before randomization > 1.5 x ULN
    I6: all of latest (alt, ast) is within normal range
    I7: not any sulfonylurea where daily_dose > 0.5 * max_dose[drug]
    I8: latest weight / (latest height) ^ 2 > 25 kg/m2
    I9: max(latest weight, 50 kg) - 3 kg > 1 kg
  }
}""")


def test_computed_values_read_in_plain_english_with_formulas_named_and_cited():
    prose = Prose(COMPUTED)
    said = {c.id: prose.generated(c) for c in COMPUTED.eligibility.criteria}
    assert said == {
        "I1": "Body mass index [WHO 2000] from body weight (within 28 days before "
              "randomization) and height is 18.5 to 32 kg/m².",
        "I2": "Creatinine clearance (Cockcroft-Gault) [Cockcroft 1976] from serum creatinine "
              "and body weight ≥ 60 mL/min.",
        "I3": "Age at consent ≥ 18 years.",
        "I4": "Adequate liver function (see Definitions).",
        "I5": "ALT or AST > 1.5 × ULN within 14 days before randomization.",
        "I6": "ALT and AST all within the normal range.",
        "I7": "No recorded sulfonylurea with daily dose > 0.5 × the maximum approved daily "
              "dose for drug.",
        "I8": "Body weight / height² > 25 kg/m².",
        "I9": "(The larger of body weight and 50 kg) − 3 kg > 1 kg.",
    }
