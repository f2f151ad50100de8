"""Computed values, definitions, ages at an anchor, panels, normal ranges, tables and attribute
units: each construct's three verdicts on hand-built timelines, with the evidence."""

from __future__ import annotations

import datetime

from derivedkit import protocol, result, run, timeline
from enginekit import D0, day

from engine.logic import FALSE, TRUE, UNKNOWN
from engine.patient import RecordRef

BMI = ("I1 \"BMI 18.5 to 32 kg/m2\": latest weight within 28 days before randomization / "
       "(latest height within 1 year before randomization) ^ 2 in 18.5..32 kg/m2")


# ---- arithmetic ------------------------------------------------------------------------------


def test_a_computed_value_met_not_met_and_unknown() -> None:
    trial = protocol(BMI)
    met = timeline().obs("weight", -5, 70, "kg").obs("height", -100, 175, "cm")
    heavy = timeline().obs("weight", -5, 110, "kg").obs("height", -100, 175, "cm")
    no_height = timeline().obs("weight", -5, 70, "kg")
    assert result(trial, met).truth is TRUE
    assert result(trial, heavy).truth is FALSE
    unknown = result(trial, no_height)
    assert unknown.truth is UNKNOWN
    assert "no height within 1 year before randomization" in unknown.evidence[0].explanation


def test_the_evidence_lists_every_input_with_value_date_and_record() -> None:
    tl = timeline().obs("weight", -5, 70, "kg").obs("height", -100, 175, "cm")
    e = result(protocol(BMI), tl).evidence[0]
    assert e.value == 70 / 1.75 ** 2 and e.unit == "kg/m2"
    # the value is known from its latest input's day
    assert e.date == day(-5)
    assert [(i.subject, i.value, i.unit, i.date, i.ref) for i in e.inputs] == [
        ("latest weight within 28 days before randomization", 70, "kg", day(-5),
         RecordRef("test", "row 3")),
        ("latest height within 1 year before randomization", 175, "cm", day(-100),
         RecordRef("test", "row 4")),
    ]
    assert "22.8571 kg/m2 on 2024-01-05 in 18.5..32 kg/m2: true" in e.explanation


def test_an_unknown_input_keeps_the_known_ones_in_the_evidence() -> None:
    tl = timeline().obs("weight", -5, 70, "kg")
    e = result(protocol(BMI), tl).evidence[0]
    assert [i.subject for i in e.inputs] == ["latest weight within 28 days before randomization"]


def test_inputs_in_other_units_give_the_same_value() -> None:
    trial = protocol(BMI)
    kg = timeline().obs("weight", -5, 70, "kg").obs("height", -100, 175, "cm")
    grams = timeline().obs("weight", -5, 70000, "g").obs("height", -100, 1.75, "m")
    a = result(trial, kg).evidence[0].value
    b = result(trial, grams).evidence[0].value
    assert isinstance(a, float) and isinstance(b, float)
    assert abs(a - b) < 1e-9


def test_an_unconvertible_input_is_an_error_naming_the_record_never_a_pass() -> None:
    trial = protocol("I1: latest weight + 1 kg > 50 kg")
    tl = timeline().obs("weight", -5, 70, "mmol/L")
    r = run(trial, tl)
    c = r.eligibility.criterion("I1")
    assert c is not None and c.truth is UNKNOWN
    assert c.evidence[0].error is not None
    assert any("cannot convert" in str(e) for e in r.errors)


def test_division_by_zero_and_log_of_zero_are_errors() -> None:
    trial = protocol("I1: latest weight / (latest height - 175 cm) > 1 kg/cm\n"
                     "I2: ln(latest weight / 1 kg) > 1")
    tl = timeline().obs("weight", -5, 0, "kg").obs("height", -5, 175, "cm")
    r = run(trial, tl)
    for cid, words in (("I1", "division by zero"), ("I2", "ln of 0 is undefined")):
        c = r.eligibility.criterion(cid)
        assert c is not None and c.truth is UNKNOWN
        assert words in (c.evidence[0].error or "")


def test_a_false_operand_settles_and_past_an_unknown_computed_value() -> None:
    trial = protocol(BMI.replace("in 18.5..32 kg/m2", "in 18.5..32 kg/m2 and latest alt < 5 U/L"))
    tl = timeline().obs("alt", -2, 30, "U/L")
    c = result(trial, tl)
    assert c.truth is FALSE
    assert [e.subject for e in c.evidence] == ["latest alt"]


def test_min_max_abs_and_units_across_inputs() -> None:
    trial = protocol("I1: max(latest weight, 50000 g) >= 60 kg\n"
                     "I2: min(latest weight, 50 kg) <= 50 kg\n"
                     "I3: abs(latest weight - 80 kg) < 5 kg")
    tl = timeline().obs("weight", -5, 70, "kg")
    r = run(trial, tl)
    verdicts = {c.id: c.truth for c in r.eligibility.criteria}
    assert verdicts == {"I1": TRUE, "I2": TRUE, "I3": FALSE}


