"""Expressions compiled once into Python closures, then run for every patient.

Walking the `protocol.expr` tree for every patient and every stopping-rule date re-did work that
never depends on the patient: dispatching on the node type, rendering the node for evidence
(`describe.expr`), looking up operators, converting a threshold's unit, turning durations into
days. `compile_condition` does all that once per node and returns a closure
`(scope, event) -> (truth, evidence)`; `compile_operand` returns `(scope, event) -> Val`.

The semantics are exactly those documented in `engine.expressions` and
docs/engine-semantics.md: every closure mirrors the rule it implements, evidence sentences are
the same to the byte. `event` is the record a `where` condition is tested on (None outside
`where`); comparisons inside `where` are quiet (no evidence, no errors).

Compiled closures are remembered by node identity (the node is kept alive with its closure,
so an id is never reused for another node), like `describe.expr`.
"""

from __future__ import annotations

import datetime
import math
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, Final

from engine import clock, describe
from engine.compile_records import (
    compile_continuous,
    compile_count_distinct,
    compile_statistic,
)
from engine.compile_select import Records, compile_selection
from engine.compile_values import (
    age_at,
    compile_computed,
    defined_condition,
    expressed_in,
    is_computed,
)
from engine.expressions import (
    AGE_UNITS,
    EVIDENCE_VALUE_TYPES,
    EXACT_OPS,
    EXCEPTION_KIND,
    OPS,
    Result,
    Scope,
    Val,
    age,
    attribute,
    compare_values,
    describe_record,
    evidence,
    input_evidence,
    lasting_days,
    molar_mass,
    normalize_sex,
    numeric,
    numeric_samples,
    stamp_of,
    start_of,
    value_and_unit,
)
from engine.logic import FALSE, NOT, TRUE, UNKNOWN, Truth
from engine.patient import DoseEvent, Event, Observation, Occurrence, stamp_text
from engine.results import Evidence, new_evidence
from engine.timed_select import record_text
from protocol import expr as ex
from protocol.timing import Calendar, TimeUnit
from protocol.units import UnitError, convert, normalize_code

Cond = Callable[[Scope, Event | None], Result]
Operand = Callable[[Scope, Event | None], Val]
# compare(scope, left value, event, quiet) -> (truth, evidence)
Comparer = Callable[[Scope, Val, Event | None, bool], Result]

_CONDS: Final[dict[int, tuple[object, Cond]]] = {}
_OPERANDS: Final[dict[int, tuple[object, Operand]]] = {}
_CACHE_LIMIT = 20000


def compile_condition(node: ex.Expr) -> Cond:
    """The node as a condition: `(scope, event) -> (TRUE/FALSE/UNKNOWN, evidence)`."""
    hit = _CONDS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    maker = _CONDITION_MAKERS.get(type(node))
    fn = maker(node) if maker is not None else _operand_as_condition(node)
    if len(_CONDS) > _CACHE_LIMIT:
        _CONDS.clear()
    _CONDS[id(node)] = (node, fn)
    return fn


def compile_operand(node: ex.Expr) -> Operand:
    """The node as an operand: `(scope, event) -> Val`."""
    hit = _OPERANDS.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    fn = _compile_operand(node)
    if len(_OPERANDS) > _CACHE_LIMIT:
        _OPERANDS.clear()
    _OPERANDS[id(node)] = (node, fn)
    return fn


# ---- operands ---------------------------------------------------------------------------------


def _constant(val: Val) -> Operand:
    def constant(scope: Scope, event: Event | None) -> Val:
        return val

    return constant


def _compile_operand(node: ex.Expr) -> Operand:  # noqa: C901 - one case per node type
    if isinstance(node, ex.QuantityLiteral):
        return _constant(Val(node.quantity.value, describe.expr(node), unit=node.quantity.unit))
    if isinstance(node, (ex.StringLiteral, ex.BoolLiteral)):
        return _constant(Val(node.value, describe.expr(node)))
    if isinstance(node, ex.Name):
        return _name(node.name)
    if isinstance(node, ex.Aggregate):
        return _aggregate(node)
    if isinstance(node, ex.Count):
        return _count(node)
    if isinstance(node, ex.LogReduction):
        return _log_reduction(node)
    if isinstance(node, ex.Statistic):
        return compile_statistic(node, compile_selection(node.selection, compile_condition))
    if isinstance(node, ex.CountDistinct):
        return compile_count_distinct(node, compile_selection(node.selection,
                                                              compile_condition))
    if isinstance(node, ex.RelativeLimit):
        return _constant(Val(None, describe.expr(node), error="a multiple of ULN/LLN is not a value"))
    computed = compile_computed(node, compile_operand, compile_condition)
    if computed is not None:
        return computed
    # A boolean node used as an operand.
    cond = compile_condition(node)
    subject = describe.expr(node)

    def boolean(scope: Scope, event: Event | None) -> Val:
        truth = cond(scope, event)[0]
        return Val(None if truth is UNKNOWN else truth is TRUE, subject)

    return boolean


def _name(name: str) -> Operand:
    """A bare name: the record's attribute inside `where`, else the patient's sex, arm or age."""
    if name == "sex":

        def sex(scope: Scope, event: Event | None) -> Val:
            if event is not None:
                return attribute(event, name)
            raw = scope.idx.patient.sex
            value = normalize_sex(raw)
            if value is None:
                why = "sex is not recorded" if raw is None else f"sex '{raw}' is neither male nor female"
                return Val(None, "sex", missing=why)
            return Val(value, "sex")

        return sex
    if name == "arm":

        def arm(scope: Scope, event: Event | None) -> Val:
            if event is not None:
                return attribute(event, name)
            p = scope.idx.patient
            if p.arm is None:
                return Val(None, "arm", missing="the patient has no arm")
            return Val(p.arm, "arm")

        return arm
    if name == "age":

        def age_years(scope: Scope, event: Event | None) -> Val:
            if event is not None:
                return attribute(event, name)
            return age(scope, "a")

        return age_years
    unknown = f"unknown patient attribute '{name}'"

    def other(scope: Scope, event: Event | None) -> Val:
        if event is not None:
            return attribute(event, name)
        return Val(None, name, error=unknown)

    return other


# `a <= b` for measured numbers: equal within the tolerance of OPS counts as equal
_LE: Final = OPS[ex.CompareOp.LE]


def _has_value(ev: Event) -> bool:
    # value_and_unit(ev)[0] is not None: an occurrence always has one (True: it happened)
    return type(ev) is not Observation or ev.value is not None


