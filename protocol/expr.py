"""The expression language of criteria and rules, as a typed tree.

Evaluation is three-valued (true, false, unknown) and lives in engine/; this module only says
what an expression is. Every node is frozen; spans are carried but never compared.
"""

from __future__ import annotations

import enum
from typing import Any, Union

import attrs

from protocol.source import Span, span_field
from protocol.timing import Duration
from protocol.units import Quantity


class CompareOp(enum.Enum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="


class Limit(enum.Enum):
    """The ends of a patient's own reference range for a lab result."""

    ULN = "ULN"
    LLN = "LLN"


class AggregateFn(enum.Enum):
    LATEST = "latest"
    FIRST = "first"
    LOWEST = "lowest"
    HIGHEST = "highest"


class StatisticFn(enum.Enum):
    SUM = "sum"
    MEAN = "mean"


class Direction(enum.Enum):
    BEFORE = "before"
    AFTER = "after"


class TestKind(enum.Enum):
    DETECTABLE = "detectable"
    UNDETECTABLE = "undetectable"
    MISSING = "missing"
    PRESENT = "present"
    NORMAL = "within normal range"  # LLN <= value <= ULN, the record's own range
    ABNORMAL = "outside normal range"


class ArithOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"


class Quantifier(enum.Enum):
    """How a panel's members combine: `all of` (each member) or `any of` (at least one)."""

    ALL = "all"
    ANY = "any"


# ---- literals ------------------------------------------------------------------------------


@attrs.frozen
class QuantityLiteral:
    """A number, with a unit when the protocol gives one: `3`, `120 U/L`, `50 years`."""

    quantity: Quantity
    span: Span | None = span_field()


@attrs.frozen
class StringLiteral:
    value: str
    span: Span | None = span_field()


@attrs.frozen
class BoolLiteral:
    value: bool
    span: Span | None = span_field()


@attrs.frozen
class RelativeLimit:
    """A multiple of the patient's own reference limit for the record compared: `2.5 x ULN`."""

    multiple: int | float
    limit: Limit
    span: Span | None = span_field()


Literal = Union[QuantityLiteral, StringLiteral, BoolLiteral]


@attrs.frozen
class Attested:
    """The investigator's confirmation of the criterion it appears in.

    Used for criteria no data can decide (consent, proximity, a clinical judgement). It is
    true unless the patient's data hold an eligibility exception for that criterion (an SDTM
    IE record, or an `eligibility_exception` event whose `criterion` attribute names it), in
    which case an inclusion criterion is not met and an exclusion criterion applies.
    """

    span: Span | None = span_field()


@attrs.frozen
class Name:
    """A patient attribute (`age`, `sex`, `arm`) or, inside `where`, an attribute of the event."""

    name: str
    span: Span | None = span_field()


# ---- anchors and temporal filters ----------------------------------------------------------


@attrs.frozen
class NamedAnchor:
    """A declared anchor event (`randomization`) or a visit, by name."""

    name: str
    span: Span | None = span_field()


@attrs.frozen
class DoseAnchor:
    """The first or last dose of an intervention: `last dose of peg_ifn`."""

    which: AggregateFn  # FIRST or LATEST (written `last`)
    intervention: str
    span: Span | None = span_field()


@attrs.frozen
class EventAnchor:
    """The date of the first/latest event of a kind: `before first remission`."""

    which: AggregateFn
    kind: str
    span: Span | None = span_field()


@attrs.frozen
class PeriodDoseAnchor:
    """The first or last dose of a study period: `first dose of period 2`.

    A period's own visits are timed from its first dose; this names it from outside the
    periods block (a follow-up visit `at 7 days after last dose of period 2`). Periods are
    numbered from 1, in the order of the arms' sequences."""

    which: AggregateFn  # FIRST or LATEST (written `last`)
    period: int
    span: Span | None = span_field()


AnchorRef = Union[NamedAnchor, DoseAnchor, EventAnchor, PeriodDoseAnchor]


@attrs.frozen
class Within:
    """`within 14 days before randomization`: the closed interval [anchor - 14 d, anchor].

    `strict` (`strictly within 21 days before X`) excludes the far bound, the one 21 days
    away: less than 21 days before X. The anchor's own bound stays included. A duration in
    hours or minutes compares times of day (engine.clock); any other, dates.
    """

    duration: Duration
    direction: Direction
    anchor: AnchorRef
    strict: bool = False
    span: Span | None = span_field()


@attrs.frozen
class DataDuration:
    """`5 x half_life`: a multiple of a duration that each record carries in its attribute
    (`half_life`, a number in the attribute's declared time unit); with `table`
    (`5 x half_lives[drug]`), the protocol table's duration for the record's attribute."""

    factor: int | float
    attribute: str
    table: str | None = None
    span: Span | None = span_field()


def _data_lengths(instance: Any, attribute: Any, lengths: tuple[Any, ...]) -> None:
    # One fixed duration alone is a plain `Within`: the two would print alike.
    if not lengths or (len(lengths) == 1 and isinstance(lengths[0], Duration)):
        raise ValueError("a window computed from data needs a length from the data, or "
                         "several lengths")


@attrs.frozen
class WithinLongest:
    """`within 90 days or 5 x half_life whichever is longer before day_1`: a window whose
    length is worked out for each record, the longest of its lengths (fixed durations, or
    durations the record carries). With one length, `within washout[drug] before day_1`, the
    window is that length. Counted in whole days, as `Within` in days."""

    lengths: tuple[Duration | DataDuration | TableDuration, ...] = attrs.field(
        validator=_data_lengths)
    direction: Direction
    anchor: AnchorRef
    span: Span | None = span_field()


@attrs.frozen
class Relative:
    """`before X` (on or before X's day), `strictly before X`, `after X`, `strictly after X`.

    Data are dated to the day, so events on the anchor's own day cannot be ordered against it;
    the plain forms include that day and the `strictly` forms exclude it.
    """

    direction: Direction
    anchor: AnchorRef
    strict: bool = False
    span: Span | None = span_field()


@attrs.frozen
class OngoingAt:
    """An interval event (condition, AE) that started on or before the anchor and had not ended."""

    anchor: AnchorRef
    span: Span | None = span_field()


Temporal = Union[Within, WithinLongest, Relative, OngoingAt]


# ---- selections over a patient's events ----------------------------------------------------


@attrs.frozen
class Selection:
    """The events of one kind, optionally restricted in time and by a condition on each event."""

    kind: str
    temporal: Temporal | None = None
    where: Expr | None = None
    span: Span | None = span_field()


@attrs.frozen
class Aggregate:
    """One event's value: `latest alt within 14 days before randomization`."""

    fn: AggregateFn
    selection: Selection
    span: Span | None = span_field()


@attrs.frozen
class Lasting:
    """A condition on an interval event's duration: `lasting > 14 days`."""

    op: CompareOp
    duration: Duration
    span: Span | None = span_field()


@attrs.frozen
class Exists:
    """`any KIND ...`: true if at least one selected event exists (false if none is recorded)."""

    selection: Selection
    lasting: Lasting | None = None
    span: Span | None = span_field()


@attrs.frozen
class Count:
    """`count(KIND ...)`: the number of selected events."""

    selection: Selection
    span: Span | None = span_field()


@attrs.frozen
class LogReduction:
    """`log_reduction(marker ...)`: log10(first selected value / latest selected value)."""

    selection: Selection
    span: Span | None = span_field()


@attrs.frozen
class Statistic:
    """`sum(volume of blood_donation within 12 months before screening)`, `mean(qtcf ...)`:
    the sum or the mean of a number over the selected records, in one unit: each record's
    value, or (`volume of ...`) its attribute. Unknown when a selected record lacks it."""

    fn: StatisticFn
    selection: Selection
    attribute: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class CountDistinct:
    """`count(distinct term of con_med ...)`: how many different values an attribute takes
    over the selected records (text compared without regard to case or surrounding spaces)."""

    attribute: str
    selection: Selection
    span: Span | None = span_field()


@attrs.frozen
class Continuous:
    """`continuous metformin where dose >= 1500 mg for 3 months before day_1 with unchanged dose
    allowing gaps of 7 days`: the selected records cover the whole period [anchor - duration,
    anchor] but for gaps of at most `gap` (none when not given), and, with `unchanged`, all
    have the same value of that attribute. `selection` has no temporal filter: the period is
    the construct's own."""

    selection: Selection
    duration: Duration
    anchor: AnchorRef
    unchanged: str | None = None
    gap: Duration | None = None
    span: Span | None = span_field()


# ---- comparisons and logic -----------------------------------------------------------------


@attrs.frozen
class Compare:
    op: CompareOp
    left: Expr
    right: Expr
    span: Span | None = span_field()


@attrs.frozen
class InRange:
    """`x in 1..2`: low <= x <= high, both ends inclusive. With a unit (`in 18.5..32 kg/m2`)
    the bounds are converted into the value's unit before comparing."""

    operand: Expr
    low: int | float
    high: int | float
    unit: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class InSet:
    """`x in ("CR2", "CR3")`."""

    operand: Expr
    values: tuple[Literal, ...]
    span: Span | None = span_field()


@attrs.frozen
class Test:
    """`x is detectable`, `x is undetectable`, `x is missing`, `x is present`."""

    operand: Expr
    test: TestKind
    span: Span | None = span_field()


@attrs.frozen
class And:
    operands: tuple[Expr, ...]
    span: Span | None = span_field()


@attrs.frozen
class Or:
    operands: tuple[Expr, ...]
    span: Span | None = span_field()


@attrs.frozen
class Not:
    operand: Expr
    span: Span | None = span_field()


# ---- sample-sequence conditions (stopping rules) -------------------------------------------


@attrs.frozen
class Consecutive:
    """`alt > 3 x ULN on 2 consecutive samples`: the comparison holds for K samples in a row."""

    kind: str
    op: CompareOp
    threshold: Expr
    count: int
    span: Span | None = span_field()


@attrs.frozen
class LogRise:
    """`mrd rises > 1 log from lowest [on K consecutive samples]`.

    For each sample, the rise is log10(value / lowest earlier value); the condition holds when
    the rise compares true on K consecutive samples (K = 1 when not stated).
    """

    kind: str
    op: CompareOp
    logs: int | float
    count: int = 1
    span: Span | None = span_field()


# ---- derived values ------------------------------------------------------------------------


@attrs.frozen
class Arithmetic:
    """`a + b`, `a - b`, `a * b`, `a / b` over values, units carried: `+`/`-` need operands of
    one dimension (the right is converted into the left's unit), `*`/`/` combine units. A
    value computed from data is known only when every input is (three-valued)."""

    op: ArithOp
    left: Expr
    right: Expr
    span: Span | None = span_field()


@attrs.frozen
class Power:
    """`x ^ 2`. The exponent is a number; a fractional exponent needs a dimensionless base
    (`(latest weight / 1 kg) ^ 0.425`), since a unit cannot be raised to it."""

    base: Expr
    exponent: int | float
    span: Span | None = span_field()


@attrs.frozen
class Argument:
    """One argument of a call: positional (`name` None) or named (`weight = latest weight`)."""

    value: Expr
    name: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Call:
    """A function of values: `ln`, `log10`, `exp`, `abs`, `min`, `max` (protocol.formulas
    MATH_FUNCTIONS), or a built-in clinical formula by name (`cockcroft_gault(...)`,
    protocol.formulas.FORMULAS), whose inputs are named or given in order."""

    function: str
    arguments: tuple[Argument, ...]
    span: Span | None = span_field()


@attrs.frozen
class AgeAt:
    """`age at consent`: the patient's age at the date of an anchor (not the reference date)."""

    anchor: AnchorRef
    span: Span | None = span_field()


@attrs.frozen
class Lookup:
    """`max_daily_dose[drug]`: the value of a protocol table (`table ...`) for a key."""

    table: str
    key: Expr
    span: Span | None = span_field()


@attrs.frozen
class Panel:
    """`all of latest (alt, ast, bilirubin) within 14 days before randomization`: one value
    per member, each selected alike; a comparison or test of a panel is made for every member
    and joined with `and` (all of) or `or` (any of)."""

    quantifier: Quantifier
    fn: AggregateFn
    kinds: tuple[str, ...]
    temporal: Temporal | None = None
    span: Span | None = span_field()


# ---- resolved references (made by protocol.resolve for the engine, never by the parser) -------


@attrs.frozen
class Defined:
    """A use of a definition (`adequate_liver_function`), with the definition's expression
    resolved in turn."""

    name: str
    body: Expr
    span: Span | None = span_field()


@attrs.frozen
class TableValue:
    """A lookup in a protocol table, with the table's rows: `max_daily_dose[drug]`."""

    table: str
    key: Expr
    rows: tuple[tuple[str, QuantityLiteral | StringLiteral], ...]
    span: Span | None = span_field()


@attrs.frozen
class TableDuration:
    """`5 x half_lives[drug]` with the table's rows: a multiple of the duration the table gives
    for the record's attribute (`drug`)."""

    factor: int | float
    table: str
    attribute: str
    rows: tuple[tuple[str, QuantityLiteral | StringLiteral], ...]
    span: Span | None = span_field()


@attrs.frozen
class UnitAttribute:
    """An event attribute inside `where` whose unit the data dictionary declares
    (`attributes volume in mL`): a number recorded there is read in that unit."""

    name: str
    unit: str
    span: Span | None = span_field()


Expr = Union[
    QuantityLiteral,
    StringLiteral,
    BoolLiteral,
    RelativeLimit,
    Attested,
    Name,
    Aggregate,
    Exists,
    Count,
    LogReduction,
    Statistic,
    CountDistinct,
    Continuous,
    Compare,
    InRange,
    InSet,
    Test,
    And,
    Or,
    Not,
    Consecutive,
    LogRise,
    Arithmetic,
    Power,
    Call,
    AgeAt,
    Lookup,
    Panel,
    Defined,
    TableValue,
    UnitAttribute,
]
