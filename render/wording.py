"""The author's words against the computable expression: numbers on which they disagree.

`check_text_vs_expr` is what `trialcode render` warns with. A warning must be right nearly always
or nobody reads them: numbers that name things (`DPP-4`, `Day -8`, `CKD stage 5`, `10^9/L`) are
not thresholds, a criterion left to the investigator (`attested`) is not checked, and each
finding is given once. tests/render/test_render_warnings.py measures it on a corpus of criteria
worded as real protocols word them.
"""

from __future__ import annotations

import re

import attrs

from protocol import expr as ex
from protocol.eligibility import Criterion
from protocol.expr import (
    Aggregate,
    And,
    Attested,
    Compare,
    Consecutive,
    Continuous,
    Count,
    CountDistinct,
    Exists,
    Expr,
    InRange,
    InSet,
    LogReduction,
    LogRise,
    Not,
    Or,
    QuantityLiteral,
    RelativeLimit,
    Selection,
    Statistic,
    Test,
    Within,
)
from protocol.timing import DEFAULT_CALENDAR, Calendar, Duration, TimeUnit
from protocol.trial import Trial
from render.prose import _flip, _is_operand
from render.terms import duration_text, num, op_symbol, quantity_display

__all__ = ["Finding", "check_text_vs_expr"]

@attrs.frozen
class Finding:
    """A number the criterion's text states that its expression does not have."""

    criterion: str
    message: str
    text_value: str
    expr_values: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.criterion}: {self.message}"


@attrs.frozen
class _Fact:
    """A number in text or expression, with what kind of number it is."""

    kind: str  # "limit", "range", "duration", "quantity", "plain"
    value: float
    high: float | None = None  # ranges
    limit: str | None = None  # ULN / LLN
    unit: str | None = None  # time unit word or measurement unit
    op: str | None = None  # comparison in canonical symbols: < <= > >= ==
    shown: str = ""


