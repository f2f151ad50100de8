"""Complete group sequential designs: efficacy, beta-spending futility, power.

Units.  Information is expressed as a fraction of the planned maximum
information ``I_max`` (so the planned last look is at 1), and the alternative
as the *drift* ``eta = delta sqrt(I_max)``: under H1, ``E[Z_k] = eta sqrt(t_k)``.
The fixed-sample design with the same error rates has drift
``z_{alpha/sides} + z_beta``, so ``I_max / I_fixed = (eta / eta_fixed)^2`` (the
inflation factor), and expected information is reported as a fraction of
``I_fixed`` (the expected sample size relative to the fixed design).

Futility (one-sided designs only) is by beta spending (gsDesign ``test.type``
3 and 4): at look k the futility bound ``a_k`` is set so that the probability
under H1 of first crossing it equals the increment of the beta-spending function;
the last futility bound equals the last efficacy bound, and ``I_max`` is solved so
that the power is exactly ``1 - beta``.  *Non-binding*: efficacy bounds are
computed as if there were no futility bound (type I error is then at most alpha
whether or not futility stops are obeyed).  *Binding*: efficacy bounds are
computed with the futility bounds in place (type I error is alpha only if every
futility stop is obeyed; the efficacy bounds are lower).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from scipy.special import ndtr, ndtri

from .boundaries import (
    CLASSICAL_FAMILIES,
    check_classical,
    classical_bounds,
    solve_lower_bound,
    solve_upper_bound,
    spending_bounds,
)
from .errors import DesignError, check_alpha, check_beta, check_fractions, check_sides
from .recursion import DEFAULT_GRID, SequentialIntegrator, crossing_probabilities
from .roots import brentq
from .spending import SPENDING_FAMILIES, SpendingFunction, spending_function

__all__ = [
    "EFFICACY_FAMILIES",
    "GroupSequentialDesign",
    "bounds_at_observed_information",
    "group_sequential_design",
]

#: Every efficacy boundary name accepted by :func:`group_sequential_design`.
EFFICACY_FAMILIES: tuple[str, ...] = tuple(CLASSICAL_FAMILIES) + tuple(SPENDING_FAMILIES)


def _tup(values: Sequence[float] | np.ndarray) -> tuple[float, ...]:
    return tuple(float(x) for x in values)


@attrs.frozen
class GroupSequentialDesign:
    """A solved group sequential design (all Z bounds on the upper-is-benefit scale)."""

    efficacy_family: str
    efficacy_param: float | None
    futility_family: str | None
    futility_param: float | None
    binding: bool
    sides: int
    alpha: float
    """One-sided alpha, or the total of both tails when ``sides == 2``."""
    beta: float
    information_fractions: tuple[float, ...]
    """Information at each look as a fraction of the planned maximum (may exceed 1
    for a look that over-ran, see :func:`bounds_at_observed_information`)."""
    spending_time: tuple[float, ...]
    """Fractions at which the spending functions were evaluated (last one 1 at a final look)."""
    efficacy: tuple[float, ...]
    """Upper efficacy bound ``b_k``: stop for benefit if ``Z_k >= b_k`` (two-sided: also if ``Z_k <= -b_k``)."""
    futility: tuple[float, ...]
    """Futility bound ``a_k``: stop for futility if ``Z_k <= a_k`` (empty if none)."""
    nominal_p: tuple[float, ...]
    """One-sided nominal p-value at each efficacy bound, ``1 - Phi(b_k)``."""
    futility_nominal_p: tuple[float, ...]
    cumulative_alpha: tuple[float, ...]
    """Cumulative type I error spent by the efficacy bounds under H0 (both tails if
    two-sided; non-binding futility ignored, binding futility in place)."""
    type_i_error: float
    """P(reject H0 | H0) when every futility stop is obeyed (< alpha if non-binding)."""
    cumulative_power: tuple[float, ...]
    """Cumulative P(cross the upper efficacy bound | H1)."""
    cumulative_beta: tuple[float, ...]
    """Cumulative P(cross the futility bound | H1) (empty if no futility bound)."""
    power: float
    drift: float
    """``eta = delta sqrt(I_max)``: E[Z_k | H1] = eta sqrt(t_k)."""
    fixed_drift: float
    """``z_{alpha/sides} + z_beta``: the drift of the fixed-sample design."""
    expected_information_h0: float
    """E[information | H0] / I_fixed (futility stops obeyed)."""
    expected_information_h1: float
    """E[information | H1] / I_fixed."""

    @property
    def k(self) -> int:
        """Number of looks."""
        return len(self.efficacy)

    @property
    def inflation_factor(self) -> float:
        """Maximum information relative to the fixed-sample design, ``I_max / I_fixed``."""
        return (self.drift / self.fixed_drift) ** 2

    @property
    def lower_efficacy(self) -> tuple[float, ...]:
        """Lower efficacy (harm) bounds ``-b_k`` of a two-sided design; empty if one-sided."""
        return tuple(-b for b in self.efficacy) if self.sides == 2 else ()

    def max_information(self, effect: float) -> float:
        """Maximum information needed to detect ``effect`` (on the theta scale)."""
        if not isinstance(effect, int | float) or not math.isfinite(effect) or effect <= 0:
            raise DesignError(f"effect must be a positive number, got {effect!r}")
        return (self.drift / effect) ** 2

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary; infinite bounds become ``None``."""

        def clean(xs: Sequence[float]) -> list[float | None]:
            return [float(x) if math.isfinite(x) else None for x in xs]

        return {
            "efficacy": clean(self.efficacy),
            "futility": clean(self.futility),
            "nominal_p": clean(self.nominal_p),
            "cumulative_alpha": clean(self.cumulative_alpha),
            "information_fractions": list(self.information_fractions),
            "futility_nominal_p": clean(self.futility_nominal_p),
            "efficacy_family": self.efficacy_family,
            "efficacy_param": self.efficacy_param,
            "futility_family": self.futility_family,
            "futility_param": self.futility_param,
            "binding": self.binding,
            "sides": self.sides,
            "alpha": self.alpha,
            "beta": self.beta,
            "type_i_error": self.type_i_error,
            "power": self.power,
            "cumulative_power": clean(self.cumulative_power),
            "cumulative_beta": clean(self.cumulative_beta),
            "drift": self.drift,
            "inflation_factor": self.inflation_factor,
            "expected_information_h0": self.expected_information_h0,
            "expected_information_h1": self.expected_information_h1,
        }


