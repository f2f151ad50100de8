"""A seeded synthetic cohort for the seed trial NCT06802718 (interferon maintenance in AML).

    for patient in cohort(96, seed=20230101):   # a generator: any N, constant memory
        ...

Patient `i` depends only on (seed, i), so the first 96 patients of a 100,000-patient benchmark
cohort are the demo cohort. Arms are allocated 1:1 in permuted blocks of 4.

What the cohort holds, on purpose, so that every part of a report has something to show:

* eligibility: most patients eligible; ~6% with ALT above 2.5 x ULN at screening (ineligible,
  I5); ~2% with a history of hypothyroidism (ineligible, E8); ~4% whose screening creatinine was
  not done (indeterminate, I6);
* schedule: weekly peg_ifn doses in the interferon arm, a few a day or two off, ~3% late by 3-4
  days (outside the +-2 day window) and ~2% missed; fortnightly blood counts, 4-weekly liver
  tests, 3-monthly TSH and MRD, with the odd late or missed assessment; baseline occasionally a
  day late; the end-of-treatment visit 30 days after the last dose;
* stopping: ~12% of the interferon arm with a grade 3 related adverse event lasting more than
  14 days, discontinued for toxicity (a third of them never discontinued by the site and still
  dosed afterwards: what a monitor must see); ~4% molecular relapses (MRD rising more than 1 log from its lowest on two
  consecutive samples), withdrawn; a few consent withdrawals;
* data after the as-of date (the data cut) are not generated.

Nothing here is real patient data.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from engine.patient import (
    AnchorEvent,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    Patient,
    RecordRef,
    VisitEvent,
)

__all__ = ["AS_OF", "SEED", "TRIAL", "cohort", "synthetic_patient"]

TRIAL = "NCT06802718"
SEED = 20230101
AS_OF = datetime.date(2025, 1, 31)  # the registry record's last update: the demo's data cut
FIRST_RANDOMIZATION = datetime.date(2023, 1, 16)
ENROLLMENT_DAYS = 620

_DAY = datetime.timedelta(days=1)
_REF = RecordRef("synthetic", "generated")

# (kind, unit, low, high, typical value) of the trial's labs.
LABS = {
    "alt": ("U/L", 7.0, 40.0, 24.0),
    "ast": ("U/L", 13.0, 35.0, 22.0),
    "bilirubin": ("umol/L", 3.4, 20.5, 10.0),
    "creatinine": ("umol/L", 45.0, 104.0, 70.0),
    "anc": ("10*9/L", 1.8, 6.3, 3.2),
    "platelets": ("10*9/L", 125.0, 350.0, 210.0),
    "tsh": ("m[iU]/L", 0.27, 4.2, 1.9),
}


def cohort(n: int, seed: int = SEED, as_of: datetime.date = AS_OF) -> Iterator[Patient]:
    """`n` synthetic patients, one at a time."""
    arms: list[str] = []
    for i in range(n):
        if i % 4 == 0:
            block = random.Random(seed * 7919 + i // 4)
            arms = ["ifn", "ifn", "control", "control"]
            block.shuffle(arms)
        yield synthetic_patient(i, seed, arms[i % 4], as_of)


def synthetic_patient(i: int, seed: int, arm: str, as_of: datetime.date = AS_OF) -> Patient:
    """Patient number `i` (0-based) of the cohort with this seed."""
    return _Builder(i, seed, arm, as_of).build()


class _Builder:
    def __init__(self, i: int, seed: int, arm: str, as_of: datetime.date):
        self.rng = random.Random(seed * 1_000_003 + i)
        self.i = i
        self.arm = arm
        self.as_of = as_of
        self.events: list[Event] = []
        self.id = f"P{i + 1:03d}" if i < 999 else f"P{i + 1}"
        self.mrd_diagnosis = 0.0
        self.mrd_baseline = 0.0

    # -- helpers --

    def add(self, event: Event) -> None:
        self.events.append(event)

    def lab(
        self,
        kind: str,
        date: datetime.date,
        visit: str | None = None,
        factor: float = 1.0,
        value: float | None = None,
    ) -> None:
        if date > self.as_of:
            return
        unit, low, high, typical = LABS[kind]
        if value is None:
            value = round(typical * factor * self.rng.uniform(0.7, 1.35), 1)
        self.add(Observation(kind, date, _REF, value, unit, low, high, None, visit))

    def obs(self, kind: str, date: datetime.date, value: float | str, **kw: object) -> None:
        if date <= self.as_of:
            self.add(Observation(kind, date, _REF, value, **kw))  # type: ignore[arg-type]

    def jitter(self, late_p: float = 0.03, miss_p: float = 0.02, big: int = 4) -> int | None:
        """Days off the nominal date: mostly 0 or +-1, sometimes `big`+ days late, or None."""
        r = self.rng.random()
        if r < miss_p:
            return None
        if r < miss_p + late_p:
            return big + self.rng.randint(0, 1)
        return self.rng.choice((0, 0, 0, 0, 1, -1, 1, 2, -2)) if r < 0.9 else 0

    # -- the patient --

    def build(self) -> Patient:
        rng = self.rng
        r = FIRST_RANDOMIZATION + rng.randint(0, ENROLLMENT_DAYS) * _DAY
        sex = "female" if rng.random() < 0.48 else "male"
        age = rng.randint(19, 68)
        birth = r - datetime.timedelta(days=int(age * 365.25) + rng.randint(0, 300))
        profile = rng.random()
        ineligible_lab = profile < 0.06
        history_thyroid = 0.06 <= profile < 0.08
        missing_creatinine = 0.08 <= profile < 0.12
        fate = rng.random()
        toxicity = self.arm == "ifn" and fate < 0.12 and not ineligible_lab
        relapse = 0.12 <= fate < 0.16 or (self.arm == "control" and fate < 0.04)
        withdraws = 0.16 <= fate < 0.18

        self.history(r)
        screening = r - rng.randint(1, 7) * _DAY
        self.add(VisitEvent("screening", "Screening", screening, _REF))
        self.obs("remission", screening, "CR1", visit="screening")
        self.obs("flow_mrd", screening, "negative", visit="screening")
        mrd_screen = self.mrd_baseline
        self.obs("molecular_mrd", screening, mrd_screen, unit="%", detected=True, visit="screening")
        self.obs("ecog", screening, float(rng.choice((0, 0, 1, 1, 1, 2))), visit="screening")
        self.lab(
            "alt",
            screening,
            "screening",
            value=round(rng.uniform(3.1, 4.0) * 40, 1) if ineligible_lab else None,
        )
        self.lab("ast", screening, "screening")
        self.lab("bilirubin", screening, "screening")
        if not missing_creatinine:
            self.lab("creatinine", screening, "screening")
        if sex == "female":
            self.obs("pregnancy_test", screening, "negative", visit="screening")
        if history_thyroid:
            start = r - rng.randint(900, 3000) * _DAY
            self.add(Occurrence("hypothyroidism", start, _REF, start + 200 * _DAY))

        self.add(AnchorEvent("randomization", r, _REF))
        base = r + (1 if rng.random() < 0.04 else 0) * _DAY
        if base <= self.as_of:
            self.add(VisitEvent("baseline", "Baseline", base, _REF))
            for kind in ("anc", "platelets", "alt", "ast", "tsh"):
                high_alt = ineligible_lab and kind == "alt"
                self.lab(kind, base, "baseline", factor=5.5 if high_alt else 1.0)

        # When the patient stops: toxicity discontinuation, relapse withdrawal, consent.
        stop_tox: datetime.date | None = None
        ae_start: datetime.date | None = None
        keeps_dosing = False
        if toxicity:
            ae_start = r + rng.randint(25, 120) * _DAY
            ae_days = rng.randint(17, 30)
            term = rng.choice(("Neutropenia", "Hepatotoxicity", "Fatigue", "Depression"))
            if ae_start <= self.as_of:
                end = ae_start + ae_days * _DAY
                ongoing = end > self.as_of
                self.add(
                    Occurrence(
                        "adverse_event",
                        ae_start,
                        _REF,
                        None if ongoing else end,
                        ongoing,
                        (("term", term), ("grade", 3), ("related", "peg_ifn"), ("serious", False)),
                    )
                )
                stop_tox = ae_start + (15 + rng.randint(0, 3)) * _DAY
                keeps_dosing = self.i % 3 == 1  # a site that did not stop the drug
        withdraw_date: datetime.date | None = None
        withdraw_reason = "withdrawal by subject"
        relapse_days = rng.choice((90, 180)) if relapse else None
        if withdraws and not toxicity:
            withdraw_date = r + rng.randint(40, 300) * _DAY

        # Scheduled assessments, until the patient leaves (withdrawal) or the data cut.
        end_follow = withdraw_date or (r + 800 * _DAY)
        for day in range(14, 14 + 180, 14):  # "for 6 months": before day 14 + 180
            d = self.shift(r + day * _DAY, 0.01, 0.02)
            if d and d < end_follow:
                self.lab("anc", d, factor=0.8 if self.arm == "ifn" else 1.0)
                self.lab("platelets", d, factor=0.85 if self.arm == "ifn" else 1.0)
        for day in range(28, 28 + 180, 28):
            d = self.shift(r + day * _DAY, 0.02, 0.02, big=5)
            if d and d < end_follow:
                for kind in ("alt", "ast", "bilirubin"):
                    self.lab(kind, d, factor=1.2 if self.arm == "ifn" else 1.0)
        for day in (90, 180) if self.arm == "ifn" else ():  # until end of treatment
            d = self.shift(r + day * _DAY, 0.02, 0.02, big=9)
            if d and d < end_follow:
                self.lab("tsh", d)

        # Molecular MRD: month 3 and 6, then with remission at months 12, 18, 24. A relapse:
        # two consecutive samples more than 1 log above the lowest, then withdrawal.
        lowest = self.mrd_baseline
        rising = 0
        for month, day in ((3, 90), (6, 180), (12, 360), (18, 540), (24, 720)):
            d = self.shift(r + day * _DAY, 0.02, 0.02, big=16)
            if not d or d >= end_follow:
                continue
            if relapse_days is not None and day >= relapse_days:
                rising += 1
                value = round(lowest * (30 if rising == 1 else 400), 6)
                self.obs("molecular_mrd", d, value, unit="%", detected=True)
                if rising == 2:
                    withdraw_date = d + rng.randint(2, 10) * _DAY
                    withdraw_reason = "molecular relapse"
                    end_follow = withdraw_date
                continue
            value = round(lowest * rng.uniform(0.2, 1.0), 6)
            lowest = min(lowest, value)
            if value < 0.00005:
                self.obs("molecular_mrd", d, 0.0, unit="%", detected=False)
            else:
                self.obs("molecular_mrd", d, value, unit="%", detected=True)
            if month >= 12:
                self.obs("remission", d, "CR1")

        # Doses (interferon arm): weekly from day 1 for 6 months.
        last_dose: datetime.date | None = None
        if self.arm == "ifn":
            for day in range(1, 1 + 180, 7):
                nominal = r + day * _DAY
                if withdraw_date and nominal >= withdraw_date:
                    break
                if stop_tox and nominal >= stop_tox and not keeps_dosing:
                    break
                if ae_start and ae_start <= nominal < ae_start + 10 * _DAY and not keeps_dosing:
                    continue  # doses held during the toxicity
                d = self.shift(nominal, 0.03, 0.02, big=3)
                if d is None or d > self.as_of:
                    continue
                amount = 135.0 if rng.random() > 0.01 else 90.0
                self.add(DoseEvent("peg_ifn", d, _REF, None, amount, "ug", "subcutaneous"))
                last_dose = d
            if last_dose and not withdraw_date:
                eot = self.shift(last_dose + 30 * _DAY, 0.04, 0.03, big=9)
                if eot and eot <= self.as_of:
                    self.add(VisitEvent("end_of_treatment", "End of treatment", eot, _REF))

        # Adverse events of everyday interferon treatment (and of life in the control arm).
        for _ in range(rng.randint(0, 3 if self.arm == "ifn" else 1)):
            start = r + rng.randint(2, 170) * _DAY
            if start > self.as_of:
                continue
            if self.arm == "ifn":
                term = rng.choice(("Influenza-like illness", "Pyrexia", "Fatigue", "Neutropenia"))
                grade, related = rng.choice((1, 1, 2, 2, 3)), "peg_ifn"
                days = rng.randint(1, 10) if grade == 3 else rng.randint(1, 20)
            else:
                term = rng.choice(("Upper respiratory tract infection", "Headache", "Back pain"))
                grade, related, days = rng.choice((1, 1, 2)), "none", rng.randint(2, 12)
            self.add(
                Occurrence(
                    "adverse_event",
                    start,
                    _REF,
                    start + days * _DAY,
                    False,
                    (("term", term), ("grade", grade), ("related", related), ("serious", False)),
                )
            )

        if stop_tox and stop_tox <= self.as_of and not keeps_dosing:
            self.add(AnchorEvent("discontinuation", stop_tox, _REF))
            self.add(
                Disposition(
                    "discontinued",
                    stop_tox,
                    _REF,
                    "toxicity: grade 3 adverse event related to peg_ifn",
                )
            )
            et = stop_tox + rng.randint(0, 5) * _DAY
            if et <= self.as_of:
                self.add(VisitEvent("early_termination", "Early termination", et, _REF))
        if withdraw_date and withdraw_date <= self.as_of:
            self.add(Disposition("withdrawn", withdraw_date, _REF, withdraw_reason))
            self.add(VisitEvent("early_termination", "Early termination", withdraw_date, _REF))
        if rng.random() < 0.05:
            d = r + rng.randint(20, 150) * _DAY
            if d <= self.as_of and (not withdraw_date or d < withdraw_date):
                self.add(VisitEvent(None, "Unscheduled", d, _REF))
                self.lab("anc", d)

        self.events.sort(key=_date_of)
        return Patient(self.id, _REF, self.arm, sex, birth, None, tuple(self.events))

    def shift(
        self, nominal: datetime.date, late_p: float, miss_p: float, big: int = 4
    ) -> datetime.date | None:
        off = self.jitter(late_p, miss_p, big)
        return None if off is None else nominal + off * _DAY

    def history(self, r: datetime.date) -> None:
        """Diagnosis, induction to CR1, consolidation: before randomization."""
        rng = self.rng
        n_induction = 1 if rng.random() < 0.8 else 2
        n_consolidation = rng.choice((4, 4, 5, 6))
        start = r - (60 + 35 * (n_induction + n_consolidation) + rng.randint(0, 40)) * _DAY
        self.mrd_diagnosis = round(rng.uniform(15.0, 80.0), 2)
        self.obs("molecular_mrd", start - 5 * _DAY, self.mrd_diagnosis, unit="%", detected=True)
        self.obs("karyotype", start - 5 * _DAY, rng.choice(("normal", "abnormal", "abnormal")))
        d = start
        for _ in range(n_induction):
            self.add(Occurrence("induction_cycle", d, _REF, d + 6 * _DAY))
            d += 35 * _DAY
        self.obs("remission", d - 7 * _DAY, "CR1")
        n_hdac = rng.randint(2, n_consolidation)
        regimens = ["HDAC"] * n_hdac + ["DA"] * (n_consolidation - n_hdac)
        for regimen in regimens:
            self.add(
                Occurrence(
                    "consolidation_cycle", d, _REF, d + 4 * _DAY, False, (("regimen", regimen),)
                )
            )
            d += 35 * _DAY
        # More than 3 logs below diagnosis, still detectable.
        self.mrd_baseline = round(self.mrd_diagnosis * 10 ** -rng.uniform(3.2, 4.3), 6)


def _date_of(event: Event) -> datetime.date:
    return event.start if isinstance(event, (Occurrence, DoseEvent)) else event.date
