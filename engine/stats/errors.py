"""The one exception the statistics engine raises for inputs that make no sense.

Every public function of :mod:`engine.stats` validates its arguments and raises
:class:`DesignError` with a message that names the offending argument and value;
numpy and scipy exceptions are never allowed to reach a user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DesignError",
    "check_alpha",
    "check_beta",
    "check_fractions",
    "check_probability",
    "check_sides",
]


class DesignError(ValueError):
    """A group sequential or binomial design was asked for with impossible inputs."""


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_probability(name: str, value: float, *, low: float = 0.0, high: float = 1.0) -> float:
    """Return ``value`` as a float if ``low < value < high``; raise DesignError otherwise."""
    if not _is_real(value) or not math.isfinite(float(value)):
        raise DesignError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if not low < v < high:
        raise DesignError(f"{name} must be strictly between {low:g} and {high:g}, got {v:g}")
    return v


def check_alpha(alpha: float) -> float:
    """Type I error: one-sided alpha, or the total of both tails for a two-sided design."""
    return check_probability("alpha", alpha, low=0.0, high=0.5)


def check_beta(beta: float) -> float:
    """Type II error (1 - power)."""
    return check_probability("beta", beta, low=0.0, high=1.0)


def check_sides(sides: int) -> int:
    """1 (one-sided) or 2 (two-sided symmetric)."""
    if sides not in (1, 2) or isinstance(sides, bool):
        raise DesignError(f"sides must be 1 (one-sided) or 2 (two-sided symmetric), got {sides!r}")
    return int(sides)


def check_fractions(
    fractions: Sequence[float] | NDArray[np.floating[Any]] | int,
    *,
    name: str = "information fractions",
    last_is_one: bool = True,
) -> tuple[float, ...]:
    """Validate information times and return them as a tuple of floats.

    An integer ``K`` means ``K`` equally spaced looks ``1/K, 2/K, ..., 1``.
    Otherwise the values must be finite, positive and strictly increasing, and,
    when ``last_is_one``, the last must be 1 (it is the maximum information).
    """
    if isinstance(fractions, bool):
        raise DesignError(f"{name} must be a number of looks or a sequence, got {fractions!r}")
    if isinstance(fractions, int):
        if fractions < 1:
            raise DesignError(f"the number of looks K must be at least 1, got K = {fractions}")
        return tuple((i + 1) / fractions for i in range(fractions))
    try:
        values = tuple(float(x) for x in fractions)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{name} must be numbers, got {fractions!r}") from exc
    if len(values) == 0:
        raise DesignError(f"{name} are empty: the number of looks K must be at least 1 (K = 0)")
    for x in values:
        if not math.isfinite(x):
            raise DesignError(f"{name} must be finite, got {x!r}")
    if values[0] <= 0:
        raise DesignError(f"{name} must be positive, got {values[0]:g} at look 1")
    for k in range(1, len(values)):
        if values[k] <= values[k - 1]:
            raise DesignError(
                f"{name} must be strictly increasing, got {values[k - 1]:g} at look {k} "
                f"and {values[k]:g} at look {k + 1}"
            )
    if last_is_one and abs(values[-1] - 1.0) > 1e-9:
        raise DesignError(
            f"the last information fraction must be 1 (the maximum information), got {values[-1]:g}"
        )
    if last_is_one:
        values = values[:-1] + (1.0,)
    return values