@attrs.frozen
class _Spec:
    efficacy: str
    efficacy_param: float | None
    efficacy_spending: SpendingFunction | None
    futility_spending: SpendingFunction | None
    binding: bool
    sides: int
    alpha: float
    beta: float
    r: int


def _make_spec(
    efficacy: str,
    efficacy_param: float | None,
    futility: str | None,
    futility_param: float | None,
    binding: bool,
    sides: int,
    alpha: float,
    beta: float,
    r: int,
) -> _Spec:
    alpha = check_alpha(alpha)
    beta = check_beta(beta)
    sides = check_sides(sides)
    if not isinstance(r, int) or r < 6:
        raise DesignError(f"grid size r must be an integer of at least 6, got {r!r}")
    eff_spend: SpendingFunction | None = None
    if efficacy in CLASSICAL_FAMILIES:
        efficacy_param = check_classical(efficacy, efficacy_param)
    elif efficacy in SPENDING_FAMILIES:
        eff_spend = spending_function(efficacy, efficacy_param)
        efficacy_param = eff_spend.param
    else:
        raise DesignError(
            f"unknown efficacy boundary {efficacy!r}; choose one of {', '.join(EFFICACY_FAMILIES)}"
        )
    fut_spend: SpendingFunction | None = None
    if futility is not None:
        if sides == 2:
            raise DesignError(
                "futility bounds are supported for one-sided designs only (sides = 1)"
            )
        fut_spend = spending_function(futility, futility_param)
    elif futility_param is not None:
        raise DesignError("a futility parameter was given without a futility spending function")
    if binding and fut_spend is None:
        raise DesignError("binding applies only to a futility bound, and none was requested")
    if binding and eff_spend is None:
        raise DesignError(
            "binding futility needs an error-spending efficacy bound (ld-obf, ld-pocock, hsd, power)"
        )
    return _Spec(
        efficacy, efficacy_param, eff_spend, fut_spend, bool(binding), sides, alpha, beta, r
    )


