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
"""

from __future__ import annotations

import datetime
import math
import operator
from collections.abc import Callable
from typing import Any

from engine import describe
from engine.anchor_effects import BUILT_IN, AnchorEffect
from engine.logic import FALSE, TRUE, UNKNOWN, Truth
from engine.patient import DoseEvent, Event, Observation, Occurrence
from engine.results import EvaluationError, Evidence
from engine.timeline import PatientIndex, disposition_effect
from protocol import expr as ex
from protocol.design import DataItem
from protocol.timing import Calendar
from protocol.units import UnitError, convert, normalize_code

Result = tuple[Truth, list[Evidence]]

_OPS: dict[ex.CompareOp, Callable[[Any, Any], bool]] = {
    ex.CompareOp.LT: operator.lt,
    ex.CompareOp.LE: operator.le,
    ex.CompareOp.GT: operator.gt,
    ex.CompareOp.GE: operator.ge,
    ex.CompareOp.EQ: operator.eq,
    ex.CompareOp.NE: operator.ne,
}
_AGE_UNITS = {"a": "years", "mo": "months", "wk": "weeks", "d": "days"}
_SEXES = {"m": "male", "male": "male", "man": "male", "f": "female", "female": "female",
          "woman": "female"}
EXCEPTION_KIND = "eligibility_exception"


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
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    return months


class Val:
    """An operand's value: a number, text or bool, or None (unknown, with `missing` or `error`
    saying why). `record`/`pos` name the input record it came from."""

    __slots__ = ("value", "unit", "record", "pos", "subject", "missing", "error")

    def __init__(
        self,
        value: Any,
        subject: str,
        unit: str | None = None,
        record: Event | None = None,
        pos: int | None = None,
        missing: str | None = None,
        error: str | None = None,
    ):
        self.value = value
        self.subject = subject
        self.unit = unit
        self.record = record
        self.pos = pos
        self.missing = missing
        self.error = error

    @property
    def known(self) -> bool:
        return self.value is not None and self.error is None

    @property
    def date(self) -> datetime.date | None:
        r = self.record
        if r is None:
            return None
        if isinstance(r, (Occurrence, DoseEvent)):
            return r.start
        return r.date

    def text(self) -> str:
        """`52 U/L on 2023-02-20` or `no alt within ...`."""
        if self.value is None:
            return self.missing or self.error or f"no {self.subject}"
        when = f" on {self.date.isoformat()}" if self.date else ""
        return f"{describe.qty(self.value, self.unit)}{when}"


class Scope:
    """What an evaluation may see: the patient's index, the cutoff date and where it reports."""

    __slots__ = ("idx", "cutoff", "ref_date", "calendar", "items", "source", "errors", "cited",
                 "patient_id", "anchor_cache", "anchor_effects")

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
        self.anchor_cache: dict[tuple[object, datetime.date], tuple[datetime.date | None, str, tuple[int, ...]]] = {}

    def error(self, message: str, val: Val | None = None) -> None:
        rec = val.record if val is not None else None
        ref = rec.ref if rec is not None else None
        self.errors.append(EvaluationError(message, self.patient_id, ref, self.source))

    def cite(self, pos: int | None) -> None:
        if pos is not None:
            self.cited.add(pos)


def evidence(scope: Scope, val: Val | None, truth: Truth, explanation: str, **kw: Any) -> Evidence:
    """Evidence about `val` (its value, unit, date and record) under the scope's source."""
    if val is None:
        return Evidence(explanation, source=scope.source, truth=truth, **kw)
    scope.cite(val.pos)
    rec = val.record
    value = val.value if isinstance(val.value, (int, float, str, bool)) else None
    kw["error"] = kw.get("error") or val.error
    return Evidence(
        explanation,
        source=scope.source,
        subject=val.subject,
        truth=truth,
        value=value,
        unit=val.unit,
        date=val.date,
        ref=rec.ref if rec is not None else None,
        **kw,
    )


# ---- anchors ----------------------------------------------------------------------------------


def anchor_date(scope: Scope, ref: ex.AnchorRef) -> tuple[datetime.date | None, str]:
    """The date of an anchor as known by the cutoff, and its name for messages."""
    key = (ref, scope.cutoff)
    hit = scope.anchor_cache.get(key)
    if hit is None:
        hit = scope.anchor_cache[key] = _anchor_date(scope, ref)
    else:
        scope.cited.update(hit[2])
    return hit[0], hit[1]


