"""Anchors and record selections (`KIND [temporal] [where cond]`), compiled once per expression.

The rules are those of `engine.expressions` (docs/engine-semantics.md, section 2); this module
only moves the work that does not depend on the patient out of the per-patient path: the
anchor's name and kind, the messages, the temporal filter's shape and its duration in days
(per calendar), and whether a `where` condition reads only the record (then its truth for a
record is remembered for the patient: a stopping rule re-selects the same records on every
candidate date).
"""

from __future__ import annotations

import datetime
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from engine import describe
from engine.expressions import Scope, derived_anchor, start_of
from engine.logic import TRUE, UNKNOWN, Truth
from engine.patient import Event, Observation
from engine.timed_select import compile_anchor_stamp, timed_keep, why_maybe
from protocol import expr as ex
from protocol.timing import Calendar, Duration

if TYPE_CHECKING:
    from engine.compile_expr import Cond

Records = Sequence[tuple[Event, int]]
# In a window of hours or minutes: the records that may or may not fall inside it (their
# dates or times cannot tell), and why the first of them may (engine.timed_select).
Maybe = tuple[Records, str]
# (records kept, records a `where` might keep (unknown), why the selection cannot be made,
# the latest record outside the window when the window kept none, the maybe records of a
# window in hours or minutes (None for any other selection))
Selected = tuple[Records, Records, str | None, tuple[Event, int] | None, Maybe | None]
AnchorFn = Callable[[Scope], datetime.date | None]
SelectFn = Callable[[Scope], Selected]


def window_days(duration: Duration) -> Callable[[Calendar], datetime.timedelta]:
    """`round(duration.days(calendar))` days as a timedelta, remembered for the last calendar
    (a trial has one calendar; the calendar is only known when the patient is evaluated)."""
    last: list[object] = [None, None]

    def days(calendar: Calendar) -> datetime.timedelta:
        if last[0] is not calendar:
            last[0], last[1] = calendar, datetime.timedelta(days=round(duration.days(calendar)))
        return last[1]  # type: ignore[return-value]

    return days


# ---- anchors ----------------------------------------------------------------------------------


def anchor_name(ref: ex.AnchorRef) -> str:
    """The anchor's name in messages: `randomization`, `last dose of peg_ifn`, `first remission`."""
    if isinstance(ref, ex.NamedAnchor):
        return ref.name
    if isinstance(ref, ex.DoseAnchor):
        which = "first" if ref.which is ex.AggregateFn.FIRST else "last"
        return f"{which} dose of {ref.intervention}"
    if isinstance(ref, ex.PeriodDoseAnchor):
        which = "first" if ref.which is ex.AggregateFn.FIRST else "last"
        return f"{which} dose of period {ref.period}"
    return f"{ref.which.value} {ref.kind}"


def compile_anchor(ref: ex.AnchorRef) -> AnchorFn:
    """The anchor's date as known by the scope's cutoff (None: no date). Remembered per
    (anchor, cutoff) in the scope; the records that dated it are cited on every use."""
    find = _anchor_finder(ref)

    def anchor(scope: Scope) -> datetime.date | None:
        # the last (cutoff, date, positions) per distinct anchor: criteria share one cutoff,
        # a stopping rule moves through its dates in order
        cutoff = scope.cutoff
        hit = scope.anchor_cache.get(find)
        if hit is None or hit[0] != cutoff:
            found = find(scope)
            hit = scope.anchor_cache[find] = (cutoff, found[0], found[1])
        if hit[2]:
            scope.cited.update(hit[2])
        return hit[1]

    return anchor


Finder = Callable[[Scope], tuple[datetime.date | None, tuple[int, ...]]]
# one finder per distinct anchor (compared by value), so that criteria counting from the same
# anchor share its dating in the scope's cache
_FINDERS: dict[ex.AnchorRef, Finder] = {}


