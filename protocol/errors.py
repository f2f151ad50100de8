"""Diagnostics and the one exception family users ever see from trialcode."""

from __future__ import annotations

import enum

import attrs

from protocol.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Diagnostic:
    """One finding about a protocol: where, what, and (when obvious) what to do about it."""

    severity: Severity
    message: str
    span: Span | None = None
    hint: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self, source: str | None = None) -> str:
        """Render as `FILE:LINE:COL: error: message`, the source line, a `~~~^` marker and a hint."""
        where = f"{self.span}: " if self.span else ""
        lines = [f"{where}{self.severity.value}: {self.message}"]
        if self.span is not None and source is not None:
            lines.extend(_excerpt(source, self.span))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _excerpt(source: str, span: Span) -> list[str]:
    text_lines = source.splitlines()
    if not 1 <= span.line <= len(text_lines):
        return []
    line = text_lines[span.line - 1].expandtabs(1)
    start = span.column - 1
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column)
    else:
        width = max(1, len(line.rstrip()) - start)
    width = min(width, max(1, len(line) - start)) if start < len(line) else 1
    marker = " " * start + "~" * (width - 1) + "^"
    return [f"  {line}", f"  {marker}"]


class ProtocolError(Exception):
    """A protocol file could not be used. Carries every diagnostic found, each with its span."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], source: str | None = None):
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render(self.source) for d in self.diagnostics)

    @property
    def span(self) -> Span | None:
        return self.diagnostics[0].span if self.diagnostics else None


class ProtocolSyntaxError(ProtocolError):
    """The text does not follow the grammar."""


class ProtocolSemanticError(ProtocolError):
    """The text parses but does not make sense: undefined names, unit mismatches, cycles."""
