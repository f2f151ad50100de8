"""From the lark tree to the typed model: one method per grammar rule, each returning a model
object with its source span. No lark object leaves this module.

Values that the grammar accepts as identifiers but that belong to a vocabulary (`status`,
`allocation`, arm types, routes, ...) are checked here, with a suggestion for a misspelling;
all such errors are collected, not raised one at a time.
"""

from __future__ import annotations

import datetime
import difflib
import enum
import math
from typing import Any, TypeVar

import attrs
from lark import Token, Transformer, v_args
from lark.tree import Meta

from dsl.lexical import unquote
from dsl.sample_size import Assumption, Versus, assemble
from protocol import expr as ex
from protocol.definitions import Definition, Table, TableRow
from protocol.design import (
    Arm,
    ArmIntervention,
    AttributeUnit,
    DataItem,
    DoseStep,
    Frequency,
    Identifier,
    Illustrative,
    Intervention,
    Masking,
    Objective,
    Organization,
    PeriodTreatment,
    Phase,
    Population,
    Regimen,
    ResponsibleParty,
    Site,
)
from protocol.eligibility import Criterion, Eligibility
from protocol.errors import Diagnostic, Severity
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AnchorDecl,
    AsNeeded,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    DoseOnDays,
    Epoch,
    ItemCondition,
    OnEach,
    OnEvent,
    Periods,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Schedule,
    TimedActivity,
    Timepoints,
    Visit,
    Washout,
    WindowBand,
)
from protocol.source import Span
from protocol.stopping import (
    LIST_FAMILIES,
    BayesianStop,
    BinomialStop,
    BoundaryFamily,
    Discontinue,
    EfficacyBound,
    EventRate,
    FollowUp,
    FutilityBound,
    InterimRule,
    PatientRule,
    Retest,
    RetestFalls,
    SafetyRule,
    SampleSizePlan,
    SprtStop,
    Stopping,
    Withdraw,
)
from protocol.timing import Calendar, DayPoint, Duration, TimeUnit, Window
from protocol.trial import Trial
from protocol.units import Quantity
from protocol.vocab import (
    ActivityKind,
    Allocation,
    ArmType,
    CriterionCategory,
    DataKind,
    DesignModel,
    IllustrativePart,
    InterventionType,
    MaskedRole,
    MaskingLevel,
    MissingPolicy,
    ObjectiveLevel,
    Purpose,
    ResponsiblePartyKind,
    Route,
    Sex,
    SponsorClass,
    Status,
    StudyType,
)

E = TypeVar("E", bound=enum.Enum)

_TIME_UNITS = {
    "minute": TimeUnit.MINUTE, "minutes": TimeUnit.MINUTE,
    "hour": TimeUnit.HOUR, "hours": TimeUnit.HOUR,
    "day": TimeUnit.DAY, "days": TimeUnit.DAY,
    "week": TimeUnit.WEEK, "weeks": TimeUnit.WEEK,
    "month": TimeUnit.MONTH, "months": TimeUnit.MONTH,
    "year": TimeUnit.YEAR, "years": TimeUnit.YEAR,
}


@attrs.frozen
class _Setting:
    """A single-valued trial statement (`status recruiting`) on its way into Trial's fields."""

    field: str
    value: Any
    span: Span


@attrs.frozen
class _EpochBlock:
    epoch: Epoch
    items: tuple[Any, ...]


@attrs.frozen
class _Arms:
    names: tuple[str, ...]


@attrs.frozen
class _Criteria:
    items: tuple[Criterion, ...]


@attrs.frozen
class _Inclusion:
    items: tuple[Criterion, ...]
    span: Span


# The largest whole number (a count of patients, events, times, cycles, days) the language
# takes: far beyond any trial, and small enough that no count loops for hours.
MAX_WHOLE_NUMBER = 1_000_000_000


@attrs.frozen
class _Exclusion:
    items: tuple[Criterion, ...]
    span: Span


@attrs.frozen
class _Named:
    name: str
    label: str | None


@attrs.frozen
class _Tagged:
    """A child whose meaning is given by its tag (`city`, `where`, `missing`, ...)."""

    tag: str
    value: Any


def _unquote(token: Token) -> str:
    """A string literal's text; its escapes were checked as it was read (dsl/lexical.py)."""
    return unquote(str(token)[1:-1])


