"""Trial monitoring: what the trial-level stopping rules say about the interim data so far.

:func:`monitor` takes a protocol model and :class:`~engine.interim_data.InterimData` and returns
a :class:`MonitorReport`: for every trial-level rule, the decision at the latest look
(``continue``, ``stop_efficacy``, ``stop_harm``, ``stop_futility``, ``final_not_rejected``,
``stop_safety``, or ``no_data`` when the file has nothing for the rule), the reason in a
sentence, and the numbers behind it.

Interim (group-sequential) rules. The planned design is solved from the protocol
(:func:`engine.stats.group_sequential_design`); its bounds are then recomputed at the
information actually observed:

* error-spending families (``ld_obrien_fleming``, ``ld_pocock``, ``hwang_shih_decani``,
  ``kim_demets``): :func:`engine.stats.bounds_at_observed_information`, with the looks still to
  come at their planned information (the bounds of the looks taken do not depend on them);
* classical families (``obrien_fleming``, ``pocock``, ``wang_tsiatis``, ``haybittle_peto``): the
  number of looks is part of the design, so the constant is solved again with the observed
  information at the looks taken and the planned information at the looks to come, as fractions
  of the information at the final look. A beta-spending futility bound keeps the planned drift.

The statistic is on the Z scale with positive values favouring the experimental arm. A hazard
ratio with ``d`` events becomes ``Z = -ln(HR) sqrt(d pi (1 - pi))`` (the log-rank
approximation; ``pi`` is the share randomised to the experimental arm, 1/2 unless the protocol
states another ratio).

Safety rules. The boundary ("stop if at least k events among the first n patients") is built for
the maximum number of patients the rule monitors: ``max_patients`` from the data file, else the
covered arms' share of the planned enrolment under the allocation ratio
(``protocol.allocation.monitored_patients``, the same figure as the protocol document's safety
table), and for an SPRT its own maximum.
Decisions come from that table, so they agree with the document exactly.

The engine never imports the parser: this module depends on ``protocol`` and ``engine.stats``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
from scipy.special import ndtr
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from engine.interim_data import (
    InterimData,
    InterimDataError,
    InterimLook,
    InterimRuleData,
    SafetyRuleData,
    load_interim_data,
    parse_interim_data,
)
from engine.interim_design import (
    ENGINE_FAMILIES,
    FAMILY_TITLES,
    design_for_rule,
    experimental_share,
)
from engine.stats import (
    CLASSICAL_FAMILIES,
    PAMPALLONA_TSIATIS,
    BinaryBoundary,
    DesignError,
    GroupSequentialDesign,
    TruncatedSPRT,
    bayesian_stopping_boundary,
    bounds_at_observed_information,
    conditional_power,
    exact_threshold_boundary,
    trend_drift,
    truncated_sprt,
)
from engine.stats.design import bounds_at_timing
from protocol.allocation import allocation_ratio, monitored_patients
from protocol.stopping import (
    BayesianStop,
    BinomialStop,
    BoundaryFamily,
    InterimRule,
    SafetyRule,
    SprtStop,
)
from protocol.trial import Trial

__all__ = [
    "DECISIONS",
    "ENGINE_FAMILIES",
    "ConditionalPowerReport",
    "InterimDataError",
    "InterimLookReport",
    "InterimRuleReport",
    "MonitorReport",
    "OperatingPoint",
    "SafetyLookReport",
    "SafetyRuleReport",
    "load_interim_data",
    "monitor",
    "monitored_patients",
    "parse_interim_data",
    "z_from_hazard_ratio",
]

#: Every decision a rule or a look can carry.
DECISIONS = (
    "continue",
    "stop_efficacy",
    "stop_harm",
    "stop_futility",
    "final_not_rejected",
    "stop_safety",
    "no_data",
)

_FAMILY_TITLES = FAMILY_TITLES


# ---- report model --------------------------------------------------------------------------


@attrs.frozen
class InterimLookReport:
    """One look of an interim rule: observed (``projected`` false) or still to come."""

    look: int
    information: float
    """Information as a fraction of the planned maximum."""
    efficacy_bound: float
    """Upper efficacy bound at this information (two-sided: reject also if Z <= -bound)."""
    futility_bound: float | None
    nominal_p: float
    """One-sided nominal p-value of the efficacy bound, 1 - Phi(bound)."""
    cumulative_alpha: float
    """Type I error spent by the efficacy bounds up to this look (both tails if two-sided)."""
    planned_information: float | None
    planned_efficacy_bound: float | None
    """The bound of the design as planned, for this look number (None beyond the planned looks)."""
    final: bool
    projected: bool
    """True for a look still to come, shown at its planned information."""
    events: int | None = None
    z: float | None = None
    hazard_ratio: float | None = None
    observed_p: float | None = None
    """One-sided p-value of the observed Z, 1 - Phi(Z)."""
    decision: str | None = None
    reason: str | None = None
    date: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "look": self.look,
            "information": self.information,
            "events": self.events,
            "date": self.date,
            "final": self.final,
            "projected": self.projected,
            "z": self.z,
            "hazard_ratio": self.hazard_ratio,
            "observed_p": self.observed_p,
            "efficacy_bound": _finite(self.efficacy_bound),
            "futility_bound": _finite(self.futility_bound),
            "nominal_p": self.nominal_p,
            "cumulative_alpha": self.cumulative_alpha,
            "planned_information": self.planned_information,
            "planned_efficacy_bound": _finite(self.planned_efficacy_bound),
            "decision": self.decision,
            "reason": self.reason,
        }


@attrs.frozen
class InterimRuleReport:
    name: str
    label: str | None
    design: str
    """The design in words: family, sidedness, alpha, futility."""
    sides: int
    alpha: float
    family: str
    futility_family: str | None
    binding: bool | None
    planned_information: tuple[float, ...]
    planned_events: int | None
    decision: str
    reason: str
    look: int | None
    """The look the decision was taken at (None when the file has no data for the rule)."""
    looks: tuple[InterimLookReport, ...] = ()
    notes: tuple[str, ...] = ()
    conditional_power: ConditionalPowerReport | None = None
    """At the latest look, when the trial continues: the chance of rejecting H0 later."""

    @property
    def observed(self) -> tuple[InterimLookReport, ...]:
        return tuple(x for x in self.looks if not x.projected)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "interim",
            "name": self.name,
            "label": self.label,
            "design": self.design,
            "family": self.family,
            "sides": self.sides,
            "alpha": self.alpha,
            "futility_family": self.futility_family,
            "binding": self.binding,
            "planned_information": list(self.planned_information),
            "planned_events": self.planned_events,
            "decision": self.decision,
            "reason": self.reason,
            "look": self.look,
            "looks": [x.as_dict() for x in self.looks],
            "conditional_power": self.conditional_power.as_dict()
            if self.conditional_power is not None else None,
            "notes": list(self.notes),
        }


@attrs.frozen
class ConditionalPowerReport:
    """Conditional power at an interim look (engine.stats.conditional): the probability of
    rejecting H0 in favour of the experimental arm at a later look, given the Z observed, with
    the bounds of the looks to come as recomputed."""

    look: int
    current_trend: float
    """If the effect is the one estimated so far: drift ``Z / sqrt(t)``."""
    trend_drift: float
    design_effect: float | None
    """If the effect is the one the design is powered for (None when the rule states no power:
    no effect was assumed)."""
    design_drift: float | None
    power: float | None
    """The power the design is sized for (1 - beta), when the rule states it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "look": self.look,
            "design_effect": self.design_effect,
            "current_trend": self.current_trend,
            "design_drift": self.design_drift,
            "trend_drift": self.trend_drift,
            "power": self.power,
        }


