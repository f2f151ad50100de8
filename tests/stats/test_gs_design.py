"""Design-level behaviour: spending, futility, power, information, observed looks."""

from __future__ import annotations

import json
import math

import pytest
from scipy.special import ndtri

from engine.stats import (
    DesignError,
    bounds_at_observed_information,
    classical_bounds,
    crossing_probabilities,
    group_sequential_design,
    spending_bounds,
    spending_function,
)

T4 = (0.25, 0.5, 0.75, 1.0)


def test_single_look_is_the_fixed_design() -> None:
    d = group_sequential_design(1, alpha=0.025, beta=0.1, efficacy="pocock")
    assert d.efficacy[0] == pytest.approx(ndtri(0.975), abs=1e-9)
    assert d.inflation_factor == pytest.approx(1.0, abs=1e-9)
    assert d.expected_information_h0 == pytest.approx(1.0, abs=1e-9)
    assert d.drift == pytest.approx(ndtri(0.975) + ndtri(0.9), abs=1e-8)


def test_wang_tsiatis_limits_are_obf_and_pocock() -> None:
    for delta, family in ((0.0, "obf"), (0.5, "pocock")):
        wt = classical_bounds("wang-tsiatis", 4, 0.05, sides=2, param=delta)
        assert wt == pytest.approx(classical_bounds(family, 4, 0.05, sides=2), abs=1e-9)


def test_haybittle_peto() -> None:
    d = group_sequential_design(4, alpha=0.05, sides=2, efficacy="haybittle-peto")
    assert d.efficacy[:3] == (3.0, 3.0, 3.0)
    assert d.cumulative_alpha[-1] == pytest.approx(0.05, abs=1e-12)
    assert 1.96 < d.efficacy[3] < 2.0  # the final bound barely moves from 1.96
    with pytest.raises(DesignError, match="already spend"):
        group_sequential_design(5, alpha=0.002, efficacy="haybittle-peto")


@pytest.mark.parametrize("family", ["ld-obf", "ld-pocock", "hsd", "power"])
@pytest.mark.parametrize("sides", [1, 2])
def test_cumulative_alpha_follows_the_spending_function(family: str, sides: int) -> None:
    t = (0.2, 0.45, 0.7, 1.0)
    d = group_sequential_design(t, alpha=0.05, sides=sides, efficacy=family)
    sf = spending_function(family)
    expected = tuple(sides * x for x in sf.cumulative(t, 0.05 / sides))
    assert d.cumulative_alpha == pytest.approx(expected, abs=1e-10)
    assert d.nominal_p == pytest.approx(tuple(1 - _phi(b) for b in d.efficacy), abs=1e-14)


def _phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def test_spending_function_formulas() -> None:
    t = (0.0, 0.3, 1.0, 1.5)
    a = 0.025
    obf = spending_function("ld-obf").cumulative(t, a)
    assert obf[1] == pytest.approx(2 - 2 * _phi(ndtri(1 - a / 2) / math.sqrt(0.3)), rel=1e-12)
    assert obf[0] == 0.0 and obf[2] == a and obf[3] == a
    poc = spending_function("ld-pocock").cumulative(t, a)
    assert poc[1] == pytest.approx(a * math.log(1 + (math.e - 1) * 0.3), rel=1e-12)
    hsd = spending_function("hsd", -4).cumulative(t, a)
    assert hsd[1] == pytest.approx(a * (1 - math.exp(4 * 0.3)) / (1 - math.exp(4)), rel=1e-12)
    assert spending_function("hsd", 0).cumulative(0.3, a)[0] == pytest.approx(a * 0.3)
    assert spending_function("power", 2).cumulative(0.3, a)[0] == pytest.approx(a * 0.09)


@pytest.mark.parametrize("binding", [False, True])
def test_futility_design_reaches_power_and_meets_at_the_end(binding: bool) -> None:
    d = group_sequential_design(
        T4, alpha=0.025, beta=0.15, efficacy="ld-obf", futility="ld-pocock", binding=binding
    )
    assert d.power == pytest.approx(0.85, abs=1e-8)
    assert d.futility[-1] == d.efficacy[-1]
    assert all(a <= b for a, b in zip(d.futility, d.efficacy, strict=True))
    assert d.cumulative_beta[-1] == pytest.approx(0.15, abs=1e-6)
    # beta spent look by look follows the beta-spending function
    expected_beta = spending_function("ld-pocock").cumulative(T4[:-1], 0.15)
    assert d.cumulative_beta[:-1] == pytest.approx(expected_beta, abs=1e-8)
    if binding:
        assert d.type_i_error == pytest.approx(0.025, abs=1e-10)
    else:
        assert d.type_i_error < 0.025
        assert d.efficacy == pytest.approx(spending_bounds(spending_function("ld-obf"), T4, 0.025))


