"""What the grammar accepts at a point of a protocol text, for the language server's completion.

The text before the point is fed to the LALR parser with the same newline rule as
`dsl.parser.parse_tree`; the parser's table then says which terminals may come next. After a
line break both readings are open: the line may continue (with `and`, `or`, ...) or a new
statement may start, so both sets are offered.
"""

from __future__ import annotations

from typing import Any

import attrs
from lark.exceptions import LarkError
from lark.parsers.lalr_analysis import Shift

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
    state = interactive.parser_state
    states = state.parse_conf.states
    stack = list(state.state_stack)
    # the table's lookaheads are a superset (LALR merges states): keep what would be shifted
    terminals = {t for t in states[stack[-1]] if _shifts(states, stack, t)}
    if pending is not None:
        after = _shift(states, stack, pending.type)
        if after is not None:
            terminals |= {t for t in states[after[-1]] if _shifts(states, after, t)}
    words = _keywords()
    keywords = frozenset(words[t] for t in terminals if t in words)
    return Expected(keywords, "IDENT" in terminals)


def _shift(states: Any, stack: list[int], terminal: str) -> list[int] | None:
    """The state stack once `terminal` is shifted (after the reductions it triggers), or None
    when the parser would refuse it; worked on a copy of the state stack alone."""
    stack = list(stack)
    while True:
        action = states[stack[-1]].get(terminal)
        if action is None:
            return None
        kind, target = action
        if kind is Shift:
            stack.append(target)
            return stack
        size = len(target.expansion)
        if size:
            del stack[-size:]
        stack.append(states[stack[-1]][target.origin.name][1])


def _shifts(states: Any, stack: list[int], terminal: str) -> bool:
    return _shift(states, stack, terminal) is not None


__all__ = ["Expected", "expected_at"]
