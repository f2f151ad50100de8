"""Aggregates over records: `sum`, `mean`, `count(distinct ...)` and `continuous`.

Compiled once per expression, like engine.compile_expr (which dispatches here). The rules
(docs/engine-semantics.md, "Aggregates over records"):

* `sum(KIND ...)` / `mean(KIND ...)` add up each selected record's value, or with `ATTR of
  KIND` its attribute, converted into one unit (the data item's, the attribute's declared
  one, else the first record's). A record not done (value null) is left out; a record without
  the attribute, or whose `where` or window cannot be decided, makes the result unknown (it
  might count). The sum of no record is 0; their mean is unknown.
* `count(distinct ATTR of KIND ...)` is the number of different values of the attribute (text
  without regard to case or surrounding spaces); unknown when a record lacks it.
* `continuous KIND [where C] for D before A [with unchanged ATTR] [allowing gaps of G]` is TRUE when
  the selected records (each from its start to its end; while ongoing, to the cutoff) cover
  every day of [A - D, A] but for runs of uncovered days of at most G days (none without
  `allowing`), counting the runs at either end of the period; with `with unchanged ATTR`, the
  records that overlap the period must also all have the same value of ATTR. FALSE when even
  the records whose `where` is unknown would leave a longer gap, or two records of the period
  differ in ATTR; UNKNOWN otherwise.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from engine import describe
from engine.compile_select import Selected, anchor_name, compile_anchor, window_days
from engine.expressions import (
    Result,
    Scope,
    Val,
    attribute,
    close,
    evidence,
    molar_mass,
    numeric,
    quantity_text,
    start_of,
    value_and_unit,
)
from engine.logic import FALSE, TRUE, UNKNOWN, Truth
from engine.patient import Event, Observation, Occurrence
from protocol import expr as ex
from protocol.units import UnitError, convert, normalize_code

Records = Sequence[tuple[Event, int]]
SelectFn = Callable[[Scope], Selected]
Operand = Callable[[Scope, "Event | None"], Val]
Cond = Callable[[Scope, "Event | None"], Result]


def _undecided(select_result: Selected, kind: str) -> tuple[str, tuple[Event, int]] | None:
    """Why a selection's records cannot be added up (a record may or may not count)."""
    _, unknown, _, _, maybe = select_result
    if maybe is not None:
        return maybe[1], maybe[0][0]
    if unknown:
        return (f"{len(unknown)} record(s) of {kind} lack an attribute the `where` needs",
                unknown[0])
    return None


def _target_unit(scope: Scope, kind: str, attr: str | None) -> str | None:
    """The unit a sum is kept in: the data item's (a value) or the attribute's declared one."""
    item = scope.items.get(kind)
    if item is None:
        return None
    if attr is None:
        return item.unit
    return item.attribute_unit(attr)  # `attributes volume in mL`


