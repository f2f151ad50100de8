"""The anchor graph: which times are counted from which events.

A visit `at 14 days after visit_3` depends on visit_3; `at 30 days after last dose of X` depends
on the end of X's dosing, which depends on whatever ends it (`until ...`). The graph must be
acyclic: a cycle means no date in it can ever be computed. The engine uses the same graph to
plan each patient's dates in a valid order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocol.expr import (
    AggregateFn,
    AnchorRef,
    DoseAnchor,
    EventAnchor,
    NamedAnchor,
    PeriodDoseAnchor,
)
from protocol.schedule import (
    AfterAnchor,
    Cycles,
    DoseOnDays,
    OnEvent,
    Periods,
    Repeat,
    RepeatUntil,
    Schedule,
    Timepoints,
    Visit,
)
from protocol.source import Span
from protocol.vocab import ActivityKind

if TYPE_CHECKING:
    import networkx as nx

# An edge's span, by source and then destination, in the order the edges were first made.
Edges = dict[str, dict[str, Span | None]]


def anchor_node(ref: AnchorRef) -> str:
    """The graph node of an anchor reference: `randomization`, `last dose of peg_ifn`."""
    if isinstance(ref, NamedAnchor):
        return ref.name
    if isinstance(ref, DoseAnchor):
        which = "first" if ref.which is AggregateFn.FIRST else "last"
        return f"{which} dose of {ref.intervention}"
    if isinstance(ref, PeriodDoseAnchor):
        which = "first" if ref.which is AggregateFn.FIRST else "last"
        return f"{which} dose of period {ref.period}"
    assert isinstance(ref, EventAnchor)
    return f"{ref.which.value} {ref.kind}"


def dependencies(schedule: Schedule, period_count: int = 0) -> Edges:
    """Every anchor's dependants: an edge runs from an anchor to what is timed from it and keeps
    the span that made it (the last one, when two statements make the same edge).

    `period_count` is the number of study periods (Trial.period_count): each period's first
    dose is timed from the last dose of the period before, the first from the schedule's
    anchor."""
    edges: Edges = {}
    root = schedule.anchor
    edges[root] = {}
    for decl in schedule.anchors:
        edges.setdefault(decl.name, {})

    def depend(src: str, dst: str, span: Span | None) -> None:
        edges.setdefault(src, {})[dst] = span
        edges.setdefault(dst, {})

    for item in schedule.items:
        if isinstance(item, Visit):
            vt = item.timing
            if isinstance(vt, AfterAnchor):
                depend(anchor_node(vt.anchor), item.name, vt.span or item.span)
            elif isinstance(vt, OnEvent):
                depend(vt.event, item.name, vt.span or item.span)
            else:
                depend(root, item.name, item.span)
            continue
        if isinstance(item, Timepoints):
            # timed from a dose of each listed day or from an anchor; nothing is timed from them
            if not isinstance(item.reference, DoseOnDays):
                edges.setdefault(anchor_node(item.reference), {})
            continue
        if isinstance(item, Periods):
            previous = root
            for k in range(1, period_count + 1):
                first, last = f"first dose of period {k}", f"last dose of period {k}"
                depend(previous, first, item.span)
                depend(first, last, item.span)
                previous = last
            for act in item.doses:
                for drug in act.items:
                    first, last = f"first dose of {drug}", f"last dose of {drug}"
                    depend(root, first, act.span or item.span)
                    depend(first, last, act.span or item.span)
                    if period_count:
                        depend(previous, last, act.span or item.span)
            continue
        if isinstance(item, Cycles):
            # each cycle is timed from the one before, from the root; the block ends at its
            # `until` events, and so does the dosing in it
            for act in item.items:
                if act.kind is ActivityKind.DOSE:
                    for drug in act.items:
                        first, last = f"first dose of {drug}", f"last dose of {drug}"
                        depend(root, first, act.span or item.span)
                        depend(first, last, act.span or item.span)
                        for event in item.until:
                            depend(event, last, item.span)
            for event in item.until:
                edges.setdefault(event, {})
            continue
        timing = item.timing
        if item.kind is ActivityKind.DOSE:
            for drug in item.items:
                first, last = f"first dose of {drug}", f"last dose of {drug}"
                depend(root, first, item.span)
                depend(first, last, item.span)
                if isinstance(timing, Repeat) and isinstance(timing.end, RepeatUntil):
                    depend(anchor_node(timing.end.anchor), last, timing.end.span or item.span)
        elif isinstance(timing, Repeat) and isinstance(timing.end, RepeatUntil):
            edges.setdefault(anchor_node(timing.end.anchor), {})
    return edges


def build_graph(schedule: Schedule, period_count: int = 0) -> nx.DiGraph:
    """The dependencies as a networkx graph (the engine orders each patient's dates by it);
    each edge keeps its span."""
    import networkx as nx  # about 0.3 s: only the engine needs it, not `trialcode check`

    graph = nx.DiGraph()
    edges = dependencies(schedule, period_count)
    graph.add_nodes_from(edges)  # first, in the order they were met (the engine's date order)
    for src, targets in edges.items():
        for dst, span in targets.items():
            graph.add_edge(src, dst, span=span)
    return graph


def find_cycle(
    schedule: Schedule, period_count: int = 0
) -> tuple[list[str], Span | None] | None:
    """A cycle of anchors as a closed path (`a -> b -> a`) and the span of one of its edges.

    A depth-first search without recursion (a schedule may time thousands of visits one from
    another), from the nodes in the order they were made."""
    edges = dependencies(schedule, period_count)
    done: set[str] = set()
    for start in edges:
        if start in done:
            continue
        path = [start]
        on_path = {start: 0}
        pending = [iter(edges[start])]
        done.add(start)
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                del on_path[path.pop()]
                pending.pop()
                continue
            if nxt in on_path:
                cycle = path[on_path[nxt]:] + [nxt]
                spans = (edges[a][b] for a, b in zip(cycle, cycle[1:], strict=False))
                return cycle, next((s for s in spans if s is not None), None)
            if nxt in done:
                continue
            done.add(nxt)
            on_path[nxt] = len(path)
            path.append(nxt)
            pending.append(iter(edges[nxt]))
    return None
