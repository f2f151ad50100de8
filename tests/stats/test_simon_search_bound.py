"""A Simon search that cannot succeed is refused at once, and a long one says how it goes
(issue 16: `simon --p0 0.01 --p1 0.02` ran for 4.5 minutes in silence, then failed).

The bound: a two-stage design is a test on its n patients' responses, so by the
Neyman-Pearson lemma it is never more powerful than the randomized single-stage test on the
number of responses (Simon 1989 notes that his designs need at least the single-stage n)."""

from __future__ import annotations

import time

import pytest
from scipy.stats import binom

from engine.stats import simon_two_stage
from engine.stats.errors import DesignError
from engine.stats.simon import single_stage_bound
from trialcode.cli import main
from trialcode.commands import stats

SIMON_1989_MINIMAX_N = {(0.05, 0.25): 16, (0.10, 0.30): 25, (0.20, 0.40): 33, (0.30, 0.50): 39}


def _single_stage_power(n: int, p0: float, p1: float, alpha: float) -> float:
    """The randomized most powerful test on n patients, written out independently."""
    k = next(k for k in range(n + 1) if binom.sf(k, n, p0) <= alpha)
    gamma = (alpha - binom.sf(k, n, p0)) / binom.pmf(k, n, p0)
    return float(binom.sf(k, n, p1) + gamma * binom.pmf(k, n, p1))


@pytest.mark.parametrize(("p0", "p1"), list(SIMON_1989_MINIMAX_N), ids=str)
def test_the_bound_is_below_every_published_minimax_design(p0, p1):
    bound = single_stage_bound(p0, p1, 0.05, 0.2, 500)
    assert bound <= SIMON_1989_MINIMAX_N[(p0, p1)]
    assert _single_stage_power(bound, p0, p1, 0.05) >= 0.8
    assert _single_stage_power(bound - 1, p0, p1, 0.05) < 0.8


def test_the_bound_is_found_beyond_n_max():
    bound = single_stage_bound(0.01, 0.02, 0.05, 0.2, 500)
    assert bound == 849
    assert _single_stage_power(849, 0.01, 0.02, 0.05) >= 0.8 > _single_stage_power(
        848, 0.01, 0.02, 0.05)


def test_a_search_that_cannot_succeed_is_refused_in_a_blink(capsys):
    started = time.monotonic()
    assert main(["simon", "--p0", "0.01", "--p1", "0.02"]) == 2
    assert time.monotonic() - started < 10  # 4.5 minutes before the bound
    assert capsys.readouterr().err == (
        "trialcode simon: error: no two-stage design with n <= 500 can meet alpha = 0.05 and "
        "power 0.8 for p0 = 0.01, p1 = 0.02: even the most powerful single-stage test needs "
        "849 patients; pass a larger --n-max\n")


def test_rates_too_close_for_any_trial_are_refused(capsys):
    with pytest.raises(DesignError, match="needs over 1,000,000 patients; increase n_max"):
        simon_two_stage(0.5, 0.5000001)


def test_the_search_reports_its_phases():
    calls: list[tuple[str, int, int]] = []
    result = simon_two_stage(0.2, 0.4, progress=lambda *a: calls.append(a))
    assert calls[0] == ("start", single_stage_bound(0.2, 0.4, 0.05, 0.2, 500), 0)
    assert {c[0] for c in calls} == {"start", "minimax", "optimal"}
    assert (result.minimax.n, result.optimal.n) == (33, 43)  # Simon 1989, unchanged


def test_a_long_search_says_how_it_goes_and_how_long_it_can_take(monkeypatch, capsys):
    clock = iter([0.0, 1.0, 11.0, 150.0, 161.0])
    monkeypatch.setattr(stats.time, "monotonic", lambda: next(clock))
    progress = stats._SearchProgress(1000)  # started at 0 s
    progress("start", 849, 0)  # 1 s
    progress("minimax", 849, 12)  # 11 s
    progress("minimax", 857, 3)  # 150 s: the first step took 139 s
    progress("minimax", 857, 400)  # 161 s
    assert capsys.readouterr().err == (
        "trialcode simon: the designs need at least 849 patients; the exact search up to "
        "--n-max 1000 can take several minutes (progress every 10 s; Ctrl-C stops it)\n"
        "trialcode simon: searching the minimax design: totals n = 849..856 of at most 1000, "
        "first stage n1 = 12 (11 s so far)\n"
        "trialcode simon: searching the minimax design: totals n = 857..864 of at most 1000, "
        "first stage n1 = 3; a step of 8 totals took 139 s, the 18 left at most about 54 min "
        "(2 min so far)\n"
        "trialcode simon: searching the minimax design: totals n = 857..864 of at most 1000, "
        "first stage n1 = 400; a step of 8 totals took 139 s, the 18 left at most about "
        "54 min (3 min so far)\n")


def test_a_short_search_says_nothing(capsys):
    assert main(["simon", "--p0", "0.2", "--p1", "0.4"]) == 0
    assert capsys.readouterr().err == ""