def test_a_ratio_to_another_value() -> None:
    """`total daily insulin dose > 1.2 U/kg`: a dose divided by a weight, compared in U/kg."""
    trial = protocol("I1: latest insulin_dose / latest weight > 1.2 U/kg")
    assert result(trial, timeline().obs("insulin_dose", -1, 100, "U")
                  .obs("weight", -1, 70, "kg")).truth is TRUE
    assert result(trial, timeline().obs("insulin_dose", -1, 70, "U")
                  .obs("weight", -1, 70, "kg")).truth is FALSE


def test_a_formula_without_the_patients_sex_is_unknown() -> None:
    trial = protocol("I1: ckd_epi_2021(latest creatinine) >= 45 `mL/min/{1.73_m2}`")
    tl = timeline().obs("creatinine", -2, 80, "umol/L")
    c = result(trial, tl, sex=None)
    assert c.truth is UNKNOWN and "sex is not recorded" in c.evidence[0].explanation


# ---- age at an anchor ------------------------------------------------------------------------


def test_age_at_consent() -> None:
    trial = protocol("I1 \"Aged 18 or over at the time of signing informed consent\": "
                     "age at consent >= 18 years")
    # 18 on 2024-01-05: consent on day -10 (2023-12-31) is before the birthday
    birth = datetime.date(2006, 1, 5)
    assert result(trial, timeline(), birth=birth).truth is FALSE
    assert result(trial, timeline(), birth=datetime.date(2005, 12, 31)).truth is TRUE
    # at randomization the first patient is 18; at consent not: the anchor matters
    at_rando = protocol("I1: age >= 18 years")
    assert result(at_rando, timeline(), birth=birth).truth is TRUE


def test_age_at_an_anchor_without_a_date_or_a_birth_date_is_unknown() -> None:
    trial = protocol("I1: age at consent >= 18 years")
    from enginekit import Timeline

    no_consent = Timeline(0)
    c = result(trial, no_consent)
    assert c.truth is UNKNOWN and "no date for consent" in c.evidence[0].explanation
    c = result(trial, timeline(), birth=None)
    assert c.truth is UNKNOWN


# ---- definitions -----------------------------------------------------------------------------

LIVER = ('define adequate_liver_function "Adequate liver function" =\n'
         "    all of latest (alt, ast) within 14 days before randomization <= 2.5 x ULN\n")


def test_a_definition_used_in_a_criterion_and_a_stopping_rule() -> None:
    # without a window, so that the rule reads each new result
    liver = LIVER.replace(" within 14 days before randomization", "")
    trial = protocol("I1: adequate_liver_function", liver,
                     stopping="    patient liver: withdraw when not adequate_liver_function")
    good = timeline().obs("alt", -2, 30, "U/L", 7, 40).obs("ast", -2, 30, "U/L", 7, 40)
    bad = timeline().obs("alt", -2, 30, "U/L", 7, 40).obs("ast", -2, 150, "U/L", 7, 40)
    missing = timeline().obs("alt", -2, 30, "U/L", 7, 40)
    c = result(trial, good)
    assert c.truth is TRUE
    assert c.evidence[0].explanation == "adequate_liver_function: true"
    assert {e.subject for e in c.evidence[1:]} == {"latest alt", "latest ast"}
    assert result(trial, bad).truth is FALSE
    assert result(trial, missing).truth is UNKNOWN
    # the rule, evaluated on the data's dates, fires on the day AST is high
    later = good.obs("alt", 20, 30, "U/L", 7, 40).obs("ast", 20, 200, "U/L", 7, 40)
    stops = run(trial, later).stopping
    assert [(s.rule, s.date) for s in stops] == [("liver", day(20))]


def test_a_value_definition() -> None:
    trial = protocol("I1: bmi_value in 18.5..32 kg/m2",
                     "define bmi_value = bmi(latest weight, latest height)\n")
    c = result(trial, timeline().obs("weight", -5, 70, "kg").obs("height", -5, 175, "cm"))
    assert c.truth is TRUE and c.evidence[0].subject == "bmi_value"
    assert len(c.evidence[0].inputs) == 2


# ---- panels and normal ranges ----------------------------------------------------------------


def test_panels_all_of_and_any_of() -> None:
    trial = protocol("I1: all of latest (alt, ast) <= 2.5 x ULN\n"
                     "I2: any of latest (alt, ast) > 1.5 x ULN")
    both_low = timeline().obs("alt", -2, 30, "U/L", 7, 40).obs("ast", -2, 30, "U/L", 7, 40)
    one_high = timeline().obs("alt", -2, 30, "U/L", 7, 40).obs("ast", -2, 70, "U/L", 7, 40)
    one_missing = timeline().obs("alt", -2, 30, "U/L", 7, 40)
    r = run(trial, both_low)
    assert [c.truth for c in r.eligibility.criteria] == [TRUE, FALSE]
    r = run(trial, one_high)
    assert [c.truth for c in r.eligibility.criteria] == [TRUE, TRUE]
    r = run(trial, one_missing)
    assert [c.truth for c in r.eligibility.criteria] == [UNKNOWN, UNKNOWN]


