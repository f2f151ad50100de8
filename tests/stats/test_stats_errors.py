"""Nonsensical inputs give DesignError with a clear message, never a numpy/scipy error."""

from __future__ import annotations

import math

import pytest

from engine.stats import (
    DesignError,
    bayesian_stopping_boundary,
    classical_bounds,
    exact_threshold,
    group_sequential_design,
    simon_two_stage,
    spending_function,
    truncated_sprt,
)


def test_design_error_is_a_value_error() -> None:
    assert issubclass(DesignError, ValueError)


def test_non_increasing_information() -> None:
    with pytest.raises(DesignError) as exc:
        group_sequential_design((0.5, 0.4, 1.0))
    assert str(exc.value) == (
        "information fractions must be strictly increasing, got 0.5 at look 1 and 0.4 at look 2"
    )
    with pytest.raises(DesignError, match="strictly increasing, got 0.5 at look 1 and 0.5"):
        group_sequential_design((0.5, 0.5, 1.0))


def test_non_positive_information_and_last_not_one() -> None:
    with pytest.raises(DesignError, match=r"must be positive, got 0 at look 1"):
        group_sequential_design((0.0, 0.5, 1.0))
    with pytest.raises(DesignError, match=r"must be positive, got -0.2 at look 1"):
        group_sequential_design((-0.2, 1.0))
    with pytest.raises(DesignError, match=r"last information fraction must be 1.*got 0.9"):
        group_sequential_design((0.3, 0.9))
    with pytest.raises(DesignError, match="must be finite"):
        group_sequential_design((0.5, math.nan))


@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.7, -0.01, 1.0])
def test_alpha_outside_zero_half(alpha: float) -> None:
    with pytest.raises(DesignError) as exc:
        group_sequential_design(3, alpha=alpha)
    assert str(exc.value) == f"alpha must be strictly between 0 and 0.5, got {alpha:g}"


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
def test_beta_outside_zero_one(beta: float) -> None:
    with pytest.raises(DesignError, match=r"^beta must be strictly between 0 and 1"):
        group_sequential_design(3, beta=beta)


def test_k_zero() -> None:
    with pytest.raises(DesignError) as exc:
        group_sequential_design(0)
    assert str(exc.value) == "the number of looks K must be at least 1, got K = 0"
    with pytest.raises(DesignError, match=r"empty: the number of looks K must be at least 1"):
        group_sequential_design(())


def test_unknown_families_and_parameters() -> None:
    with pytest.raises(DesignError, match="unknown efficacy boundary 'obrien'; choose one of"):
        group_sequential_design(3, efficacy="obrien")
    with pytest.raises(DesignError, match="unknown spending function 'gamma'"):
        group_sequential_design(3, futility="gamma")
    with pytest.raises(DesignError, match="unknown boundary family 'x'"):
        classical_bounds("x", 3, 0.05)
    with pytest.raises(DesignError, match="takes no parameter"):
        group_sequential_design(3, efficacy="pocock", efficacy_param=1.0)
    with pytest.raises(DesignError, match="rho must be positive"):
        spending_function("power", -1)
    with pytest.raises(DesignError, match="gamma must be between -40 and 40"):
        spending_function("hsd", 100)
    with pytest.raises(DesignError, match="Delta must be between"):
        classical_bounds("wang-tsiatis", 3, 0.05, param=2.0)


def test_inconsistent_options() -> None:
    with pytest.raises(DesignError, match="sides must be 1"):
        group_sequential_design(3, sides=3)
    with pytest.raises(DesignError, match="Z scale are for one-sided designs"):
        group_sequential_design(3, sides=2, futility="z", futility_bounds=(0, 0.5))
    with pytest.raises(DesignError, match="binding applies only to a futility bound"):
        group_sequential_design(3, binding=True)
    with pytest.raises(DesignError, match="needs an error-spending efficacy bound"):
        group_sequential_design(3, efficacy="obf", futility="hsd", binding=True)


def test_binomial_errors() -> None:
    with pytest.raises(DesignError, match=r"p1 must exceed p0"):
        simon_two_stage(0.4, 0.2)
    with pytest.raises(DesignError, match=r"p0 must be strictly between 0 and 1"):
        simon_two_stage(0.0, 0.2)
    with pytest.raises(DesignError, match="no two-stage design with n <= 10"):
        simon_two_stage(0.2, 0.3, n_max=10)
    with pytest.raises(DesignError, match="n must be a positive integer"):
        exact_threshold(0, 0.1, 0.05)
    with pytest.raises(DesignError, match="prior parameter a must be positive"):
        bayesian_stopping_boundary(10, 0.3, 0.9, a=0)
    with pytest.raises(DesignError, match="look at 12 patients exceeds n_max = 10"):
        bayesian_stopping_boundary(10, 0.3, 0.9, looks=[3, 6, 12])
    with pytest.raises(DesignError, match="true event rate must be between 0 and 1"):
        truncated_sprt(0.1, 0.3).operating_characteristics(1.5)
