"""`days counted from 1` (docs/engine-semantics.md, conventions): the same dates, numbered as the
protocol numbers them; no day 0."""

from __future__ import annotations

import attrs
import pytest
from enginekit import Timeline, at_day, day, repeat, times, trial, visit, window

from engine import compile_trial, evaluate
from protocol.schedule import Activity, DayRange
from protocol.timing import DEFAULT_CALENDAR, Calendar, DayPoint, TimeUnit
from protocol.vocab import ActivityKind

DAY = TimeUnit.DAY


def items(shift: int) -> tuple:
    """A schedule written with day numbers from 0 (shift 0) or from 1 (shift 1)."""
    return (
        visit("screening", DayRange(DayPoint(DAY, -14), DayPoint(DAY, -1))),
        visit("day_1", at_day(0 + shift)),
        visit("day_8", at_day(7 + shift), window(1)),
        Activity(ActivityKind.ASSESS, ("alt",), repeat(7, 14 + shift, times(3)), window(1)),
    )


FROM_0 = compile_trial(trial(items=items(0)))
FROM_1 = compile_trial(trial(items=items(1), calendar=Calendar(first_day=1)))


def patient():
    tl = Timeline().visit("screening", -3).visit("day_1", 0).visit("day_8", 9)
    tl.obs("alt", 14, 20, "U/L").obs("alt", 22, 20, "U/L")
    return tl.patient()


def test_the_same_dates_and_statuses_numbered_from_1() -> None:
    a = evaluate(FROM_0, patient(), day(60))
    b = evaluate(FROM_1, patient(), day(60))
    assert [(x.activity, x.planned_date, x.window_dates, x.actual_date, x.status,
             x.deviation_days) for x in a.schedule] == \
        [(x.activity, x.planned_date, x.window_dates, x.actual_date, x.status,
          x.deviation_days) for x in b.schedule]
    rows = {(x.activity, x.occurrence): x for x in b.schedule}
    assert rows[("day_1", 1)].planned_day == 1 and rows[("day_1", 1)].actual_day == 1
    assert rows[("day_8", 1)].window == (7, 9) and rows[("day_8", 1)].actual_day == 10
    assert rows[("screening", 1)].window == (-14, -1) and rows[("screening", 1)].actual_day == -3
    assert [x.label for x in b.schedule if x.activity == "alt"] == ["day 15", "day 22", "day 29"]
    assert [x.label for x in a.schedule if x.activity == "alt"] == ["day 14", "day 21", "day 28"]


def test_offsets() -> None:
    one = Calendar(first_day=1)
    assert [one.offset(d) for d in (-2, -1, 1, 2, 8)] == [-2, -1, 0, 1, 7]
    assert [one.protocol_day(o) for o in (-2, -1, 0, 1, 7)] == [-2, -1, 1, 2, 8]
    assert DayPoint(TimeUnit.WEEK, 2).days(one) == 14  # Day 15
    assert DEFAULT_CALENDAR.offset(0) == 0 and DEFAULT_CALENDAR.protocol_day(0) == 0
    with pytest.raises(ValueError):
        attrs.evolve(one, first_day=2)

