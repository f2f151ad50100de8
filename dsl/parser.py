"""Reading protocol text: the lark grammar, the newline rule, and located syntax errors.

The grammar is built once. Newlines end statements only where the grammar accepts an end of
statement and the next line does not start with `and`/`or`; everywhere else they are layout.
That is decided here, by feeding tokens one at a time to lark's interactive LALR parser and
asking its table whether a newline would be shifted, so the grammar itself stays free of layout
rules and parsing stays linear in the file's length.
"""

from __future__ import annotations

import difflib
import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import lark
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import BasicLexer, LexerThread, UnlessCallback
from lark.parsers.lalr_analysis import Shift
from lark.parsers.lalr_interactive_parser import InteractiveParser

from protocol.errors import Diagnostic, ProtocolSyntaxError, Severity
from protocol.source import Span

GRAMMAR_FILE = Path(__file__).with_name("protocol.lark")

# Keywords that never begin a statement: a line starting with one continues the previous line.
_CONTINUATION = {"AND", "OR", "UNLESS", "THEN", "WHERE", "LASTING", "WINDOW", "ARMS", "EFFICACY",
                 "FUTILITY", "SAMPLE_SIZE", "STOP", "AT", "ALLOWING", "WITH", "PLUS", "MINUS",
                 "STAR", "SLASH", "CIRCUMFLEX", "IS", "IN"}

# How a terminal is named in an error message.
_TERMINAL_WORDS = {
    "IDENT": "a name",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "SIGNED_NUMBER": "a signed number",
    "DATE": "a date (YYYY-MM-DD)",
    "UCUM": "a `UCUM` unit",
    "COMP_OP": "a comparison (<, <=, >, >=, ==, !=)",
    "PLUS_MINUS": "'+-'",
    "_NL": "a new line",
    "$END": "the end of the file",
}


@attrs.frozen
class Comment:
    """A `#` comment, kept so that the formatter can put it back."""

    text: str
    line: int
    column: int
    own_line: bool


@attrs.frozen
class ParseResult:
    tree: Tree[Token]
    comments: tuple[Comment, ...]


@functools.cache
def grammar() -> Lark:
    """The protocol grammar, built once per process.

    Building the LALR tables takes about 0.4 s, a good part of a `trialcode check`; lark keeps
    them in a cache file (`cache_file`) and reads them back in a few milliseconds. The file
    records the grammar's digest, so an edited grammar is built afresh and the file rewritten;
    a cache that cannot be read or written only costs the build."""
    return Lark(
        GRAMMAR_FILE.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=cache_file() or False,
    )


def lex(text: str) -> Iterator[Token]:
    """The tokens of `text`, comments and blanks included (lark's `lex(dont_ignore=True)`,
    with the lexer built once rather than per call, and keywords told from names by a dict)."""
    return LexerThread.from_text(_lexer(), text).lex(None)


class _KeywordLookup:
    """What lark's UnlessCallback does for a name (is `visit` a keyword?) with one dict lookup
    instead of a regular expression of every keyword: a third of the lexer's time."""

    def __init__(self, words: dict[str, str]):
        self.words = words

    def __call__(self, token: Token) -> Token:
        kind = self.words.get(token.value)
        if kind is not None:
            token.type = kind
        return token


@functools.cache
def _lexer() -> BasicLexer:
    lexer = grammar()._build_lexer(dont_ignore=True)
    lexer.scanner  # noqa: B018 - builds the scanner and its keyword callbacks
    for name, callback in list(lexer.callback.items()):
        if isinstance(callback, UnlessCallback):
            terminals = callback.scanner.terminals
            if all(t.pattern.type == "str" and not t.pattern.flags for t in terminals):
                lexer.callback[name] = _KeywordLookup(
                    {t.pattern.value: t.name for t in terminals})
    return lexer


def cache_file() -> str | None:
    """Where the grammar's tables are cached: in the user's own cache folder
    ($XDG_CACHE_HOME/trialcode, else ~/.cache/trialcode; never a shared temporary folder, since
    the file is unpickled), per lark and Python version. None when that folder cannot be made
    or TRIALCODE_NO_CACHE is set."""
    if os.environ.get("TRIALCODE_NO_CACHE", "") not in ("", "0"):
        return None
    home = os.path.expanduser("~")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    if not os.path.isabs(base):  # no home folder known: no cache, rather than one in the cwd
        return None
    folder = Path(base, "trialcode")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return str(folder / f"grammar-lark{lark.__version__}-py{python}.cache")


@functools.cache
def _keywords() -> dict[str, str]:
    """Terminal name -> keyword spelling, for every reserved word of the language."""
    out = {}
    for term in grammar().terminals:
        pattern = term.pattern
        if pattern.type == "str" and pattern.value.replace("_", "").isalnum():
            out[term.name] = pattern.value
    return out


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    for term in grammar().terminals:
        if term.name == terminal:
            return f"'{term.pattern.value}'" if term.pattern.type == "str" else terminal.lower()
    return terminal.lower()


