"""Conditional power at an interim look (Jennison & Turnbull 2000, §10.1; Lan & Wittes 1988).

Given ``Z_k = z`` observed at information fraction ``t_k``, the probability that the trial goes
on to reject H0 in favour of the experimental arm at one of the remaining looks, if the drift
is ``theta`` (``E[Z_j] = theta sqrt(t_j)``, fractions of the maximum information):

* under the **design effect**, ``theta`` is the drift the design was powered for
  (:attr:`GroupSequentialDesign.drift`);
* under the **current trend**, ``theta = z / sqrt(t_k)``, the effect estimated so far.

The remaining looks keep their bounds: the score ``S_j = Z_j sqrt(t_j)`` has independent
increments, so ``(S_j - S_k) / sqrt(t_j - t_k)`` is again a sequence of Z statistics started
afresh, with the bounds shifted by what has been observed, and the crossing probabilities come
from the same recursion as the design. A two-sided design's lower bound stops the trial (for
harm) and is kept; a futility bound is kept only when binding (a non-binding one may be
ignored, so the power is that of the trial that continues), as rpact does. With one look left
this is the familiar ``1 - Phi((b_K sqrt(t_K) - z sqrt(t_k) - theta (t_K - t_k)) / sqrt(t_K - t_k))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .errors import DesignError
from .recursion import crossing_probabilities

__all__ = ["conditional_power", "trend_drift"]


def trend_drift(z: float, t: float) -> float:
    """The drift the data so far point to: ``theta_hat = z / sqrt(t)``."""
    if not t > 0:
        raise DesignError(f"the information fraction must be positive, got {t!r}")
    return z / math.sqrt(t)


def conditional_power(
    information: Sequence[float],
    efficacy: Sequence[float],
    look: int,
    z: float,
    theta: float,
    *,
    sides: int = 1,
    futility: Sequence[float] | None = None,
) -> float:
    """P(reject H0 for benefit at a look after ``look`` | Z at ``look`` is ``z``, drift theta).

    ``information`` and ``efficacy`` cover every look, taken and to come (0-based ``look`` is
    the one just taken); ``futility`` are binding one-sided futility bounds (None: ignored).
    """
    t = [float(x) for x in information]
    k = look
    if not 0 <= k < len(t) - 1:
        raise DesignError(f"conditional power needs a look still to come after look {k + 1}")
    if not math.isfinite(z) or not math.isfinite(theta):
        raise DesignError("conditional power needs a finite Z and drift")
    sk = z * math.sqrt(t[k])
    rest = range(k + 1, len(t))
    increments = [t[j] - t[k] for j in rest]

    def shift(bound: float, j: int, dt: float) -> float:
        if not math.isfinite(bound):
            return bound
        return (bound * math.sqrt(t[j]) - sk) / math.sqrt(dt)

    upper = [shift(efficacy[j], j, dt) for j, dt in zip(rest, increments, strict=True)]
    if sides == 2:
        lower = [shift(-efficacy[j], j, dt) for j, dt in zip(rest, increments, strict=True)]
    elif futility is not None:
        lower = [shift(futility[j], j, dt) for j, dt in zip(rest, increments, strict=True)]
        lower[-1] = -math.inf
    else:
        lower = [-math.inf] * len(upper)
    lower = [min(a, b) for a, b in zip(lower, upper, strict=True)]
    cp = crossing_probabilities(upper, lower, increments, theta)
    return cp.total_upper