def _aggregate(node: ex.Aggregate) -> Operand:  # noqa: C901 - mirrors the rule step by step
    sel = node.selection
    select = compile_selection(sel, compile_condition)
    subject = describe.expr(node)
    none_text = f"no {describe.selection(sel)}"
    kind = sel.kind
    fn = node.fn
    lowest = fn is ex.AggregateFn.LOWEST
    timed_window = isinstance(sel.temporal, ex.Within) and sel.temporal.duration.sub_day

    def aggregate(scope: Scope, event: Event | None) -> Val:
        recs, unknown, problem, stale, maybe = select(scope)
        if problem:
            return Val(None, subject, missing=problem)
        if timed_window:
            return _timed_aggregate(scope, node, recs, maybe, subject, none_text, stale)
        found: tuple[Event, int] | None = None
        if fn is ex.AggregateFn.LATEST:
            for r in reversed(recs):
                e = r[0]  # _has_value inlined
                if type(e) is not Observation or e.value is not None:
                    found = r
                    break
        elif fn is ex.AggregateFn.FIRST:
            for r in recs:
                e = r[0]
                if type(e) is not Observation or e.value is not None:
                    found = r
                    break
        else:
            valued = [r for r in recs if _has_value(r[0])]
            if valued:
                best = _extreme(scope, valued, kind, lowest, subject)
                if isinstance(best, Val):
                    return best
                found = best
        if maybe is not None and _doubt_matters(scope, node, recs, found, maybe[0], subject):
            ev, pos = maybe[0][0]
            return Val(None, subject, record=ev, pos=pos, missing=maybe[1])
        if found is None:
            why = none_text
            if unknown:
                why += f" ({len(unknown)} record(s) lack an attribute the `where` needs)"
            if stale is not None:
                why += (f" (the most recent {kind} is from {start_of(stale[0]).isoformat()}, "
                        "outside the window)")
            elif not recs and not unknown:
                why += " recorded"
            return Val(None, subject, missing=why)
        ev, pos = found
        if type(ev) is Observation:
            return Val(ev.value, subject, unit=ev.unit, record=ev, pos=pos)
        value, unit = value_and_unit(ev)
        return Val(value, subject, unit=unit, record=ev, pos=pos)

    return aggregate


def _doubt_matters(scope: Scope, node: ex.Aggregate, recs: Records,
                   found: tuple[Event, int] | None, maybe: Records, subject: str) -> bool:
    """Whether records that may or may not be selected (a window the data give) could change
    a day-level `latest/first/lowest/highest`: a valued one later (earlier) in (date, input)
    order than the one found, or with a lower (higher) value."""
    doubtful = [r for r in maybe if _has_value(r[0])]
    if not doubtful:
        return False
    if found is None:
        return True
    fn = node.fn
    if fn is ex.AggregateFn.LATEST or fn is ex.AggregateFn.FIRST:
        key = (start_of(found[0]), found[1])
        later = fn is ex.AggregateFn.LATEST
        return any(((start_of(e), p) > key) if later else ((start_of(e), p) < key)
                   for e, p in doubtful)
    valued = [r for r in recs if _has_value(r[0])]
    either = _extreme(scope, valued + doubtful, node.selection.kind,
                      fn is ex.AggregateFn.LOWEST, subject)
    return isinstance(either, Val) or either is not found


def _timed_aggregate(scope: Scope, node: ex.Aggregate, recs: Records,
                     maybe: tuple[Records, str] | None, subject: str, none_text: str,
                     stale: tuple[Event, int] | None) -> Val:
    """`latest/first/lowest/highest` over a window in hours or minutes that some records may
    or may not fall in: the value when those records cannot change it, else unknown with why
    (docs/engine-semantics.md, "Times of day")."""
    fn = node.fn
    kind = node.selection.kind
    valued = [r for r in recs if _has_value(r[0])]
    doubtful = [r for r in maybe[0] if _has_value(r[0])] if maybe is not None else []
    found: tuple[Event, int] | None = None
    if fn is ex.AggregateFn.LATEST or fn is ex.AggregateFn.FIRST:
        if valued:
            found, rival = _in_time_order(valued, doubtful, fn is ex.AggregateFn.LATEST)
            if found is None and rival is not None:
                which = "latest" if fn is ex.AggregateFn.LATEST else "first"
                ev, pos = rival
                if rival in doubtful and maybe is not None:
                    return Val(None, subject, record=ev, pos=pos, missing=maybe[1], timed=True)
                return Val(None, subject, record=ev, pos=pos, timed=True, missing=(
                    f"the times cannot tell which record of {kind} is the {which}: "
                    f"{record_text(ev, scope.cutoff)} and another with a different value"))
    elif valued:
        lowest = fn is ex.AggregateFn.LOWEST
        best = _extreme(scope, valued, kind, lowest, subject)
        if isinstance(best, Val):
            return best
        found = best
        if doubtful:
            either = _extreme(scope, valued + doubtful, kind, lowest, subject)
            if isinstance(either, Val) or either is not best:
                found = None  # a doubtful record has a lower (higher) value
    if found is None:
        if maybe is None or (not valued and not doubtful):
            if stale is not None:
                date, time = stamp_of(stale[0])
                return Val(None, subject, missing=(
                    f"{none_text} (the most recent {kind} is from {stamp_text(date, time)}, "
                    "outside the window)"))
            return Val(None, subject, missing=f"{none_text} recorded")
        ev, pos = doubtful[0] if doubtful else maybe[0][0]
        return Val(None, subject, record=ev, pos=pos, missing=maybe[1], timed=True)
    ev, pos = found
    value, unit = value_and_unit(ev)
    return Val(value, subject, unit=unit, record=ev, pos=pos, timed=True)


def _in_time_order(valued: list[tuple[Event, int]], doubtful: list[tuple[Event, int]],
                   latest: bool) -> tuple[tuple[Event, int] | None, tuple[Event, int] | None]:
    """The latest (first) of the records in a window in hours by their times, and None with a
    rival when the times cannot tell it from another record (one in the window or a doubtful
    one) of a different value. Same-instant records keep their input order."""
    everything = valued + doubtful
    utc = clock.utc_frame(*(stamp_of(e)[1] for e, _ in everything))
    spans = {p: clock.bounds(*stamp_of(e), utc) for e, p in everything}
    if latest:
        best = max(valued, key=lambda r: (spans[r[1]][0], r[1]))
    else:
        best = min(valued, key=lambda r: (spans[r[1]][1], -r[1]))
    lo, hi = spans[best[1]]
    value = value_and_unit(best[0])
    for r in everything:
        if r is best:
            continue
        o_lo, o_hi = spans[r[1]]
        ordered = o_hi <= lo if latest else hi <= o_lo
        if not ordered and value_and_unit(r[0]) != value:
            return None, r
    return best, None


