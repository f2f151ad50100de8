"""The group sequential design a protocol's interim rule plans, and its sample size, solved by
`engine.stats`.

One translation from the protocol's words (`obrien_fleming`, `hwang_shih_decani(-2)`,
`sample_size power 0.8 assuming ...`) to the engine's design and sample size, used by
everything that needs the numbers: `trialcode check` (a design that cannot be solved is an
error in the protocol, with the reason), the protocol document's boundary table and sample-size
justification, and `trialcode monitor`. Importing this module needs numpy and scipy.special
only (not scipy.stats), so that `check` stays quick.
"""

from __future__ import annotations

from typing import Any

import attrs

from engine.stats.design import GroupSequentialDesign, group_sequential_design
from engine.stats.errors import DesignError
from engine.stats.samplesize import (
    SampleSize,
    hazard_from_median,
    hazard_from_rate,
    means_sample_size,
    one_proportion_sample_size,
    survival_sample_size,
    two_proportions_sample_size,
)
from protocol.errors import Diagnostic, Severity
from protocol.stopping import (
    InterimRule,
    MeansAssumptions,
    ProportionAssumptions,
    ProportionsAssumptions,
    SurvivalAssumptions,
)
from protocol.timing import Duration, TimeUnit
from protocol.trial import Trial
from protocol.vocab import ArmType

__all__ = [
    "DEFAULT_BETA",
    "ENGINE_FAMILIES",
    "FAMILY_TITLES",
    "PlannedSampleSize",
    "Verdict",
    "design_diagnostic",
    "design_diagnostics",
    "design_error",
    "design_for_rule",
    "engine_family",
    "experimental_share",
    "rule_verdicts",
    "verdict_diagnostic",
    "sample_size_for_rule",
]

#: Boundary family names of the protocol language -> engine.stats names.
ENGINE_FAMILIES = {
    "obrien_fleming": "obf",
    "pocock": "pocock",
    "wang_tsiatis": "wang-tsiatis",
    "haybittle_peto": "haybittle-peto",
    "ld_obrien_fleming": "ld-obf",
    "ld_pocock": "ld-pocock",
    "hwang_shih_decani": "hsd",
    "kim_demets": "power",
    "user_spending": "user",
    "pampallona_tsiatis": "pampallona-tsiatis",
    "z_bounds": "z",
}

#: engine.stats family names -> the names a statistician reads.
FAMILY_TITLES = {
    "obf": "O'Brien-Fleming",
    "pocock": "Pocock",
    "wang-tsiatis": "Wang-Tsiatis",
    "haybittle-peto": "Haybittle-Peto",
    "ld-obf": "Lan-DeMets O'Brien-Fleming",
    "ld-pocock": "Lan-DeMets Pocock",
    "hsd": "Hwang-Shih-DeCani",
    "power": "Kim-DeMets power",
    "user": "user-defined",
    "pampallona-tsiatis": "Pampallona-Tsiatis",
    "z": "Z-scale",
}

#: The type II error a design is solved for when the rule states neither a futility beta nor
#: a sample size: it fixes the drift only (the bounds of a design without futility do not
#: depend on it), and no document or report states a power from it.
DEFAULT_BETA = 0.1


def engine_family(name: str) -> str:
    """The engine's name of a protocol boundary family; DesignError for an unknown one."""
    family = ENGINE_FAMILIES.get(name)
    if family is None:
        raise DesignError(f"boundary family '{name}' is not one the statistics engine knows")
    return family