def _anchor_finder(ref: ex.AnchorRef) -> Finder:
    hit = _FINDERS.get(ref)
    if hit is None:
        if len(_FINDERS) > 20000:
            _FINDERS.clear()
        hit = _FINDERS[ref] = _make_finder(ref)
    return hit


def _make_finder(ref: ex.AnchorRef) -> Finder:
    if isinstance(ref, ex.NamedAnchor):
        name = ref.name

        def named(scope: Scope) -> tuple[datetime.date | None, tuple[int, ...]]:
            idx, cutoff = scope.idx, scope.cutoff
            hit = idx.anchor_date(name, cutoff) or idx.first_visit(name, cutoff)
            if hit is not None:
                return hit[0], (hit[1],)
            return derived_anchor(idx, name, cutoff, scope.anchor_effects), ()

        return named
    if isinstance(ref, ex.DoseAnchor):
        intervention = ref.intervention
        first = ref.which is ex.AggregateFn.FIRST

        def dose(scope: Scope) -> tuple[datetime.date | None, tuple[int, ...]]:
            bounds = scope.idx.dose_bounds(intervention, scope.cutoff)
            if bounds is None:
                return None, ()
            return (bounds[0] if first else bounds[1]), ()

        return dose
    if isinstance(ref, ex.PeriodDoseAnchor):
        # a period's dose times the schedule only (the checker rejects it in an expression):
        # without a date, what it would select is unknown
        def undated(scope: Scope) -> tuple[datetime.date | None, tuple[int, ...]]:
            return None, ()

        return undated
    kind = ref.kind
    earliest = ref.which is ex.AggregateFn.FIRST

    def event(scope: Scope) -> tuple[datetime.date | None, tuple[int, ...]]:
        recs = scope.idx.records(kind, scope.cutoff)
        if not recs:
            return None, ()
        ev, pos = recs[0] if earliest else recs[-1]
        return start_of(ev), (pos,)

    return event


# ---- temporal filters -------------------------------------------------------------------------

# keep(scope, records, anchor date) -> the records inside the temporal filter
KeepFn = Callable[[Scope, Records, datetime.date], Records]


def _compile_temporal(t: ex.Temporal) -> KeepFn:  # noqa: C901 - one case per filter
    if isinstance(t, ex.Within):
        days = window_days(t.duration)
        backward = t.direction is ex.Direction.BEFORE
        # `strictly within`: the far bound's day is excluded (less than D before / after)
        one = datetime.timedelta(days=1 if t.strict else 0)

        def within(scope: Scope, recs: Records, a: datetime.date) -> Records:
            d = days(scope.calendar)
            lo, hi = (a - d + one, a) if backward else (a, a + d - one)
            cutoff = scope.cutoff
            kept = []
            for r in recs:
                ev = r[0]
                if type(ev) is Observation:
                    if lo <= ev.date <= hi:
                        kept.append(r)
                    continue
                # an occurrence overlaps the window: it ends when it ended, at the cutoff
                # while ongoing, else on its start day
                start = ev.start  # type: ignore[union-attr]
                end = ev.end  # type: ignore[union-attr]
                if end is None:
                    end = cutoff if ev.ongoing else start  # type: ignore[union-attr]
                if start <= hi and end >= lo:
                    kept.append(r)
            return kept

        return within
    if isinstance(t, ex.Relative):
        strict = t.strict
        if t.direction is ex.Direction.BEFORE:

            def before(scope: Scope, recs: Records, a: datetime.date) -> Records:
                # every record is dated (started) on or before the cutoff: an anchor at or
                # after it keeps them all
                if a > scope.cutoff or (a == scope.cutoff and not strict):
                    return recs
                if strict:
                    return [r for r in recs if _start(r[0]) < a]
                return [r for r in recs if _start(r[0]) <= a]

            return before

        def after(scope: Scope, recs: Records, a: datetime.date) -> Records:
            cutoff = scope.cutoff
            kept = []
            for r in recs:
                end = _end(r[0], cutoff)
                if end > a if strict else end >= a:
                    kept.append(r)
            return kept

        return after

    def ongoing(scope: Scope, recs: Records, a: datetime.date) -> Records:
        # started on or before A, and not ended before A (no end date = not ended); an
        # observation is "ongoing" only on its own day
        kept = []
        for r in recs:
            ev = r[0]
            if type(ev) is Observation:
                if ev.date == a:
                    kept.append(r)
                continue
            if ev.start > a:  # type: ignore[union-attr]
                continue
            if ev.ongoing or ev.end is None or ev.end >= a:  # type: ignore[union-attr]
                kept.append(r)
        return kept

    return ongoing


