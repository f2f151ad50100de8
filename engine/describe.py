"""Short human-readable renderings of model fragments for evidence sentences.

The engine never imports the language's formatter (dsl); these are close to the protocol's own
wording but only meant for one-line explanations.
"""

from __future__ import annotations

import datetime
from typing import Final

from protocol import expr as ex
from protocol.anchors import anchor_node


def num(x: float | int) -> str:
    """`52`, `2.5`, `0.001` (no trailing `.0`, at most 6 significant digits)."""
    # exact-type fast paths for the common plain int and float (the general code below gives
    # the same text for them; it runs for every value in every evidence sentence)
    t = type(x)
    if t is float:
        if x.is_integer() and abs(x) < 1e15:  # type: ignore[union-attr]
            return str(int(x))
        return f"{x:.6g}"
    if t is int and abs(x) < 1e15:
        return str(x)
    if isinstance(x, bool):
        return str(x).lower()
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def qty(value: object, unit: str | None) -> str:
    """A value with its unit: `52 U/L`, `"CR1"`, `true`."""
    t = type(value)
    if t is float or t is int:
        text = num(value)  # type: ignore[arg-type]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = num(value)
    elif isinstance(value, str):
        text = f'"{value}"'
    else:
        text = str(value).lower()
    return f"{text} {unit}" if unit else text


def day(d: datetime.date | None) -> str:
    return d.isoformat() if d else "?"


def length(x: object) -> str:
    """`90 days`, `5 x half_life`, `5 x half_lives[drug]`, `washout[drug]`."""
    if isinstance(x, (ex.DataDuration, ex.TableDuration)):
        if x.table is not None:
            if x.factor == 1:
                return f"{x.table}[{x.attribute}]"
            return f"{num(x.factor)} x {x.table}[{x.attribute}]"
        return f"{num(x.factor)} x {x.attribute}"
    return str(x)


def temporal(t: ex.Temporal | None) -> str:
    if t is None:
        return ""
    if isinstance(t, ex.Within):
        strictly = "strictly " if t.strict else ""
        return f" {strictly}within {t.duration} {t.direction.value} {anchor_node(t.anchor)}"
    if isinstance(t, ex.WithinLongest):
        lengths = " or ".join(length(x) for x in t.lengths)
        longer = " whichever is longer" if len(t.lengths) > 1 else ""
        return f" within {lengths}{longer} {t.direction.value} {anchor_node(t.anchor)}"
    if isinstance(t, ex.Relative):
        strict = "strictly " if t.strict else ""
        return f" {strict}{t.direction.value} {anchor_node(t.anchor)}"
    return f" ongoing at {anchor_node(t.anchor)}"


def selection(s: ex.Selection) -> str:
    where = f" where {expr(s.where)}" if s.where is not None else ""
    return f"{s.kind}{temporal(s.temporal)}{where}"


_CACHE: Final[dict[int, tuple[object, str]]] = {}


def expr(node: ex.Expr) -> str:
    """A compact rendering of an expression (for evidence, not for round-tripping).

    Memoized by node identity (the node is kept alive with its text, so ids are not reused):
    a trial's expressions are rendered once, not once per patient."""
    hit = _CACHE.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    text = _expr(node)
    if len(_CACHE) > 20000:
        _CACHE.clear()
    _CACHE[id(node)] = (node, text)
    return text


