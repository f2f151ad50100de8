"""Write the synthetic cohort of the illustrative phase 1 PK study (ILLUSTRATIVE data).

    .venv/bin/python examples/phase1_pk/make_cohort.py          # the 24-participant demo

Seeded: the same command always writes the same file. Participants start in groups of four, a
week apart, dosed five minutes apart from 08:00, and their records carry times of day as a
clinical unit's do. The deviations are those phase 1 data show, so that every status of a
sub-day timepoint appears: samples a few minutes early or late (a 24-hour sample 25 minutes
late), a missed 8-hour sample, a sample whose time was not recorded (time unknown), a Day 14
dose given but not timed (its samples' timing unknown), a Day 14 dose not given (its samples
not applicable), a withdrawal and a severe adverse event ending the study early (the later
samples not applicable), participants still dosing at the data cut (not due), ECGs in
triplicate (replicates), and samples that name their timepoint as SDTM --ELTM does.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FIRST = datetime.date(2024, 5, 6)
AS_OF = datetime.date(2024, 6, 19)  # the last group is on Day 10: Day 14 is not due
SEED = 20240506
PK_TIMES = (30, 60, 120, 240, 480, 720, 1440)  # minutes after the dose
PK_CODES = {30: "PT30M", 60: "PT1H", 120: "PT2H", 240: "PT4H", 480: "PT8H", 720: "PT12H",
            1440: "PT24H"}


class _Participant:
    def __init__(self, pid: str, sex: str, birth: datetime.date, day1: datetime.date,
                 dose_minute: int):
        self.pid, self.sex, self.birth, self.day1 = pid, sex, birth, day1
        self.dose_minute = dose_minute  # minutes after midnight of the daily dose
        self.events: list[dict[str, Any]] = []

    def at(self, day: int, minute: int | None) -> tuple[datetime.datetime | datetime.date, str]:
        """Protocol Day `day` (Day 1 is the first dose) at `minute` after midnight (a minute
        past 1440 is the next day), as the patient file writes it."""
        date = self.day1 + datetime.timedelta(days=day - 1 if day >= 1 else day)
        if minute is None:
            return date, date.isoformat()
        stamp = datetime.datetime.combine(date, datetime.time()) + datetime.timedelta(
            minutes=minute)
        return stamp, stamp.strftime("%Y-%m-%dT%H:%M")

    def add(self, event: dict[str, Any], when: datetime.datetime | datetime.date) -> None:
        day = when.date() if isinstance(when, datetime.datetime) else when
        if day <= AS_OF:
            self.events.append(event)

    def anchor(self, name: str, day: int, minute: int | None) -> None:
        when, text = self.at(day, minute)
        self.add({"type": "anchor", "name": name, "date": text}, when)

    def visit(self, name: str, day: int, minute: int | None = None) -> None:
        when, text = self.at(day, minute)
        self.add({"type": "visit", "visit": name, "date": text}, when)

    def obs(self, kind: str, day: int, minute: int | None, value: Any, unit: str | None = None,
            visit: str | None = None, timepoint: str | None = None,
            low: float | None = None, high: float | None = None) -> None:
        when, text = self.at(day, minute)
        ev: dict[str, Any] = {"type": "observation", "kind": kind, "date": text, "value": value}
        if unit:
            ev["unit"] = unit
        if low is not None:
            ev["low"], ev["high"] = low, high
        if visit:
            ev["visit"] = visit
        if timepoint:
            ev["timepoint"] = timepoint
        self.add(ev, when)

    def dose(self, day: int, minute: int | None) -> None:
        when, text = self.at(day, minute)
        self.add({"type": "dose", "intervention": "drug_a", "start": text, "amount": 100,
                  "unit": "mg", "route": "oral"}, when)

    def record(self) -> dict[str, Any]:
        self.events.sort(key=lambda e: e.get("date") or e.get("start"))
        return {"id": self.pid, "arm": "active", "sex": self.sex,
                "birth_date": self.birth.isoformat(), "events": self.events}


def _vitals(p: _Participant, rng: random.Random, day: int, minute: int | None,
            visit: str | None = None) -> None:
    p.obs("sysbp", day, minute, rng.randrange(105, 135), "mm[Hg]", visit)
    p.obs("diabp", day, minute, rng.randrange(62, 85), "mm[Hg]", visit)
    p.obs("pulse", day, minute, rng.randrange(55, 85), "/min", visit)


def _labs(p: _Participant, rng: random.Random, day: int, minute: int | None, visit: str) -> None:
    p.obs("alt", day, minute, rng.randrange(12, 38), "U/L", visit, low=7, high=40)
    p.obs("creatinine", day, minute, rng.randrange(60, 95), "umol/L", visit, low=45, high=110)


def _concentration(minutes: int, day: int, rng: random.Random) -> float:
    """An illustrative one-compartment profile (accumulating to Day 14), with noise."""
    peak = 410.0 if day >= 14 else 300.0
    if minutes <= 0:
        return round(0.0 if day == 1 else 95.0 * rng.uniform(0.8, 1.2), 1)
    rise = min(1.0, minutes / 120)
    fall = 0.5 ** (max(0, minutes - 120) / 600)
    return round(peak * rise * fall * rng.uniform(0.85, 1.15), 1)


def participant(i: int, rng: random.Random) -> dict[str, Any]:
    """Participant i: the protocol's schedule with this participant's deviations."""
    sex = "female" if i % 3 == 1 else "male"
    p = _Participant(f"PK{i + 1:03d}", sex,
                     datetime.date(1970 + rng.randrange(30), 1 + rng.randrange(12),
                                   1 + rng.randrange(28)),
                     FIRST + datetime.timedelta(days=7 * (i // 4)), 8 * 60 + 5 * (i % 4))
    dm = p.dose_minute
    withdraw_day = 8 if i == 10 else None      # withdraws (consent) on Day 8
    severe_day = 12 if i == 17 else None       # a grade 3 adverse event on Day 12: withdrawn
    last_day = withdraw_day or severe_day or 14
    # screening and admission
    s = -rng.randint(3, 20)
    p.visit("screening", s, 9 * 60)
    _labs(p, rng, s, 9 * 60 + 10, "screening")
    _vitals(p, rng, s, 9 * 60 + 20, "screening")
    p.obs("ecg", s, 9 * 60 + 30, "normal", visit="screening")
    if sex == "female":
        p.obs("pregnancy_test", s, 9 * 60 + 10, "negative", visit="screening")
    p.visit("admission", -1, 17 * 60)
    _labs(p, rng, -1, 17 * 60 + 15, "admission")
    _vitals(p, rng, -1, 17 * 60 + 30, "admission")
    if sex == "female":
        p.obs("pregnancy_test", -1, 17 * 60 + 15, "negative", visit="admission")
    p.anchor("first_dose", 1, dm)
    p.visit("day_1", 1, dm - 45)
    _vitals(p, rng, 1, dm - 40, "day_1")
    # the daily doses (Day 14 not given for participant 6, given without its time for 10)
    for day in range(1, last_day + 1):
        if day == 14 and i == 5:
            continue
        p.dose(day, None if (day == 14 and i == 9) else dm + rng.choice([0, 0, 1, 2]))
    for day in (1, 14):
        if day > last_day or (day == 14 and i == 5):  # no dose, no samples
            continue
        profile(p, rng, i, day)
    for day in (4, 7, 10):  # trough samples, up to 30 minutes before the dose
        if day > last_day:
            continue
        if i == 14 and day == 7:
            p.obs("pk_conc", day, dm + 10, _concentration(0, day, rng), "ng/mL")  # after it: late
        else:
            p.obs("pk_conc", day, dm - rng.randint(5, 25), _concentration(0, day, rng), "ng/mL")
    if last_day >= 7:
        p.visit("day_7", 7, dm + 180)
        _labs(p, rng, 7, dm + 185, "day_7")
        _vitals(p, rng, 7, dm + 190, "day_7")
    if last_day >= 14:
        p.visit("day_14", 14, dm - 45)
        _vitals(p, rng, 14, dm - 40, "day_14")
        p.visit("discharge", 15, dm + 120)
        _labs(p, rng, 15, dm + 125, "discharge")
        _vitals(p, rng, 15, dm + 130, "discharge")
        p.obs("ecg", 15, dm + 135, "normal", visit="discharge")
        follow = 21 + rng.choice([0] * 8 + [1, -1, 4])  # 7 days after the last dose, ±2 days
        p.visit("follow_up", follow, 10 * 60)
        p.obs("alt", follow, 10 * 60 + 5, rng.randrange(12, 38), "U/L", "follow_up", low=7,
              high=40)
        _vitals(p, rng, follow, 10 * 60 + 10, "follow_up")
    if withdraw_day is not None:
        p.anchor("withdrawal", withdraw_day, 11 * 60)
    if severe_day is not None:
        p.events.append({"type": "adverse_event", "term": "Hepatic enzyme increased", "grade": 3,
                         "start": p.at(severe_day, 14 * 60)[1],
                         "end": p.at(severe_day + 6, None)[1], "serious": False})
    if withdraw_day or severe_day:
        end = (withdraw_day or severe_day or 0) + 1
        p.visit("early_termination", end, 10 * 60)
        p.obs("alt", end, 10 * 60 + 5, 88 if severe_day else 25, "U/L", "early_termination",
              low=7, high=40)
        _vitals(p, rng, end, 10 * 60 + 10, "early_termination")
        p.obs("ecg", end, 10 * 60 + 20, "normal", visit="early_termination")
    return p.record()


def profile(p: _Participant, rng: random.Random, i: int, day: int) -> None:
    """The samples of a PK day, the post-dose vital signs and the ECG triplicate."""
    dm = p.dose_minute
    labelled = i % 3 == 0  # these participants' samples name their timepoint (SDTM --ELTM)
    p.obs("pk_conc", day, dm - rng.randint(5, 40), _concentration(0, day, rng), "ng/mL",
          timepoint="predose" if labelled else None)
    for t in PK_TIMES:
        if i == 3 and t == 480 and day == 1:
            continue  # the 8-hour sample was not drawn: missed
        jitter = rng.randint(-3, 3) if t <= 120 else rng.randint(-10, 10)
        if i == 8 and t == 60 and day == 1:
            jitter = -8   # 3 minutes before the window opened: early
        if i == 12 and t == 1440 and day == 1:
            jitter = 40   # 25 minutes after the window closed: late
        minute: int | None = dm + t + jitter
        if i == 7 and t == 120 and day == 1:
            minute = None  # the sampling time was not recorded: time unknown
        p.obs("pk_conc", day, minute, _concentration(t + jitter, day, rng), "ng/mL",
              timepoint=PK_CODES[t] if labelled else None)
    _vitals(p, rng, day, dm + 60 + rng.randint(-6, 6))
    for k in range(3):  # the ECG in triplicate, two minutes apart
        p.obs("ecg", day, dm + 118 + 2 * k, "normal")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=24, help="number (24)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed ({SEED})")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "patients.jsonl")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    header = {"format": "trialcode.patients/1", "trial": "PK1MAD01",
              "generator": f"examples/phase1_pk/make_cohort.py --participants "
                           f"{args.participants} --seed {args.seed} (synthetic, ILLUSTRATIVE; "
                           f"data cut {AS_OF})"}
    with args.output.open("w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        for i in range(args.participants):
            f.write(json.dumps(participant(i, rng), separators=(",", ":")) + "\n")
    print(f"wrote {args.participants} synthetic participants to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