@v_args(meta=True)
class ModelBuilder(Transformer[Token, Trial]):
    """Builds a Trial. Collects diagnostics in `self.diagnostics` instead of stopping at one."""

    def __init__(self, filename: str):
        super().__init__()
        self.filename = filename
        self.diagnostics: list[Diagnostic] = []
        # Spans of statements whose model value has no span of its own (for the formatter).
        self.statement_spans: dict[str, Span] = {}

    # ---- helpers ---------------------------------------------------------------------------

    def _span(self, meta: Meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.filename, meta.line, meta.column, meta.end_line, meta.end_column,
                    meta.start_pos, meta.end_pos)

    def _tspan(self, token: Token) -> Span:
        return Span(self.filename, token.line or 1, token.column or 1,
                    token.end_line or token.line or 1, token.end_column or 1,
                    token.start_pos or 0, token.end_pos or 0)

    def _error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.ERROR, message, span, hint))

    def _enum(self, enum_type: type[E], token: Token, what: str) -> E | None:
        text = str(token)
        try:
            return enum_type(text)
        except ValueError:
            choices = [str(m.value) for m in enum_type]
            close = difflib.get_close_matches(text, choices, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "expected one of " + ", ".join(choices)
            self._error(f"unknown {what} '{text}'", self._tspan(token), hint)
            return None

    def _int(self, value: Any, token_or_meta: Any, what: str) -> int:
        number = float(value)
        span = self._tspan(token_or_meta) if isinstance(token_or_meta, Token) else None
        if not math.isfinite(number):  # reported as out of range as the token was read
            return 0
        if not number.is_integer():
            self._error(f"{what} must be a whole number, not {value}", span)
        if abs(number) > MAX_WHOLE_NUMBER:
            self._error(f"{what} must be at most {MAX_WHOLE_NUMBER:,}, not {value}", span)
            return 0
        return int(number)

    def _setting(self, field: str, value: Any, span: Span | None) -> _Setting:
        assert span is not None
        self.statement_spans.setdefault(field, span)
        return _Setting(field, value, span)

    # ---- the trial -------------------------------------------------------------------------

    def start(self, meta: Meta, children: list[Any]) -> Trial:
        return children[0]

    def trial(self, meta: Meta, children: list[Any]) -> Trial:
        name = str(children[0])
        fields: dict[str, Any] = {}
        seen: dict[str, Span] = {}
        lists: dict[str, list[Any]] = {k: [] for k in (
            "identifiers", "conditions", "keywords", "objectives", "collaborators", "sites",
            "interventions", "arms", "data", "definitions", "tables", "illustrative")}
        inclusion: tuple[Criterion, ...] = ()
        exclusion: tuple[Criterion, ...] = ()
        assessed_at: str | None = None
        items: list[Any] = []
        for child in children[1:]:
            items.extend(child if isinstance(child, list) else [child])
        for item in items:
            if isinstance(item, _Setting):
                if item.field in seen:
                    self._error(f"'{item.field}' is given twice", item.span,
                                f"the first is at line {seen[item.field].line}")
                    continue
                seen[item.field] = item.span
                if item.field == "assessed_at":
                    assessed_at = item.value
                else:
                    fields[item.field] = item.value
            elif isinstance(item, Identifier):
                lists["identifiers"].append(item)
            elif isinstance(item, _Tagged):
                lists[item.tag].append(item.value)
            elif isinstance(item, Objective):
                lists["objectives"].append(item)
            elif isinstance(item, Illustrative):
                lists["illustrative"].append(item)
            elif isinstance(item, Site):
                lists["sites"].append(item)
            elif isinstance(item, Intervention):
                lists["interventions"].append(item)
            elif isinstance(item, Arm):
                lists["arms"].append(item)
            elif isinstance(item, tuple):  # the data block
                lists["data"].extend(item)
            elif isinstance(item, Definition):
                lists["definitions"].append(item)
            elif isinstance(item, Table):
                lists["tables"].append(item)
            elif isinstance(item, _Inclusion):
                inclusion += item.items
            elif isinstance(item, _Exclusion):
                exclusion += item.items
            else:  # pragma: no cover - a grammar rule without a builder method
                raise TypeError(f"unhandled trial item {item!r}")
        eligibility = Eligibility(assessed_at, inclusion, exclusion)
        fields.update({k: tuple(v) for k, v in lists.items()})
        return Trial(name=name, eligibility=eligibility, span=self._span(meta), **fields)

    def title(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("title", _unquote(c[0]), self._span(meta))

    def identifier(self, meta: Meta, c: list[Any]) -> Identifier:
        return Identifier(str(c[0]), _unquote(c[1]), span=self._span(meta))

    def status(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("status", self._enum(Status, c[0], "status"), self._span(meta))

    def last_updated(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("last_updated", self._date(c[0]), self._span(meta))

    def study_type(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("study_type", self._enum(StudyType, c[0], "study type"),
                             self._span(meta))

    def phase(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("phase", c[0], self._span(meta))

    def phase_value(self, meta: Meta, c: list[Any]) -> Phase:
        if len(c) == 1 and c[0].type == "IDENT":
            self._enum(_PhaseWord, c[0], "phase")
            return Phase(str(c[0]), span=self._span(meta))
        numbers = [self._int(t, t, "a phase") for t in c]
        for t, n in zip(c, numbers, strict=True):
            if not 0 <= n <= 4:
                self._error(f"phase {n} does not exist", self._tspan(t), "phases are 1 to 4")
        return Phase("/".join(str(n) for n in numbers), span=self._span(meta))

    def enrollment(self, meta: Meta, c: list[Any]) -> list[_Setting]:
        span = self._span(meta)
        out = [self._setting("enrollment", self._int(c[0], c[0], "enrollment"), span)]
        if len(c) > 1:
            out.append(self._setting("enrollment_kind", c[1], span))
        return out  # spliced into the trial's items by trial()

    def enrollment_kind(self, meta: Meta, c: list[Any]) -> str:
        kind = str(c[0])
        if kind not in ("anticipated", "actual"):
            self._error(f"unknown enrollment kind '{kind}'", self._tspan(c[0]),
                        "expected anticipated or actual")
        return kind

    def start_date(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("start", self._date(c[0]), self._span(meta))

    def completion_date(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("completion", self._date(c[0]), self._span(meta))

    def _date(self, token: Token) -> datetime.date | None:
        try:
            return datetime.date.fromisoformat(str(token))
        except ValueError:
            self._error(f"'{token}' is not a valid date", self._tspan(token))
            return None

    def allocation(self, meta: Meta, c: list[Any]) -> list[_Setting]:
        span = self._span(meta)
        out = [self._setting("allocation", self._enum(Allocation, c[0], "allocation"), span)]
        if len(c) > 1:
            out.append(self._setting("allocation_ratio", c[1], span))
        return out  # spliced into the trial's items by trial()

    def allocation_ratio(self, meta: Meta, c: list[Any]) -> tuple[int, ...]:
        parts = tuple(self._int(t, t, "an allocation ratio part") for t in c)
        if any(p < 1 for p in parts):
            self._error("allocation ratio parts must be at least 1", self._span(meta))
        return parts

    def design_model(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("model", self._enum(DesignModel, c[0], "intervention model"),
                             self._span(meta))

    def purpose(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("purpose", self._enum(Purpose, c[0], "primary purpose"),
                             self._span(meta))

    def masking(self, meta: Meta, c: list[Any]) -> _Setting:
        level = self._enum(MaskingLevel, c[0], "masking")
        roles = c[1] if len(c) > 1 else ()
        value = Masking(level, roles, span=self._span(meta)) if level else None
        return self._setting("masking", value, self._span(meta))

    def masked_roles(self, meta: Meta, c: list[Any]) -> tuple[MaskedRole, ...]:
        roles = (self._enum(MaskedRole, t, "masked role") for t in c)
        return tuple(r for r in roles if r is not None)

    def condition(self, meta: Meta, c: list[Any]) -> _Tagged:
        span = self._span(meta)
        if span is not None:
            self.statement_spans.setdefault(f"condition:{_unquote(c[0])}", span)
        return _Tagged("conditions", _unquote(c[0]))

    def keyword(self, meta: Meta, c: list[Any]) -> _Tagged:
        span = self._span(meta)
        if span is not None:
            self.statement_spans.setdefault(f"keyword:{_unquote(c[0])}", span)
        return _Tagged("keywords", _unquote(c[0]))

    def objective(self, meta: Meta, c: list[Any]) -> Objective | _Tagged:
        level = self._enum(ObjectiveLevel, c[0], "objective level")
        endpoints = tuple(_unquote(t) for t in c[2:])
        return Objective(level or ObjectiveLevel.PRIMARY, _unquote(c[1]), endpoints,
                         span=self._span(meta))

    def illustrative(self, meta: Meta, c: list[Any]) -> Illustrative:
        parts: list[IllustrativePart] = []
        for token in c[:-1]:
            part = self._enum(IllustrativePart, token, "illustrative part")
            if part is None:
                continue
            if part in parts:
                self._error(f"'{part.value}' is listed twice", self._tspan(token))
                continue
            parts.append(part)
        return Illustrative(tuple(parts), _unquote(c[-1]), span=self._span(meta))

    def _organization(self, meta: Meta, c: list[Any]) -> Organization:
        org_class = self._enum(SponsorClass, c[1], "sponsor class") if len(c) > 1 else None
        return Organization(_unquote(c[0]), org_class, span=self._span(meta))

    def sponsor(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("sponsor", self._organization(meta, c), self._span(meta))

    def collaborator(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("collaborators", self._organization(meta, c))

    def responsible_party(self, meta: Meta, c: list[Any]) -> _Setting:
        kind = self._enum(ResponsiblePartyKind, c[0], "responsible party")
        name = _unquote(c[1]) if len(c) > 1 else None
        value = ResponsibleParty(kind, name, span=self._span(meta)) if kind else None
        return self._setting("responsible_party", value, self._span(meta))

    def site(self, meta: Meta, c: list[Any]) -> Site:
        fields: dict[str, str] = {}
        for tagged in c[1:]:
            if tagged.tag in fields:
                self._error(f"site '{_unquote(c[0])}' gives its {tagged.tag} twice",
                            self._span(meta))
            fields[tagged.tag] = tagged.value
        return Site(_unquote(c[0]), span=self._span(meta), **fields)

    def site_city(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("city", _unquote(c[0]))

    def site_region(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("region", _unquote(c[0]))

    def site_country(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("country", _unquote(c[0]))

    def site_status(self, meta: Meta, c: list[Any]) -> _Tagged:
        status = self._enum(Status, c[0], "site status")
        return _Tagged("status", status.value if status else str(c[0]))

    def calendar(self, meta: Meta, c: list[Any]) -> _Setting:
        days = {"days_per_week": 7, "days_per_month": 30, "days_per_year": 365}
        for item in c:
            if isinstance(item, _Tagged):
                days[item.tag] = item.value
                continue
            unit, amount, item_meta = item
            key = {TimeUnit.WEEK: "days_per_week", TimeUnit.MONTH: "days_per_month",
                   TimeUnit.YEAR: "days_per_year"}.get(unit)
            if key is None:
                self._error(f"a {unit.value} cannot be redefined", self._span(item_meta),
                            "the calendar defines week, month and year in days")
                continue
            days[key] = amount
        return self._setting("calendar", Calendar(**days, span=self._span(meta)),
                             self._span(meta))

    def day_numbering(self, meta: Meta, c: list[Any]) -> _Tagged:
        first = self._int(c[0], c[0], "the first day's number")
        if first not in (0, 1):
            self._error(f"days are counted from 0 or from 1, not from {first}",
                        self._tspan(c[0]))
            first = 0
        return _Tagged("first_day", first)

    def calendar_unit(self, meta: Meta, c: list[Any]) -> tuple[TimeUnit, int, Meta]:
        unit, amount, in_unit = c
        if in_unit is not TimeUnit.DAY:
            self._error("calendar units are defined in days", self._span(meta),
                        f"write '{unit.value} N days'")
        return unit, self._int(amount, amount, "a number of days"), meta

    # ---- interventions and arms --------------------------------------------------------------

    def intervention(self, meta: Meta, c: list[Any]) -> Intervention:
        itype = self._enum(InterventionType, c[1], "intervention type")
        body: list[Any] = c[3] if len(c) > 3 else []
        other_names = tuple(t.value for t in body if isinstance(t, _Tagged) and t.tag == "other_name")
        descriptions = [t.value for t in body if isinstance(t, _Tagged) and t.tag == "description"]
        forms = [t.value for t in body if isinstance(t, _Tagged) and t.tag == "form"]
        regimens = [t for t in body if isinstance(t, Regimen)]
        if len(regimens) > 1:
            self._error(f"intervention '{c[0]}' has more than one dose statement",
                        regimens[1].span, "write a titration as one regimen: 'A, then B'")
        return Intervention(
            name=str(c[0]), type=itype or InterventionType.OTHER, label=_unquote(c[2]),
            other_names=other_names, description=descriptions[0] if descriptions else None,
            regimen=regimens[0] if regimens else None, form=forms[0] if forms else None,
            span=self._span(meta))

    def intervention_body(self, meta: Meta, c: list[Any]) -> list[Any]:
        return c

    def dose_form(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("form", _unquote(c[0]))

    def other_name(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("other_name", _unquote(c[0]))

    def description(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("description", _unquote(c[0]))

    def dose_statement(self, meta: Meta, c: list[Any]) -> Regimen:
        return c[0]

    def regimen(self, meta: Meta, c: list[Any]) -> Regimen:
        return Regimen(tuple(c), span=self._span(meta))

    def dose_step(self, meta: Meta, c: list[Any]) -> DoseStep:
        amount: Quantity = c[0].quantity
        fields: dict[str, Any] = {}
        for part in c[1:]:
            if isinstance(part, Route):
                fields["route"] = part
            elif isinstance(part, Frequency):
                fields["frequency"] = part
            elif isinstance(part, Duration):
                fields["duration"] = part
            elif isinstance(part, _Tagged):
                fields["label"] = part.value
        return DoseStep(amount, span=self._span(meta), **fields)

    def route(self, meta: Meta, c: list[Any]) -> Route | None:
        return self._enum(Route, c[0], "route of administration")

    def every(self, meta: Meta, c: list[Any]) -> Frequency:
        return Frequency(self._duration(c[0], c[1], meta), span=self._span(meta))

    def once(self, meta: Meta, c: list[Any]) -> Frequency:
        return Frequency(None, span=self._span(meta))

    def step_duration(self, meta: Meta, c: list[Any]) -> Duration:
        return c[0]

    def element_label(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("label", _unquote(c[0]))

    def arm(self, meta: Meta, c: list[Any]) -> Arm:
        arm_type = self._enum(ArmType, c[2], "arm type")
        body: list[Any] = c[3] if len(c) > 3 else []
        fields: dict[str, Any] = {}
        for item in body:
            if isinstance(item, _Tagged):
                if item.tag == "sequence" and "sequence" in fields:
                    self._error(f"arm '{c[0]}' gives its sequence twice", item.value[0].span,
                                "one 'sequence' line lists every period's treatment, in order")
                    continue
                fields[item.tag] = item.value
        interventions = tuple(i for i in body if isinstance(i, ArmIntervention))
        return Arm(str(c[0]), _unquote(c[1]), arm_type or ArmType.OTHER,
                   interventions=interventions, span=self._span(meta), **fields)

    def arm_body(self, meta: Meta, c: list[Any]) -> list[Any]:
        return c

    def arm_code(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("code", _unquote(c[0]))

    def arm_intervention(self, meta: Meta, c: list[Any]) -> ArmIntervention:
        return ArmIntervention(str(c[0]), c[1] if len(c) > 1 else None, span=self._span(meta))

    def arm_sequence(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("sequence", tuple(c))

    def period_treatment(self, meta: Meta, c: list[Any]) -> PeriodTreatment:
        names = tuple(str(t) for t in c)
        if len(set(names)) != len(names):
            self._error("an intervention is named twice in one period's treatment",
                        self._span(meta))
        return PeriodTreatment(names, span=self._span(meta))

    # ---- population --------------------------------------------------------------------------

    def population(self, meta: Meta, c: list[Any]) -> _Setting:
        fields: dict[str, Any] = {}
        for tagged in c:
            if tagged.tag in fields:
                self._error(f"the population gives {tagged.tag} twice", self._span(meta))
            fields[tagged.tag] = tagged.value
        age = fields.pop("age", (None, None))
        pop = Population(age_min=age[0], age_max=age[1], span=self._span(meta), **fields)
        return self._setting("population", pop, self._span(meta))

    def age_range(self, meta: Meta, c: list[Any]) -> _Tagged:
        low, high = c
        if low is None:
            self._error("the lower age limit cannot be 'no_limit'", self._span(meta),
                        "write 'age 0 years to ...' for no lower limit")
        return _Tagged("age", (low, high))

    def age_bound(self, meta: Meta, c: list[Any]) -> Duration:
        return c[0]

    def no_limit(self, meta: Meta, c: list[Any]) -> None:
        return None

    def sex(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("sex", self._enum(Sex, c[0], "sex") or Sex.ALL)

    def sex_word(self, meta: Meta, c: list[Any]) -> Token:
        return c[0]

    def healthy_volunteers(self, meta: Meta, c: list[Any]) -> _Tagged:
        word = str(c[0])
        if word not in ("yes", "no"):
            self._error(f"healthy_volunteers must be yes or no, not '{word}'", self._tspan(c[0]))
        return _Tagged("healthy_volunteers", word == "yes")

    # ---- data dictionary ---------------------------------------------------------------------

    def data_block(self, meta: Meta, c: list[Any]) -> tuple[DataItem, ...]:
        span = self._span(meta)
        if span is not None:
            self.statement_spans.setdefault("data", span)
        return tuple(c)

    def data_item(self, meta: Meta, c: list[Any]) -> DataItem:
        kind, name, label = c[0], str(c[1]), _unquote(c[2])
        fields: dict[str, Any] = {}
        for tagged in c[3:]:
            fields.update(tagged.value)
        return DataItem(kind, name, label, span=self._span(meta), **fields)

    def data_unit(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("unit", {"unit": c[0]})

    def data_unit_number(self, meta: Meta, c: list[Any]) -> _Tagged:
        # UCUM's unity `1` (a pure number, such as an INR) may be written bare
        if str(c[0]) != "1":
            self._error(f"'{c[0]}' is not a unit", self._tspan(c[0]),
                        "write a pure number's unit as 1, or a UCUM code such as mg/dL "
                        "(in backticks when it is not a plain name: `10*9/L`)")
        return _Tagged("unit", {"unit": "1"})

    def data_values(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("values", {"values": tuple(_unquote(t) for t in c)})

    def data_range(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("range", {"low": c[0], "high": c[1]})

    def data_molar_mass(self, meta: Meta, c: list[Any]) -> _Tagged:
        mass = float(c[0])
        if mass <= 0:
            self._error("a molar mass must be positive", self._span(meta))
        return _Tagged("molar_mass", {"molar_mass": mass})

    def data_attributes(self, meta: Meta, c: list[Any]) -> _Tagged:
        names = tuple(name for name, _ in c)
        units = tuple(unit for _, unit in c if unit is not None)
        return _Tagged("attributes", {"attributes": names, "attribute_units": units})

    def attribute_decl(self, meta: Meta, c: list[Any]) -> tuple[str, AttributeUnit | None]:
        name = str(c[0])
        unit = AttributeUnit(name, c[1], span=self._span(meta)) if len(c) > 1 else None
        return name, unit

    # ---- definitions and tables --------------------------------------------------------------

    def definition(self, meta: Meta, c: list[Any]) -> Definition:
        label = _unquote(c[1]) if len(c) > 2 else None
        return Definition(str(c[0]), c[-1], label, span=self._span(meta))

    def table(self, meta: Meta, c: list[Any]) -> Table:
        name = str(c[0])
        rows = [r for r in c[1:] if isinstance(r, TableRow)]
        label = _unquote(c[1]) if len(c) > 1 and isinstance(c[1], Token) else None
        seen: dict[str, TableRow] = {}
        for row in rows:
            key = row.key.strip().casefold()
            if key in seen:
                first = seen[key].span
                self._error(f"table '{name}' gives the key \"{row.key}\" twice", row.span,
                            f"the first is at line {first.line}" if first else None)
            seen.setdefault(key, row)
        return Table(name, tuple(rows), label, span=self._span(meta))

    def table_row(self, meta: Meta, c: list[Any]) -> TableRow:
        return TableRow(_unquote(c[0]), c[1], span=self._span(meta))

    def vocab_word(self, meta: Meta, c: list[Any]) -> Token:
        return c[0]

    def illustrative_part(self, meta: Meta, c: list[Any]) -> Token:
        return c[0]

    def data_kind(self, meta: Meta, c: list[Any]) -> DataKind:
        return DataKind(str(c[0]))

    # ---- eligibility -------------------------------------------------------------------------

    def eligibility_time(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("assessed_at", str(c[0]), self._span(meta))

    def inclusion(self, meta: Meta, c: list[Any]) -> _Inclusion:
        span = self._span(meta)
        assert span is not None
        self.statement_spans.setdefault("inclusion", span)
        return _Inclusion(c[0].items, span)

    def exclusion(self, meta: Meta, c: list[Any]) -> _Exclusion:
        items = tuple(attrs.evolve(k, category=CriterionCategory.EXCLUSION) for k in c[0].items)
        span = self._span(meta)
        assert span is not None
        self.statement_spans.setdefault("exclusion", span)
        return _Exclusion(items, span)

    def criteria_body(self, meta: Meta, c: list[Any]) -> _Criteria:
        return _Criteria(tuple(c))

    def criterion(self, meta: Meta, c: list[Any]) -> Criterion:
        text = None
        missing = None
        for part in c[1:-1]:
            if isinstance(part, Token):
                text = _unquote(part)
            else:
                missing = part
        return Criterion(str(c[0]), CriterionCategory.INCLUSION, c[-1], text, missing,
                         span=self._span(meta))

    def missing_policy(self, meta: Meta, c: list[Any]) -> MissingPolicy:
        return self._enum(MissingPolicy, c[0], "missing-data policy") or MissingPolicy.UNKNOWN

    # ---- expressions -------------------------------------------------------------------------

    def or_(self, meta: Meta, c: list[Any]) -> ex.Expr:
        if len(c) == 1:
            return c[0]
        return ex.Or(tuple(c), span=self._span(meta))

    def and_(self, meta: Meta, c: list[Any]) -> ex.Expr:
        if len(c) == 1:
            return c[0]
        return ex.And(tuple(c), span=self._span(meta))

    def not_(self, meta: Meta, c: list[Any]) -> ex.Not:
        return ex.Not(c[0], span=self._span(meta))

    def compare(self, meta: Meta, c: list[Any]) -> ex.Compare:
        return ex.Compare(ex.CompareOp(str(c[1])), c[0], c[2], span=self._span(meta))

    def in_range(self, meta: Meta, c: list[Any]) -> ex.InRange:
        low, high = c[1], c[2]
        unit = c[3] if len(c) > 3 else None
        if low > high:
            self._error(f"the range {_fmt(low)}..{_fmt(high)} is empty", self._span(meta),
                        f"did you mean {_fmt(high)}..{_fmt(low)}?")
        return ex.InRange(c[0], low, high, unit, span=self._span(meta))

    def in_set(self, meta: Meta, c: list[Any]) -> ex.InSet:
        return ex.InSet(c[0], tuple(c[1:]), span=self._span(meta))

    def _test(self, meta: Meta, c: list[Any], kind: ex.TestKind) -> ex.Test:
        return ex.Test(c[0], kind, span=self._span(meta))

    def is_detectable(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.DETECTABLE)

    def is_undetectable(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.UNDETECTABLE)

    def is_missing(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.MISSING)

    def is_present(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.PRESENT)

    def is_normal(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.NORMAL)

    def is_abnormal(self, meta: Meta, c: list[Any]) -> ex.Test:
        return self._test(meta, c, ex.TestKind.ABNORMAL)

    def _arithmetic(self, meta: Meta, c: list[Any], op: ex.ArithOp) -> ex.Arithmetic:
        return ex.Arithmetic(op, c[0], c[1], span=self._span(meta))

    def add(self, meta: Meta, c: list[Any]) -> ex.Arithmetic:
        return self._arithmetic(meta, c, ex.ArithOp.ADD)

    def subtract(self, meta: Meta, c: list[Any]) -> ex.Arithmetic:
        return self._arithmetic(meta, c, ex.ArithOp.SUB)

    def multiply(self, meta: Meta, c: list[Any]) -> ex.Arithmetic:
        return self._arithmetic(meta, c, ex.ArithOp.MUL)

    def divide(self, meta: Meta, c: list[Any]) -> ex.Arithmetic:
        return self._arithmetic(meta, c, ex.ArithOp.DIV)

    def power(self, meta: Meta, c: list[Any]) -> ex.Power:
        return ex.Power(c[0], c[1], span=self._span(meta))

    def age_at(self, meta: Meta, c: list[Any]) -> ex.AgeAt:
        return ex.AgeAt(c[0], span=self._span(meta))

    def call(self, meta: Meta, c: list[Any]) -> ex.Call:
        arguments: tuple[ex.Argument, ...] = tuple(c[1:])
        seen: set[str] = set()
        for arg in arguments:
            if arg.name is None:
                continue
            if arg.name in seen:
                self._error(f"'{arg.name}' is given twice", arg.span)
            seen.add(arg.name)
        return ex.Call(str(c[0]), arguments, span=self._span(meta))

    def function_name(self, meta: Meta, c: list[Any]) -> Token:
        return c[0]

    def positional_argument(self, meta: Meta, c: list[Any]) -> ex.Argument:
        return ex.Argument(c[0], span=self._span(meta))

    def named_argument(self, meta: Meta, c: list[Any]) -> ex.Argument:
        return ex.Argument(c[1], str(c[0]), span=self._span(meta))

    def lookup(self, meta: Meta, c: list[Any]) -> ex.Lookup:
        return ex.Lookup(str(c[0]), c[1], span=self._span(meta))

    def panel(self, meta: Meta, c: list[Any]) -> ex.Panel:
        quantifier, fn = c[0], c[1]
        kinds = tuple(str(t) for t in c[2:] if isinstance(t, Token))
        temporal = next((t for t in c[2:] if not isinstance(t, Token)), None)
        if len(set(kinds)) < len(kinds):
            self._error("a panel names an item twice", self._span(meta))
        return ex.Panel(quantifier, fn, kinds, temporal, span=self._span(meta))

    def quantifier(self, meta: Meta, c: list[Any]) -> ex.Quantifier:
        return ex.Quantifier(str(c[0]))

    def relative_limit(self, meta: Meta, c: list[Any]) -> ex.RelativeLimit:
        return ex.RelativeLimit(float(c[0]), c[1], span=self._span(meta))

    def ref_limit(self, meta: Meta, c: list[Any]) -> ex.Limit:
        return ex.Limit(str(c[0]))

    def name(self, meta: Meta, c: list[Any]) -> ex.Name:
        return ex.Name(str(c[0]), span=self._span(meta))

    def patient_attribute(self, meta: Meta, c: list[Any]) -> ex.Name:
        return ex.Name(str(c[0]), span=self._span(meta))

    def any_(self, meta: Meta, c: list[Any]) -> ex.Exists:
        return ex.Exists(c[0], c[1] if len(c) > 1 else None, span=self._span(meta))

    def count(self, meta: Meta, c: list[Any]) -> ex.Count:
        return ex.Count(c[0], span=self._span(meta))

    def log_reduction(self, meta: Meta, c: list[Any]) -> ex.LogReduction:
        return ex.LogReduction(c[0], span=self._span(meta))

    def statistic(self, meta: Meta, c: list[Any]) -> ex.Statistic:
        attribute = next((p.value for p in c[1:] if isinstance(p, _Tagged)), None)
        return ex.Statistic(c[0], c[-1], attribute, span=self._span(meta))

    def statistic_fn(self, meta: Meta, c: list[Any]) -> ex.StatisticFn:
        return ex.StatisticFn(str(c[0]))

    def attribute_of(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("attribute", str(c[0]))

    def count_distinct(self, meta: Meta, c: list[Any]) -> ex.CountDistinct:
        return ex.CountDistinct(str(c[0]), c[1], span=self._span(meta))

    def continuous(self, meta: Meta, c: list[Any]) -> ex.Continuous:
        kind = str(c[0])
        rest = c[1:]
        where = next((p.value for p in rest if isinstance(p, _Tagged) and p.tag == "where"),
                     None)
        unchanged = next((p.value for p in rest
                          if isinstance(p, _Tagged) and p.tag == "unchanged"), None)
        gap = next((p.value for p in rest if isinstance(p, _Tagged) and p.tag == "gap"), None)
        duration, anchor = [p for p in rest if not isinstance(p, _Tagged)]
        span = self._span(meta)
        return ex.Continuous(ex.Selection(kind, None, where, span=span), duration, anchor,
                             unchanged, gap, span=span)

    def unchanged(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("unchanged", str(c[0]))

    def gap_tolerance(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("gap", c[0])

    def string(self, meta: Meta, c: list[Any]) -> ex.StringLiteral:
        return ex.StringLiteral(_unquote(c[0]), span=self._span(meta))

    def true(self, meta: Meta, c: list[Any]) -> ex.BoolLiteral:
        return ex.BoolLiteral(True, span=self._span(meta))

    def false(self, meta: Meta, c: list[Any]) -> ex.BoolLiteral:
        return ex.BoolLiteral(False, span=self._span(meta))

    def quantity(self, meta: Meta, c: list[Any]) -> ex.QuantityLiteral:
        span = self._span(meta)
        unit = c[1] if len(c) > 1 else None
        return ex.QuantityLiteral(Quantity(c[0], unit, span=span), span=span)

    def aggregate(self, meta: Meta, c: list[Any]) -> ex.Aggregate:
        return ex.Aggregate(c[0], c[1], span=self._span(meta))

    def aggregate_fn(self, meta: Meta, c: list[Any]) -> ex.AggregateFn:
        return ex.AggregateFn(str(c[0]))

    def selection(self, meta: Meta, c: list[Any]) -> ex.Selection:
        temporal = next((p for p in c[1:] if not isinstance(p, _Tagged)), None)
        where = next((p.value for p in c[1:] if isinstance(p, _Tagged)), None)
        return ex.Selection(str(c[0]), temporal, where, span=self._span(meta))

    def where(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("where", c[0])

    def lasting(self, meta: Meta, c: list[Any]) -> ex.Lasting:
        return ex.Lasting(ex.CompareOp(str(c[0])), c[1], span=self._span(meta))

    def within_before(self, meta: Meta, c: list[Any]) -> ex.Within:
        return ex.Within(c[0], ex.Direction.BEFORE, c[1], span=self._span(meta))

    def within_after(self, meta: Meta, c: list[Any]) -> ex.Within:
        return ex.Within(c[0], ex.Direction.AFTER, c[1], span=self._span(meta))

    def within_longest_before(self, meta: Meta, c: list[Any]) -> ex.WithinLongest:
        return ex.WithinLongest(c[0], ex.Direction.BEFORE, c[1], span=self._span(meta))

    def within_longest_after(self, meta: Meta, c: list[Any]) -> ex.WithinLongest:
        return ex.WithinLongest(c[0], ex.Direction.AFTER, c[1], span=self._span(meta))

    def within_data_before(self, meta: Meta, c: list[Any]) -> ex.WithinLongest:
        return ex.WithinLongest((c[0],), ex.Direction.BEFORE, c[1], span=self._span(meta))

    def within_data_after(self, meta: Meta, c: list[Any]) -> ex.WithinLongest:
        return ex.WithinLongest((c[0],), ex.Direction.AFTER, c[1], span=self._span(meta))

    def longest_length(self, meta: Meta, c: list[Any]) -> tuple[Any, ...]:
        return tuple(c)

    def attribute_length(self, meta: Meta, c: list[Any]) -> ex.DataDuration:
        return ex.DataDuration(float(c[0]), str(c[1]), span=self._span(meta))

    def table_length(self, meta: Meta, c: list[Any]) -> ex.DataDuration:
        return ex.DataDuration(float(c[0]), str(c[2]), str(c[1]), span=self._span(meta))

    def table_length_one(self, meta: Meta, c: list[Any]) -> ex.DataDuration:
        return ex.DataDuration(1.0, str(c[1]), str(c[0]), span=self._span(meta))

    def strictly_within_before(self, meta: Meta, c: list[Any]) -> ex.Within:
        return ex.Within(c[0], ex.Direction.BEFORE, c[1], strict=True, span=self._span(meta))

    def strictly_within_after(self, meta: Meta, c: list[Any]) -> ex.Within:
        return ex.Within(c[0], ex.Direction.AFTER, c[1], strict=True, span=self._span(meta))

    def before(self, meta: Meta, c: list[Any]) -> ex.Relative:
        return ex.Relative(ex.Direction.BEFORE, c[0], span=self._span(meta))

    def strictly_before(self, meta: Meta, c: list[Any]) -> ex.Relative:
        return ex.Relative(ex.Direction.BEFORE, c[0], strict=True, span=self._span(meta))

    def after(self, meta: Meta, c: list[Any]) -> ex.Relative:
        return ex.Relative(ex.Direction.AFTER, c[0], span=self._span(meta))

    def strictly_after(self, meta: Meta, c: list[Any]) -> ex.Relative:
        return ex.Relative(ex.Direction.AFTER, c[0], strict=True, span=self._span(meta))

    def ongoing_at(self, meta: Meta, c: list[Any]) -> ex.OngoingAt:
        return ex.OngoingAt(c[0], span=self._span(meta))

    def named_anchor(self, meta: Meta, c: list[Any]) -> ex.NamedAnchor:
        return ex.NamedAnchor(str(c[0]), span=self._span(meta))

    def first_dose_anchor(self, meta: Meta, c: list[Any]) -> ex.DoseAnchor:
        return ex.DoseAnchor(ex.AggregateFn.FIRST, str(c[0]), span=self._span(meta))

    def last_dose_anchor(self, meta: Meta, c: list[Any]) -> ex.DoseAnchor:
        return ex.DoseAnchor(ex.AggregateFn.LATEST, str(c[0]), span=self._span(meta))

    def event_anchor(self, meta: Meta, c: list[Any]) -> ex.EventAnchor:
        return ex.EventAnchor(c[0], str(c[1]), span=self._span(meta))

    def _period_number(self, token: Token) -> int:
        n = self._int(token, token, "a period number")
        if n < 1:
            self._error(f"there is no period {n}: periods are numbered from 1",
                        self._tspan(token))
        return n

    def first_period_anchor(self, meta: Meta, c: list[Any]) -> ex.PeriodDoseAnchor:
        return ex.PeriodDoseAnchor(ex.AggregateFn.FIRST, self._period_number(c[0]),
                                   span=self._span(meta))

    def last_period_anchor(self, meta: Meta, c: list[Any]) -> ex.PeriodDoseAnchor:
        return ex.PeriodDoseAnchor(ex.AggregateFn.LATEST, self._period_number(c[0]),
                                   span=self._span(meta))

    # ---- schedule ----------------------------------------------------------------------------

    def schedule(self, meta: Meta, c: list[Any]) -> _Setting:
        anchors: list[AnchorDecl] = []
        epochs: list[Epoch] = []
        items: list[Any] = []
        for item in c[1:]:
            if isinstance(item, AnchorDecl):
                anchors.append(item)
            elif isinstance(item, _EpochBlock):
                epochs.append(item.epoch)
                items.extend(item.items)
            else:
                items.append(item)
        sched = Schedule(str(c[0]), tuple(anchors), tuple(epochs), tuple(items),
                         span=self._span(meta))
        return self._setting("schedule", sched, self._span(meta))

    def anchor_decl(self, meta: Meta, c: list[Any]) -> AnchorDecl:
        effect = c[-1] if c and isinstance(c[-1], (Discontinue, Withdraw, FollowUp)) else None
        rest = c[:-1] if effect is not None else c
        return AnchorDecl(str(rest[0]), _unquote(rest[1]) if len(rest) > 1 else None,
                          effect=effect, span=self._span(meta))

    def epoch(self, meta: Meta, c: list[Any]) -> _EpochBlock:
        name = str(c[0])
        ep = Epoch(name, _unquote(c[1]), span=self._span(meta))
        items = []
        for i in c[2:]:
            if isinstance(i, Cycles):
                i = attrs.evolve(i, items=tuple(attrs.evolve(a, epoch=name) for a in i.items))
            items.append(attrs.evolve(i, epoch=name))
        return _EpochBlock(ep, tuple(items))

    def cycles(self, meta: Meta, c: list[Any]) -> Cycles:
        length: Duration = c[2]
        if length.amount <= 0:
            self._error("a cycle's length must be positive", self._span(meta))
        fields: dict[str, Any] = {}
        items: list[Activity] = []
        for part in c[4:]:
            if isinstance(part, Window):
                fields["window"] = part
            elif isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, _Tagged):
                fields[part.tag] = part.value
            elif isinstance(part, Activity):
                if not isinstance(part.timing, CycleDays):
                    self._error("an activity inside a cycle is timed by days of the cycle",
                                part.span, "write e.g. 'on day 1, 8'")
                items.append(part)
        return Cycles(str(c[0]), _unquote(c[1]), length, c[3], tuple(items),
                      span=self._span(meta), **fields)

    def periods(self, meta: Meta, c: list[Any]) -> Periods:
        window: Window | None = None
        washout: Washout | None = None
        items: list[Visit | Activity] = []
        for part in c[3:]:
            if isinstance(part, Window):
                window = part
            elif isinstance(part, Washout):
                washout = part
            elif isinstance(part, (Visit, Activity)):
                items.append(part)
        assert washout is not None  # the grammar requires it
        return Periods(str(c[0]), _unquote(c[1]), c[2], washout, tuple(items), window,
                       span=self._span(meta))

    def _washout(self, minimum: Duration, maximum: Duration | None, meta: Meta) -> Washout:
        if minimum.amount < 0:
            self._error("a washout cannot be negative", self._span(meta))
        if maximum is not None and maximum.days() < minimum.days():
            self._error(f"the washout {minimum} to {maximum} runs backwards", self._span(meta))
        return Washout(minimum, maximum, span=self._span(meta))

    def washout_at_least(self, meta: Meta, c: list[Any]) -> Washout:
        return self._washout(c[0], None, meta)

    def washout_exact(self, meta: Meta, c: list[Any]) -> Washout:
        return self._washout(c[0], c[0], meta)

    def washout_range(self, meta: Meta, c: list[Any]) -> Washout:
        low = self._duration(c[0], c[2], meta)
        high = self._duration(c[1], c[2], meta)
        return self._washout(low, high, meta)

    def cycle_until(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("until", tuple(str(t) for t in c))

    def cycle_max(self, meta: Meta, c: list[Any]) -> _Tagged:
        n = self._int(c[0], c[0], "a number of cycles")
        if n < 1:
            self._error("a cycle block needs at least 1 cycle", self._tspan(c[0]))
        return _Tagged("max_cycles", n)

    def cycle_days(self, meta: Meta, c: list[Any]) -> CycleDays:
        days = tuple(self._int(t, t, "a day of a cycle") for t in c)
        for t, d in zip(c, days, strict=True):
            if d < 1:
                self._error(f"cycle day {d} does not exist: the days of a cycle count from 1",
                            self._tspan(t), "day 1 is the cycle's first day")
        if list(days) != sorted(set(days)):
            self._error("the days of a cycle must be listed once each, in order",
                        self._span(meta))
        return CycleDays(days, span=self._span(meta))

    def timepoints(self, meta: Meta, c: list[Any]) -> Timepoints:
        fields: dict[str, Any] = {}
        items: list[TimedActivity] = []
        for part in c[3:]:
            if isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, TimedActivity):
                items.append(part)
        return Timepoints(str(c[0]), _unquote(c[1]), c[2], tuple(items), span=self._span(meta),
                          **fields)

    def dose_on_days(self, meta: Meta, c: list[Any]) -> DoseOnDays:
        days = tuple(DayPoint(TimeUnit.DAY, v, span=self._span(meta)) for v in c[1:])
        values = [d.value for d in days]
        if values != sorted(set(values)):
            self._error("the days of the doses must be listed once each, in order",
                        self._span(meta))
        return DoseOnDays(str(c[0]), days, span=self._tspan(c[0]))

    def timed_activity(self, meta: Meta, c: list[Any]) -> TimedActivity:
        kind: ActivityKind = c[0]
        names: list[str] = []
        fields: dict[str, Any] = {}
        for part in c[1:]:
            if isinstance(part, Token):
                names.append(str(part))
            elif isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, _Tagged):
                fields[part.tag] = part.value
        return TimedActivity(kind, tuple(names), span=self._span(meta), **fields)

    def tp_offsets(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("offsets", tuple(d for group in c for d in group))

    def tp_group(self, meta: Meta, c: list[Any]) -> list[Duration]:
        unit: TimeUnit = c[-1]
        return [Duration(float(t), unit, span=self._tspan(t)) for t in c[:-1]]

    def tp_predose(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("predose", c[0])

    def tp_windows(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("windows", tuple(b for b in c if b is not None))

    def band_up_to(self, meta: Meta, c: list[Any]) -> WindowBand | None:
        return WindowBand(c[0], c[1], span=self._span(meta)) if c[0] is not None else None

    def band_rest(self, meta: Meta, c: list[Any]) -> WindowBand | None:
        return WindowBand(c[0], span=self._span(meta)) if c[0] is not None else None

    def visit(self, meta: Meta, c: list[Any]) -> Visit:
        fields: dict[str, Any] = {}
        for part in c[2:]:
            if isinstance(part, _Tagged) and part.tag == "activities":
                fields["item_conditions"] = part.value[1]
                fields["activities"] = part.value[0]
                continue
            if isinstance(part, Window):
                fields["window"] = part
            elif isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, _Tagged):
                fields[part.tag] = part.value
            else:
                fields["timing"] = part
        return Visit(str(c[0]), _unquote(c[1]), span=self._span(meta), **fields)

    def visit_number(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("number", float(c[0]))

    def visit_activities(self, meta: Meta, c: list[Any]) -> _Tagged:
        names = tuple(t.item if isinstance(t, ItemCondition) else str(t) for t in c)
        return _Tagged("activities", (names, tuple(t for t in c if isinstance(t, ItemCondition))))

    def item_condition(self, meta: Meta, c: list[Any]) -> ItemCondition:
        fields: dict[str, Any] = {}
        for part in c[1:]:
            if isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, _Tagged):
                fields[part.tag] = part.value
        if not fields:
            self._error(f"'{c[0]}' has empty parentheses", self._span(meta),
                        "write a restriction, e.g. '(sex female)', '(arms a)' or '(if EVENT)'")
        return ItemCondition(str(c[0]), span=self._span(meta), **fields)

    def sex_only(self, meta: Meta, c: list[Any]) -> _Tagged:
        sex = self._enum(Sex, c[0], "sex")
        if sex is Sex.ALL:
            self._error("'sex all' restricts nothing", self._span(meta), "leave it out")
        return _Tagged("sex", sex)

    def visit_condition(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("condition", str(c[0]))

    def at_day(self, meta: Meta, c: list[Any]) -> AtDay:
        return AtDay(c[0], span=self._span(meta))

    def at_range(self, meta: Meta, c: list[Any]) -> DayRange:
        start, end = c
        if start.days() > end.days():
            self._error(f"the range {start} to {end} runs backwards", self._span(meta))
        return DayRange(start, end, span=self._span(meta))

    def at_after(self, meta: Meta, c: list[Any]) -> AfterAnchor:
        return AfterAnchor(c[0], c[1], span=self._span(meta))

    def at_before(self, meta: Meta, c: list[Any]) -> AfterAnchor:
        offset: Duration = c[0]
        return AfterAnchor(attrs.evolve(offset, amount=-offset.amount), c[1],
                           span=self._span(meta))

    def attested(self, meta: Meta, c: list[Any]) -> ex.Attested:
        return ex.Attested(span=self._span(meta))

    def on_event(self, meta: Meta, c: list[Any]) -> OnEvent:
        return OnEvent(str(c[0]), span=self._span(meta))

    def on_each(self, meta: Meta, c: list[Any]) -> OnEach:
        return OnEach(c[0], span=self._span(meta))

    def as_needed(self, meta: Meta, c: list[Any]) -> AsNeeded:
        return AsNeeded(span=self._span(meta))

    def day_point(self, meta: Meta, c: list[Any]) -> DayPoint:
        return DayPoint(c[0], c[1], span=self._span(meta))

    def window_range(self, meta: Meta, c: list[Any]) -> Window | None:
        low, high, unit = c
        span = self._span(meta)
        if low > 0 or high < 0:
            self._error("a window must contain its nominal time", span,
                        "write it as '-B to +A' with B, A >= 0, e.g. 'window -3 to +3 days'")
            return None
        return Window(-low, high, unit, span=span)

    def window_symmetric(self, meta: Meta, c: list[Any]) -> Window:
        return Window(float(c[1]), float(c[1]), c[2], span=self._span(meta))

    def arms(self, meta: Meta, c: list[Any]) -> _Arms:
        return _Arms(tuple(str(t) for t in c))

    def activity(self, meta: Meta, c: list[Any]) -> Activity:
        kind: ActivityKind = c[0]
        names: list[str] = []
        fields: dict[str, Any] = {}
        for part in c[1:]:
            if isinstance(part, Token):
                names.append(str(part))
            elif isinstance(part, (AtTimes, Repeat, CycleDays)):
                fields["timing"] = part
            elif isinstance(part, Window):
                fields["window"] = part
            elif isinstance(part, _Arms):
                fields["arms"] = part.names
            elif isinstance(part, _Tagged):
                fields[part.tag] = part.value
        return Activity(kind, tuple(names), span=self._span(meta), **fields)

    def activity_kind(self, meta: Meta, c: list[Any]) -> ActivityKind:
        return ActivityKind(str(c[0]))

    def at_times(self, meta: Meta, c: list[Any]) -> AtTimes:
        unit = c[0]
        points = tuple(DayPoint(unit, v, span=self._span(meta)) for v in c[1:])
        return AtTimes(points, span=self._span(meta))

    def repeat(self, meta: Meta, c: list[Any]) -> Repeat:
        every = self._duration(c[0], c[1], meta)
        if every.amount <= 0:
            self._error("a repeat interval must be positive", self._span(meta))
        return Repeat(every, c[2], c[3], span=self._span(meta))

    def repeat_for(self, meta: Meta, c: list[Any]) -> RepeatFor:
        # the last occurrence is the last one before start + D: `for 0 weeks` plans none, and
        # the activity would vanish from the plan without a word
        if c[0].amount <= 0:
            self._error(f"a repeat for {c[0]} plans no occurrence", self._span(meta),
                        "give a positive duration")
        return RepeatFor(c[0], span=self._span(meta))

    def repeat_until(self, meta: Meta, c: list[Any]) -> RepeatUntil:
        return RepeatUntil(c[0], span=self._span(meta))

    def repeat_times(self, meta: Meta, c: list[Any]) -> RepeatTimes:
        times = self._int(c[0], c[0], "a number of times")
        if times <= 0:
            self._error(f"a repeat {times} times plans no occurrence", self._span(meta),
                        "give a positive number of times")
        return RepeatTimes(times, span=self._span(meta))

    # ---- stopping rules ----------------------------------------------------------------------

    def stopping(self, meta: Meta, c: list[Any]) -> _Setting:
        return self._setting("stopping", Stopping(tuple(c), span=self._span(meta)),
                             self._span(meta))

    def patient_rule(self, meta: Meta, c: list[Any]) -> PatientRule:
        parts = list(c)
        named = parts.pop(0) if isinstance(parts[0], _Named) else None
        action, condition = parts[0], parts[1]
        unless = parts[2] if len(parts) > 2 else None
        return PatientRule(action, condition, named.name if named else None,
                           named.label if named else None, unless, span=self._span(meta))

    def rule_name(self, meta: Meta, c: list[Any]) -> _Named:
        return _Named(str(c[0]), _unquote(c[1]) if len(c) > 1 else None)

    def discontinue(self, meta: Meta, c: list[Any]) -> Discontinue:
        return Discontinue(tuple(str(t) for t in c), span=self._span(meta))

    def withdraw(self, meta: Meta, c: list[Any]) -> Withdraw:
        return Withdraw(span=self._span(meta))

    def follow_up(self, meta: Meta, c: list[Any]) -> FollowUp:
        return FollowUp(span=self._span(meta))

    def retest(self, meta: Meta, c: list[Any]) -> Retest:
        return Retest(str(c[0]), c[1], span=self._span(meta))

    def _kind_of(self, operand: Any, meta: Meta) -> str:
        if isinstance(operand, ex.Name):
            return operand.name
        self._error("a sample rule needs the name of a data item on its left",
                    self._span(meta), "e.g. 'alt > 3 x ULN on 2 consecutive samples'")
        return "?"

    def consecutive(self, meta: Meta, c: list[Any]) -> ex.Consecutive:
        return ex.Consecutive(self._kind_of(c[0], meta), ex.CompareOp(str(c[1])), c[2], c[3],
                              span=self._span(meta))

    def log_rise(self, meta: Meta, c: list[Any]) -> ex.LogRise:
        count = c[3] if len(c) > 3 else 1
        return ex.LogRise(self._kind_of(c[0], meta), ex.CompareOp(str(c[1])), float(c[2]), count,
                          span=self._span(meta))

    def consecutive_count(self, meta: Meta, c: list[Any]) -> int:
        n = self._int(c[0], c[0], "a number of samples")
        if n < 1:
            self._error("the number of consecutive samples must be at least 1", self._span(meta))
        return n

    def unless(self, meta: Meta, c: list[Any]) -> RetestFalls:
        return RetestFalls(str(c[0]), c[1], float(c[2]), span=self._span(meta))

    def interim_rule(self, meta: Meta, c: list[Any]) -> InterimRule:
        name = str(c[0])
        rest = list(c[1:])
        label = _unquote(rest.pop(0)) if rest and isinstance(rest[0], Token) and \
            rest[0].type == "STRING" else None
        info = tuple(float(t) for t in rest if isinstance(t, Token))
        planned = next((p.value for p in rest if isinstance(p, _Tagged)), None)
        efficacy = next(p for p in rest if isinstance(p, EfficacyBound))
        futility = next((p for p in rest if isinstance(p, FutilityBound)), None)
        plan = next((p for p in rest if isinstance(p, SampleSizePlan)), None)
        return InterimRule(name, efficacy, info, label, planned, futility, span=self._span(meta),
                           sample_size=plan)

    def planned_events(self, meta: Meta, c: list[Any]) -> _Tagged:
        return _Tagged("events", self._int(c[0], c[0], "a number of events"))

    def efficacy(self, meta: Meta, c: list[Any]) -> EfficacyBound:
        return EfficacyBound(c[0], float(c[1]), c[2], span=self._span(meta))

    def futility(self, meta: Meta, c: list[Any]) -> FutilityBound:
        family = c[0]
        beta = next((float(x) for x in c[1:] if isinstance(x, Token)), None)
        binding = next((x for x in c[1:] if isinstance(x, bool)), False)
        return FutilityBound(family, beta, binding, span=self._span(meta))

    def sample_size(self, meta: Meta, c: list[Any]) -> SampleSizePlan | None:
        span = self._span(meta)
        assumptions = assemble([a for a in c[1:] if isinstance(a, Assumption)], span,
                               self._error)
        if assumptions is None:  # the problems are reported, and the file will not load
            return None
        return SampleSizePlan(float(c[0]), assumptions, span=span)

    def assumption(self, meta: Meta, c: list[Any]) -> Assumption:
        return Assumption(str(c[0]), c[1], self._span(meta))

    def number_value(self, meta: Meta, c: list[Any]) -> float:
        return float(c[0])

    def duration_value(self, meta: Meta, c: list[Any]) -> Duration:
        return c[0]

    def versus_value(self, meta: Meta, c: list[Any]) -> Versus:
        return Versus(float(c[0]), float(c[1]))

    def rate_value(self, meta: Meta, c: list[Any]) -> EventRate:
        return EventRate(float(c[0]), c[1], span=self._span(meta))

    def sides(self, meta: Meta, c: list[Any]) -> int:
        return 1 if str(c[0]) == "one_sided" else 2

    def binding(self, meta: Meta, c: list[Any]) -> bool:
        return str(c[0]) == "binding"

    def boundary_family(self, meta: Meta, c: list[Any]) -> BoundaryFamily:
        name = str(c[0])
        numbers = tuple(c[1:])
        if name in LIST_FAMILIES:
            return BoundaryFamily(name, None, span=self._span(meta), values=numbers)
        if len(numbers) > 1:
            self._error(f"'{name}' takes one parameter, not {len(numbers)}", self._span(meta))
        return BoundaryFamily(name, numbers[0] if numbers else None, span=self._span(meta))

    def safety_rule(self, meta: Meta, c: list[Any]) -> SafetyRule:
        name = str(c[0])
        rest = list(c[1:])
        label = _unquote(rest.pop(0)) if isinstance(rest[0], Token) else None
        arms = rest.pop(0).names if isinstance(rest[0], _Arms) else ()
        looks: tuple[int, ...] = ()
        if isinstance(rest[-1], _Tagged):
            looks = rest.pop().value
        event, method = rest
        return SafetyRule(name, event, method, label, arms, looks, span=self._span(meta))

    def safety_looks(self, meta: Meta, c: list[Any]) -> _Tagged:
        looks = tuple(self._int(t, t, "a number of patients") for t in c)
        if any(n < 1 for n in looks) or any(b <= a for a, b in zip(looks, looks[1:], strict=False)):
            self._error("safety looks must be increasing numbers of patients", self._span(meta))
        return _Tagged("looks", looks)

    def _greater(self, op: Token) -> None:
        if str(op) != ">":
            self._error(f"only '>' is allowed here, not '{op}'", self._tspan(op))

    def bayes_rule(self, meta: Meta, c: list[Any]) -> BayesianStop:
        op1, threshold, op2, probability, a, b = c
        self._greater(op1)
        self._greater(op2)
        return BayesianStop(float(threshold), float(probability), float(a), float(b),
                            span=self._span(meta))

    def binomial_rule(self, meta: Meta, c: list[Any]) -> BinomialStop:
        self._greater(c[0])
        return BinomialStop(float(c[1]), float(c[2]), span=self._span(meta))

    def sprt_rule(self, meta: Meta, c: list[Any]) -> SprtStop:
        p0, p1, alpha, beta, n = c
        return SprtStop(float(p0), float(p1), float(alpha), float(beta),
                        self._int(n, n, "a number of patients"), span=self._span(meta))

    # ---- shared pieces -----------------------------------------------------------------------

    def plain_unit(self, meta: Meta, c: list[Any]) -> str:
        return "/".join(str(t) for t in c)

    def ucum_unit(self, meta: Meta, c: list[Any]) -> str:
        return str(c[0])[1:-1]

    def percent_unit(self, meta: Meta, c: list[Any]) -> str:
        return "%"

    def time_as_unit(self, meta: Meta, c: list[Any]) -> str:
        unit: TimeUnit = c[0]
        return {TimeUnit.MINUTE: "min", TimeUnit.HOUR: "h", TimeUnit.DAY: "d", TimeUnit.WEEK: "wk",
                TimeUnit.MONTH: "mo", TimeUnit.YEAR: "a"}[unit]

    def _duration(self, amount: Any, unit: TimeUnit, meta: Meta) -> Duration:
        return Duration(float(amount), unit, span=self._span(meta))

    def duration(self, meta: Meta, c: list[Any]) -> Duration:
        return self._duration(c[0], c[1], meta)

    def time_unit(self, meta: Meta, c: list[Any]) -> TimeUnit:
        return _TIME_UNITS[str(c[0])]

    def signed_int(self, meta: Meta, c: list[Any]) -> float:
        return float(self._int(c[0], c[0], "a day number"))

    def signed_number(self, meta: Meta, c: list[Any]) -> float:
        return float(c[0])


class _PhaseWord(enum.Enum):
    NA = "na"
    EARLY_1 = "early_1"


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
