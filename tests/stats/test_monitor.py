"""engine.monitor: decisions of trial-level rules at hand-computed cases.

Sources of the expected numbers:
* O'Brien-Fleming, two-sided alpha = 0.05, K = 2 equally spaced looks: C_B(2) = 1.977
  (Jennison & Turnbull 2000, Table 2.3); the interim bound is C_B(2) sqrt(2) = 2.796.
* Bounds at observed information are checked against constants solved here independently with
  scipy's bivariate normal CDF, and the Lan-DeMets first-look bound against its closed form.
* Posterior probabilities of the beta-binomial rule are computed here with scipy's beta
  distribution and, independently, with the beta-binomial identity
  P(Beta(a, b) > x) = P(Bin(a + b - 1, x) <= a - 1) for integer a, b.
"""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
from monitorkit import BAYES, BINOMIAL, SPRT, data, interim, looks, safety, trial
from scipy.optimize import brentq
from scipy.stats import beta as beta_dist
from scipy.stats import binom, multivariate_normal, norm

from engine.interim_data import InterimDataError
from engine.monitor import MonitorReport, monitor, z_from_hazard_ratio
from engine.stats import (
    bayesian_stopping_boundary,
    bounds_at_observed_information,
    exact_threshold,
    group_sequential_design,
    truncated_sprt,
)
from protocol.stopping import StoppingRule

OBF_K2_FINAL = 1.9774  # J&T Table 2.3: C_B(2) = 1.977 (engine: 1.9774)
OBF_K2_INTERIM = 2.7965  # C_B(2) * sqrt(2)


def run(rule_data: dict[str, Any], *rules: StoppingRule, **trial_kw: Any) -> MonitorReport:
    rules = rules or (interim(),)
    return monitor(trial(*rules, **trial_kw), data(**rule_data))


def problems(rule_data: dict[str, Any], *rules: StoppingRule, **trial_kw: Any) -> list[str]:
    with pytest.raises(InterimDataError) as info:
        run(rule_data, *rules, **trial_kw)
    return list(info.value.lines())


# ---- group-sequential rules ------------------------------------------------------------------


def test_obf_two_looks_published_bounds():
    report = run({"interim": {"rfs": looks((0.5, 2.5))}})
    (rule,) = report.interim
    first, final = rule.looks
    assert first.efficacy_bound == pytest.approx(OBF_K2_INTERIM, abs=1e-4)
    assert final.efficacy_bound == pytest.approx(OBF_K2_FINAL, abs=1e-4)
    assert first.efficacy_bound == pytest.approx(final.efficacy_bound * math.sqrt(2), abs=1e-9)
    assert final.projected and not first.projected
    assert first.nominal_p == pytest.approx(norm.sf(first.efficacy_bound))
    assert final.cumulative_alpha == pytest.approx(0.05, abs=1e-7)
    assert first.cumulative_alpha == pytest.approx(2 * norm.sf(first.efficacy_bound), abs=1e-9)


@pytest.mark.parametrize(
    ("z", "decision"),
    [(3.0, "stop_efficacy"), (2.5, "continue"), (-2.5, "continue"), (-3.0, "stop_harm")],
)
def test_obf_first_look_decisions(z: float, decision: str):
    report = run({"interim": {"rfs": looks((0.5, z))}})
    (rule,) = report.interim
    assert rule.decision == decision
    assert rule.look == 1
    assert rule.looks[0].decision == decision
    assert rule.looks[0].observed_p == pytest.approx(norm.sf(z))


def test_obf_reasons_read_as_sentences():
    stop = run({"interim": {"rfs": looks((0.5, 3.0))}}).interim[0]
    assert stop.reason == (
        "Interim look 1 at information 0.500: Z = 3.000 >= efficacy bound 2.797 "
        "(one-sided p = 0.0013 <= nominal 0.0026); the efficacy boundary is crossed: stop for "
        "efficacy, rejecting H0 in favour of the experimental arm (cumulative alpha spent 0.0052)."
    )
    go = run({"interim": {"rfs": looks((0.5, 2.5))}}).interim[0]
    assert go.reason == (
        "Interim look 1 at information 0.500: Z = 2.500 lies inside the continuation region "
        "(-2.797, 2.797) (one-sided p = 0.0062; the bound needs p <= 0.0026): continue. "
        "Next: the final analysis, planned at information 1."
    )
    harm = run({"interim": {"rfs": looks((0.5, -3.0))}}).interim[0]
    assert harm.reason == (
        "Interim look 1 at information 0.500: Z = -3.000 <= lower bound -2.797 of the two-sided "
        "test (one-sided p = 0.0013 for harm <= nominal 0.0026); the lower boundary is crossed: "
        "the experimental arm is significantly worse than control; stop for harm "
        "(cumulative alpha spent 0.0052)."
    )