def _anchor_date(scope: Scope, ref: ex.AnchorRef) -> tuple[datetime.date | None, str, tuple[int, ...]]:
    idx, cutoff = scope.idx, scope.cutoff
    if isinstance(ref, ex.NamedAnchor):
        name = ref.name
        hit = idx.anchor_date(name, cutoff) or idx.first_visit(name, cutoff)
        if hit is not None:
            scope.cite(hit[1])
            return hit[0], name, (hit[1],)
        return derived_anchor(idx, name, cutoff, scope.anchor_effects), name, ()
    if isinstance(ref, ex.DoseAnchor):
        which = "first" if ref.which is ex.AggregateFn.FIRST else "last"
        name = f"{which} dose of {ref.intervention}"
        bounds = idx.dose_bounds(ref.intervention, cutoff)
        if bounds is None:
            return None, name, ()
        return (bounds[0] if which == "first" else bounds[1]), name, ()
    name = f"{ref.which.value} {ref.kind}"
    recs = idx.records(ref.kind, cutoff)
    if not recs:
        return None, name, ()
    ev, pos = recs[0] if ref.which is ex.AggregateFn.FIRST else recs[-1]
    scope.cite(pos)
    return _start(ev), name, (pos,)


def derived_anchor(idx: PatientIndex, name: str, cutoff: datetime.date | None,
                   effects: dict[str, AnchorEffect] = BUILT_IN) -> datetime.date | None:
    """An anchor with an effect (`discontinuation`, `withdrawal`, or `anchor X ... then ...`)
    is also dated by disposition records: the earliest disposition whose status has that
    effect (a withdrawal also ends treatment)."""
    anchor = effects.get(name)
    if anchor is None:
        return None
    s = idx.dispositions
    n = len(s) if cutoff is None else s.until(cutoff)
    for ev in s.events[:n]:
        effect = disposition_effect(ev.status)  # type: ignore[union-attr]
        if effect is not None and anchor.dated_by(effect, None):
            return ev.date  # type: ignore[union-attr]
    return None


def _start(ev: Event) -> datetime.date:
    if isinstance(ev, (Occurrence, DoseEvent)):
        return ev.start
    return ev.date


# ---- selections -------------------------------------------------------------------------------


class Selected:
    """The records a selection found, and why it might be unknown."""

    __slots__ = ("records", "unknown_where", "problem", "stale")

    def __init__(self) -> None:
        self.records: list[tuple[Event, int]] = []
        self.unknown_where: list[tuple[Event, int]] = []
        self.problem: str | None = None  # the selection cannot be made (no anchor date...)
        self.stale: tuple[Event, int] | None = None  # the latest record outside the window


def select(scope: Scope, sel: ex.Selection) -> Selected:
    out = Selected()
    idx = scope.idx
    if not idx.collected(sel.kind):
        out.problem = f"{sel.kind} was not collected for this patient"
        return out
    recs = idx.records(sel.kind, scope.cutoff)
    t = sel.temporal
    if t is not None and recs:
        adate, aname = anchor_date(scope, t.anchor)
        if adate is None:
            out.problem = f"no date for {aname}: cannot select {describe.selection(sel)}"
            return out
        if isinstance(t, ex.Within):
            d = datetime.timedelta(days=round(t.duration.days(scope.calendar)))
            lo, hi = (adate - d, adate) if t.direction is ex.Direction.BEFORE else (adate, adate + d)
            kept = [r for r in recs if _overlaps(scope, r[0], lo, hi)]
        else:
            kept = [r for r in recs if _in_time(scope, r[0], t, adate)]
        if not kept:
            out.stale = recs[-1]
        recs = kept
    elif t is not None:
        adate, aname = anchor_date(scope, t.anchor)
        if adate is None:
            out.problem = f"no date for {aname}: cannot select {describe.selection(sel)}"
            return out
    if sel.where is not None and recs:
        kept = []
        for r in recs:
            truth, _ = truth_of(scope, sel.where, r[0])
            if truth is TRUE:
                kept.append(r)
            elif truth is UNKNOWN:
                out.unknown_where.append(r)
        recs = kept
    out.records = list(recs)
    return out


def _overlaps(scope: Scope, ev: Event, lo: datetime.date, hi: datetime.date) -> bool:
    if type(ev) is Observation:
        return lo <= ev.date <= hi
    start = _start(ev)
    end = start
    if isinstance(ev, Occurrence):
        if ev.end is not None:
            end = ev.end
        elif ev.ongoing:
            end = scope.cutoff
    return start <= hi and end >= lo


