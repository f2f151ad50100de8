"""Haybittle-Peto with any interim bound, user-defined spending, futility on the Z scale,
Pampallona-Tsiatis, two-sided beta spending and conditional power: their defining properties,
checked independently of the solvers (the values against rpact are in test_rpact_reference.py).

Sources: Pampallona S, Tsiatis AA (1994), J Stat Plan Inference 42:19-35 (the power family of
bounds, in rpact's parametrisation); Lan KKG, Wittes J (1988), Biometrics 44:579-585 and
Jennison & Turnbull (2000) §10.1 (conditional power: with one look to come,
1 - Phi((b_K sqrt(t_K) - z sqrt(t_k) - theta (t_K - t_k)) / sqrt(t_K - t_k))).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from engine.stats import (
    DesignError,
    bounds_at_observed_information,
    conditional_power,
    crossing_probabilities,
    group_sequential_design,
    trend_drift,
)


def _cov(t: list[float]) -> np.ndarray:
    return np.array([[math.sqrt(min(a, b) / max(a, b)) for b in t] for a in t])


def _p_no_crossing(t: list[float], upper: list[float], lower: list[float]) -> float:
    """P(lower_k < Z_k < upper_k for all k) under H0 by scipy's multivariate normal CDF."""
    mvn = multivariate_normal(mean=np.zeros(len(t)), cov=_cov(t))
    return float(mvn.cdf(np.array(upper), lower_limit=np.array(lower)))


# ---- Haybittle-Peto with any interim bound ------------------------------------------------


@pytest.mark.parametrize("c", [2.5, 3.29, 3.5])
def test_haybittle_peto_constant(c: float) -> None:
    d = group_sequential_design(3, alpha=0.025, sides=1, efficacy="haybittle-peto",
                                efficacy_param=c)
    assert d.efficacy[:2] == (c, c)
    t = [1 / 3, 2 / 3, 1.0]
    alpha = 1 - _p_no_crossing(t, list(d.efficacy), [-np.inf] * 3)
    assert alpha == pytest.approx(0.025, abs=2e-5)


def test_haybittle_peto_that_spends_everything_says_so() -> None:
    with pytest.raises(DesignError) as info:
        group_sequential_design(3, alpha=0.001, sides=1, efficacy="haybittle-peto")
    assert str(info.value) == (
        "Haybittle-Peto interim bounds of 3 already spend 0.002462 >= alpha = 0.001; use more "
        "alpha, fewer looks or a higher interim bound")
    d = group_sequential_design(3, alpha=0.001, sides=1, efficacy="haybittle-peto",
                                efficacy_param=3.5)
    assert d.efficacy[:2] == (3.5, 3.5)
    with pytest.raises(DesignError, match="interim bound must be a positive Z value, got -1"):
        group_sequential_design(3, efficacy="haybittle-peto", efficacy_param=-1)


# ---- user-defined spending ----------------------------------------------------------------


def test_user_alpha_spending_spends_the_fractions() -> None:
    fractions = [0.1, 0.4, 1.0]
    d = group_sequential_design((0.3, 0.6, 1), alpha=0.025, sides=1, efficacy="user",
                                efficacy_spending=fractions)
    assert d.cumulative_alpha == pytest.approx([0.0025, 0.01, 0.025], abs=1e-9)
    two = group_sequential_design((0.3, 0.6, 1), alpha=0.05, sides=2, efficacy="user",
                                  efficacy_spending=fractions)
    assert two.cumulative_alpha == pytest.approx([0.005, 0.02, 0.05], abs=1e-9)


def test_user_spending_interpolates_at_observed_information() -> None:
    d = group_sequential_design((0.25, 0.5, 1), alpha=0.025, sides=1, efficacy="user",
                                efficacy_spending=[0.1, 0.3, 1.0])
    # at 0.375, halfway between 0.25 and 0.5: 0.1 + (0.3 - 0.1) / 2 = 0.2 of alpha
    now = bounds_at_observed_information(d, (0.25, 0.375), final=False)
    assert now.cumulative_alpha[-1] == pytest.approx(0.2 * 0.025, abs=1e-9)


