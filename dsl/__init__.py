"""The protocol language: grammar, parser to the typed model, and formatter.

    >>> trial = parse_file("examples/nct06802718/protocol.trial")

Only this package knows the syntax; everything else takes a `protocol.Trial`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from dsl.names import NameIndex, index_tree
from dsl.parser import Comment, parse_tree
from dsl.transformer import ModelBuilder
from dsl.walk import transform
from protocol.errors import ProtocolError, ProtocolSemanticError
from protocol.source import Span
from protocol.trial import Trial

__all__ = ["Comment", "ParsedProtocol", "Reading", "parse", "parse_file", "parse_source",
           "read_source"]


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
    return read_source(text, filename).parsed_or_raise()


class Reading:
    """Protocol text read as far as it goes, for tools that must not stop at the first error
    (the language server): the parsed protocol or the errors that stopped it, and the name
    index (dsl.names), made on first use, whenever the text parses."""

    def __init__(self, text: str, filename: str, parsed: ParsedProtocol | None,
                 error: ProtocolError | None, tree: Any = None):
        self.text = text
        self.filename = filename
        self.parsed = parsed
        self.error = error
        self._tree = tree
        self._names: NameIndex | None = None

    def parsed_or_raise(self) -> ParsedProtocol:
        if self.error is not None:
            raise self.error
        assert self.parsed is not None
        return self.parsed

    @property
    def names(self) -> NameIndex | None:
        """Where each name is declared and used; None when the text does not parse."""
        if self._names is None and self._tree is not None:
            self._names = index_tree(self._tree, self.filename)
        return self._names


def read_source(text: str, filename: str = "<string>") -> Reading:
    """Parse protocol text without raising: a Reading with the protocol, or with the error."""
    with _collector_paused():
        return _read(text, filename)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a text is read. Parsing makes hundreds of thousands
    of small objects (tokens, trees, model nodes), none of them in a reference cycle; the
    collector, triggered every 700 allocations, walks all the live ones each time it reaches
    the older generations, which made parsing slower per line the longer the file (16,000
    lines: 1.8x the time per line of 250; without it, flat) and a 1,000-line file 40% slower.
    Freed objects are still freed at once by reference counting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(text: str, filename: str) -> Reading:
    try:
        result = parse_tree(text, filename)
    except ProtocolError as exc:
        return Reading(text, filename, None, exc)
    builder = ModelBuilder(filename)
    try:
        trial = transform(builder, result.tree, text, filename)
    except ProtocolError as exc:
        return Reading(text, filename, None, exc)
    if builder.diagnostics:
        return Reading(text, filename, None, ProtocolSemanticError(builder.diagnostics, text),
                       result.tree)
    parsed = ParsedProtocol(trial, result.comments, text, filename, builder.statement_spans)
    return Reading(text, filename, parsed, None, result.tree)


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