def _in_time(scope: Scope, ev: Event, t: ex.Temporal, a: datetime.date) -> bool:
    start = _start(ev)
    end = start
    if isinstance(ev, Occurrence):
        if ev.end is not None:
            end = ev.end
        elif ev.ongoing:
            end = scope.cutoff
    if isinstance(t, ex.Within):
        d = datetime.timedelta(days=round(t.duration.days(scope.calendar)))
        if t.direction is ex.Direction.BEFORE:
            lo, hi = a - d, a
        else:
            lo, hi = a, a + d
        return start <= hi and end >= lo
    if isinstance(t, ex.Relative):
        if t.direction is ex.Direction.BEFORE:
            return start < a if t.strict else start <= a
        return end > a if t.strict else end >= a
    # OngoingAt: started on or before A, and not ended before A (no end date = not ended).
    if start > a:
        return False
    if isinstance(ev, Occurrence):
        return ev.ongoing or ev.end is None or ev.end >= a
    return start == a


def _molar_mass(scope: Scope, ev: Event | None) -> float | None:
    """The molar mass the protocol declares for the record's data item (for mg/dL <-> umol/L)."""
    kind = getattr(ev, "kind", None)
    item = scope.items.get(kind) if kind is not None else None
    return item.molar_mass if item is not None else None


def _value_of(ev: Event) -> tuple[Any, str | None]:
    if isinstance(ev, Observation):
        return ev.value, ev.unit
    if isinstance(ev, Occurrence):
        v = ev.attribute("value")
        return (True if v is None else v), None
    return None, None


# ---- operands ---------------------------------------------------------------------------------


def value_of(scope: Scope, node: ex.Expr, event: Event | None = None) -> Val:  # noqa: C901
    """The value of an operand node."""
    if isinstance(node, ex.QuantityLiteral):
        return Val(node.quantity.value, describe.expr(node), unit=node.quantity.unit)
    if isinstance(node, ex.StringLiteral):
        return Val(node.value, describe.expr(node))
    if isinstance(node, ex.BoolLiteral):
        return Val(node.value, describe.expr(node))
    if isinstance(node, ex.Name):
        return _name(scope, node.name, event)
    if isinstance(node, ex.Aggregate):
        return _aggregate(scope, node)
    if isinstance(node, ex.Count):
        subject = describe.expr(node)
        got = select(scope, node.selection)
        if got.problem:
            return Val(None, subject, missing=got.problem)
        if got.unknown_where:
            ev, pos = got.unknown_where[0]
            return Val(None, subject, record=ev, pos=pos,
                       missing=f"{len(got.unknown_where)} record(s) of {node.selection.kind} "
                       "lack an attribute the `where` needs")
        for _, pos in got.records:
            scope.cite(pos)
        return Val(len(got.records), subject)
    if isinstance(node, ex.LogReduction):
        return _log_reduction(scope, node)
    if isinstance(node, ex.RelativeLimit):
        return Val(None, describe.expr(node), error="a multiple of ULN/LLN is not a value")
    # A boolean node used as an operand.
    truth, _ = truth_of(scope, node, event)
    return Val(None if truth is UNKNOWN else truth is TRUE, describe.expr(node))


def _name(scope: Scope, name: str, event: Event | None) -> Val:
    if event is not None:
        return _attribute(event, name)
    p = scope.idx.patient
    if name == "sex":
        sex = normalize_sex(p.sex)
        if sex is None:
            why = "sex is not recorded" if p.sex is None else f"sex '{p.sex}' is neither male nor female"
            return Val(None, "sex", missing=why)
        return Val(sex, "sex")
    if name == "arm":
        if p.arm is None:
            return Val(None, "arm", missing="the patient has no arm")
        return Val(p.arm, "arm")
    if name == "age":
        return _age(scope, "a")
    return Val(None, name, error=f"unknown patient attribute '{name}'")


def _age(scope: Scope, unit: str) -> Val:
    """Age at the reference date, in completed units of `unit` (a, mo, wk, d)."""
    p = scope.idx.patient
    on = scope.ref_date
    words = _AGE_UNITS.get(unit, "years")
    if on is None and p.age is None:
        return Val(None, "age", missing="no reference date to count the age at")
    if p.birth_date is not None and on is not None:
        if unit == "mo":
            v: float = completed_months(p.birth_date, on)
        elif unit == "wk":
            v = (on - p.birth_date).days // 7
        elif unit == "d":
            v = (on - p.birth_date).days
        else:
            v = completed_years(p.birth_date, on)
        return Val(v, f"age in completed {words} on {on.isoformat()} (born "
                   f"{p.birth_date.isoformat()})", unit=unit)
    if p.age is not None:
        years = float(p.age)
        v = years if unit == "a" else convert(years, "a", unit)
        return Val(v, "age as recorded (no birth date)", unit=unit)
    return Val(None, "age", missing="neither birth date nor age is recorded")


