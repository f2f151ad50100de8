"""The built-in clinical formulas against worked examples, through the engine (units converted
as the data carry them) and directly.

Where a public worked example was found, the test cites it; otherwise the expected value is
worked by hand from the published equation, step by step in the test, and the test says so.
"""

from __future__ import annotations

import datetime
import math

import pytest
from derivedkit import protocol, result, timeline

from engine.logic import TRUE
from protocol.formulas import FORMULAS, grade_points

BORN_55 = datetime.date(1968, 6, 15)  # 55 on D0 (2024-01-10)


def compute(name: str, **inputs: float | str | bool) -> float:
    return FORMULAS[name].compute(inputs)


def evidence_value(trial_text: str, tl, **kw) -> float:
    c = result(protocol(trial_text), tl, **kw)
    value = c.evidence[0].value
    assert isinstance(value, float), c.evidence
    return value


# ---- BMI -------------------------------------------------------------------------------------


def test_bmi_cdc_metric_example() -> None:
    """CDC, "About Adult BMI" (cdc.gov, Calculating BMI using the metric system): weight 68 kg,
    height 165 cm: 68 / 1.65^2 = 24.98."""
    assert compute("bmi", weight=68, height=1.65) == pytest.approx(24.98, abs=0.005)
    tl = timeline().obs("weight", -2, 68, "kg").obs("height", -2, 165, "cm")
    value = evidence_value("I1: bmi(latest weight, latest height) >= 18.5 kg/m2", tl)
    assert value == pytest.approx(24.98, abs=0.005)


def test_bmi_cdc_pounds_and_inches_example() -> None:
    """CDC's English-units example: 150 lb, 65 in: 150 / 65^2 x 703 = 24.96. The engine
    converts the UCUM pounds and inches exactly instead of using 703."""
    tl = timeline().obs("weight", -2, 150, "[lb_av]").obs("height", -2, 65, "[in_i]")
    value = evidence_value("I1: bmi(latest weight, latest height) >= 18.5 kg/m2", tl)
    assert value == pytest.approx(24.96, abs=0.005)


# ---- body surface area -----------------------------------------------------------------------


def test_mosteller_example() -> None:
    """Mosteller, N Engl J Med 1987;317:1098. Worked example published by medicalequations.com
    (Body surface area, "Mosteller example for a 170 cm, 70 kg adult"): about 1.818 m2."""
    assert compute("bsa_mosteller", weight=70, height=170) == pytest.approx(1.818, abs=0.0005)
    tl = timeline().obs("weight", -2, 70, "kg").obs("height", -2, 1.7, "m")
    value = evidence_value("I1: bsa_mosteller(latest weight, latest height) > 1 m2", tl)
    assert value == pytest.approx(1.818, abs=0.0005)


def test_dubois_by_hand() -> None:
    """Du Bois & Du Bois, Arch Intern Med 1916;17:863-71: 0.007184 x W^0.425 x H^0.725.
    By hand for 70 kg, 170 cm: 70^0.425 = 6.0837, 170^0.725 = 41.407, product x 0.007184 =
    1.8097 m2 (no public worked example was found; the equation is the published one)."""
    assert 70 ** 0.425 == pytest.approx(6.0837, abs=1e-4)
    assert 170 ** 0.725 == pytest.approx(41.407, abs=1e-3)
    assert compute("bsa_dubois", weight=70, height=170) == pytest.approx(1.8097, abs=1e-4)


# ---- kidney function -------------------------------------------------------------------------


def test_cockcroft_gault_published_examples() -> None:
    """Cockcroft & Gault, Nephron 1976;16:31-41. Worked examples published by
    superglobalcalculator.com (Creatinine clearance formula): male, 65 years, 70 kg, SCr
    1.4 mg/dL: 52.1 mL/min; female, 45 years, 60 kg, SCr 0.9 mg/dL: 74.8 mL/min."""
    assert compute("cockcroft_gault", age=65, weight=70, creatinine=1.4, sex="male") \
        == pytest.approx(52.1, abs=0.05)
    assert compute("cockcroft_gault", age=45, weight=60, creatinine=0.9, sex="female") \
        == pytest.approx(74.8, abs=0.05)


