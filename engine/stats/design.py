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
from collections.abc import Callable, Sequence
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
from .pampallona import PAMPALLONA_TSIATIS, pampallona_tsiatis
from .recursion import DEFAULT_GRID, SequentialIntegrator, crossing_probabilities
from .roots import brentq
from .spending import SPENDING_FAMILIES, SpendingFunction, spending_function, user_spending

__all__ = [
    "EFFICACY_FAMILIES",
    "FUTILITY_FAMILIES",
    "bounds_at_timing",
    "GroupSequentialDesign",
    "bounds_at_observed_information",
    "group_sequential_design",
]

#: Every efficacy boundary name accepted by :func:`group_sequential_design`.
EFFICACY_FAMILIES: tuple[str, ...] = (
    tuple(CLASSICAL_FAMILIES) + tuple(SPENDING_FAMILIES) + (PAMPALLONA_TSIATIS,)
)
#: Every futility bound accepted: beta-spending functions, bounds on the Z scale, and the
#: futility half of a Pampallona-Tsiatis design.
FUTILITY_FAMILIES: tuple[str, ...] = tuple(SPENDING_FAMILIES) + ("z", PAMPALLONA_TSIATIS)


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
    futility_drift: float | None = None
    """The drift a two-sided design's futility bounds were solved at (P(reject in either tail)
    = 1 - beta), when it differs from :attr:`drift`; None otherwise."""
    power_lower: float = 0.0
    """P(cross the lower efficacy bound | H1) of a two-sided design (0 when one-sided): with
    :attr:`power`, the probability of rejecting H0 in either tail."""
    efficacy_spending: SpendingFunction | None = None
    """The alpha-spending function (error-spending designs): kept to recompute the bounds at
    the information observed."""
    futility_spending: SpendingFunction | None = None
    """The beta-spending function of a beta-spending futility bound."""

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
            "efficacy_spending_fractions": list(self.efficacy_spending.fractions)
            if self.efficacy_spending is not None and self.efficacy_spending.family == "user"
            else None,
            "futility_spending_fractions": list(self.futility_spending.fractions)
            if self.futility_spending is not None and self.futility_spending.family == "user"
            else None,
            "efficacy_param": self.efficacy_param,
            "futility_family": self.futility_family,
            "futility_param": self.futility_param,
            "binding": self.binding,
            "sides": self.sides,
            "alpha": self.alpha,
            "beta": self.beta,
            "type_i_error": self.type_i_error,
            "power": self.power,
            "power_lower": self.power_lower,
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
    futility: str | None
    """None, a beta-spending family, ``z`` or ``pampallona-tsiatis``."""
    futility_param: float | None
    futility_spending: SpendingFunction | None
    futility_bounds: tuple[float, ...]
    """Futility bounds given on the Z scale (``futility == "z"``), one per look."""
    binding: bool
    sides: int
    alpha: float
    beta: float
    r: int

    @property
    def has_futility(self) -> bool:
        return self.futility is not None

    @property
    def inner_futility(self) -> bool:
        """Two-sided futility: the trial stops when ``|Z_k|`` is below the bound."""
        return self.sides == 2 and self.futility is not None


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
    *,
    looks: tuple[float, ...],
    efficacy_spending: Sequence[float] | SpendingFunction | None = None,
    futility_spending: Sequence[float] | SpendingFunction | None = None,
    futility_bounds: Sequence[float] | None = None,
) -> _Spec:
    alpha = check_alpha(alpha)
    beta = check_beta(beta)
    sides = check_sides(sides)
    if not isinstance(r, int) or r < 6:
        raise DesignError(f"grid size r must be an integer of at least 6, got {r!r}")
    eff_spend: SpendingFunction | None = None
    if efficacy == PAMPALLONA_TSIATIS:
        efficacy_param = _check_pt_delta("efficacy", efficacy_param)
    elif efficacy in CLASSICAL_FAMILIES:
        efficacy_param = check_classical(efficacy, efficacy_param)
    elif efficacy == "user":
        eff_spend = _user(efficacy_spending, looks, "efficacy spending fractions")
        if efficacy_param is not None:
            raise DesignError("a user-defined spending function takes fractions, not a parameter")
    elif efficacy in SPENDING_FAMILIES:
        eff_spend = spending_function(efficacy, efficacy_param)
        efficacy_param = eff_spend.param
    else:
        raise DesignError(
            f"unknown efficacy boundary {efficacy!r}; choose one of {', '.join(EFFICACY_FAMILIES)}"
        )
    if efficacy != "user" and efficacy_spending is not None:
        raise DesignError("efficacy spending fractions need the user-defined family ('user')")
    fut_spend: SpendingFunction | None = None
    bounds: tuple[float, ...] = ()
    if futility is None:
        if futility_param is not None or futility_spending is not None or futility_bounds:
            raise DesignError("a futility parameter was given without a futility bound")
        if binding:
            raise DesignError("binding applies only to a futility bound, and none was requested")
        if efficacy == PAMPALLONA_TSIATIS:
            raise DesignError("a Pampallona-Tsiatis design has a futility bound of the same "
                              "family (its Delta for the futility shape)")
    elif futility == PAMPALLONA_TSIATIS:
        if efficacy != PAMPALLONA_TSIATIS:
            raise DesignError("a Pampallona-Tsiatis futility bound goes with a "
                              "Pampallona-Tsiatis efficacy bound")
        futility_param = _check_pt_delta("futility", futility_param)
    elif efficacy == PAMPALLONA_TSIATIS:
        raise DesignError("a Pampallona-Tsiatis efficacy bound goes with a Pampallona-Tsiatis "
                          "futility bound")
    elif futility == "z":
        if sides == 2:
            raise DesignError("futility bounds on the Z scale are for one-sided designs; a "
                              "two-sided design takes a beta-spending futility bound")
        bounds = _z_bounds(futility_bounds, looks)
        if futility_param is not None or futility_spending is not None:
            raise DesignError("futility bounds on the Z scale take no parameter")
    elif futility == "user":
        fut_spend = _user(futility_spending, looks, "futility spending fractions")
        if futility_param is not None:
            raise DesignError("a user-defined spending function takes fractions, not a parameter")
    else:
        fut_spend = spending_function(futility, futility_param)
        futility_param = fut_spend.param
    if futility not in (None, "z") and futility_bounds:
        raise DesignError("futility bounds on the Z scale need the futility family 'z'")
    if futility != "user" and futility_spending is not None:
        raise DesignError("futility spending fractions need the user-defined family ('user')")
    if binding and fut_spend is not None and eff_spend is None:
        raise DesignError(
            "binding beta-spending futility needs an error-spending efficacy bound (ld-obf, "
            "ld-pocock, hsd, power, user)"
        )
    return _Spec(
        efficacy, efficacy_param, eff_spend, futility, futility_param, fut_spend, bounds,
        bool(binding), sides, alpha, beta, r,
    )


