"""The matcher's shortcuts give what its general rules give (engine.conformance): one planned
occurrence against one actual, and the owner of each actual found by bisection when the windows
are disjoint."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.conformance import (
    Actual,
    Planned,
    _disjoint,
    _owners,
    _owners_disjoint,
    match,
    match_general,
)


def _pair(nominal: int, before: int, after: int, day: int) -> tuple[list[Planned], list[Actual]]:
    return ([Planned("assess", "alt", "day", nominal, nominal - before, nominal + after)],
            [Actual(day, 0, None)])


@settings(max_examples=300, deadline=None)
@given(st.integers(-50, 50), st.integers(0, 10), st.integers(0, 10), st.integers(-100, 100),
       st.booleans())
def test_one_planned_one_actual_shortcut(nominal: int, before: int, after: int, day: int,
                                         named: bool) -> None:
    fast_p, fast_a = _pair(nominal, before, after, day)
    slow_p, slow_a = _pair(nominal, before, after, day)
    match(fast_p, fast_a, named)
    match_general(slow_p, slow_a, named)
    assert (fast_p[0].actual is not None) == (slow_p[0].actual is not None)
    assert fast_a[0].used == slow_a[0].used


@st.composite
def disjoint_windows(draw: st.DrawFn) -> list[Planned]:
    planned, start = [], draw(st.integers(-30, 30))
    for _ in range(draw(st.integers(1, 8))):
        lo = start + draw(st.integers(0, 10))
        hi = lo + draw(st.integers(0, 6))
        nominal = draw(st.integers(lo, hi))
        planned.append(Planned("assess", "alt", "d", nominal, lo, hi))
        start = hi + 1
    return planned


@settings(max_examples=300, deadline=None)
@given(disjoint_windows(), st.lists(st.integers(-40, 120), max_size=12))
def test_disjoint_windows_bisection_finds_the_general_owner(planned: list[Planned],
                                                           days: list[int]) -> None:
    days = sorted(days)
    los, his = [p.lo for p in planned], [p.hi for p in planned]
    assert _disjoint(los, his)
    general: list[list[int]] = [[] for _ in planned]
    _owners(planned, days, general)
    fast: list[list[int]] = [[] for _ in planned]
    _owners_disjoint(planned, los, his, days, fast)
    assert fast == general


def test_overlapping_or_empty_windows_are_not_disjoint() -> None:
    assert not _disjoint([0, 5], [6, 10])  # overlap on days 5-6
    assert not _disjoint([0, 8], [6, 7])  # second window empty
    assert _disjoint([0, 7], [6, 10])
