"""Trial design: identification, interventions, arms, population, data dictionary."""

from __future__ import annotations

import attrs

from protocol.source import Span, span_field
from protocol.timing import Duration
from protocol.units import Quantity
from protocol.vocab import (
    ArmType,
    DataKind,
    IllustrativePart,
    InterventionType,
    MaskedRole,
    MaskingLevel,
    ObjectiveLevel,
    ResponsiblePartyKind,
    Route,
    Sex,
    SponsorClass,
)


@attrs.frozen
class Identifier:
    """A registry or organisation identifier: `identifier nct "NCT06802718"`."""

    scheme: str
    value: str
    span: Span | None = span_field()


@attrs.frozen
class Organization:
    name: str
    org_class: SponsorClass | None = None
    span: Span | None = span_field()


@attrs.frozen
class ResponsibleParty:
    kind: ResponsiblePartyKind
    name: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Site:
    facility: str
    city: str | None = None
    region: str | None = None
    country: str | None = None
    status: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Masking:
    level: MaskingLevel
    roles: tuple[MaskedRole, ...] = ()
    span: Span | None = span_field()


@attrs.frozen
class Objective:
    """An objective and the endpoints that measure it (ICH M11 pairs them)."""

    level: ObjectiveLevel
    text: str
    endpoints: tuple[str, ...] = ()
    span: Span | None = span_field()


@attrs.frozen
class Illustrative:
    """`illustrative schedule, stopping "NOTE"`: these parts of the protocol file are not from
    the trial's real protocol (an example's plausible choices where the registry record says
    nothing). Every rendering of them says so, visibly, with the note."""

    parts: tuple[IllustrativePart, ...]
    note: str
    span: Span | None = span_field()


@attrs.frozen
class Phase:
    """`phase 3`, `phase 2/3`, `phase na`, `phase early_1`; stored as written (`"2/3"`)."""

    value: str
    span: Span | None = span_field()


@attrs.frozen
class Frequency:
    """How often a dose is given: every `interval`, or once when interval is None."""

    interval: Duration | None
    span: Span | None = span_field()


@attrs.frozen
class DoseStep:
    """One step of a regimen: `135 ug subcutaneous every 1 week for 6 months`."""

    amount: Quantity
    route: Route | None = None
    frequency: Frequency | None = None
    duration: Duration | None = None
    label: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Regimen:
    """Dose steps given one after the other (a titration has several)."""

    steps: tuple[DoseStep, ...]
    span: Span | None = span_field()


@attrs.frozen
class Intervention:
    name: str
    type: InterventionType
    label: str
    other_names: tuple[str, ...] = ()
    description: str | None = None
    regimen: Regimen | None = None
    form: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class ArmIntervention:
    """An intervention given in an arm, with the arm's own regimen when it differs."""

    intervention: str
    regimen: Regimen | None = None
    span: Span | None = span_field()


@attrs.frozen
class PeriodTreatment:
    """What an arm's sequence gives in one study period: one intervention (`test`), or several
    given together (`midazolam + itraconazole`)."""

    interventions: tuple[str, ...] = attrs.field(validator=attrs.validators.min_len(1))
    span: Span | None = span_field()


@attrs.frozen
class Arm:
    """An arm. In a trial with study periods (a crossover) the arm is a *sequence*: `sequence`
    gives its treatment in each period, in order (`sequence test, reference` is the sequence
    TR of an AB/BA design). `interventions` are those given throughout, with their regimens."""

    name: str
    label: str
    type: ArmType
    code: str | None = None
    description: str | None = None
    interventions: tuple[ArmIntervention, ...] = ()
    sequence: tuple[PeriodTreatment, ...] = ()
    span: Span | None = span_field()

    @property
    def sequence_interventions(self) -> tuple[str, ...]:
        """Every intervention the sequence gives, once each, in order of first use."""
        return tuple(dict.fromkeys(n for t in self.sequence for n in t.interventions))

    def given(self) -> tuple[str, ...]:
        """Every intervention the arm gives: those listed, then those of its sequence."""
        listed = tuple(ai.intervention for ai in self.interventions)
        return listed + tuple(n for n in self.sequence_interventions if n not in listed)


@attrs.frozen
class Population:
    """Who may take part. Ages are bounds inclusive at both ends; None means no limit."""

    age_min: Duration | None = None
    age_max: Duration | None = None
    sex: Sex = Sex.ALL
    healthy_volunteers: bool | None = None
    span: Span | None = span_field()


@attrs.frozen
class AttributeUnit:
    """The unit of a numeric event attribute: `attributes volume in mL`. A number recorded in
    that attribute is read in this unit, so `where volume >= 0.4 L` converts."""

    name: str
    unit: str
    span: Span | None = span_field()


@attrs.frozen
class DataItem:
    """A kind of patient data the protocol refers to, with what is known of its values.

    `molar_mass` (g/mol) lets results in mass units (mg/dL) and amount units (umol/L) of the
    same analyte be compared, as labs report creatinine or bilirubin in either."""

    kind: DataKind
    name: str
    label: str
    unit: str | None = None
    values: tuple[str, ...] = ()
    low: int | float | None = None
    high: int | float | None = None
    attributes: tuple[str, ...] = ()
    molar_mass: int | float | None = None
    attribute_units: tuple[AttributeUnit, ...] = ()
    span: Span | None = span_field()

    def attribute_unit(self, name: str) -> str | None:
        """The declared unit of attribute `name`, None when it has none."""
        return next((a.unit for a in self.attribute_units if a.name == name), None)
