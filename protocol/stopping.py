"""Stopping rules: patient-level actions, and trial-level interim and safety monitoring."""

from __future__ import annotations

from typing import Union

import attrs

from protocol.expr import Expr
from protocol.source import Span, span_field
from protocol.timing import Duration

# ---- patient level ---------------------------------------------------------------------------


@attrs.frozen
class Discontinue:
    """Stop the named interventions; the patient stays in follow-up."""

    interventions: tuple[str, ...]
    span: Span | None = span_field()


@attrs.frozen
class Withdraw:
    """The patient leaves the study: nothing is due afterwards."""

    span: Span | None = span_field()


@attrs.frozen
class FollowUp:
    """Treatment ends and the patient moves to follow-up."""

    span: Span | None = span_field()


@attrs.frozen
class Retest:
    """An action the site owes: another sample of `kind` within `within` of the trigger."""

    kind: str
    within: Duration
    span: Span | None = span_field()


PatientAction = Union[Discontinue, Withdraw, FollowUp, Retest]


@attrs.frozen
class RetestFalls:
    """`unless retest of alt within 2 days falls by at least 10 %`: the retest rescinds the action."""

    kind: str
    within: Duration
    percent: int | float
    span: Span | None = span_field()


@attrs.frozen
class PatientRule:
    """When `condition` first holds on a patient's timeline, `action` happens on that date.

    Conditions are evaluated as of each date with the data known by then. A Retest action is
    owed after every date the condition holds on a new sample.
    """

    action: PatientAction
    condition: Expr
    name: str | None = None
    label: str | None = None
    unless: RetestFalls | None = None
    span: Span | None = span_field()


# ---- trial level -----------------------------------------------------------------------------


#: Boundary families written with a list of numbers, one per look: the cumulative fractions of
#: alpha or beta a user-defined spending function spends by each look, or futility bounds on the
#: Z scale (one per interim look).
LIST_FAMILIES = ("user_spending", "z_bounds")


@attrs.frozen
class BoundaryFamily:
    """A boundary or spending family by name, with its parameter (Δ, γ, ρ, a Haybittle-Peto
    bound) when it has one, or its numbers per look (`user_spending(0.1, 0.4, 1)`,
    `z_bounds(0, 0.5)`)."""

    name: str
    parameter: int | float | None = None
    span: Span | None = span_field()
    values: tuple[int | float, ...] = ()


@attrs.frozen
class EfficacyBound:
    family: BoundaryFamily
    alpha: int | float
    sides: int  # 1 or 2; two-sided alpha is split equally between the tails
    span: Span | None = span_field()


@attrs.frozen
class FutilityBound:
    family: BoundaryFamily
    beta: int | float | None
    """Type II error spent by a beta-spending bound; None for bounds given on the Z scale."""
    binding: bool = False
    span: Span | None = span_field()


@attrs.frozen
class EventRate:
    """`5% per 12 months`: the probability of the event within the duration."""

    percent: int | float
    per: Duration
    span: Span | None = span_field()


@attrs.frozen
class SurvivalAssumptions:
    """Time to event: the effect (a hazard ratio, or both medians) and, for the number of
    patients, the control median, uniform accrual, follow-up after accrual and dropout."""

    hazard_ratio: int | float | None = None
    control_median: Duration | None = None
    experimental_median: Duration | None = None
    accrual: Duration | None = None
    follow_up: Duration | None = None
    dropout: EventRate | None = None
    span: Span | None = span_field()


@attrs.frozen
class ProportionsAssumptions:
    """Two groups: the proportions with the outcome, experimental and control."""

    experimental: int | float
    control: int | float
    span: Span | None = span_field()


@attrs.frozen
class ProportionAssumptions:
    """One group: the proportion expected, tested against a reference proportion."""

    expected: int | float
    reference: int | float
    span: Span | None = span_field()


@attrs.frozen
class MeansAssumptions:
    """A difference in means (experimental minus control) with a common standard deviation."""

    difference: int | float
    sd: int | float
    span: Span | None = span_field()


Assumptions = Union[
    SurvivalAssumptions, ProportionsAssumptions, ProportionAssumptions, MeansAssumptions
]


@attrs.frozen
class SampleSizePlan:
    """`sample_size power 0.8 assuming ...`: the power the interim plan is sized for, and the
    assumptions the sample-size justification is computed from."""

    power: int | float
    assumptions: Assumptions
    span: Span | None = span_field()


@attrs.frozen
class InterimRule:
    """Group-sequential looks at the given information fractions (the last is normally 1)."""

    name: str
    efficacy: EfficacyBound
    information: tuple[int | float, ...]
    label: str | None = None
    planned_events: int | None = None
    futility: FutilityBound | None = None
    span: Span | None = span_field()
    sample_size: SampleSizePlan | None = None

    @property
    def beta(self) -> int | float | None:
        """The type II error the design is solved for: the futility bound's beta, else one
        minus the power of the sample size (None when the rule states neither)."""
        if self.futility is not None and self.futility.beta is not None:
            return self.futility.beta
        if self.sample_size is not None:
            return 1 - self.sample_size.power
        return None


@attrs.frozen
class BayesianStop:
    """Stop when P(rate > threshold | data) > probability under a Beta(a, b) prior."""

    threshold: int | float
    probability: int | float
    prior_a: int | float
    prior_b: int | float
    span: Span | None = span_field()


@attrs.frozen
class BinomialStop:
    """Stop when an exact one-sided binomial test rejects rate <= threshold at level alpha."""

    threshold: int | float
    alpha: int | float
    span: Span | None = span_field()


@attrs.frozen
class SprtStop:
    """Truncated binomial sequential probability ratio test of p0 against p1."""

    p0: int | float
    p1: int | float
    alpha: int | float
    beta: int | float
    max_patients: int
    span: Span | None = span_field()


SafetyMethod = Union[BayesianStop, BinomialStop, SprtStop]


@attrs.frozen
class SafetyRule:
    """Count patients (in `arms`, or all) for whom `event` holds; stop the trial by `method`.

    `looks` are the numbers of patients at which the rule is checked (`at 12, 24 patients`);
    without them it is checked after every patient.
    """

    name: str
    event: Expr
    method: SafetyMethod
    label: str | None = None
    arms: tuple[str, ...] = ()
    looks: tuple[int, ...] = ()
    span: Span | None = span_field()


StoppingRule = Union[PatientRule, InterimRule, SafetyRule]


@attrs.frozen
class Stopping:
    rules: tuple[StoppingRule, ...] = ()
    span: Span | None = span_field()

    @property
    def patient_rules(self) -> tuple[PatientRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, PatientRule))

    @property
    def interim_rules(self) -> tuple[InterimRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, InterimRule))

    @property
    def safety_rules(self) -> tuple[SafetyRule, ...]:
        return tuple(r for r in self.rules if isinstance(r, SafetyRule))
