"""Computed values, compiled once: arithmetic, math functions, the built-in clinical formulas,
table lookups, ages at an anchor, and the resolved references of protocol.resolve.

The rules (docs/engine-semantics.md, "Computed values"):

* A computed value is known only when every input is. An unknown input makes it unknown, with
  the input's own reason (`no weight within 28 days before randomization`); an input that is an
  error (a unit that cannot be converted) makes it an error. Errors are values: `and`/`or`
  still look at their other operands.
* Units are carried: `+`/`-` convert the right value into the left's unit; `*`, `/` and whole
  powers compose units (`(kg)/((cm).(cm))`, a UCUM code like any other); `ln`, `log10` and
  fractional powers take a pure number. Compared with a threshold, a computed value is first
  expressed in the threshold's unit, so the evidence reads `24.2 kg/m2`.
* A formula's inputs are converted into the units its published equation uses
  (protocol.formulas), with the analyte's molar mass where needed (creatinine in umol/L).
* Each input is the value its own expression selects (`latest weight within 28 days before
  randomization`). The computed value carries `inputs` (every record, age, sex or table value
  it used, never a literal) and the date of its latest input: it is known from that day.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from typing import Final

from engine import describe
from engine.compile_select import anchor_name, compile_anchor
from engine.expressions import (
    Result,
    Scope,
    Val,
    age,
    age_on,
    attribute,
    molar_mass,
    normalize_sex,
    numeric,
)
from engine.logic import TRUE, UNKNOWN
from engine.patient import Event, Observation, Occurrence
from protocol import expr as ex
from protocol.formulas import (
    FORMULAS,
    MATH_FUNCTIONS,
    Formula,
    MathFunction,
    Parameter,
    ParamKind,
    grade_points,
)
from protocol.units import (
    UnitError,
    convert,
    is_dimensionless,
    power_unit,
    product_unit,
    quotient_unit,
)

Operand = Callable[[Scope, Event | None], Val]
Cond = Callable[[Scope, Event | None], Result]
CompileOperand = Callable[[ex.Expr], Operand]
CompileCondition = Callable[[ex.Expr], Cond]

LITERALS: Final = (ex.QuantityLiteral, ex.StringLiteral, ex.BoolLiteral)
_QUANTITY_TEXT: Final = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*(\S+)\s*$")


def is_computed(node: ex.Expr) -> bool:
    """Whether a node's value is computed from others (its unit is composed, not a record's)."""
    if isinstance(node, ex.Defined):
        return is_computed(node.body)
    return isinstance(node, (ex.Arithmetic, ex.Power, ex.Call, ex.TableValue))


def compile_computed(node: ex.Expr, operand_of: CompileOperand,
                     condition_of: CompileCondition) -> Operand | None:
    """The node as an operand if it is one of this module's, else None."""
    if isinstance(node, ex.Arithmetic):
        return _arithmetic(node, operand_of)
    if isinstance(node, ex.Power):
        return _power(node, operand_of)
    if isinstance(node, ex.Call):
        fn = MATH_FUNCTIONS.get(node.function)
        if fn is not None:
            return _math(node, fn, operand_of)
        formula = FORMULAS.get(node.function)
        if formula is not None:
            return _formula(node, formula, operand_of, condition_of)
        return _fails(describe.expr(node), f"unknown function '{node.function}'")
    if isinstance(node, ex.TableValue):
        return _table_value(node, operand_of)
    if isinstance(node, ex.AgeAt):
        return age_at(node, "a")
    if isinstance(node, ex.Defined):
        return _defined_value(node, operand_of)
    if isinstance(node, ex.UnitAttribute):
        return _unit_attribute(node)
    return None


def _fails(subject: str, message: str) -> Operand:
    val = Val(None, subject, error=message)

    def fails(scope: Scope, event: Event | None) -> Val:
        return val

    return fails


# ---- inputs and results ----------------------------------------------------------------------


