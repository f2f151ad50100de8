"""Efficacy boundaries on the Z scale: classical families and error spending.

Classical families (Jennison & Turnbull 2000, ch. 2), with information fractions
``t_k = I_k / I_K``:

* ``pocock``: ``b_k = C`` at every look (Pocock 1977);
* ``obf``: ``b_k = C / sqrt(t_k)`` (O'Brien & Fleming 1979; for equal spacing
  ``C sqrt(K / k)``, so ``C`` is J&T's ``C_B(K)``, the final-look bound);
* ``wang-tsiatis``: ``b_k = C t_k^(Delta - 1/2)`` (Wang & Tsiatis 1987;
  ``Delta = 0`` is O'Brien-Fleming, ``Delta = 0.5`` is Pocock);
* ``haybittle-peto``: ``b_k = c`` at the interim looks (``c = 3`` unless given) and the final
  bound solved so that the type I error is exactly alpha (Haybittle 1971, Peto et al. 1976).

``C`` is solved so that P(some Z_k >= b_k | theta = 0) = alpha (one-sided) or
P(some |Z_k| >= b_k | theta = 0) = alpha (two-sided symmetric).

Error-spending boundaries (Lan & DeMets 1983) are solved look by look so that the
probability of first crossing at look k equals the increment of the spending
function (per tail, with ``alpha / 2`` per tail when two-sided).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri

from .errors import DesignError, check_alpha, check_fractions, check_sides
from .recursion import DEFAULT_GRID, SequentialIntegrator, crossing_probabilities
from .roots import brentq
from .spending import SpendingFunction

__all__ = [
    "CLASSICAL_FAMILIES",
    "HAYBITTLE_PETO_INTERIM",
    "check_classical",
    "classical_bounds",
    "solve_lower_bound",
    "solve_upper_bound",
    "spending_bounds",
]

#: Classical families and the default of their parameter (None: no parameter).
CLASSICAL_FAMILIES: dict[str, float | None] = {
    "pocock": None,
    "obf": None,
    "wang-tsiatis": 0.25,
    "haybittle-peto": 3.0,
}
#: The interim bound of the Haybittle-Peto rule unless another is given.
HAYBITTLE_PETO_INTERIM = 3.0
_TINY = 1e-300  # increments below this are treated as "spend nothing": bound = +inf
_ZMAX = 40.0


def solve_upper_bound(it: SequentialIntegrator, target: float, sides: int) -> float:
    """Bound c at look ``it.k`` with P(continue, Z_k >= c) = target (one-sided), or
    P(continue, |Z_k| >= c) = target (two-sided symmetric)."""
    if target < _TINY:
        return math.inf
    available = it.continuing
    if target >= available * (1.0 - 1e-12):
        raise DesignError(
            f"cannot spend {target:.3g} at look {it.k + 1}: only {available:.3g} of the "
            "probability is still continuing (the bounds before it spend too much)"
        )
    if it.k == 0:
        return float(-ndtri(target / sides)) if it.theta == 0 else _brent_upper(it, target, sides)
    return _brent_upper(it, target, sides)


def _brent_upper(it: SequentialIntegrator, target: float, sides: int) -> float:
    def excess(c: float) -> float:
        p = it.upper(c) + (it.lower(-c) if sides == 2 else 0.0)
        return p - target

    lo = 0.0 if sides == 2 else -_ZMAX
    if excess(lo) < 0:  # only possible one-sided when nearly everything is below -ZMAX
        raise DesignError(f"cannot place an upper bound at look {it.k + 1}")
    return float(brentq(excess, lo, _ZMAX, xtol=1e-12, rtol=4 * np.finfo(float).eps))


def solve_lower_bound(it: SequentialIntegrator, target: float, ceiling: float) -> float:
    """Bound a <= ceiling at look ``it.k`` with P(continue, Z_k <= a) = target.

    Returns ``ceiling`` when even that spends no more than ``target`` (the futility
    bound then meets the efficacy bound, as in gsDesign) and ``-inf`` for target 0.
    """
    if target < _TINY:
        return -math.inf
    if it.lower(ceiling) <= target:
        return ceiling

    def excess(a: float) -> float:
        return it.lower(a) - target

    lo = -_ZMAX
    return float(brentq(excess, lo, ceiling, xtol=1e-12, rtol=4 * np.finfo(float).eps))


def _shape(family: str, t: np.ndarray, param: float | None) -> np.ndarray:
    if family == "pocock":
        return np.ones_like(t)
    if family == "obf":
        return 1.0 / np.sqrt(t)
    if family == "wang-tsiatis":
        return t ** (float(param if param is not None else 0.25) - 0.5)
    raise DesignError(f"unknown boundary family {family!r}")


def check_classical(family: str, param: float | None) -> float | None:
    """Validate a classical family name and parameter; return the parameter to use."""
    if family not in CLASSICAL_FAMILIES:
        raise DesignError(
            f"unknown boundary family {family!r}; choose one of {', '.join(CLASSICAL_FAMILIES)}"
        )
    default = CLASSICAL_FAMILIES[family]
    if default is None:
        if param is not None:
            raise DesignError(f"boundary family {family!r} takes no parameter")
        return None
    value = default if param is None else param
    finite = isinstance(value, int | float) and math.isfinite(value)
    if family == "haybittle-peto":
        if not finite or not 0.0 < value <= _ZMAX:
            raise DesignError(f"the Haybittle-Peto interim bound must be a positive Z value, "
                              f"got {value!r}")
        return float(value)
    if not finite or not -0.5 <= value <= 1.0:
        raise DesignError(f"wang-tsiatis Delta must be between -0.5 and 1, got {value!r}")
    return float(value)


def classical_bounds(
    family: str,
    looks: int | Sequence[float],
    alpha: float,
    sides: int = 1,
    param: float | None = None,
    r: int = DEFAULT_GRID,
    *,
    futility: Sequence[float] | None = None,
) -> tuple[float, ...]:
    """Efficacy Z bounds of a classical family at the given information fractions.

    ``futility`` are binding one-sided futility bounds ``a_k`` (one per look, the last
    ignored): the constant is then solved with the trial stopping when ``Z_k <= a_k``, so the
    type I error is alpha only if those stops are obeyed.
    """
    param = check_classical(family, param)
    t = np.asarray(check_fractions(looks))
    alpha = check_alpha(alpha)
    sides = check_sides(sides)
    k = t.size
    low = _binding_lower(futility, k, sides)
    if family == "haybittle-peto":
        assert param is not None
        it = SequentialIntegrator(t, 0.0, r)
        spent = 0.0
        for j in range(k - 1):
            c = param
            a = -c if sides == 2 else low[j]
            spent += it.upper(c) + (it.lower(-c) if sides == 2 else 0.0)
            it.advance(max(a, -c) if sides == 2 else min(a, c), c)
        if spent >= alpha:
            raise DesignError(
                f"Haybittle-Peto interim bounds of {param:g} already spend "
                f"{spent:.4g} >= alpha = {alpha:g}; use more alpha, fewer looks or a higher "
                "interim bound"
            )
        final = solve_upper_bound(it, alpha - spent, sides)
        return (param,) * (k - 1) + (final,)

    shape = _shape(family, t, param)

    def excess(c: float) -> float:
        b = c * shape
        lower = -b if sides == 2 else np.minimum(low, b)
        cp = crossing_probabilities(b, lower, t, 0.0, r)
        return cp.total_upper + (cp.total_lower if sides == 2 else 0.0) - alpha

    # P(cross) >= P(Z_K >= b_K) and, by Bonferroni, P(cross) <= sum_k P(Z_k >= b_k):
    # so z_{alpha/sides} <= C shape_K and C min(shape) <= z_{alpha/(K sides)} bracket C (a
    # binding futility bound only lowers the crossing probability, so the upper end holds)
    lo = float(-ndtri(alpha / sides)) / float(shape[-1]) - 1e-9
    if futility is not None:
        lo = 1e-6
    hi = float(-ndtri(alpha / (k * sides))) / float(shape.min()) + 1e-9
    if excess(lo) < 0 or excess(hi) > 0:
        raise DesignError(f"cannot solve the {family} constant for alpha = {alpha:g}")
    c = float(brentq(excess, lo, hi, xtol=1e-12, rtol=4 * np.finfo(float).eps))
    return tuple(float(x) for x in c * shape)


def _binding_lower(futility: Sequence[float] | None, k: int, sides: int) -> np.ndarray:
    """Binding futility bounds as a lower bound per look (the last look has none)."""
    if futility is None:
        return np.full(k, -math.inf)
    if sides != 1:
        raise DesignError("binding futility bounds on the Z scale are for one-sided designs")
    low = np.asarray([float(a) for a in futility], dtype=float)
    if low.size != k:
        raise DesignError(f"there are {low.size} futility bounds but {k} looks")
    low[-1] = -math.inf
    return low


def spending_bounds(
    spending: SpendingFunction,
    looks: int | Sequence[float],
    alpha: float,
    sides: int = 1,
    *,
    spending_time: Sequence[float] | None = None,
    r: int = DEFAULT_GRID,
    futility: Sequence[float] | None = None,
) -> tuple[float, ...]:
    """Efficacy Z bounds from an alpha-spending function.

    ``looks`` are the information fractions that fix the correlation of the Z
    statistics; ``spending_time`` (default: the same) are the times at which the
    spending function is evaluated.  The last look spends whatever alpha is left.
    ``futility`` are binding one-sided futility bounds on the Z scale (None: no futility
    bound, or a non-binding one, which the efficacy bounds ignore).
    """
    t = check_fractions(looks, last_is_one=False)
    alpha = check_alpha(alpha)
    sides = check_sides(sides)
    st = t if spending_time is None else check_fractions(spending_time, last_is_one=False)
    if len(st) != len(t):
        raise DesignError("spending_time must have one value per look")
    per_tail = spending.cumulative(st, alpha / sides)
    low = _binding_lower(futility, len(t), sides)
    it = SequentialIntegrator(t, 0.0, r)
    out: list[float] = []
    spent = 0.0
    for k in range(len(t)):
        target = sides * per_tail[k] - spent
        c = solve_upper_bound(it, target, sides)
        spent += it.upper(c) + (it.lower(-c) if sides == 2 else 0.0)
        out.append(c)
        if k < len(t) - 1:
            it.advance(-c if sides == 2 else min(float(low[k]), c), c)
    return tuple(out)