@pytest.mark.parametrize(
    ("z", "decision"), [(2.0, "stop_efficacy"), (1.9, "final_not_rejected")]
)
def test_obf_final_analysis(z: float, decision: str):
    report = run({"interim": {"rfs": looks((0.5, 1.0), (1.0, z))}})
    (rule,) = report.interim
    assert [x.decision for x in rule.looks] == ["continue", decision]
    assert rule.decision == decision and rule.look == 2
    assert rule.looks[1].final and not rule.looks[1].projected
    assert rule.looks[1].efficacy_bound == pytest.approx(OBF_K2_FINAL, abs=1e-4)
    if decision == "final_not_rejected":
        assert rule.reason == (
            "Final analysis at information 1.000: Z = 1.900 < final efficacy bound 1.977 "
            "(one-sided p = 0.0287 > nominal 0.0240); H0 is not rejected."
        )


def _obf_constant_two_looks(t1: float, alpha: float) -> float:
    """O'Brien-Fleming C for looks at t1 and 1, two-sided, from scipy's bivariate normal CDF."""
    rho = math.sqrt(t1)
    mvn = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]])

    def excess(c: float) -> float:
        b1, b2 = c / math.sqrt(t1), c
        inside = (
            mvn.cdf([b1, b2]) - mvn.cdf([-b1, b2]) - mvn.cdf([b1, -b2]) + mvn.cdf([-b1, -b2])
        )
        return 1.0 - inside - alpha

    return float(brentq(excess, 1.5, 3.0, xtol=1e-8))


@pytest.mark.parametrize(
    ("family", "param", "expected"),
    [
        ("pocock", None, [2.178, 2.178]),  # J&T Table 2.1: C_P(2) = 2.178
        ("obrien_fleming", None, [1.977 * math.sqrt(2), 1.977]),  # J&T Table 2.3
        ("wang_tsiatis", 0.5, [2.178, 2.178]),  # Delta = 1/2 is Pocock
        ("wang_tsiatis", 0.0, [1.977 * math.sqrt(2), 1.977]),  # Delta = 0 is O'Brien-Fleming
    ],
)
def test_classical_families_at_planned_information(
    family: str, param: float | None, expected: list[float]
):
    rule = interim(family=family, param=param)
    (r,) = run({"interim": {"rfs": looks((0.5, 0.0))}}, rule).interim
    assert [x.efficacy_bound for x in r.looks] == pytest.approx(expected, abs=2e-3)
    assert r.notes == ()


def test_haybittle_peto_interim_bound_is_three():
    rule = interim(family="haybittle_peto", information=(0.3, 0.6, 1.0))
    (r,) = run({"interim": {"rfs": looks((0.35, 3.01))}}, rule).interim
    assert [x.efficacy_bound for x in r.looks][:2] == [3.0, 3.0]
    assert r.decision == "stop_efficacy"
    assert r.looks[-1].cumulative_alpha == pytest.approx(0.05, abs=1e-7)


def test_binding_futility_lowers_the_efficacy_bound():
    kw: dict[str, Any] = {
        "family": "ld_obrien_fleming", "alpha": 0.025, "sides": 1, "information": (0.5, 1.0),
        "futility": "hwang_shih_decani", "futility_param": -2.0,
    }
    obs = {"interim": {"rfs": looks((0.5, 1.0), (1.0, 1.5))}}
    (free,) = run(obs, interim(**kw)).interim
    (bound,) = run(obs, interim(binding=True, **kw)).interim
    assert bound.looks[1].efficacy_bound < free.looks[1].efficacy_bound
    assert bound.reason.startswith("Final analysis at information 1.000: Z = 1.500 < final")