def test_binding_lowers_efficacy_bounds_and_maximum_information() -> None:
    kw = dict(alpha=0.025, beta=0.1, efficacy="hsd", futility="hsd", futility_param=-2.0)
    nb = group_sequential_design(3, binding=False, **kw)  # type: ignore[arg-type]
    b = group_sequential_design(3, binding=True, **kw)  # type: ignore[arg-type]
    assert b.efficacy[0] == pytest.approx(nb.efficacy[0], abs=1e-9)  # nothing to bind yet
    assert all(x < y for x, y in zip(b.efficacy[1:], nb.efficacy[1:], strict=True))
    assert b.inflation_factor < nb.inflation_factor


def test_expected_information_matches_direct_computation() -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="ld-obf", futility="hsd")
    for theta, value in ((0.0, d.expected_information_h0), (d.drift, d.expected_information_h1)):
        cp = crossing_probabilities(d.efficacy, d.futility, T4, theta=theta)
        assert value == pytest.approx(cp.expected_information * d.inflation_factor, rel=1e-12)
    assert d.expected_information_h0 < d.inflation_factor
    assert d.max_information(0.5) == pytest.approx((d.drift / 0.5) ** 2)


def test_observed_equal_to_planned_reproduces_the_plan() -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="ld-obf", futility="hsd")
    o = bounds_at_observed_information(d, T4)
    assert o.efficacy == pytest.approx(d.efficacy, abs=1e-9)
    assert o.futility == pytest.approx(d.futility, abs=1e-6)
    assert o.power == pytest.approx(d.power, abs=1e-8)


@pytest.mark.parametrize("last", [0.9, 1.0, 1.12])
def test_observed_final_look_spends_all_alpha(last: float) -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="ld-obf", futility="hsd", binding=True)
    obs = (0.3, 0.55, 0.8, last)
    o = bounds_at_observed_information(d, obs)
    assert o.cumulative_alpha[-1] == pytest.approx(0.025, abs=1e-10)
    assert o.type_i_error == pytest.approx(0.025, abs=1e-10)  # binding
    assert o.futility[-1] == o.efficacy[-1]
    sf = spending_function("ld-obf")
    assert o.cumulative_alpha[:3] == pytest.approx(sf.cumulative(obs[:3], 0.025), abs=1e-10)
    # the interim bounds only depend on the looks so far
    interim = bounds_at_observed_information(d, obs[:3], final=False)
    assert interim.efficacy == pytest.approx(o.efficacy[:3], abs=1e-9)
    assert interim.futility == pytest.approx(o.futility[:3], abs=1e-7)


def test_observed_two_sided_and_overrun_changes_final_bound() -> None:
    d = group_sequential_design(T4, alpha=0.05, sides=2, efficacy="ld-obf")
    over = bounds_at_observed_information(d, (0.25, 0.5, 0.75, 1.2))
    under = bounds_at_observed_information(d, (0.25, 0.5, 0.75, 0.85))
    assert over.efficacy[:3] == pytest.approx(d.efficacy[:3], abs=1e-9)
    # the same remaining alpha is spent at the last look; more information there means
    # a lower correlation with the earlier looks, so a *higher* final bound
    assert over.efficacy[3] > d.efficacy[3] > under.efficacy[3]
    for o in (over, under):
        cp = crossing_probabilities(o.efficacy, [-b for b in o.efficacy], o.information_fractions)
        assert cp.total_upper + cp.total_lower == pytest.approx(0.05, abs=1e-9)
    assert over.power > d.power > under.power


def test_observed_errors() -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="ld-obf")
    with pytest.raises(DesignError, match="must be the final look"):
        bounds_at_observed_information(d, (0.5, 1.05, 1.3))
    with pytest.raises(DesignError, match="strictly increasing"):
        bounds_at_observed_information(d, (0.5, 0.4, 1.0))
    with pytest.raises(DesignError, match="final=True"):
        bounds_at_observed_information(d, (0.5, 1.1), final=False)
    classic = group_sequential_design(T4, alpha=0.025, efficacy="pocock")
    with pytest.raises(DesignError, match="only for error-spending"):
        bounds_at_observed_information(classic, T4)


def test_as_dict_is_json_with_the_required_keys() -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="hsd", futility="hsd", futility_param=-2)
    out = json.loads(json.dumps(d.as_dict(), allow_nan=False))
    for key in ("efficacy", "futility", "nominal_p", "cumulative_alpha"):
        assert len(out[key]) == 4
    assert out["inflation_factor"] == pytest.approx(d.inflation_factor)
    none = group_sequential_design(T4, alpha=0.025, efficacy="pocock").as_dict()
    assert none["futility"] == []


def test_results_are_frozen_tuples() -> None:
    d = group_sequential_design(T4, alpha=0.025, efficacy="ld-obf", futility="hsd")
    assert isinstance(d.efficacy, tuple) and isinstance(d.futility, tuple)
    with pytest.raises(AttributeError):
        d.alpha = 0.05  # type: ignore[misc]
