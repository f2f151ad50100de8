"""The protocol language: grammar, parser to the typed model, and formatter.

    >>> trial = parse_file("examples/nct06802718/protocol.trial")

Only this package knows the syntax; everything else takes a `protocol.Trial`.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from dsl.parser import Comment, parse_tree
from dsl.transformer import ModelBuilder
from protocol.errors import ProtocolError, ProtocolSemanticError
from protocol.source import Span
from protocol.trial import Trial

__all__ = ["Comment", "ParsedProtocol", "parse", "parse_file", "parse_source"]


@attrs.frozen
class ParsedProtocol:
    """A parsed file: the model, its comments (for the formatter) and the text (for messages)."""

    trial: Trial
    comments: tuple[Comment, ...]
    text: str
    filename: str
    statement_spans: dict[str, Span] = attrs.field(factory=dict, eq=False)


def parse_source(text: str, filename: str = "<string>") -> ParsedProtocol:
    """Parse protocol text. Raises ProtocolSyntaxError, or ProtocolSemanticError for values
    the grammar accepts but the language does not (an unknown arm type, say)."""
    result = parse_tree(text, filename)
    builder = ModelBuilder(filename)
    trial = builder.transform(result.tree)
    if builder.diagnostics:
        raise ProtocolSemanticError(builder.diagnostics, text)
    return ParsedProtocol(trial, result.comments, text, filename, builder.statement_spans)


def parse(text: str, filename: str = "<string>") -> Trial:
    """Parse protocol text into a Trial (syntax only; see `protocol.check` for meaning)."""
    return parse_source(text, filename).trial


def parse_file(path: str | Path) -> Trial:
    """Parse a protocol file into a Trial."""
    return read_file(path).trial


def read_file(path: str | Path) -> ParsedProtocol:
    """Read and parse a protocol file, keeping comments and text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        from protocol.errors import Diagnostic, Severity

        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProtocolError([Diagnostic(Severity.ERROR, f"{path}: cannot read: {reason}")]) from None
    return parse_source(text, str(path))