def _attribute(event: Event, name: str) -> Val:
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
        v = next((val for k, val in event.attributes if k == name), None)
    elif isinstance(event, Occurrence):
        v = event.attribute(name)
    else:
        v = None
    if v is None:
        return Val(None, subject, record=event, missing=f"{name} is not recorded")
    return Val(v, subject, record=event)


def _numeric(v: Any) -> float | None:
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


def _aggregate(scope: Scope, node: ex.Aggregate) -> Val:
    sel = node.selection
    subject = describe.expr(node)
    got = select(scope, sel)
    if got.problem:
        return Val(None, subject, missing=got.problem)
    recs = [(e, p) for e, p in got.records if _value_of(e)[0] is not None]
    if not recs:
        why = f"no {describe.selection(sel)}"
        if got.unknown_where:
            why += f" ({len(got.unknown_where)} record(s) lack an attribute the `where` needs)"
        if got.stale is not None:
            ev = got.stale[0]
            why += f" (the most recent {sel.kind} is from {_start(ev).isoformat()}, outside the window)"
        elif not got.records and not got.unknown_where:
            why += " recorded"
        return Val(None, subject, missing=why)
    fn = node.fn
    if fn is ex.AggregateFn.LATEST:
        ev, pos = recs[-1]
    elif fn is ex.AggregateFn.FIRST:
        ev, pos = recs[0]
    else:
        best: tuple[Event, int] | None = None
        best_v = 0.0
        base_unit = scope.items[sel.kind].unit if sel.kind in scope.items else None
        for e, p in recs:
            raw, unit = _value_of(e)
            x = _numeric(raw)
            if x is None:
                return Val(None, subject, record=e, pos=p,
                           error=f"{sel.kind} value {raw!r} is not a number")
            if base_unit and unit and normalize_code(unit) != normalize_code(base_unit):
                try:
                    x = convert(x, unit, base_unit, _molar_mass(scope, e))
                except UnitError as exc:
                    val = Val(None, subject, record=e, pos=p, error=str(exc))
                    scope.error(f"{sel.kind}: {exc}", val)
                    return val
            if best is None or (x < best_v if fn is ex.AggregateFn.LOWEST else x > best_v):
                best, best_v = (e, p), x
        assert best is not None
        ev, pos = best
    value, unit = _value_of(ev)
    return Val(value, subject, unit=unit, record=ev, pos=pos)


def _log_reduction(scope: Scope, node: ex.LogReduction) -> Val:
    subject = describe.expr(node)
    got = select(scope, node.selection)
    if got.problem:
        return Val(None, subject, missing=got.problem)
    samples = []
    for e, p in got.records:
        raw, unit = _value_of(e)
        x = _numeric(raw)
        if x is not None:
            samples.append((e, p, x, unit))
    if len(samples) < 2:
        return Val(None, subject, missing=f"log_reduction needs two samples of "
                   f"{node.selection.kind}; {len(samples)} found")
    fe, fp, fx, funit = samples[0]
    le, lp, lx, lunit = samples[-1]
    if funit and lunit and normalize_code(funit) != normalize_code(lunit):
        try:
            lx = convert(lx, lunit, funit, _molar_mass(scope, le))
        except UnitError as exc:
            val = Val(None, subject, record=le, pos=lp, error=str(exc))
            scope.error(f"{node.selection.kind}: {exc}", val)
            return val
    if fx <= 0 or lx <= 0:
        return Val(None, subject, record=le, pos=lp,
                   missing=f"log_reduction is undefined: first {describe.num(fx)}, latest "
                   f"{describe.num(lx)} (a value is not positive)")
    scope.cite(fp)
    red = math.log10(fx / lx)
    v = Val(red, f"{subject} = log10({describe.num(fx)} on {_start(fe).isoformat()} / "
            f"{describe.num(lx)} on {_start(le).isoformat()})", record=le, pos=lp)
    return v


# ---- comparisons ------------------------------------------------------------------------------


