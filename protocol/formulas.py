"""The built-in clinical formulas and math functions a protocol may call, with their sources.

A formula takes named inputs, each in the unit the published equation uses: the engine converts
whatever unit the data carry into that unit first (a creatinine in umol/L is converted to mg/dL
through its molar mass), so an input in another unit never changes a result. `age` and `sex`
default to the patient's age at the reference date and recorded sex.

Each formula is checked in tests/engine/test_formulas.py against a published worked example.
The computations are plain arithmetic on floats; the engine calls `compute` with every input
already converted.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping

import attrs

Inputs = Mapping[str, "int | float | str | bool"]


class ParamKind(enum.Enum):
    QUANTITY = "quantity"  # a number in `unit` (converted from the input's unit)
    SEX = "sex"  # "male" or "female"
    FLAG = "flag"  # a condition: true or false
    GRADE = "grade"  # a clinical grade given as text or number (Child-Pugh ascites, HE)


@attrs.frozen
class Parameter:
    """One input of a formula. `default` is what an input left out means: `age` (the patient's
    age at the reference date), `sex` (the patient's sex) or `false` (a condition that does
    not hold). `alt_unit` is a second dimension accepted instead (a heart rate for an RR
    interval). `molar_mass` (g/mol) converts an amount-of-substance concentration to mass."""

    name: str
    label: str
    kind: ParamKind = ParamKind.QUANTITY
    unit: str | None = None
    default: str | None = None
    alt_unit: str | None = None
    molar_mass: int | float | None = None


@attrs.frozen
class Formula:
    """A named clinical formula: what it computes, in which unit, from what, and where from."""

    name: str
    title: str
    unit: str  # UCUM unit of the result
    parameters: tuple[Parameter, ...]
    equation: str  # the formula in plain text, for the document
    citation: str
    compute: Callable[[Inputs], int | float] = attrs.field(eq=False, repr=False)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


# ---- the computations ------------------------------------------------------------------------


def _f(x: int | float | str | bool) -> int | float:
    assert isinstance(x, (int, float)) and not isinstance(x, bool)
    return float(x)


def _female(inputs: Inputs) -> bool:
    return inputs["sex"] == "female"


def _bmi(i: Inputs) -> int | float:
    return _f(i["weight"]) / _f(i["height"]) ** 2


def _mosteller(i: Inputs) -> int | float:
    return math.sqrt(_f(i["height"]) * _f(i["weight"]) / 3600.0)


def _dubois(i: Inputs) -> int | float:
    return 0.007184 * _f(i["weight"]) ** 0.425 * _f(i["height"]) ** 0.725


def _cockcroft_gault(i: Inputs) -> int | float:
    clearance = (140.0 - _f(i["age"])) * _f(i["weight"]) / (72.0 * _f(i["creatinine"]))
    return clearance * 0.85 if _female(i) else clearance


def _ckd_epi_2021(i: Inputs) -> int | float:
    female = _female(i)
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = _f(i["creatinine"]) / kappa
    egfr = 142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938 ** _f(i["age"])
    return egfr * 1.012 if female else egfr


def _mdrd(i: Inputs) -> int | float:
    gfr = 175.0 * _f(i["creatinine"]) ** -1.154 * _f(i["age"]) ** -0.203
    if _female(i):
        gfr *= 0.742
    if i.get("black") is True:
        gfr *= 1.212
    return gfr


def _meld_i(i: Inputs) -> int | float:
    """OPTN's MELD(i): each lab below 1.0 counts as 1.0, creatinine at most 4.0 (4.0 with
    dialysis), rounded to the tenth and multiplied by 10."""
    bilirubin = max(_f(i["bilirubin"]), 1.0)
    inr = max(_f(i["inr"]), 1.0)
    creatinine = 4.0 if i.get("dialysis") is True else min(max(_f(i["creatinine"]), 1.0), 4.0)
    raw = 0.957 * math.log(creatinine) + 0.378 * math.log(bilirubin) + 1.120 * math.log(inr) + 0.643
    return _round_half_up(raw, 1) * 10.0


def _meld(i: Inputs) -> int | float:
    return min(float(_round_half_up(_meld_i(i), 0)), 40.0)


def _meld_na(i: Inputs) -> int | float:
    meld = _meld_i(i)
    if meld > 11.0:
        sodium = min(max(_f(i["sodium"]), 125.0), 137.0)
        meld = meld + 1.32 * (137.0 - sodium) - 0.033 * meld * (137.0 - sodium)
    return min(float(_round_half_up(meld, 0)), 40.0)


def _round_half_up(x: int | float, digits: int) -> int | float:
    # Python's round() rounds halves to even; clinical scores round halves up.
    scale = 10.0 ** digits
    return math.floor(x * scale + 0.5 + 1e-9) / scale


_ASCITES = {"none": 1, "absent": 1, "no": 1, "slight": 2, "mild": 2, "moderate": 3,
            "severe": 3, "tense": 3, "large": 3, "moderate-severe": 3}
_ENCEPHALOPATHY = {"none": 1, "absent": 1, "no": 1, "grade 1-2": 2, "mild": 2,
                   "minimal": 2, "grade 1": 2, "grade 2": 2, "grade 3-4": 3, "severe": 3,
                   "grade 3": 3, "grade 4": 3}


def grade_points(parameter: str, value: int | float | str | bool) -> int | None:
    """Child-Pugh points (1-3) for an ascites or encephalopathy grade, None if not one.

    Text: ascites none/absent 1, slight/mild 2, moderate/severe/tense 3; encephalopathy none 1,
    grade 1-2 (mild) 2, grade 3-4 (severe) 3. Numbers are grades: ascites 0 (none), 1 (mild),
    2-3 (moderate to tense, International Club of Ascites); hepatic encephalopathy West Haven
    0, 1-2, 3-4."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        table = _ASCITES if parameter == "ascites" else _ENCEPHALOPATHY
        return table.get(" ".join(value.strip().lower().split()))
    grade = float(value)
    if not grade.is_integer() or grade < 0:
        return None
    if parameter == "ascites":
        return {0: 1, 1: 2, 2: 3, 3: 3}.get(int(grade))
    return {0: 1, 1: 2, 2: 2, 3: 3, 4: 3}.get(int(grade))