def test_observed_information_recomputes_classical_bounds():
    report = run({"interim": {"rfs": looks((0.45, 2.9))}})
    (rule,) = report.interim
    c = _obf_constant_two_looks(0.45, 0.05)
    first, final = rule.looks
    assert first.information == 0.45
    assert first.efficacy_bound == pytest.approx(c / math.sqrt(0.45), abs=1e-3)
    assert final.efficacy_bound == pytest.approx(c, abs=1e-3)
    # the planned bound is 2.7965: Z = 2.9 would have crossed it, but not the recomputed one
    assert first.planned_efficacy_bound == pytest.approx(OBF_K2_INTERIM, abs=1e-4)
    assert first.efficacy_bound > 2.9 > first.planned_efficacy_bound
    assert rule.decision == "continue"
    assert rule.notes == (
        "bounds recomputed at the observed information (the O'Brien-Fleming constant solved "
        "again with the looks to come at their planned information); the planned efficacy "
        "bounds were 2.7965 at 0.5, 1.9774 at 1",
    )


def test_final_look_over_running_rescales_classical_bounds():
    report = run({"interim": {"rfs": looks((0.5, 1.0), (1.1, 1.5))}})
    (rule,) = report.interim
    c = _obf_constant_two_looks(0.5 / 1.1, 0.05)
    assert [x.efficacy_bound for x in rule.looks] == pytest.approx(
        [c / math.sqrt(0.5 / 1.1), c], abs=1e-3
    )
    assert rule.decision == "final_not_rejected"


def test_observed_information_recomputes_spending_bounds():
    rule = interim(family="ld_obrien_fleming")
    report = run({"interim": {"rfs": looks((0.45, 1.0))}}, rule)
    first, final = report.interim[0].looks
    # closed form at the first look: per tail f(t) = 2 - 2 Phi(z_{alpha/4} / sqrt(t))
    f = 2.0 - 2.0 * norm.cdf(norm.isf(0.05 / 4) / math.sqrt(0.45))
    assert first.efficacy_bound == pytest.approx(norm.isf(f), abs=1e-6)
    design = group_sequential_design([0.5, 1.0], alpha=0.05, sides=2, efficacy="ld-obf")
    expected = bounds_at_observed_information(design, [0.45, 1.0])
    assert [first.efficacy_bound, final.efficacy_bound] == pytest.approx(expected.efficacy)
    assert first.planned_efficacy_bound == pytest.approx(design.efficacy[0])
    assert first.efficacy_bound > design.efficacy[0]


def test_spending_allows_an_extra_interim_look():
    rule = interim(family="ld_obrien_fleming")
    # two looks so far, as many as planned: "final": false says the second is an extra interim
    obs = {"looks": [{"information": 0.3, "z": 0.5}, {"information": 0.6, "z": 1.0, "final": False}]}
    report = run({"interim": {"rfs": obs}}, rule)
    (r,) = report.interim
    assert [x.information for x in r.looks] == [0.3, 0.6, 1.0]
    assert [x.projected for x in r.looks] == [False, False, True]
    # the extra look has no planned counterpart; the look to come is the planned final one
    assert [x.planned_information for x in r.looks] == [0.5, None, 1.0]
    assert r.decision == "continue"
    # without the flag the second look is the planned final analysis
    (f,) = run({"interim": {"rfs": looks((0.3, 0.5), (0.6, 1.0))}}, rule).interim
    assert f.looks[-1].final and f.decision == "final_not_rejected"


def _second_spending_bound(t1: float, t2: float, spent1: float, spent2: float) -> float:
    """One-sided bound at t2 after a bound spending ``spent1`` at t1, with ``spent2`` spent in
    all by t2: solved here from scipy's bivariate normal CDF, independently of the recursion."""
    b1 = float(norm.isf(spent1))
    rho = math.sqrt(t1 / t2)
    mvn = multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]])

    def excess(b2: float) -> float:  # P(Z1 < b1, Z2 >= b2) - (spent2 - spent1)
        return float(norm.cdf(b1) - mvn.cdf([b1, b2])) - (spent2 - spent1)

    return float(brentq(excess, 1.0, 5.0, xtol=1e-10))


