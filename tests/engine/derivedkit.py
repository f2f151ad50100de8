"""Small trials written in the protocol language, for tests of computed values, definitions,
panels and tables: one criterion (or a few) over a shared data dictionary.

Days are protocol days from D0 (enginekit.D0, the randomization day); consent is on day -10.
"""

from __future__ import annotations

import datetime

from enginekit import Timeline

import dsl
from engine import compile_trial, evaluate
from engine.results import CriterionResult, PatientResult
from protocol.check import check
from protocol.trial import Trial

AS_OF = datetime.date(2024, 6, 1)

DATA = """
  data {
    vital weight "Body weight" unit kg
    vital height "Height" unit cm
    vital heart_rate "Heart rate" unit `/min`
    lab creatinine "Serum creatinine" unit umol/L molar_mass 113.12
    lab bilirubin "Total bilirubin" unit mg/dL molar_mass 584.66
    lab albumin "Albumin" unit g/dL
    lab inr "INR" unit 1
    lab sodium "Sodium" unit mmol/L
    lab alt "ALT" unit U/L
    lab ast "AST" unit U/L
    vital qt "QT interval" unit ms
    vital rr "RR interval" unit ms
    category ascites "Ascites" values "none", "mild", "moderate"
    score encephalopathy "Hepatic encephalopathy grade" range 0..4
    lab insulin_dose "Total daily insulin dose" unit U
    event blood_donation "Blood donation" attributes volume in mL, centre
    event sulfonylurea "Sulfonylurea" attributes drug, daily_dose in mg
    event dialysis "Dialysis session"
  }
"""

SCHEDULE = """
  schedule anchored at randomization {
    anchor randomization "Randomization"
    anchor consent "Informed consent"
  }
"""


def protocol(criteria: str, extra: str = "", stopping: str = "") -> Trial:
    """A trial whose inclusion block holds `criteria`; `extra` goes before it (tables,
    definitions). The protocol must check clean."""
    text = ("trial T {\n" + DATA + extra + "\n  eligibility assessed at randomization\n"
            "  inclusion {\n" + criteria + "\n  }\n" + SCHEDULE
            + (f"  stopping {{\n{stopping}\n  }}\n" if stopping else "") + "}\n")
    trial = dsl.parse(text, "t.trial")
    problems = [d for d in check(trial) if d.is_error]
    assert not problems, "\n".join(f"{d.span}: {d.message}" for d in problems)
    return trial


def run(trial: Trial, tl: Timeline, sex: str | None = "F",
        birth: datetime.date | None = datetime.date(1970, 6, 15)) -> PatientResult:
    return evaluate(compile_trial(trial), tl.patient(sex=sex, birth=birth), AS_OF)


def result(trial: Trial, tl: Timeline, cid: str = "I1", **kw: object) -> CriterionResult:
    r = run(trial, tl, **kw)  # type: ignore[arg-type]
    c = r.eligibility.criterion(cid)
    assert c is not None
    return c


def timeline() -> Timeline:
    return Timeline(0).anchor("consent", -10)
