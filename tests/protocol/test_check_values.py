"""`check` on computed values, definitions, tables, panels and attribute units: each mistake
is an error at its place, with a hint where one helps."""

from __future__ import annotations

import pytest

import dsl
from protocol.check import check

HEAD = """trial T {
  data {
    vital weight "Body weight" unit kg
    vital height "Height" unit cm
    lab creatinine "Creatinine" unit umol/L molar_mass 113.12
    lab alt "ALT" unit U/L
    lab ph "Arterial pH" unit `[pH]`
    lab inr "INR" unit 1
    vital sbp "Systolic blood pressure" unit `mm[Hg]`
    event blood_donation "Blood donation" attributes volume in mL, centre
    event infusion "Infusion" attributes speed
    event sulfonylurea "Sulfonylurea" attributes drug, daily_dose in mg
  }
  table max_dose "Maximum daily dose" {
    "glimepiride": 8 mg
  }
  eligibility assessed at randomization
  schedule anchored at randomization {
    anchor randomization "Randomization"
    anchor consent "Consent"
  }
"""


def errors(body: str) -> list[tuple[int, int, str, str | None]]:
    """(line, column, message, hint) of each error, the body's first line being line 1."""
    trial = dsl.parse(HEAD + body + "\n}\n", "t.trial")
    offset = HEAD.count("\n")
    return [(d.span.line - offset if d.span else 0, d.span.column if d.span else 0, d.message,
             d.hint) for d in check(trial) if d.is_error]


def messages(body: str) -> list[str]:
    return [m for _, _, m, _ in errors(body)]


def test_a_clean_protocol_with_every_construct() -> None:
    assert errors("""
  define bmi_value "Body mass index" = latest weight / (latest height) ^ 2
  define liver_ok = all of latest (alt, creatinine) <= 2.5 x ULN
  inclusion {
    I1: bmi_value in 18.5..32 kg/m2
    I2: cockcroft_gault(creatinine = latest creatinine, weight = latest weight) >= 60 mL/min
    I3: age at consent >= 18 years
    I4: liver_ok and all of latest (alt, creatinine) is within normal range
    I5: any blood_donation where volume >= 0.4 L
    I6: not any sulfonylurea where daily_dose > 0.5 * max_dose[drug]
    I7: latest ph in 7.35..7.45 and meld(1 mg/dL, latest inr, latest creatinine) < 15
    I8: ln(latest weight / 1 kg) > 3 and max(latest weight, 50 kg) >= 60 kg
  }""") == []


def test_adding_values_of_different_dimensions_is_located() -> None:
    found = errors("  inclusion {\n    I1: latest weight + latest height > 1 kg\n  }")
    line, col, message, hint = found[0]
    assert (line, col) == (2, 9)
    assert message == ("cannot add a value in kg and a value in cm: the units measure "
                       "different things ([mass] and [length])")
    assert hint == "both sides of + and - need the same dimension"


def test_comparing_a_computed_value_with_the_wrong_unit() -> None:
    assert messages("  inclusion {\n    I1: latest weight / (latest height) ^ 2 > 60 mL/min\n  }") \
        == ["cannot compare a value in (kg)/((cm).(cm)) with a value in mL/min: the units "
            "measure different things"]
    assert messages("  inclusion {\n    I1: bmi(latest weight, latest height) > 25\n  }") \
        == ["bmi() is a value in kg/m2; the threshold needs a unit"]


def test_logs_and_fractional_powers_need_pure_numbers() -> None:
    found = errors("  inclusion {\n    I1: ln(latest weight) > 3\n"
                   "    I2: (latest weight) ^ 0.5 > 3\n  }")
    assert [(m, h) for _, _, m, h in found] == [
        ("ln() needs a pure number, not a value in kg", "divide by a unit first, e.g. "
         "'ln(... / 1 kg)'"),
        ("a fractional power needs a pure number, not a value in kg",
         "divide by a unit first, e.g. '(... / 1 kg) ^ 0.5'"),
    ]


