"""Power at a given sample size (SampleSize.power_at, `trialcode design --n`): the inverse of
the sample size, checked against rpact's getPowerSurvival / getPowerMeans convention (the drift
scales with the square root of the sample size, the bounds stay as designed)."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import pytest

from engine.stats import DesignError, group_sequential_design
from engine.stats.samplesize import means_sample_size, survival_sample_size
from trialcode.cli import main


def test_power_at_the_solved_size_is_the_design_power() -> None:
    d = group_sequential_design(3, alpha=0.025, sides=1, efficacy="ld-obf", futility="hsd",
                                futility_param=-2, beta=0.1)
    s = survival_sample_size(d, hazard_ratio=0.7)
    at = s.power_at(s.maximum)
    assert at.power == pytest.approx(0.9, abs=1e-7)
    assert at.cumulative_power == pytest.approx(d.cumulative_power, abs=1e-7)
    assert s.power_at(s.maximum * 1.5).power > 0.9 > s.power_at(s.maximum / 1.5).power


def test_fixed_design_closed_form() -> None:
    d = group_sequential_design(1, alpha=0.05, sides=2, efficacy="obf", beta=0.2)
    s = means_sample_size(d, difference=0.5, sd=1, normal=True)
    # n = 100 in total, 50 per group: power = Phi(0.5 sqrt(25) - z_0.975)
    z = NormalDist()
    assert s.power_at(100).power == pytest.approx(z.cdf(0.5 * math.sqrt(25) - z.inv_cdf(0.975)),
                                                  abs=1e-9)


def test_bad_sample_size() -> None:
    d = group_sequential_design(1, alpha=0.05, sides=2, efficacy="obf", beta=0.2)
    with pytest.raises(DesignError, match="the sample size must be a positive number, got 0"):
        survival_sample_size(d, hazard_ratio=0.7).power_at(0)


def test_cli(capsys) -> None:
    assert main("design survival --hazard-ratio 0.75 --alpha 0.05 --sides 2 --power 0.8 "
                "--n 300 --json".split()) == 0
    out = json.loads(capsys.readouterr().out)
    z = NormalDist()
    expected = z.cdf(abs(math.log(0.75)) * math.sqrt(300 / 4) - z.inv_cdf(0.975))
    assert out["power_at"]["power"] == pytest.approx(expected, abs=1e-6)
    assert main("design survival --hazard-ratio 0.75 --alpha 0.05 --sides 2 --power 0.8 "
                "--n 300".split()) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("Power with 300 events: ")


def test_against_rpact_get_power() -> None:
    """Reference values from rpact 3.3.4 (R), computed once by hand:
    d <- getDesignGroupSequential(kMax=3, alpha=0.025, sided=1, typeOfDesign="asOF", beta=0.1)
    getPowerMeans(d, alternative=5, stDev=10, maxNumberOfSubjects=150, normalApproximation=TRUE)
    getPowerSurvival(d, hazardRatio=0.7, maxNumberOfEvents=300, accrualTime=c(0, 24),
                     accrualIntensity=20, directionUpper=FALSE)
    (overallReject, cumulated rejectPerStage, expectedNumberOfEvents)."""
    d = group_sequential_design(3, alpha=0.025, sides=1, efficacy="ld-obf", beta=0.1)
    means = means_sample_size(d, difference=5, sd=10, normal=True).power_at(150)
    assert means.power == pytest.approx(0.8606621, abs=1e-6)
    assert means.cumulative_power == pytest.approx(
        (0.02603613, 0.02603613 + 0.46975795, 0.8606621), abs=1e-6)
    events = survival_sample_size(d, hazard_ratio=0.7).power_at(300)
    assert events.power == pytest.approx(0.8665553, abs=1e-6)
    assert events.cumulative_power == pytest.approx(
        (0.02699429, 0.02699429 + 0.47760337, 0.8665553), abs=1e-6)
    assert events.expected_h1 == pytest.approx(246.8408, abs=1e-3)
