"""What the grammar accepts at a point of a protocol text, for the language server's completion.

The text before the point is fed to the LALR parser with the same newline rule as
`dsl.parser.parse_tree`; the parser's table then says which terminals may come next. After a
line break both readings are open: the line may continue (with `and`, `or`, ...) or a new
statement may start, so both sets are offered.
"""

from __future__ import annotations

import attrs
from lark.exceptions import LarkError

from dsl.parser import _CONTINUATION, _accepts, _keywords, _significant, grammar, lex


@attrs.frozen
class Expected:
    """The keywords that may come next, and whether a name may."""

    keywords: frozenset[str]
    name: bool


def expected_at(text: str, offset: int) -> Expected | None:
    """What may come at `offset` of `text`; None when the text before it has a syntax error."""
    lark = grammar()
    interactive = lark.parse_interactive()
    pending = None
    try:
        for token in _significant(lex(text[:offset]), [], text):
            if token.type == "_NL":
                if pending is None and _accepts(interactive, token):
                    pending = token
                continue
            if pending is not None:
                if token.type not in _CONTINUATION:
                    interactive.feed_token(pending)
                pending = None
            interactive.feed_token(token)
    except LarkError:
        return None
    terminals = set(interactive.choices())
    if pending is not None:
        terminals |= _after(interactive, pending)
    words = _keywords()
    keywords = frozenset(words[t] for t in terminals if t in words)
    return Expected(keywords, "IDENT" in terminals)


def _after(interactive: object, token: object) -> set[str]:
    """The terminals acceptable once `token` (a newline the parser accepts) is shifted,
    found on the state stack alone (as dsl.parser._accepts does: nothing is copied)."""
    state = interactive.parser_state  # type: ignore[attr-defined]
    states = state.parse_conf.states
    stack = list(state.state_stack)
    kind_of = token.type  # type: ignore[attr-defined]
    while True:
        action = states[stack[-1]].get(kind_of)
        if action is None:
            return set()
        kind, target = action
        if kind.name == "Shift":
            stack.append(target)
            return set(states[stack[-1]])
        size = len(target.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][target.origin.name][1])


__all__ = ["Expected", "expected_at"]
