"""Treatment cycles: planning each cycle from the actual start of the one before.

A `cycles` block (protocol.schedule.Cycles) plans its activities cycle by cycle, because each
cycle's dates depend on what happened in the previous one (docs/engine-semantics.md, section 4):

* Cycle 1 starts on the block's `from` day. Cycle k + 1 is planned to start `length` days after
  the **actual** start of cycle k: the day its *start activity* (the first dose given on day 1,
  else the first activity on day 1) was done, or its planned start if that was not done.
* The start activity's day-1 occurrence is matched while planning: it takes the earliest unused
  record dated from the midpoint with the previous occurrence of that activity (for cycle 1:
  half a cycle before) up to the day before the next cycle's window would open if this cycle
  were on time. Its status is judged against the planned start and the cycle's window, so a
  delayed cycle is `late` once, on its day-1 row.
* Every other occurrence of cycle k (day 8, the labs of day 1) is planned from cycle k's
  actual start: nominal = actual start + (cycle day - 1), with the activity's own window (none:
  that day only). The cycle's window applies to the start activity's day 1 (without one, that
  activity's own window). They are matched afterwards by the ordinary rules
  (engine.conformance).
* No cycle starts after an `until` event (the earliest one dated by the as-of date), a
  withdrawal, or a stop of the drug that starts the cycles; occurrences of the last cycle
  dated after the event are `not_applicable`. At
  most `max` cycles are planned; without `max`, cycles are planned while they start by the
  as-of date.
* Rows are labelled `C3D8` (cycle 3, day 8).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from engine.conformance import Actual, Planned
from protocol.schedule import CycleDays, Cycles
from protocol.timing import Calendar, Window
from protocol.vocab import ActivityKind, DataKind

if TYPE_CHECKING:
    from engine.schedule import _Run

MAX_CYCLES = 500  # an open-ended block is planned through the as-of date, at most this


def _window(w: Window | None, cal: Calendar) -> tuple[int, int] | None:
    if w is None:
        return None
    b, a = w.days(cal)
    return round(b), round(a)


class CycleItemSpec:
    """One item (data item or intervention) of an activity inside a cycle."""

    __slots__ = ("atype", "item", "offsets", "days", "window", "arms", "sex", "condition",
                 "epoch")

    def __init__(self, atype: str, item: str, days: tuple[int, ...],
                 window: tuple[int, int] | None, arms: frozenset[str], sex: str | None,
                 condition: str | None, epoch: str | None):
        self.atype = atype
        self.item = item
        self.days = days
        self.offsets = tuple(d - 1 for d in days)  # cycle day 1 is the start: offset 0
        self.window = window
        self.arms = arms
        self.sex = sex
        self.condition = condition
        self.epoch = epoch


class CycleSpec:
    """The per-trial part of a cycles block."""

    def __init__(self, c: Cycles, cal: Calendar, order: int, procedures: set[str]):
        self.name = c.name
        self.label = c.label
        self.order = order
        self.length = max(1, round(c.length.days(cal)))
        self.start = round(c.start.days(cal))
        win = _window(c.window, cal)
        self.window = win
        self.until = c.until
        self.max_cycles = c.max_cycles
        self.arms = frozenset(c.arms)
        self.epoch = c.epoch
        self.items: list[CycleItemSpec] = []
        first = c.first_day_item
        self.driver: tuple[str, str] | None = None
        for act in c.items:
            t = act.timing
            assert isinstance(t, CycleDays)
            own = _window(act.window, cal)
            for item in act.items:
                if act.kind is ActivityKind.DOSE:
                    atype = "dose"
                elif act.kind is ActivityKind.PROCEDURE or item in procedures:
                    atype = "procedure"
                else:
                    atype = "assess"
                spec = CycleItemSpec(atype, item, t.days, own,
                                     frozenset(act.arms) | self.arms,
                                     act.sex.value if act.sex is not None else None,
                                     act.condition, act.epoch or c.epoch)
                self.items.append(spec)
                if act is first and self.driver is None:
                    self.driver = (atype, item)

    @property
    def dose_items(self) -> set[str]:
        return {s.item for s in self.items if s.atype == "dose"}


def procedure_items(data: dict[str, DataKind]) -> set[str]:
    return {name for name, kind in data.items() if kind is DataKind.PROCEDURE}


def plan_cycles(run: _Run, spec: CycleSpec) -> None:
    """Plan (and match the start activity of) every cycle of `spec` for the patient of `run`."""
    rank = spec.order
    applicable: list[CycleItemSpec] = []
    for it in spec.items:
        if not run.applies(it.arms):
            run.na_row(rank, it.atype, it.item, it.arms, it.epoch)
        elif run.other_sex(it.sex):
            run.na_row(rank, it.atype, it.item, it.arms, it.epoch, it.sex)
        elif run.condition_holds(it.condition)[0]:
            applicable.append(it)
        else:
            run.group(it.atype, it.item, rank)
    if not applicable:
        return
    cut, cut_what = _end(run, spec)
    if cut is not None:
        for it in applicable:
            run.cycle_cuts[(it.atype, it.item)] = (cut, cut_what)
    driver = next((it for it in applicable if (it.atype, it.item) == spec.driver), None)
    driver_actuals = run.cached_actuals(driver.atype, driver.item) if driver is not None else []
    before = spec.window[0] if spec.window is not None else 0
    after = spec.window[1] if spec.window is not None else 0
    length = spec.length
    planned_start = run.root + spec.start
    previous_nominal: int | None = None  # the start activity's last occurrence so far
    taken: int | None = None  # the day of the last record taken as a cycle start
    k = 1
    while k <= MAX_CYCLES:
        if spec.max_cycles is not None and k > spec.max_cycles:
            break
        if cut is not None and planned_start > cut:
            break
        if spec.max_cycles is None and k > 1 and planned_start > run.as_of:
            break
        start = planned_start
        found: Actual | None = None
        if driver is not None and 0 in driver.offsets:
            if previous_nominal is None:
                low = planned_start - max(before, length // 2)
            else:
                low = min(-(-(previous_nominal + planned_start) // 2), planned_start - before)
            high = max(planned_start + length - before - 1, planned_start + after)
            for a in driver_actuals:
                if a.used or a.day < low or (taken is not None and a.day <= taken):
                    continue
                if a.day > high:
                    break
                if a.end is not None and a.end > a.day:
                    continue  # a period is not a cycle start
                found = a
                break
            if found is not None:
                start = found.day
                taken = found.day
        for it in applicable:
            group = run.group(it.atype, it.item, rank)
            # a dose carries the regimen's amount (steps counted from the block's first day)
            amounts = (run.regimen_amounts(it.item, [(k - 1) * length + o for o in it.offsets])
                       if it.atype == "dose" else None)
            for n, (day, off) in enumerate(zip(it.days, it.offsets, strict=True)):
                is_start = it is driver and off == 0
                nominal = planned_start if is_start else start + off
                w = spec.window if is_start and spec.window is not None else it.window
                b, a_ = w if w is not None else (0, 0)
                amount, unit = (amounts[n][0], amounts[n][1]) if amounts is not None else (None, None)
                p = Planned(it.atype, it.item, f"C{k}D{day}", nominal, nominal - b, nominal + a_,
                            it.epoch, amount, unit)
                if is_start and found is not None:
                    found.used = True
                    p.actual = found
                    if found.day != planned_start:  # said only when outside the window
                        shift = found.day - planned_start
                        p.note = (
                            f"cycle {k} started on {datetime.date.fromordinal(found.day)}, "
                            f"{abs(shift)} day{'s' if abs(shift) != 1 else ''} "
                            f"{'after' if shift > 0 else 'before'} its planned start "
                            f"({datetime.date.fromordinal(planned_start)}): its other days and "
                            "the later cycles count from that day")
                if cut is not None and nominal > cut:
                    p.na_reason = f"after {cut_what}"
                group.append(p)
                if it is driver:
                    previous_nominal = nominal
        planned_start = start + length
        k += 1


def _end(run: _Run, spec: CycleSpec) -> tuple[int | None, str]:
    """The day after which no cycle starts, and what happened then, in words."""
    best: int | None = None
    what = ""
    for name in spec.until:
        d = run.until_date(name)
        if d is not None and d <= run.as_of and (best is None or d < best):
            best, what = d, f"{name.replace('_', ' ')} on {datetime.date.fromordinal(d)}"
    stop = run.stops.for_other()
    if spec.driver is not None and spec.driver[0] == "dose":
        # the cycles are the treatment: they end when the drug that starts them stops
        stop = run.stops.for_dose(spec.driver[1])
    if stop is not None and (best is None or stop[0] <= best):
        best, what = stop[0] - 1, stop[1]
    return best, what