def _leaves(vals: list[Val], literal: tuple[bool, ...]) -> tuple[Val, ...]:
    """The inputs of a value computed from `vals`: each one's own inputs if it was computed,
    else itself; literals are not inputs, and an input used twice (`x * x`) is listed once."""
    out: list[Val] = []
    seen: set[tuple[str, int | None]] = set()
    for v, lit in zip(vals, literal, strict=True):
        if lit:
            continue
        for x in (v.inputs if v.inputs is not None else (v,)):
            key = (x.subject, x.pos)
            if key not in seen:
                seen.add(key)
                out.append(x)
    return tuple(out)


def _latest(inputs: tuple[Val, ...]) -> datetime.date | None:
    day: datetime.date | None = None
    for v in inputs:
        d = v.date
        if d is not None and (day is None or d > day):
            day = d
    return day


def _result(value: int | float, subject: str, unit: str | None,
            inputs: tuple[Val, ...]) -> Val:
    return Val(value, subject, unit=unit, inputs=inputs, day=_latest(inputs))


def _unknown(subject: str, vals: list[Val], inputs: tuple[Val, ...]) -> Val | None:
    """The unknown value of a computation, if an input is unknown: its reason is the first
    unknown input's (an error stays an error)."""
    for v in vals:
        if v.value is None or v.error is not None:
            # the inputs that were found stay in the evidence; an unknown value has no date
            known = tuple(x for x in inputs if x.value is not None and x.error is None)
            if v.error is not None:
                return Val(None, subject, error=f"{v.subject}: {v.error}", inputs=known)
            return Val(None, subject, missing=v.missing or f"no {v.subject}", inputs=known)
    return None


def _error(scope: Scope, event: Event | None, subject: str, message: str,
           inputs: tuple[Val, ...]) -> Val:
    if event is None:  # inside `where` evaluation is quiet
        scope.error(f"{subject}: {message}")
    return Val(None, subject, error=message, inputs=inputs)


def _number(v: Val) -> int | float | None:
    return numeric(v.value)


def _pure(scope: Scope, v: Val, x: int | float) -> int | float:
    """A dimensionless value as a plain number (`50 %` is 0.5). Raises UnitError."""
    if v.unit is None:
        return x
    return float(convert(x, v.unit, "1"))


def expressed_in(operand: Operand, unit: str | None) -> Operand:
    """A computed operand expressed in `unit` (a threshold's), or as a plain number for None:
    the evidence then shows the value as the threshold reads."""

    def expressed(scope: Scope, event: Event | None) -> Val:
        v = operand(scope, event)
        x = _number(v)
        if x is None or v.unit == unit or v.unit is None:
            return v
        try:
            y = convert(x, v.unit, "1" if unit is None else unit, molar_mass(scope, v.record))
        except UnitError as exc:
            return _error(scope, event, v.subject, str(exc), v.inputs or ())
        return Val(y, v.subject, unit=unit, record=v.record, pos=v.pos, inputs=v.inputs,
                   day=v.day)

    return expressed


# ---- arithmetic ------------------------------------------------------------------------------


def _arithmetic(node: ex.Arithmetic, operand_of: CompileOperand) -> Operand:
    left_of, right_of = operand_of(node.left), operand_of(node.right)
    literal = (isinstance(node.left, LITERALS), isinstance(node.right, LITERALS))
    subject = describe.expr(node)
    op = node.op

    def arithmetic(scope: Scope, event: Event | None) -> Val:
        lv, rv = left_of(scope, event), right_of(scope, event)
        vals = [lv, rv]
        inputs = _leaves(vals, literal)
        bad = _unknown(subject, vals, inputs)
        if bad is not None:
            return bad
        a, b = _number(lv), _number(rv)
        if a is None or b is None:
            what = lv if a is None else rv
            return _error(scope, event, subject, f"{what.subject} is not a number", inputs)
        unit: str | None
        if op is ex.ArithOp.ADD or op is ex.ArithOp.SUB:
            if rv.unit != lv.unit:
                try:
                    if lv.unit is None or rv.unit is None:
                        b = _pure(scope, rv, b) if lv.unit is None else b
                        a = _pure(scope, lv, a) if rv.unit is None else a
                        unit = None
                    else:
                        b = convert(b, rv.unit, lv.unit, molar_mass(scope, lv.record))
                        unit = lv.unit
                except UnitError as exc:
                    return _error(scope, event, subject, str(exc), inputs)
            else:
                unit = lv.unit
            value = a + b if op is ex.ArithOp.ADD else a - b
        elif op is ex.ArithOp.MUL:
            value, unit = a * b, product_unit(lv.unit, rv.unit)
        else:
            if b == 0:
                return _error(scope, event, subject, f"division by zero ({rv.subject} is 0)",
                              inputs)
            value, unit = a / b, quotient_unit(lv.unit, rv.unit)
        return _result(value, subject, unit, inputs)

    return arithmetic


