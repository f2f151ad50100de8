"""Where every named thing of a protocol is declared and where it is used, with spans.

The language server's go to definition, find references, rename, hover and outline work on
this index. It is made from the parse tree by one table, NAME_RULES: for a grammar rule, what
each name (IDENT) among its direct children declares or refers to. A new named thing in the
language is one more row. Anchors and visits share one namespace (a visit can be timed from
another visit), as the checker has it.

Names are also recorded in the statement that holds them (`container`): the criterion, visit,
rule or activity a reference sits in, which is how hover says where a data item is used.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any

import attrs
from lark import Token, Tree

from protocol.source import Span

DATA = "data item"
INTERVENTION = "intervention"
ARM = "arm"
ANCHOR = "anchor"
VISIT = "visit"
EPOCH = "epoch"
CRITERION = "criterion"
RULE = "rule"
DEFINITION = "definition"

# Kinds that share one namespace: a name may be declared only once among them, and a
# reference to one of them finds any.
TIME_POINTS = (ANCHOR, VISIT)


@attrs.frozen
class Role:
    """What a name in a rule does: declare a thing of one kind, or refer to one of `kinds`."""

    kinds: tuple[str, ...]
    declares: bool = False


def declare(kind: str) -> Role:
    return Role((kind,), declares=True)


def refer(*kinds: str) -> Role:
    return Role(kinds)


# rule -> the roles of its direct IDENT children, in order; the last one repeats for lists
# (`arms a, b, c`). None: a name that is not an index entry (a vocabulary word, an attribute).
NAME_RULES: dict[str, tuple[Role | None, ...]] = {
    "intervention": (declare(INTERVENTION),),
    "arm": (declare(ARM), None),
    "arm_intervention": (refer(INTERVENTION),),
    "data_item": (declare(DATA),),
    "criterion": (declare(CRITERION),),
    "eligibility_time": (refer(*TIME_POINTS),),
    "selection": (refer(DATA),),
    "named_anchor": (refer(*TIME_POINTS),),
    "first_dose_anchor": (refer(INTERVENTION),),
    "last_dose_anchor": (refer(INTERVENTION),),
    "event_anchor": (refer(DATA),),
    "schedule": (refer(*TIME_POINTS),),
    "anchor_decl": (declare(ANCHOR),),
    "discontinue": (refer(INTERVENTION),),
    "epoch": (declare(EPOCH),),
    "visit": (declare(VISIT),),
    "visit_activities": (refer(DATA),),
    "visit_condition": (refer(ANCHOR, VISIT, DATA),),
    "on_event": (refer(*TIME_POINTS),),
    "arms": (refer(ARM),),
    "retest": (refer(DATA),),
    "unless": (refer(DATA),),
    "rule_name": (declare(RULE),),
    "interim_rule": (declare(RULE),),
    "safety_rule": (declare(RULE),),
    # a bare name in an expression: a patient attribute, or a named definition
    "name": (refer(DEFINITION),),
}

# Rules whose names depend on a sibling: `dose X` names an intervention, `assess X` a data item.
_ACTIVITY_KINDS = {"dose": INTERVENTION}

# Statements a name can sit in, for hover's "used in" and the outline's nesting.
STATEMENTS = frozenset({
    "intervention", "arm", "data_item", "criterion", "anchor_decl", "epoch", "visit",
    "activity", "patient_rule", "interim_rule", "safety_rule", "population", "data_block",
    "inclusion", "exclusion", "schedule", "stopping", "eligibility_time", "trial",
})

# A sample rule's first operand (`alt > 3 x ULN on 2 consecutive samples`) is a data item.
_SAMPLE_RULES = frozenset({"consecutive", "log_rise"})


@attrs.frozen
class Occurrence:
    """One name in the text: a declaration (one kind) or a reference (the kinds it may name)."""

    name: str
    kinds: tuple[str, ...]
    declares: bool
    span: Span
    statement: Span | None = None  # the innermost statement holding it
    statement_rule: str | None = None


@attrs.frozen
class Statement:
    """A statement or block of the protocol, for the outline."""

    rule: str
    span: Span
    name: Occurrence | None


@attrs.frozen
class NameIndex:
    """Every declaration and reference of a protocol, in source order."""

    occurrences: tuple[Occurrence, ...]
    statements: tuple[Statement, ...]
    units: tuple[Span, ...]
    _starts: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(o.span.start for o in self.occurrences))

    def at(self, offset: int) -> Occurrence | None:
        """The name whose text holds `offset` (or ends at it: the cursor after a word)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self.occurrences[i].span.start <= offset <= self.occurrences[i].span.end:
            return self.occurrences[i]
        return None

    def declarations(self) -> Iterator[Occurrence]:
        return (o for o in self.occurrences if o.declares)

    def declaration(self, name: str, kinds: tuple[str, ...]) -> Occurrence | None:
        """The first declaration of `name` as one of `kinds`."""
        return next((o for o in self.occurrences
                     if o.declares and o.name == name and o.kinds[0] in kinds), None)

    def resolve(self, occurrence: Occurrence) -> Occurrence | None:
        """The declaration an occurrence names (itself, for a declaration)."""
        if occurrence.declares:
            return occurrence
        return self.declaration(occurrence.name, occurrence.kinds)

    def references(self, declaration: Occurrence) -> list[Occurrence]:
        """Every occurrence that names `declaration`, the declaration itself first."""
        kind = declaration.kinds[0]
        namespace = TIME_POINTS if kind in TIME_POINTS else (kind,)
        out = [declaration]
        for o in self.occurrences:
            if o.name != declaration.name or o is declaration:
                continue
            if o.declares:
                continue  # a duplicate declaration is the checker's error, not a use
            if any(k in namespace for k in o.kinds):
                out.append(o)
        return out


