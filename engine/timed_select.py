"""Selections in a window of hours or minutes: `within 48 hours before first dose of X`.

A window in days compares dates (engine.compile_select); one in hours or minutes compares
times of day, by the one rule of engine.clock: the record and the anchor each stand for the
instants their date and time may denote, and a record is in the window when it is for every
one of them, out of it when for none, and otherwise *maybe*: a date-only record on a day the
window cuts through, or any record against an anchor dated without a time. Maybe records are
returned beside the selected ones, with a sentence saying why the first of them is one, and
the operators that use the selection decide what they change (docs/engine-semantics.md).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Sequence

from engine import clock
from engine.clock import Stamp
from engine.expressions import Scope, derived_anchor_event, stamp_of
from engine.patient import ClockTime, DoseEvent, Event, Observation, Occurrence, stamp_text
from protocol import expr as ex
from protocol.timing import TimeUnit

Records = Sequence[tuple[Event, int]]
StampFn = Callable[[Scope], Stamp | None]


# ---- the anchor's date and time ------------------------------------------------------------------


def compile_anchor_stamp(ref: ex.AnchorRef) -> StampFn:
    """The anchor's date and time of day as known by the scope's cutoff (None: no date).

    The record that dates it is the one the day-level anchor uses; where several records of
    the anchor's day could be it (two doses on the first dosing day), the earliest (or, for a
    last dose, the latest) time when all of them have one, else the day without a time."""
    if isinstance(ref, ex.NamedAnchor):
        name = ref.name

        def named(scope: Scope) -> Stamp | None:
            idx, cutoff = scope.idx, scope.cutoff
            hit = idx.anchor_date(name, cutoff) or idx.first_visit(name, cutoff)
            if hit is not None:
                scope.cited.add(hit[1])
                return stamp_of(idx.patient.events[hit[1]])
            ev = derived_anchor_event(idx, name, cutoff, scope.anchor_effects)
            return (ev.date, ev.time) if ev is not None else None

        return named
    if isinstance(ref, ex.DoseAnchor):
        intervention = ref.intervention
        first = ref.which is ex.AggregateFn.FIRST

        def dose(scope: Scope) -> Stamp | None:
            s = scope.idx.doses.get(intervention)
            if not s:
                return None
            n = s.until(scope.cutoff)
            if not n:
                return None
            if first:
                day = s.dates[0]
                return _one_time(day, [e.start_time for e, d in  # type: ignore[union-attr]
                                       zip(s.events[:n], s.dates[:n], strict=True) if d == day],
                                 earliest=True)
            return _last_dose(s.events[:n], scope.cutoff)

        return dose
    if isinstance(ref, ex.PeriodDoseAnchor):
        def undated(scope: Scope) -> Stamp | None:  # the schedule's only (see compile_select)
            return None

        return undated
    kind = ref.kind
    earliest = ref.which is ex.AggregateFn.FIRST

    def event(scope: Scope) -> Stamp | None:
        recs = scope.idx.records(kind, scope.cutoff)
        if not recs:
            return None
        ev, pos = recs[0] if earliest else recs[-1]
        scope.cited.add(pos)
        return stamp_of(ev)

    return event


def _one_time(day: datetime.date, times: list[ClockTime | None], earliest: bool) -> Stamp:
    """The stamp of the first (or last) of several records of one day."""
    if len(times) == 1:
        return day, times[0]
    if any(t is None for t in times):
        return day, None
    known = [t for t in times if t is not None]
    if len({t.offset is None for t in known}) > 1:
        return day, None  # some with an offset and some without: no single clock orders them
    key = [(t.micros - (t.offset or 0) * clock.MICROS_PER_MINUTE, i) for i, t in enumerate(known)]
    pick = min(key) if earliest else max(key)
    return day, known[pick[1]]


def _last_dose(events: Sequence[Event], cutoff: datetime.date) -> Stamp:
    """The end of the last administration (a period counts to its end, capped at the cutoff)."""
    ends: list[tuple[datetime.date, ClockTime | None]] = []
    for ev in events:
        assert isinstance(ev, DoseEvent)
        if ev.end is not None:
            end, time = ev.end, ev.end_time
        else:
            end, time = ev.start, ev.start_time
        if end > cutoff:
            end, time = cutoff, None
        ends.append((end, time))
    last = max(e for e, _ in ends)
    return _one_time(last, [t for e, t in ends if e == last], earliest=False)


# ---- the selection ---------------------------------------------------------------------------------


def window_offsets(t: ex.Within) -> tuple[int, int]:
    """The window relative to its anchor, in microseconds: (-D, 0) before, (0, D) after."""
    d = t.duration
    unit = clock.MICROS_PER_HOUR if d.unit is TimeUnit.HOUR else clock.MICROS_PER_MINUTE
    span = clock.micros(d.amount, unit)
    return (-span, 0) if t.direction is ex.Direction.BEFORE else (0, span)


def record_text(ev: Event, cutoff: datetime.date) -> str:
    """`alcohol on 2024-03-01T20:00`, `fever from 2024-03-01T20:00 to 2024-03-02`."""
    if type(ev) is Occurrence:
        assert isinstance(ev, Occurrence)
        start = stamp_text(ev.start, ev.start_time)
        if ev.end is not None:
            return f"{ev.kind} from {start} to {stamp_text(ev.end, ev.end_time)}"
        if ev.ongoing:
            return f"{ev.kind} from {start}, ongoing"
        return f"{ev.kind} on {start}"
    date, time = stamp_of(ev)
    kind = ev.kind if isinstance(ev, Observation) else type(ev).__name__
    return f"{kind} on {stamp_text(date, time)}"


def _span_of(ev: Event, cutoff: datetime.date) -> tuple[Stamp, Stamp]:
    """A record's start and end stamps (the same object for a one-time record)."""
    if type(ev) is Occurrence:
        assert isinstance(ev, Occurrence)
        start = (ev.start, ev.start_time)
        if ev.end is not None:
            return start, (ev.end, ev.end_time)
        if ev.ongoing:
            return start, (cutoff, None)
        return start, start
    s = stamp_of(ev)
    return s, s


