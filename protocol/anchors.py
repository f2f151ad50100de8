"""The anchor graph: which times are counted from which events.

A visit `at 14 days after visit_3` depends on visit_3; `at 30 days after last dose of X` depends
on the end of X's dosing, which depends on whatever ends it (`until ...`). The graph must be
acyclic: a cycle means no date in it can ever be computed. The engine uses the same graph to
plan each patient's dates in a valid order.
"""

from __future__ import annotations

import networkx as nx

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
    OnEvent,
    Periods,
    Repeat,
    RepeatUntil,
    Schedule,
    Visit,
)
from protocol.source import Span
from protocol.vocab import ActivityKind


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


def build_graph(schedule: Schedule, period_count: int = 0) -> nx.DiGraph:
    """Edges run from an anchor to what is timed from it; each edge keeps the span that made it.

    `period_count` is the number of study periods (Trial.period_count): each period's first
    dose is timed from the last dose of the period before, the first from the schedule's
    anchor."""
    graph = nx.DiGraph()
    root = schedule.anchor
    graph.add_node(root)
    for decl in schedule.anchors:
        graph.add_node(decl.name)

    def depend(src: str, dst: str, span: Span | None) -> None:
        graph.add_edge(src, dst, span=span)

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
                graph.add_node(event)
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
            graph.add_node(anchor_node(timing.end.anchor))
    return graph


def find_cycle(graph: nx.DiGraph) -> tuple[list[str], Span | None] | None:
    """A cycle of anchors as a closed path (`a -> b -> a`) and the span of one of its edges."""
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return None
    path = [edges[0][0]] + [dst for _, dst in edges]
    span = next((graph.edges[e]["span"] for e in edges if graph.edges[e].get("span")), None)
    return path, span
