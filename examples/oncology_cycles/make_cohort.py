"""Write the synthetic cohort of the illustrative oncology cycle study (ILLUSTRATIVE data).

    .venv/bin/python examples/oncology_cycles/make_cohort.py          # the 40-patient demo

Seeded: the same command always writes the same file. Each patient follows the protocol's
21-day cycles with the deviations real oncology data show, so that every status appears for the
new constructs: cycles delayed within their window (on time) and beyond it (late, later cycles
shifted), a day-8 dose held (missed) or given a day late or early, labs the day before day 1,
progression ending treatment (what the running cycle still planned is not applicable), a grade-4
adverse event discontinuing the drugs, serious adverse events with their follow-up visits on
time, late or missing, pregnancy tests only for women of childbearing potential, and patients
still on treatment at the data cut (not due).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
AS_OF = datetime.date(2024, 12, 31)
SEED = 20240108
FIRST = datetime.date(2024, 1, 8)


def _iso(d: datetime.date) -> str:
    return d.isoformat()


class _Patient:
    def __init__(self, pid: str, arm: str, sex: str, birth: datetime.date, day1: datetime.date):
        self.pid, self.arm, self.sex, self.birth, self.day1 = pid, arm, sex, birth, day1
        self.events: list[dict[str, Any]] = []

    def on(self, offset: int) -> datetime.date:
        return self.day1 + datetime.timedelta(days=offset)

    def add(self, event: dict[str, Any], when: datetime.date) -> None:
        if when <= AS_OF:
            self.events.append(event)

    def anchor(self, name: str, offset: int) -> None:
        self.add({"type": "anchor", "name": name, "date": _iso(self.on(offset))}, self.on(offset))

    def visit(self, name: str, offset: int) -> None:
        self.add({"type": "visit", "visit": name, "date": _iso(self.on(offset))}, self.on(offset))

    def obs(self, kind: str, offset: int, value: Any, unit: str | None = None,
            visit: str | None = None) -> None:
        ev: dict[str, Any] = {"type": "observation", "kind": kind, "date": _iso(self.on(offset)),
                              "value": value}
        if unit:
            ev["unit"] = unit
        if visit:
            ev["visit"] = visit
        self.add(ev, self.on(offset))

    def dose(self, drug: str, offset: int, amount: float, unit: str) -> None:
        self.add({"type": "dose", "intervention": drug, "start": _iso(self.on(offset)),
                  "amount": amount, "unit": unit}, self.on(offset))

    def occurrence(self, kind: str, offset: int, **attributes: Any) -> None:
        ev: dict[str, Any] = {"type": "occurrence", "kind": kind, "start": _iso(self.on(offset))}
        if attributes:
            ev["attributes"] = attributes
        self.add(ev, self.on(offset))

    def record(self) -> dict[str, Any]:
        self.events.sort(key=lambda e: e.get("date") or e.get("start"))
        return {"id": self.pid, "arm": self.arm, "sex": self.sex, "birth_date": _iso(self.birth),
                "events": self.events}


def patient(i: int, rng: random.Random) -> dict[str, Any]:
    """Patient i (offsets are days from registration, Day 1)."""
    arm = "xy" if i % 2 == 0 else "x_alone"
    sex = rng.choice(["female", "male"])
    p = _Patient(f"ONC{i + 1:03d}", arm, sex,
                 datetime.date(1950 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                 FIRST + datetime.timedelta(days=7 * i + rng.randrange(3)))
    p.anchor("registration", 0)
    # screening, within the 28 days before Day 1
    s = -rng.randint(3, 20)
    p.visit("screening", s)
    p.obs("anc", s, round(rng.uniform(1.8, 6.0), 1), "10*9/L", "screening")
    p.obs("platelets", s, rng.randrange(150, 400), "10*9/L", "screening")
    p.obs("alt", s, rng.randrange(10, 45), "U/L", "screening")
    p.obs("ecog", s, 2 if i % 17 == 5 else rng.choice([0, 1]), None, "screening")
    cbp = sex == "female" and rng.random() < 0.6
    if sex == "female":
        p.obs("childbearing_potential", s, "yes" if cbp else "no", None, "screening")
    if cbp:
        p.obs("pregnancy_test", s, "negative", None, "screening")
    p.obs("tumour_response", s, "SD", None, "screening")
    progression_cycle = rng.randint(2, 12)  # beyond 8: no progression during treatment
    grade4_cycle = rng.randint(3, 6) if i % 11 == 7 else None
    start = 0
    last_dose = 0
    ended = False
    for k in range(1, 9):
        planned = start
        r = rng.random()
        delay = 0 if r < 0.75 else (2 if r < 0.87 else (rng.randint(5, 8) if r < 0.96 else -2))
        start = planned + (delay if k > 1 else 0)
        if p.on(start) > AS_OF:
            break
        p.dose("drug_x", start, 100, "mg")
        if arm == "xy":
            p.dose("drug_y", start, 500, "mg")
        lab_day = start - (1 if rng.random() < 0.3 else 0)
        if rng.random() < 0.95:
            p.obs("anc", lab_day, round(rng.uniform(1.2, 5.0), 1), "10*9/L")
            p.obs("platelets", lab_day, rng.randrange(90, 350), "10*9/L")
            p.obs("alt", lab_day, rng.randrange(10, 60), "U/L")
        if cbp:
            p.obs("pregnancy_test", start - rng.randint(0, 2), "negative")
        last_dose = start
        progressed = start + (5 if i % 3 == 0 else 12)  # before or after the day-8 dose
        if k == progression_cycle:
            p.occurrence("progression", progressed)
            ended = True
        if grade4_cycle == k:
            p.occurrence("adverse_event", start + 4, serious="Y", grade=4)
            p.visit("sae_follow_up", start + 9)
            p.visit("early_termination", start + 10)
            ended = True
        if not ended or k == progression_cycle:
            d8 = rng.random()
            if d8 < 0.85 and not (grade4_cycle == k):
                day8 = start + 7 + (0 if d8 < 0.78 else rng.choice([2, -2]))
                if k != progression_cycle or day8 < progressed:
                    p.dose("drug_x", day8, 100, "mg")
                    last_dose = day8
                    p.obs("anc", day8, round(rng.uniform(1.0, 5.0), 1), "10*9/L")
                    p.obs("platelets", day8, rng.randrange(80, 350), "10*9/L")
        if ended:
            break
        start += 21
    # RECIST scans every 6 weeks from Day 43 until the end of treatment
    eot = last_dose + 30 + rng.choice([0, 0, 0, 3, -2, 9])
    scan = 42
    while scan <= last_dose + 30:
        if rng.random() < 0.92:
            response = "PD" if scan >= progression_cycle * 21 else rng.choice(["SD", "PR"])
            p.obs("tumour_response", scan + rng.choice([0, 0, 2, -3, 9]), response)
        scan += 42
    if ended or p.on(eot) <= AS_OF:
        if rng.random() < 0.9:
            p.visit("end_of_treatment", eot)
            for kind, value, unit in (("anc", 3.2, "10*9/L"), ("platelets", 210, "10*9/L"),
                                      ("alt", 22, "U/L"), ("ecog", 1, None)):
                p.obs(kind, eot, value, unit, "end_of_treatment")
    # serious adverse events and their follow-up visits (within 7 days)
    if rng.random() < 0.3:
        d = rng.randint(5, max(6, last_dose))
        p.occurrence("adverse_event", d, serious="Y", grade=3)
        follow = rng.random()
        if follow < 0.6:
            p.visit("sae_follow_up", d + rng.randint(2, 6))
            p.obs("alt", d + 3, rng.randrange(10, 60), "U/L", "sae_follow_up")
        elif follow < 0.85:
            p.visit("sae_follow_up", d + rng.randint(9, 14))
    if rng.random() < 0.5:
        p.occurrence("adverse_event", rng.randint(3, max(4, last_dose)), serious="N", grade=1)
    return p.record()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=40, help="number of patients (40)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed ({SEED})")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "patients.jsonl")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    header = {"format": "trialcode.patients/1", "trial": "ONCCYCLES01",
              "generator": f"examples/oncology_cycles/make_cohort.py --patients {args.patients} "
                           f"--seed {args.seed} (synthetic, ILLUSTRATIVE; data cut {AS_OF})"}
    with args.output.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        for i in range(args.patients):
            f.write(json.dumps(patient(i, rng), separators=(",", ":")) + "\n")
    print(f"wrote {args.patients} synthetic patients to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