def _check_pt_delta(which: str, value: float | None) -> float:
    if value is None:
        return 0.0
    if not isinstance(value, int | float) or not math.isfinite(value) or not -0.5 <= value <= 1.0:
        raise DesignError(f"the Pampallona-Tsiatis {which} Delta must be between -0.5 and 1, "
                          f"got {value!r}")
    return float(value)


def _user(
    given: Sequence[float] | SpendingFunction | None, looks: tuple[float, ...], name: str
) -> SpendingFunction:
    if isinstance(given, SpendingFunction):
        return given
    if given is None:
        raise DesignError(f"a user-defined spending function needs its {name}, one per look")
    return user_spending(looks, list(given), name=name)


def _z_bounds(given: Sequence[float] | None, looks: tuple[float, ...]) -> tuple[float, ...]:
    k = len(looks)
    if not given:
        raise DesignError("futility bounds on the Z scale need a bound for each interim look")
    try:
        values = tuple(float(x) for x in given)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"futility bounds must be numbers, got {given!r}") from exc
    if len(values) == k:  # a bound for the last look too: it is the last efficacy bound
        values = values[:-1]
    if len(values) != k - 1:
        raise DesignError(f"there are {k} looks, so {k - 1} futility bounds on the Z scale "
                          f"(one per interim look), not {len(values)}")
    if any(math.isnan(x) or x == math.inf for x in values):
        raise DesignError("futility bounds on the Z scale must be numbers below infinity "
                          "(-inf: no futility stop at that look)")
    return values + (-math.inf,)


