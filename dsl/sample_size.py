"""The assumptions of a `sample_size` clause, assembled into the model's typed classes.

    sample_size power 0.8 assuming hazard_ratio 0.5, control_median 12 months,
      accrual 24 months, follow_up 24 months, dropout 5% per 12 months

Each assumption is a name and a value; the names say which endpoint the sample size is for
(time to event, two proportions, one proportion, or means), and each name takes one kind of
value. Names are checked here, with a did-you-mean, rather than reserved as keywords, so that
`accrual` or `follow_up` stay free as names elsewhere in a protocol.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence

import attrs

from protocol.source import Span
from protocol.stopping import (
    Assumptions,
    EventRate,
    MeansAssumptions,
    ProportionAssumptions,
    ProportionsAssumptions,
    SurvivalAssumptions,
)
from protocol.timing import Duration

__all__ = ["ASSUMPTIONS", "Assumption", "Versus", "assemble"]


@attrs.frozen
class Versus:
    """`0.45 vs 0.25`: the first value against the second."""

    first: int | float
    second: int | float


Value = int | float | Duration | Versus | EventRate


@attrs.frozen
class Assumption:
    """One `name value` item of the clause, before assembly."""

    name: str
    value: Value
    span: Span | None


#: name -> (endpoint, kind of value, example)
ASSUMPTIONS: dict[str, tuple[str, str, str]] = {
    "hazard_ratio": ("time to event", "number", "hazard_ratio 0.7"),
    "control_median": ("time to event", "duration", "control_median 12 months"),
    "experimental_median": ("time to event", "duration", "experimental_median 18 months"),
    "accrual": ("time to event", "duration", "accrual 24 months"),
    "follow_up": ("time to event", "duration", "follow_up 12 months"),
    "dropout": ("time to event", "rate", "dropout 5% per 12 months"),
    "proportions": ("two proportions", "versus", "proportions 0.45 vs 0.25"),
    "proportion": ("one proportion", "versus", "proportion 0.40 vs 0.20"),
    "mean_difference": ("means", "number", "mean_difference 5"),
    "sd": ("means", "number", "sd 10"),
}

_KIND = {"number": (int, float), "duration": (Duration,), "versus": (Versus,),
         "rate": (EventRate,)}
_WORDS = {"number": "a number", "duration": "a duration", "versus": "two numbers, 'A vs B'",
          "rate": "a percentage per duration"}
_REQUIRED = {
    "two proportions": ("proportions",),
    "one proportion": ("proportion",),
    "means": ("mean_difference", "sd"),
}


def assemble(
    items: Sequence[Assumption],
    span: Span | None,
    error: Callable[[str, Span | None, str | None], None],
) -> Assumptions | None:
    """The typed assumptions, or None after reporting every problem through ``error``."""
    found: dict[str, Assumption] = {}
    endpoint: str | None = None
    first: Assumption | None = None
    ok = True
    for item in items:
        known = ASSUMPTIONS.get(item.name)
        if known is None:
            close = difflib.get_close_matches(item.name, list(ASSUMPTIONS), n=1, cutoff=0.6)
            error(f"unknown assumption '{item.name}'", item.span,
                  f"did you mean '{close[0]}'?" if close
                  else "known: " + ", ".join(ASSUMPTIONS))
            ok = False
            continue
        kind_endpoint, kind, example = known
        if not isinstance(item.value, _KIND[kind]) or isinstance(item.value, bool):
            error(f"'{item.name}' takes {_WORDS[kind]}", item.span, f"e.g. '{example}'")
            ok = False
            continue
        if item.name in found:
            error(f"'{item.name}' is given twice", item.span, None)
            ok = False
            continue
        if endpoint is None:
            endpoint, first = kind_endpoint, item
        elif kind_endpoint != endpoint:
            assert first is not None
            error(f"'{item.name}' is an assumption for {kind_endpoint}, but '{first.name}' is "
                  f"for {endpoint}: one sample size is for one endpoint", item.span, None)
            ok = False
            continue
        found[item.name] = item
    if not ok or endpoint is None:
        return None
    missing = [n for n in _REQUIRED.get(endpoint, ()) if n not in found]
    if missing:
        error(f"the sample size for {endpoint} needs '{missing[0]}'", span,
              f"e.g. '{ASSUMPTIONS[missing[0]][2]}'")
        return None

    def value(name: str) -> Value | None:
        item = found.get(name)
        return item.value if item is not None else None

    if endpoint == "two proportions":
        v = value("proportions")
        assert isinstance(v, Versus)
        return ProportionsAssumptions(v.first, v.second, span=span)
    if endpoint == "one proportion":
        v = value("proportion")
        assert isinstance(v, Versus)
        return ProportionAssumptions(v.first, v.second, span=span)
    if endpoint == "means":
        d, sd = value("mean_difference"), value("sd")
        assert isinstance(d, int | float) and isinstance(sd, int | float)
        return MeansAssumptions(d, sd, span=span)
    hr = value("hazard_ratio")
    cm, em = value("control_median"), value("experimental_median")
    accrual, follow_up, dropout = value("accrual"), value("follow_up"), value("dropout")
    assert hr is None or isinstance(hr, int | float)
    assert cm is None or isinstance(cm, Duration)
    assert em is None or isinstance(em, Duration)
    assert accrual is None or isinstance(accrual, Duration)
    assert follow_up is None or isinstance(follow_up, Duration)
    assert dropout is None or isinstance(dropout, EventRate)
    return SurvivalAssumptions(hr, cm, em, accrual, follow_up, dropout, span=span)
