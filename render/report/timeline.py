"""A patient's timeline as compact data, drawn in the page by `timeline.js` when it scrolls into
view: planned windows, what happened, adverse events, stops.

One lane per activity (all visits share a lane), days on the x axis counted from the schedule's
anchor (0 is the anchor's day), a dashed line at the data cut. The schedule's rows give
protocol days, which skip 0 when the protocol counts its days from 1: they are placed by their
distance from the anchor, so that a dose on the anchor's day sits on the anchor's line with the
stops, adverse events and data cut, and the axis is labelled in the protocol's own day numbers.
Every mark carries its tooltip text: the dates, the status and the source record. The layout (lanes, day range, ticks, packing of adverse events)
is decided here; the script only maps days to pixels and draws, with DOM calls that set text as
text (no markup is ever parsed from the data).

A timeline is a dict (JSON):

    {"h": height px, "lo": first day, "hi": last day, "cut": day of the data cut,
     "cutl": "data cut 2015-03-31",
     "anchor": "randomization 2013-01-02", "lanes": [label, ...], "ae": rows of adverse events,
     "ticks": [day, ...], "m": [mark, ...]}

plus `"d1": 1` when the protocol counts its days from 1: a tick at day t >= 0 (days from the
anchor) is then labelled day t + 1.

Marks (arrays, the first element says which):

    ["r", lane, status, window_lo, window_hi, day, title]   a planned occurrence: its window
        (days, inclusive; null without one) and a mark at `day` by status: `o` on time, `e` early
        or late (at the actual day), `m` missed (a cross at the planned day), `n` not due (a
        hollow circle at the planned day)
    ["d", lane, status, day, title]     the same in a dense dose lane (only deviations drawn)
    ["u", lane, day, title]             an unplanned event
    ["b", lane, first, last, title]     a dose period from the data
    ["a", row, first, last, colour, label, title]   an adverse event (row: 0-based AE row)
    ["s", day, kind, from_rule, title]  a stopping event (StoppingEvent.kind: only `stop` is red)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from engine.patient import DoseEvent, Occurrence, Patient, stamp_text
from engine.results import PatientResult, ScheduleRow, Status
from protocol.timing import Calendar

LANE = 18
TOP = 26
DENSE = 60  # a dose lane with more planned occurrences than this is drawn compressed

STATUS_CODE = {
    Status.ON_TIME: "o",
    Status.EARLY: "e",
    Status.LATE: "e",
    Status.MISSED: "m",
    Status.NOT_DUE: "n",
    Status.TIME_UNKNOWN: "t",
}
HIDDEN = (Status.NOT_APPLICABLE, Status.NOT_COLLECTED)  # nothing to draw: no date, no record


def _grade_color(grade: object) -> str:
    if isinstance(grade, (int, float)) and not isinstance(grade, bool):
        if grade >= 4:
            return "#b71c1c"
        if grade >= 3:
            return "#e65100"
        if grade >= 2:
            return "#f9a825"
    return "#fdd835"


def _fmt_day(d: int | float | None) -> str:
    if d is None:
        return "?"
    return str(int(d)) if float(d).is_integer() else f"{d:g}"


def _row_title(r: ScheduleRow) -> str:
    parts = [f"{r.activity} — {r.label} (occurrence {r.occurrence})", f"status: {_status_text(r)}"]
    if r.planned_date:
        parts.append(f"planned {r.planned_date.isoformat()} (day {_fmt_day(r.planned_day)})")
    if r.window_dates:
        a, b = r.window_dates
        parts.append(f"window {a.isoformat()} to {b.isoformat()}")
    t = r.timing
    if t is not None and t.window is not None:
        parts.append(f"window {stamp_text(*t.window[0])} to {stamp_text(*t.window[1])} "
                     f"({t.timepoint} from the {t.reference})")
    if r.actual_date:
        when = stamp_text(*t.actual) if t is not None and t.actual is not None \
            else r.actual_date.isoformat()
        parts.append(f"actual {when} (day {_fmt_day(r.actual_day)})")
    if r.actual_amount is not None or r.planned_amount is not None:
        unit = r.actual_unit or r.planned_unit or ""
        parts.append(
            f"dose {_fmt_day(r.actual_amount)} {unit} (planned {_fmt_day(r.planned_amount)})"
        )
    if r.reason:
        parts.append(r.reason)
    if r.ref:
        parts.append(f"source: {r.ref}")
    return "\n".join(parts)


def _status_text(r: ScheduleRow) -> str:
    minutes = r.timing.deviation_minutes if r.timing is not None else None
    if r.status in (Status.EARLY, Status.LATE) and minutes is not None:
        return f"{r.status.value} by {_fmt_day(abs(minutes))} min"
    if r.status in (Status.EARLY, Status.LATE) and r.deviation_days is not None:
        n = abs(r.deviation_days)
        return f"{r.status.value.replace('_', ' ')} by {n} day{'s' if n != 1 else ''}"
    return r.status.value.replace("_", " ")


def timeline_data(
    result: PatientResult,
    patient: Patient | None,
    as_of: datetime.date,
    anchor_name: str = "day 0",
    calendar: Calendar | None = None,
) -> dict[str, Any] | str:
    """The timeline of one patient (the module docstring gives the layout), or why there is
    none. `calendar`: how the protocol numbers its days (the rows' days are its days)."""
    anchor = result.anchor_date
    if anchor is None:
        return (f"No timeline: the patient has no {anchor_name} date, so no planned day can be "
                "placed.")
    from_1 = calendar is not None and calendar.first_day == 1

    def day_of(d: datetime.date) -> int:
        return (d - anchor).days

    def at(day: Any) -> Any:
        """Where a row's protocol day goes: its distance in days from the anchor."""
        if day is None or not from_1:
            return day
        return day - 1 if day >= 1 else day

    def shown(offset: int) -> int:
        """The protocol's number for the day `offset` days from the anchor."""
        return offset + 1 if from_1 and offset >= 0 else offset

    rows = [r for r in result.schedule if r.status not in HIDDEN]
    cut = day_of(as_of)
    planned_days = [at(r.window[0]) for r in rows if r.window] + [
        at(r.planned_day) for r in rows if r.planned_day is not None and not r.window
    ]
    actual_days = [at(r.actual_day) for r in rows if r.actual_day is not None]
    actual_days += [at(u.day) for u in result.unplanned if u.day is not None]
    adverse = _adverse_events(patient)
    doses = [e for e in patient.events if isinstance(e, DoseEvent)] if patient else []
    lo = min(
        planned_days + [d for d in actual_days if d >= min(planned_days, default=-7) - 14] + [-7]
    )
    due_planned = [at(r.window[1]) if r.window else at(r.planned_day) for r in rows]
    hi_candidates = [d for d in due_planned if d is not None and d <= cut + 60]
    hi = max(hi_candidates + actual_days + [min(cut, max(hi_candidates, default=cut)), 7])
    for s in result.stopping:
        hi = max(hi, day_of(s.date))
    hi = int(hi + max(7, (hi - lo) * 0.02))
    lo = int(lo - max(3, (hi - lo) * 0.02))

    # Lanes: visits first, then assessments and doses in schedule order, then adverse events.
    lanes: list[tuple[str, str]] = []
    if any(r.activity_type == "visit" for r in rows) or any(
        u.activity_type == "visit" for u in result.unplanned
    ):
        lanes.append(("visit", "visits"))
    for item in list(rows) + list(result.unplanned):
        key = (item.activity_type, item.activity)
        if item.activity_type != "visit" and key not in lanes:
            lanes.append(key)
    for d in doses:
        if ("dose", d.intervention) not in lanes:
            lanes.append(("dose", d.intervention))
    ae_rows = _pack(adverse, day_of, cut)
    lane_of = {key: i for i, key in enumerate(lanes)}
    marks: list[list[Any]] = []

    # Dose periods from the data (daily dosing is drawn as bars).
    for d in doses:
        a = day_of(d.start)
        b = day_of(d.end) if d.end else a
        if b > a:
            title = f"{d.intervention} {_fmt_day(d.amount)} {d.unit or ''} given {d.start.isoformat()}"
            title += f" to {d.end.isoformat()}" if d.end else ""
            marks.append(["b", lane_of[("dose", d.intervention)], a, b,
                          f"{title}\nsource: {d.ref}"])

    # Planned occurrences.
    per_lane: dict[tuple[str, str], int] = {}
    for r in rows:
        if r.activity_type == "dose":
            key = (r.activity_type, r.activity)
            per_lane[key] = per_lane.get(key, 0) + 1
    dense = {key for key, n in per_lane.items() if n > DENSE}
    for r in rows:
        key = ("visit", "visits") if r.activity_type == "visit" else (r.activity_type, r.activity)
        lane = lane_of.get(key)
        if lane is None:
            continue
        code = STATUS_CODE[r.status]
        if key in dense:
            if code == "m" and r.planned_day is not None:
                marks.append(["d", lane, code, at(r.planned_day), _row_title(r)])
            elif code == "e" and r.actual_day is not None:
                marks.append(["d", lane, code, at(r.actual_day), _row_title(r)])
            continue
        day = at(r.planned_day if code in ("m", "n") else r.actual_day)
        if day is None and not r.window:
            continue
        w = r.window
        marks.append(["r", lane, code, at(w[0]) if w else None, at(w[1]) if w else None, day,
                      _row_title(r)])

    # Unplanned events.
    for u in result.unplanned:
        key = ("visit", "visits") if u.activity_type == "visit" else (u.activity_type, u.activity)
        lane = lane_of.get(key)
        if lane is None or u.day is None or at(u.day) < lo:
            continue
        marks.append(["u", lane, at(u.day),
                      f"unplanned {u.activity} on {u.date.isoformat()} (day {u.day})"
                      + (f"\n{u.reason}" if u.reason else "") + f"\nsource: {u.ref}"])

    # Adverse events, packed into rows.
    for j, bars in enumerate(ae_rows):
        for ae, a, b in bars:
            grade = ae.attribute("grade")
            term = ae.attribute("term") or ae.kind
            end = (ae.end.isoformat() if ae.end
                   else ("ongoing" if ae.ongoing else ae.start.isoformat()))
            title = (
                f"{term}, grade {_fmt_day(grade) if grade is not None else '?'}"  # type: ignore[arg-type]
                f"\n{ae.start.isoformat()} to {end}"
            )
            related = ae.attribute("related")
            if related not in (None, "none", False):
                title += f"\nrelated: {related}"
            title += f"\nsource: {ae.ref}"
            marks.append(["a", j, a, b, _grade_color(grade), str(term), title])

    # Stopping events across all lanes.
    for s in result.stopping:
        stop_day = day_of(s.date)
        marks.append(["s", stop_day, s.kind(anchor), 1 if s.source == "rule" else 0,
                       f"{s.rule}: {s.action} on {s.date.isoformat()} (day {shown(stop_day)}), "
                       f"{s.status.value}" + "".join(f"\n{e.explanation}" for e in s.evidence)])

    n_lanes = len(lanes) + len(ae_rows)
    data: dict[str, Any] = {
        "h": TOP + n_lanes * LANE + 30,
        "lo": lo,
        "hi": max(hi, lo + 1),
        "cut": cut,
        "cutl": f"data cut {as_of.isoformat()}",
        "anchor": f"{anchor_name} {anchor.isoformat()}",
        "lanes": [name if kind in ("visit", "assess") else f"{name} ({kind})"
                  for kind, name in lanes],
        "ae": len(ae_rows),
        "ticks": _ticks(lo, hi),
        "m": marks,
    }
    if from_1:
        data["d1"] = 1
    return data


def _adverse_events(patient: Patient | None) -> list[Occurrence]:
    if patient is None:
        return []
    return [e for e in patient.events if isinstance(e, Occurrence) and e.kind == "adverse_event"]


def _pack(
    events: Iterable[Occurrence], day_of: object, cut: int
) -> list[list[tuple[Occurrence, int, int]]]:
    """Greedy interval packing of adverse events into at most 6 rows."""
    rows: list[list[tuple[Occurrence, int, int]]] = []
    ends: list[int] = []
    for ae in sorted(events, key=lambda e: e.start):
        a = day_of(ae.start)  # type: ignore[operator]
        b = day_of(ae.end) if ae.end else (cut if ae.ongoing else a)  # type: ignore[operator]
        b = max(a, b)
        for k, end in enumerate(ends):
            if a > end + 1:
                rows[k].append((ae, a, b))
                ends[k] = b + 12  # room for a label
                break
        else:
            if len(rows) < 6:
                rows.append([(ae, a, b)])
                ends.append(b + 12)
            else:
                rows[-1].append((ae, a, b))
    return rows


def _ticks(lo: int, hi: int) -> list[int]:
    span = hi - lo
    step = next((s for s in (7, 14, 28, 56, 91, 182, 364, 728) if span / s <= 12), 1456)
    first = (lo // step + 1) * step
    return list(range(first, hi + 1, step))
