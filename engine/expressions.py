"""Three-valued evaluation of `protocol.expr` trees against one patient, as of a date.

Missing data and evaluation errors are values, not exceptions: every node evaluates to TRUE,
FALSE or UNKNOWN (see `engine.logic`) together with the `Evidence` it rests on.

The rules (docs/engine-semantics.md has them with examples):

* Only data dated on or before the scope's `cutoff` exist (for eligibility: the reference
  anchor's date; for a stopping rule: the date it is evaluated at). An occurrence exists from
  its start date.
* `latest/first/lowest/highest KIND [temporal] [where cond]` picks one record of the kind
  (observations and occurrences alike) that has a value. None → UNKNOWN, with evidence saying
  `no KIND in the window` (and the date of the most recent record outside it: stale data).
  Same-day records keep their input order: `latest` takes the last of them.
* `any KIND ...` is TRUE if a record matches and FALSE if none does: the absence of a recorded
  condition means it is absent. It is UNKNOWN when the kind was not collected for the patient
  (`Patient.collected`), when the window's anchor has no date, or when a record might match but
  its `where` attributes are missing.
* `count(...)` is the number of records (UNKNOWN in the same cases as `any`).
* `log_reduction(marker ...)` is log10(first value / latest value) over the selected samples with
  a positive value; UNKNOWN with fewer than two.
* Temporal filters, with A the anchor's date and D the duration through the trial's calendar:
  `within D before A` = [A - D, A]; `within D after A` = [A, A + D]; `before A` = on or before
  A's day; `strictly before A` = before A's day; `after`/`strictly after` likewise;
  `ongoing at A` = started on or before A and (ongoing, or no end date, or ended on or after A).
  An occurrence with an end date matches a window if its interval overlaps it.
* Comparisons: a threshold with a unit is converted into the record's unit
  (`protocol.units.convert`); a unit that cannot be converted is an error attached to the
  record: UNKNOWN, never a pass. `N x ULN` / `N x LLN` use the compared record's own reference
  range; a record without one gives UNKNOWN with evidence saying so. Text compares without
  regard to case. `in a..b` is inclusive.
* `age` is in completed years (or months, weeks, days: the threshold's unit) at the reference
  date from the birth date, else `Patient.age`; `sex` is `male`/`female` from M/F/male/female.

The evaluation itself is compiled: `engine.compile_expr` turns each expression into Python
closures once per trial (texts, operators, durations and anchors resolved up front). This module
holds what those closures share at run time: the `Val` and `Scope` classes, evidence, anchors
and the small value helpers. `truth_of`/`value_of` evaluate any node through the compiler.
"""

from __future__ import annotations

import datetime
import operator
import re
from collections.abc import Callable
from typing import Any, Final

import attrs

from engine import describe
from engine.anchor_effects import BUILT_IN, AnchorEffect
from engine.logic import Truth
from engine.patient import (
    AttrValue,
    ClockTime,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    stamp_text,
)
from engine.results import EvaluationError, Evidence, new_evidence
from engine.timeline import PatientIndex, disposition_effect
from protocol import expr as ex
from protocol.design import DataItem
from protocol.timing import Calendar
from protocol.units import convert

Result = tuple[Truth, list[Evidence]]

# Exact comparisons: for integers (the clock's microseconds, days) and booleans.
EXACT_OPS: Final[dict[ex.CompareOp, Callable[[Any, Any], bool]]] = {
    ex.CompareOp.LT: operator.lt,
    ex.CompareOp.LE: operator.le,
    ex.CompareOp.GT: operator.gt,
    ex.CompareOp.GE: operator.ge,
    ex.CompareOp.EQ: operator.eq,
    ex.CompareOp.NE: operator.ne,
}

# Two measured numbers are equal when they agree to 1 part in 10^9. Values reach a comparison
# through binary floating point: a unit conversion (1.1 g/L is 110.00000000000001 mg/dL, 5 x
# 38.4 hours is 7.999999999999999 days), a multiple of a limit (3 x 0.3 is 0.8999999999999999)
# or a formula. Without a tolerance a value exactly on a bound would be decided by that
# rounding, and differently in another unit; no measurement has ten significant digits.
REL_TOL: Final = 1e-9


def close(a: int | float, b: int | float) -> bool:
    """Whether two numbers are equal to within REL_TOL of the larger."""
    return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def _lt(a: int | float, b: int | float) -> bool:
    return a < b and not close(a, b)


