"""engine.stats.roots: Brent's method against scipy.optimize.brentq (the reference it replaces)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq as scipy_brentq
from scipy.special import ndtr

from engine.stats import DesignError
from engine.stats.roots import brentq

CASES = [
    (lambda x: x**3 - 2 * x - 5, 2.0, 3.0),  # Wallis's cubic, root 2.0945514815423265
    (lambda x: math.cos(x) - x, 0.0, 1.0),
    (lambda x: ndtr(-x) - 0.025, 0.0, 8.0),  # z_{0.975} = 1.959963984540054
    (lambda x: math.exp(x) - 1e-8, -40.0, 5.0),
    (lambda x: (x - 1.0) ** 3, -2.0, 3.5),  # a triple root: bisection steps must take over
]


@pytest.mark.parametrize(("f", "a", "b"), CASES)
def test_same_root_as_scipy(f, a, b) -> None:
    mine = brentq(f, a, b, xtol=1e-12, maxiter=500)
    ref = scipy_brentq(f, a, b, xtol=1e-12, maxiter=500)
    assert mine == pytest.approx(ref, abs=2e-12)


def test_known_roots() -> None:
    assert brentq(lambda x: x**3 - 2 * x - 5, 2.0, 3.0) == pytest.approx(2.0945514815423265, abs=1e-12)
    assert brentq(lambda x: ndtr(-x) - 0.025, 0.0, 8.0) == pytest.approx(1.959963984540054, abs=1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(-50, 50), st.floats(0.01, 20), st.floats(0.2, 5))
def test_monotone_functions(root: float, width: float, power: float) -> None:
    def f(x: float) -> float:
        d = x - root
        return math.copysign(abs(d) ** power, d)

    x = brentq(f, root - width, root + 0.7 * width, xtol=1e-12)
    assert abs(x - root) <= 1e-9 * max(1.0, abs(root)) + 1e-10 ** min(1.0, 1 / power)


def test_no_bracket_is_a_design_error() -> None:
    with pytest.raises(DesignError, match="does not bracket"):
        brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(DesignError, match="not defined"):
        brentq(lambda x: math.nan, -1.0, 1.0)