def _threshold(
    scope: Scope, left: Val, right_node: ex.Expr, event: Event | None
) -> tuple[Any, str | None, tuple[float | None, float | None] | None, str | None, str | None]:
    """(threshold value in the left value's unit, its unit, reference range used, problem
    (unknown), error). Converts units; resolves `x ULN`."""
    if isinstance(right_node, ex.RelativeLimit):
        rec = left.record
        if not isinstance(rec, Observation):
            return None, None, None, None, f"{describe.expr(right_node)} needs a lab record"
        rng = (rec.low, rec.high)
        limit = rec.high if right_node.limit is ex.Limit.ULN else rec.low
        if limit is None:
            which = "upper" if right_node.limit is ex.Limit.ULN else "lower"
            return (None, None, rng,
                    f"{rec.kind} on {rec.date.isoformat()} has no {which} reference limit: "
                    f"{describe.expr(right_node)} cannot be computed", None)
        return right_node.multiple * limit, left.unit, rng, None, None
    right = value_of(scope, right_node, event)
    if right.value is None:
        return None, None, None, right.missing or right.error or f"no {right.subject}", right.error
    rv, runit = right.value, right.unit
    if runit is not None and isinstance(rv, (int, float)) and not isinstance(rv, bool):
        if left.unit is None:
            if isinstance(left.value, (int, float)) and not isinstance(left.value, bool):
                return (None, None, None, None,
                        f"{left.subject} has no unit but is compared with {describe.qty(rv, runit)}")
            return rv, runit, None, None, None
        try:
            return (convert(float(rv), runit, left.unit, _molar_mass(scope, left.record)),
                    left.unit, None, None, None)
        except UnitError as exc:
            return None, None, None, None, f"cannot convert {describe.qty(rv, runit)} to {left.unit}: {exc}"
    return rv, runit if runit else None, None, None, None


def compare_values(op: ex.CompareOp, a: Any, b: Any) -> bool | str:
    """The comparison, or an error message when the values cannot be compared."""
    an, bn = _numeric(a), _numeric(b)
    if isinstance(a, bool) or isinstance(b, bool):
        if isinstance(a, bool) and isinstance(b, bool) and op in (ex.CompareOp.EQ, ex.CompareOp.NE):
            return _OPS[op](a, b)
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
    return _OPS[op](an, bn)


def _compare(scope: Scope, node: ex.Compare, event: Event | None) -> Result:
    left_node, right_node, op = node.left, node.right, node.op
    if isinstance(left_node, ex.RelativeLimit) and not isinstance(right_node, ex.RelativeLimit):
        # `2 x ULN >= latest alt` reads as `latest alt <= 2 x ULN`.
        flipped = {ex.CompareOp.LT: ex.CompareOp.GT, ex.CompareOp.LE: ex.CompareOp.GE,
                   ex.CompareOp.GT: ex.CompareOp.LT, ex.CompareOp.GE: ex.CompareOp.LE}
        return _compare(scope, ex.Compare(flipped.get(op, op), right_node, left_node), event)
    if event is None and isinstance(left_node, ex.Name) and left_node.name == "age" \
            and isinstance(right_node, ex.QuantityLiteral) and right_node.quantity.unit in _AGE_UNITS:
        left = _age(scope, right_node.quantity.unit)
    else:
        left = value_of(scope, left_node, event)
    return compare_val(scope, left, op, right_node, event)


def compare_val(scope: Scope, left: Val, op: ex.CompareOp, right_node: ex.Expr,
                event: Event | None = None, quiet: bool | None = None) -> Result:
    """Compare an evaluated left operand with a threshold node, with evidence (none when
    `quiet`, which is the default inside `where`: per-record tests are not evidence)."""
    th_text = describe.expr(right_node)
    if quiet is None:
        quiet = event is not None
    if left.value is None:
        if left.error and not quiet:
            scope.error(left.error, left)
        why = left.text()
        ev = [] if quiet else [evidence(scope, left, UNKNOWN, f"{why}: {left.subject} {op.value} "
                                         f"{th_text} is unknown")]
        return UNKNOWN, ev
    th, th_unit, rng, problem, err = _threshold(scope, left, right_node, event)
    if err is not None or problem is not None:
        msg = err or problem or ""
        if err is not None and not quiet:
            scope.error(f"{left.subject}: {err}", left)
        ev = [] if quiet else [evidence(scope, left, UNKNOWN,
                                        f"{left.subject}: {left.text()} {op.value} {th_text}: "
                                        f"unknown ({msg})", reference_range=rng, error=err)]
        return UNKNOWN, ev
    got = compare_values(op, left.value, th)
    if isinstance(got, str):
        if not quiet:
            scope.error(f"{left.subject}: {got}", left)
            return UNKNOWN, [evidence(scope, left, UNKNOWN, f"{left.subject}: {got}", error=got)]
        return UNKNOWN, []
    truth = TRUE if got else FALSE
    if quiet:
        return truth, []
    shown = th_text
    if isinstance(right_node, ex.RelativeLimit):
        shown = f"{th_text} ({describe.qty(th, th_unit)}, range {_rng(rng)})"
    elif isinstance(right_node, ex.QuantityLiteral) and th_unit and right_node.quantity.unit \
            and normalize_code(right_node.quantity.unit) != normalize_code(th_unit):
        shown = f"{th_text} (= {describe.qty(th, th_unit)})"
    text = f"{left.subject}: {left.text()} {op.value} {shown}: {truth.value}"
    return truth, [evidence(scope, left, truth, text, threshold=_scalar(th), threshold_unit=th_unit,
                            reference_range=rng)]