def _le(a: int | float, b: int | float) -> bool:
    return a <= b or close(a, b)


def _gt(a: int | float, b: int | float) -> bool:
    return a > b and not close(a, b)


def _ge(a: int | float, b: int | float) -> bool:
    return a >= b or close(a, b)


def _ne(a: int | float, b: int | float) -> bool:
    return not close(a, b)


# Comparisons of numbers (a value with its threshold, a range or a reference limit).
OPS: Final[dict[ex.CompareOp, Callable[[Any, Any], bool]]] = {
    ex.CompareOp.LT: _lt,
    ex.CompareOp.LE: _le,
    ex.CompareOp.GT: _gt,
    ex.CompareOp.GE: _ge,
    ex.CompareOp.EQ: close,
    ex.CompareOp.NE: _ne,
}
AGE_UNITS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days"}
_SEXES = {"m": "male", "male": "male", "man": "male", "f": "female", "female": "female",
          "woman": "female"}
EXCEPTION_KIND: Final = "eligibility_exception"


def normalize_sex(raw: str | None) -> str | None:
    """`male`/`female` from M, F, male, female (any case); None for anything else."""
    if raw is None:
        return None
    return _SEXES.get(raw.strip().lower())


def completed_years(birth: datetime.date, on: datetime.date) -> int:
    """Age in completed years on `on` (a birthday counts on its day; 29 Feb on 28 Feb... no:
    on 1 March in non-leap years)."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def completed_months(birth: datetime.date, on: datetime.date) -> int:
    """Age in completed months on `on`."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    return months


class Val:
    """An operand's value: a number, text or bool, or None (unknown, with `missing` or `error`
    saying why). `record`/`pos` name the input record it came from. Never changed once built
    (the compiler shares the Vals of literals).

    A value computed from others (`latest weight / latest height ^ 2`, a formula) has no record
    of its own: `inputs` holds the values it was computed from (records, the age, a table's
    value; never the literals), and `day` the date it is known from, its latest input's.

    An unknown count that the data still bound (records that may or may not count) has
    `span`, the least and the most it can be: a comparison every count of the span answers
    alike is decided (`1 to 2 <= 3`)."""

    __slots__ = ("value", "unit", "record", "pos", "subject", "missing", "error", "timed",
                 "inputs", "day", "span")

    def __init__(
        self,
        value: Any,
        subject: str,
        unit: str | None = None,
        record: Event | None = None,
        pos: int | None = None,
        missing: str | None = None,
        error: str | None = None,
        timed: bool = False,
        inputs: tuple[Val, ...] | None = None,
        day: datetime.date | None = None,
        span: tuple[int, int] | None = None,
    ):
        self.value = value
        self.subject = subject
        self.unit = unit
        self.record = record
        self.pos = pos
        self.missing = missing
        self.error = error
        # chosen by a window in hours or minutes: its text shows the record's time of day
        self.timed = timed
        self.inputs = inputs
        self.day = day
        self.span = span

    @property
    def known(self) -> bool:
        return self.value is not None and self.error is None

    @property
    def date(self) -> datetime.date | None:
        r = self.record
        if r is None:
            return self.day
        # exact types: the event classes are final, and type() is cheaper than isinstance
        t = type(r)
        if t is Occurrence or t is DoseEvent:
            return r.start  # type: ignore[union-attr]
        return r.date  # type: ignore[union-attr]

    def when(self) -> str:
        """The record's date (with its time of day in a window in hours): `2023-02-20`."""
        r = self.record
        if r is None:
            return self.day.isoformat() if self.day is not None else "?"
        if self.timed:
            date, time = stamp_of(r)
            return stamp_text(date, time)
        d = self.date
        return d.isoformat() if d is not None else "?"

    def text(self) -> str:
        """`52 U/L on 2023-02-20` or `no alt within ...`."""
        if self.value is None:
            return self.missing or self.error or f"no {self.subject}"
        when = f" on {self.when()}" if self.record is not None or self.day is not None else ""
        return f"{describe.qty(self.value, self.unit)}{when}"