# obs_range(scope, dates, n, anchor date) -> (i, j): the observations dates[i:j] of the first
# n (those dated by the cutoff) that the filter keeps. For a kind with observations only, the
# records are sorted by date, so every filter keeps a contiguous run found by bisection.
RangeFn = Callable[[Scope, list[datetime.date], int, datetime.date], tuple[int, int]]


def _compile_obs_range(t: ex.Temporal) -> RangeFn:
    if isinstance(t, ex.Within):
        days = window_days(t.duration)
        backward = t.direction is ex.Direction.BEFORE
        one = datetime.timedelta(days=1 if t.strict else 0)

        def within(scope: Scope, dates: list[datetime.date], n: int,
                   a: datetime.date) -> tuple[int, int]:
            d = days(scope.calendar)
            lo, hi = (a - d + one, a) if backward else (a, a + d - one)
            return bisect_left(dates, lo, 0, n), bisect_right(dates, hi, 0, n)

        return within
    if isinstance(t, ex.Relative):
        strict = t.strict
        if t.direction is ex.Direction.BEFORE:

            def before(scope: Scope, dates: list[datetime.date], n: int,
                       a: datetime.date) -> tuple[int, int]:
                return 0, (bisect_left if strict else bisect_right)(dates, a, 0, n)

            return before

        def after(scope: Scope, dates: list[datetime.date], n: int,
                  a: datetime.date) -> tuple[int, int]:
            return (bisect_right if strict else bisect_left)(dates, a, 0, n), n

        return after

    def on_day(scope: Scope, dates: list[datetime.date], n: int,
               a: datetime.date) -> tuple[int, int]:
        return bisect_left(dates, a, 0, n), bisect_right(dates, a, 0, n)

    return on_day


def _start(ev: Event) -> datetime.date:
    # selected records are observations and occurrences only
    return ev.date if type(ev) is Observation else ev.start  # type: ignore[union-attr]


def _end(ev: Event, cutoff: datetime.date) -> datetime.date:
    if type(ev) is Observation:
        return ev.date
    end = ev.end  # type: ignore[union-attr]
    if end is not None:
        return end
    return cutoff if ev.ongoing else ev.start  # type: ignore[union-attr]


# ---- selections -------------------------------------------------------------------------------


def record_only(node: object) -> bool:
    """Whether a `where` condition reads nothing but the record (its attributes and literals):
    then its truth for a record does not depend on the cutoff or the criterion."""
    if isinstance(node, (ex.Name, ex.QuantityLiteral, ex.StringLiteral, ex.BoolLiteral,
                         ex.RelativeLimit)):
        return True
    if isinstance(node, (ex.And, ex.Or)):
        return all(record_only(o) for o in node.operands)
    if isinstance(node, (ex.Not, ex.Test)):
        return record_only(node.operand)
    if isinstance(node, ex.InRange):
        return record_only(node.operand)
    if isinstance(node, ex.InSet):
        return record_only(node.operand) and all(record_only(v) for v in node.values)
    if isinstance(node, ex.Compare):
        return record_only(node.left) and record_only(node.right)
    return False  # selections, aggregates, `attested` (reads the criterion id), sequences