def test_user_beta_spending() -> None:
    d = group_sequential_design((0.3, 0.6, 1), alpha=0.025, sides=1, efficacy="ld-obf",
                                futility="user", futility_spending=[0.2, 0.5, 1.0], beta=0.1)
    assert d.cumulative_beta == pytest.approx([0.02, 0.05, 0.1], abs=1e-7)
    assert d.power == pytest.approx(0.9, abs=1e-7)


@pytest.mark.parametrize(("fractions", "message"), [
    ([0.1, 0.4], "efficacy spending fractions give 2 values but there are 3 looks"),
    ([0.4, 0.1, 1.0], "spending fractions are cumulative and cannot decrease, got 0.4, 0.1, 1"),
    ([0.1, 0.4, 0.9], "the last spending fraction must be 1 (everything is spent by the final "
                      "look), got 0.9"),
    ([0.1, 1.4, 1.0], "spending fractions must lie between 0 and 1, got 0.1, 1.4, 1"),
    (None, "a user-defined spending function needs its efficacy spending fractions, one per "
           "look"),
])
def test_user_spending_errors(fractions: list[float] | None, message: str) -> None:
    with pytest.raises(DesignError) as info:
        group_sequential_design(3, efficacy="user", efficacy_spending=fractions)
    assert str(info.value) == message


# ---- futility on the Z scale --------------------------------------------------------------


def test_z_futility_non_binding_keeps_the_efficacy_bounds() -> None:
    plain = group_sequential_design(3, alpha=0.025, efficacy="ld-obf", beta=0.2)
    fut = group_sequential_design(3, alpha=0.025, efficacy="ld-obf", beta=0.2, futility="z",
                                  futility_bounds=[0.0, 0.5])
    assert fut.efficacy == pytest.approx(plain.efficacy, abs=1e-12)
    assert fut.futility[:2] == (0.0, 0.5)
    # the futility stops cost power, so the maximum information grows
    assert fut.inflation_factor > plain.inflation_factor
    assert fut.power == pytest.approx(0.8, abs=1e-7)


def test_z_futility_binding_lowers_the_efficacy_bounds_and_keeps_alpha() -> None:
    d = group_sequential_design(3, alpha=0.025, efficacy="obf", beta=0.2, futility="z",
                                futility_bounds=[0.0, 0.5], binding=True)
    plain = group_sequential_design(3, alpha=0.025, efficacy="obf", beta=0.2)
    assert all(a < b for a, b in zip(d.efficacy, plain.efficacy, strict=True))
    t = [1 / 3, 2 / 3, 1.0]
    # alpha = P(cross upper before crossing the futility bound), by inclusion of the paths
    cp = crossing_probabilities(d.efficacy, [0.0, 0.5, -np.inf], t)
    assert cp.total_upper == pytest.approx(0.025, abs=1e-8)
    assert d.type_i_error == pytest.approx(0.025, abs=1e-8)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(sides=2, alpha=0.05), "futility bounds on the Z scale are for one-sided designs; a "
                                "two-sided design takes a beta-spending futility bound"),
    (dict(futility_bounds=[0.0]), "there are 3 looks, so 2 futility bounds on the Z scale (one "
                                  "per interim look), not 1"),
])
def test_z_futility_errors(kwargs, message: str) -> None:
    args = dict(futility="z", futility_bounds=[0.0, 0.5]) | kwargs
    with pytest.raises(DesignError) as info:
        group_sequential_design(3, **args)
    assert str(info.value) == message


# ---- Pampallona-Tsiatis -------------------------------------------------------------------