def compile_statistic(node: ex.Statistic, select: SelectFn) -> Operand:
    """`sum(...)` / `mean(...)`: one number in one unit, with every record it adds up."""
    kind = node.selection.kind
    attr = node.attribute
    mean = node.fn is ex.StatisticFn.MEAN
    subject = describe.expr(node)
    what = attr if attr is not None else "value"

    def statistic(scope: Scope, event: Event | None) -> Val:
        selected = select(scope)
        recs, _, problem, _, _ = selected
        if problem:
            return Val(None, subject, missing=problem)
        undecided = _undecided(selected, kind)
        if undecided is not None:
            why, (ev, pos) = undecided
            return Val(None, subject, record=ev, pos=pos, missing=why)
        target = _target_unit(scope, kind, attr)
        declared = target if attr is not None else None
        parts: list[tuple[int | float, Event, int]] = []
        for ev, pos in recs:
            if attr is None:
                raw, unit = value_and_unit(ev)
                if raw is None and type(ev) is Observation:
                    continue  # not done
            else:
                val = attribute(ev, attr)
                raw, unit = val.value, val.unit
                written = quantity_text(raw) if isinstance(raw, str) else None
                if written is not None:
                    raw, unit = written  # "450 mL": a number with its own unit
                elif unit is None and declared is not None:
                    unit = declared  # a number in an attribute is in its declared unit
                if raw is None:
                    return Val(None, subject, record=ev, pos=pos,
                               missing=f"{_record(ev)} has no {attr}: the {node.fn.value} "
                               "cannot be computed")
            x = numeric(raw)
            if x is None:
                msg = f"{_record(ev)}: {what} {raw!r} is not a number"
                scope.error(f"{subject}: {msg}", Val(None, subject, record=ev))
                return Val(None, subject, record=ev, pos=pos, error=msg)
            if unit is not None and target is None:
                target = unit
            if unit is not None and target is not None and \
                    normalize_code(unit) != normalize_code(target):
                try:
                    x = convert(x, unit, target, molar_mass(scope, ev))
                except UnitError as exc:
                    msg = f"{_record(ev)}: {exc}"
                    scope.error(f"{subject}: {msg}", Val(None, subject, record=ev))
                    return Val(None, subject, record=ev, pos=pos, error=msg)
            elif unit is None and target is not None:
                msg = f"{_record(ev)}: {what} {describe.num(x)} has no unit ({target} expected)"
                scope.error(f"{subject}: {msg}", Val(None, subject, record=ev))
                return Val(None, subject, record=ev, pos=pos, error=msg)
            parts.append((x, ev, pos))
        if not parts:
            if mean:
                return Val(None, subject, missing=f"no {describe.selection(node.selection)} "
                           "with a value: the mean is unknown")
            return Val(0, f"{subject} (no record)", unit=target)
        total = sum(x for x, _, _ in parts)
        for _, _, pos in parts:
            scope.cited.add(pos)
        terms = " + ".join(f"{describe.qty(x, target)} on {start_of(ev).isoformat()}"
                           for x, ev, _ in parts)
        value = total / len(parts) if mean else total
        shown = f"({terms}) / {len(parts)}" if mean else terms
        # every record added up is an input of the value (the evidence lists them)
        inputs = tuple(Val(x, f"{what} of {kind}", unit=target, record=ev, pos=pos)
                       for x, ev, pos in parts)
        return Val(value, f"{subject} = {shown}", unit=target, inputs=inputs,
                   day=max(start_of(ev) for _, ev, _ in parts))

    return statistic


def _distinct_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().casefold()
    n = numeric(value)
    return n if n is not None else value


def compile_count_distinct(node: ex.CountDistinct, select: SelectFn) -> Operand:
    """`count(distinct ATTR of KIND ...)`: the number of different values, which it names."""
    kind = node.selection.kind
    attr = node.attribute
    subject = describe.expr(node)

    def count_distinct(scope: Scope, event: Event | None) -> Val:
        selected = select(scope)
        recs, unknown, problem, _, maybe = selected
        if problem:
            return Val(None, subject, missing=problem)
        seen: dict[Any, Any] = {}
        inputs: list[Val] = []
        lacking: list[tuple[Event, int]] = []
        for ev, pos in recs:
            raw = attribute(ev, attr).value
            if raw is None:
                lacking.append((ev, pos))
                continue
            seen.setdefault(_distinct_key(raw), raw)
            scope.cited.add(pos)
            inputs.append(Val(raw, f"{attr} of {kind}", record=ev, pos=pos))
        # each record that lacks the attribute, or may or may not be selected, may add one
        # more value or none: the count lies in a span
        doubtful = len(lacking) + len(unknown) + (len(maybe[0]) if maybe is not None else 0)
        if doubtful:
            least = len(seen) if seen or not lacking else 1
            span = (least, len(seen) + doubtful)
            undecided = _undecided(selected, kind)
            if undecided is not None:
                why, (ev, pos) = undecided
            else:
                ev, pos = lacking[0]
                why = f"{_record(ev)} has no {attr}: it may be a further one"
            return Val(None, subject, record=ev, pos=pos, missing=f"{span[0]} to {span[1]}: {why}",
                       span=span)
        names = ", ".join(describe.qty(v, None) for v in seen.values())
        return Val(len(seen), f"{subject} ({names or 'none'})", inputs=tuple(inputs),
                   day=max((start_of(ev) for ev, _ in recs), default=None))

    return count_distinct


# ---- continuous exposure ---------------------------------------------------------------------

Interval = tuple[datetime.date, datetime.date]
_DAY = datetime.timedelta(days=1)