def compile_selection(sel: ex.Selection, compile_condition: Callable[[ex.Expr], Cond]) -> SelectFn:
    """The records of a selection, in date order, as of the scope's cutoff."""
    if isinstance(sel.temporal, ex.Within) and sel.temporal.duration.sub_day:
        return _compile_timed_selection(sel, sel.temporal, compile_condition)
    if isinstance(sel.temporal, ex.WithinLongest):
        return _compile_longest_selection(sel, sel.temporal, compile_condition)
    kind = sel.kind
    not_collected = f"{kind} was not collected for this patient"
    t = sel.temporal
    anchor = compile_anchor(t.anchor) if t is not None else None
    keep = _compile_temporal(t) if t is not None else None
    no_anchor = (f"no date for {anchor_name(t.anchor)}: cannot select {describe.selection(sel)}"
                 if t is not None else "")
    where = compile_condition(sel.where) if sel.where is not None else None
    memo_key = id(where) if sel.where is not None and record_only(sel.where) else None

    obs_range = _compile_obs_range(t) if t is not None else None

    def select(scope: Scope) -> Selected:  # noqa: C901 - the fast path and the general one
        idx = scope.idx
        collected = idx.patient.collected  # idx.collected(kind), inlined
        if collected is not None and kind not in collected:
            return (), (), not_collected, None, None
        stale = None
        adate = None
        if anchor is not None:
            adate = anchor(scope)
            if adate is None:
                return (), (), no_anchor, None, None
        recs: Records
        if kind not in idx.occurrences:
            # observations only (or nothing): bisect instead of building and filtering
            s = idx.observations.get(kind)
            if s is None:
                return (), (), None, None, None
            n = bisect_right(s.dates, scope.cutoff)
            i, j = 0, n
            if adate is not None:
                i, j = obs_range(scope, s.dates, n, adate)  # type: ignore[misc]
                if i >= j and n:
                    stale = (s.events[n - 1], s.positions[n - 1])
            recs = list(zip(s.events[i:j], s.positions[i:j], strict=True)) if i < j else ()
        elif kind not in idx.observations:
            # occurrences only: the records by the cutoff are a prefix of the series
            s = idx.occurrences[kind]
            n = bisect_right(s.dates, scope.cutoff)
            recs = list(zip(s.events[:n], s.positions[:n], strict=True)) if n else ()
            if adate is not None and recs:
                kept = keep(scope, recs, adate)  # type: ignore[misc]
                if not kept:
                    stale = recs[-1]
                recs = kept
        else:
            recs = idx.records(kind, scope.cutoff)
            if adate is not None and recs:
                kept = keep(scope, recs, adate)  # type: ignore[misc]
                if not kept:
                    stale = recs[-1]
                recs = kept
        if where is None or not recs:
            return recs, (), None, stale, None
        kept_where, unknown = _apply_where(scope, recs, where, memo_key)
        return kept_where, unknown, None, stale, None

    return select


def _position(r: tuple[Event, int]) -> int:
    return r[1]


def _apply_where(scope: Scope, recs: Records, where: Cond, memo_key: int | None
                 ) -> tuple[list[tuple[Event, int]], list[tuple[Event, int]]]:
    """The records whose `where` is TRUE, and those whose `where` is UNKNOWN."""
    unknown: list[tuple[Event, int]] = []
    kept_where = []
    memo = None
    if memo_key is not None:
        memo = scope.where_memo.get(memo_key)
        if memo is None:
            memo = scope.where_memo[memo_key] = {}
    for r in recs:
        truth: Truth | None = memo.get(r[1]) if memo is not None else None
        if truth is None:
            truth = where(scope, r[0])[0]
            if memo is not None:
                memo[r[1]] = truth
        if truth is TRUE:
            kept_where.append(r)
        elif truth is UNKNOWN:
            unknown.append(r)
    return kept_where, unknown