def _extreme(scope: Scope, recs: list[tuple[Event, int]], kind: str, lowest: bool,
             subject: str) -> tuple[Event, int] | Val:
    """The record with the lowest/highest value, compared in the data item's unit (or the Val
    of the error that stopped the comparison)."""
    best: tuple[Event, int] | None = None
    best_v = 0.0
    item = scope.items.get(kind)
    base_unit = item.unit if item is not None else None
    for e, p in recs:
        raw, unit = value_and_unit(e)
        x = numeric(raw)
        if x is None:
            return Val(None, subject, record=e, pos=p, error=f"{kind} value {raw!r} is not a number")
        if base_unit and unit and normalize_code(unit) != normalize_code(base_unit):
            try:
                x = convert(x, unit, base_unit, molar_mass(scope, e))
            except UnitError as exc:
                val = Val(None, subject, record=e, pos=p, error=str(exc))
                scope.error(f"{kind}: {exc}", val)
                return val
        if best is None or (x < best_v if lowest else x > best_v):
            best, best_v = (e, p), x
    assert best is not None
    return best


def _count(node: ex.Count) -> Operand:
    select = compile_selection(node.selection, compile_condition)
    subject = describe.expr(node)
    kind = node.selection.kind

    def count(scope: Scope, event: Event | None) -> Val:
        recs, unknown, problem, _, maybe = select(scope)
        if problem:
            return Val(None, subject, missing=problem)
        # records that may or may not count: the count lies between the sure ones and all
        most = len(recs) + len(unknown) + (len(maybe[0]) if maybe is not None else 0)
        if maybe is not None:
            ev, pos = maybe[0][0]
            return Val(None, subject, record=ev, pos=pos, timed=True,
                       missing=f"{len(recs)} to {most}: {maybe[1]}", span=(len(recs), most))
        if unknown:
            ev, pos = unknown[0]
            return Val(None, subject, record=ev, pos=pos,
                       missing=f"{len(recs)} to {most}: {len(unknown)} record(s) of {kind} "
                       "lack an attribute the `where` needs", span=(len(recs), most))
        if recs:
            scope.cited.update(pos for _, pos in recs)
        return Val(len(recs), subject)

    return count


def _log_reduction(node: ex.LogReduction) -> Operand:
    select = compile_selection(node.selection, compile_condition)
    subject = describe.expr(node)
    kind = node.selection.kind

    def log_reduction(scope: Scope, event: Event | None) -> Val:
        recs, _, problem, _, maybe = select(scope)
        if problem:
            return Val(None, subject, missing=problem)
        if maybe is not None:
            ev, pos = maybe[0][0]
            return Val(None, subject, record=ev, pos=pos, timed=True, missing=maybe[1])
        samples = []
        for e, p in recs:
            raw, unit = value_and_unit(e)
            x = numeric(raw)
            if x is not None:
                samples.append((e, p, x, unit))
        if len(samples) < 2:
            return Val(None, subject, missing=f"log_reduction needs two samples of "
                       f"{kind}; {len(samples)} found")
        fe, fp, fx, funit = samples[0]
        le, lp, lx, lunit = samples[-1]
        if funit and lunit and normalize_code(funit) != normalize_code(lunit):
            try:
                lx = convert(lx, lunit, funit, molar_mass(scope, le))
            except UnitError as exc:
                val = Val(None, subject, record=le, pos=lp, error=str(exc))
                scope.error(f"{kind}: {exc}", val)
                return val
        if fx <= 0 or lx <= 0:
            return Val(None, subject, record=le, pos=lp,
                       missing=f"log_reduction is undefined: first {describe.num(fx)}, latest "
                       f"{describe.num(lx)} (a value is not positive)")
        scope.cited.add(fp)
        red = math.log10(fx / lx)
        return Val(red, f"{subject} = log10({describe.num(fx)} on {start_of(fe).isoformat()} / "
                   f"{describe.num(lx)} on {start_of(le).isoformat()})", record=le, pos=lp)

    return log_reduction


# ---- comparisons ------------------------------------------------------------------------------

# (threshold in the left value's unit, its unit, reference range used, problem (unknown), error,
# the inputs of a computed threshold)
Threshold = tuple[Any, str | None, tuple[int | float | None, int | float | None] | None, str | None,
                  str | None, tuple[Val, ...] | None]


def _relative_limit(node: ex.RelativeLimit) -> Callable[[Scope, Val, Event | None], Threshold]:
    """`N x ULN` / `N x LLN` from the compared record's own reference range."""
    text = describe.expr(node)
    needs_lab = f"{text} needs a lab record"
    upper = node.limit is ex.Limit.ULN
    which = "upper" if upper else "lower"
    multiple = node.multiple

    def threshold(scope: Scope, left: Val, event: Event | None) -> Threshold:
        rec = left.record
        if not isinstance(rec, Observation):
            return None, None, None, None, needs_lab, None
        rng = (rec.low, rec.high)
        limit = rec.high if upper else rec.low
        if limit is None:
            return (None, None, rng,
                    f"{rec.kind} on {rec.date.isoformat()} has no {which} reference limit: "
                    f"{text} cannot be computed", None, None)
        return multiple * limit, left.unit, rng, None, None, None

    return threshold


def _in_unit(scope: Scope, left: Val, rv: Any, runit: str | None) -> Threshold:
    """A threshold value converted into the unit of the left value."""
    if runit is not None and isinstance(rv, (int, float)) and not isinstance(rv, bool):
        if left.unit is None:
            if isinstance(left.value, (int, float)) and not isinstance(left.value, bool):
                return (None, None, None, None, f"{left.subject} has no unit but is compared "
                        f"with {describe.qty(rv, runit)}", None)
            return rv, runit, None, None, None, None
        try:
            return (convert(float(rv), runit, left.unit, molar_mass(scope, left.record)),
                    left.unit, None, None, None, None)
        except UnitError as exc:
            return (None, None, None, None,
                    f"cannot convert {describe.qty(rv, runit)} to {left.unit}: {exc}", None)
    return rv, runit if runit else None, None, None, None, None


def _literal_threshold(node: ex.QuantityLiteral | ex.StringLiteral | ex.BoolLiteral
                       ) -> Callable[[Scope, Val, Event | None], Threshold]:
    """A literal threshold. A quantity's conversion into each record unit (and molar mass) is
    computed once and remembered: it depends on nothing else."""
    if isinstance(node, ex.QuantityLiteral):
        rv: Any = node.quantity.value
        runit = node.quantity.unit
    else:
        rv, runit = node.value, None
    if runit is None:
        fixed: Threshold = (rv, None, None, None, None, None)

        def plain(scope: Scope, left: Val, event: Event | None) -> Threshold:
            return fixed

        return plain
    converted: dict[tuple[str, int | float | None], Threshold] = {}

    def quantity(scope: Scope, left: Val, event: Event | None) -> Threshold:
        if left.unit is None:  # an error naming the left operand, or the bare threshold
            return _in_unit(scope, left, rv, runit)
        key = (left.unit, molar_mass(scope, left.record))
        hit = converted.get(key)
        if hit is None:
            hit = converted[key] = _in_unit(scope, left, rv, runit)
        return hit

    return quantity