def test_a_look_marked_not_final_is_not_a_planned_look():
    # issue 17: planned looks at 0.5 and 1 (Kim-DeMets, rho 2, one-sided alpha 0.025); an extra
    # look at 0.3 marked "final": false, then the planned look at 0.5. The look at 0.5 is the
    # first planned interim, not the final analysis: it spends 0.5^2 = 1/4 of alpha (bound
    # 2.5819), not all of it (bound 1.9695, "final, not rejected" at half the information).
    rule = interim(family="kim_demets", param=2.0, alpha=0.025, sides=1)
    obs = {"looks": [{"information": 0.3, "z": 1.0, "final": False}, {"information": 0.5, "z": 2.2}]}
    (r,) = run({"interim": {"rfs": obs}}, rule).interim
    assert [x.information for x in r.looks] == [0.3, 0.5, 1.0]
    assert [x.projected for x in r.looks] == [False, False, True]
    assert [x.final for x in r.looks] == [False, False, True]
    assert [x.planned_information for x in r.looks] == [None, 0.5, 1.0]
    expected = _second_spending_bound(0.3, 0.5, 0.025 * 0.3**2, 0.025 * 0.5**2)
    assert r.looks[1].efficacy_bound == pytest.approx(expected, abs=1e-6)
    assert round(r.looks[1].efficacy_bound, 4) == 2.5819
    assert r.looks[1].cumulative_alpha == pytest.approx(0.025 * 0.5**2, abs=1e-9)
    assert r.looks[2].cumulative_alpha == pytest.approx(0.025, abs=1e-9)
    assert r.decision == "continue" and r.look == 2
    assert r.reason.endswith("Next: the final analysis, planned at information 1.")
    assert "look 1: an extra analysis the protocol does not plan (not one of its 2 planned looks)" \
        in r.notes


def test_a_classical_family_rejects_a_look_marked_not_final():
    # the same data with an O'Brien-Fleming boundary: the number of looks is fixed, so the extra
    # look is an error, not silently counted as the planned interim
    obs = {"looks": [{"information": 0.3, "z": 1.0, "final": False}, {"information": 0.5, "z": 2.2}]}
    assert problems({"interim": {"rfs": obs}}) == [
        "interim.json: interim rule 'rfs', look 1, field 'final': a look marked \"final\": false "
        "is an extra analysis that the protocol does not plan, and the O'Brien-Fleming boundary "
        "fixes the number of looks (an extra look needs an error-spending family; leave 'final' "
        "out for a planned interim look)"
    ]


def test_a_look_after_the_last_planned_one_must_be_marked():
    rule = interim(family="ld_obrien_fleming")
    three = looks((0.3, 1.0), (0.5, 1.0), (0.7, 1.0))
    assert problems({"interim": {"rfs": three}}, rule) == [
        "interim.json: interim rule 'rfs', look 2: this is the protocol's last planned look "
        "(2 planned), so it is the final analysis, but look 3 follows (mark an extra interim "
        "analysis \"final\": false)"
    ]


def test_spending_early_final_analysis_spends_all_alpha():
    rule = interim(family="ld_obrien_fleming")
    obs = {"looks": [{"information": 0.5, "z": 1.0}, {"information": 0.9, "z": 2.1, "final": True}]}
    (r,) = run({"interim": {"rfs": obs}}, rule).interim
    assert r.looks[-1].final and r.looks[-1].cumulative_alpha == pytest.approx(0.05, abs=1e-7)
    assert r.decision == "stop_efficacy"


def test_hazard_ratio_converts_to_z():
    assert z_from_hazard_ratio(0.55, 27) == pytest.approx(-math.log(0.55) * math.sqrt(27 / 4))
    assert z_from_hazard_ratio(0.55, 27) == pytest.approx(1.5532, abs=1e-4)
    assert z_from_hazard_ratio(1.3, 40) < 0  # the experimental arm does worse
    obs = {"looks": [{"information": 0.45, "events": 27, "hazard_ratio": 0.55}]}
    (r,) = run({"interim": {"rfs": obs}}).interim
    assert r.looks[0].z == pytest.approx(1.5532, abs=1e-4)
    assert r.looks[0].hazard_ratio == 0.55 and r.looks[0].events == 27
    # 2:1 allocation to the experimental arm: Var(log HR) = 1 / (d * 2/3 * 1/3)
    (r2,) = run({"interim": {"rfs": obs}}, ratio=(2, 1)).interim
    assert r2.looks[0].z == pytest.approx(-math.log(0.55) * math.sqrt(27 * 2 / 9))


def test_information_counted_in_events():
    rule = interim(events=60)
    report = run({"interim": {"rfs": {"looks": [{"events": 30, "z": 3.0}]}}}, rule)
    (r,) = report.interim
    assert r.looks[0].information == 0.5 and r.looks[0].events == 30
    assert r.decision == "stop_efficacy"
    report = run({"interim": {"rfs": {"looks": [{"events": 27, "z": 1.0}]}}}, rule)
    assert report.interim[0].looks[0].information == pytest.approx(0.45)


