"""Error-spending functions (Lan & DeMets 1983 and their later relatives).

A spending function ``f(t; total)`` gives the cumulative type I (or type II)
error that may have been spent by information fraction ``t``; ``f(0) = 0`` and
``f(t) = total`` for ``t >= 1``.  All functions here are one-sided: a two-sided
symmetric design at level alpha spends ``f(t; alpha / 2)`` in each tail (the
convention of gsDesign ``test.type = 2``, ldbounds and rpact; see
docs/statistics.md).

==============  =====================================================  =========
family          f(t; a) for 0 < t < 1                                  parameter
==============  =====================================================  =========
``ld-obf``      ``2 - 2 Phi(z_{a/2} / sqrt(t))`` (Lan-DeMets OBF type)  none
``ld-pocock``   ``a ln(1 + (e - 1) t)`` (Lan-DeMets Pocock type)        none
``hsd``         ``a (1 - exp(-g t)) / (1 - exp(-g))``; ``a t`` if g=0  gamma
``power``       ``a t^rho`` (Kim & DeMets 1987)                        rho > 0
``user``        ``a f(t)``, ``f`` piecewise linear through the given    the points
                cumulative fractions ``f_k`` at the planned ``t_k``
==============  =====================================================  =========

A user-defined function spends exactly the given fraction of the total by each planned look (as
rpact's ``asUser``/``bsUser``, which take the cumulative errors themselves); between the planned
looks, at information actually observed, it is interpolated linearly (gsDesign's ``sfLinear``).

``z_{a/2} = Phi^{-1}(1 - a/2)``.  Hwang, Shih & DeCani (1990) gamma = -4 is close
to O'Brien-Fleming, gamma = 1 close to Pocock; gamma ranges over [-40, 40].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
from scipy.special import ndtr, ndtri

from .errors import DesignError

__all__ = ["SPENDING_FAMILIES", "SpendingFunction", "spending_function", "user_spending"]

#: Spending families and the default of their parameter (None: no parameter).
SPENDING_FAMILIES: dict[str, float | None] = {
    "ld-obf": None,
    "ld-pocock": None,
    "hsd": -4.0,
    "power": 3.0,
    "user": None,
}


@attrs.frozen
class SpendingFunction:
    """A one-sided spending function family with its parameter (see module docs).

    ``points`` are the ``(t_k, f_k)`` of a user-defined function (family ``user``): the
    cumulative fraction ``f_k`` of the total spent by information ``t_k``.
    """

    family: str
    param: float | None = None
    points: tuple[tuple[float, float], ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.family not in SPENDING_FAMILIES:
            raise DesignError(
                f"unknown spending function {self.family!r}; "
                f"choose one of {', '.join(SPENDING_FAMILIES)}"
            )
        if self.family == "user":
            _check_points(self.points)
            if self.param is not None:
                raise DesignError("a user-defined spending function takes fractions, not a "
                                  "parameter")
            return
        if self.points:
            raise DesignError(f"spending function {self.family!r} takes no fractions")
        if SPENDING_FAMILIES[self.family] is None:
            if self.param is not None:
                raise DesignError(f"spending function {self.family!r} takes no parameter")
            return
        if self.param is None or not math.isfinite(self.param):
            raise DesignError(f"spending function {self.family!r} needs a finite parameter")
        if self.family == "hsd" and abs(self.param) > 40:
            raise DesignError(f"hsd gamma must be between -40 and 40, got {self.param:g}")
        if self.family == "power" and self.param <= 0:
            raise DesignError(f"power spending rho must be positive, got {self.param:g}")

    @property
    def fractions(self) -> tuple[float, ...]:
        """The cumulative fractions of a user-defined function (empty otherwise)."""
        return tuple(f for _, f in self.points)

    @property
    def label(self) -> str:
        """Short human-readable name, e.g. ``hsd(gamma=-4)``."""
        if self.family == "user":
            return "user(" + ", ".join(f"{f:g}" for f in self.fractions) + ")"
        if self.param is None:
            return self.family
        name = "gamma" if self.family == "hsd" else "rho"
        return f"{self.family}({name}={self.param:g})"

    def cumulative(self, t: Sequence[float] | float, total: float) -> tuple[float, ...]:
        """Cumulative error spent by each fraction in ``t`` (clipped to [0, 1])."""
        tt = np.clip(np.atleast_1d(np.asarray(t, dtype=float)), 0.0, 1.0)
        out = np.empty_like(tt)
        pos = tt > 0
        tp = tt[pos]
        if self.family == "ld-obf":
            out[pos] = 2.0 * ndtr(-ndtri(1.0 - total / 2.0) / np.sqrt(tp))
        elif self.family == "ld-pocock":
            out[pos] = total * np.log1p((math.e - 1.0) * tp)
        elif self.family == "user":
            times = [0.0] + [t for t, _ in self.points]
            values = [0.0] + [f for _, f in self.points]
            out[pos] = total * np.interp(tp, times, values)
        elif self.family == "hsd":
            g = float(self.param or 0.0)
            out[pos] = total * tp if g == 0 else total * np.expm1(-g * tp) / math.expm1(-g)
        else:  # power
            out[pos] = total * tp ** float(self.param or 1.0)
        out[~pos] = 0.0
        out[tt >= 1.0] = total
        return tuple(float(x) for x in out)


def _check_points(points: tuple[tuple[float, float], ...]) -> None:
    if not points:
        raise DesignError("a user-defined spending function needs the cumulative fraction "
                          "spent by each look")
    times = [t for t, _ in points]
    fracs = [f for _, f in points]
    if any(not math.isfinite(f) or not 0.0 <= f <= 1.0 for f in fracs):
        shown = ", ".join(f"{f:g}" for f in fracs)
        raise DesignError(f"spending fractions must lie between 0 and 1, got {shown}")
    if any(b < a for a, b in zip(fracs, fracs[1:], strict=False)):
        shown = ", ".join(f"{f:g}" for f in fracs)
        raise DesignError(f"spending fractions are cumulative and cannot decrease, got {shown}")
    if abs(fracs[-1] - 1.0) > 1e-12:
        raise DesignError(f"the last spending fraction must be 1 (everything is spent by the "
                          f"final look), got {fracs[-1]:g}")
    if any(b <= a for a, b in zip(times, times[1:], strict=False)) or times[0] <= 0:
        raise DesignError("the looks of a user-defined spending function must be increasing "
                          "information fractions")


def user_spending(
    looks: Sequence[float], fractions: Sequence[float], *, name: str = "spending fractions"
) -> SpendingFunction:
    """A user-defined spending function: ``fractions[k]`` of the total spent by ``looks[k]``."""
    if len(looks) != len(fractions):
        raise DesignError(f"{name} give {len(fractions)} values but there are {len(looks)} looks")
    try:
        pts = tuple((float(t), float(f)) for t, f in zip(looks, fractions, strict=True))
    except (TypeError, ValueError) as exc:
        raise DesignError(f"{name} must be numbers, got {fractions!r}") from exc
    return SpendingFunction("user", None, pts)


def spending_function(family: str, param: float | None = None) -> SpendingFunction:
    """Build a spending function, filling in the family's default parameter."""
    if family not in SPENDING_FAMILIES:
        raise DesignError(
            f"unknown spending function {family!r}; choose one of {', '.join(SPENDING_FAMILIES)}"
        )
    if family == "user":
        raise DesignError("a user-defined spending function needs its fractions (user_spending)")
    if param is None:
        param = SPENDING_FAMILIES[family]
    return SpendingFunction(family, None if param is None else float(param))
