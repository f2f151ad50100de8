"""Write the synthetic cohort of the illustrative two-period crossover (ILLUSTRATIVE data).

    .venv/bin/python examples/crossover_ab/make_cohort.py          # the 24-volunteer demo

Seeded: the same command always writes the same file. Each volunteer follows the protocol's
two periods in the order of their sequence (TR or RT), with the deviations phase 1 data show,
so that every status appears in both periods: an admission a day early, a discharge a day
late, a washout shorter than stated (Period 2's dose early) or longer (late), a Period 2 that
never started (missed, no disposition), a serious adverse event in Period 1 ending the
treatment (Period 2 not applicable), a withdrawal, and volunteers still in Period 1 or waiting
for Period 2 at the data cut (not due). Doses and plasma samples carry times of day (doses from
08:00, five minutes apart): samples a few minutes early or late, a 24-hour sample 25 minutes
late, a missed 8-hour sample, a sample whose time was not recorded (time unknown), a period
dose given without its time (its samples' timing unknown), and samples that name their
timepoint (SDTM --ELTM style: PT30M, PREDOSE).
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
PK_TIMES = (30, 60, 90, 120, 180, 240, 360, 480, 720, 1440, 2880)  # minutes after the dose


def _code(minutes: int) -> str:
    """`PT30M`, `PT2H`: the timepoint's code, as SDTM --ELTM writes it."""
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


def _concentration(minutes: int, rng: random.Random) -> float:
    """An illustrative single-dose profile (absorption over about 1.5 hours), with noise."""
    if minutes <= 0:
        return 0.0
    rise = min(1.0, minutes / 90)
    fall = 0.5 ** (max(0, minutes - 90) / 480)
    return round(380.0 * rise * fall * rng.uniform(0.85, 1.15), 1)


def _pk(v: _Volunteer, rng: random.Random, i: int, k: int, day1: int, dose_minute: int,
        until: int = 2880) -> None:
    """Period k's samples around its dose on `day1` at `dose_minute` (minutes after midnight),
    up to `until` minutes after it."""
    labelled = i % 3 == 0  # these volunteers' samples name their timepoint (SDTM --ELTM)
    v.sample(day1, dose_minute - rng.randint(10, 45), 0.0, "PREDOSE" if labelled else None)
    for t in PK_TIMES:
        if t > until:
            break
        if (i % 11 == 2 and k == 1 and t == 480) or (i % 13 == 9 and k == 2 and t == 2880):
            continue  # the sample was not drawn: missed
        jitter = rng.randint(-3, 3) if t <= 120 else rng.randint(-10, 10)
        if i % 8 == 1 and k == 1 and t == 60:
            jitter = -8  # 3 minutes before the window opened: early
        if i % 8 == 5 and k == 2 and t == 1440:
            jitter = 85  # 25 minutes after the window (±60 minutes) closed: late
        if i % 8 == 1 and k == 2 and t == 30:
            jitter = -12  # 7 minutes before the window opened: early
        if i % 8 == 6 and k == 1 and t == 720:
            jitter = 25  # 10 minutes after the window closed: late
        minute: int | None = dose_minute + t + jitter
        if i % 10 == 7 and k == 1 and t == 120:
            minute = None  # the sampling time was not recorded: time unknown
        day, at = (day1 + t // 1440, None) if minute is None else (day1, minute)
        v.sample(day, at, _concentration(t + jitter, rng), _code(t) if labelled else None)


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

    def dose(self, drug: str, offset: int, minute: int | None = None) -> None:
        self.add({"type": "dose", "intervention": drug, "start": self.stamp(offset, minute),
                  "amount": 100, "unit": "mg"}, self.on(offset))

    def stamp(self, offset: int, minute: int | None) -> str:
        """The date `offset` days after Day 1, at `minute` minutes after its midnight (which
        may be on a later day), as the patient file writes it; the date alone without one."""
        if minute is None:
            return _iso(self.on(offset))
        at = datetime.datetime.combine(self.on(offset), datetime.time()) + datetime.timedelta(
            minutes=minute)
        return at.strftime("%Y-%m-%dT%H:%M")

    def sample(self, offset: int, minute: int | None, value: float,
               timepoint: str | None) -> None:
        """A plasma sample for pharmacokinetics, with its time of day (if recorded)."""
        text = self.stamp(offset, minute)
        ev: dict[str, Any] = {"type": "observation", "kind": "drug_conc", "date": text,
                              "value": value, "unit": "ng/mL"}
        if timepoint:
            ev["timepoint"] = timepoint
        self.add(ev, datetime.date.fromisoformat(text[:10]))

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
    # weight and height that give the BMI drawn, the height from its own generator so that the
    # rest of the cohort stays the same whatever is measured at screening
    bmi = round(rng.uniform(19.0, 29.0), 1)
    height = random.Random(f"height {i}").randrange(155, 195)
    v.obs("weight", s, round(bmi * (height / 100) ** 2, 1), "kg", "screening")
    v.obs("height", s, height, "cm", "screening")
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
        dose_minute = 8 * 60 + 5 * (i % 6)
        untimed = i == 16 and k == 2  # the dose's time was not recorded: its samples' unknown
        v.dose(drug, day1, None if untimed else dose_minute)
        last_dose = day1
        if i == 19 and k == 1:  # withdraws consent the morning after the dose
            _pk(v, rng, i, k, day1, dose_minute, until=720)
            v.disposition("withdrew consent", day1 + 1)
            break
        _pk(v, rng, i, k, day1, dose_minute)
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
    if not withdrew and not no_period_2 and i != 19:
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