def test_one_sided_futility_stop():
    rule = interim(
        family="ld_obrien_fleming", alpha=0.025, sides=1, information=(0.25, 0.5, 0.75, 1.0),
        futility="hwang_shih_decani", futility_param=-2.0,
    )
    design = group_sequential_design(
        [0.25, 0.5, 0.75, 1.0], alpha=0.025, sides=1, efficacy="ld-obf", futility="hsd",
        futility_param=-2.0, beta=0.1,
    )
    a1 = design.futility[0]
    below = run({"interim": {"rfs": looks((0.25, a1 - 0.01))}}, rule).interim[0]
    assert below.decision == "stop_futility"
    assert below.looks[0].futility_bound == pytest.approx(a1, abs=1e-9)
    assert below.reason == (
        f"Interim look 1 at information 0.250: Z = {a1 - 0.01:.3f} <= futility bound {a1:.3f}: "
        "stop for futility (non-binding: continuing instead would not inflate the type I error)."
    )
    above = run({"interim": {"rfs": looks((0.25, a1 + 0.01))}}, rule).interim[0]
    assert above.decision == "continue"
    assert above.looks[0].efficacy_bound == pytest.approx(design.efficacy[0], abs=1e-9)


def test_classical_futility_at_planned_information_matches_the_design():
    rule = interim(
        alpha=0.025, sides=1, information=(0.5, 1.0), futility="hwang_shih_decani",
        futility_param=-2.0,
    )
    design = group_sequential_design(
        [0.5, 1.0], alpha=0.025, sides=1, efficacy="obf", futility="hsd", futility_param=-2.0
    )
    (r,) = run({"interim": {"rfs": looks((0.5, 0.0))}}, rule).interim
    assert [x.efficacy_bound for x in r.looks] == pytest.approx(design.efficacy, abs=1e-9)
    assert [x.futility_bound for x in r.looks] == pytest.approx(design.futility, abs=1e-6)
    assert r.decision == ("stop_futility" if 0.0 <= design.futility[0] else "continue")


def test_rule_without_data_shows_the_plan():
    report = run({"safety": {"grade4": {"patients": 5, "events": 0}}}, interim(), safety())
    (r,) = report.interim
    assert r.decision == "no_data" and r.look is None
    assert all(x.projected for x in r.looks)
    assert report.notes == ("interim rule 'rfs' has no data in interim.json",)


# ---- safety rules ----------------------------------------------------------------------------


def test_bayesian_posterior_four_of_ten():
    report = run({"safety": {"grade4": {"patients": 10, "events": 4}}}, safety())
    (r,) = report.safety
    post = beta_dist.sf(0.2, 1 + 4, 1 + 10 - 4)
    assert post == pytest.approx(binom.cdf(4, 11, 0.2), abs=1e-12)  # independent identity
    assert r.looks[0].posterior == pytest.approx(post, abs=1e-12)
    assert post == pytest.approx(0.9496, abs=1e-4) and post > 0.9
    assert r.decision == "stop_safety" and r.looks[0].threshold == 4
    assert r.reason == (
        "4 of 10 patients (40.0%) had the event: posterior P(rate > 0.2) = 0.9496 > 0.9 "
        "(prior Beta(1, 1)); the rule stops at 4 or more events among 10: stop for safety."
    )


def test_bayesian_three_of_ten_continues_and_uses_the_arm_share():
    report = run({"safety": {"grade4": {"patients": 10, "events": 3}}}, safety())
    (r,) = report.safety
    assert r.decision == "continue"
    assert r.looks[0].posterior == pytest.approx(binom.cdf(3, 11, 0.2), abs=1e-12)
    assert r.max_patients == 48
    assert r.max_patients_source == (
        "planned enrolment 96 shared equally by the 2 arms; the rule covers ifn"
    )
    boundary = bayesian_stopping_boundary(48, 0.2, 0.9, 1.0, 1.0)
    assert [(a, b, k) for a, b, k in r.stopping_table][:3] == [(1, 1, 1), (2, 5, 2), (6, 8, 3)]
    expanded = [(n, k) for a, b, k in r.stopping_table for n in range(a, b + 1)]
    assert tuple(expanded) == boundary.table()
    rates = [o.rate for o in r.operating_characteristics]
    assert rates == [0.1, 0.2, 0.3, 0.4]
    for o in r.operating_characteristics:
        oc = boundary.operating_characteristics(o.rate)
        assert o.probability_stop == oc.probability_stop
        assert o.expected_patients == oc.expected_patients