def _child_pugh(i: Inputs) -> int | float:
    bilirubin, albumin, inr = _f(i["bilirubin"]), _f(i["albumin"]), _f(i["inr"])
    points = 1 if bilirubin < 2.0 else 2 if bilirubin <= 3.0 else 3
    points += 1 if albumin > 3.5 else 2 if albumin >= 2.8 else 3
    points += 1 if inr < 1.7 else 2 if inr <= 2.3 else 3
    for name in ("ascites", "encephalopathy"):
        p = grade_points(name, i[name])
        assert p is not None  # the engine checks the grades before computing
        points += p
    return float(points)


def _rr_seconds(i: Inputs) -> int | float:
    return _f(i["rr"])


def _qtcf(i: Inputs) -> int | float:
    return _f(i["qt"]) / _rr_seconds(i) ** (1.0 / 3.0)


def _qtcb(i: Inputs) -> int | float:
    return _f(i["qt"]) / math.sqrt(_rr_seconds(i))


# ---- the table -------------------------------------------------------------------------------

_AGE = Parameter("age", "age", unit="a", default="age")
_SEX = Parameter("sex", "sex", kind=ParamKind.SEX, default="sex")
_WEIGHT = Parameter("weight", "body weight", unit="kg")
_CREATININE = Parameter("creatinine", "serum creatinine", unit="mg/dL", molar_mass=113.12)
_BILIRUBIN = Parameter("bilirubin", "total bilirubin", unit="mg/dL", molar_mass=584.66)
_INR = Parameter("inr", "INR", unit="1")
_QT = Parameter("qt", "QT interval", unit="ms")
_RR = Parameter("rr", "RR interval (or heart rate)", unit="s", alt_unit="/min")
_DIALYSIS = Parameter("dialysis", "dialysis at least twice in the past week",
                      kind=ParamKind.FLAG, default="false")