def test_cockcroft_gault_through_the_engine_with_creatinine_in_umol_per_l() -> None:
    """The first example again, the creatinine reported in umol/L (1.4 mg/dL = 123.8 umol/L
    with creatinine's molar mass 113.12 g/mol) and the age from the birth date."""
    umol = 1.4 * 10 / 113.12 * 1000  # mg/dL -> umol/L
    tl = timeline().obs("weight", -2, 70, "kg").obs("creatinine", -2, umol, "umol/L")
    text = ("I1: cockcroft_gault(creatinine = latest creatinine within 28 days before "
            "randomization, weight = latest weight) >= 50 mL/min")
    c = result(protocol(text), tl, sex="M", birth=datetime.date(1958, 6, 15))  # 65 on D0
    assert c.truth is TRUE
    assert c.evidence[0].value == pytest.approx(52.1, abs=0.05)


def test_ckd_epi_2021_examples() -> None:
    """Inker et al., N Engl J Med 2021;385:1737-49. The National Kidney Foundation's eGFR
    calculator gives 71 mL/min/1.73 m2 for a 55-year-old man with SCr 1.2 mg/dL (as quoted in
    public material). By hand: (1.2/0.9)^-1.200 = 0.70807, 0.9938^55 = 0.71030,
    142 x 0.70807 x 0.71030 = 71.42."""
    assert compute("ckd_epi_2021", creatinine=1.2, age=55, sex="male") \
        == pytest.approx(71.42, abs=0.01)
    tl = timeline().obs("creatinine", -2, 1.2, "mg/dL")
    value = evidence_value("I1: ckd_epi_2021(latest creatinine) >= 60 `mL/min/{1.73_m2}`",
                           tl, sex="M", birth=BORN_55)
    assert round(value) == 71


def test_ckd_epi_2021_female_below_kappa_by_hand() -> None:
    """Female, 50 years, SCr 0.6 mg/dL (below kappa 0.7, so the alpha term applies):
    (0.6/0.7)^-0.241 = 1.03785, 0.9938^50 = 0.73274, x 142 x 1.012 = 109.28 (by hand from the
    published equation)."""
    assert (0.6 / 0.7) ** -0.241 == pytest.approx(1.03785, abs=1e-5)
    assert 0.9938 ** 50 == pytest.approx(0.73274, abs=1e-5)
    assert compute("ckd_epi_2021", creatinine=0.6, age=50, sex="female") \
        == pytest.approx(109.28, abs=0.01)


def test_mdrd_by_hand() -> None:
    """Levey et al., Ann Intern Med 2006;145:247-54 (IDMS-traceable, 175). By hand for a
    60-year-old woman, SCr 1.0 mg/dL: 175 x 1 x 60^-0.203 (= 0.43555) x 0.742 = 56.56; with the
    race coefficient x 1.212 = 68.55."""
    assert 60 ** -0.203 == pytest.approx(0.43555, abs=1e-5)
    assert compute("mdrd", creatinine=1.0, age=60, sex="female") == pytest.approx(56.56, abs=0.01)
    assert compute("mdrd", creatinine=1.0, age=60, sex="female", black=True) \
        == pytest.approx(68.55, abs=0.01)


# ---- liver -----------------------------------------------------------------------------------


def test_meld_and_meld_na_by_hand() -> None:
    """OPTN Policy 9.1 (2016). Inputs of thecalculator.co's published example (INR 1.1,
    bilirubin 1.5 mg/dL, creatinine 2.7 mg/dL, sodium 135 mmol/L; its displayed results were
    not in the stored copy), worked by hand: MELD(i) = 0.957 ln 2.7 + 0.378 ln 1.5 +
    1.120 ln 1.1 + 0.643 = 1.8536, rounded to the tenth 1.9, x 10 = 19; MELD-Na = 19 +
    1.32 x 2 - 0.033 x 19 x 2 = 20.386, rounded 20."""
    raw = 0.957 * math.log(2.7) + 0.378 * math.log(1.5) + 1.120 * math.log(1.1) + 0.643
    assert raw == pytest.approx(1.8536, abs=1e-4)
    inputs = dict(bilirubin=1.5, inr=1.1, creatinine=2.7)
    assert compute("meld", **inputs) == 19
    assert compute("meld_na", sodium=135, **inputs) == 20