def parse_tree(text: str, filename: str = "<string>") -> ParseResult:
    """Parse protocol text into a lark tree and its comments. Raises ProtocolSyntaxError."""
    lark = grammar()
    comments: list[Comment] = []
    opened: list[Token] = []  # unclosed '{' and '(' for end-of-file messages
    interactive = lark.parse_interactive()
    last: Token | None = None
    try:
        tokens = _significant(lex(text), comments, text)
        pending_newline: Token | None = None
        for token in tokens:
            if token.type == "_NL":
                if pending_newline is None and _accepts(interactive, token):
                    pending_newline = token
                continue
            if pending_newline is not None:
                if token.type not in _CONTINUATION:
                    interactive.feed_token(pending_newline)
                pending_newline = None
            if token.type in ("LBRACE", "LPAR"):
                opened.append(token)
            elif token.type in ("RBRACE", "RPAR") and opened:
                opened.pop()
            interactive.feed_token(token)
            last = token
        if pending_newline is not None and _accepts(interactive, pending_newline):
            interactive.feed_token(pending_newline)
        tree = interactive.feed_eof(last)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text, filename, opened) from None
    except LarkError as exc:  # grammar-level surprises must still be located, not leak
        span = _point(filename, text, last) if last is not None else None
        raise ProtocolSyntaxError([Diagnostic(Severity.ERROR, str(exc), span)], text) from None
    return ParseResult(tree, tuple(comments))


def _accepts(interactive: InteractiveParser, token: Token) -> bool:
    """Whether the parser, in its present state, would shift `token` (after any reductions).

    The LALR table's lookaheads are a superset of what is acceptable (state merging), so the
    reductions the token triggers are simulated on the state stack alone: the value stack (the
    trees built so far) is never touched or copied. Copying the parser instead, as lark's
    interactive `copy()` does, deep-copies every tree built so far at each newline, which made
    parsing quadratic in the file's length."""
    state = interactive.parser_state
    states = state.parse_conf.states
    stack = state.state_stack
    depth = len(stack)  # the simulated stack is stack[:depth] + pushed
    pushed: list[int] = []
    while True:
        top = pushed[-1] if pushed else stack[depth - 1]
        action = states[top].get(token.type)
        if action is None:
            return False
        kind, target = action
        if kind is Shift:
            return True
        size = len(target.expansion)
        if size <= len(pushed):
            del pushed[len(pushed) - size:]
        else:
            depth -= size - len(pushed)
            pushed.clear()
        below = pushed[-1] if pushed else stack[depth - 1]
        pushed.append(states[below][target.origin.name][1])


def _significant(tokens: Iterator[Token], comments: list[Comment], text: str) -> Iterator[Token]:
    line_has_code: set[int] = set()
    for token in tokens:
        if token.type == "COMMENT":
            own = (token.line or 0) not in line_has_code
            comments.append(Comment(str(token), token.line or 0, token.column or 0, own))
        elif token.type.startswith("__IGNORE"):
            continue
        else:
            if token.type != "_NL":
                line_has_code.add(token.line or 0)
            yield token


def _point(filename: str, text: str, token: Token) -> Span:
    return Span(
        filename,
        token.line or 1,
        token.column or 1,
        token.end_line or token.line or 1,
        token.end_column or (token.column or 1) + 1,
        token.start_pos or 0,
        token.end_pos or 0,
    )


def _syntax_error(
    exc: UnexpectedInput, text: str, filename: str, opened: list[Token]
) -> ProtocolSyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        span = Span(filename, exc.line, exc.column, exc.line, exc.column + 1, pos, pos + 1)
        hint = None
        if char in "'’‘“”":
            hint = 'strings are written in straight double quotes: "..."'
        elif char == "`":
            hint = "a unit in backticks must be closed on the same line: `10*9/L`"
        return ProtocolSyntaxError(
            [Diagnostic(Severity.ERROR, f"unexpected character {char!r}", span, hint)], text
        )
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    expected = sorted(exc.expected) if exc.expected else []
    keywords = _keywords()
    if token.type == "$END":
        if opened:
            brace = opened[-1]
            span = _point(filename, text, brace)
            closer = "}" if brace.type == "LBRACE" else ")"
            return ProtocolSyntaxError(
                [Diagnostic(Severity.ERROR,
                            f"the file ends before this '{brace}' is closed",
                            span, f"add the missing '{closer}'")],
                text,
            )
        line = text.count("\n") + 1
        span = Span(filename, line, 1, line, 2, len(text), len(text))
        return ProtocolSyntaxError(
            [Diagnostic(Severity.ERROR, "unexpected end of file; expected " + _expected(expected),
                        span)],
            text,
        )
    span = _point(filename, text, token)
    word = str(token)
    expected_words = [keywords[t] for t in expected if t in keywords]
    if token.type == "IDENT" and expected_words and "IDENT" not in expected:
        close = difflib.get_close_matches(word, expected_words, n=1, cutoff=0.6)
        message = f"unknown keyword '{word}'"
        hint = f"did you mean '{close[0]}'?" if close else (
            "expected " + _expected(expected))
        return ProtocolSyntaxError([Diagnostic(Severity.ERROR, message, span, hint)], text)
    hint = None
    if "RBRACE" in expected and opened and opened[-1].type == "LBRACE":
        hint = f"is the '{{' on line {opened[-1].line} closed?"
    if token.type in keywords and expected == ["IDENT"]:
        hint = f"'{word}' is a reserved word and cannot be used as a name"
    shown = "a new line" if token.type == "_NL" else f"'{word}'"
    message = f"unexpected {shown}; expected {_expected(expected)}"
    return ProtocolSyntaxError([Diagnostic(Severity.ERROR, message, span, hint)], text)


def _expected(terminals: list[str]) -> str:
    words = sorted({_describe(t) for t in terminals if t != "SEMICOLON"})
    if len(words) > 12:
        return ", ".join(words[:12]) + f" or one of {len(words) - 12} more"
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "something else"