def _power(node: ex.Power, operand_of: CompileOperand) -> Operand:
    base_of = operand_of(node.base)
    literal = (isinstance(node.base, LITERALS),)
    subject = describe.expr(node)
    exponent = node.exponent
    whole = float(exponent).is_integer()

    def power(scope: Scope, event: Event | None) -> Val:
        bv = base_of(scope, event)
        inputs = _leaves([bv], literal)
        bad = _unknown(subject, [bv], inputs)
        if bad is not None:
            return bad
        x = _number(bv)
        if x is None:
            return _error(scope, event, subject, f"{bv.subject} is not a number", inputs)
        unit = bv.unit
        try:
            if unit is not None and (not whole or is_dimensionless(unit)):
                x, unit = _pure(scope, bv, x), None
        except UnitError as exc:
            return _error(scope, event, subject, str(exc), inputs)
        if x < 0 and not whole:
            return _error(scope, event, subject, f"{describe.num(x)} cannot be raised to "
                          f"{describe.num(exponent)}", inputs)
        if x == 0 and exponent < 0:
            return _error(scope, event, subject, f"0 cannot be raised to {describe.num(exponent)}",
                          inputs)
        result_unit = power_unit(unit, int(exponent)) if whole and unit is not None else None
        return _result(x ** exponent, subject, result_unit, inputs)

    return power


# ---- math functions --------------------------------------------------------------------------


def _math(node: ex.Call, fn: MathFunction, operand_of: CompileOperand) -> Operand:
    args = tuple(operand_of(a.value) for a in node.arguments)
    literal = tuple(isinstance(a.value, LITERALS) for a in node.arguments)
    subject = describe.expr(node)

    def math_function(scope: Scope, event: Event | None) -> Val:
        vals = [arg(scope, event) for arg in args]
        inputs = _leaves(vals, literal)
        bad = _unknown(subject, vals, inputs)
        if bad is not None:
            return bad
        xs: list[int | float] = []
        for v in vals:
            x = _number(v)
            if x is None:
                return _error(scope, event, subject, f"{v.subject} is not a number", inputs)
            xs.append(x)
        first = vals[0]
        try:
            if fn is MathFunction.LN or fn is MathFunction.LOG10:
                x = _pure(scope, first, xs[0])
                if x <= 0:
                    return _error(scope, event, subject, f"{fn.value} of {describe.num(x)} is "
                                  "undefined", inputs)
                return _result(math.log(x) if fn is MathFunction.LN else math.log10(x),
                               subject, None, inputs)
            if fn is MathFunction.ABS:
                return _result(abs(xs[0]), subject, first.unit, inputs)
            best = xs[0]
            for v, x in zip(vals[1:], xs[1:], strict=True):
                if first.unit is None:
                    x = _pure(scope, v, x)
                elif v.unit != first.unit:
                    if v.unit is None:
                        return _error(scope, event, subject, f"{v.subject} has no unit, but "
                                      f"{first.subject} is in {first.unit}", inputs)
                    x = convert(x, v.unit, first.unit, molar_mass(scope, first.record))
                if (fn is MathFunction.MIN and x < best) or (fn is MathFunction.MAX and x > best):
                    best = x
            return _result(best, subject, first.unit, inputs)
        except UnitError as exc:
            return _error(scope, event, subject, str(exc), inputs)

    return math_function


# ---- formulas --------------------------------------------------------------------------------


