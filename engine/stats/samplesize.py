"""Sample size and power of group sequential designs: time-to-event, binary and continuous.

Every calculation has two parts (Jennison & Turnbull 2000, §2.7 and ch. 3):

1. the **fixed-sample** size with the same alpha, sidedness and power, from the usual normal
   approximation of the endpoint's test statistic (below), and
2. the design's **inflation factor** ``I_max / I_fixed = (eta / eta_fixed)^2``
   (:attr:`GroupSequentialDesign.inflation_factor`): the maximum sample size is the fixed one
   times the inflation factor, the sample size at look k is the maximum times the information
   fraction ``t_k``, and the expected sample size under H0 or H1 is the fixed one times the
   design's expected information (:attr:`GroupSequentialDesign.expected_information_h0`, ``_h1``).

This is how rpact's ``getSampleSizeSurvival``, ``getSampleSizeRates`` and ``getSampleSizeMeans``
work, and ``tools/rpact_reference.R`` checks the results against them (docs/statistics.md).
Two-sided designs split alpha between the tails and power is that of the upper tail (rpact's
``twoSidedPower = FALSE``). ``allocation`` is the ratio of experimental to control patients
(rpact's ``allocationRatioPlanned``).

Fixed-sample sizes, with ``z = z_{alpha/sides} + z_beta`` and ``r`` the allocation ratio:

* time to event (Schoenfeld 1983): ``D = z^2 (1 + r)^2 / (r ln(HR)^2)`` events. Patients follow
  from uniform accrual over ``a``, a further follow-up ``f``, exponential event times and
  exponential dropout (Lachin & Foulkes 1986): a patient recruited at ``u`` is followed for
  ``a + f - u``, and has the event before dropping out with probability
  ``lambda / (lambda + phi) (1 - exp(-(lambda + phi) s))`` after time ``s``.
* two proportions ``p_e`` against ``p_c`` (difference, pooled variance under H0):
  ``n_e = (z_{alpha/sides} sqrt(pbar (1 - pbar) (1 + r)) + z_beta sqrt(p_e (1 - p_e) + r p_c
  (1 - p_c)))^2 / (p_e - p_c)^2`` with ``pbar = (r p_e + p_c) / (1 + r)``, and ``n_c = n_e / r``.
* one proportion ``p`` against a reference ``p_0``: ``n = (z_{alpha/sides} sqrt(p_0 (1 - p_0))
  + z_beta sqrt(p (1 - p)))^2 / (p - p_0)^2``.
* difference in means ``delta`` with common standard deviation ``sigma``: with the t test (the
  default), the ``n`` whose noncentral t power is ``1 - beta``; with the normal approximation
  ``n = (1 + r)^2 / r z^2 sigma^2 / delta^2``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from scipy.special import nctdtr, ndtri, stdtrit

from .design import GroupSequentialDesign
from .errors import DesignError, check_probability
from .recursion import crossing_probabilities
from .roots import brentq

__all__ = [
    "Recruitment",
    "SampleSize",
    "StageProbabilities",
    "event_probability",
    "hazard_from_median",
    "hazard_from_rate",
    "means_sample_size",
    "one_proportion_sample_size",
    "schoenfeld_events",
    "stage_probabilities",
    "survival_sample_size",
    "two_proportions_sample_size",
]


# ---- probabilities at each look -----------------------------------------------------------


@attrs.frozen
class StageProbabilities:
    """Per-look probabilities of stopping under one hypothesis (drift ``theta`` on the Z scale
    at full information)."""

    theta: float
    reject_upper: tuple[float, ...]
    """P(stop at look k by crossing the upper efficacy bound)."""
    reject_lower: tuple[float, ...]
    """P(stop at look k by crossing the lower efficacy bound): two-sided designs; else zeros."""
    futility: tuple[float, ...]
    """P(stop at look k for futility) (zeros without a futility bound; the last look's
    acceptance is not counted as a stop)."""

    @property
    def cumulative_reject_upper(self) -> tuple[float, ...]:
        return tuple(float(x) for x in np.cumsum(self.reject_upper))

    @property
    def stop(self) -> tuple[float, ...]:
        """P(the trial ends at look k); the last look takes every path still running."""
        p = [u + lo + f for u, lo, f in zip(self.reject_upper, self.reject_lower, self.futility,
                                           strict=True)]
        p[-1] = max(0.0, 1.0 - sum(p[:-1]))
        return tuple(p)


def stage_probabilities(design: GroupSequentialDesign, theta: float) -> StageProbabilities:
    """Stopping probabilities of ``design`` when ``E[Z_k] = theta sqrt(t_k)``.

    Futility stops are obeyed (as in the design's expected sample sizes). ``theta = 0`` is H0
    and ``theta = design.drift`` is H1. At the last look, not rejecting is not a stop.
    """
    k = design.k
    t = design.information_fractions
    upper = list(design.efficacy)
    zeros = (0.0,) * k
    if design.futility and design.sides == 2:  # stop for futility when |Z_k| < a_k
        holes = list(design.futility)
        holes[-1] = 0.0
        cp = crossing_probabilities(upper, [-b for b in upper], t, theta, inner=holes)
        return StageProbabilities(float(theta), cp.upper, cp.lower, cp.inner)
    if design.futility:
        lower = list(design.futility)
        lower[-1] = -math.inf
        cp = crossing_probabilities(upper, lower, t, theta)
        return StageProbabilities(float(theta), cp.upper, zeros, cp.lower)
    if design.sides == 2:
        cp = crossing_probabilities(upper, [-b for b in upper], t, theta)
        return StageProbabilities(float(theta), cp.upper, cp.lower, zeros)
    cp = crossing_probabilities(upper, None, t, theta)
    return StageProbabilities(float(theta), cp.upper, zeros, zeros)


# ---- the result ---------------------------------------------------------------------------


@attrs.frozen
class Recruitment:
    """Patients and calendar time for a time-to-event design (uniform accrual, exponential
    event and dropout times). Times are in the unit of the inputs (say, months), counted from
    the first patient's entry."""

    accrual_time: float
    follow_up_time: float
    hazard_control: float
    hazard_experimental: float
    dropout_control: float
    """Dropout hazard in the control arm (per time unit)."""
    dropout_experimental: float
    event_probability: float
    """P(a recruited patient has an event by the final analysis), over both arms."""
    patients: float
    """Patients needed: the maximum number of events over the event probability."""
    analysis_times: tuple[float, ...]
    """Expected calendar time of each look (when the expected events reach its number)."""
    patients_at_looks: tuple[float, ...]
    """Patients recruited by each look's expected time."""
    expected_patients_h1: float
    expected_duration_h1: float

    @property
    def study_duration(self) -> float:
        return self.accrual_time + self.follow_up_time


@attrs.frozen
class SampleSize:
    """Sample size of a group sequential design for one endpoint (see module docs)."""

    endpoint: str
    """``survival``, ``two proportions``, ``one proportion`` or ``means``."""
    unit: str
    """What the numbers count: ``events`` (time to event) or ``patients``."""
    design: GroupSequentialDesign
    fixed: float
    """The fixed-sample size with the same alpha, sides and power."""
    allocation: float | None
    """Experimental : control patients (None for a single group)."""
    effect: float
    """The alternative on the Z scale per unit of sample size: E[Z] = effect sqrt(n)."""
    h0: StageProbabilities
    h1: StageProbabilities
    recruitment: Recruitment | None = None
    assumptions: tuple[tuple[str, float], ...] = ()
    """The inputs, by name, for reports."""

    @property
    def inflation_factor(self) -> float:
        return self.design.inflation_factor

    @property
    def maximum(self) -> float:
        """The maximum sample size: the fixed one times the inflation factor."""
        return self.fixed * self.design.inflation_factor

    @property
    def at_looks(self) -> tuple[float, ...]:
        """Cumulative sample size at each look."""
        return tuple(self.maximum * t for t in self.design.information_fractions)

    @property
    def expected_h0(self) -> float:
        return self.fixed * self.design.expected_information_h0

    @property
    def expected_h1(self) -> float:
        return self.fixed * self.design.expected_information_h1

    @property
    def power(self) -> float:
        return self.design.power

    @property
    def per_arm(self) -> tuple[float, float] | None:
        """(experimental, control) shares of the maximum number of patients (two groups)."""
        if self.allocation is None:
            return None
        total = self.recruitment.patients if self.recruitment is not None else (
            self.maximum if self.unit == "patients" else math.nan)
        r = self.allocation
        return total * r / (1 + r), total / (1 + r)

    def rounded_patients(self) -> tuple[int, ...]:
        """Whole patients: (total, experimental, control) rounded up arm by arm, or (total,)
        for one group; empty for a time-to-event design without recruitment assumptions."""
        if self.unit == "patients":
            total = self.maximum
        elif self.recruitment is not None:
            total = self.recruitment.patients
        else:
            return ()
        if self.allocation is None:
            return (_ceil(total),)
        r = self.allocation
        e, c = _ceil(total * r / (1 + r)), _ceil(total / (1 + r))
        return (e + c, e, c)

    def rounded_maximum(self) -> int:
        """The maximum number of events or patients, rounded up."""
        return _ceil(self.maximum)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out: dict[str, Any] = {
            "endpoint": self.endpoint,
            "unit": self.unit,
            "assumptions": dict(self.assumptions),
            "allocation": self.allocation,
            "fixed": self.fixed,
            "inflation_factor": self.inflation_factor,
            "maximum": self.maximum,
            "maximum_rounded": self.rounded_maximum(),
            "at_looks": list(self.at_looks),
            "expected_h0": self.expected_h0,
            "expected_h1": self.expected_h1,
            "power": self.power,
            "cumulative_power": list(self.design.cumulative_power),
            "information_fractions": list(self.design.information_fractions),
            "efficacy": [_finite(b) for b in self.design.efficacy],
            "futility": [_finite(a) for a in self.design.futility],
            "stop_efficacy_h0": [u + lo for u, lo in zip(self.h0.reject_upper,
                                                         self.h0.reject_lower, strict=True)],
            "stop_futility_h0": list(self.h0.futility),
            "stop_efficacy_h1": list(self.h1.reject_upper),
            "stop_futility_h1": list(self.h1.futility),
        }
        patients = self.rounded_patients()
        if patients:
            out["patients_rounded"] = list(patients)
        rec = self.recruitment
        if rec is not None:
            out["recruitment"] = {
                "accrual_time": rec.accrual_time,
                "follow_up_time": rec.follow_up_time,
                "study_duration": rec.study_duration,
                "event_probability": rec.event_probability,
                "patients": rec.patients,
                "analysis_times": list(rec.analysis_times),
                "patients_at_looks": list(rec.patients_at_looks),
                "expected_patients_h1": rec.expected_patients_h1,
                "expected_duration_h1": rec.expected_duration_h1,
            }
        return out


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _ceil(x: float) -> int:
    # a computed 88.0000000001 is 88 patients, not 89
    return math.ceil(x - 1e-9)


def _check_positive(name: str, value: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) \
            or value <= 0:
        raise DesignError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def _check_allocation(allocation: float) -> float:
    return _check_positive("allocation ratio (experimental : control)", allocation)


def _z(design: GroupSequentialDesign) -> tuple[float, float]:
    return float(ndtri(1.0 - design.alpha / design.sides)), float(ndtri(1.0 - design.beta))


def _result(
    endpoint: str,
    unit: str,
    design: GroupSequentialDesign,
    fixed: float,
    allocation: float | None,
    effect: float,
    assumptions: Sequence[tuple[str, float]],
    recruitment: Recruitment | None = None,
) -> SampleSize:
    return SampleSize(
        endpoint=endpoint,
        unit=unit,
        design=design,
        fixed=fixed,
        allocation=allocation,
        effect=effect,
        h0=stage_probabilities(design, 0.0),
        h1=stage_probabilities(design, design.drift),
        recruitment=recruitment,
        assumptions=tuple(assumptions),
    )


# ---- time to event ------------------------------------------------------------------------


def schoenfeld_events(
    alpha: float, beta: float, sides: int, hazard_ratio: float, allocation: float = 1.0
) -> float:
    """Events for a fixed-sample log-rank test (Schoenfeld 1983):
    ``(z_{alpha/sides} + z_beta)^2 (1 + r)^2 / (r ln(HR)^2)``."""
    hr = _check_hazard_ratio(hazard_ratio)
    r = _check_allocation(allocation)
    z = float(ndtri(1.0 - alpha / sides) + ndtri(1.0 - beta))
    return z * z * (1.0 + r) ** 2 / (r * math.log(hr) ** 2)


def _check_hazard_ratio(hazard_ratio: float) -> float:
    hr = _check_positive("hazard ratio", hazard_ratio)
    if abs(hr - 1.0) < 1e-12:
        raise DesignError("the hazard ratio must differ from 1 (no difference has no sample size)")
    return hr


def hazard_from_median(median: float) -> float:
    """Exponential hazard with the given median survival time: ``ln 2 / median``."""
    return math.log(2.0) / _check_positive("median survival time", median)


def hazard_from_rate(rate: float, time: float) -> float:
    """Exponential hazard with probability ``rate`` of the event (or dropout) by ``time``."""
    p = check_probability("event or dropout probability", rate, low=0.0, high=1.0)
    return -math.log1p(-p) / _check_positive("time", time)


def _arm_events(t: float, accrual: float, hazard: float, dropout: float) -> float:
    """Expected share of an arm's (eventually recruited) patients with an event by calendar
    time ``t``: recruitment uniform over [0, accrual], event before dropout."""
    if t <= 0:
        return 0.0
    c = hazard + dropout
    m = min(t, accrual)
    # (1/a) int_0^m lambda/c (1 - exp(-c (t - u))) du
    inner = m - (math.exp(-c * (t - m)) - math.exp(-c * t)) / c
    return hazard / c * inner / accrual


def event_probability(
    t: float,
    accrual: float,
    hazard_control: float,
    hazard_experimental: float,
    dropout_control: float = 0.0,
    dropout_experimental: float = 0.0,
    allocation: float = 1.0,
) -> float:
    """Expected events by calendar time ``t`` per planned patient (both arms)."""
    r = allocation
    pe = _arm_events(t, accrual, hazard_experimental, dropout_experimental)
    pc = _arm_events(t, accrual, hazard_control, dropout_control)
    return (r * pe + pc) / (1.0 + r)


def survival_sample_size(
    design: GroupSequentialDesign,
    *,
    hazard_ratio: float,
    allocation: float = 1.0,
    hazard_control: float | None = None,
    accrual_time: float | None = None,
    follow_up_time: float | None = None,
    dropout_control: float = 0.0,
    dropout_experimental: float | None = None,
) -> SampleSize:
    """Events (Schoenfeld) and, given the control hazard, accrual and follow-up, patients.

    ``hazard_ratio`` is experimental over control; ``hazard_control`` is the control arm's
    exponential hazard (see :func:`hazard_from_median`); dropout hazards default to none in the
    experimental arm the same as control. Times in any one unit.
    """
    r = _check_allocation(allocation)
    hr = _check_hazard_ratio(hazard_ratio)
    fixed = schoenfeld_events(design.alpha, design.beta, design.sides, hr, r)
    effect = abs(math.log(hr)) * math.sqrt(r) / (1.0 + r)
    assumptions: list[tuple[str, float]] = [("hazard_ratio", hr), ("allocation", r)]
    given = [x is not None for x in (hazard_control, accrual_time, follow_up_time)]
    recruitment = None
    if any(given):
        if not all(given):
            raise DesignError(
                "patients need the control hazard (or median), the accrual time and the "
                "follow-up time together; give all three, or none for events only"
            )
        assert hazard_control is not None and accrual_time is not None
        assert follow_up_time is not None
        lam_c = _check_positive("control hazard", hazard_control)
        accrual = _check_positive("accrual time", accrual_time)
        if not isinstance(follow_up_time, int | float) or not math.isfinite(follow_up_time) \
                or follow_up_time < 0:
            raise DesignError(f"follow-up time must be 0 or more, got {follow_up_time!r}")
        drop_c = _check_dropout(dropout_control)
        drop_e = drop_c if dropout_experimental is None else _check_dropout(dropout_experimental)
        assumptions += [
            ("hazard_control", lam_c),
            ("accrual_time", accrual),
            ("follow_up_time", float(follow_up_time)),
            ("dropout_control", drop_c),
            ("dropout_experimental", drop_e),
        ]
        sample = _result("survival", "events", design, fixed, r, effect, assumptions)
        recruitment = _recruitment(sample, lam_c, hr * lam_c, accrual, float(follow_up_time),
                                   drop_c, drop_e, r)
        return attrs.evolve(sample, recruitment=recruitment)
    return _result("survival", "events", design, fixed, r, effect, assumptions)


def _check_dropout(value: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise DesignError(f"a dropout hazard must be 0 or more, got {value!r}")
    return float(value)


def _recruitment(
    sample: SampleSize,
    lam_c: float,
    lam_e: float,
    accrual: float,
    follow_up: float,
    drop_c: float,
    drop_e: float,
    r: float,
) -> Recruitment:
    total_time = accrual + follow_up

    def share(t: float) -> float:
        return event_probability(t, accrual, lam_c, lam_e, drop_c, drop_e, r)

    p_end = share(total_time)
    if p_end <= 0:
        raise DesignError("no events are expected by the end of follow-up")
    patients = sample.maximum / p_end
    times: list[float] = []
    for k, d in enumerate(sample.at_looks):
        if k == len(sample.at_looks) - 1:
            times.append(total_time)
            continue
        target = d / patients

        def excess(t: float, target: float = target) -> float:
            return share(t) - target

        times.append(brentq(excess, 0.0, total_time, xtol=1e-10))
    at_looks = tuple(patients * min(1.0, t / accrual) for t in times)
    stop = sample.h1.stop
    return Recruitment(
        accrual_time=accrual,
        follow_up_time=follow_up,
        hazard_control=lam_c,
        hazard_experimental=lam_e,
        dropout_control=drop_c,
        dropout_experimental=drop_e,
        event_probability=p_end,
        patients=patients,
        analysis_times=tuple(times),
        patients_at_looks=at_looks,
        expected_patients_h1=float(np.dot(stop, at_looks)),
        expected_duration_h1=float(np.dot(stop, times)),
    )


# ---- binary endpoints ---------------------------------------------------------------------


def two_proportions_sample_size(
    design: GroupSequentialDesign, *, experimental: float, control: float, allocation: float = 1.0
) -> SampleSize:
    """Patients to compare two proportions (difference; pooled variance under H0)."""
    pe = check_probability("experimental proportion", experimental)
    pc = check_probability("control proportion", control)
    if abs(pe - pc) < 1e-12:
        raise DesignError("the two proportions must differ")
    r = _check_allocation(allocation)
    za, zb = _z(design)
    pbar = (r * pe + pc) / (1.0 + r)
    n_e = (za * math.sqrt(pbar * (1 - pbar) * (1 + r))
           + zb * math.sqrt(pe * (1 - pe) + r * pc * (1 - pc))) ** 2 / (pe - pc) ** 2
    fixed = n_e * (1.0 + r) / r
    effect = (za + zb) / math.sqrt(fixed)
    return _result("two proportions", "patients", design, fixed, r, effect,
                   [("experimental", pe), ("control", pc), ("allocation", r)])


def one_proportion_sample_size(
    design: GroupSequentialDesign, *, expected: float, reference: float
) -> SampleSize:
    """Patients to compare one group's proportion with a reference rate."""
    p = check_probability("expected proportion", expected)
    p0 = check_probability("reference proportion", reference)
    if abs(p - p0) < 1e-12:
        raise DesignError("the expected proportion must differ from the reference")
    za, zb = _z(design)
    fixed = (za * math.sqrt(p0 * (1 - p0)) + zb * math.sqrt(p * (1 - p))) ** 2 / (p - p0) ** 2
    effect = (za + zb) / math.sqrt(fixed)
    return _result("one proportion", "patients", design, fixed, None, effect,
                   [("expected", p), ("reference", p0)])


# ---- continuous endpoints -----------------------------------------------------------------


def means_sample_size(
    design: GroupSequentialDesign,
    *,
    difference: float,
    sd: float,
    allocation: float = 1.0,
    normal: bool = False,
) -> SampleSize:
    """Patients to detect a difference in means with a common standard deviation.

    The fixed size is that of the two-sample t test (``normal=False``, rpact's default) or of
    the normal approximation; the group sequential maximum is it times the inflation factor.
    """
    if not isinstance(difference, int | float) or not math.isfinite(difference) \
            or difference == 0:
        raise DesignError(f"the difference in means must be a non-zero number, got {difference!r}")
    sigma = _check_positive("standard deviation", sd)
    r = _check_allocation(allocation)
    za, zb = _z(design)
    delta = abs(float(difference)) / sigma
    normal_n = (1 + r) ** 2 / r * (za + zb) ** 2 / delta**2
    if normal:
        fixed = normal_n
    else:
        fixed = _t_test_size(design, delta, r, normal_n)
    effect = (za + zb) / math.sqrt(fixed)
    return _result("means", "patients", design, fixed, r, effect,
                   [("difference", float(difference)), ("sd", sigma), ("allocation", r),
                    ("t_test", 0.0 if normal else 1.0)])


def _t_test_size(design: GroupSequentialDesign, delta: float, r: float, start: float) -> float:
    """Total n of the two-sample t test with power 1 - beta (noncentral t), n_e = r n_c."""
    sides = design.sides

    def shortfall(n_c: float) -> float:
        df = max(1e-3, n_c * (1 + r) - 2)
        crit = float(stdtrit(df, 1.0 - design.alpha / sides))
        ncp = math.sqrt(n_c * r / (1 + r)) * delta
        return float(nctdtr(df, ncp, crit)) - design.beta  # P(T < crit) - beta

    lo = 1e-3
    hi = max(2.0, start / (1 + r) * 2)
    while shortfall(hi) > 0:
        hi *= 2
        if hi > 1e9:
            raise DesignError("no sample size reaches the power (the effect is too small)")
    return brentq(shortfall, lo, hi, xtol=1e-10) * (1 + r)