@pytest.mark.parametrize("binding", [False, True])
@pytest.mark.parametrize("sides", [1, 2])
def test_pampallona_tsiatis_shape_and_error_rates(binding: bool, sides: int) -> None:
    d1, d0 = 0.25, 0.1
    alpha = 0.025 * sides
    d = group_sequential_design(4, alpha=alpha, sides=sides, beta=0.2, binding=binding,
                                efficacy="pampallona-tsiatis", efficacy_param=d1,
                                futility="pampallona-tsiatis", futility_param=d0)
    t = np.array(d.information_fractions)
    b, a = np.array(d.efficacy), np.array(d.futility)
    assert b / b[-1] == pytest.approx(t ** (d1 - 0.5), rel=1e-10)
    eta = d.futility_drift if d.futility_drift is not None else d.drift
    c1 = b[-1]
    expected = np.minimum(eta * np.sqrt(t) - (eta - c1) * t ** (d0 - 0.5), b)
    if sides == 2:
        expected = np.maximum(expected, 0.0)
    assert a == pytest.approx(expected, abs=1e-9)
    assert a[-1] == pytest.approx(b[-1])
    assert d.cumulative_alpha[-1] == pytest.approx(alpha, abs=1e-8)
    assert d.power == pytest.approx(0.8, abs=1e-7)


# ---- two-sided beta spending --------------------------------------------------------------


def test_two_sided_beta_spending() -> None:
    d = group_sequential_design(3, alpha=0.05, sides=2, beta=0.2, efficacy="ld-obf",
                                futility="ld-obf")
    plain = group_sequential_design(3, alpha=0.05, sides=2, beta=0.2, efficacy="ld-obf")
    assert d.efficacy == pytest.approx(plain.efficacy, abs=1e-12)  # non-binding
    # the one-sided bound of the first look would be negative: no futility stop there
    assert d.futility[0] == 0.0 and 0 < d.futility[1] < d.efficacy[1]
    assert d.cumulative_alpha[-1] == pytest.approx(0.05, abs=1e-9)
    # the bounds spend beta as the probability of stopping with |Z| below the bound when
    # P(reject in either tail) = 0.8 (at futility_drift); the maximum information is then
    # solved for the upper tail's power, as for every design
    assert d.power == pytest.approx(0.8, abs=1e-7)
    assert d.futility_drift is not None and d.futility_drift < d.drift
    assert d.cumulative_beta[-1] == pytest.approx(1 - d.power - d.power_lower, abs=1e-6)
    at = bounds_at_observed_information(d, d.information_fractions)
    assert at.futility == pytest.approx(d.futility, abs=1e-9)  # as planned: the same bounds


# ---- conditional power --------------------------------------------------------------------


def test_conditional_power_with_one_look_left_is_the_closed_form() -> None:
    t, b, z, theta = [0.5, 1.0], [2.797, 1.977], 1.2, 2.8
    expected = 1 - norm.cdf((b[1] - z * math.sqrt(0.5) - theta * 0.5) / math.sqrt(0.5))
    assert conditional_power(t, b, 0, z, theta) == pytest.approx(expected, abs=1e-9)


def test_conditional_power_by_monte_carlo() -> None:
    d = group_sequential_design(4, alpha=0.025, sides=1, efficacy="ld-obf", beta=0.1)
    t = np.array(d.information_fractions)
    z1, theta = 0.8, d.drift
    rng = np.random.default_rng(20240517)
    n = 400_000
    s = z1 * math.sqrt(t[0]) + np.cumsum(
        rng.normal(theta * np.diff(t)[:, None], np.sqrt(np.diff(t))[:, None], (3, n)), axis=0)
    z = s / np.sqrt(t[1:])[:, None]
    crossed = (z >= np.array(d.efficacy[1:])[:, None]).any(axis=0).mean()
    cp = conditional_power(t, d.efficacy, 0, z1, theta)
    assert cp == pytest.approx(crossed, abs=3 * math.sqrt(cp * (1 - cp) / n))
    # under the current trend the effect is smaller, and so is the power
    assert conditional_power(t, d.efficacy, 0, z1, trend_drift(z1, t[0])) < cp
    assert trend_drift(z1, 0.25) == pytest.approx(1.6)


def test_conditional_power_needs_a_look_to_come() -> None:
    with pytest.raises(DesignError, match="needs a look still to come after look 2"):
        conditional_power([0.5, 1.0], [2.8, 2.0], 1, 1.0, 2.0)
