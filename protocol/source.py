"""Source positions. Every model node may carry a span; spans never take part in equality."""

from __future__ import annotations

from typing import Any

import attrs


@attrs.frozen
class Span:
    """A region of a protocol file: 1-based line and column, 0-based character offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def span_field() -> Any:
    """An optional, keyword-only span attribute kept out of equality, hashing and repr."""
    return attrs.field(default=None, eq=False, hash=False, repr=False, kw_only=True)