def _compile_timed_selection(sel: ex.Selection, t: ex.Within,
                             compile_condition: Callable[[ex.Expr], Cond]) -> SelectFn:
    """A selection in a window of hours or minutes (engine.timed_select): records are kept
    by their times of day; those the times cannot place are `maybe`."""
    kind = sel.kind
    not_collected = f"{kind} was not collected for this patient"
    name = anchor_name(t.anchor)
    stamp_of_anchor = compile_anchor_stamp(t.anchor)
    what = describe.temporal(t).strip()
    no_anchor = f"no date for {name}: cannot select {describe.selection(sel)}"
    where = compile_condition(sel.where) if sel.where is not None else None
    memo_key = id(where) if sel.where is not None and record_only(sel.where) else None

    def select(scope: Scope) -> Selected:
        idx = scope.idx
        collected = idx.patient.collected
        if collected is not None and kind not in collected:
            return (), (), not_collected, None, None
        key = (stamp_of_anchor, scope.cutoff)
        hit = scope.memo.get(key)
        if hit is None:
            hit = scope.memo[key] = (stamp_of_anchor(scope),)
        anchor = hit[0]  # type: ignore[index]
        if anchor is None:
            return (), (), no_anchor, None, None
        recs = idx.records(kind, scope.cutoff)
        if not recs:
            return (), (), None, None, None
        kept, maybe = timed_keep(scope, recs, anchor, t)
        stale = recs[-1] if not kept and not maybe else None
        unknown: Records = ()
        if where is not None:
            kept, unknown = _apply_where(scope, kept, where, memo_key)
            if maybe:
                # a maybe record stays one unless its `where` is false
                sure, unsure = _apply_where(scope, maybe, where, memo_key)
                maybe = sorted(sure + unsure, key=_position)
        if not maybe:
            return kept, unknown, None, stale, None
        why = why_maybe(maybe[0][0], anchor, what, name, scope.cutoff)
        return kept, unknown, None, stale, (maybe, why)

    return select


def _compile_longest_selection(sel: ex.Selection, t: ex.WithinLongest,
                               compile_condition: Callable[[ex.Expr], Cond]) -> SelectFn:
    """`within 90 days or 5 x half_life whichever is longer before A`: each record's window is
    the longest of its lengths (engine.data_window); a record whose data cannot give a length
    that would decide it is `maybe`."""
    kind = sel.kind
    not_collected = f"{kind} was not collected for this patient"
    anchor = compile_anchor(t.anchor)
    name = anchor_name(t.anchor)
    no_anchor = f"no date for {name}: cannot select {describe.selection(sel)}"
    what = describe.temporal(t).strip()
    where = compile_condition(sel.where) if sel.where is not None else None
    memo_key = id(where) if sel.where is not None and record_only(sel.where) else None
    from engine.data_window import compile_data_window  # it builds on this module

    place = compile_data_window(t, kind)

    def select(scope: Scope) -> Selected:
        idx = scope.idx
        collected = idx.patient.collected
        if collected is not None and kind not in collected:
            return (), (), not_collected, None, None
        a = anchor(scope)
        if a is None:
            return (), (), no_anchor, None, None
        recs = idx.records(kind, scope.cutoff)
        if not recs:
            return (), (), None, None, None
        kept: list[tuple[Event, int]] = []
        maybe: list[tuple[Event, int]] = []
        why = ""
        for r in recs:
            inside, reason = place(scope, r[0], a)
            if inside is TRUE:
                kept.append(r)
            elif inside is UNKNOWN:
                if not maybe:
                    why = f"{reason}: it may or may not be {what} ({name} {a.isoformat()})"
                maybe.append(r)
        stale = recs[-1] if not kept and not maybe else None
        unknown: Records = ()
        if where is not None:
            kept, unknown = _apply_where(scope, kept, where, memo_key)
            if maybe:
                sure, unsure = _apply_where(scope, maybe, where, memo_key)
                still = sorted(sure + unsure, key=_position)
                if still and still[0] is not maybe[0]:
                    why = f"{place(scope, still[0][0], a)[1]}: it may or may not be {what} " \
                          f"({name} {a.isoformat()})"
                maybe = still
        if not maybe:
            return kept, unknown, None, stale, None
        return kept, unknown, None, stale, (maybe, why)

    return select