class Scope:
    """What an evaluation may see: the patient's index, the cutoff date and where it reports."""

    __slots__ = ("idx", "cutoff", "ref_date", "calendar", "items", "source", "errors", "cited",
                 "patient_id", "anchor_cache", "where_memo", "memo", "anchor_effects")

    def __init__(
        self,
        idx: PatientIndex,
        cutoff: datetime.date,
        calendar: Calendar,
        items: dict[str, DataItem],
        ref_date: datetime.date | None = None,
        source: str | None = None,
        errors: list[EvaluationError] | None = None,
        cited: set[int] | None = None,
        anchor_effects: dict[str, AnchorEffect] = BUILT_IN,
    ):
        self.idx = idx
        self.cutoff = cutoff
        # the date ages are counted at; None when the reference anchor has no date
        self.ref_date: datetime.date | None = ref_date or cutoff
        self.calendar = calendar
        self.items = items
        self.source = source
        self.errors = errors if errors is not None else []
        self.cited = cited if cited is not None else set()
        self.patient_id = idx.patient.id
        self.anchor_effects = anchor_effects  # anchors dated by dispositions too
        # anchor finder -> (cutoff, the anchor's date by then, positions it cites)
        self.anchor_cache: dict[object, tuple[datetime.date, datetime.date | None, tuple[int, ...]]] = {}
        # compiled `where` -> {record position: truth}, for conditions that read only the
        # record (a stopping rule selects the same records again on every candidate date)
        self.where_memo: dict[int, dict[int, Truth]] = {}
        # whatever else a compiled expression computes once per patient and scope
        self.memo: dict[object, object] = {}

    def error(self, message: str, val: Val | None = None) -> None:
        rec = val.record if val is not None else None
        ref = rec.ref if rec is not None else None
        self.errors.append(EvaluationError(message, self.patient_id, ref, self.source))

    def cite(self, pos: int | None) -> None:
        if pos is not None:
            self.cited.add(pos)


EVIDENCE_VALUE_TYPES: Final = (int, float, str, bool)  # what Evidence.value may hold


def evidence(
    scope: Scope,
    val: Val | None,
    truth: Truth,
    explanation: str,
    threshold: Any = None,
    threshold_unit: str | None = None,
    reference_range: tuple[int | float | None, int | float | None] | None = None,
    error: str | None = None,
) -> Evidence:
    """Evidence about `val` (its value, unit, date and record) under the scope's source."""
    if val is None:
        return new_evidence(explanation, scope.source, None, truth, None, None, None, None,
                            threshold, threshold_unit, reference_range, error, None, ())
    pos = val.pos
    if pos is not None:
        scope.cited.add(pos)
    rec = val.record
    value = val.value
    if not isinstance(value, EVIDENCE_VALUE_TYPES):
        value = None
    # positional: Evidence's field order (explanation, source, subject, truth, value, unit,
    # date, ref, threshold, threshold_unit, reference_range, error, time); keywords cost more
    return new_evidence(explanation, scope.source, val.subject, truth, value, val.unit,
                        val.date, rec.ref if rec is not None else None, threshold,
                        threshold_unit, reference_range, error or val.error,
                        time_of(rec) if rec is not None else None,
                        input_evidence(scope, val) if val.inputs is not None else ())


def input_evidence(scope: Scope, val: Val) -> tuple[Evidence, ...]:
    """One Evidence per input of a computed value (its value, unit, date and record), each
    record cited."""
    inputs = val.inputs
    if not inputs:
        return ()
    out = []
    for v in inputs:
        if v.pos is not None:
            scope.cited.add(v.pos)
        rec = v.record
        value = v.value if isinstance(v.value, EVIDENCE_VALUE_TYPES) else None
        out.append(new_evidence(f"{v.subject}: {v.text()}", scope.source, v.subject, None,
                                value, v.unit, v.date, rec.ref if rec is not None else None,
                                None, None, None, v.error,
                                time_of(rec) if rec is not None else None, ()))
    return tuple(out)


# ---- anchors ----------------------------------------------------------------------------------


def derived_anchor(idx: PatientIndex, name: str, cutoff: datetime.date | None,
                   effects: dict[str, AnchorEffect] = BUILT_IN) -> datetime.date | None:
    """An anchor with an effect (`discontinuation`, `withdrawal`, or `anchor X ... then ...`)
    is also dated by disposition records: the earliest disposition whose status has that
    effect (a withdrawal also ends treatment)."""
    ev = derived_anchor_event(idx, name, cutoff, effects)
    return ev.date if ev is not None else None