def test_unknown_functions_and_formula_inputs() -> None:
    found = errors("  inclusion {\n"
                   "    I1: ckd_epi(latest creatinine) > 60 mL/min\n"
                   "    I2: cockcroft_gault(weight = latest weight) > 60 mL/min\n"
                   "    I3: cockcroft_gault(creatinine = latest creatinine, weigth = latest weight) > 60 mL/min\n"
                   "    I4: cockcroft_gault(creatinine = latest weight, weight = latest weight) > 60 mL/min\n"
                   "  }")
    assert [(line, m, h) for line, _, m, h in found] == [
        (2, "unknown function 'ckd_epi'", "did you mean 'ckd_epi_2021'?"),
        (3, "cockcroft_gault() needs its input 'creatinine' (serum creatinine)",
         "e.g. 'cockcroft_gault(creatinine = latest ... )'"),
        (4, "cockcroft_gault() needs its input 'weight' (body weight)",
         "e.g. 'cockcroft_gault(weight = latest ... )'"),
        (4, "cockcroft_gault() has no input 'weigth'", "did you mean 'weight'?"),
        (5, "cockcroft_gault(): 'creatinine' (serum creatinine) is [mass] / [length] ** 3, but "
            "is given a value in kg", "e.g. a value in mg/dL"),
    ]


def test_definitions_cycles_clashes_and_misspellings() -> None:
    found = messages("  define a = b and latest alt < 40 U/L\n  define b = a\n"
                     "  define weight = latest alt < 3 U/L\n"
                     "  inclusion {\n    I1: a\n    I2: bb\n  }")
    assert "definitions refer to each other in a cycle: a -> b -> a" in found
    assert "definition 'weight' has the name of a data item" in found
    assert "unknown name 'bb'" in found
    hints = [h for _, _, m, h in errors("  define liver_ok = latest alt < 40 U/L\n"
                                        "  inclusion {\n    I1: livr_ok\n  }")]
    assert hints == ["did you mean 'liver_ok'?"]


def test_a_value_is_not_a_condition() -> None:
    assert messages("  define w = latest weight * 2\n  inclusion {\n    I1: w\n"
                    "    I2: latest weight / 2\n  }") == ["this is a value, not a condition"] * 2


def test_tables() -> None:
    found = messages("""  table t2 {
    "a": 8 mg
    "b": 4 mL
  }
  inclusion {
    I1: any sulfonylurea where daily_dose > max_dos[drug]
    I2: any sulfonylurea where daily_dose > max_dose[3]
  }""")
    assert found == ['table \'t2\': 4 mL is not in the dimension of 8 mg',
                     "undefined table 'max_dos'", "a table is looked up by text, not by a pure "
                     "number"]


def test_attribute_units() -> None:
    found = errors("  inclusion {\n"
                   "    I1: any infusion where speed >= 100 mL\n"
                   "    I2: any blood_donation where volume >= 400 mg\n"
                   "  }")
    assert [(line, m, h) for line, _, m, h in found] == [
        (2, "attribute 'speed' of 'infusion' has no unit, but is compared with 100 mL",
         "declare its unit: 'attributes speed in mL'"),
        (3, "cannot compare 'volume' (mL) with mg: the units measure different things", None),
    ]


def test_panels_and_normal_ranges() -> None:
    assert messages("  inclusion {\n"
                    "    I1: all of latest (alt, creatinine)\n"
                    "    I2: all of latest (alt, blood_donation) < 3 x ULN\n"
                    "    I3: latest weight is within normal range\n"
                    "    I4: all of latest (alt, creatinine) < 40 mL\n"
                    "  }") == [
        "a panel is compared or tested as a whole",
        "this is a value, not a condition",
        "a panel holds results with values; 'blood_donation' is an event",
        "'3 x ULN' needs a lab with a reference range; 'blood_donation' is a event",
        "'is within normal range' needs a lab with a reference range; 'weight' is a vital",
        "cannot compare 'alt' (U/L) with mL: the units measure different things",
        "cannot compare 'creatinine' (umol/L) with mL: the units measure different things",
    ]


def test_a_range_in_a_unit() -> None:
    assert messages("  inclusion {\n    I1: latest weight in 50..100 cm\n"
                    "    I2: latest weight in 50..100 `[lb_av]`\n  }") == [
        "cannot compare 'weight' (kg) with a range in cm: the units measure different things"]


def test_ph_is_a_ucum_unit_and_compares_only_with_ph() -> None:
    assert messages("  inclusion {\n    I1: latest ph > 7.3 `[pH]`\n  }") == []
    assert messages("  inclusion {\n    I1: latest ph > 7.3 mmol/L\n  }") == [
        "cannot compare 'ph' ([pH]) with mmol/L: the units measure different things"]


@pytest.mark.parametrize("bad", ["unit 2", "unit 1.5"])
def test_a_number_is_not_a_unit(bad: str) -> None:
    from protocol.errors import ProtocolSemanticError

    with pytest.raises(ProtocolSemanticError) as info:
        dsl.parse(f'trial T {{\n  data {{\n    lab y "Y" {bad}\n  }}\n}}\n')
    assert "is not a unit" in str(info.value)