def _operand_threshold(node: ex.Expr) -> Callable[[Scope, Val, Event | None], Threshold]:
    right_of = compile_operand(node)
    computed = is_computed(node)

    def threshold(scope: Scope, left: Val, event: Event | None) -> Threshold:
        right = right_of(scope, event)
        if right.value is None:
            return (None, None, None, right.missing or right.error or f"no {right.subject}",
                    right.error, right.inputs)
        th, unit, rng, problem, err, _ = _in_unit(scope, left, right.value, right.unit)
        inputs = right.inputs  # a computed threshold's inputs (a table's value is one itself)
        if computed and inputs is None:
            inputs = (right,)
        return th, unit, rng, problem, err, inputs

    return threshold


def _rng(rng: tuple[int | float | None, int | float | None] | None) -> str:
    if rng is None:
        return "?"
    lo, hi = rng
    return f"{describe.num(lo) if lo is not None else '?'}-{describe.num(hi) if hi is not None else '?'}"


# Evidence sentences read `truth._value_` (the enum's stored value, as `truth.value` gives)
# because the `.value` descriptor costs a measurable share of every sentence.


def _scalar(x: Any) -> int | float | str | bool | None:
    return x if isinstance(x, (int, float, str, bool)) else None


def compile_comparer(op: ex.CompareOp, right_node: ex.Expr) -> Comparer:  # noqa: C901
    """Compare an evaluated left operand with a threshold node, with evidence (none when
    `quiet`: per-record tests inside `where` are not evidence)."""
    th_text = describe.expr(right_node)
    opv = op.value
    opfn = OPS[op]
    unknown_tail = f" {opv} {th_text} is unknown"
    if isinstance(right_node, ex.RelativeLimit):
        threshold = _relative_limit(right_node)
    elif isinstance(right_node, (ex.QuantityLiteral, ex.StringLiteral, ex.BoolLiteral)):
        threshold = _literal_threshold(right_node)
    else:
        threshold = _operand_threshold(right_node)
    relative = isinstance(right_node, ex.RelativeLimit)
    plain: Threshold | None = None
    if isinstance(right_node, (ex.StringLiteral, ex.BoolLiteral)):
        plain = (right_node.value, None, None, None, None, None)
    elif isinstance(right_node, ex.QuantityLiteral) and right_node.quantity.unit is None:
        plain = (right_node.quantity.value, None, None, None, None, None)
    # A text literal that is not a number compares with text by case-folded equality whatever
    # the left text is (compare_values' text case), so fold it once.
    folded: str | None = None
    if isinstance(right_node, ex.StringLiteral) and numeric(right_node.value) is None \
            and op in (ex.CompareOp.EQ, ex.CompareOp.NE):
        folded = right_node.value.strip().casefold()
    equal = op is ex.CompareOp.EQ
    q_unit = right_node.quantity.unit if isinstance(right_node, ex.QuantityLiteral) else None
    q_norm = normalize_code(q_unit) if q_unit else None
    shown_in_unit: dict[str, bool] = {}  # threshold unit -> whether it differs from the literal's

    def compare(scope: Scope, left: Val, event: Event | None, quiet: bool) -> Result:
        lv = left.value
        if lv is None:
            span = left.span
            if span is not None and plain is not None and type(plain[0]) in (int, float):
                decided = _span_truth(op, span, plain[0])
                if decided is not UNKNOWN:
                    return decided, [] if quiet else [evidence(
                        scope, left, decided, f"{left.subject}: {_span_text(left)} {opv} "
                        f"{th_text}: {decided._value_}")]
            if left.error and not quiet:
                scope.error(left.error, left)
            if quiet:
                return UNKNOWN, []
            return UNKNOWN, [evidence(scope, left, UNKNOWN,
                                      f"{left.text()}: {left.subject}{unknown_tail}")]
        if plain is not None:  # a literal without a unit: nothing to resolve
            th, th_unit, rng, problem, err, th_inputs = plain
        else:
            th, th_unit, rng, problem, err, th_inputs = threshold(scope, left, event)
        if err is not None or problem is not None:
            msg = err or problem or ""
            if err is not None and not quiet:
                scope.error(f"{left.subject}: {err}", left)
            if quiet:
                return UNKNOWN, []
            return UNKNOWN, [evidence(scope, left, UNKNOWN,
                                      f"{left.subject}: {left.text()} {opv} {th_text}: "
                                      f"unknown ({msg})", reference_range=rng, error=err)]
        ta, tb = type(lv), type(th)
        got: bool | str
        if (ta is float or ta is int) and (tb is float or tb is int):
            got = opfn(float(lv), float(th))  # compare_values' numeric case, without its checks
        elif folded is not None and ta is str:
            got = (lv.strip().casefold() == folded) is equal
        else:
            got = compare_values(op, lv, th)
        if got.__class__ is str:
            if not quiet:
                scope.error(f"{left.subject}: {got}", left)
                return UNKNOWN, [evidence(scope, left, UNKNOWN, f"{left.subject}: {got}",
                                          error=got)]
            return UNKNOWN, []
        truth = TRUE if got else FALSE
        if quiet:
            return truth, []
        shown = th_text
        if relative:
            shown = f"{th_text} ({describe.qty(th, th_unit)}, range {_rng(rng)})"
        elif q_unit and th_unit:
            differs = shown_in_unit.get(th_unit)
            if differs is None:
                differs = shown_in_unit[th_unit] = q_norm != normalize_code(th_unit)
            if differs:
                shown = f"{th_text} (= {describe.qty(th, th_unit)})"
        # evidence(scope, left, ...) inlined: the record's date is needed twice
        rec = left.record
        day = left.day  # a computed value's date (None for a record's value)
        time = None
        if rec is not None:
            tr = type(rec)
            if tr is Occurrence or tr is DoseEvent:
                day, time = rec.start, rec.start_time  # type: ignore[union-attr]
            else:
                day, time = rec.date, rec.time  # type: ignore[union-attr]
        value = describe.qty(lv, left.unit)
        if day is not None:
            value = f"{value} on {left.when() if left.timed else day.isoformat()}"
        pos = left.pos
        if pos is not None:
            scope.cited.add(pos)
        return truth, [new_evidence(
            f"{left.subject}: {value} {opv} {shown}: {truth._value_}", scope.source,
            left.subject, truth, lv if isinstance(lv, EVIDENCE_VALUE_TYPES) else None,
            left.unit, day, rec.ref if rec is not None else None, _scalar(th), th_unit, rng,
            left.error, time,
            () if left.inputs is None and th_inputs is None else _inputs(scope, left, th_inputs))]

    return compare