def _interval(ev: Event, cutoff: datetime.date) -> Interval:
    if type(ev) is Occurrence:
        assert isinstance(ev, Occurrence)
        end = ev.end if ev.end is not None else (cutoff if ev.ongoing else ev.start)
        return ev.start, end
    d = start_of(ev)
    return d, d


def uncovered(intervals: list[Interval], lo: datetime.date, hi: datetime.date) -> list[Interval]:
    """The runs of days of [lo, hi] that no interval covers, in order (both ends inclusive)."""
    runs: list[Interval] = []
    cur = lo
    for start, end in sorted(intervals):
        if end < cur:
            continue
        if start > hi:
            break
        if start > cur:
            runs.append((cur, start - _DAY))
        cur = max(cur, end + _DAY)
        if cur > hi:
            break
    if cur <= hi:
        runs.append((cur, hi))
    return runs


def _days(run: Interval) -> int:
    return (run[1] - run[0]).days + 1


def compile_continuous(node: ex.Continuous, select: SelectFn) -> Cond:
    """`continuous KIND ... for D before A [with unchanged ATTR] [allowing gaps of G]`."""
    subject = describe.expr(node)
    anchor = compile_anchor(node.anchor)
    period = window_days(node.duration)
    tolerance = window_days(node.gap) if node.gap is not None else None
    unchanged = node.unchanged
    kind = node.selection.kind
    no_anchor = f"no date for {anchor_name(node.anchor)}"

    def continuous(scope: Scope, event: Event | None) -> Result:
        a = anchor(scope)
        if a is None:
            return UNKNOWN, [evidence(scope, None, UNKNOWN, f"{subject}: unknown ({no_anchor})")]
        recs, unknown, problem, _, _ = select(scope)
        if problem:
            return UNKNOWN, [evidence(scope, None, UNKNOWN, f"{subject}: unknown ({problem})")]
        lo, hi = a - period(scope.calendar), a
        allowed = tolerance(scope.calendar).days if tolerance is not None else 0
        cutoff = scope.cutoff
        sure = [(r, _interval(r[0], cutoff)) for r in recs]
        sure = [(r, iv) for r, iv in sure if iv[1] >= lo and iv[0] <= hi]
        doubtful = [(r, _interval(r[0], cutoff)) for r in unknown]
        doubtful = [(r, iv) for r, iv in doubtful if iv[1] >= lo and iv[0] <= hi]
        for r, _ in sure:
            scope.cited.add(r[1])
        doubtful_pos = {r[1] for r, _ in doubtful}
        gaps = uncovered([iv for _, iv in sure], lo, hi)
        worst = max(gaps, key=_days) if gaps else None
        may_gaps = uncovered([iv for _, iv in sure + doubtful], lo, hi)
        may_worst = max(may_gaps, key=_days) if may_gaps else None
        period_text = f"{lo.isoformat()} to {hi.isoformat()}"
        if may_worst is not None and _days(may_worst) > allowed:
            coverage: Truth = FALSE
            cover_text = (f"not covered from {may_worst[0].isoformat()} to "
                          f"{may_worst[1].isoformat()} ({_days(may_worst)} days; "
                          f"{_allowance(allowed)})")
        elif worst is None or _days(worst) <= allowed:
            coverage = TRUE
            longest = (f", longest gap {_days(worst)} days from {worst[0].isoformat()}"
                       if worst is not None else "")
            cover_text = (f"{period_text} covered by {len(sure)} record(s){longest} "
                          f"({_allowance(allowed)})")
        else:
            coverage = UNKNOWN
            cover_text = (f"{period_text} covered only if {len(doubtful)} record(s) whose "
                          f"`where` cannot be decided count: without them not covered from "
                          f"{worst[0].isoformat()} to {worst[1].isoformat()}")
        truth = coverage
        texts = [cover_text]
        if unchanged is not None and coverage is not FALSE:
            steady, steady_text = _stability(unchanged, sure, doubtful,
                                             _target_unit(scope, kind, unchanged))
            truth = coverage & steady
            texts.append(steady_text)
        # the records of the period are the inputs: each with its dates and source, and the
        # attribute that must not change
        inputs = tuple(_period_input(scope, kind, ev, pos, unchanged, pos in doubtful_pos)
                       for (ev, pos), _ in sorted(sure + doubtful, key=lambda x: x[1]))
        return truth, [evidence(scope, Val(None, subject, inputs=inputs), truth,
                                f"{subject}: {'; '.join(texts)}: {truth._value_}")]

    return continuous


