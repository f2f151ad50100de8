"""What a protocol declares that patient data must agree with: arms, interventions, visits and
the data dictionary. Loaders check records against it so that a wrong unit, an unknown arm or
a misspelt visit is rejected at the door with the record named, instead of quietly changing a
verdict later.

Without a protocol only the structure of records can be checked.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from typing import Any

import attrs

from protocol.design import DataItem
from protocol.trial import Trial
from protocol.units import UnitError, compatible
from protocol.vocab import DataKind

# Data kinds whose numeric values mean nothing without their unit.
UNIT_KINDS = (DataKind.LAB, DataKind.VITAL)
# Data kinds recorded as dated occurrences (possibly intervals), not as observed values.
OCCURRENCE_DATA_KINDS = (DataKind.EVENT, DataKind.CONDITION, DataKind.PROCEDURE)


@attrs.frozen
class Vocabulary:
    """Names a protocol declares. Empty sets mean 'not declared, do not check'."""

    trial: str | None = None
    arms: frozenset[str] = frozenset()
    interventions: frozenset[str] = frozenset()
    visits: frozenset[str] = frozenset()
    items: dict[str, DataItem] = attrs.field(factory=dict)
    # data item -> the codes of its sub-day timepoints (PREDOSE, PT30M, ...), in order
    timepoints: dict[str, tuple[str, ...]] = attrs.field(factory=dict)

    @classmethod
    def from_trial(cls, trial: Trial) -> Vocabulary:
        visits = frozenset(v.name for v in trial.schedule.visits + trial.schedule.period_visits
                           ) if trial.schedule else frozenset()
        codes: dict[str, list[str]] = {}
        for block in trial.schedule.timepoints if trial.schedule else ():
            for act in block.items:
                for item in act.items:
                    known = codes.setdefault(item, [])
                    known += [c for c in act.timepoint_codes() if c not in known]
        return cls(
            trial=trial.name,
            arms=frozenset(a.name for a in trial.arms),
            interventions=frozenset(i.name for i in trial.interventions),
            visits=visits,
            items={d.name: d for d in trial.data},
            timepoints={k: tuple(v) for k, v in codes.items()},
        )

    def item(self, kind: str) -> DataItem | None:
        return self.items.get(kind)


EMPTY = Vocabulary()


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """` (did you mean 'x'?)` or ``."""
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(candidates: Iterable[str]) -> str:
    names = sorted(candidates)
    if len(names) > 12:
        names = names[:12] + ["..."]
    return ", ".join(names)


def check_unit(kind: str, item: DataItem, unit: str) -> str | None:
    """None if `unit` converts to the unit the protocol declares for `item`, else a message."""
    if item.unit is None or unit == item.unit:
        return None
    return _unit_problem(kind, item.unit, unit, item.molar_mass)


@functools.lru_cache(maxsize=1024)
def _unit_problem(kind: str, declared: str, unit: str, molar_mass: float | None = None) -> str | None:
    try:
        if compatible(unit, declared, molar_mass):
            return None
        return f"unit '{unit}' of {kind} cannot be converted to the protocol's unit '{declared}'"
    except UnitError:
        return f"unit '{unit}' of {kind} is not a UCUM unit (the protocol's unit is '{declared}')"


def a_or_an(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def observation_problem(
    kind: str, item: DataItem, value: Any, unit: str | None
) -> tuple[str, str] | None:
    """(field, message) if an observed value of `kind` contradicts the protocol's data
    dictionary entry `item`, else None. `value` is a number, a string or None (not done)."""
    data_kind = item.kind
    if data_kind in OCCURRENCE_DATA_KINDS:
        what = "a condition" if data_kind is DataKind.CONDITION else "an occurrence"
        return (
            "kind",
            f"{kind} is declared as {a_or_an(data_kind.value)} in the protocol: write it as "
            f"{what} event, not an observation",
        )
    if value is None:
        return None
    if data_kind is DataKind.CATEGORY:
        if not isinstance(value, str):
            return "value", f"{kind} is a category: its value must be a string, not {value:g}"
        if item.values and value not in item.values:
            allowed = ", ".join(repr(v) for v in item.values)
            return (
                "value",
                f"'{value}' is not a value of {kind}{did_you_mean(value, item.values)}; "
                f"the protocol allows {allowed}",
            )
        return None
    if isinstance(value, str):
        return "value", f"value '{value}' of {kind} ({data_kind.value}) is not a number"
    if data_kind in UNIT_KINDS or (data_kind is DataKind.MARKER and item.unit):
        if unit is None:
            declared = f" (the protocol's unit is '{item.unit}')" if item.unit else ""
            return "unit", f"value {value:g} of {kind} has no unit{declared}"
        problem = check_unit(kind, item, unit)
        if problem:
            return "unit", problem
    if data_kind is DataKind.SCORE:
        low, high = item.low, item.high
        if (low is not None and value < low) or (high is not None and value > high):
            lo = "" if low is None else f"{low:g}"
            hi = "" if high is None else f"{high:g}"
            return "value", f"{kind} {value:g} is outside its range {lo}..{hi}"
    return None