def _span_truth(op: ex.CompareOp, span: tuple[int, int], t: int | float) -> Truth:
    """A comparison of a count known only to lie in `span` (least, most): TRUE or FALSE when
    every count of the span answers alike, else UNKNOWN."""
    least, most = span
    if op is ex.CompareOp.EQ or op is ex.CompareOp.NE:
        outside = t < least or t > most  # least < most: the count is not surely t
        if not outside:
            return UNKNOWN
        return FALSE if op is ex.CompareOp.EQ else TRUE
    opfn = OPS[op]
    at_least, at_most = opfn(least, t), opfn(most, t)  # <, <=, >, >= are monotone
    if at_least and at_most:
        return TRUE
    return FALSE if not at_least and not at_most else UNKNOWN


def _span_text(val: Val) -> str:
    """`1 to 2 (oral_antidiabetic from 2024-01-28, ongoing has no drug: it may be a further
    one)`: the span of an unknown count and why it is one."""
    assert val.span is not None
    least, most = val.span
    shown = f"{least} to {most}"
    why = val.missing or ""
    if why.startswith(shown + ": "):
        why = why[len(shown) + 2:]
    return f"{shown} ({why})" if why else shown


def _inputs(scope: Scope, left: Val, right: tuple[Val, ...] | None) -> tuple[Evidence, ...]:
    """The inputs of the values compared: a computed left value's and a computed threshold's."""
    if right is None:
        return input_evidence(scope, left) if left.inputs is not None else ()
    own = left.inputs or ()
    seen = {(v.subject, v.pos) for v in own}
    extra = tuple(v for v in right if (v.subject, v.pos) not in seen)
    return input_evidence(scope, Val(None, left.subject, inputs=own + extra))


_FLIPPED: Final = {ex.CompareOp.LT: ex.CompareOp.GT, ex.CompareOp.LE: ex.CompareOp.GE,
                   ex.CompareOp.GT: ex.CompareOp.LT, ex.CompareOp.GE: ex.CompareOp.LE}


def _compare(node: ex.Compare) -> Cond:
    left_node, right_node, op = node.left, node.right, node.op
    if isinstance(left_node, ex.RelativeLimit) and not isinstance(right_node, ex.RelativeLimit):
        # `2 x ULN >= latest alt` reads as `latest alt <= 2 x ULN`.
        left_node, right_node, op = right_node, left_node, _FLIPPED.get(op, op)
    left_of = compile_operand(left_node)
    compare = compile_comparer(op, right_node)
    if isinstance(right_node, ex.QuantityLiteral) and is_computed(left_node):
        # a computed value reads in the threshold's unit (a pure number without one)
        left_of = expressed_in(left_of, right_node.quantity.unit)
    if isinstance(left_node, ex.AgeAt):
        unit = "a"
        if isinstance(right_node, ex.QuantityLiteral) and right_node.quantity.unit in AGE_UNITS:
            unit = right_node.quantity.unit or "a"
        left_of = age_at(left_node, unit)
    if isinstance(left_node, ex.Name) and left_node.name == "age" \
            and isinstance(right_node, ex.QuantityLiteral) and right_node.quantity.unit in AGE_UNITS:
        # `age >= 6 mo`: the age in completed units of the threshold
        unit = right_node.quantity.unit

        key = ("age", unit)

        def compare_age(scope: Scope, event: Event | None) -> Result:
            if event is None:
                # the age depends only on the patient and the reference date (AGE compares it
                # twice); a Val is never changed, so it can be shared
                val = scope.memo.get(key)
                if val is None or val[0] != scope.ref_date:  # type: ignore[index]
                    val = scope.memo[key] = (scope.ref_date, age(scope, unit))
                return compare(scope, val[1], None, False)  # type: ignore[index]
            return compare(scope, left_of(scope, event), event, True)

        return compare_age

    def compare_node(scope: Scope, event: Event | None) -> Result:
        return compare(scope, left_of(scope, event), event, event is not None)

    return compare_node


# ---- boolean nodes ----------------------------------------------------------------------------


def _shared_evidence(subject: str, truth: Truth, text: Callable[[Any], str]
                     ) -> Callable[[str | None, Any], Evidence]:
    """Evidence that names no record (`none recorded`, `only 1 sample(s)`): it depends only on
    the source (criterion or rule) and one detail, so it is built once and shared by every
    patient (Evidence is frozen) instead of once per patient."""
    cache: dict[tuple[str | None, Any], Evidence] = {}

    def shared(source: str | None, detail: Any = None) -> Evidence:
        key = (source, detail)
        e = cache.get(key)
        if e is None:
            if len(cache) > 1000:
                cache.clear()
            e = cache[key] = Evidence(text(detail), source=source, subject=subject, truth=truth)
        return e

    return shared


def _operand_as_condition(node: ex.Expr) -> Cond:
    operand = compile_operand(node)

    def condition(scope: Scope, event: Event | None) -> Result:
        val = operand(scope, event)
        v = val.value
        if isinstance(v, bool):
            t = TRUE if v else FALSE
            return t, [evidence(scope, val, t, f"{val.subject}: {t._value_}")]
        if v is None:
            return UNKNOWN, [evidence(scope, val, UNKNOWN, val.text())]
        return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{val.subject} is not a condition")]

    return condition


def _junction(node: ex.And | ex.Or, decisive: Truth) -> Cond:
    """Kleene `and` (decisive FALSE) or `or` (decisive TRUE): one decisive operand settles it
    whatever the others are, even unknown; otherwise any unknown makes the whole unknown."""
    operands = tuple(compile_condition(o) for o in node.operands)
    other = NOT[decisive]

    def junction(scope: Scope, event: Event | None) -> Result:
        ev_other: list[Evidence] = []
        ev_unknown: list[Evidence] = []
        unknown = False
        for operand in operands:
            t, ev = operand(scope, event)
            if t is decisive:
                return decisive, ev
            if t is UNKNOWN:
                unknown = True
                ev_unknown.extend(ev)
            else:
                ev_other.extend(ev)
        if unknown:
            return UNKNOWN, ev_unknown
        return other, ev_other

    return junction


def _and(node: ex.And) -> Cond:
    return _junction(node, FALSE)


def _or(node: ex.Or) -> Cond:
    return _junction(node, TRUE)


def _not(node: ex.Not) -> Cond:
    operand = compile_condition(node.operand)

    def negation(scope: Scope, event: Event | None) -> Result:
        t, ev = operand(scope, event)
        return NOT[t], ev

    return negation