def _formula(node: ex.Call, formula: Formula, operand_of: CompileOperand,
             condition_of: CompileCondition) -> Operand:
    """A built-in formula: each input found (given or by default), converted into the unit
    the formula takes, then computed."""
    given: dict[str, ex.Expr] = {}
    positional = [a for a in node.arguments if a.name is None]
    for param, arg in zip(formula.parameters, positional, strict=False):
        given[param.name] = arg.value
    for arg in node.arguments:
        if arg.name is not None:
            given[arg.name] = arg.value
    subject = describe.expr(node)
    getters = tuple(_parameter(p, given.get(p.name), operand_of, condition_of)
                    for p in formula.parameters)
    # literals and left-out conditions (false) are not inputs; a left-out age or sex is
    literal = tuple(isinstance(given.get(p.name), LITERALS)
                    or (p.name not in given and p.kind is ParamKind.FLAG)
                    for p in formula.parameters)
    unit = None if formula.unit == "1" else formula.unit
    compute = formula.compute

    def apply(scope: Scope, event: Event | None) -> Val:
        vals = [get(scope, event) for get in getters]
        inputs = _leaves(vals, literal)
        bad = _unknown(subject, vals, inputs)
        if bad is not None:
            return bad
        values: dict[str, int | float | str | bool] = {}
        for param, v in zip(formula.parameters, vals, strict=True):
            value, problem = _input(scope, param, v)
            if problem is not None:
                return _error(scope, event, subject, problem, inputs)
            values[param.name] = value
        try:
            result = compute(values)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            return _error(scope, event, subject, f"cannot be computed: {exc}", inputs)
        return _result(result, subject, unit, inputs)

    return apply


def _input(scope: Scope, param: Parameter, v: Val) -> tuple[int | float | str | bool, str | None]:
    """One input as the formula takes it, or the reason it cannot be used."""
    kind = param.kind
    raw = v.value
    if kind is ParamKind.SEX:
        return str(raw), None  # normalized by the getter
    if kind is ParamKind.FLAG:
        return bool(raw), None
    if kind is ParamKind.GRADE:
        if isinstance(raw, (int, float, str)) and grade_points(param.name, raw) is not None:
            return raw, None
        return raw, f"{param.label} {describe.qty(raw, None)} is not a grade the formula knows"
    x = _number(v)
    if x is None:
        return 0.0, f"{v.subject} is not a number"
    target = param.unit or "1"
    mass = param.molar_mass or molar_mass(scope, v.record)
    if v.unit is None:
        if target != "1":
            return 0.0, f"{v.subject} has no unit ({param.label} is in {target})"
        y = x
    else:
        try:
            y = float(convert(x, v.unit, target, mass))
        except UnitError as exc:
            if param.alt_unit is None:
                return 0.0, f"{param.label}: {exc}"
            # the reciprocal accepted instead: a heart rate for an RR interval
            try:
                rate = float(convert(x, v.unit, "/" + target))
            except UnitError:
                return 0.0, f"{param.label}: {exc}"
            y = 1.0 / rate if rate > 0 else 0.0
    if y <= 0:
        return y, f"{param.label} must be positive, not {describe.qty(x, v.unit)}"
    return y, None


def _parameter(param: Parameter, node: ex.Expr | None, operand_of: CompileOperand,
               condition_of: CompileCondition) -> Operand:
    """How one input of a formula is found: the expression given, or the default."""
    if node is None:
        if param.default == "age":
            return _default_age
        if param.default == "sex":
            return _default_sex
        flag = Val(False, f"{param.label} (not given: false)")
        return lambda scope, event: flag
    if param.kind is ParamKind.FLAG:
        cond = condition_of(node)
        subject = describe.expr(node)

        def flag_of(scope: Scope, event: Event | None) -> Val:
            t = cond(scope, event)[0]
            if t is UNKNOWN:
                return Val(None, subject, missing=f"{subject} is unknown")
            return Val(t is TRUE, subject)

        return flag_of
    get = operand_of(node)
    if param.kind is ParamKind.SEX:
        def sex_of(scope: Scope, event: Event | None) -> Val:
            v = get(scope, event)
            if v.value is None:
                return v
            sex = normalize_sex(str(v.value))
            if sex is None:
                return Val(None, v.subject, error=f"sex '{v.value}' is neither male nor female")
            return Val(sex, v.subject, record=v.record, pos=v.pos)

        return sex_of
    return get


