"""Verdicts of the T2DM_ADDON example checked by hand, value by value.

Each expected number below was computed from examples/t2dm_addon/patients.jsonl and the
criterion's text, with the arithmetic in the test's docstring, not read off the engine.
Everyone is randomized on 2025-03-03 (at 08:30), born 1965-04-12 (59 at randomization) and has
the screening results of day -14 (2025-02-17): weight 88 kg, height 172 cm, creatinine 80
umol/L, QT 400 ms at 70/min, QTcF triplicate 410, 415, 412 ms. The calendar's month is 30
days. test_t2dm_example.py checks that every scenario gives its verdict; this file checks the
numbers, dates and records the verdicts rest on, the near-boundary ones first.
"""

from __future__ import annotations

import datetime
from functools import cache

import pytest
from conftest import EXAMPLES

import trialcode
from engine import compile_trial, evaluate
from engine.io.jsonl import read_patients
from engine.logic import FALSE, TRUE, UNKNOWN
from engine.patient import RejectedRecord
from engine.results import CriterionResult, CriterionVerdict

FOLDER = EXAMPLES / "t2dm_addon"
AS_OF = datetime.date(2025, 9, 30)


@cache
def _results() -> dict[str, object]:
    trial = trialcode.load(FOLDER / "protocol.trial")
    plan = compile_trial(trial)
    out = {}
    for item in read_patients(FOLDER / "patients.jsonl", trial):
        assert not isinstance(item, RejectedRecord), str(item)
        out[item.id] = evaluate(plan, item, AS_OF)
    return out


def crit(pid: str, cid: str) -> CriterionResult:
    c = _results()[pid].eligibility.criterion(cid)  # type: ignore[attr-defined]
    assert c is not None
    return c


def verdict(pid: str) -> str:
    return _results()[pid].eligibility.verdict.value  # type: ignore[attr-defined]


def test_computed_values_of_an_eligible_patient() -> None:
    """P01, eligible.
    I3 BMI = 88 / 1.72^2 = 88 / 2.9584 = 29.7458 kg/m2, in 25..45.
    I4 CKD-EPI 2021, man of 59: creatinine 80 umol/L x 113.12 g/mol = 0.90496 mg/dL;
       0.90496 / 0.9 = 1.00551 > 1, so 142 x 1.00551^-1.2 x 0.9938^59 = 97.738, >= 45.
    E4 QTcF = 400 / (60/70)^(1/3) = 400 / 0.94991 = 421.09 ms, not > 450.
    E10 mean QTcF = (410 + 415 + 412) / 3 = 412.333 ms, not > 450.
    E9 no donation recorded: the sum of no record is 0 mL, not >= 800."""
    assert verdict("P01") == "eligible"
    expected = {"I3": 29.745808545, "I4": 97.738270030, "E4": 421.090639844,
                "E10": 412.333333333, "E9": 0}
    for cid, value in expected.items():
        ev = crit("P01", cid).evidence[-1]
        assert ev.value == pytest.approx(value, rel=1e-6), (cid, ev.explanation)
    assert crit("P01", "I4").evidence[-1].date == datetime.date(2025, 2, 17)


def test_the_same_values_in_other_units() -> None:
    """P06: height 1.70 m (not cm): BMI = 140 / 1.7^2 = 48.443 > 45, I3 not met.
    P07: creatinine 2.0 mg/dL (not umol/L), man of 59: 2.0 / 0.9 = 2.2222;
    142 x 2.2222^-1.2 x 0.9938^59 = 142 x 0.38356 x 0.69291 = 37.738 < 45, I4 not met
    (37.7: the generator's scenario said "eGFR 28" until it was checked by hand)."""
    bmi = crit("P06", "I3")
    assert bmi.truth is FALSE and bmi.evidence[-1].value == pytest.approx(48.442906574)
    egfr = crit("P07", "I4")
    assert egfr.truth is FALSE and egfr.evidence[-1].value == pytest.approx(37.738437339)


def test_a_ratio_and_a_formula_that_exclude() -> None:
    """P12: insulin 120 U / weight 88 kg = 1.3636 U/kg > 1.2: E2 met.
    P02: 60 U / 88 kg = 0.6818 U/kg: E2 not met, and glimepiride 2 mg <= 0.5 x 8 mg: E3 not
    met; the donation of 250 mL is in the window but not >= 400 mL: E5 not met.
    P15: QT 470 ms at 75/min: 470 / 0.8^(1/3) = 470 / 0.92832 = 506.29 ms > 450: E4 met."""
    assert crit("P12", "E2").truth is TRUE
    assert crit("P12", "E2").evidence[-1].value == pytest.approx(120 / 88)
    assert crit("P02", "E2").evidence[-1].value == pytest.approx(60 / 88)
    assert crit("P02", "E3").truth is FALSE and crit("P02", "E5").truth is FALSE
    assert crit("P02", "E5").evidence[-1].explanation.endswith(
        ": none matches (the blood_donation records do not qualify): false")
    assert crit("P15", "E4").evidence[-1].value == pytest.approx(506.292152153)