def _scalar(x: Any) -> float | str | bool | None:
    return x if isinstance(x, (int, float, str, bool)) else None


def _rng(rng: tuple[float | None, float | None] | None) -> str:
    if rng is None:
        return "?"
    lo, hi = rng
    return f"{describe.num(lo) if lo is not None else '?'}-{describe.num(hi) if hi is not None else '?'}"


# ---- boolean nodes ----------------------------------------------------------------------------


def truth_of(scope: Scope, node: ex.Expr, event: Event | None = None) -> Result:
    """Evaluate a condition: (TRUE/FALSE/UNKNOWN, evidence)."""
    fn = _TRUTH.get(type(node))
    if fn is None:
        val = value_of(scope, node, event)
        if isinstance(val.value, bool):
            t = TRUE if val.value else FALSE
            return t, [evidence(scope, val, t, f"{val.subject}: {t.value}")]
        if val.value is None:
            return UNKNOWN, [evidence(scope, val, UNKNOWN, val.text())]
        return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{val.subject} is not a condition")]
    return fn(scope, node, event)


def _junction(scope: Scope, node: Any, event: Event | None, decisive: Truth) -> Result:
    """Kleene `and` (decisive FALSE) or `or` (decisive TRUE): one decisive operand settles it
    whatever the others are, even unknown; otherwise any unknown makes the whole unknown."""
    ev_other: list[Evidence] = []
    ev_unknown: list[Evidence] = []
    unknown = False
    for operand in node.operands:
        t, ev = truth_of(scope, operand, event)
        if t is decisive:
            return decisive, ev
        if t is UNKNOWN:
            unknown = True
            ev_unknown.extend(ev)
        else:
            ev_other.extend(ev)
    if unknown:
        return UNKNOWN, ev_unknown
    return ~decisive, ev_other


def _and(scope: Scope, node: Any, event: Event | None) -> Result:
    return _junction(scope, node, event, FALSE)


def _or(scope: Scope, node: Any, event: Event | None) -> Result:
    return _junction(scope, node, event, TRUE)


def _not(scope: Scope, node: Any, event: Event | None) -> Result:
    t, ev = truth_of(scope, node.operand, event)
    return ~t, ev


def _exists(scope: Scope, node: Any, event: Event | None) -> Result:
    sel: ex.Selection = node.selection
    subject = describe.expr(node)
    got = select(scope, sel)
    if got.problem:
        return UNKNOWN, [Evidence(f"{subject}: unknown ({got.problem})", source=scope.source,
                                  subject=subject, truth=UNKNOWN)]
    recs = got.records
    maybe = list(got.unknown_where)
    lasting: ex.Lasting | None = node.lasting
    if lasting is not None:
        kept = []
        for r in recs:
            t = _lasting(scope, r[0], lasting)
            if t is TRUE:
                kept.append(r)
            elif t is UNKNOWN:
                maybe.append(r)
        recs = kept
    if recs:
        ev, pos = recs[0]
        val = Val(True, subject, record=ev, pos=pos)
        extra = f" ({len(recs)} records)" if len(recs) > 1 else ""
        return TRUE, [evidence(scope, val, TRUE, f"{subject}: {_describe_record(ev)}{extra}: true")]
    if maybe:
        ev, pos = maybe[0]
        val = Val(None, subject, record=ev, pos=pos)
        return UNKNOWN, [evidence(scope, val, UNKNOWN,
                                  f"{subject}: unknown ({_describe_record(ev)} may match but "
                                  "lacks the data to tell)")]
    return FALSE, [Evidence(f"{subject}: none recorded: false", source=scope.source,
                            subject=subject, truth=FALSE)]


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


def _lasting(scope: Scope, ev: Event, lasting: ex.Lasting) -> Truth:
    days, over = lasting_days(scope, ev)
    limit = lasting.duration.days(scope.calendar)
    holds = _OPS[lasting.op](days, limit)
    if over:
        return TRUE if holds else FALSE
    if lasting.op in (ex.CompareOp.GT, ex.CompareOp.GE):
        return TRUE if holds else FALSE  # not (yet) lasted long enough
    return FALSE if not holds else UNKNOWN  # `lasting < N` is only known once it is over