def _period_input(scope: Scope, kind: str, ev: Event, pos: int, unchanged: str | None,
                  doubtful: bool) -> Val:
    """A record of a `continuous` period as an input of its evidence: `metformin from
    2023-10-01, ongoing: daily_dose 1500`, or what makes it doubtful."""
    subject = _record(ev)
    if doubtful:
        return Val(None, subject, record=ev, pos=pos, missing="counts only if its `where` holds")
    if unchanged is None:
        return Val(None, subject, record=ev, pos=pos, missing="in the period")
    v = attribute(ev, unchanged)
    if v.value is None:
        return Val(None, subject, record=ev, pos=pos, missing=f"no {unchanged}")
    unit = v.unit
    if unit is None and numeric(v.value) is not None:
        unit = _target_unit(scope, kind, unchanged)  # its declared unit (mg)
    return Val(v.value, f"{unchanged} of {subject}", unit=unit, record=ev, pos=pos)


def _allowance(days: int) -> str:
    return f"gaps of up to {days} days allowed" if days else "no gap allowed"


def _same(a: Any, b: Any, declared: str | None) -> bool:
    """Whether two values of an attribute are the same: quantities after conversion (2000
    read in its declared mg, "2 g" and "2000 mg" are one dose), else as distinct counts
    compare them."""
    qa, qb = _quantity(a, declared), _quantity(b, declared)
    if qa is not None and qb is not None and qa[1] is not None and qb[1] is not None:
        try:
            return close(convert(qb[0], qb[1], qa[1]), qa[0])
        except UnitError:
            return False
    return _distinct_key(a) == _distinct_key(b)


def _quantity(raw: Any, declared: str | None) -> tuple[int | float, str | None] | None:
    """An attribute's value as a number and its unit: "2 g" in its own unit, a number in the
    attribute's declared unit (None without one); None when it is not a number."""
    if isinstance(raw, str):
        written = quantity_text(raw)
        if written is not None:
            return written
    x = numeric(raw)
    return None if x is None else (x, declared)


def _stability(attr: str, sure: list[tuple[tuple[Event, int], Interval]],
               doubtful: list[tuple[tuple[Event, int], Interval]],
               declared: str | None) -> tuple[Truth, str]:
    """Whether the records of the period all have the same value of `attr`."""
    first: tuple[Any, Event] | None = None
    for (ev, _), _ in sorted(sure, key=lambda x: x[1]):
        raw = attribute(ev, attr).value
        if raw is None:
            return UNKNOWN, f"{_record(ev)} has no {attr}"
        if first is None:
            first = (raw, ev)
        elif not _same(first[0], raw, declared):
            return FALSE, (f"{attr} changed from {describe.qty(first[0], None)} "
                           f"({_record(first[1])}) to {describe.qty(raw, None)} ({_record(ev)})")
    if first is None:
        return UNKNOWN, f"no record gives {attr}"
    for (ev, _), _ in doubtful:
        raw = attribute(ev, attr).value
        if raw is None or not _same(first[0], raw, declared):
            return UNKNOWN, f"{attr} {describe.qty(first[0], None)} throughout, unless " \
                            f"{_record(ev)} counts"
    return TRUE, f"{attr} {describe.qty(first[0], None)} throughout"


def _record(ev: Event) -> str:
    """`metformin from 2023-10-01 to 2023-12-31`, `qtcf on 2024-01-09`."""
    if isinstance(ev, Occurrence):
        if ev.end is not None and ev.end != ev.start:
            return f"{ev.kind} from {ev.start.isoformat()} to {ev.end.isoformat()}"
        if ev.ongoing:
            return f"{ev.kind} from {ev.start.isoformat()}, ongoing"
        return f"{ev.kind} on {ev.start.isoformat()}"
    kind = getattr(ev, "kind", type(ev).__name__)
    return f"{kind} on {start_of(ev).isoformat()}"