def index_tree(tree: Tree[Token], filename: str) -> NameIndex:
    """The name index of a parse tree (dsl.parser.parse_tree), walked without recursion."""
    occurrences: list[Occurrence] = []
    statements: list[Statement] = []
    units: list[Span] = []
    # (node, innermost statement span, its rule)
    stack: list[tuple[Tree[Token], Span | None, str | None]] = [(tree, None, None)]
    while stack:
        node, outer, outer_rule = stack.pop()
        rule = node.data if isinstance(node.data, str) else str(node.data)
        here, here_rule = outer, outer_rule
        if rule in STATEMENTS and not getattr(node.meta, "empty", True):
            here, here_rule = _span(filename, node.meta), rule
        roles = _roles(node, rule)
        named: Occurrence | None = None
        if roles is not None:
            i = 0
            for child in node.children:
                if isinstance(child, Token) and child.type == "IDENT":
                    role = roles[min(i, len(roles) - 1)]
                    i += 1
                    if role is not None:
                        occ = Occurrence(str(child), role.kinds, role.declares,
                                         _token_span(filename, child), here, here_rule)
                        occurrences.append(occ)
                        if role.declares and named is None:
                            named = occ
        if rule in _SAMPLE_RULES and node.children and isinstance(node.children[0], Tree) \
                and node.children[0].data == "name":
            token = node.children[0].children[0]
            assert isinstance(token, Token)
            occurrences.append(Occurrence(str(token), (DATA,), False,
                                          _token_span(filename, token), here, here_rule))
        if rule == "plain_unit":
            units.extend(_token_span(filename, t) for t in node.children if isinstance(t, Token))
        elif rule == "ucum_unit":
            units.extend(_token_span(filename, t) for t in node.children if isinstance(t, Token))
        if here is not outer and here is not None:
            statements.append(Statement(rule, here, named))
        for child in reversed(node.children):
            if isinstance(child, Tree) and not (rule in _SAMPLE_RULES and child is node.children[0]
                                                and child.data == "name"):
                stack.append((child, here, here_rule))
    occurrences.sort(key=lambda o: o.span.start)
    statements.sort(key=lambda s: (s.span.start, -s.span.end))
    return NameIndex(tuple(occurrences), tuple(statements), tuple(sorted(units, key=_start)))


def _start(span: Span) -> int:
    return span.start


def _roles(node: Tree[Token], rule: str) -> tuple[Role | None, ...] | None:
    if rule == "activity":
        kind_node = node.children[0]
        kind = str(kind_node.children[0]) if isinstance(kind_node, Tree) else ""
        return (refer(_ACTIVITY_KINDS.get(kind, DATA)),)
    return NAME_RULES.get(rule)


def _span(filename: str, meta: Any) -> Span:
    return Span(filename, meta.line, meta.column, meta.end_line, meta.end_column,
                meta.start_pos, meta.end_pos)


def _token_span(filename: str, token: Token) -> Span:
    return Span(filename, token.line or 1, token.column or 1, token.end_line or token.line or 1,
                token.end_column or 1, token.start_pos or 0, token.end_pos or 0)


__all__ = ["NAME_RULES", "NameIndex", "Occurrence", "Role", "Statement", "declare",
           "index_tree", "refer"]
