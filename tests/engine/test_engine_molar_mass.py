"""Mass and molar lab units: comparable when the protocol gives the analyte's molar mass."""

from __future__ import annotations

import datetime

import pytest

import trialcode
from engine import evaluate
from engine.patient import AnchorEvent, Observation, Patient, RecordRef
from protocol.units import UnitError, convert

PROTOCOL = """
trial molar {
  data { lab creatinine "Creatinine" unit umol/L MOLAR }
  schedule anchored at randomization { anchor randomization "Randomization" }
  inclusion {
    K1 "Creatinine at most 150 umol/L.": latest creatinine before randomization <= 150 umol/L
  }
}
"""
D0 = datetime.date(2024, 3, 1)
REF = RecordRef("test", "line 1")


def _verdict(molar: str, value: float, unit: str) -> tuple[str, str]:
    trial = trialcode.load_source(PROTOCOL.replace("MOLAR", molar))
    patient = Patient("P1", REF, events=(
        AnchorEvent("randomization", D0, REF),
        Observation("creatinine", D0, RecordRef("lab.csv", "row 7"), value=value, unit=unit)))
    result = evaluate(trial, patient, D0)
    k1 = next(c for c in result.eligibility.criteria if c.id == "K1")
    return k1.verdict.value, " ".join(f"{e.explanation} {e.error or ''}" for e in k1.evidence)


def test_creatinine_in_mg_per_dl_is_converted_with_its_molar_mass() -> None:
    # 1.2 mg/dL / 113.12 g/mol = 106.1 umol/L <= 150: met; 2.0 mg/dL = 176.8 umol/L: not met
    verdict, text = _verdict("molar_mass 113.12", 1.2, "mg/dL")
    assert verdict == "met", text
    assert _verdict("molar_mass 113.12", 2.0, "mg/dL")[0] == "not_met"


def test_without_a_molar_mass_it_is_an_error_not_a_pass() -> None:
    verdict, text = _verdict("", 1.2, "mg/dL")
    assert verdict == "unknown"
    assert "need the molar mass" in text


def test_conversion_factor_is_the_textbook_one() -> None:
    # Creatinine: 1 mg/dL = 88.4 umol/L (10 dL/L x 1000 ug/mg / 113.12 g/mol)
    assert convert(1.0, "mg/dL", "umol/L", 113.12) == pytest.approx(88.40, abs=0.01)
    assert convert(88.40, "umol/L", "mg/dL", 113.12) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(UnitError, match="need the molar mass"):
        convert(1.0, "mg/dL", "umol/L")