def _timed_lasting(lasting: ex.Lasting) -> Callable[[Scope, Event], Truth]:
    """`lasting OP N hours` (or minutes): the occurrence's length from its start to its end,
    by their times of day (engine.clock); a date without a time stands for its whole day, so
    the length is a range, and the answer unknown when the range straddles N."""
    op = lasting.op
    opfn = EXACT_OPS[op]  # whole microseconds
    unit = clock.MICROS_PER_HOUR if lasting.duration.unit is TimeUnit.HOUR \
        else clock.MICROS_PER_MINUTE
    limit = clock.micros(lasting.duration.amount, unit)
    at_least = op in (ex.CompareOp.GT, ex.CompareOp.GE)

    def lasted(scope: Scope, ev: Event) -> Truth:
        if not isinstance(ev, Occurrence):
            return TRUE if opfn(0, limit) else FALSE
        cutoff = scope.cutoff
        start = (ev.start, ev.start_time)
        over = True
        if ev.end is not None and ev.end <= cutoff:
            end = (ev.end, ev.end_time)
        elif ev.end is None and not ev.ongoing:
            end = (ev.start, None)  # a one-time event ended some time that day
        else:
            end, over = (cutoff, None), False  # still going: lasted at least until the cutoff
        lo, hi = clock.difference_bounds(start, end)
        lo = max(lo, 0)
        if op is ex.CompareOp.EQ or op is ex.CompareOp.NE:
            all_hold = lo == hi == limit
            none_hold = limit < lo or limit > hi
            if op is ex.CompareOp.NE:
                all_hold, none_hold = none_hold, all_hold
        else:
            all_hold = opfn(lo, limit) and opfn(hi, limit)
            none_hold = not opfn(lo, limit) and not opfn(hi, limit)
        if over:
            return TRUE if all_hold else FALSE if none_hold else UNKNOWN
        if at_least:
            return TRUE if opfn(lo, limit) else FALSE  # not (yet) surely lasted long enough
        return FALSE if none_hold else UNKNOWN  # `lasting < N` is only known once it is over

    return lasted


def _lasting(lasting: ex.Lasting) -> Callable[[Scope, Event], Truth]:
    if lasting.duration.sub_day:
        return _timed_lasting(lasting)
    opfn = OPS[lasting.op]
    at_least = lasting.op in (ex.CompareOp.GT, ex.CompareOp.GE)
    last: list[Any] = [None, 0.0]

    def lasted(scope: Scope, ev: Event) -> Truth:
        days, over = lasting_days(scope, ev)
        calendar: Calendar = scope.calendar
        if last[0] is not calendar:
            last[0], last[1] = calendar, lasting.duration.days(calendar)
        holds = opfn(days, last[1])
        if over:
            return TRUE if holds else FALSE
        if at_least:
            return TRUE if holds else FALSE  # not (yet) lasted long enough
        return FALSE if not holds else UNKNOWN  # `lasting < N` is only known once it is over

    return lasted


def _exists(node: ex.Exists) -> Cond:
    select = compile_selection(node.selection, compile_condition)
    t = node.selection.temporal
    timed_window = isinstance(t, ex.Within) and t.duration.sub_day
    subject = describe.expr(node)
    lasted = _lasting(node.lasting) if node.lasting is not None else None
    cannot = _shared_evidence(subject, UNKNOWN, lambda problem: f"{subject}: unknown ({problem})")
    none = _shared_evidence(subject, FALSE, lambda _: f"{subject}: none recorded: false")
    # records of the kind that the window keeps but the `where` (or `lasting`) does not: "none
    # recorded" would tell the reader there is no such record at all
    kind = node.selection.kind
    unmatched = _shared_evidence(
        subject, FALSE,
        lambda _: f"{subject}: none matches (the {kind} records do not qualify): false")

    def exists(scope: Scope, event: Event | None) -> Result:
        recs, unknown, problem, stale, timed = select(scope)
        if problem:
            return UNKNOWN, [cannot(scope.source, problem)]
        maybe = unknown
        if lasted is not None:
            kept = []
            maybe = list(unknown)
            for r in recs:
                t = lasted(scope, r[0])
                if t is TRUE:
                    kept.append(r)
                elif t is UNKNOWN:
                    maybe.append(r)
            recs = kept
            if timed is not None:
                doubtful = [r for r in timed[0] if lasted(scope, r[0]) is not FALSE]
                timed = (doubtful, timed[1]) if doubtful else None
        if recs:
            ev, pos = recs[0]
            val = Val(True, subject, record=ev, pos=pos)
            extra = f" ({len(recs)} records)" if len(recs) > 1 else ""
            shown = record_text(ev, scope.cutoff) if timed_window else describe_record(ev)
            return TRUE, [evidence(scope, val, TRUE, f"{subject}: {shown}{extra}: true")]
        if timed is not None:
            ev, pos = timed[0][0]
            val = Val(None, subject, record=ev, pos=pos)
            return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{subject}: unknown ({timed[1]})")]
        if maybe:
            ev, pos = maybe[0]
            val = Val(None, subject, record=ev, pos=pos)
            return UNKNOWN, [evidence(scope, val, UNKNOWN,
                                      f"{subject}: unknown ({describe_record(ev)} may match but "
                                      "lacks the data to tell)")]
        if stale is not None:  # the window kept none: name the most recent record outside it
            shown = record_text(stale[0], scope.cutoff) if timed_window \
                else describe_record(stale[0])
            return FALSE, [Evidence(f"{subject}: none ({shown} is outside the window): false",
                                    source=scope.source, subject=subject, truth=FALSE)]
        if _recorded(scope, kind):
            return FALSE, [unmatched(scope.source, None)]
        return FALSE, [none(scope.source, None)]

    return exists


def _recorded(scope: Scope, kind: str) -> bool:
    """Whether the patient has a record of `kind` dated on or before the cutoff."""
    idx = scope.idx
    cutoff = scope.cutoff
    for series in (idx.occurrences.get(kind), idx.observations.get(kind)):
        if series is not None and series.dates and series.dates[0] <= cutoff:
            return True
    return False


def _in_range(node: ex.InRange) -> Cond:  # noqa: C901 - mirrors the rule step by step
    operand = compile_operand(node.operand)
    unit = node.unit
    rng = f"{describe.num(node.low)}..{describe.num(node.high)}"
    if unit is not None:
        rng += f" {unit}"
    low, high = node.low, node.high
    if is_computed(node.operand):  # a computed value reads in the range's unit
        operand = expressed_in(operand, unit)
        unit = None
    bounds: dict[tuple[str, int | float | None], tuple[int | float, int | float] | str] = {}

    def in_range(scope: Scope, event: Event | None) -> Result:
        val = operand(scope, event)
        quiet = event is not None
        if val.value is None:
            span = val.span
            if span is not None and unit is None:  # a count: in low..high if all its span is
                inside = low <= span[0] and span[1] <= high
                t = TRUE if inside else FALSE if span[1] < low or span[0] > high else UNKNOWN
                if t is not UNKNOWN:
                    return t, [] if quiet else [evidence(
                        scope, val, t, f"{val.subject}: {_span_text(val)} in {rng}: {t._value_}",
                        threshold=rng)]
            if val.error and not quiet:
                scope.error(val.error, val)
            return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN,
                                                       f"{val.text()}: {val.subject} in {rng} is unknown")]
        x = numeric(val.value)
        if x is None:
            msg = f"{val.subject} {describe.qty(val.value, val.unit)} is not a number"
            if not quiet:
                scope.error(msg, val)
            return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN, msg, error=msg)]
        lo, hi = low, high
        if unit is not None:  # the bounds in the value's unit (converted once per unit)
            key = (val.unit or "", molar_mass(scope, val.record))
            got = bounds.get(key)
            if got is None:
                got = bounds[key] = _range_in(low, high, unit, val.unit, key[1])
            if isinstance(got, str):
                if not quiet:
                    scope.error(f"{val.subject}: {got}", val)
                    return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{val.subject}: {got}",
                                              error=got)]
                return UNKNOWN, []
            lo, hi = got
        t = TRUE if _LE(lo, x) and _LE(x, hi) else FALSE
        if quiet:
            return t, []
        return t, [evidence(scope, val, t, f"{val.subject}: {val.text()} in {rng}: {t._value_}",
                            threshold=rng)]

    return in_range


