"""Static types of values, for the checker: what a value expression is (a number in some unit,
text, a condition) and whether its units fit together.

Units are checked by dimension through pint (protocol.units): `latest weight / latest height ^
2` is a mass per area, so comparing it with `18.5 kg/m2` is right and with `60 mL/min` is an
error located at the comparison. Arithmetic (`+ - * / ^`), the math functions and the built-in
formulas are typed here; protocol.check calls `ValueTypes` for every comparison that involves a
computed value and for every definition, once each, so that an error is reported once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import attrs

from protocol import expr as ex
from protocol.definitions import Definition, Table
from protocol.design import DataItem
from protocol.formulas import FORMULAS, MATH_FUNCTIONS, Formula, MathFunction, ParamKind
from protocol.source import Span
from protocol.units import (
    UnitError,
    compatible,
    dimension_text,
    is_dimensionless,
    power_unit,
    product_unit,
    quotient_unit,
    same_dimension,
)
from protocol.vocab import DataKind

NUMERIC_KINDS = (DataKind.LAB, DataKind.VITAL, DataKind.SCORE, DataKind.MARKER)

# Nodes that compute a value from others: their units are checked here.
COMPUTED = (ex.Arithmetic, ex.Power, ex.Call, ex.Lookup)


@attrs.frozen
class ValueType:
    """What a value is: `number` (with its unit, None for a pure number), `text`, `bool`, or
    `any` when it cannot be told (an event attribute without a declared unit)."""

    kind: str
    unit: str | None = None
    molar_mass: int | float | None = None

    def describe(self) -> str:
        if self.kind != "number":
            return {"text": "text", "bool": "a condition"}.get(self.kind, "a value")
        return f"a value in {self.unit}" if self.unit else "a pure number"


NUMBER = ValueType("number")
TEXT = ValueType("text")
BOOL = ValueType("bool")
ANY = ValueType("any")

Report = Callable[[str, Span | None, str | None], None]


def is_computed(node: ex.Expr) -> bool:
    """Whether a node computes a value from others (arithmetic, a call, a table lookup)."""
    return isinstance(node, COMPUTED)


def units_fit(a: ValueType, b: ValueType) -> bool:
    """Whether two numbers can be compared, added or subtracted (same dimension, or mass and
    amount of one analyte with its molar mass)."""
    try:
        if same_dimension(a.unit, b.unit):
            return True
        mass = a.molar_mass or b.molar_mass
        if mass and a.unit is not None and b.unit is not None:
            return compatible(a.unit, b.unit, mass)
    except UnitError:
        return True  # an unknown unit is reported where it is written
    return False


class ValueTypes:
    """Types value expressions and reports unit errors through `report(message, span, hint)`."""

    def __init__(self, data: Mapping[str, DataItem], definitions: Mapping[str, Definition],
                 tables: Mapping[str, Table], report: Report):
        self.data = data
        self.definitions = definitions
        self.tables = tables
        self.report = report
        self._definition_types: dict[str, ValueType] = {}
        self._typing: set[str] = set()

    def definition_type(self, name: str) -> ValueType:
        """The type of a definition's value (typed, and its errors reported, once)."""
        hit = self._definition_types.get(name)
        if hit is not None:
            return hit
        if name in self._typing:  # a cycle: protocol.check reports it
            return ANY
        self._typing.add(name)
        out = self.type_of(self.definitions[name].expr, None)
        self._typing.discard(name)
        self._definition_types[name] = out
        return out

    def type_of(self, node: ex.Expr, in_where: DataItem | None) -> ValueType:  # noqa: C901
        """The type of a value node; unit errors of computed nodes inside it are reported."""
        if isinstance(node, ex.QuantityLiteral):
            return ValueType("number", node.quantity.unit)
        if isinstance(node, ex.StringLiteral):
            return TEXT
        if isinstance(node, ex.BoolLiteral):
            return BOOL
        if isinstance(node, ex.Name):
            return self.name_type(node.name, in_where)
        if isinstance(node, ex.AgeAt):
            return ValueType("number", "a")
        if isinstance(node, ex.Aggregate):
            return self.item_type(self.data.get(node.selection.kind))
        if isinstance(node, (ex.Count, ex.LogReduction, ex.CountDistinct)):
            return NUMBER
        if isinstance(node, ex.Statistic):
            item = self.data.get(node.selection.kind)
            if node.attribute is None:
                return self.item_type(item)
            unit = item.attribute_unit(node.attribute) if item is not None else None
            return ValueType("number", unit) if unit is not None else ANY
        if isinstance(node, ex.Arithmetic):
            return self.arithmetic(node, in_where)
        if isinstance(node, ex.Power):
            return self.power(node, in_where)
        if isinstance(node, ex.Call):
            return self.call(node, in_where)
        if isinstance(node, ex.Lookup):
            return self.lookup(node)
        if isinstance(node, (ex.RelativeLimit, ex.Panel)):
            return ANY
        return BOOL

    def name_type(self, name: str, in_where: DataItem | None) -> ValueType:
        if in_where is not None:
            unit = in_where.attribute_unit(name)
            if unit is not None:
                return ValueType("number", unit)
            if name == "value" and in_where.kind in NUMERIC_KINDS:
                return self.item_type(in_where)
            return ANY
        if name == "age":
            return ValueType("number", "a")
        if name in ("sex", "arm"):
            return TEXT
        if name in self.definitions:
            return self.definition_type(name)
        return ANY

    @staticmethod
    def item_type(item: DataItem | None) -> ValueType:
        if item is None:
            return ANY
        if item.kind is DataKind.CATEGORY:
            return TEXT
        if item.kind in NUMERIC_KINDS:
            return ValueType("number", item.unit, item.molar_mass)
        return ANY

    def _numbers(self, node: ex.Expr, types: list[ValueType], what: str) -> bool:
        """Whether every type is a number (or unknown); reports the first that is not."""
        for t in types:
            if t.kind in ("text", "bool"):
                self.report(f"{what} needs numbers, not {t.describe()}", node.span, None)
                return False
        return all(t.kind == "number" for t in types)

    def arithmetic(self, node: ex.Arithmetic, in_where: DataItem | None) -> ValueType:
        left = self.type_of(node.left, in_where)
        right = self.type_of(node.right, in_where)
        if not self._numbers(node, [left, right], f"'{node.op.value}'"):
            return ANY
        if node.op in (ex.ArithOp.ADD, ex.ArithOp.SUB):
            if not units_fit(left, right):
                verb = "add" if node.op is ex.ArithOp.ADD else "subtract"
                self.report(f"cannot {verb} {left.describe()} and {right.describe()}: the "
                            f"units measure different things ({_dim(left)} and {_dim(right)})",
                            node.span, "both sides of + and - need the same dimension")
                return ANY
            return ValueType("number", left.unit, left.molar_mass)
        if node.op is ex.ArithOp.MUL:
            return ValueType("number", product_unit(left.unit, right.unit))
        return ValueType("number", quotient_unit(left.unit, right.unit))

    def power(self, node: ex.Power, in_where: DataItem | None) -> ValueType:
        base = self.type_of(node.base, in_where)
        if not self._numbers(node, [base], "'^'"):
            return ANY
        whole = float(node.exponent).is_integer()
        if not whole and not _dimensionless(base):
            self.report(f"a fractional power needs a pure number, not {base.describe()}",
                        node.span, f"divide by a unit first, e.g. '(... / 1 {base.unit}) ^ "
                        f"{node.exponent:g}'")
            return ANY
        if not whole or _dimensionless(base):
            return NUMBER
        return ValueType("number", power_unit(base.unit, int(node.exponent)))

    def call(self, node: ex.Call, in_where: DataItem | None) -> ValueType:
        fn = MATH_FUNCTIONS.get(node.function)
        if fn is not None:
            return self.math(node, fn, in_where)
        formula = FORMULAS.get(node.function)
        if formula is not None:
            self.formula(node, formula, in_where)
            return ValueType("number", None if formula.unit == "1" else formula.unit)
        return ANY  # an unknown function is reported by protocol.check

    def math(self, node: ex.Call, fn: MathFunction, in_where: DataItem | None) -> ValueType:
        least, most = fn.arity
        n = len(node.arguments)
        if n < least or (most is not None and n > most):
            wanted = f"{least} or more values" if most is None else "one value"
            self.report(f"{fn.value}() takes {wanted}, not {n}", node.span, None)
            return ANY
        named = next((a for a in node.arguments if a.name is not None), None)
        if named is not None:
            self.report(f"{fn.value}() takes no named arguments", named.span, None)
        types = [self.type_of(a.value, in_where) for a in node.arguments]
        if not self._numbers(node, types, f"{fn.value}()"):
            return ANY
        if fn in (MathFunction.LN, MathFunction.LOG10):
            if not _dimensionless(types[0]):
                self.report(f"{fn.value}() needs a pure number, not {types[0].describe()}",
                            node.span, f"divide by a unit first, e.g. '{fn.value}(... / 1 "
                            f"{types[0].unit})'")
            return NUMBER
        if fn is MathFunction.ABS:
            return types[0]
        for t, arg in zip(types[1:], node.arguments[1:], strict=True):
            if not units_fit(types[0], t):
                self.report(f"{fn.value}() compares values of one dimension: "
                            f"{types[0].describe()} and {t.describe()}", arg.span, None)
                return ANY
        return types[0]

    def formula(self, node: ex.Call, formula: Formula, in_where: DataItem | None) -> None:
        """Each input: known, given once, and of the dimension the formula takes."""
        names = [p.name for p in formula.parameters]
        given: dict[str, ex.Argument] = {}
        positional = [a for a in node.arguments if a.name is None]
        if any(a.name is None for a in node.arguments[len(positional):]):
            self.report("positional inputs come before named ones", node.span, None)
        if len(positional) > len(names):
            self.report(f"{formula.name}() takes at most {len(names)} inputs "
                        f"({', '.join(names)})", node.span, None)
        for param, arg in zip(formula.parameters, positional, strict=False):
            given[param.name] = arg
        for arg in node.arguments:
            if arg.name is None:
                continue
            if formula.parameter(arg.name) is None:
                close = [n for n in names if n.startswith(arg.name[:3])]
                hint = f"did you mean '{close[0]}'?" if close else "its inputs are " + ", ".join(names)
                self.report(f"{formula.name}() has no input '{arg.name}'", arg.span, hint)
            elif arg.name in given:
                self.report(f"{formula.name}(): '{arg.name}' is given twice", arg.span, None)
            else:
                given[arg.name] = arg
        for param in formula.parameters:
            found = given.get(param.name)
            if found is None:
                if param.default is None:
                    self.report(f"{formula.name}() needs its input '{param.name}' "
                                f"({param.label})", node.span,
                                f"e.g. '{formula.name}({param.name} = latest ... )'")
                continue
            arg = found
            t = self.type_of(arg.value, in_where)
            if param.kind is ParamKind.SEX:
                if t.kind not in ("text", "any"):
                    self.report(f"'{param.name}' is the patient's sex, not {t.describe()}",
                                arg.span, None)
            elif param.kind is ParamKind.FLAG:
                if t.kind not in ("bool", "any"):
                    self.report(f"'{param.name}' is a condition ({param.label}), not "
                                f"{t.describe()}", arg.span, None)
            elif param.kind is ParamKind.GRADE:
                if t.kind == "bool":
                    self.report(f"'{param.name}' is a grade ({param.label}), not a condition",
                                arg.span, None)
            elif t.kind in ("text", "bool"):
                self.report(f"'{param.name}' is a number ({param.label}), not {t.describe()}",
                            arg.span, None)
            elif t.kind == "number":
                wanted = ValueType("number", None if param.unit == "1" else param.unit,
                                   param.molar_mass)
                alternative = ValueType("number", param.alt_unit) if param.alt_unit else None
                if not units_fit(t, wanted) and not (alternative and units_fit(t, alternative)):
                    also = f" (or {dimension_text(param.alt_unit)})" if param.alt_unit else ""
                    self.report(f"{formula.name}(): '{param.name}' ({param.label}) is "
                                f"{dimension_text(wanted.unit)}{also}, but is given "
                                f"{t.describe()}", arg.span,
                                f"e.g. a value in {param.unit}" if param.unit != "1" else None)

    def lookup(self, node: ex.Lookup) -> ValueType:
        table = self.tables.get(node.table)
        if table is None or not table.rows:
            return ANY
        value = table.rows[0].value
        if isinstance(value, ex.StringLiteral):
            return TEXT
        return ValueType("number", value.quantity.unit)


def _dimensionless(t: ValueType) -> bool:
    try:
        return is_dimensionless(t.unit)
    except UnitError:
        return True


def _dim(t: ValueType) -> str:
    try:
        return dimension_text(t.unit)
    except UnitError:
        return str(t.unit)


__all__ = ["ANY", "BOOL", "NUMBER", "TEXT", "ValueType", "ValueTypes", "is_computed", "units_fit"]