def test_safety_rule_over_all_arms_and_max_patients_from_data():
    everyone = safety(arms=())
    (r,) = run({"safety": {"grade4": {"patients": 10, "events": 1}}}, everyone).safety
    assert r.max_patients == 96 and r.max_patients_source == "planned enrolment 96"
    given = {"patients": 10, "events": 1, "max_patients": 30}
    (r,) = run({"safety": {"grade4": given}}, safety()).safety
    assert r.max_patients == 30 and r.max_patients_source == "max_patients in the interim data"


def test_safety_looks_are_evaluated_in_turn():
    obs = {"looks": [{"patients": 5, "events": 2}, {"patients": 12, "events": 3}]}
    (r,) = run({"safety": {"grade4": obs}}, safety()).safety
    assert [x.decision for x in r.looks] == ["stop_safety", "continue"]
    assert r.decision == "continue" and r.look == 2
    assert r.notes == ("look 1 gave 'stop_safety' and monitoring went on to look 2",)


@pytest.mark.parametrize(("events", "decision"), [(5, "stop_safety"), (4, "continue")])
def test_exact_binomial_rule(events: int, decision: str):
    rule = safety("sae", BINOMIAL, arms=())
    (r,) = run({"safety": {"sae": {"patients": 20, "events": events}}}, rule).safety
    p = binom.sf(events - 1, 20, 0.1)
    assert r.looks[0].p_value == pytest.approx(p, abs=1e-12)
    assert (p <= 0.05) == (decision == "stop_safety")
    assert r.looks[0].threshold == exact_threshold(20, 0.1, 0.05) == 5
    assert r.decision == decision


def test_sprt_rule():
    rule = safety("tox", SPRT, arms=())
    sprt = truncated_sprt(0.1, 0.3, 0.05, 0.2, 40)
    upper, lower = math.log(0.8 / 0.05), math.log(0.2 / 0.95)
    high = run({"safety": {"tox": {"patients": 5, "events": 4}}}, rule).safety[0]
    llr = 4 * math.log(3.0) + math.log(0.7 / 0.9)
    assert high.looks[0].llr == pytest.approx(llr) and llr >= upper
    assert high.decision == "stop_safety" and high.looks[0].threshold == sprt.reject[4]
    low = run({"safety": {"tox": {"patients": 10, "events": 0}}}, rule).safety[0]
    assert low.looks[0].llr == pytest.approx(10 * math.log(0.7 / 0.9)) and low.looks[0].llr <= lower
    assert low.decision == "continue"
    assert "the SPRT concludes the rate is acceptable (p0 = 0.1)" in low.reason
    assert high.max_patients == 40
    assert [o.rate for o in high.operating_characteristics] == [0.1, 0.2, 0.3]
    assert high.operating_characteristics[0].probability_stop == pytest.approx(
        sprt.operating_characteristics(0.1).reject_h0
    )


def test_report_json_shape():
    report = run(
        {
            "interim": {"rfs": looks((0.5, 3.0))},
            "safety": {"grade4": {"patients": 10, "events": 4}},
        },
        interim(),
        safety(),
    )
    out = report.as_dict()
    assert out["format"] == "trialcode.monitor/1"
    assert [r["decision"] for r in out["interim"]] == ["stop_efficacy"]
    assert [r["decision"] for r in out["safety"]] == ["stop_safety"]
    assert out["interim"][0]["looks"][0]["efficacy_bound"] == pytest.approx(OBF_K2_INTERIM, abs=1e-4)
    assert out["safety"][0]["looks"][0]["stop_at_events"] == 4
    assert {r.name for r in report.stops} == {"rfs", "grade4"}


# ---- problems that need the protocol: every message whole -------------------------------------


def test_rules_named_in_the_data_but_not_in_the_protocol():
    got = problems(
        {
            "interim": {"rsf": looks((0.5, 1.0)), "grade4": looks((0.5, 1.0))},
            "safety": {"g4": {"patients": 3, "events": 0}},
        },
        interim(),
        safety(),
    )
    assert got == [
        "interim.json: interim rule 'rsf': the protocol has no trial interim rule 'rsf' "
        "(its interim rules: rfs)",
        "interim.json: interim rule 'grade4': 'grade4' is a safety rule in the protocol; put its "
        "data under 'safety'",
        "interim.json: safety rule 'g4': the protocol has no trial safety rule 'g4' "
        "(its safety rules: grade4)",
    ]