def design_for_rule(rule: InterimRule) -> GroupSequentialDesign:
    """Solve the design of ``rule`` as planned; :class:`DesignError` says why it cannot be."""
    eff = rule.efficacy
    kwargs: dict[str, Any] = {
        "alpha": eff.alpha,
        "sides": eff.sides,
        "efficacy": engine_family(eff.family.name),
        "efficacy_param": eff.family.parameter,
        "beta": rule.beta if rule.beta is not None else DEFAULT_BETA,
    }
    if eff.family.values:
        kwargs["efficacy_spending"] = list(eff.family.values)
    if rule.futility is not None:
        fut = rule.futility
        family = engine_family(fut.family.name)
        kwargs.update(futility=family, futility_param=fut.family.parameter, binding=fut.binding)
        if family == "z":
            kwargs["futility_bounds"] = list(fut.family.values)
        elif fut.family.values:
            kwargs["futility_spending"] = list(fut.family.values)
    return group_sequential_design(list(rule.information), **kwargs)


def experimental_share(trial: Trial) -> tuple[float | None, str]:
    """The share of patients randomised to the experimental arm, and the ratio as written.

    1/2 when the protocol gives no allocation ratio or an equal one; ``r_e / (r_e + r_c)`` for
    a two-arm trial with one experimental arm; None (with the ratio) otherwise.
    """
    ratio = trial.allocation_ratio
    if not ratio or len(set(ratio)) == 1:
        return 0.5, "1:1"
    experimental = [i for i, a in enumerate(trial.arms) if a.type is ArmType.EXPERIMENTAL]
    if len(trial.arms) == 2 and len(ratio) == 2 and len(experimental) == 1:
        i = experimental[0]
        return ratio[i] / sum(ratio), f"{ratio[i]}:{ratio[1 - i]}"
    return None, ":".join(str(n) for n in ratio)


@attrs.frozen
class PlannedSampleSize:
    """The sample size an interim rule states its assumptions for, with the time unit its
    calendar times are shown in."""

    rule: InterimRule
    sample: SampleSize
    time_unit: TimeUnit | None
    """The unit of the accrual period; calendar times are in it (None without one)."""
    days_per_unit: float

    def in_units(self, days: float) -> float:
        """A time in days, in the unit of the accrual period."""
        return days / self.days_per_unit


def sample_size_for_rule(trial: Trial, rule: InterimRule) -> PlannedSampleSize | None:
    """The sample size ``rule`` states its assumptions for (None when it states none).

    Times are converted to days with the protocol's calendar. :class:`DesignError` says why the
    sample size cannot be computed.
    """
    plan = rule.sample_size
    if plan is None:
        return None
    design = design_for_rule(rule)
    a = plan.assumptions
    cal = trial.calendar
    if isinstance(a, ProportionAssumptions):
        sample = one_proportion_sample_size(design, expected=a.expected, reference=a.reference)
        return PlannedSampleSize(rule, sample, None, 1.0)
    share, ratio = experimental_share(trial)
    if share is None:
        raise DesignError(f"the allocation ratio {ratio} does not say which share of patients "
                          "is in the experimental arm (two arms, one experimental)")
    r = share / (1.0 - share)
    if isinstance(a, ProportionsAssumptions):
        sample = two_proportions_sample_size(design, experimental=a.experimental,
                                             control=a.control, allocation=r)
        return PlannedSampleSize(rule, sample, None, 1.0)
    if isinstance(a, MeansAssumptions):
        sample = means_sample_size(design, difference=a.difference, sd=a.sd, allocation=r)
        return PlannedSampleSize(rule, sample, None, 1.0)
    assert isinstance(a, SurvivalAssumptions)

    def days(d: Duration | None) -> float | None:
        return None if d is None else float(d.days(cal))

    control, experimental = days(a.control_median), days(a.experimental_median)
    if a.hazard_ratio is not None:
        hr = float(a.hazard_ratio)
    else:
        assert control is not None and experimental is not None
        hr = control / experimental  # exponential: hazards are ln 2 / median
    accrual, follow_up = days(a.accrual), days(a.follow_up)
    recruit = accrual is not None and follow_up is not None and control is not None
    dropout = 0.0
    if a.dropout is not None:
        dropout = hazard_from_rate(a.dropout.percent / 100.0, float(a.dropout.per.days(cal)))
    sample = survival_sample_size(
        design,
        hazard_ratio=hr,
        allocation=r,
        hazard_control=hazard_from_median(control) if recruit and control else None,
        accrual_time=accrual if recruit else None,
        follow_up_time=follow_up if recruit else None,
        dropout_control=dropout,
    )
    unit = a.accrual.unit if a.accrual is not None else None
    per = float(cal.days(1, unit)) if unit is not None else 1.0
    return PlannedSampleSize(rule, sample, unit, per)


