"""One-dimensional root finding for the boundary and sample-size solvers.

Brent's method (Brent 1973, ch. 4): inverse quadratic interpolation or the secant step when
they make good progress, bisection otherwise, so it never does worse than bisection on a
bracketing interval. It is written here rather than taken from ``scipy.optimize`` because that
package costs a noticeable part of a second to import, and ``trialcode check`` solves every
interim rule's design to say whether it can be solved; the statistics need nothing else from
it. The iteration follows the classic formulation (the same as scipy's ``brentq``), so roots
agree with it to the tolerance asked for.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .errors import DesignError

__all__ = ["EPS", "brentq"]

#: Machine epsilon of a double.
EPS = 2.220446049250313e-16


def brentq(
    f: Callable[[float], float],
    a: float,
    b: float,
    *,
    xtol: float = 2e-12,
    rtol: float = 4 * EPS,
    maxiter: int = 200,
) -> float:
    """A root of ``f`` in ``[a, b]``, where ``f(a)`` and ``f(b)`` have opposite signs.

    Converges to within ``xtol + rtol * |x|``; raises :class:`DesignError` when the interval
    does not bracket a root or the iteration does not converge.
    """
    xpre, xcur = float(a), float(b)
    fpre, fcur = f(xpre), f(xcur)
    if math.isnan(fpre) or math.isnan(fcur):
        raise DesignError("the equation to solve is not defined at the ends of its interval")
    if fpre == 0.0:
        return xpre
    if fcur == 0.0:
        return xcur
    if (fpre > 0) == (fcur > 0):
        raise DesignError(f"no root between {a:g} and {b:g}: the interval does not bracket one")
    xblk = fblk = spre = scur = 0.0
    for _ in range(maxiter):
        if fpre != 0.0 and fcur != 0.0 and (fpre < 0) != (fcur < 0):
            # keep the bracket [xcur, xblk]
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            # make xcur the better of the two ends
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2.0
        sbis = (xblk - xcur) / 2.0
        if fcur == 0.0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # secant
            else:  # inverse quadratic interpolation
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2.0 * abs(stry) < min(abs(spre), 3.0 * abs(sbis) - delta):
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = f(xcur)
        if math.isnan(fcur):
            raise DesignError(f"the equation to solve is not defined at {xcur:g}")
    raise DesignError(f"no convergence after {maxiter} iterations between {a:g} and {b:g}")