def test_meld_and_meld_na_published_example() -> None:
    """A worked example published step by step with the OPTN 2016 rule (scoutmytool.com,
    "MELD-Na Score Calculator (Liver Allocation)", Kim et al. N Engl J Med 2008): creatinine
    1.0 mg/dL, bilirubin 1.5 mg/dL, INR 1.5, sodium 135 mmol/L: MELD 13, MELD-Na 13 + 2.64 -
    0.86 = 15."""
    inputs = dict(bilirubin=1.5, inr=1.5, creatinine=1.0)
    assert compute("meld", **inputs) == 13
    assert compute("meld_na", sodium=135, **inputs) == 15
    tl = (timeline().obs("bilirubin", -2, 1.5, "mg/dL").obs("inr", -2, 1.5, "1")
          .obs("creatinine", -2, 88.4, "umol/L").obs("sodium", -2, 135, "mmol/L"))
    text = ("I1: meld_na(latest bilirubin, latest inr, latest creatinine, latest sodium) "
            "> 14")
    c = result(protocol(text), tl)
    assert c.truth is TRUE and c.evidence[0].value == 15


def test_meld_bounds() -> None:
    """Values below 1.0 count as 1.0 (MELD 6), creatinine at most 4.0, 4.0 with dialysis,
    sodium bounded to 125-137, the score at most 40."""
    assert compute("meld", bilirubin=0.5, inr=0.9, creatinine=0.6) == 6
    assert compute("meld", bilirubin=1, inr=1, creatinine=9) == \
        compute("meld", bilirubin=1, inr=1, creatinine=4)
    assert compute("meld", bilirubin=1, inr=1, creatinine=1, dialysis=True) == \
        compute("meld", bilirubin=1, inr=1, creatinine=4)
    assert compute("meld_na", bilirubin=1.5, inr=1.1, creatinine=2.7, sodium=110) == \
        compute("meld_na", bilirubin=1.5, inr=1.1, creatinine=2.7, sodium=125)
    assert compute("meld", bilirubin=40, inr=8, creatinine=4) == 40
    # MELD(i) of 11 or less: no sodium term
    assert compute("meld_na", bilirubin=1, inr=1, creatinine=1, sodium=125) == 6


def test_meld_through_the_engine_with_bilirubin_in_umol_per_l() -> None:
    """Bilirubin reported in umol/L (1.5 mg/dL = 25.66 umol/L, molar mass 584.66 g/mol) gives
    the same MELD."""
    tl = (timeline().obs("bilirubin", -2, 1.5 * 10 / 584.66 * 1000, "umol/L")
          .obs("inr", -2, 1.1, "1").obs("creatinine", -2, 2.7, "mg/dL"))
    text = "I1: meld(latest bilirubin, latest inr, latest creatinine) > 15"
    assert evidence_value(text, tl) == 19


def test_child_pugh_by_hand() -> None:
    """Pugh et al., Br J Surg 1973;60:646-9, as tabulated (bilirubin < 2 / 2-3 / > 3 mg/dL,
    albumin > 3.5 / 2.8-3.5 / < 2.8 g/dL, INR < 1.7 / 1.7-2.3 / > 2.3). By hand: bilirubin 2.5
    (2), albumin 3.0 (2), INR 1.5 (1), no ascites (1), no encephalopathy (1): 7, class B."""
    assert compute("child_pugh", bilirubin=2.5, albumin=3.0, inr=1.5, ascites="none",
                   encephalopathy=0) == 7
    assert compute("child_pugh", bilirubin=3.5, albumin=2.5, inr=2.5, ascites="moderate",
                   encephalopathy="grade 3-4") == 15
    assert compute("child_pugh", bilirubin=1.0, albumin=4.0, inr=1.0, ascites=0,
                   encephalopathy="none") == 5


@pytest.mark.parametrize(("bilirubin", "albumin", "inr", "points"), [
    (1.9, 3.6, 1.6, 3), (2.0, 3.5, 1.7, 6), (3.0, 2.8, 2.3, 6), (3.1, 2.7, 2.4, 9)])
def test_child_pugh_published_table(bilirubin: float, albumin: float, inr: float,
                                    points: int) -> None:
    """Every band of the published table (Cleveland Clinic Journal of Medicine, "Child-Pugh
    classification", Table 1, adapted from Pugh et al. 1973): bilirubin < 2 / 2-3 / > 3 mg/dL,
    albumin > 3.5 / 2.8-3.5 / < 2.8 g/dL, INR < 1.7 / 1.7-2.3 / > 2.3, each worth 1 / 2 / 3
    points, plus 1 for no ascites and 1 for no encephalopathy. No public worked example with
    consistent numbers was found (one graded an INR of 1.9 as 3 points), so each band is
    checked on both sides of its published ends."""
    assert compute("child_pugh", bilirubin=bilirubin, albumin=albumin, inr=inr,
                   ascites="absent", encephalopathy="none") == points + 2


