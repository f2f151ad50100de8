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
==============  =====================================================  =========

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

__all__ = ["SPENDING_FAMILIES", "SpendingFunction", "spending_function"]

#: Spending families and the default of their parameter (None: no parameter).
SPENDING_FAMILIES: dict[str, float | None] = {
    "ld-obf": None,
    "ld-pocock": None,
    "hsd": -4.0,
    "power": 3.0,
}


@attrs.frozen
class SpendingFunction:
    """A one-sided spending function family with its parameter (see module docs)."""

    family: str
    param: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.family not in SPENDING_FAMILIES:
            raise DesignError(
                f"unknown spending function {self.family!r}; "
                f"choose one of {', '.join(SPENDING_FAMILIES)}"
            )
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
    def label(self) -> str:
        """Short human-readable name, e.g. ``hsd(gamma=-4)``."""
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
        elif self.family == "hsd":
            g = float(self.param or 0.0)
            out[pos] = total * tp if g == 0 else total * np.expm1(-g * tp) / math.expm1(-g)
        else:  # power
            out[pos] = total * tp ** float(self.param or 1.0)
        out[~pos] = 0.0
        out[tt >= 1.0] = total
        return tuple(float(x) for x in out)


def spending_function(family: str, param: float | None = None) -> SpendingFunction:
    """Build a spending function, filling in the family's default parameter."""
    if family not in SPENDING_FAMILIES:
        raise DesignError(
            f"unknown spending function {family!r}; choose one of {', '.join(SPENDING_FAMILIES)}"
        )
    if param is None:
        param = SPENDING_FAMILIES[family]
    return SpendingFunction(family, None if param is None else float(param))
