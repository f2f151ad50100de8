"""Checks of single tokens that the grammar's regular expressions cannot make: a string's
escapes, a number's range, and characters that make text display as something else.

They run on every token as the parser reads it (dsl/parser.py) and never stop the reading:
every problem of a file is reported in one run, with the syntax error, if any, that follows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from lark import Token

from protocol.errors import Diagnostic, Severity
from protocol.safe_text import BIDI_CONTROLS, describe_char
from protocol.source import Span

# The escapes a string may use; any other backslash is an error rather than a silent guess
# (`"\q"` read as `q` would lose the backslash the author may have meant).
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}

# Numbers are read as floats: one beyond their range (1.8e308) would become infinity.
_NUMBER_TYPES = frozenset({"NUMBER", "SIGNED_NUMBER"})


def token_problems(token: Token, filename: str) -> Iterator[Diagnostic]:
    """What is wrong with one token (STRING, NUMBER, SIGNED_NUMBER or COMMENT), if anything."""
    kind = token.type
    if kind == "STRING":
        yield from _string_problems(token, filename)
    elif kind in _NUMBER_TYPES:
        if not math.isfinite(float(token)):
            yield Diagnostic(
                Severity.ERROR, f"the number {_short(str(token))} is out of range",
                _span(token, filename, 0, len(token)),
                "numbers must be below 1.8e308 in size; is a digit or an exponent too many?")
    elif kind == "COMMENT":
        yield from _hidden_characters(token, filename, "a comment")


def unquote(body: str) -> str:
    """The text of a string literal's body (between the quotes), its escapes replaced. The
    body has been checked by `token_problems`: an unknown escape is kept as written."""
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in ESCAPES:
            out.append(ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _string_problems(token: Token, filename: str) -> Iterator[Diagnostic]:
    text = str(token)
    i = text.find("\\", 1)
    while 0 < i < len(text) - 1:
        escaped = text[i + 1]
        if escaped not in ESCAPES:
            shown = describe_char(escaped) if not escaped.isprintable() else f"'\\{escaped}'"
            yield Diagnostic(
                Severity.ERROR, f"unknown escape {shown} in a string", _span(token, filename, i, 2),
                "a string knows \\n, \\t, \\\" and \\\\; write \\\\ for a backslash")
        i = text.find("\\", i + 2)
    yield from _hidden_characters(token, filename, "a string")


def _hidden_characters(token: Token, filename: str, where: str) -> Iterator[Diagnostic]:
    """Control characters (but tab) and bidirectional controls: text that would display as
    something other than what it is (an ESC sequence a terminal obeys; the "Trojan Source"
    reordering of CVE-2021-42574)."""
    text = str(token)
    if text.endswith("\r"):  # a comment on a line ended by CR LF
        text = text[:-1]
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch in BIDI_CONTROLS:
            yield Diagnostic(
                Severity.ERROR,
                f"{describe_char(ch)} in {where}: it reorders how the text around it is shown",
                _span(token, filename, i, 1),
                "delete it (right-to-left text needs no control characters; the marks "
                "U+200E and U+200F are allowed)")
        elif (code < 0x20 and ch != "\t") or 0x7F <= code < 0xA0:
            yield Diagnostic(
                Severity.ERROR, f"the control character {describe_char(ch)} in {where}",
                _span(token, filename, i, 1),
                "delete it; a terminal would act on it and a document would not show it")


def _short(text: str) -> str:
    return f"'{text}'" if len(text) <= 30 else f"'{text[:12]}...{text[-12:]}' ({len(text)} characters)"


def _span(token: Token, filename: str, offset: int, width: int) -> Span:
    """The span of `width` characters at `offset` in a one-line token."""
    line = token.line or 1
    column = (token.column or 1) + offset
    start = (token.start_pos or 0) + offset
    return Span(filename, line, column, line, column + width, start, start + width)
