"""Binary (event / no event) monitoring rules with exact binomial arithmetic.

A rule is monitored patient by patient (or at chosen patient counts, "looks"):
after the n-th evaluable patient the cumulative number of events ``x_n`` is
compared with integer thresholds.  Operating characteristics are exact: the
distribution of ``x_n`` over the paths that have not yet stopped is propagated
by dynamic programming (one binomial step per patient), never by Wald's or
normal approximations.

* :func:`exact_threshold` -- smallest k with ``P(X >= k | n, p0) <= alpha``.
* :func:`exact_threshold_boundary` -- that threshold at each look (unadjusted for
  repeated looks; its operating characteristics show the real error rate).
* :func:`bayesian_stopping_boundary` -- "stop if >= k_n events in the first n"
  where ``k_n`` is the smallest k with ``P(p > threshold | k of n) > cutoff`` under
  a ``Beta(a, b)`` prior (posterior ``Beta(a + k, b + n - k)``).
* :func:`truncated_sprt` -- Wald's SPRT of ``p0`` against ``p1 > p0`` with the
  boundaries ``log((1 - beta) / alpha)`` and ``log(beta / (1 - alpha))``,
  truncated at ``n_max`` patients, where the remaining paths accept whichever
  hypothesis is more likely (reject H0 iff the log likelihood ratio is >= 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from .errors import DesignError, check_alpha, check_beta, check_probability

__all__ = [
    "BinaryBoundary",
    "BoundaryOperatingCharacteristics",
    "SPRTOperatingCharacteristics",
    "TruncatedSPRT",
    "bayesian_stopping_boundary",
    "exact_threshold",
    "exact_threshold_boundary",
    "truncated_sprt",
]

_EPS = 1e-12


def _check_n(name: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise DesignError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


def _check_rate(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise DesignError(f"the true event rate must be between 0 and 1, got {p!r}")
    return float(p)


def _check_looks(looks: Sequence[int] | None, n_max: int) -> tuple[int, ...]:
    if looks is None:
        return tuple(range(1, n_max + 1))
    out = tuple(_check_n("each look", n) for n in looks)
    if not out:
        raise DesignError("looks must not be empty")
    for a, b in zip(out, out[1:], strict=False):
        if b <= a:
            raise DesignError(f"looks must be strictly increasing, got {a} then {b}")
    if out[-1] > n_max:
        raise DesignError(f"look at {out[-1]} patients exceeds n_max = {n_max}")
    return out


@attrs.frozen
class BoundaryOperatingCharacteristics:
    """Exact behaviour of a :class:`BinaryBoundary` when the true event rate is ``p``."""

    p: float
    probability_stop: float
    """P(the rule stops the trial before or at n_max patients)."""
    expected_patients: float
    """E[number of patients treated], counting n_max for trials that never stop."""
    cumulative_stop: tuple[float, ...]
    """P(stopped by the time n patients are evaluated), n = 1..n_max."""


@attrs.frozen
class BinaryBoundary:
    """Stop when the events among the first n patients reach ``thresholds[n - 1]``.

    ``None`` at n means no decision is taken after patient n (not a look, or no
    number of events out of n would trigger the rule).
    """

    thresholds: tuple[int | None, ...]
    description: str = ""

    @property
    def n_max(self) -> int:
        return len(self.thresholds)

    def table(self) -> tuple[tuple[int, int], ...]:
        """``(n, k)``: stop if at least k events among the first n patients."""
        return tuple((n + 1, k) for n, k in enumerate(self.thresholds) if k is not None)

    def operating_characteristics(self, p: float) -> BoundaryOperatingCharacteristics:
        """Exact stopping probability and expected patients at true event rate ``p``."""
        p = _check_rate(p)
        upper = [math.inf if k is None else k for k in self.thresholds]
        stop_hi, _, _ = _propagate(upper, [-math.inf] * self.n_max, p)
        cum = np.cumsum(stop_hi)
        n = np.arange(1, self.n_max + 1)
        en = float(np.dot(n, stop_hi) + self.n_max * (1.0 - cum[-1]))
        return BoundaryOperatingCharacteristics(
            p=p,
            probability_stop=float(cum[-1]),
            expected_patients=en,
            cumulative_stop=tuple(float(c) for c in cum),
        )


def _propagate(
    upper: Sequence[float], lower: Sequence[float], p: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-patient DP: P(stop high at n), P(stop low at n), and the final distribution.

    After patient n the trial stops high if ``x_n >= upper[n-1]`` and low if
    ``x_n <= lower[n-1]``; the returned distribution is over x for paths still going.
    """
    n_max = len(upper)
    v = np.zeros(n_max + 1)
    v[0] = 1.0
    hi = np.zeros(n_max)
    lo = np.zeros(n_max)
    for i in range(n_max):
        m = i + 1
        nxt = v[: m + 1] * (1.0 - p)
        nxt[1:] += v[:m] * p
        v[: m + 1] = nxt
        u = upper[i]
        if u <= m:
            start = max(0, math.ceil(u))
            hi[i] = v[start : m + 1].sum()
            v[start : m + 1] = 0.0
        low = lower[i]
        if low >= 0:
            stop = min(m, math.floor(low))
            lo[i] = v[: stop + 1].sum()
            v[: stop + 1] = 0.0
    return hi, lo, v


def exact_threshold(n: int, p0: float, alpha: float) -> int | None:
    """Smallest k with ``P(X >= k | X ~ Bin(n, p0)) <= alpha``; None if even k = n fails."""
    n = _check_n("n", n)
    p0 = check_probability("p0", p0)
    alpha = check_probability("alpha", alpha)
    tail = binom.sf(np.arange(n + 1) - 1, n, p0)  # tail[k] = P(X >= k)
    ok = np.flatnonzero(tail <= alpha + _EPS)
    return int(ok[0]) if ok.size else None