def _two_sided_reference(
    spec: _Spec, t: tuple[float, ...], st: tuple[float, ...], fixed: tuple[float, ...] | None,
    final: bool,
) -> tuple[tuple[bool, ...], tuple[float, ...]]:
    """Where a two-sided design has no futility stop, and the beta it spends at each look.

    As rpact does (its two-sided beta spending): the one-sided design with the same upper
    bounds (alpha / 2 when binding) and the same beta spending is solved; at an interim look
    where its futility bound is negative there is no two-sided futility stop, and the beta
    spending function is rescaled to start from zero at the last such look.
    """
    assert spec.futility_spending is not None
    one = attrs.evolve(spec, sides=1, alpha=spec.alpha / 2)
    ref_fixed = fixed
    eta = _solve_drift(one, t, st, ref_fixed)
    _, lower, _ = _bounds_for_drift(one, t, st, eta, ref_fixed, final)
    interim = lower[:-1]
    none_here = tuple(a < 0 for a in interim) + (False,)
    beta_cum = list(spec.futility_spending.cumulative(st, spec.beta))
    first = next((k for k, a in enumerate(interim) if a > 0), -1)
    if first > 0:
        base, top = beta_cum[first - 1], beta_cum[-1]
        beta_cum = [0.0 if k < first else (b - base) / (top - base) * top
                    for k, b in enumerate(beta_cum)]
    return none_here, tuple(beta_cum)


def _bounds_for_drift(
    spec: _Spec,
    t: tuple[float, ...],
    st: tuple[float, ...],
    eta: float,
    fixed_efficacy: tuple[float, ...] | None,
    final: bool,
) -> tuple[list[float], list[float], float]:
    """Efficacy and futility bounds for drift ``eta``, and the power that the drift is
    solved for: P(cross the upper bound | eta), or, for a two-sided design with futility,
    P(reject H0 in either tail | eta) (so that the beta spent is beta, as rpact does).

    The futility bound is the lower bound ``a_k`` of a one-sided design (``-b_k`` for a
    two-sided design without futility) or the inner bound of a two-sided design: stop for
    futility when ``|Z_k| < a_k``.
    """
    k_looks = len(t)
    inner = spec.inner_futility
    h1 = SequentialIntegrator(t, eta, spec.r)
    h0 = SequentialIntegrator(t, 0.0, spec.r) if fixed_efficacy is None else None
    # per tail f(t; alpha / sides), both tails together: as spending_bounds does
    alpha_cum = tuple(spec.sides * x for x in spec.efficacy_spending.cumulative(
        st, spec.alpha / spec.sides)) if spec.efficacy_spending else ()
    if inner:
        none_here, beta_cum = _two_sided_reference(spec, t, st, fixed_efficacy, final)
    else:
        none_here = (False,) * k_looks
        beta_cum = spec.futility_spending.cumulative(st, spec.beta) if spec.futility_spending \
            else ()
    upper: list[float] = []
    lower: list[float] = []
    spent_alpha = spent_beta = power = 0.0
    sides = spec.sides
    for k in range(k_looks):
        last = k == k_looks - 1
        if fixed_efficacy is not None:
            b = fixed_efficacy[k]
        else:
            assert h0 is not None
            b = solve_upper_bound(h0, alpha_cum[k] - spent_alpha, sides)
            spent_alpha += h0.upper(b) + (h0.lower(-b) if sides == 2 else 0.0)
        if spec.futility is None:
            a = -b if sides == 2 else -math.inf
        elif last and final:
            a = b
        elif spec.futility == "z":
            a = min(spec.futility_bounds[k], b)
        elif inner:
            a = 0.0 if none_here[k] else solve_inner_bound(h1, beta_cum[k] - spent_beta, b)
        else:
            a = solve_lower_bound(h1, beta_cum[k] - spent_beta, b)
        if inner:
            spent_beta += h1.lower(a) - h1.lower(-a)
            power += h1.upper(b) + h1.lower(-b)
        else:
            spent_beta += h1.lower(a)
            power += h1.upper(b)
        upper.append(b)
        lower.append(a)
        if k < k_looks - 1:
            regions = ((-b, -a), (a, b)) if inner and a > 0 else (
                ((-b, b),) if inner else ((a, b),))
            h1.advance_regions(regions)
            if h0 is not None:
                h0.advance_regions(regions)
    return upper, lower, power