@attrs.frozen
class SafetyLookReport:
    look: int
    patients: int
    events: int
    threshold: int | None
    """Stop if at least this many events among ``patients`` (None: no count would stop)."""
    decision: str
    reason: str
    posterior: float | None = None
    """Bayesian rule: P(rate > threshold | data)."""
    p_value: float | None = None
    """Exact binomial rule: P(X >= events | patients, threshold rate)."""
    llr: float | None = None
    """SPRT: the log likelihood ratio of p1 against p0."""
    accept: int | None = None
    """SPRT: conclude the rate acceptable if at most this many events."""
    date: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "look": self.look,
            "patients": self.patients,
            "events": self.events,
            "date": self.date,
            "rate": self.events / self.patients,
            "posterior": self.posterior,
            "p_value": self.p_value,
            "llr": self.llr,
            "stop_at_events": self.threshold,
            "accept_at_events": self.accept,
            "decision": self.decision,
            "reason": self.reason,
        }


@attrs.frozen
class OperatingPoint:
    """Exact behaviour of the rule over ``max_patients`` if the true event rate is ``rate``."""

    rate: float
    probability_stop: float
    expected_patients: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "probability_stop": self.probability_stop,
            "expected_patients": self.expected_patients,
        }


@attrs.frozen
class SafetyRuleReport:
    name: str
    label: str | None
    arms: tuple[str, ...]
    method: str
    """``bayesian``, ``binomial`` or ``sprt``."""
    design: str
    max_patients: int
    max_patients_source: str
    decision: str
    reason: str
    look: int | None
    looks: tuple[SafetyLookReport, ...] = ()
    stopping_table: tuple[tuple[int, int, int], ...] = ()
    """``(first n, last n, k)``: stop if at least k events among the first n patients."""
    operating_characteristics: tuple[OperatingPoint, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "safety",
            "name": self.name,
            "label": self.label,
            "arms": list(self.arms),
            "method": self.method,
            "design": self.design,
            "max_patients": self.max_patients,
            "max_patients_source": self.max_patients_source,
            "decision": self.decision,
            "reason": self.reason,
            "look": self.look,
            "looks": [x.as_dict() for x in self.looks],
            "stopping_table": [
                {"from_patients": a, "to_patients": b, "stop_at_events": k}
                for a, b, k in self.stopping_table
            ],
            "operating_characteristics": [x.as_dict() for x in self.operating_characteristics],
            "notes": list(self.notes),
        }


