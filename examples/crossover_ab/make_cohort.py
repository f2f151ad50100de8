"""Write the synthetic cohort of the illustrative two-period crossover (ILLUSTRATIVE data).

    .venv/bin/python examples/crossover_ab/make_cohort.py          # the 24-volunteer demo

Seeded: the same command always writes the same file. Each volunteer follows the protocol's
two periods in the order of their sequence (TR or RT), with the deviations phase 1 data show,
so that every status appears in both periods: an admission a day early, a discharge a day
late, a plasma sample missed or drawn a day late, a washout shorter than stated (Period 2's
dose early) or longer (late), a Period 2 that never started (missed, no disposition), a serious
adverse event in Period 1 ending the treatment (Period 2 not applicable), a withdrawal, and
volunteers still in Period 1 or waiting for Period 2 at the data cut (not due).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = 20240301
FIRST = datetime.date(2024, 3, 4)
AS_OF = FIRST + datetime.timedelta(days=92)  # 2024-06-04
SEQUENCES = {"tr": ("test", "reference"), "rt": ("reference", "test")}


def _iso(d: datetime.date) -> str:
    return d.isoformat()


class _Volunteer:
    def __init__(self, pid: str, arm: str, sex: str, birth: datetime.date, day1: datetime.date):
        self.pid, self.arm, self.sex, self.birth, self.day1 = pid, arm, sex, birth, day1
        self.events: list[dict[str, Any]] = []

    def on(self, offset: int) -> datetime.date:
        """The date `offset` days after Day 1 (randomization and Period 1's dose)."""
        return self.day1 + datetime.timedelta(days=offset)

    def add(self, event: dict[str, Any], when: datetime.date) -> None:
        if when <= AS_OF:
            self.events.append(event)

    def anchor(self, name: str, offset: int) -> None:
        self.add({"type": "anchor", "name": name, "date": _iso(self.on(offset))}, self.on(offset))

    def visit(self, name: str, offset: int) -> None:
        self.add({"type": "visit", "visit": name, "date": _iso(self.on(offset))}, self.on(offset))

    def obs(self, kind: str, offset: int, value: Any, unit: str | None = None,
            visit: str | None = None, normal: tuple[int, int] | None = None) -> None:
        ev: dict[str, Any] = {"type": "observation", "kind": kind, "date": _iso(self.on(offset)),
                              "value": value}
        if unit:
            ev["unit"] = unit
        if normal:
            ev["low"], ev["high"] = normal
        if visit:
            ev["visit"] = visit
        self.add(ev, self.on(offset))

    def dose(self, drug: str, offset: int) -> None:
        self.add({"type": "dose", "intervention": drug, "start": _iso(self.on(offset)),
                  "amount": 100, "unit": "mg"}, self.on(offset))

    def occurrence(self, kind: str, offset: int, **attributes: Any) -> None:
        ev: dict[str, Any] = {"type": "occurrence", "kind": kind, "start": _iso(self.on(offset))}
        if attributes:
            ev["attributes"] = attributes
        self.add(ev, self.on(offset))

    def disposition(self, status: str, offset: int) -> None:
        self.add({"type": "disposition", "status": status, "date": _iso(self.on(offset))},
                 self.on(offset))

    def record(self) -> dict[str, Any]:
        self.events.sort(key=lambda e: e.get("date") or e.get("start"))
        return {"id": self.pid, "arm": self.arm, "sex": self.sex, "birth_date": _iso(self.birth),
                "events": self.events}


def _safety(v: _Volunteer, rng: random.Random, offset: int, visit: str | None,
            labs: bool = True) -> None:
    if labs:
        v.obs("alt", offset, rng.randrange(10, 40), "U/L", visit, (7, 40))
        v.obs("ast", offset, rng.randrange(12, 38), "U/L", visit, (10, 40))
    v.obs("sysbp", offset, rng.randrange(105, 135), "mm[Hg]", visit)
    v.obs("heart_rate", offset, rng.randrange(55, 85), "/min", visit)


def volunteer(i: int, rng: random.Random) -> dict[str, Any]:
    """Volunteer i (offsets are days from Day 1; Day -1 is the day before)."""
    arm = "tr" if i % 2 == 0 else "rt"
    sex = rng.choice(["female", "male"])
    v = _Volunteer(f"XO{i + 1:03d}", arm, sex,
                   datetime.date(1970 + rng.randrange(30), 1 + rng.randrange(12),
                                 1 + rng.randrange(28)),
                   FIRST + datetime.timedelta(days=4 * i))
    # screening, 2 to 20 days before Day 1 (Days -28 to -2)
    s = -rng.randint(3, 21)
    v.visit("screening", s)
    _safety(v, rng, s, "screening")
    v.obs("creatinine", s, rng.randrange(55, 100), "umol/L", "screening")
    v.obs("bmi", s, round(rng.uniform(19.0, 29.0), 1), "kg/m2", "screening")
    if sex == "female":
        v.obs("pregnancy_test", s, "negative", None, "screening")
    v.anchor("randomization", 0)
    sae = i % 8 == 3  # a serious adverse event the day after Period 1's dose
    withdrew = i % 12 == 7  # withdraws consent after Period 1's dose
    no_period_2 = i % 10 == 5  # never comes back for Period 2 (nothing recorded)
    last_dose = 0
    for k, drug in enumerate(SEQUENCES[arm], 1):
        if k == 1:
            day1 = 1 if i % 7 == 6 else 0  # dosed a day late, inside the +1 window
        else:
            washout = rng.randint(7, 10)
            if i % 9 == 4:
                washout = 5  # shorter than stated: Period 2's dose early
            elif i % 9 == 6:
                washout = 17  # longer than 14 days (+1): late
            day1 = last_dose + washout
        early = (i % 6 == 1 and k == 2) or (i % 6 == 3 and k == 1)
        admission = day1 - (2 if early else 1)  # a day early, now and then
        v.visit("admission", admission)
        _safety(v, rng, admission, "admission")
        v.obs("creatinine", admission, rng.randrange(55, 100), "umol/L", "admission")
        if sex == "female":
            v.obs("pregnancy_test", admission, "negative", None, "admission")
        v.dose(drug, day1)
        last_dose = day1
        for d in (0, 1, 2):
            if (i % 11 == 2 and d == 1 and k == 1) or (i % 13 == 9 and d == 2 and k == 2):
                continue  # a sample missed
            v.obs("drug_conc", day1 + d, round(rng.uniform(5, 400), 1), "ng/mL")
        for d in (0, 1):
            _safety(v, rng, day1 + d, None, labs=False)
        if sae and k == 1:
            v.occurrence("adverse_event", day1 + 1, serious="Y", grade=3)
            v.visit("early_termination", day1 + 4)
            v.obs("alt", day1 + 4, rng.randrange(10, 40), "U/L", "early_termination", (7, 40))
            v.obs("ast", day1 + 4, rng.randrange(12, 38), "U/L", "early_termination", (10, 40))
        discharge = day1 + (3 if i % 5 == 4 and k == 1 else 2)  # a day late, now and then
        v.visit("discharge", discharge)
        _safety(v, rng, discharge, "discharge")
        if sae or (no_period_2 and k == 1):
            break
        if withdrew and k == 1:
            v.disposition("withdrew consent", day1 + 3)
            break
    if not withdrew and not no_period_2:
        follow = last_dose + 7 + rng.choice([0, 0, 0, 1, -1, 4])
        if rng.random() < 0.92:
            v.visit("follow_up", follow)
            _safety(v, rng, follow, "follow_up")
    if rng.random() < 0.25:
        v.occurrence("adverse_event", rng.randint(1, max(2, last_dose)), serious="N", grade=1)
    if i == 13:  # ALT above 1.5 x ULN at admission to Period 1: ineligible, dosed all the same
        for e in v.events:
            if e.get("kind") == "alt" and e.get("visit") == "admission":
                e["value"] = 75
                break
    return v.record()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--patients", type=int, default=24, help="number of volunteers (24)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed ({SEED})")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "patients.jsonl")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    header = {"format": "trialcode.patients/1", "trial": "XOVERAB01",
              "generator": f"examples/crossover_ab/make_cohort.py --patients {args.patients} "
                           f"--seed {args.seed} (synthetic, ILLUSTRATIVE; data cut {AS_OF})"}
    with args.output.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        for i in range(args.patients):
            f.write(json.dumps(volunteer(i, rng), separators=(",", ":")) + "\n")
    print(f"wrote {args.patients} synthetic volunteers to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