def derived_anchor_event(idx: PatientIndex, name: str, cutoff: datetime.date | None,
                         effects: dict[str, AnchorEffect] = BUILT_IN) -> Disposition | None:
    """The disposition record that dates an anchor with an effect (see derived_anchor)."""
    anchor = effects.get(name)
    if anchor is None:
        return None
    s = idx.dispositions
    n = len(s) if cutoff is None else s.until(cutoff)
    for ev in s.events[:n]:
        effect = disposition_effect(ev)  # type: ignore[arg-type]
        if effect is not None and anchor.dated_by(effect, None):
            return ev  # type: ignore[return-value]
    return None


def time_of(ev: Event) -> ClockTime | None:
    """The time of day of an event's (start) date, when the data give one."""
    t = type(ev)
    if t is Occurrence or t is DoseEvent:
        return ev.start_time  # type: ignore[union-attr]
    return ev.time  # type: ignore[union-attr]


def stamp_of(ev: Event) -> tuple[datetime.date, ClockTime | None]:
    """An event's (start) date and time of day."""
    t = type(ev)
    if t is Occurrence or t is DoseEvent:
        return ev.start, ev.start_time  # type: ignore[union-attr]
    return ev.date, ev.time  # type: ignore[union-attr]


def start_of(ev: Event) -> datetime.date:
    """The (start) date of an event."""
    if isinstance(ev, (Occurrence, DoseEvent)):
        return ev.start
    return ev.date


# ---- values -----------------------------------------------------------------------------------


def molar_mass(scope: Scope, ev: Event | None) -> int | float | None:
    """The molar mass the protocol declares for the record's data item (for mg/dL <-> umol/L)."""
    kind = getattr(ev, "kind", None)
    item = scope.items.get(kind) if kind is not None else None
    return item.molar_mass if item is not None else None


def value_and_unit(ev: Event) -> tuple[Any, str | None]:
    """A record's value and unit: an occurrence's `value` attribute, else True (it happened)."""
    if isinstance(ev, Observation):
        return ev.value, ev.unit
    if isinstance(ev, Occurrence):
        v = attribute_value(ev.attributes, "value")
        return (True if v is None else v), None
    return None, None


def age(scope: Scope, unit: str) -> Val:
    """Age at the reference date, in completed units of `unit` (a, mo, wk, d)."""
    p = scope.idx.patient
    on = scope.ref_date
    if on is None and p.age is None:
        return Val(None, "age", missing="no reference date to count the age at")
    return age_on(scope, unit, on, None)


def age_on(scope: Scope, unit: str, on: datetime.date | None, anchor: str | None) -> Val:
    """Age on the date `on` (of `anchor`, when it is not the reference date), in completed units
    of `unit` (a, mo, wk, d)."""
    p = scope.idx.patient
    words = AGE_UNITS.get(unit, "years")
    at = f" ({anchor})" if anchor is not None else ""
    if p.birth_date is not None and on is not None:
        if unit == "mo":
            v: int | float = completed_months(p.birth_date, on)
        elif unit == "wk":
            v = (on - p.birth_date).days // 7
        elif unit == "d":
            v = (on - p.birth_date).days
        else:
            v = completed_years(p.birth_date, on)
        return Val(v, f"age in completed {words} on {on.isoformat()}{at} (born "
                   f"{p.birth_date.isoformat()})", unit=unit)
    if p.age is not None and anchor is None:
        years = float(p.age)
        v = years if unit == "a" else convert(years, "a", unit)
        return Val(v, "age as recorded (no birth date)", unit=unit)
    if p.age is not None:
        return Val(None, f"age at {anchor}", missing=f"the age at {anchor} needs the birth "
                   "date (only an age is recorded)")
    return Val(None, "age", missing="neither birth date nor age is recorded")


def attribute_value(attributes: tuple[tuple[str, AttrValue], ...], name: str) -> AttrValue | None:
    """The value of attribute `name` (None when absent): `Occurrence.attribute` as a plain loop,
    which compiled is a C loop rather than a call to a generator of the interpreted class."""
    for key, value in attributes:
        if key == name:
            return value
    return None


def attribute(event: Event, name: str) -> Val:
    """An attribute of a record, for a bare name inside `where`."""
    subject = name
    if isinstance(event, Observation):
        if name == "value":
            return Val(event.value, subject, unit=event.unit, record=event)
        if name == "unit":
            return Val(event.unit, subject, record=event)
        if name == "detected":
            return Val(event.detected, subject, record=event)
        if name == "visit":
            return Val(event.visit, subject, record=event)
        v = attribute_value(event.attributes, name)
    elif isinstance(event, Occurrence):
        v = attribute_value(event.attributes, name)
    else:
        v = None
    if v is None:
        return Val(None, subject, record=event, missing=f"{name} is not recorded")
    return Val(v, subject, record=event)