def timed_keep(scope: Scope, recs: Records, anchor: Stamp, t: ex.Within
               ) -> tuple[list[tuple[Event, int]], list[tuple[Event, int]]]:
    """The records of `recs` inside the window, and those that may be."""
    lo, hi = window_offsets(t)
    strict_lo = t.strict and t.direction is ex.Direction.BEFORE
    strict_hi = t.strict and t.direction is ex.Direction.AFTER
    # days that can hold an instant of the window (the widest reading of both stamps, and of
    # a time without an offset compared with one that has one)
    margin = datetime.timedelta(days=math.ceil((hi - lo) / clock.MICROS_PER_HOUR / 24) + 2)
    first_day, last_day = anchor[0] - margin, anchor[0] + margin
    cutoff = scope.cutoff
    kept: list[tuple[Event, int]] = []
    maybe: list[tuple[Event, int]] = []
    for r in recs:
        start, end = _span_of(r[0], cutoff)
        if start[0] > last_day or end[0] < first_day:
            continue
        where = clock.window_position(start, end, anchor, lo, hi, strict_lo, strict_hi)
        if where == clock.INSIDE:
            kept.append(r)
        elif where == clock.MAYBE:
            maybe.append(r)
    return kept, maybe


def why_maybe(ev: Event, anchor: Stamp, what: str, anchor_name: str,
              cutoff: datetime.date) -> str:
    """Why a record may or may not fall inside a window (for the evidence)."""
    start, end = _span_of(ev, cutoff)
    return maybe_text(ev, start, end, anchor, what, anchor_name, cutoff)


def maybe_text(ev: Event, start: Stamp, end: Stamp, anchor: Stamp, what: str,
               anchor_name: str, cutoff: datetime.date) -> str:
    """Why a record may or may not fall inside a window: which stamp lacks what."""
    reasons = []
    note = clock.precision_note(start) or (clock.precision_note(end) if end is not start
                                           else None)
    if note:
        reasons.append(f"the record {note}")
    anchor_note = clock.precision_note(anchor)
    if anchor_note:
        reasons.append(f"{anchor_name} {anchor_note}")
    if clock.utc_frame(start[1], end[1], anchor[1]) and not (
            clock.has_offset(start[1]) and clock.has_offset(anchor[1])):
        reasons.append("one time has a UTC offset and the other none")
    because = "; ".join(reasons) if reasons else "the times do not tell"
    return (f"{record_text(ev, cutoff)} may or may not be {what} ({anchor_name} "
            f"{stamp_text(anchor[0], anchor[1])}): {because}")
