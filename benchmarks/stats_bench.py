"""Timings of the statistics engine (engine/stats).

Run with ``.venv/bin/python benchmarks/stats_bench.py``.  Each case is run a few
times and the best and median wall-clock times are printed.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.stats import (  # noqa: E402
    bayesian_stopping_boundary,
    bounds_at_observed_information,
    classical_bounds,
    crossing_probabilities,
    group_sequential_design,
    simon_two_stage,
    truncated_sprt,
)

K10 = tuple((k + 1) / 10 for k in range(10))


def _recursion() -> None:
    crossing_probabilities([2.5] * 10, [0.0] * 10, K10, theta=3.0)


def _pocock_k10() -> None:
    classical_bounds("pocock", 10, 0.05, sides=2)


def _spending_k10_nonbinding() -> None:
    group_sequential_design(10, alpha=0.025, efficacy="ld-obf", futility="hsd", futility_param=-2)


def _spending_k10_binding() -> None:
    group_sequential_design(
        10, alpha=0.025, efficacy="hsd", futility="hsd", futility_param=-2, binding=True
    )


def _observed_k10() -> None:
    plan = group_sequential_design(10, alpha=0.025, efficacy="ld-obf", futility="hsd")
    bounds_at_observed_information(plan, [0.08 + 0.1 * k for k in range(9)] + [1.07])


def _simon_02_04() -> None:
    simon_two_stage(0.2, 0.4, alpha=0.05, beta=0.2)


def _simon_07_08() -> None:
    simon_two_stage(0.7, 0.8, alpha=0.05, beta=0.2)


def _bayes_table_oc() -> None:
    rule = bayesian_stopping_boundary(60, threshold=0.3, cutoff=0.8)
    for p in (0.1, 0.2, 0.3, 0.4, 0.5):
        rule.operating_characteristics(p)


def _sprt_oc() -> None:
    s = truncated_sprt(0.2, 0.4, 0.05, 0.2, n_max=200)
    for p in (0.2, 0.3, 0.4):
        s.operating_characteristics(p)


CASES: list[tuple[str, Callable[[], None], int]] = [
    ("recursion: K=10 crossing probabilities, one drift", _recursion, 50),
    ("Pocock constant, K=10, two-sided", _pocock_k10, 5),
    ("design K=10 ld-obf + hsd(-2) futility, non-binding", _spending_k10_nonbinding, 5),
    ("design K=10 hsd(-4) + hsd(-2) futility, binding", _spending_k10_binding, 5),
    ("design K=10 + bounds at observed information", _observed_k10, 5),
    ("Simon optimal+minimax, p0=0.2 p1=0.4", _simon_02_04, 5),
    ("Simon optimal+minimax, p0=0.7 p1=0.8 (n up to 146)", _simon_07_08, 3),
    ("Bayesian table N=60 + OC at 5 rates", _bayes_table_oc, 10),
    ("truncated SPRT n_max=200, OC at 3 rates", _sprt_oc, 10),
]


def main() -> None:
    for _, fn, _ in CASES:  # warm imports and caches
        if fn is not _simon_07_08:
            fn()
    width = max(len(name) for name, _, _ in CASES)
    print(f"{'case':<{width}}  {'best':>10}  {'median':>10}")
    for name, fn, repeats in CASES:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(
            f"{name:<{width}}  {min(times) * 1e3:>8.1f}ms  {statistics.median(times) * 1e3:>8.1f}ms"
        )


if __name__ == "__main__":
    main()