def test_data_for_another_trial():
    assert problems({"trial": "NCT0000", "interim": {"rfs": looks((0.5, 1.0))}}) == [
        "interim.json: field 'trial': the data are for trial 'NCT0000' but the protocol is 'T1'"
    ]


def test_information_must_grow():
    assert problems({"interim": {"rfs": looks((0.5, 1.0), (0.4, 1.0))}}) == [
        "interim.json: interim rule 'rfs', look 2, field 'information': the information must "
        "grow from look to look, got 0.4 after 0.5 at look 1"
    ]
    rule = interim(events=60)
    obs = {"looks": [{"events": 30, "z": 1.0}, {"events": 30, "z": 1.0}]}
    assert problems({"interim": {"rfs": obs}}, rule) == [
        "interim.json: interim rule 'rfs', look 2, field 'events': the information must grow "
        "from look to look, got 30 events after 30 at look 1"
    ]


def test_events_versus_information():
    rule = interim(events=60)
    assert problems({"interim": {"rfs": looks((0.5, 1.0))}}, rule) == [
        "interim.json: interim rule 'rfs', look 1, field 'information': the protocol counts this "
        "rule's information in events (of 60 events); give 'events' instead"
    ]
    obs = {"looks": [{"events": 30, "z": 1.0}]}
    assert problems({"interim": {"rfs": obs}}) == [
        "interim.json: interim rule 'rfs', look 1, field 'information' is missing: the protocol "
        "plans no number of events for this rule ('of N events'), so give the information as a "
        "fraction of the planned maximum"
    ]


def test_final_look_followed_by_another():
    marked = {"looks": [{"information": 0.5, "z": 1.0, "final": True}, {"information": 0.7, "z": 1.0}]}
    assert problems({"interim": {"rfs": marked}}) == [
        "interim.json: interim rule 'rfs', look 1, field 'final': this look is marked final but "
        "look 2 follows"
    ]
    assert problems({"interim": {"rfs": looks((1.0, 1.0), (1.1, 1.0))}}) == [
        "interim.json: interim rule 'rfs', look 1: the look reached 1 of the planned maximum "
        "information, so it is the final analysis, but look 2 follows"
    ]
    not_final = {"looks": [{"information": 1.05, "z": 1.0, "final": False}]}
    assert problems({"interim": {"rfs": not_final}}) == [
        "interim.json: interim rule 'rfs', look 1, field 'final': the look reached 1.05 of the "
        "planned maximum information, so it must be the final analysis"
    ]


def test_classical_families_fix_the_number_of_looks():
    assert problems({"interim": {"rfs": looks((0.6, 1.0))}}, interim(information=(0.5, 0.6, 1.0))) == [
        "interim.json: interim rule 'rfs', look 1: the observed information 0.6 is not below the "
        "0.6 planned for look 2; the O'Brien-Fleming boundary fixes the number of looks (mark "
        "this look \"final\": true if it is the final analysis)"
    ]
    extra = {"looks": [{"information": 0.5, "z": 1.0}, {"information": 0.9, "z": 1.0, "final": False}]}
    assert problems({"interim": {"rfs": extra}}) == [
        "interim.json: interim rule 'rfs', look 2, field 'final': a look marked \"final\": false "
        "is an extra analysis that the protocol does not plan, and the O'Brien-Fleming boundary "
        "fixes the number of looks (an extra look needs an error-spending family; leave 'final' "
        "out for a planned interim look)"
    ]


def test_more_looks_than_a_classical_family_plans():
    three = looks((0.3, 1.0), (0.6, 1.0), (0.9, 1.0))
    assert problems({"interim": {"rfs": three}}) == [
        "interim.json: interim rule 'rfs', look 3: the protocol plans 2 looks, and the "
        "O'Brien-Fleming boundary fixes the number of looks"
    ]


def test_spending_look_past_the_next_planned_one():
    rule = interim(family="ld_obrien_fleming", information=(0.25, 0.5, 0.75, 1.0))
    (r,) = run({"interim": {"rfs": looks((0.55, 1.0))}}, rule).interim
    assert [x.information for x in r.looks] == [0.55, 0.75, 1.0]
    assert r.notes[0] == (
        "the information observed has passed the look planned at information 0.5; the looks to "
        "come are projected from the next planned one"
    )


