"""Simon two-stage designs and exact binary monitoring rules.

Source for the Simon designs: Simon R. Optimal two-stage designs for phase II
clinical trials. *Controlled Clinical Trials* 1989; 10:1-10, Table 1
(alpha = 0.05, beta = 0.20), columns r1/n1, r/n, EN(p0), PET(p0).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from engine.stats import (
    bayesian_stopping_boundary,
    exact_threshold,
    exact_threshold_boundary,
    simon_two_stage,
    truncated_sprt,
)
from engine.stats.binomial import BinaryBoundary

# (p0, p1): (optimal r1, n1, r, n, EN0, PET0), (minimax r1, n1, r, n, EN0, PET0)
SIMON_1989 = {
    (0.05, 0.25): ((0, 9, 2, 17, 12.0, 0.63), (0, 12, 2, 16, 13.8, 0.54)),
    (0.10, 0.30): ((1, 10, 5, 29, 15.0, 0.74), (1, 15, 5, 25, 19.5, 0.55)),
    (0.20, 0.40): ((3, 13, 12, 43, 20.6, 0.75), (4, 18, 10, 33, 22.3, 0.72)),
    (0.30, 0.50): ((5, 15, 18, 46, 23.6, 0.72), (6, 19, 16, 39, 25.7, 0.67)),
}


@pytest.mark.parametrize(("p0", "p1"), list(SIMON_1989), ids=str)
def test_simon_1989_table_1(p0: float, p1: float) -> None:
    result = simon_two_stage(p0, p1, alpha=0.05, beta=0.2)
    for design, (r1, n1, r, n, en0, pet0) in zip(
        (result.optimal, result.minimax), SIMON_1989[(p0, p1)], strict=True
    ):
        assert (design.r1, design.n1, design.r, design.n) == (r1, n1, r, n)
        assert round(design.en0, 1) == en0
        assert round(design.pet0, 2) == pet0
        assert design.type_i_error <= 0.05 and design.power >= 0.8


def test_simon_operating_characteristics_by_enumeration() -> None:
    d = simon_two_stage(0.1, 0.3).optimal
    for p in (0.1, 0.2, 0.3):
        x1 = np.arange(d.n1 + 1)
        x2 = np.arange(d.n - d.n1 + 1)
        joint = np.outer(binom.pmf(x1, d.n1, p), binom.pmf(x2, d.n - d.n1, p))
        reject = (x1[:, None] > d.r1) & (x1[:, None] + x2[None, :] > d.r)
        assert d.rejection_probability(p) == pytest.approx(joint[reject].sum(), abs=1e-14)
        assert d.early_termination(p) == pytest.approx(binom.cdf(d.r1, d.n1, p), abs=1e-14)
    assert d.expected_sample_size(0.1) == pytest.approx(d.en0)
    assert d.rejection_probability(0.3) == pytest.approx(d.power)


def _brute_force(p0: float, p1: float, alpha: float, beta: float, n_max: int) -> tuple:
    """Every (r1, n1, r, n) with n <= n_max, one design at a time."""
    best_en0 = best_mm = None
    for n in range(2, n_max + 1):
        for n1 in range(1, n):
            for r1 in range(n1):
                x1 = np.arange(r1 + 1, n1 + 1)
                w0, w1 = binom.pmf(x1, n1, p0), binom.pmf(x1, n1, p1)
                pet0 = binom.cdf(r1, n1, p0)
                rs = np.arange(r1, n)
                gap = rs[None, :] - x1[:, None]  # r - x1
                alphas = w0 @ binom.sf(gap, n - n1, p0)
                powers = w1 @ binom.sf(gap, n - n1, p1)
                for r, a, pw in zip(rs, alphas, powers, strict=True):
                    if a <= alpha and pw >= 1 - beta:
                        en0 = n1 + (1 - pet0) * (n - n1)
                        key = (r1, n1, int(r), n)
                        if best_en0 is None or en0 < best_en0[0] - 1e-12:
                            best_en0 = (en0, key)
                        if best_mm is None or (n, en0) < (best_mm[0], best_mm[1] - 1e-12):
                            best_mm = (n, en0, key)
                        break  # the smallest admissible r, as the search reports
    return best_en0, best_mm


def test_simon_search_agrees_with_brute_force() -> None:
    opt, mm = _brute_force(0.05, 0.25, 0.05, 0.2, 20)
    result = simon_two_stage(0.05, 0.25, 0.05, 0.2)
    o, m = result.optimal, result.minimax
    assert (o.r1, o.n1, o.r, o.n) == opt[1]
    assert (m.r1, m.n1, m.r, m.n) == mm[2]


def test_simon_search_is_fast() -> None:
    import time

    start = time.perf_counter()
    simon_two_stage(0.2, 0.4, 0.05, 0.2)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(("n", "p0", "alpha"), [(20, 0.1, 0.05), (12, 0.3, 0.1), (40, 0.05, 0.01)])
def test_exact_threshold_definition(n: int, p0: float, alpha: float) -> None:
    k = exact_threshold(n, p0, alpha)
    assert k is not None
    assert binom.sf(k - 1, n, p0) <= alpha < binom.sf(k - 2, n, p0)


def test_exact_threshold_known_value_and_none() -> None:
    # P(X >= 5 | 20, 0.1) = 0.0432 <= 0.05 < P(X >= 4) = 0.1330
    assert exact_threshold(20, 0.1, 0.05) == 5
    assert exact_threshold(2, 0.5, 0.05) is None  # even 2/2 has probability 0.25


def test_bayesian_table_definition() -> None:
    rule = bayesian_stopping_boundary(30, threshold=0.3, cutoff=0.8, a=1, b=1)
    assert rule.table()[0] == (1, 1)  # Beta(2, 1): P(p > 0.3) = 0.91 > 0.8
    for n, k in rule.table():
        assert beta_dist.sf(0.3, 1 + k, 1 + n - k) > 0.8
        if k > 0:
            assert beta_dist.sf(0.3, k, 2 + n - k) <= 0.8
    ks = [k for _, k in rule.table()]
    assert ks == sorted(ks)


def _enumerate(rule: BinaryBoundary, p: float) -> tuple[float, float]:
    """P(stop) and E[N] by summing over all 2^n event sequences."""
    n_max = rule.n_max
    p_stop = en = 0.0
    for seq in itertools.product((0, 1), repeat=n_max):
        prob = math.prod(p if s else 1 - p for s in seq)
        x, stop_at = 0, n_max
        for i, s in enumerate(seq, start=1):
            x += s
            k = rule.thresholds[i - 1]
            if k is not None and x >= k:
                stop_at = i
                p_stop += prob
                break
        en += prob * stop_at
    return p_stop, en


def test_dynamic_programming_equals_enumeration() -> None:
    rule = bayesian_stopping_boundary(12, threshold=0.25, cutoff=0.85, looks=[3, 6, 9, 12])
    for p in (0.1, 0.25, 0.4):
        oc = rule.operating_characteristics(p)
        p_stop, en = _enumerate(rule, p)
        assert oc.probability_stop == pytest.approx(p_stop, abs=1e-13)
        assert oc.expected_patients == pytest.approx(en, abs=1e-12)


def test_repeated_exact_threshold_inflates_type_one_error() -> None:
    rule = exact_threshold_boundary(30, 0.1, 0.05, looks=[10, 20, 30])
    oc = rule.operating_characteristics(0.1)
    assert 0.05 < oc.probability_stop < 0.15  # unadjusted repeated testing
    single = exact_threshold_boundary(30, 0.1, 0.05, looks=[30]).operating_characteristics(0.1)
    assert single.probability_stop == pytest.approx(
        binom.sf(exact_threshold(30, 0.1, 0.05) - 1, 30, 0.1)  # type: ignore[operator]
    )


def test_monte_carlo_agrees_with_dp() -> None:
    rule = bayesian_stopping_boundary(40, threshold=0.2, cutoff=0.9)
    rng = np.random.default_rng(7)
    n, p = 200_000, 0.3
    events = np.cumsum(rng.random((n, 40)) < p, axis=1)
    ks = np.array([np.inf if k is None else k for k in rule.thresholds])
    hit = events >= ks
    stopped = hit.any(axis=1)
    stop_at = np.where(stopped, hit.argmax(axis=1) + 1, 40)
    oc = rule.operating_characteristics(p)
    se = math.sqrt(oc.probability_stop * (1 - oc.probability_stop) / n)
    assert abs(stopped.mean() - oc.probability_stop) < 3 * se
    assert abs(stop_at.mean() - oc.expected_patients) < 3 * stop_at.std() / math.sqrt(n)


def test_truncated_sprt_boundaries_and_exact_oc() -> None:
    s = truncated_sprt(0.2, 0.4, alpha=0.05, beta=0.2, n_max=12)
    a_llr, b_llr = math.log(0.8 / 0.05), math.log(0.2 / 0.95)

    def llr(x: int, n: int) -> float:
        return x * math.log(0.4 / 0.2) + (n - x) * math.log(0.6 / 0.8)

    for n in range(1, 13):
        k = s.reject[n - 1]
        if k is not None:
            assert llr(k, n) >= a_llr > llr(k - 1, n)
        else:
            assert llr(n, n) < a_llr
        j = s.accept[n - 1]
        if j is not None:
            assert llr(j, n) <= b_llr < llr(j + 1, n)
    assert llr(s.final_reject, 12) >= 0 > llr(s.final_reject - 1, 12)
    # exact OC against enumeration of all 2^12 paths
    for p in (0.2, 0.4):
        oc = s.operating_characteristics(p)
        rej = en = 0.0
        for seq in itertools.product((0, 1), repeat=12):
            prob = math.prod(p if e else 1 - p for e in seq)
            x, outcome = 0, None
            for n, e in enumerate(seq, start=1):
                x += e
                k, j = s.reject[n - 1], s.accept[n - 1]
                if k is not None and x >= k:
                    outcome = (True, n)
                    break
                if j is not None and x <= j:
                    outcome = (False, n)
                    break
            if outcome is None:
                outcome = (x >= s.final_reject, 12)
            rej += prob * outcome[0]
            en += prob * outcome[1]
        assert oc.reject_h0 == pytest.approx(rej, abs=1e-13)
        assert oc.expected_patients == pytest.approx(en, abs=1e-12)
        assert oc.reject_h0 + oc.accept_h0 == pytest.approx(1.0, abs=1e-13)