# a number and its unit: `450 mL`, `450mL`, `1.5 10*9/L` (a unit that starts with a digit
# needs the space), never a bare number (`450` is not 45 of a unit `0`)
_QUANTITY_TEXT: Final = re.compile(
    r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?:\s+(\S+)|([^\s\d.eE+-]\S*))\s*$")


def quantity_text(raw: str) -> tuple[int | float, str] | None:
    """A number written with its unit in an attribute (`"450 mL"`, `"36 h"`): the number and
    the unit; None for anything else (a bare number is read in the declared unit instead)."""
    m = _QUANTITY_TEXT.match(raw)
    if m is None:
        return None
    unit = m.group(2) or m.group(3)
    return float(m.group(1)), unit


def numeric(v: Any) -> int | float | None:
    """A number as float (numbers written as text too); None for bools and anything else."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def compare_values(op: ex.CompareOp, a: Any, b: Any) -> bool | str:
    """The comparison, or an error message when the values cannot be compared."""
    an, bn = numeric(a), numeric(b)
    if isinstance(a, bool) or isinstance(b, bool):
        if isinstance(a, bool) and isinstance(b, bool) and op in (ex.CompareOp.EQ, ex.CompareOp.NE):
            return EXACT_OPS[op](a, b)
        if op in (ex.CompareOp.EQ, ex.CompareOp.NE) and (isinstance(a, str) or isinstance(b, str)):
            return f"cannot tell whether {describe.qty(a, None)} equals {describe.qty(b, None)}"
        return f"cannot compare {describe.qty(a, None)} with {describe.qty(b, None)}"
    if isinstance(a, str) and isinstance(b, str) and (an is None or bn is None):
        if op is ex.CompareOp.EQ:
            return a.strip().casefold() == b.strip().casefold()
        if op is ex.CompareOp.NE:
            return a.strip().casefold() != b.strip().casefold()
        return f"text cannot be compared with {op.value}: {a!r} {op.value} {b!r}"
    if an is None or bn is None:
        return f"cannot compare {describe.qty(a, None)} with {describe.qty(b, None)}"
    return OPS[op](an, bn)


def numeric_samples(scope: Scope, kind: str) -> list[tuple[Event, int]]:
    """Observations of `kind` known by the cutoff that have a value, in date order."""
    s = scope.idx.obs(kind)
    n = s.until(scope.cutoff)
    return [(e, p) for e, p in zip(s.events[:n], s.positions[:n], strict=True)
            if e.value is not None]  # type: ignore[union-attr]


def lasting_days(scope: Scope, ev: Event) -> tuple[int, bool]:
    """(days the occurrence has lasted by the cutoff, whether it is over by then).

    Days count end - start: a one-day event lasts 0 days; `lasting > 14 days` holds from
    start + 15 if it is still going then."""
    if not isinstance(ev, Occurrence):
        return 0, True
    cutoff = scope.cutoff
    if ev.end is not None and ev.end <= cutoff:
        return (ev.end - ev.start).days, True
    if ev.end is None and not ev.ongoing:
        return 0, True  # a single-day event
    return (cutoff - ev.start).days, False


def describe_record(ev: Event) -> str:
    """`adverse_event 'rash' 2024-01-02 to 2024-01-09`, `alt 52 U/L on 2024-01-07`."""
    if isinstance(ev, Occurrence):
        if ev.end is not None:
            span = f"{ev.start.isoformat()} to {ev.end.isoformat()}"
        elif ev.ongoing:
            span = f"from {ev.start.isoformat()}, ongoing"
        else:
            span = ev.start.isoformat()
        term = ev.attribute("term")
        what = f"{ev.kind} '{term}'" if term else ev.kind
        return f"{what} {span}"
    if isinstance(ev, Observation):
        return f"{ev.kind} {describe.qty(ev.value, ev.unit)} on {ev.date.isoformat()}"
    return f"{type(ev).__name__} on {start_of(ev).isoformat()}"


# ---- evaluation of any node (through the compiler) ---------------------------------------------


def truth_of(scope: Scope, node: ex.Expr, event: Event | None = None) -> Result:
    """Evaluate a condition: (TRUE/FALSE/UNKNOWN, evidence)."""
    from engine.compile_expr import compile_condition  # the compiler builds on this module

    return compile_condition(node)(scope, event)


def value_of(scope: Scope, node: ex.Expr, event: Event | None = None) -> Val:
    """The value of an operand node."""
    from engine.compile_expr import compile_operand

    return compile_operand(node)(scope, event)


# ---- static analysis --------------------------------------------------------------------------

def referenced_kinds(node: Any, out: set[str] | None = None) -> set[str]:
    """Every data kind an expression reads (selections, anchors, sample sequences)."""
    out = set() if out is None else out
    if isinstance(node, ex.Selection):
        out.add(node.kind)
        if node.temporal is not None:
            referenced_kinds(node.temporal.anchor, out)
        if node.where is not None:
            referenced_kinds(node.where, out)
    elif isinstance(node, ex.EventAnchor):
        out.add(node.kind)
    elif isinstance(node, (ex.Consecutive, ex.LogRise)):
        out.add(node.kind)
        if isinstance(node, ex.Consecutive):
            referenced_kinds(node.threshold, out)
    elif isinstance(node, (ex.Aggregate, ex.Count, ex.LogReduction, ex.Exists, ex.Statistic,
                           ex.CountDistinct)):
        referenced_kinds(node.selection, out)
    elif isinstance(node, ex.Continuous):
        referenced_kinds(node.selection, out)
        referenced_kinds(node.anchor, out)
    elif isinstance(node, (ex.And, ex.Or)):
        for o in node.operands:
            referenced_kinds(o, out)
    elif isinstance(node, (ex.Not, ex.Test, ex.InRange, ex.InSet)):
        referenced_kinds(node.operand, out)
    elif isinstance(node, ex.Compare):
        referenced_kinds(node.left, out)
        referenced_kinds(node.right, out)
    elif isinstance(node, ex.Arithmetic):
        referenced_kinds(node.left, out)
        referenced_kinds(node.right, out)
    elif isinstance(node, ex.Power):
        referenced_kinds(node.base, out)
    elif isinstance(node, ex.Call):
        for a in node.arguments:
            referenced_kinds(a.value, out)
    elif isinstance(node, ex.Defined):
        referenced_kinds(node.body, out)
    elif isinstance(node, (ex.TableValue, ex.Lookup)):
        referenced_kinds(node.key, out)
    elif isinstance(node, ex.AgeAt):
        referenced_kinds(node.anchor, out)
    elif isinstance(node, ex.Panel):
        out.update(node.kinds)
        if node.temporal is not None:
            referenced_kinds(node.temporal.anchor, out)
    return out


def selected_kinds(node: Any, out: set[str] | None = None) -> set[str]:
    """The data kinds whose records an expression selects (`latest alt ...`, `any syncope ...`,
    `count(...)`, `sum(...)`...): the kinds that `Patient.collected` can say were not collected.
    Anchors (`before randomization`) are dates, not selections, and are left out. Walks every
    field of the (attrs) expression nodes, so a new construct over a selection is covered."""
    out = set() if out is None else out
    if isinstance(node, ex.Selection):
        out.add(node.kind)
        if node.where is not None:
            selected_kinds(node.where, out)
        return out
    if isinstance(node, tuple):
        for item in node:
            selected_kinds(item, out)
        return out
    if attrs.has(type(node)):
        for f in attrs.fields(type(node)):
            value = getattr(node, f.name)
            if isinstance(value, tuple) or attrs.has(type(value)):
                selected_kinds(value, out)
    return out


def lasting_nodes(node: Any, out: list[ex.Exists] | None = None) -> list[ex.Exists]:
    """The `any ... lasting ...` nodes of an expression."""
    out = [] if out is None else out
    if isinstance(node, ex.Exists) and node.lasting is not None:
        out.append(node)
    elif isinstance(node, (ex.And, ex.Or)):
        for o in node.operands:
            lasting_nodes(o, out)
    elif isinstance(node, ex.Not):
        lasting_nodes(node.operand, out)
    elif isinstance(node, ex.Defined):
        lasting_nodes(node.body, out)
    return out


__all__ = [
    "Scope",
    "Val",
    "close",
    "compare_values",
    "completed_years",
    "normalize_sex",
    "referenced_kinds",
    "selected_kinds",
    "truth_of",
    "value_of",
]