def test_protocol_design_that_cannot_be_solved():
    rule = interim(futility="hwang_shih_decani", futility_param=-2.0, binding=True)
    assert problems({"interim": {"rfs": looks((0.5, 1.0))}}, rule) == [
        "interim.json: interim rule 'rfs': the protocol's design cannot be solved: binding "
        "beta-spending futility needs an error-spending efficacy bound (ld-obf, ld-pocock, hsd, "
        "power, user)"
    ]
    short = interim(information=(0.5, 0.9))
    assert problems({"interim": {"rfs": looks((0.5, 1.0))}}, short) == [
        "interim.json: interim rule 'rfs': the protocol's last look is at information 0.9, not 1; "
        "monitoring needs the planned maximum information at the last look"
    ]


def test_unequal_allocation_among_three_arms_needs_z():
    obs = {"looks": [{"information": 0.5, "events": 30, "hazard_ratio": 0.7}]}
    got = problems({"interim": {"rfs": obs}}, arms=("a", "b", "c"), ratio=(2, 1, 1))
    assert got == [
        "interim.json: interim rule 'rfs', look 1, field 'hazard_ratio': the protocol's "
        "allocation ratio 2:1:1 does not say which share of patients is in the experimental "
        "arm; give 'z'"
    ]


def test_safety_counts_against_the_protocol():
    too_many = {"safety": {"grade4": {"patients": 60, "events": 7}}}
    assert problems(too_many, safety()) == [
        "interim.json: safety rule 'grade4', field 'patients': 60 patients is more than the 48 "
        "the rule monitors (planned enrolment 96 shared equally by the 2 arms; the rule covers "
        "ifn); give 'max_patients'"
    ]
    capped = {"safety": {"grade4": {"patients": 31, "events": 7, "max_patients": 30}}}
    assert problems(capped, safety()) == [
        "interim.json: safety rule 'grade4', field 'patients': 31 patients is more than "
        "max_patients = 30"
    ]
    shrinking = {
        "safety": {
            "grade4": {
                "looks": [
                    {"patients": 10, "events": 2},
                    {"patients": 10, "events": 2},
                    {"patients": 12, "events": 1},
                    {"patients": 14, "events": 5},
                ]
            }
        }
    }
    assert problems(shrinking, safety()) == [
        "interim.json: safety rule 'grade4', look 2, field 'patients': counts are cumulative and "
        "must grow from look to look, got 10 after 10",
        "interim.json: safety rule 'grade4', look 3, field 'events': counts are cumulative and "
        "cannot fall, got 1 after 2",
        "interim.json: safety rule 'grade4', look 4, field 'events': 4 new events among 2 new "
        "patients",
    ]


def test_safety_rule_sizes():
    no_enrolment = {"safety": {"grade4": {"patients": 10, "events": 1}}}
    assert problems(no_enrolment, safety(), enrollment=None) == [
        "interim.json: safety rule 'grade4', field 'max_patients' is missing: the protocol "
        "states no enrolment to size the stopping boundary from, so give the maximum number of "
        "patients the rule monitors"
    ]
    sprt = {"safety": {"tox": {"patients": 10, "events": 1, "max_patients": 50}}}
    assert problems(sprt, safety("tox", SPRT)) == [
        "interim.json: safety rule 'tox', field 'max_patients': the protocol's SPRT sets its own "
        "maximum (max 40); remove 'max_patients'"
    ]
    beyond = {"safety": {"tox": {"patients": 41, "events": 1}}}
    assert problems(beyond, safety("tox", SPRT)) == [
        "interim.json: safety rule 'tox', field 'patients': 41 patients is more than the SPRT's "
        "maximum of 40"
    ]


def test_every_problem_is_reported_at_once():
    got = problems(
        {
            "interim": {"rfs": looks((0.5, 1.0), (0.4, 1.0)), "other": looks((0.5, 1.0))},
            "safety": {"grade4": {"patients": 60, "events": 7}},
        },
        interim(),
        safety(),
    )
    assert len(got) == 3


def test_bayes_method_default_is_the_seed_rule():
    assert safety().method == BAYES


# ---- layering --------------------------------------------------------------------------------


def test_monitor_never_imports_the_parser():
    code = (
        "import sys\nimport engine.monitor, engine.interim_data\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dsl', 'lark', 'trialcode'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