def test_within_normal_range_uses_the_records_own_range() -> None:
    trial = protocol("I1: all of latest (alt, ast) is within normal range\n"
                     "I2: latest alt is outside normal range")
    normal = timeline().obs("alt", -2, 30, "U/L", 7, 40).obs("ast", -2, 7, "U/L", 7, 40)
    high = timeline().obs("alt", -2, 41, "U/L", 7, 40).obs("ast", -2, 20, "U/L", 7, 40)
    no_range = timeline().obs("alt", -2, 30, "U/L").obs("ast", -2, 20, "U/L", 7, 40)
    upper_only = timeline().obs("alt", -2, 30, "U/L", None, 40).obs("ast", -2, 20, "U/L", 7, 40)
    r = run(trial, normal)
    assert [c.truth for c in r.eligibility.criteria] == [TRUE, FALSE]
    r = run(trial, high)
    assert [c.truth for c in r.eligibility.criteria] == [FALSE, TRUE]
    c = result(trial, no_range)
    assert c.truth is UNKNOWN and "has no reference range" in c.evidence[0].explanation
    assert result(trial, upper_only).truth is TRUE
    e = result(trial, high).evidence[0]
    assert e.explanation == ("latest alt is within normal range: 41 U/L on 2024-01-08 "
                             "(range 7-40 U/L): false")
    assert e.reference_range == (7, 40)


# ---- tables and attribute units --------------------------------------------------------------

TABLE = ('table max_daily_dose "Maximum approved daily dose" {\n'
         '    "glimepiride": 8 mg\n    "glipizide": 40 mg\n  }\n')


def test_a_lookup_table_inside_where() -> None:
    trial = protocol("I1 \"Sulfonylurea at no more than half the maximum approved dose\": "
                     "not any sulfonylurea within 30 days before randomization "
                     "where daily_dose > 0.5 * max_daily_dose[drug]", TABLE)
    ok = timeline().occ("sulfonylurea", -5, drug="Glimepiride", daily_dose=4)
    high = timeline().occ("sulfonylurea", -5, drug="glipizide", daily_dose=30)
    unlisted = timeline().occ("sulfonylurea", -5, drug="glyburide", daily_dose=5)
    assert result(trial, ok).truth is TRUE
    assert result(trial, high).truth is FALSE
    assert result(trial, unlisted).truth is UNKNOWN


def test_a_lookup_outside_where_is_an_input_of_the_value() -> None:
    trial = protocol('I1: latest weight * 1 mg/kg <= max_daily_dose["glimepiride"]', TABLE)
    c = result(trial, timeline().obs("weight", -5, 7, "kg"))
    assert c.truth is TRUE
    assert [i.subject for i in c.evidence[0].inputs] == ["latest weight",
                                                         'max_daily_dose["glimepiride"]']


def test_attribute_units_convert_or_are_unknown() -> None:
    trial = protocol("I1: any blood_donation within 3 months before randomization "
                     "where volume >= 0.4 L")
    assert result(trial, timeline().occ("blood_donation", -30, volume=450)).truth is TRUE
    assert result(trial, timeline().occ("blood_donation", -30, volume=300)).truth is FALSE
    assert result(trial, timeline().occ("blood_donation", -30, volume="0.45 L")).truth is TRUE
    # recorded without the volume: it may match, so unknown
    assert result(trial, timeline().occ("blood_donation", -30, centre="A")).truth is UNKNOWN
    # none recorded: false
    assert result(trial, timeline()).truth is FALSE


def test_the_reference_day_is_d0() -> None:
    assert day(0) == D0


def test_a_sum_of_an_attribute_with_a_unit_and_as_an_input() -> None:
    """`sum(volume of ...)` (issue 13, item 6) reads the declared unit of the attribute, so it
    compares with a threshold in another unit, and it is an input like any other value."""
    trial = protocol("I1: sum(volume of blood_donation within 12 months before randomization) "
                     ">= 0.8 L\n"
                     "I2: sum(volume of blood_donation within 12 months before randomization) "
                     "/ latest weight > 10 mL/kg")
    tl = (timeline().occ("blood_donation", -200, volume=450).occ("blood_donation", -30,
                                                                 volume=400)
          .obs("weight", -5, 70, "kg"))
    r = run(trial, tl)
    i1, i2 = (r.eligibility.criterion(c) for c in ("I1", "I2"))
    assert i1 is not None and i1.truth is TRUE
    assert i2 is not None and i2.truth is TRUE and i2.evidence[0].value == 850 / 70
    # the sum's own inputs are the records it adds up: the inputs are exactly those and the weight
    assert [(e.value, e.unit) for e in i2.evidence[0].inputs] == [
        (450, "mL"), (400, "mL"), (70, "kg")]