_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
}
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(k for k in _NUMBER_WORDS if len(k) > 2) + r")"
_UCUM_TIME = {"a": "year", "mo": "month", "wk": "week", "d": "day", "h": "hour", "min": "minute"}
_TIME_UNITS = {
    "minute": TimeUnit.MINUTE,
    "hour": TimeUnit.HOUR,
    "day": TimeUnit.DAY,
    "week": TimeUnit.WEEK,
    "month": TimeUnit.MONTH,
    "year": TimeUnit.YEAR,
}
_OP_WORDS = [
    (r"≤|<=|=<|⩽|no more than|not more than|at most|up to|not exceeding", "<="),
    (r"≥|>=|=>|⩾|at least|no less than|not less than|a minimum of", ">="),
    (r"<|less than|lower than|below|fewer than|under", "<"),
    (r">|more than|greater than|higher than|above|exceeding|over", ">"),
]
_LIMIT_RE = re.compile(
    rf"(?P<n>{_NUM})\s*(?:x|×|\*|times|fold)\s*(?:the\s+)?"
    r"(?P<lim>ULN|LLN|upper limits? of (?:the )?normal(?: range)?|lower limits? of (?:the )?normal(?: range)?)",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(
    rf"(?<![\w.])(?:between\s+)?(?P<a>{_NUM})\s*(?:-|–|—|to|and|through)\s*(?P<b>{_NUM})(?![\w.])"
    r"(?:\s*(?P<unit>hours?|days?|weeks?|months?|years?)\b)?",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(
    rf"(?<![\w.])(?P<n>{_NUM}|a|an)\s+(?P<unit>hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_PLAIN_RE = re.compile(r"(?<![\w.:])(?P<n>\d+(?:\.\d+)?)(?![\w.]*\d)(?!\w)")


def _to_float(token: str) -> float:
    t = token.lower()
    return float(_NUMBER_WORDS[t]) if t in _NUMBER_WORDS else float(t)


def _op_before(text: str, start: int) -> str | None:
    """The comparison written just before a number (`≤ 2.5`, `at least 2`)."""
    head = text[max(0, start - 24) : start].rstrip().lower()
    for pattern, op in _OP_WORDS:
        if re.search(rf"(?:{pattern})$", head):
            return op
    return None


# Numbers that name things rather than state thresholds: a drug class or virus (`DPP-4`,
# `GLP-1`, `COVID-19`, `U-100`), a label (`Day -8`, `CKD stage 5`, `type 2 diabetes`,
# `Week 12`), or part of a unit (`10^9/L`, `mL/min/1.73 m2`). They are blanked out before the
# text is read for numbers.
_NAME_NUMBERS = re.compile(
    r"(?<![\w-])[A-Za-z][A-Za-z]*[-‐–]\d+[A-Za-z0-9]*"
    r"|\b(?:day|week|visit|cycle|stage|type|phase|class|part|cohort|period|step|lead|arm|"
    r"dose level|level)\s*[-−–]?\s*\d+(?:\.\d+)?[a-z]?\b"
    r"|(?:[x×]\s*)?10\s*(?:\^|\*\*|\*)\s*-?\d+|(?:[x×]\s*)?10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+"
    r"|/\s*\d+(?:\.\d+)?\s*(?:m2|m²|m\^2)?",
    re.IGNORECASE,
)


def _blank_names(text: str) -> str:
    return _NAME_NUMBERS.sub(lambda m: " " * len(m.group(0)), text)


def _text_facts(text: str) -> list[_Fact]:
    text = _blank_names(text)
    facts: list[_Fact] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _LIMIT_RE.finditer(text):
        lim = m.group("lim").upper()
        limit = "ULN" if lim.startswith(("ULN", "UPPER")) else "LLN"
        facts.append(
            _Fact(
                "limit",
                _to_float(m.group("n")),
                limit=limit,
                op=_op_before(text, m.start()),
                shown=m.group(0),
            )
        )
        taken.append(m.span())
    for m in _RANGE_RE.finditer(text):
        if not free(*m.span()):
            continue
        a, b = _to_float(m.group("a")), _to_float(m.group("b"))
        if a >= b:
            continue
        unit = m.group("unit")
        facts.append(
            _Fact(
                "range",
                a,
                high=b,
                unit=unit.lower().rstrip("s") if unit else None,
                shown=m.group(0).strip(),
            )
        )
        taken.append(m.span())
    for m in _DURATION_RE.finditer(text):
        if not free(*m.span()):
            continue
        facts.append(
            _Fact(
                "duration",
                _to_float(m.group("n")),
                unit=m.group("unit").lower().rstrip("s"),
                op=_op_before(text, m.start()),
                shown=m.group(0),
            )
        )
        taken.append(m.span())
    for m in _PLAIN_RE.finditer(text):
        if not free(*m.span()):
            continue
        facts.append(
            _Fact("plain", float(m.group("n")), op=_op_before(text, m.start()), shown=m.group(0))
        )
    return facts


def _attested_only(e: Expr) -> bool:
    if isinstance(e, Not):
        return _attested_only(e.operand)
    return isinstance(e, Attested)


def _expr_facts(e: Expr | None, out: list[_Fact]) -> None:  # noqa: C901 - one case per node
    if e is None:
        return
    if isinstance(e, ex.Defined):
        _expr_facts(e.body, out)
    elif isinstance(e, (ex.Arithmetic, ex.Power, ex.Call, ex.TableValue, ex.Lookup)):
        for part in _numbers_of(e):
            out.append(part)
    elif isinstance(e, (And, Or)):
        for x in e.operands:
            _expr_facts(x, out)
    elif isinstance(e, Not):
        _expr_facts(e.operand, out)
    elif isinstance(e, Compare):
        left, right, op = e.left, e.right, e.op
        if not _is_operand(left) and _is_operand(right):
            left, right, op = right, left, _flip(op)
        _expr_facts(left, out)
        if isinstance(right, RelativeLimit):
            out.append(
                _Fact(
                    "limit",
                    right.multiple,
                    limit=right.limit.value,
                    op=op.value,
                    shown=f"{op_symbol(op.value)} {num(right.multiple)} × {right.limit.value}",
                )
            )
        elif isinstance(right, QuantityLiteral):
            q = right.quantity
            out.append(
                _Fact(
                    "quantity",
                    q.value,
                    unit=q.unit,
                    op=op.value,
                    shown=f"{op_symbol(op.value)} {quantity_display(q.value, q.unit)}",
                )
            )
        else:
            _expr_facts(right, out)
    elif isinstance(e, InRange):
        _expr_facts(e.operand, out)
        out.append(
            _Fact("range", e.low, high=e.high, shown=f"in {num(e.low)}..{num(e.high)}")
        )
    elif isinstance(e, InSet):
        _expr_facts(e.operand, out)
    elif isinstance(e, Test):
        _expr_facts(e.operand, out)
    elif isinstance(e, (Aggregate, Count, LogReduction, Statistic, CountDistinct)):
        _selection_facts(e.selection, out)
    elif isinstance(e, Continuous):
        _selection_facts(e.selection, out)
        _duration_fact(e.duration, out, None)
        if e.gap is not None:
            _duration_fact(e.gap, out, None)
    elif isinstance(e, Exists):
        _selection_facts(e.selection, out)
        if e.lasting is not None:
            _duration_fact(e.lasting.duration, out, e.lasting.op.value)
    elif isinstance(e, Consecutive):
        _expr_facts(e.threshold, out)
        out.append(_Fact("plain", float(e.count), shown=f"{e.count} consecutive"))
    elif isinstance(e, LogRise):
        out.append(_Fact("plain", e.logs, op=e.op.value, shown=f"{num(e.logs)} log"))
        out.append(_Fact("plain", float(e.count), shown=f"{e.count} consecutive"))


def _numbers_of(e: Expr) -> list[_Fact]:
    """The numbers written in a computed value (`0.5 * max_dose[drug]`, `140 - age`) and its
    inputs' windows."""
    out: list[_Fact] = []
    if isinstance(e, QuantityLiteral):
        q = e.quantity
        out.append(_Fact("quantity", q.value, unit=q.unit,
                         shown=quantity_display(q.value, q.unit)))
    elif isinstance(e, ex.Arithmetic):
        out += _numbers_of(e.left) + _numbers_of(e.right)
    elif isinstance(e, ex.Power):
        out += _numbers_of(e.base)
        out.append(_Fact("plain", e.exponent, shown=f"^ {num(e.exponent)}"))
    elif isinstance(e, ex.Call):
        for a in e.arguments:
            out += _numbers_of(a.value)
    elif isinstance(e, (Aggregate, Count, LogReduction, ex.Statistic, ex.CountDistinct)):
        _selection_facts(e.selection, out)
    return out


def _selection_facts(sel: Selection, out: list[_Fact]) -> None:
    t = sel.temporal
    if isinstance(t, Within):
        _duration_fact(t.duration, out, None)
    elif isinstance(t, ex.WithinLongest):
        for x in t.lengths:
            if isinstance(x, Duration):
                _duration_fact(x, out, None)
            else:
                if not (x.table is not None and x.factor == 1):  # `washout[drug]`: no number
                    out.append(_Fact("plain", x.factor, shown=f"{num(x.factor)} ×"))
                if isinstance(x, ex.TableDuration):  # the table's durations, as the text may
                    for _, value in x.rows:          # list them ("orlistat 2 weeks")
                        if isinstance(value, ex.QuantityLiteral) and value.quantity.unit:
                            q = value.quantity
                            amount = x.factor * q.value
                            word = _UCUM_TIME.get(q.unit or "")
                            shown = (duration_text(Duration(amount, _TIME_UNITS[word])) if word
                                     else f"{num(amount)} {q.unit}")
                            out.append(_Fact("quantity", amount, unit=q.unit, shown=shown))
    _expr_facts(sel.where, out)


def _duration_fact(d: Duration, out: list[_Fact], op: str | None) -> None:
    out.append(
        _Fact("duration", d.amount, unit=d.unit.value, op=op, shown=duration_text(d))
    )


def _days(value: float, unit: str | None, calendar: Calendar) -> float | None:
    if unit is None or unit not in _TIME_UNITS:
        return None
    return calendar.days(value, _TIME_UNITS[unit])


def _same_op(text_op: str | None, expr_op: str | None) -> bool:
    if text_op is None or expr_op is None:
        return True
    return text_op == expr_op


def _matches(t: _Fact, x: _Fact, calendar: Calendar) -> bool:
    if t.kind == "limit":
        return x.kind == "limit" and x.limit == t.limit and x.value == t.value
    if t.kind == "range":
        if x.kind == "range":
            return x.value == t.value and x.high == t.high
        return False
    if t.kind == "duration":
        if x.kind == "quantity" and x.unit in _UCUM_TIME:
            x = attrs.evolve(x, kind="duration", unit=_UCUM_TIME[x.unit])
        if x.kind != "duration":
            return False
        if x.unit == t.unit and x.value == t.value:
            return True
        a, b = _days(t.value, t.unit, calendar), _days(x.value, x.unit, calendar)
        return a is not None and b is not None and abs(a - b) < 1e-9
    # plain number: any number of the expression with that value
    if x.kind == "range":
        return t.value in (x.value, x.high)
    return x.value == t.value


def check_text_vs_expr(
    criterion: Criterion, calendar: Calendar = DEFAULT_CALENDAR, trial: Trial | None = None
) -> list[Finding]:
    """Numbers in the criterion's text that its expression does not state the same way.

    Each number of the text (a multiple of ULN or LLN, a range `1-2`, a duration `one month`,
    a plain number) must appear in the expression with the same value (durations compared in
    days through `calendar`) and, where the text writes a comparison (`≤`, `at least`), with the
    same comparison. Numbers of the expression that the text does not mention are not findings:
    expressions are routinely more precise than their words (a look-back window, say).

    Numbers that name things (`DPP-4`, `Day -8`, `CKD stage 5`, `10^9/L`) are not read as
    thresholds; a criterion left to the investigator (`attested`) is not checked, since the
    investigator confirms its words; with `trial`, a definition the criterion uses counts with
    its expression. Each finding is reported once.
    """
    if not criterion.text or _attested_only(criterion.expr):
        return []
    texts = _text_facts(criterion.text)
    exprs: list[_Fact] = []
    expr = criterion.expr
    if trial is not None and (trial.definitions or trial.tables):
        from protocol.resolve import resolve

        expr = resolve(expr, trial)
    _expr_facts(expr, exprs)
    findings: list[Finding] = []
    for t in texts:
        matched = [x for x in exprs if _matches(t, x, calendar)]
        # a range in words may be the two ends of a pair of comparisons
        if not matched and t.kind == "range":
            lows = [x for x in exprs if x.kind != "range" and x.value == t.value]
            highs = [x for x in exprs if x.kind != "range" and x.value == t.high]
            if lows and highs:
                continue
        if not matched:
            if t.kind == "plain" and t.value > 1900:  # a year, not a threshold
                continue
            same_kind = [x for x in exprs if x.kind == t.kind or (t.kind == "plain") or (
                t.kind == "duration" and x.kind == "quantity" and x.unit in _UCUM_TIME)]
            if t.kind == "limit":
                same_kind = [x for x in exprs if x.kind == "limit" and x.limit == t.limit]
            if t.kind == "plain" and not same_kind:
                continue
            shown = tuple(x.shown for x in same_kind)
            where = f"; the expression has {', '.join(shown)}" if shown else (
                "; the expression has no such number"
            )
            findings.append(
                Finding(
                    criterion.id,
                    f"the text says '{t.shown}'{where}",
                    t.shown,
                    shown,
                )
            )
            continue
        if t.op is not None and not any(_same_op(t.op, x.op) for x in matched):
            ops = sorted({op_symbol(x.op) for x in matched if x.op})
            findings.append(
                Finding(
                    criterion.id,
                    f"the text says {op_symbol(t.op)} {t.shown}; the expression compares with "
                    f"{', '.join(ops)}",
                    t.shown,
                    tuple(x.shown for x in matched),
                )
            )
    unique: list[Finding] = []
    for f in findings:  # a number the text repeats is one finding
        if all(f.message != g.message for g in unique):
            unique.append(f)
    return unique


