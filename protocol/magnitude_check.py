"""Numbers that parse but cannot mean what a protocol means: times beyond any trial, doses
below zero, regimens that last no time.

Times are checked over the whole model at once (every Duration, DayPoint and Window,
wherever a construct keeps one), so a construct added to the language is covered without a
line here; a time of centuries would otherwise reach the engine as a date past the year 9999.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from protocol.design import DoseStep
from protocol.errors import Diagnostic, Severity
from protocol.timing import Calendar, DayPoint, Duration, Window
from protocol.trial import Trial

# The longest time a protocol may state: longer than any trial or any age criterion, and
# short enough that any anchor date plus it stays a date.
MAX_YEARS = 200
MAX_DAYS = MAX_YEARS * 366


def check_magnitudes(trial: Trial) -> Iterator[Diagnostic]:
    """Errors for times longer than MAX_YEARS, negative doses and empty dose steps."""
    calendar = trial.calendar
    seen: set[int] = set()
    for node in _nodes(trial, seen):
        if not isinstance(node, (Duration, DayPoint, Window)):
            continue
        days = _longest(node, calendar)
        if abs(days) > MAX_DAYS:
            yield Diagnostic(
                Severity.ERROR, f"'{node}' is more than {MAX_YEARS} years",
                node.span, "times in a protocol are at most 200 years")
    for step in _dose_steps(trial):
        yield from _dose_step_problems(step)


def _longest(node: Duration | DayPoint | Window, calendar: Calendar) -> int | float:
    if isinstance(node, Window):
        return max(node.days(calendar))
    return node.days(calendar)


def _nodes(value: object, seen: set[int]) -> Iterator[object]:
    """Every attrs instance reachable from `value` through fields, tuples, lists and dicts
    (each once)."""
    kind = type(value)
    if attrs.has(kind):
        if id(value) in seen:
            return
        seen.add(id(value))
        yield value
        for field in attrs.fields(kind):
            if field.name != "span":
                yield from _nodes(getattr(value, field.name), seen)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            yield from _nodes(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _nodes(item, seen)


def _dose_steps(trial: Trial) -> Iterable[DoseStep]:
    for intervention in trial.interventions:
        if intervention.regimen:
            yield from intervention.regimen.steps
    for arm in trial.arms:
        for given in arm.interventions:
            if given.regimen:
                yield from given.regimen.steps


def _dose_step_problems(step: DoseStep) -> Iterator[Diagnostic]:
    amount = step.amount
    if amount.value < 0:
        yield Diagnostic(Severity.ERROR, f"a dose of {amount} is below zero",
                         amount.span or step.span, "a dose is a positive amount, or 0 for a placebo")
    frequency = step.frequency
    if frequency is not None and frequency.interval is not None and frequency.interval.amount <= 0:
        yield Diagnostic(Severity.ERROR, f"a dose every {frequency.interval} is never repeated",
                         frequency.span or step.span, "the interval between doses must be positive")
    if step.duration is not None and step.duration.amount <= 0:
        yield Diagnostic(Severity.ERROR, f"a dose step for {step.duration} lasts no time",
                         step.duration.span or step.span,
                         "give a positive duration, or leave 'for ...' out")
