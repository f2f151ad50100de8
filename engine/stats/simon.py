"""Simon (1989) optimal and minimax two-stage phase II designs, by exact search.

Notation (Simon 1989): enrol ``n1`` patients; stop for futility if at most ``r1``
respond.  Otherwise enrol ``n - n1`` more and reject the drug (do not reject H0)
if at most ``r`` of all ``n`` respond.  With ``X1 ~ Bin(n1, p)``, ``X2 ~ Bin(n - n1, p)``:

* ``PET(p) = P(X1 <= r1)`` (probability of early termination),
* ``P(reject H0 | p) = P(X1 > r1, X1 + X2 > r)``,
* ``EN(p) = n1 + (1 - PET(p)) (n - n1)``.

Constraints: ``P(reject H0 | p0) <= alpha`` and ``P(reject H0 | p1) >= 1 - beta``.
The *optimal* design minimises ``EN(p0)``; the *minimax* design minimises ``n``,
then ``EN(p0)``.  Among the admissible ``r`` for a given ``(r1, n1, n)`` the
smallest is reported (it has the highest power; EN0 does not depend on ``r``).

The search is exhaustive and exact.  For each ``(n1, n)`` all ``(r1, r)`` are
checked at once from cumulative binomial tables.  The minimax ``n`` is found by
scanning ``n`` upwards; the optimal search is then bounded without loss: a design
with first stage ``n1`` has ``PET0 <= PET0max(n1)`` (the largest ``PET0`` whose
``PET1 <= beta``), so it can only beat the best ``EN0`` found so far if
``n - n1 < (EN0best - n1) / (1 - PET0max(n1))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy.stats import binom

from .errors import DesignError, check_alpha, check_beta, check_probability

__all__ = ["SimonDesign", "SimonDesigns", "simon_two_stage"]

_EPS = 1e-12  # tolerance when comparing exact probabilities with alpha and 1 - beta


@attrs.frozen
class SimonDesign:
    """One two-stage design with its operating characteristics at p0 and p1."""

    kind: str
    """``"optimal"`` or ``"minimax"``."""
    r1: int
    n1: int
    r: int
    n: int
    p0: float
    p1: float
    pet0: float
    """P(early termination | p0)."""
    pet1: float
    en0: float
    """Expected sample size under p0."""
    en1: float
    type_i_error: float
    """Exact P(reject H0 | p0)."""
    power: float
    """Exact P(reject H0 | p1)."""

    def rejection_probability(self, p: float) -> float:
        """P(reject H0 | true response rate p): the drug is declared active."""
        return _reject_prob(self.r1, self.n1, self.r, self.n, _check_rate(p))

    def early_termination(self, p: float) -> float:
        """P(stop after stage 1 | p)."""
        return float(binom.cdf(self.r1, self.n1, _check_rate(p)))

    def expected_sample_size(self, p: float) -> float:
        """E[number of patients | p]."""
        return self.n1 + (1.0 - self.early_termination(p)) * (self.n - self.n1)

    def as_dict(self) -> dict[str, float | int]:
        return {
            "r1": self.r1,
            "n1": self.n1,
            "r": self.r,
            "n": self.n,
            "en0": self.en0,
            "pet0": self.pet0,
            "en1": self.en1,
            "pet1": self.pet1,
            "type_i_error": self.type_i_error,
            "power": self.power,
        }


@attrs.frozen
class SimonDesigns:
    """The optimal and minimax designs for one set of (p0, p1, alpha, beta)."""

    optimal: SimonDesign
    minimax: SimonDesign
    alpha: float
    beta: float
    max_n_searched: int


def single_stage_bound(p0: float, p1: float, alpha: float, beta: float, n_max: int,
                       limit: int = 1_000_000) -> int:
    """The smallest n (limit + 1 when there is none up to `limit`) at which the most powerful test of
    p0 against p1 on n patients, randomized at its critical count, reaches power 1 - beta at
    level alpha.

    No two-stage design needs fewer patients in all: a two-stage design is a test on the n
    patients' responses (those of stage 2 ignored when it stops early), and by the
    Neyman-Pearson lemma none of size alpha is more powerful than the randomized test on the
    number of responses. Scanning starts there, and a problem with no design within n_max is
    refused at once instead of after minutes of search (p0 = 0.01, p1 = 0.02: 4.5 minutes).
    The power of that test never falls as n grows (the test on n + 1 patients may ignore
    one), so the smallest n is found by bisection."""

    def enough(n: int) -> bool:
        k = np.arange(n + 1)
        size = binom.sf(k, n, p0)  # P0(X > k)
        crit = int(np.flatnonzero(size <= alpha + _EPS)[0])
        point = float(binom.pmf(crit, n, p0))
        gamma = min(1.0, (alpha - float(size[crit])) / point) if point > 0 else 0.0
        power = float(binom.sf(crit, n, p1)) + max(gamma, 0.0) * float(binom.pmf(crit, n, p1))
        return power >= 1.0 - beta - _EPS

    high = n_max
    while not enough(high):
        if high >= limit:
            return limit + 1
        high = min(limit, 2 * high)
    low = 1  # enough(high)
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    return low


def _check_rate(p: float) -> float:
    if not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
        raise DesignError(f"a response rate must be between 0 and 1, got {p!r}")
    return float(p)


def _reject_prob(r1: int, n1: int, r: int, n: int, p: float) -> float:
    x1 = np.arange(r1 + 1, n1 + 1)
    return float(np.sum(binom.pmf(x1, n1, p) * binom.sf(r - x1, n - n1, p)))


class _Tables:
    """pmf[m, x] = P(Bin(m, p) = x); sf_ext[m, j + cap + 1] = P(Bin(m, p) > j), j >= -cap - 1."""

    def __init__(self, p: float, cap: int):
        m = np.arange(cap + 1)[:, None]
        x = np.arange(cap + 1)[None, :]
        self.pmf: NDArray[np.float64] = np.where(x <= m, binom.pmf(x, m, p), 0.0)
        sf = np.where(x <= m, binom.sf(x, m, p), 0.0)
        self.sf_ext: NDArray[np.float64] = np.concatenate([np.ones((cap + 1, cap + 1)), sf], axis=1)
        self.cdf: NDArray[np.float64] = np.cumsum(self.pmf, axis=1)
        self.cap = cap


def _rejection_tensor(t: _Tables, n1: int, ns: NDArray[np.int_]) -> NDArray[np.float64]:
    """R[i, r1, r] = P(X1 > r1, X1 + X2 > r) for total n = ns[i], r1 < n1, r < max(ns).

    For ``r >= ns[i]`` the probability is 0, so those columns never meet the power
    constraint and need no masking.
    """
    width = int(ns.max())
    x1 = np.arange(n1 + 1)
    idx = np.arange(width)[None, :] - x1[:, None] + t.cap + 1  # r - x1, offset
    m = t.pmf[n1, : n1 + 1, None][None] * t.sf_ext[ns - n1][:, idx]
    tail = np.cumsum(m[:, ::-1], axis=1)[:, ::-1]  # tail[i, x] = sum over x1 >= x
    return tail[:, 1:]


class _Search:
    def __init__(self, p0: float, p1: float, alpha: float, beta: float, cap: int):
        self.p0, self.p1, self.alpha, self.beta = p0, p1, alpha, beta
        self.cap = 0
        self.n_max = cap
        self._grow(min(cap, 64))

    def _grow(self, n: int) -> None:
        """Binomial tables are built lazily, doubling, up to n_max."""
        if n <= self.cap:
            return
        self.cap = min(self.n_max, max(n, 2 * self.cap))
        self.t0 = _Tables(self.p0, self.cap)
        self.t1 = _Tables(self.p1, self.cap)

    def best_for(self, n1: int, ns: Sequence[int]) -> list[tuple[float, int, int] | None]:
        """For each total n in ``ns`` (all > n1): (EN0, r1, r) of the feasible design
        with the smallest EN0, or None if no (r1, r) meets both error constraints."""
        n_arr = np.asarray(ns, dtype=int)
        self._grow(int(n_arr.max()))
        a = _rejection_tensor(self.t0, n1, n_arr)
        pw = _rejection_tensor(self.t1, n1, n_arr)
        ok = (a <= self.alpha + _EPS) & (pw >= 1.0 - self.beta - _EPS)
        ok &= (np.arange(a.shape[2])[None, :] >= np.arange(n1)[:, None])[None]
        out: list[tuple[float, int, int] | None] = []
        for i, n in enumerate(n_arr):
            rows = np.flatnonzero(ok[i].any(axis=1))
            if rows.size == 0:
                out.append(None)
                continue
            r1 = int(rows[-1])  # PET0 increases with r1, so the largest feasible r1 wins
            r = int(np.flatnonzero(ok[i, r1])[0])
            en0 = n1 + (1.0 - self.t0.cdf[n1, r1]) * (int(n) - n1)
            out.append((float(en0), r1, r))
        return out

    def design(self, kind: str, r1: int, n1: int, r: int, n: int) -> SimonDesign:
        pet0 = float(binom.cdf(r1, n1, self.p0))
        pet1 = float(binom.cdf(r1, n1, self.p1))
        return SimonDesign(
            kind=kind,
            r1=r1,
            n1=n1,
            r=r,
            n=n,
            p0=self.p0,
            p1=self.p1,
            pet0=pet0,
            pet1=pet1,
            en0=n1 + (1 - pet0) * (n - n1),
            en1=n1 + (1 - pet1) * (n - n1),
            type_i_error=_reject_prob(r1, n1, r, n, self.p0),
            power=_reject_prob(r1, n1, r, n, self.p1),
        )


def simon_two_stage(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, *, n_max: int = 500,
    progress: Callable[[str, int, int], None] | None = None,
) -> SimonDesigns:
    """Simon's optimal and minimax two-stage designs for H0: p <= p0 vs H1: p >= p1.

    ``alpha`` is one-sided.  ``n_max`` caps the total sample size searched; a
    :class:`DesignError` is raised if no design exists within it or if the optimal
    search could not be completed within it. ``progress(phase, n)`` is called as the search
    goes: ``("start", n, 0)`` with the smallest n possible, ``("minimax", n, n1)`` as the
    totals from n (in steps of 8) are scanned, ``("optimal", n, n1)`` with the best total so
    far. The search grows as n cubed and takes minutes for designs of several hundred
    patients.
    """
    p0 = check_probability("p0", p0)
    p1 = check_probability("p1", p1)
    if p1 <= p0:
        raise DesignError(f"p1 must exceed p0 (response rates), got p0 = {p0:g}, p1 = {p1:g}")
    alpha = check_alpha(alpha)
    beta = check_beta(beta)
    if not isinstance(n_max, int) or n_max < 2:
        raise DesignError(f"n_max must be an integer of at least 2, got {n_max!r}")
    n_least = single_stage_bound(p0, p1, alpha, beta, n_max)
    if n_least > n_max:
        raise DesignError(
            f"no two-stage design with n <= {n_max} can meet alpha = {alpha:g} and power "
            f"{1 - beta:g} for p0 = {p0:g}, p1 = {p1:g}: even the most powerful single-stage "
            f"test needs {n_least if n_least <= 1_000_000 else 'over 1,000,000'} patients; "
            "increase n_max"
        )
    s = _Search(p0, p1, alpha, beta, n_max)
    tell = progress or (lambda phase, n, n1: None)
    tell("start", n_least, 0)

    minimax: tuple[float, int, int, int, int] | None = None  # (en0, r1, n1, r, n)
    block = 8  # totals n are scanned upwards in blocks, all n1 at once per block
    for n_lo in range(max(2, n_least), n_max + 1, block):
        block_ns = range(n_lo, min(n_lo + block, n_max + 1))
        found_at: dict[int, list[tuple[float, int, int, int, int]]] = {}
        for n1 in range(1, block_ns[-1]):
            tell("minimax", n_lo, n1)
            ns = [n for n in block_ns if n > n1]
            for n, found in zip(ns, s.best_for(n1, ns), strict=True):
                if found is not None:
                    found_at.setdefault(n, []).append((found[0], found[1], n1, found[2], n))
        if found_at:
            # smallest n, then smallest EN0 (then smallest n1, by stable sorting)
            minimax = min(found_at[min(found_at)], key=lambda d: d[0])
            break
    if minimax is None:
        raise DesignError(
            f"no two-stage design with n <= {n_max} meets alpha = {alpha:g} and power "
            f"{1 - beta:g} for p0 = {p0:g}, p1 = {p1:g}; increase n_max"
        )

    best = minimax
    n1 = 0
    while True:
        n1 += 1
        if n1 >= best[0]:
            break
        tell("optimal", best[4], n1)
        pet1 = s.t1.cdf[n1, : n1 + 1] if n1 <= s.cap else binom.cdf(np.arange(n1 + 1), n1, p1)
        admissible = np.flatnonzero(pet1 <= beta + _EPS)
        if admissible.size == 0:
            continue  # every r1 >= 0 stops too often under p1
        pet0_max = float(binom.cdf(admissible[-1], n1, p0))
        if pet0_max >= 1.0:
            raise DesignError("cannot bound the optimal search (PET0 = 1)")
        # a design beats EN0best only if (n - n1) (1 - PET0max) < EN0best - n1
        n_bound = n1 + math.ceil((best[0] - n1) / (1.0 - pet0_max)) - 1
        if n_bound > n_max:
            raise DesignError(
                f"the optimal design search needs n up to {n_bound} > n_max = {n_max}; "
                "increase n_max"
            )
        ns = list(range(max(n1 + 1, n_least), n_bound + 1))
        if not ns:
            continue
        for n, found in zip(ns, s.best_for(n1, ns), strict=True):
            if found is not None and found[0] < best[0] - _EPS:
                best = (found[0], found[1], n1, found[2], n)
    return SimonDesigns(
        optimal=s.design("optimal", best[1], best[2], best[3], best[4]),
        minimax=s.design("minimax", minimax[1], minimax[2], minimax[3], minimax[4]),
        alpha=alpha,
        beta=beta,
        max_n_searched=n_max,
    )
