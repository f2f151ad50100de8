"""Named definitions and lookup tables: stated once in the protocol, used by name.

`define adequate_liver_function = ...` names a condition or a value; criteria and stopping
rules use it by its bare name, and the document states it once and refers to it. A `table`
gives values per key (the maximum approved dose of each drug), read with `table[key]`.
"""

from __future__ import annotations

import attrs

from protocol.expr import Expr, QuantityLiteral, StringLiteral
from protocol.source import Span, span_field


@attrs.frozen
class Definition:
    """`define NAME ["LABEL"] = EXPRESSION`: evaluated where it is used (with that criterion's
    or rule's data cut), as if its expression were written there."""

    name: str
    expr: Expr
    label: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class TableRow:
    """One row: `"glimepiride": 8 mg`. Keys match text without regard to case."""

    key: str
    value: QuantityLiteral | StringLiteral
    span: Span | None = span_field()


@attrs.frozen
class Table:
    """`table NAME ["LABEL"] { "KEY": VALUE ... }`."""

    name: str
    rows: tuple[TableRow, ...]
    label: str | None = None
    span: Span | None = span_field()

    def row(self, key: str) -> TableRow | None:
        folded = key.strip().casefold()
        return next((r for r in self.rows if r.key.strip().casefold() == folded), None)
