"""The recursive integration core: exactness checks, convergence, Monte Carlo, speed."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.special import ndtr

from engine.stats import DesignError, crossing_probabilities, group_sequential_design
from engine.stats.recursion import SequentialIntegrator


def test_single_look_is_the_normal_tail() -> None:
    cp = crossing_probabilities([1.7], [-0.4], [2.5], theta=0.8)
    mu = 0.8 * math.sqrt(2.5)
    assert cp.upper[0] == pytest.approx(ndtr(mu - 1.7), abs=1e-15)
    assert cp.lower[0] == pytest.approx(ndtr(-0.4 - mu), abs=1e-15)


def test_no_bounds_means_no_crossing_and_full_mass_continues() -> None:
    cp = crossing_probabilities([math.inf] * 4, None, [1, 2, 3, 4], theta=0.3)
    assert cp.upper == (0.0,) * 4 and cp.lower == (0.0,) * 4
    assert cp.stop_probability == (0.0, 0.0, 0.0, 1.0)
    it = SequentialIntegrator([1, 2, 3], theta=0.3)
    it.advance(-math.inf, math.inf)
    it.advance(-math.inf, math.inf)
    assert it.continuing == pytest.approx(1.0, abs=1e-6)  # Simpson error of the r = 18 grid


def test_two_looks_against_bivariate_normal() -> None:
    # P(Z1 < b1, Z2 >= b2) with corr sqrt(I1/I2), via one-dimensional quadrature
    from scipy.integrate import quad
    from scipy.stats import norm

    i1, i2, theta, b1, b2 = 1.0, 3.0, 0.5, 2.2, 1.9
    rho = math.sqrt(i1 / i2)
    m1, m2 = theta * math.sqrt(i1), theta * math.sqrt(i2)

    def integrand(z1: float) -> float:
        cond_mean = m2 + rho * (z1 - m1)
        return float(norm.pdf(z1 - m1) * norm.sf((b2 - cond_mean) / math.sqrt(1 - rho**2)))

    expected = quad(integrand, -12, b1, epsabs=1e-13)[0]
    cp = crossing_probabilities([b1, b2], None, [i1, i2], theta=theta)
    assert cp.upper[1] == pytest.approx(expected, abs=1e-8)


def test_symmetry_under_h0() -> None:
    b = [2.8, 2.4, 2.1]
    cp_up = crossing_probabilities(b, None, [0.2, 0.7, 1.0])
    cp_lo = crossing_probabilities([math.inf] * 3, [-x for x in b], [0.2, 0.7, 1.0])
    assert cp_up.upper == pytest.approx(cp_lo.lower, abs=1e-12)


def test_grid_convergence() -> None:
    args = ([3.2, 2.6, 2.2, 2.0, 1.9], [-1.0, 0.0, 0.6, 1.2, 1.9], [0.15, 0.3, 0.55, 0.8, 1.0])
    coarse = crossing_probabilities(*args, theta=2.9, r=18)
    fine = crossing_probabilities(*args, theta=2.9, r=80)
    assert coarse.upper == pytest.approx(fine.upper, abs=1e-6)
    assert coarse.lower == pytest.approx(fine.lower, abs=1e-6)


def test_scale_of_information_does_not_matter_under_h0() -> None:
    b, a = [2.5, 2.2, 2.0], [-0.5, 0.5, 2.0]
    one = crossing_probabilities(b, a, [1, 2, 3])
    other = crossing_probabilities(b, a, [100, 200, 300])
    assert one.upper == pytest.approx(other.upper, abs=1e-12)


def test_k10_is_fast() -> None:
    t = [(k + 1) / 10 for k in range(10)]
    crossing_probabilities([2.5] * 10, [0.0] * 10, t, theta=3.0)  # warm caches
    start = time.perf_counter()
    for _ in range(10):
        crossing_probabilities([2.5] * 10, [0.0] * 10, t, theta=3.0)
    per_call = (time.perf_counter() - start) / 10
    assert per_call < 0.05  # a few milliseconds on an ordinary machine


def test_monte_carlo_agrees_within_three_standard_errors() -> None:
    """Simulated Brownian-motion paths (fixed seed) against the recursion."""
    d = group_sequential_design(
        (0.25, 0.5, 0.75, 1.0), alpha=0.025, efficacy="ld-obf", futility="hsd", futility_param=-2
    )
    t = np.asarray(d.information_fractions)
    b, a = np.asarray(d.efficacy), np.asarray(d.futility)
    rng = np.random.default_rng(12345)
    n = 400_000
    for theta in (0.0, d.drift):
        increments = rng.standard_normal((n, t.size)) * np.sqrt(np.diff(t, prepend=0.0))
        increments += theta * np.diff(t, prepend=0.0)
        z = np.cumsum(increments, axis=1) / np.sqrt(t)
        going = np.ones(n, dtype=bool)
        sim_up, sim_lo = [], []
        for k in range(t.size):
            up = going & (z[:, k] >= b[k])
            lo = going & ~up & (z[:, k] <= a[k])
            sim_up.append(up.mean())
            sim_lo.append(lo.mean())
            going &= ~(up | lo)
        cp = crossing_probabilities(b, a, t, theta=theta)
        for sim, exact in zip(sim_up + sim_lo, cp.upper + cp.lower, strict=True):
            se = math.sqrt(max(exact * (1 - exact), 1e-12) / n)
            assert abs(sim - exact) < 3 * se + 1e-12, (theta, sim, exact)
        # expected information too, with its own standard error
        stop_k = np.where(going, t.size - 1, 0)
        stopped = np.zeros(n, dtype=bool)
        for k in range(t.size):
            hit = ~stopped & ((z[:, k] >= b[k]) | (z[:, k] <= a[k]))
            stop_k[hit] = k
            stopped |= hit
        info = t[stop_k]
        assert abs(info.mean() - cp.expected_information) < 3 * info.std() / math.sqrt(n)
    assert d.power == pytest.approx(0.9, abs=1e-9)


def test_bad_inputs_are_design_errors() -> None:
    with pytest.raises(DesignError, match="strictly increasing"):
        crossing_probabilities([2, 2], None, [1.0, 1.0])
    with pytest.raises(DesignError, match="exceeds upper bound"):
        crossing_probabilities([1.0], [2.0], [1.0])
    with pytest.raises(DesignError, match="2 values but there are 3 looks"):
        crossing_probabilities([2, 2], None, [1, 2, 3])
    with pytest.raises(DesignError, match="NaN"):
        crossing_probabilities([float("nan")], None, [1])
    with pytest.raises(DesignError, match="theta must be finite"):
        crossing_probabilities([2.0], None, [1], theta=math.inf)
