"""Diagnostics and the one exception family users ever see from trialcode."""

from __future__ import annotations

import enum

import attrs

from protocol.safe_text import one_line, terminal_safe
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
        # a message may quote the protocol's text: nothing in it may act on a terminal
        return terminal_safe("\n".join(lines))


def _excerpt(source: str, span: Span) -> list[str]:
    # lines as the parser counts them: split at "\n" only (str.splitlines also splits at a
    # form feed or U+2028, which would show another line than the one meant)
    text_lines = source.split("\n")
    if not 1 <= span.line <= len(text_lines):
        return []
    raw = text_lines[span.line - 1].rstrip("\r")
    start = span.column - 1
    if span.end_line == span.line:
        width = max(1, span.end_column - span.column)
    else:
        width = max(1, len(raw.rstrip()) - start)
    width = min(width, max(1, len(raw) - start)) if start < len(raw) else 1
    # control and bidirectional characters shown as escapes (\x1b, <U+202E>), never obeyed,
    # with the marker moved under what is shown
    line = _visible(raw)
    shown_start = len(_visible(raw[:start]))
    shown_width = max(1, len(_visible(raw[start:start + width])))
    marker = " " * shown_start + "~" * (shown_width - 1) + "^"
    return [f"  {line}", f"  {marker}"]


def _visible(text: str) -> str:
    return one_line(text.expandtabs(1))


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