FORMULAS: dict[str, Formula] = {f.name: f for f in (
    Formula("bmi", "body mass index", "kg/m2",
            (_WEIGHT, Parameter("height", "height", unit="m")),
            "weight (kg) / height (m)²",
            "WHO. Obesity: preventing and managing the global epidemic. WHO Technical Report "
            "Series 894, 2000", _bmi),
    Formula("bsa_mosteller", "body surface area (Mosteller)", "m2",
            (_WEIGHT, Parameter("height", "height", unit="cm")),
            "√(height (cm) × weight (kg) / 3600)",
            "Mosteller RD. Simplified calculation of body-surface area. N Engl J Med "
            "1987;317:1098", _mosteller),
    Formula("bsa_dubois", "body surface area (DuBois)", "m2",
            (_WEIGHT, Parameter("height", "height", unit="cm")),
            "0.007184 × weight (kg)^0.425 × height (cm)^0.725",
            "Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if "
            "height and weight be known. Arch Intern Med 1916;17:863-71", _dubois),
    Formula("cockcroft_gault", "creatinine clearance (Cockcroft-Gault)", "mL/min",
            (_CREATININE, _WEIGHT, _AGE, _SEX),
            "(140 − age) × weight (kg) / (72 × serum creatinine (mg/dL)), × 0.85 if female",
            "Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine. "
            "Nephron 1976;16:31-41", _cockcroft_gault),
    Formula("ckd_epi_2021", "estimated GFR (CKD-EPI 2021 creatinine equation)", "mL/min/{1.73_m2}",
            (_CREATININE, _AGE, _SEX),
            "142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 if female "
            "(κ 0.7 female, 0.9 male; α −0.241 female, −0.302 male; Scr in mg/dL)",
            "Inker LA, Eneanya ND, Coresh J, et al. New creatinine- and cystatin C-based "
            "equations to estimate GFR without race. N Engl J Med 2021;385:1737-49",
            _ckd_epi_2021),
    Formula("mdrd", "estimated GFR (MDRD, IDMS-traceable 4-variable equation)", "mL/min/{1.73_m2}",
            (_CREATININE, _AGE, _SEX,
             Parameter("black", "Black race", kind=ParamKind.FLAG, default="false")),
            "175 × Scr (mg/dL)^−1.154 × age^−0.203 × 0.742 if female × 1.212 if Black",
            "Levey AS, Coresh J, Greene T, et al. Using standardized serum creatinine values in "
            "the Modification of Diet in Renal Disease study equation for estimating glomerular "
            "filtration rate. Ann Intern Med 2006;145:247-54", _mdrd),
    Formula("meld", "MELD score", "1",
            (_BILIRUBIN, _INR, _CREATININE, _DIALYSIS),
            "10 × (0.957 × ln(creatinine) + 0.378 × ln(bilirubin) + 1.120 × ln(INR) + 0.643), "
            "values below 1.0 set to 1.0, creatinine at most 4.0 mg/dL (4.0 with dialysis), "
            "at most 40",
            "Kamath PS, Wiesner RH, Malinchoc M, et al. A model to predict survival in patients "
            "with end-stage liver disease. Hepatology 2001;33:464-70; as computed under OPTN "
            "Policy 9.1 (rounding and bounds)", _meld),
    Formula("meld_na", "MELD-Na score", "1",
            (_BILIRUBIN, _INR, _CREATININE, Parameter("sodium", "serum sodium", unit="mmol/L"),
             _DIALYSIS),
            "MELD(i) + 1.32 × (137 − Na) − 0.033 × MELD(i) × (137 − Na) when MELD(i) > 11, "
            "sodium bounded to 125-137 mmol/L, at most 40",
            "Kim WR, Biggins SW, Kremers WK, et al. Hyponatremia and mortality among patients "
            "on the liver-transplant waiting list. N Engl J Med 2008;359:1018-26; OPTN Policy "
            "9.1 (2016)", _meld_na),
    Formula("child_pugh", "Child-Pugh score", "1",
            (_BILIRUBIN, Parameter("albumin", "serum albumin", unit="g/dL"), _INR,
             Parameter("ascites", "ascites", kind=ParamKind.GRADE),
             Parameter("encephalopathy", "hepatic encephalopathy", kind=ParamKind.GRADE)),
            "1-3 points each: bilirubin < 2, 2-3, > 3 mg/dL; albumin > 3.5, 2.8-3.5, < 2.8 g/dL; "
            "INR < 1.7, 1.7-2.3, > 2.3; ascites none, mild, moderate to severe; encephalopathy "
            "none, grade 1-2, grade 3-4 (class A 5-6, B 7-9, C 10-15)",
            "Pugh RN, Murray-Lyon IM, Dawson JL, et al. Transection of the oesophagus for "
            "bleeding oesophageal varices. Br J Surg 1973;60:646-9", _child_pugh),
    Formula("qtcf", "QT corrected (Fridericia)", "ms", (_QT, _RR),
            "QT / RR^(1/3), RR in seconds (60 / heart rate)",
            "Fridericia LS. Die Systolendauer im Elektrokardiogramm bei normalen Menschen und "
            "bei Herzkranken. Acta Med Scand 1920;53:469-86", _qtcf),
    Formula("qtcb", "QT corrected (Bazett)", "ms", (_QT, _RR),
            "QT / √RR, RR in seconds (60 / heart rate)",
            "Bazett HC. An analysis of the time-relations of electrocardiograms. Heart "
            "1920;7:353-70", _qtcb),
)}


class MathFunction(enum.Enum):
    """Functions of plain values. `ln`, `log10` take a dimensionless value (divide by a unit
    first: `ln(latest bilirubin / 1 mg/dL)`); `abs` keeps the unit; `min`/`max` take two or
    more values of one dimension and give the result in the first one's unit."""

    LN = "ln"
    LOG10 = "log10"
    ABS = "abs"
    MIN = "min"
    MAX = "max"

    @property
    def arity(self) -> tuple[int, int | None]:
        """(least, most) arguments; most None for any number."""
        return (2, None) if self in (MathFunction.MIN, MathFunction.MAX) else (1, 1)


MATH_FUNCTIONS: dict[str, MathFunction] = {f.value: f for f in MathFunction}

FUNCTION_NAMES: tuple[str, ...] = tuple(MATH_FUNCTIONS) + tuple(FORMULAS)

__all__ = ["FORMULAS", "FUNCTION_NAMES", "MATH_FUNCTIONS", "Formula", "MathFunction",
           "ParamKind", "Parameter", "grade_points"]
