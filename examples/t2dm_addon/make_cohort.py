"""Write the synthetic cohort of the T2DM_ADDON example (ILLUSTRATIVE, not real patients).

    .venv/bin/python examples/t2dm_addon/make_cohort.py

Every patient starts from one eligible profile (randomized at 08:30; a woman has a negative
urine pregnancy test at 07:30; metformin 2000 mg/day for over a year; a triplicate screening ECG
with QTcF near 412 ms) and changes what its scenario says, so that the
cohort gives every criterion of the protocol each of its verdicts (met, not met, unknown) and
fires each stopping rule once; tests/protocol/test_t2dm_example.py checks that it does. Everyone
is randomized on 2025-03-03 (the data are as of 2025-09-30): an ineligible patient is one who
was randomized in error, which is what a data manager looks for.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
D0 = datetime.date(2025, 3, 3)
AS_OF = datetime.date(2025, 9, 30)

Event = dict[str, Any]


def day(n: int) -> str:
    return (D0 + datetime.timedelta(days=n)).isoformat()


# The screening results of an eligible patient: (kind, value, unit, low, high).
SCREENING: list[tuple[str, float, str, float | None, float | None]] = [
    ("hba1c", 8.1, "%", 4.0, 6.0),
    ("weight", 88.0, "kg", None, None),
    ("height", 172.0, "cm", None, None),
    ("creatinine", 80.0, "umol/L", 45.0, 90.0),
    ("alt", 30.0, "U/L", 7.0, 40.0),
    ("ast", 28.0, "U/L", 8.0, 40.0),
    ("bilirubin", 12.0, "umol/L", 3.0, 21.0),
    ("alp", 90.0, "U/L", 40.0, 130.0),
    ("qt", 400.0, "ms", None, None),
    ("heart_rate", 70.0, "/min", None, None),
    ("tsh", 1.8, "m[IU]/L", 0.4, 4.0),
]
# Every kind of data the protocol declares (a patient's `collected` list names those that were
# collected for them; the others are unknown, not absent).
KINDS = {"hba1c", "weight", "height", "creatinine", "alt", "ast", "bilirubin", "alp", "qt",
         "heart_rate", "insulin_dose", "type1_diabetes", "sulfonylurea", "blood_donation",
         "pregnancy_test", "alcohol", "oral_antidiabetic", "metformin", "investigational_drug",
         "ecg_qtcf", "glp1_agonist", "tsh", "cyp3a4_inhibitor", "weight_loss_drug"}
FOLLOW_UP = {"week_12": (84, ["hba1c", "creatinine", "alt", "ast", "bilirubin"]),
             "week_26": (182, ["hba1c", "weight", "creatinine", "alt", "ast", "bilirubin"])}


class Patient:
    """One patient of the cohort: an eligible profile changed by its scenario."""

    def __init__(self, pid: str, why: str, arm: str, sex: str, born: str):
        self.pid, self.why, self.arm, self.sex, self.born = pid, why, arm, sex, born
        self.screening = {k: [v, u, lo, hi] for k, v, u, lo, hi in SCREENING}
        self.screening_day = -14
        self.consent: int | None = -21
        self.extra: list[Event] = []
        self.follow_up: dict[tuple[str, str], float] = {}  # (visit, kind) -> value
        self.stop_day: int | None = None  # the last day of study drug
        # issue 13, second half: time of day, aggregates over records, windows from data
        self.randomized_at = "08:30"  # the time of randomization on day 0
        self.pregnancy_test: tuple[int, str | None, str] | None = (0, "07:30", "negative")
        self.drugs = ["metformin"]  # oral antidiabetic drugs, ongoing
        self.metformin: list[tuple[int, int | None, float | None]] = [(-400, None, 2000)]
        self.ecg_qtcf: list[float] = [410.0, 415.0, 412.0]  # triplicate at screening
        self.collected: list[str] | None = None

    def lab(self, kind: str, value: float | None, unit: str | None = None) -> Patient:
        if value is None:
            del self.screening[kind]
        else:
            self.screening[kind][0] = value
            if unit is not None:
                self.screening[kind][1] = unit
        return self

    def events(self) -> list[Event]:
        out: list[Event] = []
        if self.consent is not None:
            out.append({"type": "anchor", "name": "consent", "date": day(self.consent)})
        out.append({"type": "visit", "visit": "screening", "date": day(self.screening_day)})
        for kind, (value, unit, low, high) in self.screening.items():
            out.append(_obs(kind, self.screening_day, value, unit, low, high, "screening"))
        out += self._issue13_events()
        out += self.extra
        at = f"T{self.randomized_at}" if self.randomized_at else ""
        out.append({"type": "anchor", "name": "randomization", "date": day(0) + at})
        out.append({"type": "visit", "visit": "baseline", "date": day(0)})
        drug = "glucorin" if self.arm == "active" else "placebo"
        last = min(181, (AS_OF - D0).days) if self.stop_day is None else self.stop_day
        out.append({"type": "dose", "intervention": drug, "start": day(0), "end": day(last),
                    "amount": 10, "unit": "mg"})
        for visit, (d, kinds) in FOLLOW_UP.items():
            out.append({"type": "visit", "visit": visit, "date": day(d)})
            for kind in kinds:
                value, unit, low, high = dict((k, (v, u, lo, hi)) for k, v, u, lo, hi
                                              in SCREENING)[kind]
                value = self.follow_up.get((visit, kind), value)
                out.append(_obs(kind, d, value, unit, low, high, visit))
        return out

    def _issue13_events(self) -> list[Event]:
        """A woman's urine pregnancy test on the morning of randomization, the oral
        antidiabetic drugs and the metformin taken, and the triplicate ECG of screening."""
        out: list[Event] = []
        if self.sex == "female" and self.pregnancy_test is not None:
            d, at, result = self.pregnancy_test
            out.append({"type": "observation", "kind": "pregnancy_test",
                        "date": day(d) + (f"T{at}" if at else ""), "value": result})
        for drug in self.drugs:
            attributes = {"drug": drug} if drug else {}
            out.append({"type": "occurrence", "kind": "oral_antidiabetic", "start": day(-400),
                        "ongoing": True, "attributes": attributes})
        for start, end, dose in self.metformin:
            ev: Event = {"type": "occurrence", "kind": "metformin", "start": day(start)}
            if end is None:
                ev["ongoing"] = True
            else:
                ev["end"] = day(end)
            if dose is not None:
                ev["attributes"] = {"daily_dose": dose}
            out.append(ev)
        for value in self.ecg_qtcf:
            out.append(_obs("ecg_qtcf", self.screening_day, value, "ms", None, None,
                            "screening"))
        return out

    def json(self) -> dict[str, Any]:
        out = {"id": self.pid, "arm": self.arm, "sex": self.sex, "birth_date": self.born}
        if self.collected is not None:
            out["collected"] = self.collected
        out["events"] = self.events()
        return out


def _obs(kind: str, d: int, value: float, unit: str, low: float | None, high: float | None,
         visit: str) -> Event:
    ev: Event = {"type": "observation", "kind": kind, "date": day(d), "value": value,
                 "unit": unit, "visit": visit}
    if low is not None:
        ev["low"] = low
    if high is not None:
        ev["high"] = high
    return ev


def _scenarios() -> list[tuple[str, Callable[[Patient], object]]]:
    """(what the patient shows, how the eligible profile changes) in patient order."""
    def donation(volume: float | None, d: int = -60) -> Callable[[Patient], object]:
        attributes = {} if volume is None else {"volume": volume}
        return lambda p: p.extra.append({"type": "occurrence", "kind": "blood_donation",
                                         "start": day(d), "attributes": attributes})

    def sulfonylurea(drug: str, dose: float) -> Callable[[Patient], object]:
        return lambda p: p.extra.append({"type": "occurrence", "kind": "sulfonylurea",
                                         "start": day(-90), "end": day(-1), "attributes": {
                                             "drug": drug, "daily_dose": dose}})

    def insulin(units: float) -> Callable[[Patient], object]:
        return lambda p: p.extra.append(_obs("insulin_dose", -14, units, "U", None, None,
                                             "screening"))

    def renal_decline(p: Patient) -> None:
        p.follow_up[("week_12", "creatinine")] = 230.0  # eGFR 27.4 at 60 years (CKD-EPI 2021, a man)
        p.stop_day = 84

    def liver_injury(p: Patient) -> None:
        p.follow_up[("week_12", "alt")] = 210.0
        p.follow_up[("week_12", "bilirubin")] = 48.0
        p.stop_day = 84

    def steps(*fs: Callable[[Patient], object]) -> Callable[[Patient], object]:
        return lambda p: [f(p) for f in fs]

    def woman(p: Patient) -> None:
        p.sex = "female"

    def alcohol(d: int, at: str | None) -> Callable[[Patient], object]:
        return lambda p: p.extra.append({"type": "occurrence", "kind": "alcohol",
                                         "start": day(d) + (f"T{at}" if at else "")})

    def investigational(stopped: int, half_life: float | None) -> Callable[[Patient], object]:
        attributes = {} if half_life is None else {"half_life": half_life}
        return lambda p: p.extra.append({"type": "occurrence", "kind": "investigational_drug",
                                         "start": day(stopped - 28), "end": day(stopped),
                                         "attributes": attributes})

    def glp1(stopped: int) -> Callable[[Patient], object]:
        return lambda p: p.extra.append({"type": "occurrence", "kind": "glp1_agonist",
                                         "start": day(stopped - 200), "end": day(stopped)})

    def cyp3a4_inhibitor(drug: str, stopped: int) -> Callable[[Patient], object]:
        return lambda p: p.extra.append({"type": "occurrence", "kind": "cyp3a4_inhibitor",
                                         "start": day(stopped - 10), "end": day(stopped),
                                         "attributes": {"drug": drug}})

    def weight_loss_drug(drug: str, stopped: int) -> Callable[[Patient], object]:
        return lambda p: p.extra.append({"type": "occurrence", "kind": "weight_loss_drug",
                                         "start": day(stopped - 60), "end": day(stopped),
                                         "attributes": {"drug": drug}})

    def no_range(kind: str) -> Callable[[Patient], object]:
        def change(p: Patient) -> None:
            p.screening[kind][2:] = [None, None]
        return change

    def not_collected(kind: str) -> Callable[[Patient], object]:
        def change(p: Patient) -> None:
            p.collected = sorted(KINDS - {kind})
        return change

    return [
        ("eligible; no insulin recorded (E2 unknown, assumed not met)", lambda p: None),
        ("eligible; insulin 0.68 U/kg, glimepiride 2 mg, 250 mL donation (E2, E3, E5 not met)",
         steps(insulin(60), sulfonylurea("glimepiride", 2), donation(250))),
        ("17 at consent, 18 at randomization (I1 not met)",
         lambda p: setattr(p, "born", "2007-02-20")),
        ("no consent record (I1 unknown)", lambda p: setattr(p, "consent", None)),
        ("HbA1c 11.2% (I2 not met); no height (I3 unknown)",
         lambda p: (p.lab("hba1c", 11.2), p.lab("height", None))),
        ("HbA1c not done (I2 unknown); BMI 48.4 (I3 not met)",
         lambda p: (p.lab("hba1c", None), p.lab("weight", 140.0), p.lab("height", 1.70, "m"))),
        ("creatinine 2.0 mg/dL, eGFR 38 (I4 not met)",
         lambda p: p.lab("creatinine", 2.0, "mg/dL")),
        ("eligible; creatinine 230 umol/L at week 12: the renal rule fires", renal_decline),
        ("no creatinine (I4 unknown); no bilirubin (I5 unknown)",
         lambda p: (p.lab("creatinine", None), p.lab("bilirubin", None))),
        ("AST 130 U/L (I5 not met; E6 met)", lambda p: p.lab("ast", 130.0)),
        ("type 1 diabetes (E1 met)",
         lambda p: p.extra.append({"type": "condition", "kind": "type1_diabetes",
                                   "start": "1999-05-01", "ongoing": True})),
        ("insulin 120 U at 88 kg, 1.36 U/kg (E2 met)", insulin(120)),
        ("glipizide 30 mg, over half of 40 mg (E3 met)", sulfonylurea("glipizide", 30)),
        ("tolbutamide, not in the table (E3 unknown); donation of unknown volume (E5 unknown)",
         steps(sulfonylurea("tolbutamide", 1000), donation(None))),
        ("QT 470 ms at 75/min, QTcF 506 ms (E4 met)",
         lambda p: (p.lab("qt", 470.0), p.lab("heart_rate", 75.0))),
        ("no heart rate (E4 unknown); 0.45 L donation 2 months before (E5 met)",
         steps(lambda p: p.lab("heart_rate", None), donation(450, -60))),
        ("eligible; ALT 210 U/L and bilirubin 48 umol/L at week 12: the liver rule fires",
         liver_injury),
        ("alkaline phosphatase not done (E6 unknown)", lambda p: p.lab("alp", None)),
        # issue 13: times of day, aggregates over records, windows from the data
        ("a woman with a positive urine pregnancy test 1 hour before randomization (I6 not met)",
         steps(woman, lambda p: setattr(p, "pregnancy_test", (0, "07:30", "positive")))),
        ("a woman whose pregnancy test is dated the day before, without a time: it may be more "
         "than 24 hours before (I6 unknown)",
         steps(woman, lambda p: setattr(p, "pregnancy_test", (-1, None, "negative")))),
        ("four oral antidiabetic drugs (I7 not met)",
         lambda p: p.drugs.extend(["sitagliptin", "glimepiride", "pioglitazone"])),
        # with metformin alone, a drug without its name makes 1 or 2 drugs: I7 is met anyway
        ("three oral antidiabetic drugs and a fourth recorded without its name: 3 or 4 drugs "
         "(I7 unknown)", lambda p: p.drugs.extend(["sitagliptin", "pioglitazone", ""])),
        ("metformin raised from 1500 to 2000 mg/day 30 days before randomization (I8 not met)",
         lambda p: setattr(p, "metformin", [(-400, -31, 1500), (-30, None, 2000)])),
        ("metformin started 60 days before randomization (I8 not met)",
         lambda p: setattr(p, "metformin", [(-60, None, 2000)])),
        ("metformin recorded without its dose for the last 2 months (I8 unknown)",
         lambda p: setattr(p, "metformin", [(-400, -61, 2000), (-60, None, None)])),
        ("alcohol the evening before randomization, at 20:00 (E7 met)",
         alcohol(-1, "20:00")),
        ("alcohol 2 days before randomization, without a time: maybe more than 48 hours "
         "before (E7 unknown)", alcohol(-2, None)),
        ("an investigational drug stopped 60 days before randomization (E8 met)",
         investigational(-60, 36)),
        ("an investigational drug stopped 120 days before, half-life 36 hours (E8 not met)",
         investigational(-120, 36)),
        ("an investigational drug stopped 120 days before, half-life 30 days (E8 met)",
         investigational(-120, 720)),
        ("an investigational drug stopped 120 days before, half-life not recorded (E8 unknown)",
         investigational(-120, None)),
        ("blood donations of 450 and 400 mL in the last 12 months (E9 met)",
         steps(donation(450, -300), donation(400, -120))),
        ("a blood donation 6 months before without its volume (E9 unknown)",
         donation(None, -180)),
        ("triplicate QTcF 452, 455 and 449 ms at screening (E10 met)",
         lambda p: setattr(p, "ecg_qtcf", [452.0, 455.0, 449.0])),
        ("no machine-read QTcF at screening (E10 unknown)",
         lambda p: setattr(p, "ecg_qtcf", [])),
        ("a GLP-1 receptor agonist stopped 60 days before randomization (E11 met)",
         glp1(-60)),
        ("a GLP-1 receptor agonist stopped exactly 90 days before randomization (E11 not met)",
         glp1(-90)),
        ("GLP-1 receptor agonist therapy not collected for this patient (E11 unknown)",
         not_collected("glp1_agonist")),
        ("TSH 6.2 mIU/L, above its normal range of 0.4 to 4.0 (E12 met)",
         lambda p: p.lab("tsh", 6.2)),
        ("TSH reported without its reference range (E12 unknown)", no_range("tsh")),
        ("itraconazole stopped 10 days before randomization: inside 5 half-lives of 64 hours "
         "(E13 met)", cyp3a4_inhibitor("itraconazole", -10)),
        ("clarithromycin stopped 10 days before randomization: outside 7 days and 5 half-lives "
         "of 5 hours (E13 not met)", cyp3a4_inhibitor("clarithromycin", -10)),
        ("a CYP3A4 inhibitor the table does not list, stopped 10 days before (E13 unknown)",
         cyp3a4_inhibitor("nefazodone", -10)),
        ("orlistat stopped 10 days before randomization, inside its 2-week washout (E14 met)",
         weight_loss_drug("orlistat", -10)),
        ("phentermine stopped 45 days before randomization, after its 1-month washout "
         "(E14 not met)", weight_loss_drug("Phentermine", -45)),
        ("a weight-loss medication the washout table does not list, stopped 10 days before "
         "(E14 unknown)", weight_loss_drug("lorcaserin", -10)),
    ]


def cohort() -> list[Patient]:
    out = []
    for i, (why, change) in enumerate(_scenarios(), 1):
        p = Patient(f"P{i:02d}", why, "active" if i % 2 else "control",
                    "female" if i % 3 == 0 else "male", "1965-04-12")
        change(p)
        out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    path = HERE / "patients.jsonl"
    lines = [json.dumps({"format": "trialcode.patients/1", "trial": "T2DM_ADDON",
                         "generator": "examples/t2dm_addon/make_cohort.py (synthetic, data cut "
                         f"{AS_OF.isoformat()})"})]
    lines += [json.dumps(p.json(), separators=(",", ":")) for p in cohort()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines) - 1} synthetic patients to {path}")
    for p in cohort():
        print(f"  {p.pid}: {p.why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