def _bounds_for_drift(
    spec: _Spec,
    t: tuple[float, ...],
    st: tuple[float, ...],
    eta: float,
    fixed_efficacy: tuple[float, ...] | None,
    final: bool,
) -> tuple[list[float], list[float], float]:
    """Efficacy and lower bounds for drift ``eta``, and the power P(cross upper | eta)."""
    k_looks = len(t)
    h1 = SequentialIntegrator(t, eta, spec.r)
    h0 = SequentialIntegrator(t, 0.0, spec.r) if fixed_efficacy is None else None
    alpha_cum = spec.efficacy_spending.cumulative(st, spec.alpha) if spec.efficacy_spending else ()
    beta_cum = spec.futility_spending.cumulative(st, spec.beta) if spec.futility_spending else ()
    upper: list[float] = []
    lower: list[float] = []
    spent_alpha = spent_beta = power = 0.0
    for k in range(k_looks):
        if fixed_efficacy is not None:
            b = fixed_efficacy[k]
        else:
            assert h0 is not None
            b = solve_upper_bound(h0, alpha_cum[k] - spent_alpha, 1)
            spent_alpha += h0.upper(b)
        if spec.futility_spending is not None:
            if k == k_looks - 1 and final:
                a = b
            else:
                a = solve_lower_bound(h1, beta_cum[k] - spent_beta, b)
            spent_beta += h1.lower(a)
        else:
            a = -b if spec.sides == 2 else -math.inf
        power += h1.upper(b)
        upper.append(b)
        lower.append(a)
        if k < k_looks - 1:
            h1.advance(a, b)
            if h0 is not None:
                h0.advance(a, b)
    return upper, lower, power


def _fixed_efficacy(
    spec: _Spec, t: tuple[float, ...], st: tuple[float, ...]
) -> tuple[float, ...] | None:
    """Efficacy bounds that do not depend on the drift (all but binding designs)."""
    if spec.efficacy_spending is None:
        return classical_bounds(
            spec.efficacy, t, spec.alpha, spec.sides, spec.efficacy_param, spec.r
        )
    if spec.binding:
        return None
    return spending_bounds(
        spec.efficacy_spending, t, spec.alpha, spec.sides, spending_time=st, r=spec.r
    )


def _solve_drift(
    spec: _Spec, t: tuple[float, ...], st: tuple[float, ...], fixed: tuple[float, ...] | None
) -> float:
    target = 1.0 - spec.beta

    def shortfall(eta: float) -> float:
        try:
            return _bounds_for_drift(spec, t, st, eta, fixed, True)[2] - target
        except DesignError:
            # binding futility so high under H0 that alpha cannot be spent: this only
            # happens when the drift (and so the power) is far above the target
            return 1.0

    eta_fixed = _fixed_drift(spec)
    lo, hi = 0.5 * eta_fixed, 1.1 * eta_fixed
    for _ in range(60):
        if shortfall(lo) < 0:
            break
        lo *= 0.5
    else:
        raise DesignError("cannot bracket the maximum information (power too low to solve)")
    for _ in range(60):
        if shortfall(hi) > 0:
            break
        lo, hi = hi, hi * 1.2
    else:
        raise DesignError(f"no maximum information reaches power {target:g} with these bounds")
    eta = float(brentq(shortfall, lo, hi, xtol=1e-10, rtol=1e-12))
    if abs(shortfall(eta)) > 1e-6:
        raise DesignError(f"could not solve the maximum information for power {target:g}")
    return eta


def _fixed_drift(spec: _Spec) -> float:
    return float(ndtri(1.0 - spec.alpha / spec.sides) + ndtri(1.0 - spec.beta))


def _summarise(
    spec: _Spec,
    t: tuple[float, ...],
    st: tuple[float, ...],
    eta: float,
    fixed: tuple[float, ...] | None,
    final: bool,
) -> GroupSequentialDesign:
    upper, lower, _ = _bounds_for_drift(spec, t, st, eta, fixed, final)
    r = spec.r
    has_fut = spec.futility_spending is not None
    # alpha as designed: non-binding futility ignored
    design_lower = lower if (spec.binding or not has_fut) else [-math.inf] * len(t)
    cp_alpha = crossing_probabilities(upper, design_lower, t, 0.0, r)
    cp0 = crossing_probabilities(upper, lower, t, 0.0, r)
    cp1 = crossing_probabilities(upper, lower, t, eta, r)
    if spec.sides == 2:
        cum_alpha = np.cumsum(np.add(cp_alpha.upper, cp_alpha.lower))
        type_i = cp0.total_upper + cp0.total_lower
    else:
        cum_alpha = np.cumsum(cp_alpha.upper)
        type_i = cp0.total_upper
    eta_fixed = _fixed_drift(spec)
    scale = (eta / eta_fixed) ** 2
    fut_sf = spec.futility_spending
    return GroupSequentialDesign(
        efficacy_family=spec.efficacy,
        efficacy_param=spec.efficacy_param,
        futility_family=fut_sf.family if fut_sf else None,
        futility_param=fut_sf.param if fut_sf else None,
        binding=spec.binding,
        sides=spec.sides,
        alpha=spec.alpha,
        beta=spec.beta,
        information_fractions=t,
        spending_time=st,
        efficacy=_tup(upper),
        futility=_tup(lower) if has_fut else (),
        nominal_p=_tup(ndtr(-np.asarray(upper))),
        futility_nominal_p=_tup(ndtr(-np.asarray(lower))) if has_fut else (),
        cumulative_alpha=_tup(cum_alpha),
        type_i_error=float(type_i),
        cumulative_power=cp1.cumulative_upper,
        cumulative_beta=cp1.cumulative_lower if has_fut else (),
        power=cp1.total_upper,
        drift=float(eta),
        fixed_drift=eta_fixed,
        expected_information_h0=cp0.expected_information * scale,
        expected_information_h1=cp1.expected_information * scale,
    )