def design_diagnostics(trial: Trial) -> tuple[Diagnostic, ...]:
    """An error for every interim rule whose design or sample size cannot be computed, saying
    why; a warning when the sample size asks for more patients than the planned enrolment, or
    more events than the rule's `of N events`.

    Meant for a protocol that has passed the semantic checks (family names, parameters,
    fractions, alpha and beta in range): what is left are designs that are well formed but
    impossible, such as Haybittle-Peto interim bounds that already spend all of alpha.
    """
    out: list[Diagnostic] = []
    for rule in trial.stopping.interim_rules:
        out.extend(verdict_diagnostic(rule, v) for v in rule_verdicts(trial, rule))
    return tuple(out)


#: One finding about an interim rule, in a form that can be kept between runs
#: (trialcode/design_verdicts.py): severity ("error" or "warning"), message, hint, and where
#: it points ("rule" or "sample_size").
Verdict = tuple[str, str, str | None, str]


def rule_verdicts(trial: Trial, rule: InterimRule) -> list[Verdict]:
    """The design and sample-size findings about ``rule`` (empty when all is well)."""
    reason = design_error(rule)
    if reason is not None:
        return [("error", f"interim rule '{rule.name}': the design cannot be solved: {reason}",
                 None, "rule")]
    if rule.sample_size is None:
        return []
    try:
        planned = sample_size_for_rule(trial, rule)
    except DesignError as exc:
        return [("error", f"interim rule '{rule.name}': the sample size cannot be computed: "
                 f"{exc}", None, "sample_size")]
    assert planned is not None
    return _against_plan(trial, rule, planned)


def verdict_diagnostic(rule: InterimRule, verdict: Verdict) -> Diagnostic:
    """The diagnostic `check` reports for one finding."""
    severity, message, hint, where = verdict
    span = rule.sample_size.span if where == "sample_size" and rule.sample_size else rule.span
    return Diagnostic(Severity.ERROR if severity == "error" else Severity.WARNING, message,
                      span, hint)


def _against_plan(trial: Trial, rule: InterimRule, planned: PlannedSampleSize) -> list[Verdict]:
    sample = planned.sample
    out: list[Verdict] = []
    patients = sample.rounded_patients()
    if patients and trial.enrollment is not None and patients[0] > trial.enrollment:
        out.append(("warning",
                    f"interim rule '{rule.name}': the sample size needs {patients[0]} "
                    f"participants, more than the planned enrolment of {trial.enrollment}",
                    "the power is lower than stated unless the assumptions are revised",
                    "sample_size"))
    if sample.unit == "events" and rule.planned_events is not None:
        events = sample.rounded_maximum()
        if events > rule.planned_events:
            out.append(("warning",
                        f"interim rule '{rule.name}': the sample size needs {events} events, "
                        f"more than the {rule.planned_events} the rule plans ('of "
                        f"{rule.planned_events} events')", None, "sample_size"))
    return out


def design_error(rule: InterimRule) -> str | None:
    """Why the design of ``rule`` cannot be solved, or None when it can."""
    try:
        design_for_rule(rule)
    except DesignError as exc:
        return str(exc)
    return None


def design_diagnostic(rule: InterimRule, reason: str) -> Diagnostic:
    """The error `check` reports for a rule whose design cannot be solved."""
    return verdict_diagnostic(
        rule, ("error", f"interim rule '{rule.name}': the design cannot be solved: {reason}",
               None, "rule"))
