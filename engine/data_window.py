"""Windows whose length the data give: `within 90 days or 5 x half_life whichever is longer
before day_1`.

Each record has its own window: the longest of the lengths written, a fixed one (`90 days`)
or one the record carries (`5 x half_life`: five times its `half_life` attribute, read in the
attribute's declared time unit; `5 x half_lives[drug]`: five times the protocol table's value
for the record's `drug`). Windows are counted in whole days, as a `within` in days: a record
is in when the days from its end to the anchor (before; from the anchor to its start, after)
are at most the length in days. A record that a fixed length already places inside is in,
whatever its data; otherwise a length it lacks the data for (no half-life, a drug the table
does not list) makes it *maybe*, with the reason (docs/engine-semantics.md).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from engine.compile_select import window_days
from engine.expressions import (
    OPS,
    Scope,
    attribute,
    describe_record,
    numeric,
    quantity_text,
    start_of,
)
from engine.logic import FALSE, TRUE, UNKNOWN, Truth
from engine.patient import Event, Occurrence
from protocol import expr as ex
from protocol.timing import Duration
from protocol.units import UnitError, convert

PlaceFn = Callable[[Scope, Event, datetime.date], tuple[Truth, str]]
# (the record's length in days, or None with why it has none)
LengthFn = Callable[[Scope, Event], tuple[float | int | None, str]]


def _span(ev: Event, cutoff: datetime.date) -> tuple[datetime.date, datetime.date]:
    if type(ev) is Occurrence:
        assert isinstance(ev, Occurrence)
        end = ev.end if ev.end is not None else (cutoff if ev.ongoing else ev.start)
        return ev.start, end
    d = start_of(ev)
    return d, d


def _attribute_length(length: ex.DataDuration, kind: str) -> LengthFn:
    """A record's `factor x attribute`, in days."""
    factor = length.factor
    name = length.attribute

    def record_length(scope: Scope, ev: Event) -> tuple[float | int | None, str]:
        val = attribute(ev, name)
        if val.value is None:
            return None, f"{describe_record(ev)} has no {name}"
        x = numeric(val.value)
        unit = val.unit or _declared_unit(scope, kind, name)
        if x is None and isinstance(val.value, str):
            written = quantity_text(val.value)  # "36 h": a number with its own unit
            if written is not None:
                x, unit = written
        if x is None:
            return None, f"{describe_record(ev)}: {name} {val.value!r} is not a number"
        if unit is None:
            return None, f"{name} of {kind} has no unit"
        try:
            return factor * convert(x, unit, "d"), ""
        except UnitError as exc:
            return None, f"{describe_record(ev)}: {name}: {exc}"

    return record_length


def _table_length(length: ex.TableDuration, kind: str) -> LengthFn:
    """`factor x table[attribute]`, in days: the table's duration for the record's attribute."""
    factor = length.factor
    name = length.attribute
    rows = {key.strip().casefold(): value for key, value in length.rows}

    def record_length(scope: Scope, ev: Event) -> tuple[float | int | None, str]:
        key = attribute(ev, name).value
        if key is None:
            return None, f"{describe_record(ev)} has no {name}"
        value = rows.get(str(key).strip().casefold())
        if not isinstance(value, ex.QuantityLiteral) or value.quantity.unit is None:
            return None, (f"{describe_record(ev)}: {length.table} has no duration for "
                          f"{name} {key!r}")
        try:
            return factor * convert(value.quantity.value, value.quantity.unit, "d"), ""
        except UnitError as exc:
            return None, f"{length.table}[{key!r}]: {exc}"

    return record_length


def _declared_unit(scope: Scope, kind: str, name: str) -> str | None:
    item = scope.items.get(kind)
    return item.attribute_unit(name) if item is not None else None


def compile_data_window(t: ex.WithinLongest, kind: str = "") -> PlaceFn:
    """Where one record lies against its own window: TRUE (inside), FALSE, or UNKNOWN with
    why."""
    fixed = [window_days(x) for x in t.lengths if isinstance(x, Duration)]
    data = [_attribute_length(x, kind) if isinstance(x, ex.DataDuration)
            else _table_length(x, kind) for x in t.lengths
            if isinstance(x, (ex.DataDuration, ex.TableDuration))]
    backward = t.direction is ex.Direction.BEFORE

    def place(scope: Scope, ev: Event, a: datetime.date) -> tuple[Truth, str]:
        start, end = _span(ev, scope.cutoff)
        if backward:
            if start > a:
                return FALSE, ""
            gap = (a - end).days
        else:
            if end < a:
                return FALSE, ""
            gap = (start - a).days
        if gap <= 0:
            return TRUE, ""
        calendar = scope.calendar
        for days in fixed:
            if gap <= days(calendar).days:
                return TRUE, ""
        why = ""
        for length in data:
            n, reason = length(scope, ev)
            if n is None:
                why = why or reason
            elif OPS[ex.CompareOp.LE](gap, n):  # 5 x 38.4 h is 7.999999999999999 days
                return TRUE, ""
        return (UNKNOWN, why) if why else (FALSE, "")

    return place