def test_child_pugh_boundaries_and_grades() -> None:
    # the stated ends belong to the middle class: 2 and 3 mg/dL, 3.5 and 2.8 g/dL, 1.7 and 2.3
    base = dict(ascites="none", encephalopathy="none")
    assert compute("child_pugh", bilirubin=2.0, albumin=3.5, inr=1.7, **base) == 8
    assert compute("child_pugh", bilirubin=3.0, albumin=2.8, inr=2.3, **base) == 8
    assert grade_points("ascites", "Mild") == 2
    assert grade_points("encephalopathy", 2) == 2
    assert grade_points("encephalopathy", 4) == 3
    assert grade_points("ascites", "unclear") is None
    assert grade_points("ascites", 1.5) is None


def test_child_pugh_through_the_engine() -> None:
    tl = (timeline().obs("bilirubin", -2, 2.5, "mg/dL").obs("albumin", -2, 30, "g/L")
          .obs("inr", -2, 1.5, "1").obs("ascites", -2, "none").obs("encephalopathy", -2, 0))
    text = ("I1: child_pugh(bilirubin = latest bilirubin, albumin = latest albumin, "
            "inr = latest inr, ascites = latest ascites, encephalopathy = latest "
            "encephalopathy) in 7..9")
    c = result(protocol(text), tl)
    assert c.truth is TRUE and c.evidence[0].value == 7


# ---- QT correction ---------------------------------------------------------------------------


def test_qtcb_published_example() -> None:
    """Bazett 1920. StethoPrep's worked question (cardiac physiology 073, citing Guyton & Hall,
    Textbook of Medical Physiology, 14th ed.): QT 480 ms at 64 /min (RR 0.938 s) gives a QTc of
    about 496 ms (0.480 / 0.969 = 0.4953 s in its rounded steps)."""
    tl = timeline().obs("qt", -1, 480, "ms").obs("heart_rate", -1, 64, "/min")
    value = evidence_value("I1: qtcb(latest qt, latest heart_rate) > 450 ms", tl)
    assert round(value) == 496


def test_qtcf_published_example() -> None:
    """Fridericia 1920. CalculatorByte's QTc Fridericia calculator, "Example Calculation": QT
    400 ms at 70 bpm, RR 857.14 ms, QTcF 420.6 ms. The page divides by the cube root rounded to
    9.51; unrounded, 400 / 0.857143^(1/3) = 421.1 ms, which is what is asserted, within the
    page's rounding."""
    tl = timeline().obs("qt", -1, 400, "ms").obs("rr", -1, 857.14, "ms")
    value = evidence_value("I1: qtcf(latest qt, latest rr) > 450 ms", tl)
    assert value == pytest.approx(421.1, abs=0.05)
    assert value == pytest.approx(420.6, abs=0.6)


def test_qtc_by_hand_from_rr_and_heart_rate() -> None:
    """Fridericia 1920 (QT / RR^(1/3)) and Bazett 1920 (QT / RR^(1/2)), RR in seconds. By hand:
    QT 400 ms at 75 /min (RR 0.8 s): QTcF = 400 / 0.92832 = 430.9 ms, QTcB = 400 / 0.89443 =
    447.2 ms. The RR may be given as an interval or as a heart rate."""
    assert compute("qtcf", qt=400, rr=0.8) == pytest.approx(430.9, abs=0.05)
    assert compute("qtcb", qt=400, rr=0.8) == pytest.approx(447.2, abs=0.05)
    by_rr = timeline().obs("qt", -1, 400, "ms").obs("rr", -1, 800, "ms")
    by_hr = timeline().obs("qt", -1, 0.4, "s").obs("heart_rate", -1, 75, "/min")
    rr = evidence_value("I1: qtcf(latest qt, latest rr) > 450 ms", by_rr)
    hr = evidence_value("I1: qtcf(latest qt, latest heart_rate) > 450 ms", by_hr)
    assert rr == pytest.approx(430.9, abs=0.05) and hr == pytest.approx(rr)