def _default_age(scope: Scope, event: Event | None) -> Val:
    return age(scope, "a")


def _default_sex(scope: Scope, event: Event | None) -> Val:
    raw = scope.idx.patient.sex
    value = normalize_sex(raw)
    if value is None:
        why = "sex is not recorded" if raw is None else f"sex '{raw}' is neither male nor female"
        return Val(None, "sex", missing=why)
    return Val(value, "sex")


# ---- lookups, ages, definitions, attributes ----------------------------------------------------


def _table_value(node: ex.TableValue, operand_of: CompileOperand) -> Operand:
    key_of = operand_of(node.key)
    rows = {k.strip().casefold(): v for k, v in node.rows}
    table = node.table
    subject_of = describe.expr(node)

    def lookup(scope: Scope, event: Event | None) -> Val:
        kv = key_of(scope, event)
        if kv.value is None or kv.error is not None:
            return Val(None, subject_of, missing=kv.missing, error=kv.error)
        key = str(kv.value)
        row = rows.get(key.strip().casefold())
        subject = f'{table}["{key}"]'
        if row is None:
            return Val(None, subject, missing=f'"{key}" is not in table {table}')
        if isinstance(row, ex.StringLiteral):
            return Val(row.value, subject)
        return Val(row.quantity.value, subject, unit=row.quantity.unit)

    return lookup


def age_at(node: ex.AgeAt, unit: str) -> Operand:
    """`age at ANCHOR`: the age on the anchor's date, in completed units of `unit`."""
    anchor = compile_anchor(node.anchor)
    name = anchor_name(node.anchor)
    subject = describe.expr(node)

    def age_at_anchor(scope: Scope, event: Event | None) -> Val:
        on = anchor(scope)
        if on is None:
            return Val(None, subject, missing=f"no date for {name}")
        return age_on(scope, unit, on, name)

    return age_at_anchor


def _defined_value(node: ex.Defined, operand_of: CompileOperand) -> Operand:
    body = operand_of(node.body)
    name = node.name

    def defined(scope: Scope, event: Event | None) -> Val:
        v = body(scope, event)
        return Val(v.value, name, unit=v.unit, record=v.record, pos=v.pos, missing=v.missing,
                   error=v.error, inputs=v.inputs, day=v.day)

    return defined


def defined_condition(node: ex.Defined, condition_of: CompileCondition) -> Cond:
    """A definition used as a condition: its body's truth and evidence, the name first."""
    body = condition_of(node.body)
    name = node.name
    from engine.results import Evidence

    heads: dict[tuple[str | None, object], Evidence] = {}  # (source, truth) -> shared line

    def defined(scope: Scope, event: Event | None) -> Result:
        t, ev = body(scope, event)
        if event is not None:
            return t, ev
        key = (scope.source, t)
        head = heads.get(key)
        if head is None:
            head = heads[key] = Evidence(f"{name}: {t._value_}", source=scope.source,
                                         subject=name, truth=t)
        return t, [head, *ev]

    return defined


def _unit_attribute(node: ex.UnitAttribute) -> Operand:
    name, unit = node.name, node.unit

    def attribute_in_unit(scope: Scope, event: Event | None) -> Val:
        if event is None:
            return Val(None, name, error=f"'{name}' is an attribute of an event (inside where)")
        v = attribute(event, name)
        raw = v.value
        if isinstance(raw, str):
            m = _QUANTITY_TEXT.match(raw)
            if m is None:
                return v
            return Val(float(m.group(1)), name, unit=m.group(2), record=event)
        if v.unit is not None or raw is None or isinstance(raw, bool):
            return v
        if name == "value" and isinstance(event, Occurrence):
            recorded = event.attribute("unit")
            if isinstance(recorded, str) and recorded.strip():
                return Val(raw, name, unit=recorded.strip(), record=event)
        if isinstance(event, Observation) and name == "value" and event.unit is not None:
            return v
        return Val(raw, name, unit=unit, record=event)

    return attribute_in_unit


__all__ = ["age_at", "compile_computed", "defined_condition", "expressed_in", "is_computed"]