@attrs.frozen
class MonitorReport:
    trial: str
    source: str
    data_cutoff: str | None
    note: str | None
    interim: tuple[InterimRuleReport, ...]
    safety: tuple[SafetyRuleReport, ...]
    notes: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[InterimRuleReport | SafetyRuleReport, ...]:
        return self.interim + self.safety

    @property
    def stops(self) -> tuple[InterimRuleReport | SafetyRuleReport, ...]:
        """Rules whose decision at the latest look is to stop (or the final analysis rejected)."""
        return tuple(r for r in self.rules if r.decision.startswith("stop_"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "trialcode.monitor/1",
            "trial": self.trial,
            "data": self.source,
            "data_cutoff": self.data_cutoff,
            "note": self.note,
            "interim": [r.as_dict() for r in self.interim],
            "safety": [r.as_dict() for r in self.safety],
            "notes": list(self.notes),
        }


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


# ---- the entry point -----------------------------------------------------------------------


def monitor(trial: Trial, interim: InterimData) -> MonitorReport:
    """Evaluate every trial-level rule of ``trial`` on ``interim``.

    Raises :class:`InterimDataError` naming the file, the rule, the look and the field for every
    problem found (all of them, not only the first).
    """
    problems: list[str] = []
    notes: list[str] = []
    if interim.trial is not None and interim.trial != trial.name:
        problems.append(
            f"field 'trial': the data are for trial '{interim.trial}' but the protocol is "
            f"'{trial.name}'"
        )
    interim_rules = {r.name: r for r in trial.stopping.interim_rules}
    safety_rules = {r.name: r for r in trial.stopping.safety_rules}
    data_interim = {d.name: d for d in interim.interim}
    data_safety = {d.name: d for d in interim.safety}
    for kind, names, own, other, other_kind in (
        ("interim", data_interim, interim_rules, safety_rules, "safety"),
        ("safety", data_safety, safety_rules, interim_rules, "interim"),
    ):
        for name in names:
            if name in own:
                continue
            if name in other:
                problems.append(
                    f"{kind} rule '{name}': '{name}' is a {other_kind} rule in the protocol; "
                    f"put its data under '{other_kind}'"
                )
            else:
                known = ", ".join(own) if own else "none"
                problems.append(
                    f"{kind} rule '{name}': the protocol has no trial {kind} rule '{name}' "
                    f"(its {kind} rules: {known})"
                )

    interim_reports: list[InterimRuleReport] = []
    for rule in trial.stopping.interim_rules:
        data = data_interim.get(rule.name)
        try:
            if data is None:
                notes.append(f"interim rule '{rule.name}' has no data in {interim.source}")
                interim_reports.append(_no_interim_data(rule, interim.source))
            else:
                interim_reports.append(_evaluate_interim(trial, rule, data))
        except _RuleProblems as exc:
            problems.extend(exc.problems)
    safety_reports: list[SafetyRuleReport] = []
    for srule in trial.stopping.safety_rules:
        sdata = data_safety.get(srule.name)
        try:
            if sdata is None:
                notes.append(f"safety rule '{srule.name}' has no data in {interim.source}")
            safety_reports.append(_evaluate_safety(trial, srule, sdata))
        except _RuleProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise InterimDataError(interim.source, problems)
    if not interim_rules and not safety_rules:
        notes.append("the protocol has no trial-level stopping rules")
    return MonitorReport(
        trial=trial.name,
        source=interim.source,
        data_cutoff=interim.data_cutoff,
        note=interim.note,
        interim=tuple(interim_reports),
        safety=tuple(safety_reports),
        notes=tuple(notes),
    )


class _RuleProblems(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# ---- interim rules -------------------------------------------------------------------------


def z_from_hazard_ratio(hazard_ratio: float, events: int, share: float = 0.5) -> float:
    """``-ln(HR) sqrt(d pi (1 - pi))``: positive when the hazard ratio favours the experimental arm.

    ``share`` (``pi``) is the proportion randomised to the experimental arm; the variance of the
    log hazard ratio is about ``1 / (d pi (1 - pi))`` (4 / d under 1:1 allocation).
    """
    return -math.log(hazard_ratio) * math.sqrt(events * share * (1.0 - share))


def _family_words(f: BoundaryFamily, family: str) -> str:
    name = _FAMILY_TITLES[family]
    if f.values:
        return f"{name} ({', '.join(f'{x:g}' for x in f.values)})"
    if f.parameter is not None:
        name += f" ({f.parameter:g})"
    return name


def _design_words(rule: InterimRule, family: str) -> str:
    eff = rule.efficacy
    name = _family_words(eff.family, family)
    spending = family not in CLASSICAL_FAMILIES and family != PAMPALLONA_TSIATIS
    kind = "alpha spending" if spending else "boundary"
    sided = "two-sided symmetric" if eff.sides == 2 else "one-sided"
    tail = " (alpha/2 per tail)" if eff.sides == 2 else ""
    words = f"{name} {kind}, {sided}, alpha = {eff.alpha:g}{tail}"
    if rule.futility is not None:
        fut = rule.futility
        fam = ENGINE_FAMILIES.get(fut.family.name, "")
        fname = _family_words(fut.family, fam) if fam in _FAMILY_TITLES else fut.family.name
        binding = "binding" if fut.binding else "non-binding"
        if fam == "z":
            shown = ", ".join(f"{x:g}" for x in fut.family.values)
            words += f"; futility: Z bounds {shown} at the interim looks, {binding}"
        elif fam == PAMPALLONA_TSIATIS:
            words += f"; futility: {fname} boundary, {binding}"
        else:
            words += f"; futility: {fname} beta spending, {binding}, beta = {fut.beta:g}"
    return words


def _engine_family(rule: InterimRule, name: str) -> str:
    family = ENGINE_FAMILIES.get(name)
    if family is None:
        raise _RuleProblems(
            [f"interim rule '{rule.name}': boundary family '{name}' cannot be monitored"]
        )
    return family


def _planned_design(rule: InterimRule) -> tuple[GroupSequentialDesign, str]:
    where = f"interim rule '{rule.name}'"
    family = _engine_family(rule, rule.efficacy.family.name)
    if rule.futility is not None:
        _engine_family(rule, rule.futility.family.name)
    planned = rule.information
    if not planned or abs(planned[-1] - 1.0) > 1e-9:
        last = planned[-1] if planned else None
        raise _RuleProblems(
            [
                f"{where}: the protocol's last look is at information {last:g}, not 1; "
                "monitoring needs the planned maximum information at the last look"
            ]
        )
    try:
        return design_for_rule(rule), family
    except DesignError as exc:
        raise _RuleProblems([f"{where}: the protocol's design cannot be solved: {exc}"]) from None


def _no_interim_data(rule: InterimRule, source: str) -> InterimRuleReport:
    design, family = _planned_design(rule)
    looks = tuple(
        InterimLookReport(
            look=k + 1,
            information=t,
            efficacy_bound=design.efficacy[k],
            futility_bound=design.futility[k] if design.futility else None,
            nominal_p=design.nominal_p[k],
            cumulative_alpha=design.cumulative_alpha[k],
            planned_information=t,
            planned_efficacy_bound=design.efficacy[k],
            final=k == design.k - 1,
            projected=True,
        )
        for k, t in enumerate(design.information_fractions)
    )
    return InterimRuleReport(
        name=rule.name,
        label=rule.label,
        design=_design_words(rule, family),
        sides=design.sides,
        alpha=design.alpha,
        family=rule.efficacy.family.name,
        futility_family=rule.futility.family.name if rule.futility else None,
        binding=rule.futility.binding if rule.futility else None,
        planned_information=rule.information,
        planned_events=rule.planned_events,
        decision="no_data",
        reason=f"No interim data for this rule in {source}: nothing to decide; "
        "the planned bounds are shown.",
        look=None,
        looks=looks,
    )


@attrs.frozen
class _Observed:
    look: InterimLook
    information: float
    z: float


def _looks_within(looks: tuple[int, ...], n_max: int) -> list[int] | None:
    """The protocol's safety looks up to the monitored maximum (None: after every patient)."""
    if not looks:
        return None
    kept = [n for n in looks if n <= n_max]
    return kept or [n_max]


def _observed_looks(trial: Trial, rule: InterimRule, data: InterimRuleData) -> list[_Observed]:
    where = f"interim rule '{rule.name}'"
    problems: list[str] = []
    share, ratio_text = experimental_share(trial)
    out: list[_Observed] = []
    for look in data.looks:
        lw = f"{where}, look {look.number}"
        info: float | None = None
        if rule.planned_events is not None:
            if look.information is not None:
                problems.append(
                    f"{lw}, field 'information': the protocol counts this rule's information in "
                    f"events (of {rule.planned_events} events); give 'events' instead"
                )
            elif look.events is not None:
                info = look.events / rule.planned_events
        else:
            if look.information is None and look.events is not None:
                problems.append(
                    f"{lw}, field 'information' is missing: the protocol plans no number of "
                    "events for this rule ('of N events'), so give the information as a "
                    "fraction of the planned maximum"
                )
            info = look.information
        z = look.z
        if look.hazard_ratio is not None and look.events is not None:
            if share is None:
                problems.append(
                    f"{lw}, field 'hazard_ratio': the protocol's allocation ratio {ratio_text} "
                    "does not say which share of patients is in the experimental arm; give 'z'"
                )
            else:
                z = z_from_hazard_ratio(look.hazard_ratio, look.events, share)
        if info is not None and z is not None:
            out.append(_Observed(look, info, z))
    for prev, cur in zip(out, out[1:], strict=False):
        if cur.information <= prev.information:
            field = "events" if rule.planned_events is not None else "information"
            shown = (
                f"{cur.look.events} events after {prev.look.events}"
                if rule.planned_events is not None
                else f"{cur.information:g} after {prev.information:g}"
            )
            problems.append(
                f"{where}, look {cur.look.number}, field '{field}': the information must grow "
                f"from look to look, got {shown} at look {prev.look.number}"
            )
    if problems:
        raise _RuleProblems(problems)
    return out


@attrs.frozen
class _LookPlan:
    """Which of the protocol's planned looks each observed look is, and whether the last is final.

    A look marked ``"final": false`` is an extra, unplanned analysis: it takes no planned look's
    number. Every other look takes the next planned number, and the look that takes the last
    planned number is the final analysis (as is a look marked ``"final": true`` or one that
    reaches the planned maximum information).
    """

    planned_index: tuple[int | None, ...]
    """Index into the protocol's planned looks of each observed look (None: an extra look)."""
    final: bool
    """The last observed look is the final analysis."""

    @property
    def planned_count(self) -> int:
        return sum(1 for i in self.planned_index if i is not None)


def _plan_looks(rule: InterimRule, observed: Sequence[_Observed], family: str) -> _LookPlan:
    where = f"interim rule '{rule.name}'"
    n_planned = len(rule.information)
    classical = family in CLASSICAL_FAMILIES or family == PAMPALLONA_TSIATIS
    title = _FAMILY_TITLES[family]
    problems: list[str] = []
    index: list[int | None] = []
    count = 0
    final = False
    for pos, obs in enumerate(observed):
        look = obs.look
        lw = f"{where}, look {look.number}"
        follows = pos < len(observed) - 1
        if look.final is False:
            index.append(None)
            if obs.information >= 1.0:
                problems.append(
                    f"{lw}, field 'final': the look reached {obs.information:g} of the planned "
                    "maximum information, so it must be the final analysis"
                )
            elif classical:
                problems.append(
                    f"{lw}, field 'final': a look marked \"final\": false is an extra analysis "
                    f"that the protocol does not plan, and the {title} boundary fixes the number "
                    "of looks (an extra look needs an error-spending family; leave 'final' out "
                    "for a planned interim look)"
                )
            continue
        index.append(count)
        count += 1
        if look.final is True:
            final = True
            if follows:
                problems.append(
                    f"{lw}, field 'final': this look is marked final but look "
                    f"{look.number + 1} follows"
                )
        elif obs.information >= 1.0:
            final = True
            if follows:
                problems.append(
                    f"{lw}: the look reached {obs.information:g} of the planned maximum "
                    f"information, so it is the final analysis, but look {look.number + 1} "
                    "follows"
                )
        elif count == n_planned:
            final = True
            if follows and classical:
                problems.append(
                    f"{where}, look {look.number + 1}: the protocol plans {n_planned} looks, and "
                    f"the {title} boundary fixes the number of looks"
                )
            elif follows:
                problems.append(
                    f"{lw}: this is the protocol's last planned look ({n_planned} planned), so it "
                    f"is the final analysis, but look {look.number + 1} follows (mark an extra "
                    "interim analysis \"final\": false)"
                )
        if final and follows:
            break
    if problems:
        raise _RuleProblems(problems)
    return _LookPlan(tuple(index), final)


def _evaluate_interim(trial: Trial, rule: InterimRule, data: InterimRuleData) -> InterimRuleReport:
    design, family = _planned_design(rule)
    observed = _observed_looks(trial, rule, data)
    where = f"interim rule '{rule.name}'"
    m = len(observed)
    classical = family in CLASSICAL_FAMILIES or family == PAMPALLONA_TSIATIS
    planned = design.information_fractions
    plan = _plan_looks(rule, observed, family)
    final = plan.final
    p = plan.planned_count
    obs_t = [o.information for o in observed]
    notes: list[str] = []
    rest_index: list[int]
    if final:
        rest_index = []
    elif classical:
        rest_index = list(range(p, len(planned)))
        if planned[p] <= obs_t[-1]:
            raise _RuleProblems(
                [
                    f"{where}, look {m}: the observed information {obs_t[-1]:g} is not below the "
                    f"{planned[p]:g} planned for look {m + 1}; the {_FAMILY_TITLES[family]} "
                    "boundary fixes the number of looks (mark this look \"final\": true if it is "
                    "the final analysis)"
                ]
            )
    else:
        rest_index = [j for j in range(p, len(planned)) if planned[j] > obs_t[-1]]
        skipped = [planned[j] for j in range(p, len(planned)) if planned[j] <= obs_t[-1]]
        if skipped:
            notes.append(
                "the information observed has passed the "
                + ("look" if len(skipped) == 1 else "looks")
                + " planned at information "
                + ", ".join(f"{t:g}" for t in skipped)
                + "; the looks to come are projected from the next planned one"
            )
    extra = [o.look.number for o, i in zip(observed, plan.planned_index, strict=True) if i is None]
    if extra:
        which = ", ".join(str(n) for n in extra)
        notes.append(
            f"look{'s' if len(extra) > 1 else ''} {which}: an extra analysis the protocol does "
            f"not plan (not one of its {len(planned)} planned looks)"
        )
    rest = [planned[j] for j in rest_index]
    row_index = list(plan.planned_index) + list(rest_index)
    timing = obs_t + rest
    z_bounds = None
    if rule.futility is not None and rule.futility.family.name == "z_bounds":
        # a Z-scale futility bound belongs to its planned look; an extra look has none
        given = rule.futility.family.values
        z_bounds = [float(given[j]) if j is not None and j < len(given) else -math.inf
                    for j in row_index[:-1]]
    try:
        if classical:
            recomputed = bounds_at_timing(design, timing, futility_bounds=z_bounds)
        else:
            recomputed = bounds_at_observed_information(design, timing, final=True,
                                                        futility_bounds=z_bounds)
        bounds = _Bounds(
            recomputed.efficacy,
            recomputed.futility or None,
            recomputed.nominal_p,
            recomputed.cumulative_alpha,
        )
    except DesignError as exc:
        raise _RuleProblems(
            [f"{where}: the bounds cannot be recomputed at the observed information: {exc}"]
        ) from None
    moved = any(
        i is None or abs(t - planned[i]) > 5e-4
        for t, i in zip(obs_t, plan.planned_index, strict=True)
    )
    if moved:
        how = (
            f"the {_FAMILY_TITLES[family]} "
            f"{'design' if family == PAMPALLONA_TSIATIS else 'constant'} solved again with the "
            "looks to come at their planned information"
            if classical
            else "the spending function evaluated at the observed information"
        )
        shown = ", ".join(
            f"{b:.4f} at {t:g}" for t, b in zip(planned, design.efficacy, strict=True)
        )
        notes.append(
            f"bounds recomputed at the observed information ({how}); the planned efficacy "
            f"bounds were {shown}"
        )

    looks: list[InterimLookReport] = []
    for k, (t, j) in enumerate(zip(timing, row_index, strict=True)):
        is_obs = k < m
        is_final = k == len(timing) - 1
        fut = bounds.futility[k] if bounds.futility is not None else None
        row = InterimLookReport(
            look=k + 1,
            information=t,
            efficacy_bound=bounds.efficacy[k],
            futility_bound=fut,
            nominal_p=bounds.nominal_p[k],
            cumulative_alpha=bounds.cumulative_alpha[k],
            planned_information=None if j is None else planned[j],
            planned_efficacy_bound=None if j is None else design.efficacy[j],
            final=is_final,
            projected=not is_obs,
        )
        if is_obs:
            o = observed[k]
            decision, reason = _interim_decision(rule, row, o.z, design.sides)
            row = attrs.evolve(
                row,
                events=o.look.events,
                z=o.z,
                hazard_ratio=o.look.hazard_ratio,
                observed_p=float(ndtr(-o.z)),
                decision=decision,
                reason=reason,
                date=o.look.date,
            )
        looks.append(row)
    current = looks[m - 1]
    for row in looks[: m - 1]:
        if row.decision and row.decision != "continue":
            notes.append(
                f"look {row.look} gave '{row.decision}' and the trial went on to look "
                f"{row.look + 1}"
            )
    cp: ConditionalPowerReport | None = None
    if not final and current.decision == "continue":
        nxt = looks[m]
        what = "the final analysis" if nxt.final else f"look {nxt.look}"
        reason = f"{current.reason} Next: {what}, planned at information {nxt.information:g}."
        current = attrs.evolve(current, reason=reason)
        looks[m - 1] = current
        cp = _conditional_power(rule, design, timing, bounds, m - 1, observed[-1].z)
    return InterimRuleReport(
        name=rule.name,
        label=rule.label,
        design=_design_words(rule, family),
        sides=design.sides,
        alpha=design.alpha,
        family=rule.efficacy.family.name,
        futility_family=rule.futility.family.name if rule.futility else None,
        binding=rule.futility.binding if rule.futility else None,
        planned_information=rule.information,
        planned_events=rule.planned_events,
        decision=current.decision or "continue",
        reason=current.reason or "",
        look=m,
        looks=tuple(looks),
        notes=tuple(notes),
        conditional_power=cp,
    )


def _conditional_power(
    rule: InterimRule,
    design: GroupSequentialDesign,
    timing: Sequence[float],
    bounds: _Bounds,
    k: int,
    z: float,
) -> ConditionalPowerReport:
    binding = rule.futility is not None and rule.futility.binding and design.sides == 1
    futility = bounds.futility if binding else None

    def cp(theta: float) -> float:
        return conditional_power(timing, bounds.efficacy, k, z, theta, sides=design.sides,
                                 futility=futility)

    trend = trend_drift(z, timing[k])
    stated = rule.beta is not None
    return ConditionalPowerReport(
        look=k + 1,
        current_trend=cp(trend),
        trend_drift=trend,
        design_effect=cp(design.drift) if stated else None,
        design_drift=design.drift if stated else None,
        power=1.0 - design.beta if stated else None,
    )


@attrs.frozen
class _Bounds:
    efficacy: tuple[float, ...]
    futility: tuple[float, ...] | None
    nominal_p: tuple[float, ...]
    cumulative_alpha: tuple[float, ...]


def _p(x: float) -> str:
    return f"{x:.2e}" if x < 1e-4 else f"{x:.4f}"


def _interim_decision(
    rule: InterimRule, row: InterimLookReport, z: float, sides: int
) -> tuple[str, str]:
    b = row.efficacy_bound
    at = f"information {row.information:.3f}"
    p_obs = float(ndtr(-z))
    stage = "Final analysis" if row.final else f"Interim look {row.look}"
    spent = f"cumulative alpha spent {_p(row.cumulative_alpha)}"
    if z >= b:
        what = (
            "H0 is rejected in favour of the experimental arm"
            if row.final
            else "the efficacy boundary is crossed: stop for efficacy, rejecting H0 in favour "
            "of the experimental arm"
        )
        return "stop_efficacy", (
            f"{stage} at {at}: Z = {z:.3f} >= efficacy bound {b:.3f} "
            f"(one-sided p = {_p(p_obs)} <= nominal {_p(row.nominal_p)}); {what} ({spent})."
        )
    if sides == 2 and z <= -b:
        what = (
            "H0 is rejected in favour of the control arm: the experimental arm is significantly "
            "worse"
            if row.final
            else "the lower boundary is crossed: the experimental arm is significantly worse "
            "than control; stop for harm"
        )
        return "stop_harm", (
            f"{stage} at {at}: Z = {z:.3f} <= lower bound {-b:.3f} of the two-sided test "
            f"(one-sided p = {_p(1.0 - p_obs)} for harm <= nominal {_p(row.nominal_p)}); "
            f"{what} ({spent})."
        )
    if row.final:
        return "final_not_rejected", (
            f"{stage} at {at}: Z = {z:.3f} < final efficacy bound {b:.3f} "
            f"(one-sided p = {_p(p_obs)} > nominal {_p(row.nominal_p)}); H0 is not rejected."
        )
    a = row.futility_bound
    inner = sides == 2 and a is not None and a > 0
    if inner or (sides == 1 and a is not None and math.isfinite(a) and z <= a):
        assert a is not None
        fut = rule.futility
        binding = fut is not None and fut.binding
        tail = (
            "binding: the efficacy bounds assume this stop is obeyed"
            if binding
            else "non-binding: continuing instead would not inflate the type I error"
        )
        if not inner:
            return "stop_futility", (
                f"{stage} at {at}: Z = {z:.3f} <= futility bound {a:.3f}: stop for futility "
                f"({tail})."
            )
        if abs(z) < a:
            return "stop_futility", (
                f"{stage} at {at}: |Z| = {abs(z):.3f} < futility bound {a:.3f}: stop for "
                f"futility ({tail})."
            )
    if inner:
        assert a is not None
        region = (f"in the continuation region (-{b:.3f}, -{a:.3f}) or ({a:.3f}, {b:.3f}) of "
                  "the two-sided test")
    elif sides == 2:
        region = f"inside the continuation region ({-b:.3f}, {b:.3f})"
    elif a is not None and math.isfinite(a):
        region = f"between the futility bound {a:.3f} and the efficacy bound {b:.3f}"
    else:
        region = f"below the efficacy bound {b:.3f}"
    return "continue", (
        f"{stage} at {at}: Z = {z:.3f} lies {region} (one-sided p = {_p(p_obs)}; the bound needs "
        f"p <= {_p(row.nominal_p)}): continue."
    )


# ---- safety rules --------------------------------------------------------------------------


def _oc_rates(method: BayesianStop | BinomialStop | SprtStop) -> list[float]:
    if isinstance(method, SprtStop):
        rates = [method.p0, (method.p0 + method.p1) / 2, method.p1]
    else:
        r = method.threshold
        rates = [r / 2, r, 1.5 * r, 2 * r]
    return sorted({round(x, 6) for x in rates if 0 < x < 1})


def _method_words(method: BayesianStop | BinomialStop | SprtStop) -> tuple[str, str]:
    if isinstance(method, BayesianStop):
        return "bayesian", (
            f"stop when posterior P(rate > {method.threshold:g}) > {method.probability:g}, "
            f"prior Beta({method.prior_a:g}, {method.prior_b:g})"
        )
    if isinstance(method, BinomialStop):
        return "binomial", (
            f"stop when an exact one-sided binomial test rejects rate <= {method.threshold:g} "
            f"at alpha = {method.alpha:g}"
        )
    return "sprt", (
        f"truncated SPRT of p0 = {method.p0:g} against p1 = {method.p1:g}, "
        f"alpha = {method.alpha:g}, beta = {method.beta:g}, at most {method.max_patients} patients"
    )


def _compress(boundary: BinaryBoundary) -> tuple[tuple[int, int, int], ...]:
    rows: list[tuple[int, int, int]] = []
    for n, k in boundary.table():
        if rows and rows[-1][2] == k and rows[-1][1] == n - 1:
            rows[-1] = (rows[-1][0], n, k)
        else:
            rows.append((n, n, k))
    return tuple(rows)


def _evaluate_safety(
    trial: Trial, rule: SafetyRule, data: SafetyRuleData | None
) -> SafetyRuleReport:
    where = f"safety rule '{rule.name}'"
    method = rule.method
    kind, words = _method_words(method)
    if isinstance(method, SprtStop):
        if data is not None and data.max_patients is not None:
            raise _RuleProblems(
                [
                    f"{where}, field 'max_patients': the protocol's SPRT sets its own maximum "
                    f"(max {method.max_patients}); remove 'max_patients'"
                ]
            )
        n_max = method.max_patients
        source = f"the SPRT's maximum in the protocol (max {n_max})"
    elif data is not None and data.max_patients is not None:
        n_max = data.max_patients
        source = "max_patients in the interim data"
    else:
        planned = monitored_patients(trial, rule)
        if planned is None or planned < 1:
            raise _RuleProblems(
                [
                    f"{where}, field 'max_patients' is missing: the protocol states no "
                    "enrolment to size the stopping boundary from, so give the maximum number "
                    "of patients the rule monitors"
                ]
            )
        n_max = planned
        if rule.arms and trial.arms and len(rule.arms) < len(trial.arms):
            ratio = allocation_ratio(trial)
            how = (f"allocated {':'.join(str(p) for p in ratio)} to the {len(trial.arms)} arms"
                   if ratio else f"shared equally by the {len(trial.arms)} arms")
            source = (
                f"planned enrolment {trial.enrollment} {how}; the rule covers "
                f"{', '.join(rule.arms)}"
            )
        else:
            source = f"planned enrolment {trial.enrollment}"

    looks = data.looks if data is not None else ()
    problems: list[str] = []
    for prev, cur in zip(looks, looks[1:], strict=False):
        lw = f"{where}, look {cur.number}"
        if cur.patients <= prev.patients:
            problems.append(
                f"{lw}, field 'patients': counts are cumulative and must grow from look to "
                f"look, got {cur.patients} after {prev.patients}"
            )
        elif cur.events < prev.events:
            problems.append(
                f"{lw}, field 'events': counts are cumulative and cannot fall, got "
                f"{cur.events} after {prev.events}"
            )
        elif cur.events - prev.events > cur.patients - prev.patients:
            problems.append(
                f"{lw}, field 'events': {cur.events - prev.events} new events among "
                f"{cur.patients - prev.patients} new patients"
            )
    for look in looks:
        if look.patients > n_max:
            lw = f"{where}, look {look.number}" if len(looks) > 1 else where
            if isinstance(method, SprtStop):
                why = f"the SPRT's maximum of {n_max}"
            elif data is not None and data.max_patients is not None:
                why = f"max_patients = {n_max}"
            else:
                why = f"the {n_max} the rule monitors ({source}); give 'max_patients'"
            problems.append(
                f"{lw}, field 'patients': {look.patients} patients is more than {why}"
            )
    if problems:
        raise _RuleProblems(problems)

    try:
        sprt: TruncatedSPRT | None = None
        boundary: BinaryBoundary | None = None
        if isinstance(method, BayesianStop):
            boundary = bayesian_stopping_boundary(
                n_max, method.threshold, method.probability, method.prior_a, method.prior_b,
                looks=_looks_within(rule.looks, n_max),
            )
        elif isinstance(method, BinomialStop):
            boundary = exact_threshold_boundary(n_max, method.threshold, method.alpha,
                                                looks=_looks_within(rule.looks, n_max))
        else:
            sprt = truncated_sprt(method.p0, method.p1, method.alpha, method.beta, n_max)
        ocs: list[OperatingPoint] = []
        for rate in _oc_rates(method):
            if boundary is not None:
                oc = boundary.operating_characteristics(rate)
                ocs.append(OperatingPoint(rate, oc.probability_stop, oc.expected_patients))
            else:
                assert sprt is not None
                so = sprt.operating_characteristics(rate)
                ocs.append(OperatingPoint(rate, so.reject_h0, so.expected_patients))
    except DesignError as exc:
        raise _RuleProblems([f"{where}: the stopping boundary cannot be built: {exc}"]) from None

    reports: list[SafetyLookReport] = []
    for look in looks:
        if boundary is not None:
            assert not isinstance(method, SprtStop)
            reports.append(_boundary_look(method, boundary, look.number, look.patients,
                                          look.events, look.date, rule.looks))
        else:
            assert sprt is not None and isinstance(method, SprtStop)
            reports.append(_sprt_look(method, sprt, look.number, look.patients, look.events,
                                      look.date))
    notes: list[str] = []
    for r in reports[:-1]:
        if r.decision != "continue":
            notes.append(
                f"look {r.look} gave '{r.decision}' and monitoring went on to look {r.look + 1}"
            )
    table = _compress(boundary) if boundary is not None else ()
    if reports:
        decision, reason, look_no = reports[-1].decision, reports[-1].reason, reports[-1].look
    else:
        decision, reason, look_no = "no_data", "No safety data for this rule in the file.", None
    return SafetyRuleReport(
        name=rule.name,
        label=rule.label,
        arms=rule.arms,
        method=kind,
        design=words,
        max_patients=n_max,
        max_patients_source=source,
        decision=decision,
        reason=reason,
        look=look_no,
        looks=tuple(reports),
        stopping_table=table,
        operating_characteristics=tuple(ocs),
        notes=tuple(notes),
    )


def _count_words(x: int, n: int) -> str:
    return f"{x} of {n} patients ({100 * x / n:.1f}%) had the event"


def _boundary_look(
    method: BayesianStop | BinomialStop,
    boundary: BinaryBoundary,
    number: int,
    n: int,
    x: int,
    date: str | None,
    looks: tuple[int, ...] = (),
) -> SafetyLookReport:
    k = boundary.thresholds[n - 1]
    stop = k is not None and x >= k
    if k is not None:
        rule_text = f"the rule stops at {k} or more events among {n}"
    elif looks and n not in looks:
        rule_text = (f"the rule is checked only at {', '.join(str(m) for m in looks)} patients, "
                     f"not at {n}")
    else:
        rule_text = f"no number of events among {n} patients stops the rule"
    verdict = "stop for safety" if stop else "continue"
    if isinstance(method, BayesianStop):
        post = float(beta_dist.sf(method.threshold, method.prior_a + x, method.prior_b + n - x))
        cmp = ">" if post > method.probability else "<="
        reason = (
            f"{_count_words(x, n)}: posterior P(rate > {method.threshold:g}) = {post:.4f} "
            f"{cmp} {method.probability:g} (prior Beta({method.prior_a:g}, {method.prior_b:g})); "
            f"{rule_text}: {verdict}."
        )
        return SafetyLookReport(number, n, x, k, "stop_safety" if stop else "continue", reason,
                                posterior=post, date=date)
    p = float(binom.sf(x - 1, n, method.threshold))
    cmp = "<=" if stop else ">"
    reason = (
        f"{_count_words(x, n)}: exact one-sided p = P(X >= {x} | rate {method.threshold:g}) = "
        f"{_p(p)} {cmp} alpha {method.alpha:g}; {rule_text}: {verdict}."
    )
    return SafetyLookReport(number, n, x, k, "stop_safety" if stop else "continue", reason,
                            p_value=p, date=date)


def _sprt_look(
    method: SprtStop, sprt: TruncatedSPRT, number: int, n: int, x: int, date: str | None
) -> SafetyLookReport:
    p0, p1 = method.p0, method.p1
    llr = x * math.log(p1 / p0) + (n - x) * math.log((1 - p1) / (1 - p0))
    upper = math.log((1 - method.beta) / method.alpha)
    lower = math.log(method.beta / (1 - method.alpha))
    reject = sprt.reject[n - 1]
    accept = sprt.accept[n - 1]
    head = (
        f"{_count_words(x, n)}: log likelihood ratio of p1 = {p1:g} against p0 = {p0:g} is "
        f"{llr:.3f}"
    )
    if n == sprt.n_max:
        final_reject = sprt.final_reject
        if x >= final_reject:
            return SafetyLookReport(
                number, n, x, final_reject, "stop_safety",
                f"{head}; at the SPRT's last patient the rate is judged too high at "
                f"{final_reject} or more events: stop for safety.",
                llr=llr, accept=final_reject - 1, date=date,
            )
        return SafetyLookReport(
            number, n, x, final_reject, "continue",
            f"{head}; at the SPRT's last patient fewer than {final_reject} events: the rate is "
            f"judged acceptable (p0 = {p0:g}); the rule does not stop the trial.",
            llr=llr, accept=final_reject - 1, date=date,
        )
    if reject is not None and x >= reject:
        return SafetyLookReport(
            number, n, x, reject, "stop_safety",
            f"{head} >= {upper:.3f} ({reject} or more events among {n}): the rate is too high; "
            "stop for safety.",
            llr=llr, accept=accept, date=date,
        )
    if accept is not None and x <= accept:
        return SafetyLookReport(
            number, n, x, reject, "continue",
            f"{head} <= {lower:.3f} ({accept} or fewer events among {n}): the SPRT concludes the "
            f"rate is acceptable (p0 = {p0:g}); monitoring by this rule may end: continue.",
            llr=llr, accept=accept, date=date,
        )
    bounds = []
    if reject is not None:
        bounds.append(f"stop at {reject} or more events")
    if accept is not None:
        bounds.append(f"accept at {accept} or fewer")
    shown = "; ".join(bounds) if bounds else "no decision is possible yet"
    return SafetyLookReport(
        number, n, x, reject, "continue",
        f"{head}, between {lower:.3f} and {upper:.3f} ({shown} among {n}): continue.",
        llr=llr, accept=accept, date=date,
    )
