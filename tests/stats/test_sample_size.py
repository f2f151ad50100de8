"""engine.stats.samplesize: sample sizes checked against published values and independent
computations (the grid against rpact is in test_rpact_reference.py).

Sources:
* Cohen J (1992). A power primer. Psychol Bull 112:155-159, Table 2: two-sample t test,
  two-tailed alpha = .05, power .80: 393, 64 and 26 per group for d = 0.2, 0.5 and 0.8.
* Schoenfeld DA (1983). Sample-size formula for the proportional-hazards regression model.
  Biometrics 39:499-503: D = (z_{alpha/2} + z_beta)^2 / (p (1 - p) ln(HR)^2); for HR = 0.75,
  two-sided 0.05, power 0.8 and 1:1 allocation, the often-quoted 380 events.
* Jennison C, Turnbull BW (2000), Tables 2.2 and 2.4: maximum over fixed sample size of
  Pocock and O'Brien-Fleming tests, two-sided alpha = 0.05: R_P(4) = 1.202 (power 0.8),
  R_B(5) = 1.028 (power 0.8), R_B(2) = 1.007 (power 0.9).
* Lachin JM, Foulkes MA (1986). Evaluation of sample size and power for analyses of survival
  with allowance for nonuniform patient entry, losses to follow-up, noncompliance, and
  stratification. Biometrics 42:507-519: uniform entry over (0, T0), study end T, exponential
  event and loss times; checked here against a direct double integral.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import pytest
from scipy.integrate import dblquad

from engine.stats import DesignError, group_sequential_design
from engine.stats.samplesize import (
    event_probability,
    hazard_from_median,
    hazard_from_rate,
    means_sample_size,
    one_proportion_sample_size,
    schoenfeld_events,
    survival_sample_size,
    two_proportions_sample_size,
)

Z = NormalDist()


def fixed(alpha: float = 0.05, sides: int = 2, beta: float = 0.2):
    return group_sequential_design(1, alpha=alpha, sides=sides, efficacy="obf", beta=beta)


@pytest.mark.parametrize(("d", "per_group"), [(0.5, 64), (0.8, 26)])
def test_cohen_two_sample_t_test(d: float, per_group: int) -> None:
    s = means_sample_size(fixed(), difference=d, sd=1.0)
    assert math.ceil(s.fixed / 2) == per_group


def test_cohen_small_effect() -> None:
    # Cohen's 393 comes from the normal approximation with a small correction; the exact
    # noncentral t gives 393.4 per group
    s = means_sample_size(fixed(), difference=0.2, sd=1.0)
    assert s.fixed / 2 == pytest.approx(393, abs=1)


def test_means_normal_approximation_closed_form() -> None:
    s = means_sample_size(fixed(), difference=5, sd=10, allocation=2, normal=True)
    z = Z.inv_cdf(0.975) + Z.inv_cdf(0.8)
    assert s.fixed == pytest.approx(9 / 2 * z * z * 4, rel=1e-12)  # (1+r)^2/r z^2 (sd/d)^2


def test_schoenfeld_events() -> None:
    events = schoenfeld_events(0.05, 0.2, 2, 0.75)
    z = Z.inv_cdf(0.975) + Z.inv_cdf(0.8)
    assert events == pytest.approx(z * z / (0.25 * math.log(0.75) ** 2), rel=1e-12)
    assert math.ceil(events) == 380
    # unequal allocation: p (1 - p) with p = 2/3
    assert schoenfeld_events(0.05, 0.2, 2, 0.75, allocation=2) == pytest.approx(
        z * z / (2 / 9 * math.log(0.75) ** 2), rel=1e-12)


@pytest.mark.parametrize(("family", "k", "beta", "ratio"), [
    ("pocock", 4, 0.2, 1.202), ("obf", 5, 0.2, 1.028), ("obf", 2, 0.1, 1.007)])
def test_jennison_turnbull_maximum_over_fixed(family: str, k: int, beta: float, ratio: float) -> None:
    design = group_sequential_design(k, alpha=0.05, sides=2, efficacy=family, beta=beta)
    events = survival_sample_size(design, hazard_ratio=0.7)
    assert events.maximum / events.fixed == pytest.approx(ratio, abs=5e-4)
    patients = means_sample_size(design, difference=1, sd=3, normal=True)
    assert patients.maximum / patients.fixed == pytest.approx(ratio, abs=5e-4)
    assert patients.at_looks[-1] == pytest.approx(patients.maximum)
    assert patients.at_looks[0] == pytest.approx(patients.maximum / k)


def test_lachin_foulkes_event_probability_by_double_integral() -> None:
    lam, phi, t0, t = 0.3, 0.05, 3.0, 5.0

    def density(s: float, u: float) -> float:  # entry at u (uniform on [0, T0]), event at s
        return lam * math.exp(-(lam + phi) * s) / t0

    exact, _ = dblquad(density, 0.0, t0, 0.0, lambda u: t - u)
    assert event_probability(t, t0, lam, lam, phi, phi) == pytest.approx(exact, rel=1e-10)
    # before the end of accrual, only those recruited so far count (as a share of all)
    early, _ = dblquad(density, 0.0, 2.0, 0.0, lambda u: 2.0 - u)
    assert event_probability(2.0, t0, lam, lam, phi, phi) == pytest.approx(early, rel=1e-10)


def test_patients_and_times_of_a_survival_design() -> None:
    design = group_sequential_design((0.5, 1.0), alpha=0.05, sides=2, efficacy="obf", beta=0.2)
    s = survival_sample_size(design, hazard_ratio=0.5, hazard_control=hazard_from_median(12),
                             accrual_time=24, follow_up_time=24,
                             dropout_control=hazard_from_rate(0.05, 12))
    rec = s.recruitment
    assert rec is not None
    # the expected events at each look's time are that look's events
    for t, d in zip(rec.analysis_times, s.at_looks, strict=True):
        share = event_probability(t, 24, rec.hazard_control, rec.hazard_experimental,
                                  rec.dropout_control, rec.dropout_experimental)
        assert share * rec.patients == pytest.approx(d, rel=1e-9)
    assert rec.analysis_times[-1] == 48
    assert rec.patients == pytest.approx(s.maximum / rec.event_probability)
    assert s.rounded_patients() == (94, 47, 47)
    assert s.rounded_maximum() == 66
    # stopping probabilities: all of alpha under H0, the power under H1
    assert sum(s.h0.reject_upper) + sum(s.h0.reject_lower) == pytest.approx(0.05, abs=1e-9)
    assert sum(s.h1.reject_upper) == pytest.approx(0.8, abs=1e-9)
    assert rec.expected_patients_h1 <= rec.patients
    assert rec.expected_duration_h1 < 48


def test_two_proportions_formula() -> None:
    s = two_proportions_sample_size(fixed(), experimental=0.5, control=0.3)
    za, zb = Z.inv_cdf(0.975), Z.inv_cdf(0.8)
    per_group = (za * math.sqrt(2 * 0.4 * 0.6) + zb * math.sqrt(0.25 + 0.21)) ** 2 / 0.04
    assert s.fixed == pytest.approx(2 * per_group, rel=1e-12)
    assert s.rounded_patients() == (186, 93, 93)


def test_one_proportion_formula() -> None:
    s = one_proportion_sample_size(fixed(0.05, 1), expected=0.4, reference=0.2)
    za, zb = Z.inv_cdf(0.95), Z.inv_cdf(0.8)
    n = (za * math.sqrt(0.16) + zb * math.sqrt(0.24)) ** 2 / 0.04
    assert s.fixed == pytest.approx(n, rel=1e-12)
    assert s.rounded_patients() == (math.ceil(n),)


BAD = [
    (lambda d: survival_sample_size(d, hazard_ratio=1.0),
     "the hazard ratio must differ from 1 (no difference has no sample size)"),
    (lambda d: survival_sample_size(d, hazard_ratio=-0.5),
     "hazard ratio must be a positive number, got -0.5"),
    (lambda d: survival_sample_size(d, hazard_ratio=0.7, accrual_time=12),
     "patients need the control hazard (or median), the accrual time and the follow-up time "
     "together; give all three, or none for events only"),
    (lambda d: survival_sample_size(d, hazard_ratio=0.7, allocation=0),
     "allocation ratio (experimental : control) must be a positive number, got 0"),
    (lambda d: two_proportions_sample_size(d, experimental=0.3, control=0.3),
     "the two proportions must differ"),
    (lambda d: two_proportions_sample_size(d, experimental=1.2, control=0.3),
     "experimental proportion must be strictly between 0 and 1, got 1.2"),
    (lambda d: one_proportion_sample_size(d, expected=0.2, reference=0.2),
     "the expected proportion must differ from the reference"),
    (lambda d: means_sample_size(d, difference=0, sd=1),
     "the difference in means must be a non-zero number, got 0"),
    (lambda d: means_sample_size(d, difference=1, sd=-1),
     "standard deviation must be a positive number, got -1"),
    (lambda d: hazard_from_median(0), "median survival time must be a positive number, got 0"),
    (lambda d: hazard_from_rate(1.0, 12),
     "event or dropout probability must be strictly between 0 and 1, got 1"),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_inputs_say_what_is_wrong(call, message: str) -> None:
    with pytest.raises(DesignError) as info:
        call(fixed())
    assert str(info.value) == message
