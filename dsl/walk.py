"""Running the model builder over a parse tree without recursion, with the nesting limit.

lark's `Transformer.transform` recurses once per tree level, so a deeply nested expression
ends in a RecursionError. Here the tree is walked with an explicit stack, which handles any
depth, and the one place where depth is bounded for everything downstream: every consumer of
the model (the checker, the formatter, the engine, the renderers) may recurse along an
expression, so an expression may nest at most MAX_NESTING levels, counted as the `and`/`or`
groups, `not`s, `where`s, arithmetic operators, calls and table lookups that enclose one another. Deeper is a located error, raised
here once at parse time, rather than a limit each consumer would have to know.
"""

from __future__ import annotations

from typing import Any

from lark import Transformer, Tree
from lark.exceptions import GrammarError, VisitError
from lark.visitors import Discard

from protocol.errors import Diagnostic, ProtocolSyntaxError, Severity
from protocol.source import Span

MAX_NESTING = 100

# The rules of the grammar whose nodes can contain themselves: each counts as one level. (An
# `or_` or `and_` node with a single child is the grammar's wrapper around an operand, not a
# group, and does not count.) Arithmetic is binary in the model (`a + b + c` is `(a + b) + c`),
# so each operator, call and table lookup is a level.
NESTING_RULES = frozenset({"or_", "and_", "not_", "where", "add", "subtract", "multiply",
                           "divide", "power", "call", "lookup"})
_GROUPS = frozenset({"or_", "and_"})


def _opens_level(node: Tree[Any]) -> bool:
    return node.data in NESTING_RULES and (node.data not in _GROUPS or len(node.children) > 1)


def transform(builder: Transformer[Any, Any], tree: Tree[Any], text: str, filename: str) -> Any:
    """`builder.transform(tree)`, walked with an explicit stack (children first, in order).

    Raises ProtocolSyntaxError when an expression nests deeper than MAX_NESTING levels."""
    methods: dict[str, Any] = {}
    nodes: list[Tree[Any]] = [tree]
    positions = [0]
    results: list[list[Any]] = [[]]
    level = 1 if _opens_level(tree) else 0
    while True:
        node = nodes[-1]
        children = node.children
        i = positions[-1]
        out = results[-1]
        descended = False
        while i < len(children):
            child = children[i]
            i += 1
            if isinstance(child, Tree):
                positions[-1] = i
                if _opens_level(child):
                    level += 1
                    if level > MAX_NESTING:
                        raise _too_deep(child, text, filename)
                nodes.append(child)
                positions.append(0)
                results.append([])
                descended = True
                break
            out.append(child)
        if descended:
            continue
        nodes.pop()
        positions.pop()
        results.pop()
        if _opens_level(node):
            level -= 1
        value = _call(builder, methods, node, out)
        if not nodes:
            return value
        if value is not Discard:
            results[-1].append(value)


def _call(builder: Transformer[Any, Any], methods: dict[str, Any], node: Tree[Any],
          children: list[Any]) -> Any:
    """What lark's `Transformer._call_userfunc` does, with each rule's method looked up once
    (lark's v_args wraps the bound method anew at every lookup)."""
    data = node.data
    f = methods.get(data)
    if f is None:
        f = methods[data] = getattr(builder, data, None)
        if f is None:
            return builder.__default__(data, children, node.meta)
    try:
        wrapper = getattr(f, "visit_wrapper", None)
        if wrapper is not None:
            return wrapper(f, data, children, node.meta)
        return f(children)
    except GrammarError:
        raise
    except Exception as exc:
        raise VisitError(data, node, exc) from exc


def _too_deep(node: Tree[Any], text: str, filename: str) -> ProtocolSyntaxError:
    meta = node.meta
    line = getattr(meta, "line", 1)
    column = getattr(meta, "column", 1)
    start = getattr(meta, "start_pos", 0)
    span = Span(filename, line, column, line, column + 1, start, start + 1)
    return ProtocolSyntaxError([Diagnostic(
        Severity.ERROR, f"expression nested deeper than {MAX_NESTING} levels", span,
        "each 'and' or 'or' group inside another, each 'not', each 'where', each arithmetic "
        "operator, call and table lookup is a level; write the condition more simply")], text)


__all__ = ["MAX_NESTING", "NESTING_RULES", "transform"]