def group_sequential_design(
    looks: int | Sequence[float] = 4,
    *,
    alpha: float = 0.025,
    sides: int = 1,
    efficacy: str = "ld-obf",
    efficacy_param: float | None = None,
    futility: str | None = None,
    futility_param: float | None = None,
    binding: bool = False,
    beta: float = 0.1,
    r: int = DEFAULT_GRID,
) -> GroupSequentialDesign:
    """Solve a group sequential design.

    ``looks``: number of equally spaced looks K, or the planned information
    fractions (positive, strictly increasing, last = 1).  ``efficacy``: a classical
    family (``pocock``, ``obf``, ``wang-tsiatis`` [Delta, default 0.25],
    ``haybittle-peto``) or an alpha-spending function (``ld-obf``, ``ld-pocock``,
    ``hsd`` [gamma, default -4], ``power`` [rho, default 3]).  ``futility``: a
    beta-spending function name (one-sided designs only), ``binding`` as in the
    module docs.  The maximum information is solved for power ``1 - beta``.
    """
    spec = _make_spec(
        efficacy, efficacy_param, futility, futility_param, binding, sides, alpha, beta, r
    )
    t = check_fractions(looks)
    fixed = _fixed_efficacy(spec, t, t)
    eta = _solve_drift(spec, t, t, fixed)
    return _summarise(spec, t, t, eta, fixed, True)


def bounds_at_observed_information(
    design: GroupSequentialDesign,
    observed_fractions: Sequence[float],
    *,
    final: bool = True,
    r: int = DEFAULT_GRID,
) -> GroupSequentialDesign:
    """Recompute an error-spending design's bounds at the information actually observed.

    ``observed_fractions`` are the observed information at each look so far, as
    fractions of the *planned* maximum information (a final look that over- or
    under-runs has a fraction above or below 1).  Correlations use the observed
    fractions; the spending functions are evaluated at ``min(fraction, 1)``, and when
    ``final`` is true the last look spends all remaining alpha (and beta), whatever its
    information.  The planned drift (effect size and ``I_max``) is kept, so ``power``
    is the power of the trial as actually run.
    """
    if design.efficacy_family not in SPENDING_FAMILIES:
        raise DesignError(
            "bounds can be recomputed at observed information only for error-spending "
            f"designs, not for the classical {design.efficacy_family!r} family"
        )
    t = check_fractions(
        observed_fractions, name="observed information fractions", last_is_one=False
    )
    for k, x in enumerate(t[:-1]):
        if x >= 1.0:
            raise DesignError(
                f"interim look {k + 1} reached {x:g} of the planned maximum information; "
                "a look at or beyond the maximum must be the final look"
            )
    if not final and t[-1] >= 1.0:
        raise DesignError(
            f"look {len(t)} reached {t[-1]:g} of the planned maximum information; "
            "it must be the final look (final=True)"
        )
    st = tuple(min(x, 1.0) for x in t)
    if final:
        st = st[:-1] + (1.0,)
    spec = _make_spec(
        design.efficacy_family,
        design.efficacy_param,
        design.futility_family,
        design.futility_param,
        design.binding,
        design.sides,
        design.alpha,
        design.beta,
        r,
    )
    fixed = None
    if not spec.binding:
        assert spec.efficacy_spending is not None
        fixed = spending_bounds(
            spec.efficacy_spending, t, spec.alpha, spec.sides, spending_time=st, r=r
        )
    return _summarise(spec, t, st, design.drift, fixed, final)
