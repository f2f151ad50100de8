"""Expressions back to protocol text, with the fewest parentheses that keep the meaning."""

from __future__ import annotations

import attrs

from protocol import expr as ex
from protocol.anchors import anchor_node
from protocol.timing import DayPoint, Duration, TimeUnit, Window
from protocol.units import Quantity

# Binding strength: a child weaker than its parent needs parentheses.
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _POWER, _ATOM = range(8)

_UNIT_WORDS = {"min": TimeUnit.MINUTE, "h": TimeUnit.HOUR, "d": TimeUnit.DAY, "wk": TimeUnit.WEEK,
               "mo": TimeUnit.MONTH,
               "a": TimeUnit.YEAR}


def num(x: float) -> str:
    """A number as an author would write it: `3`, `2.5`, `0.05`."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def signed(x: float) -> str:
    return ("+" if x > 0 else "") + num(x)


def string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unit(code: str) -> str:
    """A unit as written in the language: bare when it is a plain name, else in backticks."""
    if code == "%":
        return "%"
    if code in _UNIT_WORDS:
        return _UNIT_WORDS[code].value + "s"
    parts = code.split("/")
    if len(parts) <= 2 and all(p and (p[0].isalpha() or p[0] == "_") and
                               p.replace("_", "a").isalnum() for p in parts):
        return code
    return f"`{code}`"


def quantity(q: Quantity) -> str:
    if q.unit in _UNIT_WORDS:
        return f"{num(q.value)} {_UNIT_WORDS[q.unit].word(q.value)}"
    return num(q.value) if q.unit is None else f"{num(q.value)} {unit(q.unit)}"


def duration(d: Duration) -> str:
    return f"{num(d.amount)} {d.unit.word(d.amount)}"


def day_point(p: DayPoint) -> str:
    return f"{p.unit.value} {num(p.value)}"


def window(w: Window) -> str:
    unit_word = w.unit.value + "s"
    if w.symmetric:
        return f"window +-{num(w.before)} {unit_word}"
    return f"window -{num(w.before)} to +{num(w.after)} {unit_word}"


def window_length(x: Duration | ex.DataDuration | ex.TableDuration) -> str:
    """`90 days`, `5 x half_life`, `5 x half_lives[drug]`, `washout[drug]`."""
    if isinstance(x, Duration):
        return duration(x)
    if x.table is not None:
        if x.factor == 1:
            return f"{x.table}[{x.attribute}]"
        return f"{num(x.factor)} x {x.table}[{x.attribute}]"
    return f"{num(x.factor)} x {x.attribute}"


def anchor(ref: ex.AnchorRef) -> str:
    return anchor_node(ref)


def temporal(t: ex.Temporal) -> str:
    if isinstance(t, ex.Within):
        strictly = "strictly " if t.strict else ""
        return f"{strictly}within {duration(t.duration)} {t.direction.value} {anchor(t.anchor)}"
    if isinstance(t, ex.WithinLongest):
        lengths = " or ".join(window_length(x) for x in t.lengths)
        longer = " whichever is longer" if len(t.lengths) > 1 else ""
        return f"within {lengths}{longer} {t.direction.value} {anchor(t.anchor)}"
    if isinstance(t, ex.Relative):
        strict = "strictly " if t.strict else ""
        return f"{strict}{t.direction.value} {anchor(t.anchor)}"
    return f"ongoing at {anchor(t.anchor)}"


def selection(s: ex.Selection) -> str:
    parts = [s.kind]
    if s.temporal is not None:
        parts.append(temporal(s.temporal))
    if s.where is not None:
        parts.append("where " + _fmt(s.where, _CMP + 1 if _is_logic(s.where) else _CMP))
    return " ".join(parts)


def _is_logic(node: ex.Expr) -> bool:
    return isinstance(node, (ex.And, ex.Or, ex.Not))


def _strength(node: ex.Expr) -> int:
    if isinstance(node, ex.Or):
        return _OR
    if isinstance(node, ex.And):
        return _AND
    if isinstance(node, ex.Not):
        return _NOT
    if isinstance(node, (ex.Compare, ex.InRange, ex.InSet, ex.Test, ex.Consecutive, ex.LogRise)):
        return _CMP
    if isinstance(node, ex.Arithmetic):
        return _SUM if node.op in (ex.ArithOp.ADD, ex.ArithOp.SUB) else _PRODUCT
    if isinstance(node, ex.Power):
        return _POWER
    return _ATOM


def _fmt(node: ex.Expr, context: int) -> str:
    text = expression(node)
    return f"({text})" if _strength(node) < context else text


def expression(node: ex.Expr) -> str:  # noqa: C901 - one case per node type
    """The canonical text of an expression on one line."""
    if isinstance(node, ex.Or):
        # `and` binds tighter than `or`, but authors read `a or (b and c)` more safely.
        return " or ".join(_fmt(o, _NOT) for o in node.operands)
    if isinstance(node, ex.And):
        return " and ".join(_fmt(o, _NOT) for o in node.operands)
    if isinstance(node, ex.Not):
        return "not " + _fmt(node.operand, _NOT)
    if isinstance(node, ex.Compare):
        return f"{_operand(node.left)} {node.op.value} {_operand(node.right)}"
    if isinstance(node, ex.InRange):
        tail = f" {unit(node.unit)}" if node.unit is not None else ""
        return f"{_operand(node.operand)} in {num(node.low)}..{num(node.high)}{tail}"
    if isinstance(node, ex.InSet):
        values = ", ".join(expression(v) for v in node.values)
        return f"{_operand(node.operand)} in ({values})"
    if isinstance(node, ex.Test):
        return f"{_operand(node.operand)} is {node.test.value}"
    if isinstance(node, ex.Consecutive):
        return (f"{node.kind} {node.op.value} {_operand(node.threshold)} "
                f"on {node.count} consecutive samples")
    if isinstance(node, ex.LogRise):
        tail = f" on {node.count} consecutive samples" if node.count != 1 else ""
        return f"{node.kind} rises {node.op.value} {num(node.logs)} log from lowest{tail}"
    if isinstance(node, ex.QuantityLiteral):
        return quantity(node.quantity)
    if isinstance(node, ex.StringLiteral):
        return string(node.value)
    if isinstance(node, ex.BoolLiteral):
        return "true" if node.value else "false"
    if isinstance(node, ex.RelativeLimit):
        return f"{num(node.multiple)} x {node.limit.value}"
    if isinstance(node, ex.Name):
        return node.name
    if isinstance(node, ex.Attested):
        return "attested"
    if isinstance(node, ex.Aggregate):
        return f"{node.fn.value} {selection(node.selection)}"
    if isinstance(node, ex.Exists):
        text = f"any {selection(node.selection)}"
        if node.lasting is not None:
            text += f" lasting {node.lasting.op.value} {duration(node.lasting.duration)}"
        return text
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
        text = f"continuous {selection(node.selection)}"
        text += f" for {duration(node.duration)} before {anchor(node.anchor)}"
        if node.unchanged is not None:
            text += f" with unchanged {node.unchanged}"
        if node.gap is not None:
            text += f" allowing gaps of {duration(node.gap)}"
        return text
    if isinstance(node, ex.Arithmetic):
        return _arithmetic(node)
    if isinstance(node, ex.Power):
        return f"{_power_base(node.base)} ^ {num(node.exponent)}"
    if isinstance(node, ex.Call):
        args = ", ".join(expression(a.value) if a.name is None
                         else f"{a.name} = {expression(a.value)}" for a in node.arguments)
        return f"{node.function}({args})"
    if isinstance(node, ex.AgeAt):
        return f"age at {anchor(node.anchor)}"
    if isinstance(node, ex.Lookup):
        return f"{node.table}[{expression(node.key)}]"
    if isinstance(node, ex.Panel):
        text = f"{node.quantifier.value} of {node.fn.value} ({', '.join(node.kinds)})"
        if node.temporal is not None:
            text += " " + temporal(node.temporal)
        return text
    raise TypeError(f"cannot format {node!r}")


def _arithmetic(node: ex.Arithmetic) -> str:
    level = _strength(node)
    left = _term(node.left, level)
    right = _term(node.right, level + 1)  # `a - (b - c)`: the right needs more
    if node.op is ex.ArithOp.DIV and not left.endswith(")") and _ends_in_bare_unit(node.left):
        # `2 mg / x` would read `mg/x` as the unit
        left = f"({left})"
    return f"{left} {node.op.value} {right}"


def _term(node: ex.Expr, context: int) -> str:
    if isinstance(node, (ex.Aggregate, ex.Exists)) and node.selection.where is not None:
        return f"({expression(node)})"
    return _fmt(node, context)


def _power_base(node: ex.Expr) -> str:
    text = expression(node)
    if _strength(node) < _ATOM or isinstance(node, ex.QuantityLiteral) or (
            isinstance(node, (ex.Aggregate, ex.Exists)) and (
                node.selection.temporal is not None or node.selection.where is not None)):
        return f"({text})"
    return text


def _ends_in_bare_unit(node: ex.Expr) -> bool:
    """Whether the text of `node` ends in a unit written bare without `/` (`2 mg`)."""
    if isinstance(node, ex.QuantityLiteral):
        code = node.quantity.unit
        return code is not None and "/" not in unit(code) and not unit(code).startswith("`")
    if isinstance(node, ex.Arithmetic):
        return _strength(node.right) > _strength(node) and _ends_in_bare_unit(node.right)
    return False


def _operand(node: ex.Expr) -> str:
    # Operands of a comparison that end in an open-ended `where` must be closed off, or the
    # comparison would be read as part of the where clause.
    text = _fmt(node, _SUM)
    if isinstance(node, (ex.Aggregate, ex.Exists)) and node.selection.where is not None:
        return f"({text})"
    return text


def split_lines(node: ex.Expr, width: int = 88) -> list[str]:
    """An expression broken at its top-level `and`/`or`, continuation lines led by the operator.

    An operand in parentheses that is itself too long is broken the same way inside them; a
    comparison too long for a line is broken inside its computed value (`_break_value`).
    """
    if not isinstance(node, (ex.And, ex.Or)):
        return _break_value(node, width)
    word = "and" if isinstance(node, ex.And) else "or"
    lines: list[str] = []
    for i, operand in enumerate(node.operands):
        lead = "" if i == 0 else word + " "
        text = _fmt(operand, _NOT)
        if len(text) + len(lead) > width and isinstance(operand, (ex.And, ex.Or)):
            inner = split_lines(operand, width - len(lead) - 1)
            pad = " " * (len(lead) + 1)
            lines.append(lead + "(" + inner[0])
            lines.extend(pad + line for line in inner[1:])
            lines[-1] += ")"
        elif (len(text) + len(lead) > width and isinstance(operand, ex.Not)
              and isinstance(operand.operand, (ex.And, ex.Or))):
            inner = split_lines(operand.operand, width - len(lead) - 5)
            pad = " " * (len(lead) + 5)
            lines.append(lead + "not (" + inner[0])
            lines.extend(pad + line for line in inner[1:])
            lines[-1] += ")"
        elif len(text) + len(lead) > width and not _is_logic(operand):
            inner = _break_value(operand, width - len(lead))
            lines.append(lead + inner[0])
            lines.extend(" " * len(lead) + line for line in inner[1:])
        else:
            lines.append(lead + text)
    return lines


def _break_continuous(node: ex.Continuous, width: int) -> list[str]:
    """`continuous ...` too long for one line: its `with unchanged` and `allowing gaps of` on
    the next (a line starting with `with` or `allowing` continues the one before)."""
    head = (f"continuous {selection(node.selection)} for {duration(node.duration)} before "
            f"{anchor(node.anchor)}")
    tail = []
    if node.unchanged is not None:
        tail.append(f"with unchanged {node.unchanged}")
    if node.gap is not None:
        tail.append(f"allowing gaps of {duration(node.gap)}")
    if not tail:
        return [head]
    return [head, "  " + " ".join(tail)]


def _break_exists(node: ex.Exists, width: int) -> list[str]:
    """`any KIND ... where C` too long for one line: `where C` on the next (a line starting
    with `where` continues the one before); a compound C too long for that line is broken at
    its `and`/`or` inside its parentheses."""
    sel = node.selection
    assert sel.where is not None
    head = f"any {selection(attrs.evolve(sel, where=None))}"
    tail = ""
    if node.lasting is not None:
        tail = f" lasting {node.lasting.op.value} {duration(node.lasting.duration)}"
    where = _fmt(sel.where, _CMP + 1 if _is_logic(sel.where) else _CMP)
    if len(where) + len(tail) + 8 <= width or isinstance(sel.where, ex.Not):
        return [head, f"  where {where}{tail}"]
    if isinstance(sel.where, (ex.And, ex.Or)):
        inner = split_lines(sel.where, width - 9)
        lines = [head, f"  where ({inner[0]}"]
        lines += [" " * 9 + line for line in inner[1:]]
        lines[-1] += ")" + tail
        return lines
    inner = _break_value(sel.where, width - 8)
    lines = [head, f"  where {inner[0]}"] + [" " * 8 + line for line in inner[1:]]
    lines[-1] += tail
    return lines


def _break_set(node: ex.InSet, width: int) -> list[str]:
    """`X in ("a", "b", ...)` too long for one line: the values wrapped inside the parentheses,
    as many to a line as fit."""
    head = f"{_operand(node.operand)} in ("
    values = [expression(v) for v in node.values]
    lines = [head]
    for i, value in enumerate(values):
        piece = value + ("," if i < len(values) - 1 else ")")
        if len(lines[-1]) + len(piece) + 1 > width and lines[-1].strip() and \
                lines[-1] != head:
            lines.append(" " * len(head) + piece)
        else:
            lines[-1] += ("" if lines[-1].endswith("(") else " ") + piece
    return lines


def _break_value(node: ex.Expr, width: int) -> list[str]:
    """A comparison or test too long for one line, broken where the language lets a line
    continue: after each argument of a call (inside its parentheses), or before the top-level
    operator of arithmetic (a line starting with an operator continues the one before); an
    `any ... where` before its `where`."""
    text = expression(node)
    if len(text) > width and isinstance(node, ex.Continuous):
        return _break_continuous(node, width)
    if len(text) > width and isinstance(node, ex.Exists) and node.selection.where is not None:
        return _break_exists(node, width)
    if len(text) > width and isinstance(node, ex.InSet):
        return _break_set(node, width)
    if len(text) <= width or not isinstance(node, (ex.Compare, ex.InRange, ex.Test)):
        return [text]
    value = node.left if isinstance(node, ex.Compare) else node.operand
    if isinstance(value, (ex.Aggregate, ex.Exists)) and value.selection.where is not None:
        return [text]
    head = _operand(value)
    tail = text[len(head):]  # ` >= 60 mL/min`, ` in 25..45 kg/m2`
    if not text.startswith(head):
        return [text]
    if isinstance(value, ex.Call) and len(value.arguments) > 1:
        args = [expression(a.value) if a.name is None else f"{a.name} = {expression(a.value)}"
                for a in value.arguments]
        pad = " " * (len(value.function) + 1)
        lines = [f"{value.function}({args[0]},"]
        lines += [f"{pad}{a}," for a in args[1:-1]]
        lines.append(f"{pad}{args[-1]}){tail}")
        return lines
    if isinstance(value, ex.Arithmetic):
        level = _strength(value)
        left = _term(value.left, level)
        right = _term(value.right, level + 1)
        if value.op is ex.ArithOp.DIV and not left.endswith(")") and _ends_in_bare_unit(value.left):
            left = f"({left})"
        return [left, f"  {value.op.value} {right}{tail}"]
    return [text]
