"""The newline decision of the parser driver (dsl/parser.py `_accepts`) is exact.

The driver asks, at each newline, whether the parser would shift it. It answers by simulating
the LALR reductions on the state stack alone (parsing stays linear in the file's length). The
oracle is the slow way it replaces: feed the newline to a full copy of the parser and see
whether it raises. The two must agree at every newline of every real protocol and every
example in the docs, and on every token type the parser could meet there.
"""

from __future__ import annotations

import re

import pytest
from conftest import EXAMPLES, ROOT
from lark import Token
from lark.exceptions import UnexpectedToken

from dsl import parser
from dsl.parser import _accepts, grammar

BLOCK = re.compile(r"```trial\n(.*?)```", re.S)
SOURCES = [(p.parent.name, p.read_text(encoding="utf-8"))
           for p in sorted(EXAMPLES.glob("*/protocol.trial"))]
SOURCES += [(f"{doc.name}#{i}", m.group(1))
            for doc in sorted((ROOT / "docs").glob("*.md"))
            for i, m in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8")))]


def _oracle(interactive, token: Token) -> bool:  # type: ignore[no-untyped-def]
    # A copy of the parser state with its own stacks. The values on the stack are shared, not
    # deep-copied as `interactive.copy()` does (that copied the whole tree parsed so far, at
    # every probe): a trial feed pops them and pushes new trees, and never changes one.
    trial = interactive.parser_state.copy(deepcopy_values=False)
    try:
        trial.feed_token(token, token.type == "$END")
    except UnexpectedToken:
        return False
    return True


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[n for n, _ in SOURCES])
def test_newline_decision_matches_a_trial_feed(
    name: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminals = sorted({t.name for t in grammar().terminals})
    asked: list[bool] = []
    # Both answers depend on the parser's state stack alone, so a stack already swept gives
    # nothing new: sweeping each distinct stack once keeps the test exact and makes it cheap
    # on long protocols, whose newlines mostly recur at the same few stacks.
    swept: set[tuple[int, ...]] = set()

    def checked(interactive, token: Token) -> bool:  # type: ignore[no-untyped-def]
        stack = tuple(interactive.parser_state.state_stack)
        if stack not in swept:
            swept.add(stack)
            # not only the newline: every terminal, so that shifts, reductions and refusals
            # are all exercised from the states a real protocol reaches
            for terminal in terminals:
                probe = Token(terminal, str(token) if terminal == "_NL" else "x")
                assert _accepts(interactive, probe) == _oracle(interactive, probe), (
                    name, token.line, terminal)
        answer = _accepts(interactive, token)
        asked.append(answer)
        return answer

    monkeypatch.setattr(parser, "_accepts", checked)
    parser.parse_tree(text, name)
    assert True in asked
    if "#" not in name:  # a whole protocol also has newlines the grammar refuses
        assert False in asked