def test_a_strict_bound_on_the_day() -> None:
    """P37: GLP-1 agonist stopped 2024-12-03. 2024-12-03 -> 2025-03-03 is 28 + 31 + 28 + 3 = 90
    days. `strictly within 90 days before` keeps (2024-12-03, 2025-03-03]: the stop day is
    excluded, so E11 is not met ("stopped less than 90 days before" it was not), and the
    evidence names the record it left out. P36 stopped 2025-01-02, 60 days before: met."""
    c = crit("P37", "E11")
    assert c.truth is FALSE and verdict("P37") == "eligible"
    assert c.evidence[0].explanation == (
        "any glp1_agonist strictly within 90 days before randomization: none (glp1_agonist "
        "2024-05-17 to 2024-12-03 is outside the window): false")
    assert crit("P36", "E11").truth is TRUE


def test_washouts_from_half_lives_and_tables() -> None:
    """E8, 90 days or 5 half-lives: P29 stopped 2024-11-03, 120 days before (27 + 31 + 31 +
    28 + 3); 5 x 36 h = 7.5 days: outside both, not met, eligible. P30, half-life 720 h: 5 x 30
    = 150 days >= 120: met. P28 stopped 60 days before: met.
    E13, 7 days or 5 half-lives: P41 itraconazole stopped 2025-02-21, 10 days before
    (7 + 3); 5 x 64 h = 13.33 days: met. P42 clarithromycin: 5 x 5 h = 1.04 days, 10 > 7:
    not met, eligible.
    E14, washout from the table: P44 orlistat 2 weeks, stopped 10 days before: met. P45
    "Phentermine" (the key's case does not matter) 1 month = 30 days, stopped 2025-01-17:
    14 + 28 + 3 = 45 days before: not met, eligible."""
    assert crit("P29", "E8").truth is FALSE and verdict("P29") == "eligible"
    assert crit("P29", "E8").evidence[0].explanation.endswith(
        "none (investigational_drug 2024-10-06 to 2024-11-03 is outside the window): false")
    assert crit("P30", "E8").truth is TRUE and crit("P28", "E8").truth is TRUE
    assert crit("P41", "E13").truth is TRUE
    assert crit("P42", "E13").truth is FALSE and verdict("P42") == "eligible"
    assert crit("P44", "E14").truth is TRUE
    assert crit("P45", "E14").truth is FALSE and verdict("P45") == "eligible"


def test_hours_windows_with_and_without_a_time() -> None:
    """Randomization 2025-03-03T08:30.
    P20 (I6): a pregnancy test dated 2025-03-02 without a time lies 32.5 to 8.5 hours before:
    it may or may not be within 24 hours: unknown, indeterminate (not eligible).
    P26 (E7): alcohol at 2025-03-02T20:00, 12.5 hours before: met.
    P27 (E7): alcohol dated 2025-03-01 without a time, 56.5 to 32.5 hours before: unknown."""
    assert crit("P20", "I6").truth is UNKNOWN and verdict("P20") == "indeterminate"
    assert crit("P26", "E7").truth is TRUE
    assert crit("P27", "E7").truth is UNKNOWN


def test_sums_and_means_over_records() -> None:
    """E9, 12 months = 360 days before 2025-03-03, from 2024-03-08: P32's donations of
    2024-05-07 (450 mL) and 2024-11-03 (400 mL) are both in: 850 mL >= 800: met.
    P33's donation of 2024-09-04 has no volume: unknown; it is 180 days before, outside E5's
    3 months (90 days), whose evidence names it.
    E10: P34's triplicate (452 + 455 + 449) / 3 = 452 ms > 450: met."""
    c = crit("P32", "E9")
    assert c.truth is TRUE and c.evidence[-1].value == 850
    assert [(i.value, i.date) for i in c.evidence[-1].inputs] == [
        (450, datetime.date(2024, 5, 7)), (400, datetime.date(2024, 11, 3))]
    assert crit("P33", "E9").truth is UNKNOWN
    assert crit("P33", "E5").evidence[-1].explanation.endswith(
        "none (blood_donation 2024-09-04 is outside the window): false")
    assert crit("P34", "E10").evidence[-1].value == pytest.approx(452)


def test_an_assumed_verdict_and_a_criterion_the_data_cannot_answer() -> None:
    """P01 has no insulin record: E2 is unknown on the data, and `assume not_met` makes it
    not met (policy applied); P01 is eligible. P38's GLP-1 therapy was not collected: E11 is
    left to the site, so P38 is eligible on the data but indeterminate."""
    c = crit("P01", "E2")
    assert c.truth is UNKNOWN and c.verdict is CriterionVerdict.NOT_MET
    r = _results()["P38"]
    assert r.eligibility.verdict.value == "indeterminate"  # type: ignore[attr-defined]
    assert r.eligibility.data_verdict.value == "eligible"  # type: ignore[attr-defined]
