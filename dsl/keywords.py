"""The language's reserved words, read from the grammar file itself, by the role they play.

Editors and highlighters (the TextMate grammar of editors/vscode, the Pygments lexer, the
language server's completion) need the keyword list without building the parser. It is read
here from `protocol.lark` with a few regular expressions, so a keyword added to the grammar is
known to all of them at once; tests/protocol/test_editor_grammar.py checks the list against the
terminals lark itself makes.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import attrs

GRAMMAR_FILE = Path(__file__).with_name("protocol.lark")

# A rule starts at the beginning of a line (`name:`, `?name:`, `!name:`); its alternatives may
# continue on indented lines.
_RULE = re.compile(r"^[?!]?([a-z_][a-z0-9_]*)\s*:(.*)$")
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Keywords that are spelt in the grammar's rules of these names play that role.
_UNIT_RULES = ("time_unit",)
_CONSTANT_RULES = ("ref_limit",)
_CONSTANTS = ("true", "false")
_OPERATORS = ("and", "or", "not", "in", "is", "x")


@attrs.frozen
class Keywords:
    """Every reserved word, and the subsets highlighted differently from the rest."""

    all: frozenset[str]
    units: frozenset[str]
    constants: frozenset[str]
    operators: frozenset[str]

    @property
    def plain(self) -> frozenset[str]:
        """The keywords that are neither units, constants nor operators."""
        return self.all - self.units - self.constants - self.operators


def rules(text: str) -> dict[str, str]:
    """The grammar's rules by name, each with the text of all its alternatives."""
    out: dict[str, str] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = "" if raw.lstrip().startswith("//") else raw.rstrip()
        match = _RULE.match(line)
        if match:
            current = match.group(1)
            out[current] = match.group(2)
        elif current is not None and line[:1] in (" ", "\t") and line.strip():
            out[current] += " " + line.strip()
        elif not line.strip():
            continue
        else:
            current = None
    return out


def words(body: str) -> set[str]:
    """The quoted literals of a rule's text that are words."""
    return {lit for lit in _LITERAL.findall(body) if _WORD.fullmatch(lit)}


@functools.cache
def keywords() -> Keywords:
    """The reserved words of the grammar in `dsl/protocol.lark`."""
    by_rule = rules(GRAMMAR_FILE.read_text(encoding="utf-8"))
    everything: set[str] = set()
    for body in by_rule.values():
        everything |= words(body)
    units = set().union(*(words(by_rule.get(r, "")) for r in _UNIT_RULES))
    constants = set().union(*(words(by_rule.get(r, "")) for r in _CONSTANT_RULES))
    constants |= {w for w in _CONSTANTS if w in everything}
    operators = {w for w in _OPERATORS if w in everything}
    return Keywords(frozenset(everything), frozenset(units), frozenset(constants),
                    frozenset(operators))


__all__ = ["Keywords", "keywords", "rules", "words"]
