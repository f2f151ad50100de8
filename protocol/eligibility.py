"""Eligibility criteria: the author's words and the computable expression, side by side."""

from __future__ import annotations

import attrs

from protocol.expr import Expr
from protocol.source import Span, span_field
from protocol.vocab import CriterionCategory, MissingPolicy


@attrs.frozen
class Criterion:
    """One criterion. `missing` overrides what an unknown result means for this criterion."""

    id: str
    category: CriterionCategory
    expr: Expr
    text: str | None = None
    missing: MissingPolicy | None = None
    span: Span | None = span_field()


@attrs.frozen
class Eligibility:
    """All criteria, and the anchor at which eligibility is judged (only data by then count)."""

    assessed_at: str | None = None
    inclusion: tuple[Criterion, ...] = ()
    exclusion: tuple[Criterion, ...] = ()
    span: Span | None = span_field()

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return self.inclusion + self.exclusion
