"""Conditional power in `trialcode monitor`: at the latest interim look when the trial goes on,
under the design effect (when the rule states a power) and under the current trend."""

from __future__ import annotations

import math

import pytest
from monitorkit import data, interim, trial
from scipy.stats import norm

from engine.monitor import monitor
from protocol.stopping import (
    BoundaryFamily,
    EfficacyBound,
    FutilityBound,
    InterimRule,
    ProportionsAssumptions,
    SampleSizePlan,
)


def _sized(power: float = 0.8) -> InterimRule:
    return InterimRule(
        name="rfs",
        efficacy=EfficacyBound(BoundaryFamily("obrien_fleming"), 0.05, 2),
        information=(0.5, 1.0),
        label="Relapse-free survival",
        sample_size=SampleSizePlan(power, ProportionsAssumptions(0.45, 0.25)),
    )


def test_two_looks_closed_form() -> None:
    rule = _sized()
    report = monitor(trial(rule), data(interim={"rfs": {"looks": [{"information": 0.5,
                                                                    "z": 1.2}]}}))
    (r,) = report.interim
    cp = r.conditional_power
    assert cp is not None and cp.look == 1 and cp.power == pytest.approx(0.8)
    b = r.looks[1].efficacy_bound  # the final bound as recomputed
    for theta, value in ((cp.design_drift, cp.design_effect), (cp.trend_drift, cp.current_trend)):
        assert theta is not None and value is not None
        # one look left: 1 - Phi((b - z sqrt(t1) - theta (1 - t1)) / sqrt(1 - t1)), with the
        # lower bound -b of the two-sided design too far to matter at this Z
        expected = norm.sf((b - 1.2 * math.sqrt(0.5) - theta * 0.5) / math.sqrt(0.5))
        assert value == pytest.approx(expected, abs=1e-6)
    assert cp.trend_drift == pytest.approx(1.2 / math.sqrt(0.5))
    assert cp.design_effect > cp.current_trend
    assert r.as_dict()["conditional_power"]["design_effect"] == cp.design_effect


def test_without_a_stated_power_only_the_trend() -> None:
    report = monitor(trial(interim()), data(interim={"rfs": {"looks": [{"information": 0.5,
                                                                         "z": 1.2}]}}))
    cp = report.interim[0].conditional_power
    assert cp is not None and cp.design_effect is None and cp.power is None
    assert 0 < cp.current_trend < 1


def test_none_at_the_final_analysis_or_after_a_stop() -> None:
    final = monitor(trial(_sized()), data(interim={"rfs": {"looks": [
        {"information": 0.5, "z": 1.2}, {"information": 1.0, "z": 2.5}]}}))
    assert final.interim[0].conditional_power is None
    stopped = monitor(trial(_sized()), data(interim={"rfs": {"looks": [
        {"information": 0.5, "z": 3.5}]}}))
    assert stopped.interim[0].decision == "stop_efficacy"
    assert stopped.interim[0].conditional_power is None


def test_binding_futility_is_kept_a_non_binding_one_is_not() -> None:
    def rule(binding: bool) -> InterimRule:
        return InterimRule(
            name="rfs",
            efficacy=EfficacyBound(BoundaryFamily("ld_obrien_fleming"), 0.025, 1),
            information=(0.33, 0.67, 1.0),
            futility=FutilityBound(BoundaryFamily("hwang_shih_decani", -2), 0.1, binding),
        )

    obs = {"rfs": {"looks": [{"information": 0.33, "z": 0.4}]}}
    loose = monitor(trial(rule(False)), data(interim=obs)).interim[0].conditional_power
    tight = monitor(trial(rule(True)), data(interim=obs)).interim[0].conditional_power
    assert loose is not None and tight is not None
    assert loose.design_effect is not None and tight.design_effect is not None
    # a futility stop that must be obeyed takes away paths that would have gone on to reject
    assert tight.current_trend < loose.current_trend


def test_two_sided_futility_stops_inside_the_inner_region() -> None:
    rule = InterimRule(
        name="rfs",
        efficacy=EfficacyBound(BoundaryFamily("ld_obrien_fleming"), 0.05, 2),
        information=(0.5, 0.75, 1.0),
        futility=FutilityBound(BoundaryFamily("ld_obrien_fleming"), 0.2, False),
    )
    report = monitor(trial(rule), data(interim={"rfs": {"looks": [
        {"information": 0.5, "z": 0.05}]}}))
    (r,) = report.interim
    a = r.looks[0].futility_bound
    assert a is not None and a > 0.05
    assert r.decision == "stop_futility"
    assert r.reason.startswith("Interim look 1 at information 0.500: |Z| = 0.050 < futility "
                               f"bound {a:.3f}: stop for futility")