def solve_inner_bound(it: SequentialIntegrator, target: float, ceiling: float) -> float:
    """Inner bound ``0 <= c <= ceiling`` at look ``it.k`` with P(continue, |Z_k| < c) = target
    (``ceiling`` when even that spends no more; 0 for a target of 0)."""
    if target <= 0.0:
        return 0.0

    def excess(c: float) -> float:
        return it.lower(c) - it.lower(-c) - target

    if excess(ceiling) <= 0:
        return ceiling
    return float(brentq(excess, 0.0, ceiling, xtol=1e-12, rtol=4 * np.finfo(float).eps))


def _fixed_efficacy(
    spec: _Spec, t: tuple[float, ...], st: tuple[float, ...]
) -> tuple[float, ...] | None:
    """Efficacy bounds that do not depend on the drift (None for binding beta spending)."""
    binding_z = spec.futility_bounds if spec.binding and spec.futility == "z" else None
    if spec.efficacy_spending is None:
        return classical_bounds(
            spec.efficacy, t, spec.alpha, spec.sides, spec.efficacy_param, spec.r,
            futility=binding_z,
        )
    if spec.binding and spec.futility != "z":
        return None
    return spending_bounds(
        spec.efficacy_spending, t, spec.alpha, spec.sides, spending_time=st, r=spec.r,
        futility=binding_z,
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

    return _bracket_and_solve(shortfall, _fixed_drift(spec), target)


def _bracket_and_solve(shortfall: Callable[[float], float], start: float, target: float) -> float:
    lo, hi = 0.5 * start, 1.1 * start
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
    upper: Sequence[float],
    lower: Sequence[float],
    futility_drift: float | None = None,
) -> GroupSequentialDesign:
    r = spec.r
    has_fut = spec.has_futility
    inner = spec.inner_futility
    k = len(t)
    eff_lower = [-b for b in upper] if spec.sides == 2 else list(lower) if has_fut else None
    holes = list(lower) if inner else None
    # alpha as designed: non-binding futility ignored
    if spec.binding or not has_fut:
        cp_alpha = crossing_probabilities(upper, eff_lower, t, 0.0, r, inner=holes)
    else:
        cp_alpha = crossing_probabilities(upper, [-b for b in upper] if spec.sides == 2
                                          else [-math.inf] * k, t, 0.0, r)
    cp0 = crossing_probabilities(upper, eff_lower, t, 0.0, r, inner=holes)
    cp1 = crossing_probabilities(upper, eff_lower, t, eta, r, inner=holes)
    if spec.sides == 2:
        cum_alpha = np.cumsum(np.add(cp_alpha.upper, cp_alpha.lower))
        type_i = cp0.total_upper + cp0.total_lower
    else:
        cum_alpha = np.cumsum(cp_alpha.upper)
        type_i = cp0.total_upper
    if inner:
        cum_beta = cp1.inner
    elif has_fut:
        cum_beta = cp1.lower
    else:
        cum_beta = ()
    eta_fixed = _fixed_drift(spec)
    scale = (eta / eta_fixed) ** 2
    return GroupSequentialDesign(
        efficacy_family=spec.efficacy,
        efficacy_param=spec.efficacy_param,
        futility_family=spec.futility,
        futility_param=spec.futility_param,
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
        cumulative_beta=_tup(np.cumsum(cum_beta)) if has_fut else (),
        power=cp1.total_upper,
        drift=float(eta),
        fixed_drift=eta_fixed,
        expected_information_h0=cp0.expected_information * scale,
        expected_information_h1=cp1.expected_information * scale,
        power_lower=cp1.total_lower if spec.sides == 2 else 0.0,
        futility_drift=futility_drift,
        efficacy_spending=spec.efficacy_spending,
        futility_spending=spec.futility_spending,
    )