def _range_in(low: int | float, high: int | float, unit: str, value_unit: str | None,
              mass: int | float | None) -> tuple[int | float, int | float] | str:
    """A range's bounds converted into a value's unit, or why they cannot be."""
    if value_unit is None:
        return f"the value has no unit but the range is in {unit}"
    try:
        return (float(convert(low, unit, value_unit, mass)),
                float(convert(high, unit, value_unit, mass)))
    except UnitError as exc:
        return f"cannot convert the range to {value_unit}: {exc}"


def _in_set(node: ex.InSet) -> Cond:
    operand = compile_operand(node.operand)
    options = ", ".join(describe.expr(v) for v in node.values)
    equals = tuple(compile_comparer(ex.CompareOp.EQ, lit) for lit in node.values)

    def in_set(scope: Scope, event: Event | None) -> Result:
        val = operand(scope, event)
        quiet = event is not None
        if val.value is None:
            return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN,
                                                       f"{val.text()}: {val.subject} in ({options}) is unknown")]
        result: Truth = FALSE
        for eq in equals:
            t = eq(scope, val, event, True)[0]
            if t is TRUE:
                result = TRUE
                break
            if t is UNKNOWN:
                result = UNKNOWN
        if quiet:
            return result, []
        return result, [evidence(scope, val, result,
                                 f"{val.subject}: {val.text()} in ({options}): {result._value_}",
                                 threshold=options)]

    return in_set


def _normal_range(node: ex.Test) -> Cond:
    """`is within normal range` / `is outside normal range`: low <= value <= high of the
    record's own reference range (the one end given, when the record gives only one)."""
    operand = compile_operand(node.operand)
    within = node.test is ex.TestKind.NORMAL
    tail = f" is {node.test.value}"

    def normal(scope: Scope, event: Event | None) -> Result:
        val = operand(scope, event)
        quiet = event is not None
        what = f"{val.subject}{tail}"
        if val.value is None:
            if val.error and not quiet:
                scope.error(val.error, val)
            return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN,
                                                       f"{what}: unknown ({val.text()})")]
        rec = val.record
        x = numeric(val.value)
        if not isinstance(rec, Observation) or x is None:
            msg = f"{what}: needs a lab result with a reference range"
            return UNKNOWN, [] if quiet else [evidence(scope, val, UNKNOWN, msg, error=msg)]
        low, high = rec.low, rec.high
        rng = (low, high)
        if low is None and high is None:
            return UNKNOWN, [] if quiet else [evidence(
                scope, val, UNKNOWN, f"{what}: unknown ({rec.kind} on {rec.date.isoformat()} "
                "has no reference range)", reference_range=rng)]
        inside = (low is None or _LE(low, x)) and (high is None or _LE(x, high))
        t = TRUE if inside == within else FALSE
        if quiet:
            return t, []
        shown = f"{_rng(rng)} {val.unit}" if val.unit else _rng(rng)
        return t, [evidence(scope, val, t, f"{what}: {val.text()} (range {shown}): "
                            f"{t._value_}", reference_range=rng)]

    return normal


def _test(node: ex.Test) -> Cond:
    if node.test is ex.TestKind.NORMAL or node.test is ex.TestKind.ABNORMAL:
        return _normal_range(node)
    operand = compile_operand(node.operand)
    kind = node.test
    tail = f" is {kind.value}"
    presence = kind in (ex.TestKind.MISSING, ex.TestKind.PRESENT)
    want_present = kind is ex.TestKind.PRESENT
    want_detected = kind is ex.TestKind.DETECTABLE

    def test(scope: Scope, event: Event | None) -> Result:
        val = operand(scope, event)
        what = f"{val.subject}{tail}"
        if presence:
            present = val.value is not None or val.error is not None
            t = TRUE if present == want_present else FALSE
            return t, [evidence(scope, val, t, f"{what}: {val.text()}: {t._value_}")]
        if val.value is None:
            return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{what}: unknown ({val.text()})")]
        rec = val.record
        detected: bool | None = None
        if isinstance(rec, Observation) and rec.detected is not None:
            detected = rec.detected
        else:
            x = numeric(val.value)
            if x is not None:
                detected = x > 0
        if detected is None:
            return UNKNOWN, [evidence(scope, val, UNKNOWN,
                                      f"{what}: unknown ({val.text()} says nothing about detection)")]
        t = TRUE if detected == want_detected else FALSE
        how = "detected" if detected else "not detected"
        return t, [evidence(scope, val, t, f"{what}: {val.text()} ({how}): {t._value_}")]

    return test


def _attested(node: ex.Attested) -> Cond:
    confirmed = _shared_evidence("attested", TRUE, lambda cid: "attested by the investigator "
                                 f"(no eligibility exception for {cid})")

    def attested(scope: Scope, event: Event | None) -> Result:
        cid = scope.source or ""
        for ev, pos in scope.idx.records(EXCEPTION_KIND, None):
            crit = ev.attribute("criterion") if isinstance(ev, Occurrence) else None
            if isinstance(ev, Observation):
                crit = next((v for k, v in ev.attributes if k == "criterion"), ev.value)
            if isinstance(crit, str) and crit.strip().casefold() == cid.casefold():
                val = Val(False, "attested", record=ev, pos=pos)
                return FALSE, [evidence(scope, val, FALSE,
                                        f"eligibility exception recorded for {cid} on "
                                        f"{start_of(ev).isoformat()}: not attested")]
        return TRUE, [confirmed(scope.source, cid)]

    return attested


