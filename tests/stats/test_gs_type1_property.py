"""Property: every boundary the engine produces has type I error exactly alpha.

Checked independently of the recursion with scipy's multivariate normal CDF
(Genz's quasi-Monte Carlo algorithm) for the canonical joint distribution:
``Cov(Z_k, Z_j) = sqrt(t_k / t_j)`` for ``k <= j`` (Jennison & Turnbull 2000,
section 3.1).  One-sided: ``P(no crossing | H0) = P(Z_k < b_k for all k) = 1 - alpha``;
two-sided symmetric: the rectangle ``P(|Z_k| < b_k for all k) = 1 - alpha``;
binding futility: ``sum_k P(a_j < Z_j < b_j, j < k; Z_k >= b_k) = alpha``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from engine.stats import EFFICACY_FAMILIES, DesignError, group_sequential_design

# Genz's algorithm is run with abseps = 1e-5 (scipy's default); allow a few times that.
MVN_TOL = 4e-5


def _cov(t: np.ndarray) -> np.ndarray:
    return np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))


def _box(t: np.ndarray, lower: np.ndarray, upper: np.ndarray, seed: int = 20240601) -> float:
    """P(lower_k < Z_k < upper_k for all k) under H0."""
    if t.size == 1:
        from scipy.special import ndtr

        return float(ndtr(upper[0]) - ndtr(lower[0]))
    return float(
        multivariate_normal.cdf(
            upper,
            mean=np.zeros(t.size),
            cov=_cov(t),
            lower_limit=lower,
            rng=np.random.default_rng(seed),
        )
    )


@st.composite
def fractions(draw: st.DrawFn, k: int) -> tuple[float, ...]:
    """K information fractions on a 1/20 grid, the last one 1."""
    cuts = draw(
        st.lists(
            st.integers(min_value=1, max_value=19), min_size=k - 1, max_size=k - 1, unique=True
        )
    )
    return tuple(sorted(c / 20 for c in cuts)) + (1.0,)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    data=st.data(),
    efficacy=st.sampled_from(EFFICACY_FAMILIES),
    alpha=st.sampled_from([0.01, 0.025, 0.05, 0.1]),
    sides=st.sampled_from([1, 2]),
)
def test_type_one_error_equals_alpha(
    k: int, data: st.DataObject, efficacy: str, alpha: float, sides: int
) -> None:
    t = data.draw(fractions(k))
    extra: dict[str, object] = {}
    if efficacy == "user":  # cumulative fractions of alpha, non-decreasing, the last 1
        cuts = data.draw(st.lists(st.integers(min_value=0, max_value=20), min_size=k - 1,
                                  max_size=k - 1))
        extra["efficacy_spending"] = tuple(sorted(c / 20 for c in cuts)) + (1.0,)
    elif efficacy == "pampallona-tsiatis":  # its futility bound is non-binding: ignored here
        extra.update(efficacy_param=data.draw(st.sampled_from([0.0, 0.25, 0.5])),
                     futility="pampallona-tsiatis", futility_param=0.25)
    try:
        d = group_sequential_design(t, alpha=alpha, sides=sides, efficacy=efficacy, beta=0.2,
                                    **extra)  # type: ignore[arg-type]
    except DesignError as exc:
        # the only legitimate failure: Haybittle-Peto interims of 3 spending all of alpha
        assert efficacy == "haybittle-peto" and "already spend" in str(exc)
        return
    tt = np.asarray(t)
    b = np.asarray(d.efficacy)
    lower = -b if sides == 2 else np.full(tt.size, -np.inf)
    no_crossing = _box(tt, lower, b)
    assert abs((1.0 - no_crossing) - alpha) < MVN_TOL
    assert d.cumulative_alpha[-1] == pytest.approx(alpha, abs=1e-9)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@settings(max_examples=4, deadline=None, derandomize=True)
@given(
    data=st.data(),
    efficacy=st.sampled_from(["ld-obf", "ld-pocock", "hsd", "power"]),
    futility=st.sampled_from(["ld-obf", "ld-pocock", "hsd", "power"]),
    alpha=st.sampled_from([0.025, 0.05]),
)
def test_binding_futility_type_one_error_equals_alpha(
    k: int, data: st.DataObject, efficacy: str, futility: str, alpha: float
) -> None:
    t = data.draw(fractions(k))
    d = group_sequential_design(
        t, alpha=alpha, efficacy=efficacy, futility=futility, binding=True, beta=0.1
    )
    tt = np.asarray(t)
    a, b = np.asarray(d.futility), np.asarray(d.efficacy)
    total = 0.0
    for k in range(tt.size):
        lo = np.append(a[:k], b[k])
        hi = np.append(b[:k], np.inf)
        total += _box(tt[: k + 1], lo, hi)
    assert abs(total - alpha) < MVN_TOL * tt.size
    assert d.type_i_error == pytest.approx(alpha, abs=1e-9)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(data=st.data(), alpha=st.sampled_from([0.025, 0.05]))
def test_non_binding_efficacy_ignores_futility(data: st.DataObject, alpha: float) -> None:
    t = data.draw(fractions(data.draw(st.integers(min_value=2, max_value=5))))
    d = group_sequential_design(t, alpha=alpha, efficacy="hsd", futility="hsd", beta=0.1)
    tt = np.asarray(t)
    b = np.asarray(d.efficacy)
    no_crossing = _box(tt, np.full(tt.size, -np.inf), b)
    assert abs((1.0 - no_crossing) - alpha) < MVN_TOL
    # obeying the futility bound can only lower the type I error
    assert d.type_i_error <= alpha + 1e-12


def test_mvn_reference_reproduces_a_known_value() -> None:
    # sanity check of the reference itself: Pocock K = 2, C_P = 2.178 (J&T Table 2.1)
    t = np.array([0.5, 1.0])
    c = np.array([2.178, 2.178])
    assert math.isclose(1.0 - _box(t, -c, c), 0.05, abs_tol=2e-4)