def _describe_record(ev: Event) -> str:
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
    return f"{type(ev).__name__} on {_start(ev).isoformat()}"


def _compare_node(scope: Scope, node: Any, event: Event | None) -> Result:
    return _compare(scope, node, event)


def _in_range(scope: Scope, node: Any, event: Event | None) -> Result:
    val = value_of(scope, node.operand, event)
    rng = f"{describe.num(node.low)}..{describe.num(node.high)}"
    quiet = event is not None
    if val.value is None:
        if val.error and not quiet:
            scope.error(val.error, val)
        return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN,
                                                   f"{val.text()}: {val.subject} in {rng} is unknown")]
    x = _numeric(val.value)
    if x is None:
        msg = f"{val.subject} {describe.qty(val.value, val.unit)} is not a number"
        if not quiet:
            scope.error(msg, val)
        return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN, msg, error=msg)]
    t = TRUE if node.low <= x <= node.high else FALSE
    if quiet:
        return t, []
    return t, [evidence(scope, val, t, f"{val.subject}: {val.text()} in {rng}: {t.value}",
                        threshold=f"{rng}")]


def _in_set(scope: Scope, node: Any, event: Event | None) -> Result:
    val = value_of(scope, node.operand, event)
    options = ", ".join(describe.expr(v) for v in node.values)
    quiet = event is not None
    if val.value is None:
        return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN,
                                                   f"{val.text()}: {val.subject} in ({options}) is unknown")]
    result: Truth = FALSE
    for lit in node.values:
        t, _ = compare_val(scope, val, ex.CompareOp.EQ, lit, event=event, quiet=True)
        if t is TRUE:
            result = TRUE
            break
        if t is UNKNOWN:
            result = UNKNOWN
    if quiet:
        return result, []
    return result, [evidence(scope, val, result,
                             f"{val.subject}: {val.text()} in ({options}): {result.value}",
                             threshold=options)]


def _test(scope: Scope, node: Any, event: Event | None) -> Result:
    val = value_of(scope, node.operand, event)
    kind: ex.TestKind = node.test
    what = f"{val.subject} is {kind.value}"
    if kind in (ex.TestKind.MISSING, ex.TestKind.PRESENT):
        present = val.value is not None or val.error is not None
        t = TRUE if present == (kind is ex.TestKind.PRESENT) else FALSE
        return t, [evidence(scope, val, t, f"{what}: {val.text()}: {t.value}")]
    if val.value is None:
        return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{what}: unknown ({val.text()})")]
    rec = val.record
    detected: bool | None = None
    if isinstance(rec, Observation) and rec.detected is not None:
        detected = rec.detected
    else:
        x = _numeric(val.value)
        if x is not None:
            detected = x > 0
    if detected is None:
        return UNKNOWN, [evidence(scope, val, UNKNOWN,
                                  f"{what}: unknown ({val.text()} says nothing about detection)")]
    t = TRUE if detected == (kind is ex.TestKind.DETECTABLE) else FALSE
    how = "detected" if detected else "not detected"
    return t, [evidence(scope, val, t, f"{what}: {val.text()} ({how}): {t.value}")]


def _attested(scope: Scope, node: Any, event: Event | None) -> Result:
    cid = scope.source or ""
    for kind in (EXCEPTION_KIND,):
        for ev, pos in scope.idx.records(kind, None):
            crit = ev.attribute("criterion") if isinstance(ev, Occurrence) else None
            if isinstance(ev, Observation):
                crit = next((v for k, v in ev.attributes if k == "criterion"), ev.value)
            if isinstance(crit, str) and crit.strip().casefold() == cid.casefold():
                val = Val(False, "attested", record=ev, pos=pos)
                return FALSE, [evidence(scope, val, FALSE,
                                        f"eligibility exception recorded for {cid} on "
                                        f"{_start(ev).isoformat()}: not attested")]
    return TRUE, [Evidence(f"attested by the investigator (no eligibility exception for {cid})",
                           source=scope.source, subject="attested", truth=TRUE)]