def exact_threshold_boundary(
    n_max: int, p0: float, alpha: float, looks: Sequence[int] | None = None
) -> BinaryBoundary:
    """:func:`exact_threshold` at every look (each look tested at level alpha)."""
    n_max = _check_n("n_max", n_max)
    look_set = set(_check_looks(looks, n_max))
    thresholds = tuple(
        exact_threshold(n, p0, alpha) if n in look_set else None for n in range(1, n_max + 1)
    )
    return BinaryBoundary(thresholds, f"exact binomial: P(X >= k | p0={p0:g}) <= {alpha:g}")


def bayesian_stopping_boundary(
    n_max: int,
    threshold: float,
    cutoff: float,
    a: float = 1.0,
    b: float = 1.0,
    looks: Sequence[int] | None = None,
) -> BinaryBoundary:
    """Stop after n patients if ``P(p > threshold | events) > cutoff`` (Beta(a, b) prior)."""
    n_max = _check_n("n_max", n_max)
    threshold = check_probability("threshold", threshold)
    cutoff = check_probability("cutoff", cutoff)
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise DesignError(f"prior parameter {name} must be positive, got {value!r}")
    look_set = set(_check_looks(looks, n_max))
    thresholds: list[int | None] = []
    for n in range(1, n_max + 1):
        if n not in look_set:
            thresholds.append(None)
            continue
        k = np.arange(n + 1)
        post = beta_dist.sf(threshold, a + k, b + n - k)  # increasing in k
        ok = np.flatnonzero(post > cutoff)
        thresholds.append(int(ok[0]) if ok.size else None)
    return BinaryBoundary(
        tuple(thresholds),
        f"Beta({a:g},{b:g}) prior: stop if P(p > {threshold:g} | data) > {cutoff:g}",
    )


@attrs.frozen
class SPRTOperatingCharacteristics:
    """Exact behaviour of a truncated SPRT when the true rate is ``p``."""

    p: float
    reject_h0: float
    """P(conclude p1: upper boundary crossed, or more likely at truncation)."""
    accept_h0: float
    early_reject: float
    """P(upper boundary crossed before or at n_max)."""
    early_accept: float
    expected_patients: float


@attrs.frozen
class TruncatedSPRT:
    """Integer boundaries of Wald's SPRT in the cumulative number of events.

    After n patients with x events: reject H0 (conclude ``p1``) if
    ``x >= reject[n-1]``; accept H0 if ``x <= accept[n-1]`` (None: impossible at n).
    Paths still open after ``n_max`` patients reject H0 iff ``x >= final_reject``.
    """

    p0: float
    p1: float
    alpha: float
    beta: float
    n_max: int
    reject: tuple[int | None, ...]
    accept: tuple[int | None, ...]
    final_reject: int

    def operating_characteristics(self, p: float) -> SPRTOperatingCharacteristics:
        p = _check_rate(p)
        upper = [math.inf if k is None else float(k) for k in self.reject]
        lower = [-math.inf if k is None else float(k) for k in self.accept]
        hi, lo, v = _propagate(upper, lower, p)
        final_hi = float(v[self.final_reject :].sum())
        final_lo = float(v[: self.final_reject].sum())
        n = np.arange(1, self.n_max + 1)
        en = float(np.dot(n, hi + lo) + self.n_max * (final_hi + final_lo))
        return SPRTOperatingCharacteristics(
            p=p,
            reject_h0=float(hi.sum()) + final_hi,
            accept_h0=float(lo.sum()) + final_lo,
            early_reject=float(hi.sum()),
            early_accept=float(lo.sum()),
            expected_patients=en,
        )


def truncated_sprt(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, n_max: int = 50
) -> TruncatedSPRT:
    """Wald SPRT of H0: p = p0 against H1: p = p1 > p0, truncated at ``n_max`` patients.

    The nominal Wald error rates ``alpha`` and ``beta`` set the boundaries; the exact
    error rates of the truncated test come from :meth:`TruncatedSPRT.operating_characteristics`.
    """
    p0 = check_probability("p0", p0)
    p1 = check_probability("p1", p1)
    if p1 <= p0:
        raise DesignError(f"p1 must exceed p0, got p0 = {p0:g}, p1 = {p1:g}")
    alpha = check_alpha(alpha)
    beta = check_beta(beta)
    n_max = _check_n("n_max", n_max)
    upper_llr = math.log((1.0 - beta) / alpha)
    lower_llr = math.log(beta / (1.0 - alpha))
    c0 = math.log((1.0 - p1) / (1.0 - p0))  # LLR per non-event (< 0)
    d = math.log(p1 / p0) - c0  # extra LLR per event (> 0); LLR = x d + n c0
    reject: list[int | None] = []
    accept: list[int | None] = []
    for n in range(1, n_max + 1):
        hi = math.ceil((upper_llr - n * c0) / d - 1e-9)
        lo = math.floor((lower_llr - n * c0) / d + 1e-9)
        reject.append(max(hi, 0) if hi <= n else None)
        accept.append(lo if lo >= 0 else None)
    final = min(max(math.ceil(-n_max * c0 / d - 1e-9), 0), n_max + 1)
    return TruncatedSPRT(
        p0=p0,
        p1=p1,
        alpha=alpha,
        beta=beta,
        n_max=n_max,
        reject=tuple(reject),
        accept=tuple(accept),
        final_reject=final,
    )