def _consecutive(node: ex.Consecutive) -> Cond:
    kind, k = node.kind, node.count
    subject = describe.expr(node)
    compare = compile_comparer(node.op, node.threshold)
    too_few = _shared_evidence(subject, FALSE, lambda n: f"{subject}: only {n} sample(s): false")

    def consecutive(scope: Scope, event: Event | None) -> Result:
        samples = numeric_samples(scope, kind)
        if len(samples) < k:
            return FALSE, [too_few(scope.source, len(samples))]
        result: Truth = TRUE
        ev_all: list[Evidence] = []
        for ev, pos in samples[-k:]:
            raw, unit = value_and_unit(ev)
            t, e = compare(scope, Val(raw, kind, unit=unit, record=ev, pos=pos), None, False)
            ev_all.extend(e)
            if t is FALSE:
                return FALSE, e
            if t is UNKNOWN:
                result = UNKNOWN
        return result, ev_all

    return consecutive


def _log_rise(node: ex.LogRise) -> Cond:  # noqa: C901 - mirrors the rule step by step
    kind, k = node.kind, node.count
    subject = describe.expr(node)
    opfn = OPS[node.op]
    logs = node.logs
    tail = f" {node.op.value} {describe.num(logs)}: "
    memo_key = ("log rise", id(node))
    too_few = _shared_evidence(subject, FALSE, lambda n: f"{subject}: only {n} sample(s): false")

    def sample(scope: Scope, samples: list[tuple[Event, int]],
               values: list[tuple[int | float | None, str | None]], i: int,
               lowest: int | float | None, low_at: Event | None) -> tuple[Truth, Evidence]:
        """The rise of sample i over the lowest earlier value: TRUE/FALSE, or UNKNOWN when no
        rise is computable, with its evidence."""
        ev, pos = samples[i]
        x, unit = values[i]
        val = Val(x, kind, unit=unit, record=ev, pos=pos)
        day = ev.date.isoformat()  # type: ignore[union-attr]
        if x is None or lowest is None:
            return UNKNOWN, evidence(scope, val, UNKNOWN, f"{subject}: no rise computable at {day}")
        rise = math.log10(x / lowest) if x > 0 else -math.inf
        t = TRUE if opfn(rise, logs) else FALSE
        text = (f"{kind} {describe.qty(x, unit)} on {day}: "
                f"rise {describe.num(rise) if rise != -math.inf else '-inf'} log from lowest "
                f"{describe.num(lowest)} ({start_of(low_at).isoformat() if low_at else '?'})"
                f"{tail}{t._value_}")
        return t, evidence(scope, val, t, text, threshold=logs)

    def log_rise(scope: Scope, event: Event | None) -> Result:
        samples, values, dates, lows = _samples(scope, kind)
        n = bisect_right(dates, scope.cutoff)  # the samples known by the cutoff
        if n < k + 1:
            return FALSE, [too_few(scope.source, n)]
        memo: dict[int, tuple[str | None, Truth, Evidence]] | None = None
        if lows is not None:
            # Without unit conversions a sample's rise and evidence do not depend on the
            # cutoff: a rule evaluated on successive dates reuses them (its record was cited
            # the first time, into the same set).
            memo = scope.memo.get(memo_key)  # type: ignore[assignment]
            if memo is None:
                memo = scope.memo[memo_key] = {}
        ev_all: list[Evidence] = []
        result: Truth = TRUE
        for i in range(n - k, n):
            if memo is not None:
                hit = memo.get(i)
                if hit is not None and hit[0] == scope.source:
                    t, e = hit[1], hit[2]
                else:
                    lowest, low_at = lows[i]  # type: ignore[index]
                    t, e = sample(scope, samples, values, i, lowest, low_at)
                    memo[i] = (scope.source, t, e)
            else:
                x, unit = values[i]
                lowest, low_at = None, None
                norm = normalize_code(unit) if unit else None
                for j in range(i):
                    y, yunit = values[j]
                    if y is None or y <= 0:
                        continue
                    if unit and yunit and norm != normalize_code(yunit):
                        try:
                            y = convert(y, yunit, unit, molar_mass(scope, samples[j][0]))
                        except UnitError as exc:
                            val = Val(None, kind, record=samples[j][0], pos=samples[j][1],
                                      error=str(exc))
                            scope.error(f"{kind}: {exc}", val)
                            return UNKNOWN, [evidence(scope, val, UNKNOWN, f"{subject}: {exc}",
                                                      error=str(exc))]
                    if lowest is None or y < lowest:
                        lowest, low_at = y, samples[j][0]
                t, e = sample(scope, samples, values, i, lowest, low_at)
            if t is UNKNOWN:
                result = UNKNOWN  # (a FALSE has returned already)
            elif t is FALSE:
                return FALSE, [e]
            ev_all.append(e)
        return result, ev_all

    return log_rise


Samples = tuple[list[tuple[Event, int]], list[tuple[int | float | None, str | None]],
                list[datetime.date], list[tuple[int | float | None, Event | None]] | None]


def _samples(scope: Scope, kind: str) -> Samples:
    """Every observation of `kind` with a value, its number and unit, and the dates to cut them
    at: `numeric_samples` at any cutoff is a prefix of these. Computed once per scope (a
    stopping rule is evaluated on many dates)."""
    key = ("samples", kind)  # interned per call; the memo is per scope
    hit = scope.memo.get(key)
    if hit is None:
        s = scope.idx.obs(kind)
        samples = [(e, p) for e, p in zip(s.events, s.positions, strict=True)
                   if e.value is not None]  # type: ignore[union-attr]
        values: list[tuple[int | float | None, str | None]] = []
        for ev, _ in samples:
            raw, unit = value_and_unit(ev)
            values.append((numeric(raw), unit))
        # When every unit is the same (or absent), no value is ever converted, and the lowest
        # positive value before sample i (the first such, as `<` keeps it) is a running minimum.
        lows: list[tuple[int | float | None, Event | None]] | None = None
        if len({normalize_code(u) for _, u in values if u}) <= 1:
            lows = []
            lowest: int | float | None = None
            low_at: Event | None = None
            for (ev, _), (y, _) in zip(samples, values, strict=True):
                lows.append((lowest, low_at))
                if y is not None and y > 0 and (lowest is None or y < lowest):
                    lowest, low_at = y, ev
        hit = scope.memo[key] = (samples, values, [start_of(e) for e, _ in samples], lows)
    return hit  # type: ignore[return-value]


def _defined(node: ex.Defined) -> Cond:
    return defined_condition(node, compile_condition)


_CONDITION_MAKERS: dict[type, Callable[[Any], Cond]] = {
    ex.Defined: _defined,
    ex.And: _and,
    ex.Or: _or,
    ex.Not: _not,
    ex.Exists: _exists,
    ex.Compare: _compare,
    ex.InRange: _in_range,
    ex.InSet: _in_set,
    ex.Test: _test,
    ex.Attested: _attested,
    ex.Consecutive: _consecutive,
    ex.LogRise: _log_rise,
    ex.Continuous: lambda node: compile_continuous(
        node, compile_selection(node.selection, compile_condition)),
}

__all__ = ["Cond", "Operand", "compile_comparer", "compile_condition", "compile_operand"]