def _consecutive(scope: Scope, node: Any, event: Event | None) -> Result:
    samples = numeric_samples(scope, node.kind)
    k = node.count
    subject = describe.expr(node)
    if len(samples) < k:
        return FALSE, [Evidence(f"{subject}: only {len(samples)} sample(s): false",
                                source=scope.source, subject=subject, truth=FALSE)]
    result: Truth = TRUE
    ev_all: list[Evidence] = []
    for ev, pos in samples[-k:]:
        raw, unit = _value_of(ev)
        val = Val(raw, f"{node.kind}", unit=unit, record=ev, pos=pos)
        t, e = compare_val(scope, val, node.op, node.threshold)
        ev_all.extend(e)
        if t is FALSE:
            return FALSE, e
        if t is UNKNOWN:
            result = UNKNOWN
    return result, ev_all


def numeric_samples(scope: Scope, kind: str) -> list[tuple[Event, int]]:
    """Observations of `kind` known by the cutoff that have a value, in date order."""
    s = scope.idx.obs(kind)
    n = s.until(scope.cutoff)
    return [(e, p) for e, p in zip(s.events[:n], s.positions[:n], strict=True)
            if e.value is not None]  # type: ignore[union-attr]


def _log_rise(scope: Scope, node: Any, event: Event | None) -> Result:
    samples = numeric_samples(scope, node.kind)
    k = node.count
    subject = describe.expr(node)
    if len(samples) < k + 1:
        return FALSE, [Evidence(f"{subject}: only {len(samples)} sample(s): false",
                                source=scope.source, subject=subject, truth=FALSE)]
    values: list[tuple[float | None, str | None]] = []
    for ev, _ in samples:
        raw, unit = _value_of(ev)
        values.append((_numeric(raw), unit))
    ev_all: list[Evidence] = []
    result: Truth = TRUE
    n = len(samples)
    for i in range(n - k, n):
        ev, pos = samples[i]
        x, unit = values[i]
        lowest: float | None = None
        low_at: Event | None = None
        for j in range(i):
            y, yunit = values[j]
            if y is None or y <= 0:
                continue
            if unit and yunit and normalize_code(unit) != normalize_code(yunit):
                try:
                    y = convert(y, yunit, unit, _molar_mass(scope, samples[j][0]))
                except UnitError as exc:
                    val = Val(None, node.kind, record=samples[j][0], pos=samples[j][1], error=str(exc))
                    scope.error(f"{node.kind}: {exc}", val)
                    return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{subject}: {exc}", error=str(exc))]
            if lowest is None or y < lowest:
                lowest, low_at = y, samples[j][0]
        val = Val(x, node.kind, unit=unit, record=ev, pos=pos)
        if x is None or lowest is None:
            result = UNKNOWN if result is TRUE else result
            ev_all.append(evidence(scope, val, UNKNOWN, f"{subject}: no rise computable at "
                                   f"{ev.date.isoformat()}"))  # type: ignore[union-attr]
            continue
        rise = math.log10(x / lowest) if x > 0 else -math.inf
        holds = _OPS[node.op](rise, node.logs)
        t = TRUE if holds else FALSE
        text = (f"{node.kind} {describe.qty(x, unit)} on {ev.date.isoformat()}: "  # type: ignore[union-attr]
                f"rise {describe.num(rise) if rise != -math.inf else '-inf'} log from lowest "
                f"{describe.num(lowest)} ({_start(low_at).isoformat() if low_at else '?'}) "
                f"{node.op.value} {describe.num(node.logs)}: {t.value}")
        e = evidence(scope, val, t, text, threshold=node.logs)
        if t is FALSE:
            return FALSE, [e]
        ev_all.append(e)
    return result, ev_all


_TRUTH: dict[type, Callable[[Scope, Any, Event | None], Result]] = {
    ex.And: _and,
    ex.Or: _or,
    ex.Not: _not,
    ex.Exists: _exists,
    ex.Compare: _compare_node,
    ex.InRange: _in_range,
    ex.InSet: _in_set,
    ex.Test: _test,
    ex.Attested: _attested,
    ex.Consecutive: _consecutive,
    ex.LogRise: _log_rise,
}


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
    elif isinstance(node, (ex.Aggregate, ex.Count, ex.LogReduction, ex.Exists)):
        referenced_kinds(node.selection, out)
    elif isinstance(node, (ex.And, ex.Or)):
        for o in node.operands:
            referenced_kinds(o, out)
    elif isinstance(node, (ex.Not, ex.Test, ex.InRange, ex.InSet)):
        referenced_kinds(node.operand, out)
    elif isinstance(node, ex.Compare):
        referenced_kinds(node.left, out)
        referenced_kinds(node.right, out)
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
    return out


__all__ = [
    "Scope",
    "Val",
    "compare_values",
    "completed_years",
    "normalize_sex",
    "referenced_kinds",
    "truth_of",
    "value_of",
]