def _expr(node: ex.Expr) -> str:  # noqa: C901 - one case per node type
    if isinstance(node, ex.QuantityLiteral):
        return str(node.quantity)
    if isinstance(node, ex.StringLiteral):
        return f'"{node.value}"'
    if isinstance(node, ex.BoolLiteral):
        return "true" if node.value else "false"
    if isinstance(node, ex.RelativeLimit):
        return f"{num(node.multiple)} x {node.limit.value}"
    if isinstance(node, ex.Name):
        return node.name
    if isinstance(node, ex.Aggregate):
        return f"{node.fn.value} {selection(node.selection)}"
    if isinstance(node, ex.Exists):
        lasting = ""
        if node.lasting is not None:
            lasting = f" lasting {node.lasting.op.value} {node.lasting.duration}"
        return f"any {selection(node.selection)}{lasting}"
    if isinstance(node, ex.Count):
        return f"count({selection(node.selection)})"
    if isinstance(node, ex.LogReduction):
        return f"log_reduction({selection(node.selection)})"
    if isinstance(node, ex.Statistic):
        of = f"{node.attribute} of " if node.attribute is not None else ""
        return f"{node.fn.value}({of}{selection(node.selection)})"
    if isinstance(node, ex.CountDistinct):
        return f"count(distinct {node.attribute} of {selection(node.selection)})"
    if isinstance(node, ex.Continuous):
        unchanged = f" with unchanged {node.unchanged}" if node.unchanged is not None else ""
        gaps = f" allowing gaps of {node.gap}" if node.gap is not None else ""
        return (f"continuous {selection(node.selection)} for {node.duration} before "
                f"{anchor_node(node.anchor)}{unchanged}{gaps}")
    if isinstance(node, ex.Compare):
        return f"{expr(node.left)} {node.op.value} {expr(node.right)}"
    if isinstance(node, ex.InRange):
        return f"{expr(node.operand)} in {num(node.low)}..{num(node.high)}"
    if isinstance(node, ex.InSet):
        return f"{expr(node.operand)} in ({', '.join(expr(v) for v in node.values)})"
    if isinstance(node, ex.Test):
        return f"{expr(node.operand)} is {node.test.value}"
    if isinstance(node, ex.And):
        return " and ".join(_paren(o) for o in node.operands)
    if isinstance(node, ex.Or):
        return " or ".join(_paren(o) for o in node.operands)
    if isinstance(node, ex.Not):
        return f"not {_paren(node.operand)}"
    if isinstance(node, ex.Consecutive):
        return (f"{node.kind} {node.op.value} {expr(node.threshold)} on {node.count} "
                "consecutive samples")
    if isinstance(node, ex.LogRise):
        return (f"{node.kind} rises {node.op.value} {num(node.logs)} log from lowest on "
                f"{node.count} consecutive samples")
    if isinstance(node, ex.Attested):
        return "attested"
    if isinstance(node, ex.Arithmetic):
        return f"{_term(node.left, node.op, False)} {node.op.value} {_term(node.right, node.op, True)}"
    if isinstance(node, ex.Power):
        base = expr(node.base)
        if not isinstance(node.base, _ATOMS):
            base = f"({base})"
        return f"{base} ^ {num(node.exponent)}"
    if isinstance(node, ex.Call):
        args = ", ".join(expr(a.value) if a.name is None else f"{a.name} = {expr(a.value)}"
                         for a in node.arguments)
        return f"{node.function}({args})"
    if isinstance(node, ex.AgeAt):
        return f"age at {anchor_node(node.anchor)}"
    if isinstance(node, (ex.Lookup, ex.TableValue)):
        return f"{node.table}[{expr(node.key)}]"
    if isinstance(node, ex.Panel):
        when = temporal(node.temporal)
        return f"{node.quantifier.value} of {node.fn.value} ({', '.join(node.kinds)}){when}"
    if isinstance(node, ex.Defined):
        return node.name
    if isinstance(node, ex.UnitAttribute):
        return node.name
    return type(node).__name__


_ATOMS: Final = (ex.QuantityLiteral, ex.Name, ex.Aggregate, ex.Call, ex.AgeAt, ex.Lookup,
                 ex.TableValue, ex.Defined, ex.UnitAttribute, ex.Count, ex.LogReduction)
_LEVEL: Final = {ex.ArithOp.ADD: 1, ex.ArithOp.SUB: 1, ex.ArithOp.MUL: 2, ex.ArithOp.DIV: 2}


def _term(node: ex.Expr, parent: ex.ArithOp, right: bool) -> str:
    """An operand of arithmetic, parenthesized where the reading would change."""
    text = expr(node)
    if isinstance(node, ex.Arithmetic):
        inner, outer = _LEVEL[node.op], _LEVEL[parent]
        if inner < outer or (right and inner == outer):
            return f"({text})"
    elif isinstance(node, (ex.Aggregate, ex.Exists)) and node.selection.where is not None:
        return f"({text})"
    return text


def _paren(node: ex.Expr) -> str:
    text = expr(node)
    return f"({text})" if isinstance(node, (ex.And, ex.Or)) else text
