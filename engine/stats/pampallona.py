"""Pampallona-Tsiatis designs: efficacy and futility bounds of one power family, solved together.

Pampallona & Tsiatis (1994), in the parametrisation rpact uses: with information fractions
``t_k``, the efficacy bound is ``b_k = C1 t_k^(Delta1 - 1/2)`` and the futility bound is
``a_k = eta sqrt(t_k) - C2 t_k^(Delta0 - 1/2)`` with ``eta = C1 + C2``, so that the two meet at
the last look (``a_K = b_K = C1``); ``eta`` is the drift, ``E[Z_k | H1] = eta sqrt(t_k)``. A
futility bound above the efficacy bound is set to it. A two-sided design stops for efficacy when
``|Z_k| >= b_k`` and for futility when ``|Z_k| < a_k`` (a negative ``a_k`` is 0: no futility stop).

Non-binding: ``C1`` gives the type I error alpha without the futility bound (a Wang-Tsiatis
bound with ``Delta = Delta1``), then ``C2`` gives the power ``1 - beta`` with it. Binding: for
each ``C2``, ``C1`` gives alpha with the futility bound in place, and ``C2`` is solved for the
power. The power of a two-sided design counts rejections in either tail, as rpact does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .errors import DesignError
from .recursion import crossing_probabilities
from .roots import brentq

__all__ = ["PAMPALLONA_TSIATIS", "pampallona_tsiatis"]

PAMPALLONA_TSIATIS = "pampallona-tsiatis"


def _bounds(
    t: np.ndarray, c1: float, c2: float, delta1: float, delta0: float, sides: int
) -> tuple[np.ndarray, np.ndarray]:
    upper = c1 * t ** (delta1 - 0.5)
    lower = (c1 + c2) * np.sqrt(t) - c2 * t ** (delta0 - 0.5)
    lower = np.minimum(lower, upper)
    if sides == 2:
        lower = np.maximum(lower, 0.0)
    lower[-1] = upper[-1]
    return upper, lower


def _rejection(
    t: np.ndarray, upper: np.ndarray, lower: np.ndarray | None, theta: float, sides: int,
    r: int,
) -> float:
    """P(reject H0) at drift ``theta`` (either tail when two-sided), with the futility
    bound in place when ``lower`` is given."""
    if sides == 1:
        low = lower.copy() if lower is not None else np.full(t.size, -math.inf)
        low[-1] = -math.inf
        return crossing_probabilities(upper, low, t, theta, r).total_upper
    holes = None
    if lower is not None:
        holes = lower.copy()
        holes[-1] = 0.0
    cp = crossing_probabilities(upper, -upper, t, theta, r, inner=holes)
    return cp.total_upper + cp.total_lower


def pampallona_tsiatis(
    t: Sequence[float],
    *,
    alpha: float,
    beta: float,
    sides: int,
    delta1: float,
    delta0: float,
    binding: bool,
    r: int,
) -> tuple[float, list[float], list[float]]:
    """Drift, efficacy bounds and futility bounds of a Pampallona-Tsiatis design."""
    tt = np.asarray(t, dtype=float)
    target = 1.0 - beta

    def solve_c1(c2: float | None) -> float:
        def excess(c1: float) -> float:
            upper, lower = _bounds(tt, c1, c2 or 0.0, delta1, delta0, sides)
            return _rejection(tt, upper, lower if c2 is not None else None, 0.0, sides, r) - alpha

        return brentq(excess, 1e-3, 40.0, xtol=1e-12)

    def power_shortfall(c2: float, c1: float) -> float:
        upper, lower = _bounds(tt, c1, c2, delta1, delta0, sides)
        return _rejection(tt, upper, lower, c1 + c2, sides, r) - target

    if binding:
        def shortfall(c2: float) -> float:
            return power_shortfall(c2, solve_c1(c2))
    else:
        c1_fixed = solve_c1(None)

        def shortfall(c2: float) -> float:
            return power_shortfall(c2, c1_fixed)

    hi = 1.0
    while shortfall(hi) < 0:
        hi *= 2.0
        if hi > 1e3:
            raise DesignError(f"no Pampallona-Tsiatis design reaches power {target:g}")
    lo = 0.0
    if shortfall(lo) > 0:
        raise DesignError("the Pampallona-Tsiatis futility bound cannot be placed: the power "
                          "is reached without one")
    c2 = brentq(shortfall, lo, hi, xtol=1e-11)
    c1 = solve_c1(c2) if binding else c1_fixed
    upper, lower = _bounds(tt, c1, c2, delta1, delta0, sides)
    return c1 + c2, [float(x) for x in upper], [float(x) for x in lower]