def group_sequential_design(
    looks: int | Sequence[float] = 4,
    *,
    alpha: float = 0.025,
    sides: int = 1,
    efficacy: str = "ld-obf",
    efficacy_param: float | None = None,
    efficacy_spending: Sequence[float] | None = None,
    futility: str | None = None,
    futility_param: float | None = None,
    futility_spending: Sequence[float] | None = None,
    futility_bounds: Sequence[float] | None = None,
    binding: bool = False,
    beta: float = 0.1,
    r: int = DEFAULT_GRID,
) -> GroupSequentialDesign:
    """Solve a group sequential design.

    ``looks``: number of equally spaced looks K, or the planned information
    fractions (positive, strictly increasing, last = 1).  ``efficacy``: a classical
    family (``pocock``, ``obf``, ``wang-tsiatis`` [Delta, default 0.25],
    ``haybittle-peto`` [the interim bound, default 3]), an alpha-spending function
    (``ld-obf``, ``ld-pocock``, ``hsd`` [gamma, default -4], ``power`` [rho, default 3],
    ``user`` with ``efficacy_spending``, the cumulative fractions of alpha spent by each
    look), or ``pampallona-tsiatis`` [Delta1] with ``futility="pampallona-tsiatis"`` [Delta0].
    ``futility``: a beta-spending function (as for efficacy, ``user`` with
    ``futility_spending``), ``z`` with ``futility_bounds`` on the Z scale (one-sided), or
    ``pampallona-tsiatis``; two-sided designs stop for futility when ``|Z_k|`` is below the
    bound. ``binding`` as in the module docs. The maximum information is solved for power
    ``1 - beta``.
    """
    t = check_fractions(looks)
    spec = _make_spec(
        efficacy, efficacy_param, futility, futility_param, binding, sides, alpha, beta, r,
        looks=t, efficacy_spending=efficacy_spending, futility_spending=futility_spending,
        futility_bounds=futility_bounds,
    )
    if spec.efficacy == PAMPALLONA_TSIATIS:
        assert spec.efficacy_param is not None and spec.futility_param is not None
        eta, upper, lower = pampallona_tsiatis(
            t, alpha=spec.alpha, beta=spec.beta, sides=spec.sides, delta1=spec.efficacy_param,
            delta0=spec.futility_param, binding=spec.binding, r=spec.r,
        )
    else:
        fixed = _fixed_efficacy(spec, t, t)
        eta = _solve_drift(spec, t, t, fixed)
        upper, lower, _ = _bounds_for_drift(spec, t, t, eta, fixed, True)
    if spec.inner_futility:
        # The bounds of a two-sided design with futility are solved for P(reject in either
        # tail) = 1 - beta; its maximum information is then solved, with those bounds, for
        # the power of the upper tail, as for every other design (rpact does the same: its
        # design characteristics, and so its sample sizes, use the upper-tail power).
        return _summarise(spec, t, t, _upper_power_drift(spec, t, upper, lower, eta), upper,
                          lower, futility_drift=eta)
    return _summarise(spec, t, t, eta, upper, lower)


def _upper_power_drift(
    spec: _Spec, t: tuple[float, ...], upper: Sequence[float], lower: Sequence[float],
    start: float,
) -> float:
    holes = list(lower)
    holes[-1] = 0.0
    target = 1.0 - spec.beta

    def shortfall(eta: float) -> float:
        cp = crossing_probabilities(upper, [-b for b in upper], t, eta, spec.r, inner=holes)
        return cp.total_upper - target

    return _bracket_and_solve(shortfall, start, target)


