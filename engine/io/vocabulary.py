"""What a protocol declares that patient data must agree with: arms, interventions, visits and
the data dictionary. Loaders check records against it so that a wrong unit, an unknown arm or
a misspelt visit is rejected at the door with the record named, instead of quietly changing a
verdict later.

Without a protocol only the structure of records can be checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs

from protocol.design import DataItem
from protocol.trial import Trial
from protocol.units import UnitError, compatible
from protocol.vocab import DataKind

# Data kinds whose numeric values mean nothing without their unit.
UNIT_KINDS = (DataKind.LAB, DataKind.VITAL)


@attrs.frozen
class Vocabulary:
    """Names a protocol declares. Empty sets mean 'not declared, do not check'."""

    trial: str | None = None
    arms: frozenset[str] = frozenset()
    interventions: frozenset[str] = frozenset()
    visits: frozenset[str] = frozenset()
    items: dict[str, DataItem] = attrs.field(factory=dict)

    @classmethod
    def from_trial(cls, trial: Trial) -> Vocabulary:
        visits = frozenset(v.name for v in trial.schedule.visits) if trial.schedule else frozenset()
        return cls(
            trial=trial.name,
            arms=frozenset(a.name for a in trial.arms),
            interventions=frozenset(i.name for i in trial.interventions),
            visits=visits,
            items={d.name: d for d in trial.data},
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
    if item.unit is None:
        return None
    try:
        if compatible(unit, item.unit):
            return None
        return f"unit '{unit}' of {kind} cannot be converted to the protocol's unit '{item.unit}'"
    except UnitError:
        return f"unit '{unit}' of {kind} is not a UCUM unit (the protocol's unit is '{item.unit}')"
