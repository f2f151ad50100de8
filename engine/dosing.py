"""Doses given against doses planned, per patient and intervention.

* `planned`: applicable planned administrations (not `not_applicable`).
* `due`: planned administrations that were given, or whose window closed by the as-of date
  (statuses on_time, early, late, missed); `given`: those given (on_time + early + late);
  `compliance` = given / due (None while nothing is due).
* `extra`: administrations no planned occurrence took (unplanned dose events; a dose over a
  period counts one per day of the period).
* A dose over a period (start..end) counts one administration for each planned occurrence it
  covers (a daily patch from day 0 to day 27 covers 28 planned daily doses).
* Gaps: the days between one administration (or the end of a period) and the next. A gap longer
  than the planned interval plus the window on both sides (the most two on-time doses can be
  apart) is reported; so is a trailing gap from the last administration to the end of the last
  missed planned window after it (or the as-of date, if earlier). `longest_gap_days` is the longest gap, reported or not.
* Mismatches: a matched administration whose amount differs from the regimen's amount for that
  day (titration steps followed; amounts compared after unit conversion).
"""

from __future__ import annotations

import datetime
from typing import Final

from engine.conformance import Actual
from engine.results import DoseGap, DoseMismatch, DosingSummary, ScheduleRow, Status
from engine.schedule import Outcome
from protocol.units import UnitError, convert

_ORD: Final = datetime.date.fromordinal
_VALUES: Final = tuple(s.value for s in Status)
# statuses by value: a str hashes in C, an Enum member's hash and iteration are Python code
_ON_TIME, _EARLY, _LATE = Status.ON_TIME.value, Status.EARLY.value, Status.LATE.value
_MISSED, _NOT_APPLICABLE = Status.MISSED.value, Status.NOT_APPLICABLE.value


def summarize(outcome: Outcome, as_of: datetime.date, stopped: dict[str, int]) -> list[DosingSummary]:
    """A DosingSummary for every intervention planned or given. `stopped` maps an intervention
    to the ordinal day its dosing was stopped (discontinuation or withdrawal)."""
    rows_by_iv: dict[str, list[ScheduleRow]] = {}
    for r in outcome.rows:
        if r.activity_type == "dose" and r.occurrence > 0:
            rows_by_iv.setdefault(r.activity, []).append(r)
    names = list(dict.fromkeys([*rows_by_iv, *outcome.dose_actuals]))
    out = []
    for iv in names:
        rows = rows_by_iv.get(iv, [])
        # counted by status value: a str key hashes in C, an Enum member's hash is Python code
        by_value = dict.fromkeys(_VALUES, 0)
        for r in rows:
            by_value[r.status._value_] += 1
        on_time, early, late = by_value[_ON_TIME], by_value[_EARLY], by_value[_LATE]
        missed, not_applicable = by_value[_MISSED], by_value[_NOT_APPLICABLE]
        actuals = outcome.dose_actuals.get(iv, [])
        extra = 0
        for a in actuals:
            if not a.used:
                extra += (a.end - a.day + 1) if a.end is not None and a.end > a.day else 1
        given = on_time + early + late
        due = given + missed
        every, before, after = outcome.dose_spacing.get(iv, (0, 0, 0))
        gaps, longest = _gaps(actuals, every + before + after if every else None, as_of,
                              missed > 0 and iv not in stopped, rows)
        out.append(DosingSummary(
            intervention=iv,
            planned=len(rows) - not_applicable,
            due=due,
            given=given,
            on_time=on_time,
            early=early,
            late=late,
            missed=missed,
            not_applicable=not_applicable,
            extra=extra,
            compliance=(given / due) if due else None,
            longest_gap_days=longest,
            gaps=tuple(gaps),
            mismatches=tuple(_mismatches(rows)),
            first_date=_ORD(min(a.day for a in actuals)) if actuals else None,
            last_date=_ORD(max(a.end or a.day for a in actuals)) if actuals else None,
        ))
    return out


def _gaps(actuals: list[Actual], allowed: int | None, as_of: datetime.date, trailing: bool,
          rows: list[ScheduleRow]) -> tuple[list[DoseGap], int | None]:
    spans = sorted((a.day, a.end if a.end is not None and a.end > a.day else a.day) for a in actuals)
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    gaps: list[DoseGap] = []
    longest: int | None = None
    for (_, e1), (s2, _) in zip(merged, merged[1:], strict=False):
        days = s2 - e1
        longest = days if longest is None else max(longest, days)
        if allowed is not None and days > allowed:
            gaps.append(DoseGap(_ORD(e1), _ORD(s2), days, allowed))
    if trailing and merged and allowed is not None:
        last = merged[-1][1]
        ends = [r.window_dates[1].toordinal() for r in rows
                if r.status is Status.MISSED and r.window_dates is not None]
        missed_after = [e for e in ends if e > last]
        if missed_after:
            # to the end of the last missed window (or the as-of date, if earlier)
            end = min(as_of.toordinal(), max(missed_after))
            days = end - last
            if days > allowed:
                gaps.append(DoseGap(_ORD(last), _ORD(end), days, allowed, trailing=True))
                longest = days if longest is None else max(longest, days)
    return gaps, longest


def _mismatches(rows: list[ScheduleRow]) -> list[DoseMismatch]:
    out = []
    for r in rows:
        if r.planned_amount is None or r.actual_amount is None or r.ref is None \
                or r.actual_date is None:
            continue
        actual = r.actual_amount
        if r.actual_unit and r.planned_unit and r.actual_unit != r.planned_unit:
            try:
                actual = convert(actual, r.actual_unit, r.planned_unit)
            except UnitError:
                actual = float("nan")
        if not abs(actual - r.planned_amount) <= 1e-6 * max(1.0, abs(r.planned_amount)):
            out.append(DoseMismatch(r.actual_date, r.ref, r.planned_amount, r.planned_unit,
                                    r.actual_amount, r.actual_unit))
    return out


__all__ = ["summarize"]