def bounds_at_observed_information(
    design: GroupSequentialDesign,
    observed_fractions: Sequence[float],
    *,
    final: bool = True,
    r: int = DEFAULT_GRID,
    futility_bounds: Sequence[float] | None = None,
) -> GroupSequentialDesign:
    """Recompute an error-spending design's bounds at the information actually observed.

    A futility bound given on the Z scale keeps its values look by look (``futility_bounds``,
    one per observed look, replaces them when looks were added or skipped).

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
    z_bounds = _observed_z_bounds(design, len(t), futility_bounds)
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
        looks=t,
        efficacy_spending=design.efficacy_spending if design.efficacy_family == "user" else None,
        futility_spending=design.futility_spending if design.futility_family == "user" else None,
        futility_bounds=z_bounds,
    )
    fixed = _fixed_efficacy(spec, t, st)
    bound_drift = design.futility_drift if design.futility_drift is not None else design.drift
    upper, lower, _ = _bounds_for_drift(spec, t, st, bound_drift, fixed, final)
    return _summarise(spec, t, st, design.drift, upper, lower,
                      futility_drift=design.futility_drift)


def _observed_z_bounds(
    design: GroupSequentialDesign, looks: int, given: Sequence[float] | None
) -> list[float] | None:
    """The Z-scale futility bounds for ``looks`` observed looks (None for other futility)."""
    if design.futility_family != "z":
        if given is not None:
            raise DesignError("futility_bounds apply to a design with futility on the Z scale")
        return None
    if given is not None:
        return [float(x) for x in given]
    values = list(design.futility[:-1])
    if len(values) < looks - 1:
        raise DesignError(f"the design has {len(values)} futility bounds on the Z scale for "
                          f"its interim looks, not {looks - 1}: give futility_bounds")
    return values[: looks - 1]


def bounds_at_timing(
    design: GroupSequentialDesign,
    timing: Sequence[float],
    *,
    futility_bounds: Sequence[float] | None = None,
    r: int = DEFAULT_GRID,
) -> GroupSequentialDesign:
    """A design with a fixed number of looks (classical families, Pampallona-Tsiatis) at the
    looks actually taken and to come (``timing``: fractions of the planned maximum, the last
    being the final analysis).

    The family's constant is solved again for the looks at ``timing / timing[-1]`` (a
    Pampallona-Tsiatis design is solved again there whole). A beta-spending futility bound
    keeps the planned drift and spends the planned beta, all that is left at the last look; a
    Z-scale futility bound keeps its values (``futility_bounds`` replaces them). With the
    looks exactly as planned, the bounds are the planned ones.
    """
    t = check_fractions(timing, name="information at the looks", last_is_one=False)
    if len(t) != design.k:
        raise DesignError(f"the {design.efficacy_family} design plans {design.k} looks, not "
                          f"{len(t)}: its number of looks is fixed")
    last = t[-1]
    s = tuple(x / last for x in t[:-1]) + (1.0,)
    z_bounds = _observed_z_bounds(design, len(t), futility_bounds)
    spec = _make_spec(
        design.efficacy_family, design.efficacy_param, design.futility_family,
        design.futility_param, design.binding, design.sides, design.alpha, design.beta, r,
        looks=s,
        futility_spending=design.futility_spending if design.futility_family == "user" else None,
        futility_bounds=z_bounds,
    )
    if spec.efficacy == PAMPALLONA_TSIATIS:
        assert spec.efficacy_param is not None and spec.futility_param is not None
        eta, upper, lower = pampallona_tsiatis(
            s, alpha=spec.alpha, beta=spec.beta, sides=spec.sides, delta1=spec.efficacy_param,
            delta0=spec.futility_param, binding=spec.binding, r=r,
        )
        return _summarise(spec, s, s, eta, upper, lower)
    if spec.efficacy_spending is not None:
        raise DesignError("an error-spending design is recomputed with "
                          "bounds_at_observed_information")
    fixed = _fixed_efficacy(spec, s, s)
    st = tuple(min(x, 1.0) for x in t[:-1]) + (1.0,)
    bound_drift = design.futility_drift if design.futility_drift is not None else design.drift
    upper, lower, _ = _bounds_for_drift(spec, t, st, bound_drift, fixed, True)
    return _summarise(spec, t, st, design.drift, upper, lower,
                      futility_drift=design.futility_drift)
