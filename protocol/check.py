"""Semantic checks of a Trial, all in one pass: every problem found is reported, with its span.

Errors make a protocol unusable (an undefined name, a unit that cannot be compared, a cycle of
anchors); warnings point at things a reviewer should look at (overlapping visit windows).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from protocol import expr as ex
from protocol.anchors import find_cycle
from protocol.design import DataItem, DoseStep
from protocol.errors import Diagnostic, Severity
from protocol.interim_check import check_interim_rule
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AnchorDecl,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    OnEach,
    OnEvent,
    Periods,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Schedule,
    Visit,
)
from protocol.source import Span
from protocol.stopping import (
    BayesianStop,
    BinomialStop,
    Discontinue,
    InterimRule,
    PatientRule,
    Retest,
    SafetyRule,
    SprtStop,
)
from protocol.timing import Calendar, DayPoint, TimeUnit
from protocol.trial import Trial
from protocol.units import UnitError, check_unit, compatible
from protocol.vocab import ActivityKind, DataKind

PATIENT_ATTRIBUTES = ("age", "sex", "arm")
EVENT_ATTRIBUTES = ("value", "unit", "grade", "related", "serious", "term", "detected")
_TIME_UNIT_CODES = ("a", "mo", "wk", "d", "h")
# the kinds of data whose records carry a number (sum and mean add them up)
_NUMERIC_KINDS = (DataKind.LAB, DataKind.VITAL, DataKind.SCORE, DataKind.MARKER)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A did-you-mean hint for a misspelt name, or None."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def check(trial: Trial) -> tuple[Diagnostic, ...]:
    """Every semantic problem of `trial`, errors first in source order, then warnings."""
    found = list(_Checker(trial).run())
    key = lambda d: (not d.is_error, d.span.start if d.span else -1)  # noqa: E731
    return tuple(sorted(found, key=key))


class _Checker:
    def __init__(self, trial: Trial):
        self.trial = trial
        self.data = {d.name: d for d in trial.data}
        self.interventions = {i.name for i in trial.interventions}
        self.arms = {a.name for a in trial.arms}
        schedule = trial.schedule
        self.visits = {v.name for v in schedule.visits} if schedule else set()
        self.period_visits = {v.name for v in schedule.period_visits} if schedule else set()
        self.anchors = {a.name for a in schedule.anchors} if schedule else set()
        self.out: list[Diagnostic] = []

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.out.append(Diagnostic(Severity.ERROR, message, span, hint))

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.out.append(Diagnostic(Severity.WARNING, message, span, hint))

    def undefined(self, what: str, name: str, span: Span | None, candidates: Iterable[str]) -> None:
        self.error(f"undefined {what} '{name}'", span, suggest(name, candidates))

    def run(self) -> Iterator[Diagnostic]:
        self.check_duplicates()
        self.check_design()
        self.check_data()
        self.check_eligibility()
        self.check_schedule()
        self.check_stopping()
        yield from self.out

    # ---- names -------------------------------------------------------------------------------

    def check_duplicates(self) -> None:
        t = self.trial
        groups: list[tuple[str, list[tuple[str, Span | None]]]] = [
            ("intervention", [(i.name, i.span) for i in t.interventions]),
            ("arm", [(a.name, a.span) for a in t.arms]),
            ("data item", [(d.name, d.span) for d in t.data]),
            ("criterion", [(c.id, c.span) for c in t.eligibility.criteria]),
        ]
        if t.schedule:
            groups.append(("anchor or visit",
                           [(a.name, a.span) for a in t.schedule.anchors]
                           + [(v.name, v.span) for v in t.schedule.visits]
                           + [(v.name, v.span) for v in t.schedule.period_visits]))
            groups.append(("epoch", [(e.name, e.span) for e in t.schedule.epochs]))
            groups.append(("visit number", [(f"{v.number:g}", v.span) for v in t.schedule.visits
                                            if v.number is not None]))
        for what, names in groups:
            first: dict[str, Span | None] = {}
            for name, span in names:
                if name in first:
                    where = first[name]
                    hint = f"the first is at line {where.line}" if where else None
                    self.error(f"duplicate {what} '{name}'", span, hint)
                else:
                    first[name] = span

    # ---- design ------------------------------------------------------------------------------

    def check_design(self) -> None:
        t = self.trial
        for arm in t.arms:
            if arm.type.needs_intervention and not arm.interventions and not arm.sequence:
                self.error(f"arm '{arm.name}' is {arm.type.value.replace('_', ' ')} but gives no "
                           "intervention", arm.span,
                           "list its interventions in the arm's block, or make it no_intervention")
            for ai in arm.interventions:
                if ai.intervention not in self.interventions:
                    self.undefined("intervention", ai.intervention, ai.span, self.interventions)
                if ai.regimen:
                    self.check_regimen_units(ai.regimen.steps)
        for iv in t.interventions:
            if iv.regimen:
                self.check_regimen_units(iv.regimen.steps)
        self.check_sequences()
        if t.allocation_ratio and t.arms and len(t.allocation_ratio) != len(t.arms):
            self.error(f"the allocation ratio has {len(t.allocation_ratio)} parts but the trial "
                       f"has {len(t.arms)} arms", t.span, "give one part per arm, in arm order")
        pop = t.population
        if pop and pop.age_min and pop.age_max and pop.age_min.days() > pop.age_max.days():
            self.error(f"the age range {pop.age_min} to {pop.age_max} is empty", pop.span)
        if t.start and t.completion and t.start > t.completion:
            self.error("the trial completes before it starts", t.span)

    def check_sequences(self) -> None:
        """Crossover arms: every sequence names known interventions, all sequences have the
        same number of periods, and sequences and the schedule's periods come together."""
        t = self.trial
        with_sequence = [a for a in t.arms if a.sequence]
        for arm in with_sequence:
            for step in arm.sequence:
                for name in step.interventions:
                    if name not in self.interventions:
                        self.error(f"undefined treatment '{name}' in the sequence of arm "
                                   f"'{arm.name}'", step.span,
                                   suggest(name, self.interventions)
                                   or "a sequence names interventions, one treatment per period")
        if with_sequence:
            first = with_sequence[0]
            for arm in with_sequence[1:]:
                if len(arm.sequence) != len(first.sequence):
                    self.error(f"arm '{arm.name}' has {len(arm.sequence)} periods in its "
                               f"sequence, but arm '{first.name}' has {len(first.sequence)}",
                               arm.sequence[0].span,
                               "every sequence gives one treatment per study period")
        periods = t.schedule.periods if t.schedule is not None else None
        if periods is None:
            for arm in with_sequence:
                self.error(f"arm '{arm.name}' gives a sequence of treatments, but the schedule "
                           "has no study periods", arm.sequence[0].span,
                           "add a 'periods' block to the schedule")
            return
        for arm in t.arms:
            if not arm.sequence and arm.type.needs_intervention:
                self.error(f"arm '{arm.name}' has no sequence, but the schedule has study "
                           "periods", arm.span,
                           "give the arm's treatment in each period: 'sequence A, B'")
        dosed = {name for a in periods.doses for name in a.items}
        for arm in with_sequence:
            for k, step in enumerate(arm.sequence, 1):
                for name in step.interventions:
                    if name in self.interventions and name not in dosed:
                        self.error(f"arm '{arm.name}' gives {name} in period {k}, but the "
                                   f"periods '{periods.name}' plan no dose of it", step.span,
                                   f"add 'dose {name} at day ...' to the periods block")

    def check_regimen_units(self, steps: Iterable[DoseStep]) -> None:
        for step in steps:
            if step.amount.unit is not None:
                self.check_unit_code(step.amount.unit, step.span)

    def check_unit_code(self, unit: str, span: Span | None) -> bool:
        try:
            check_unit(unit)
        except UnitError as exc:
            self.error(str(exc), span, "units are UCUM codes; write complex ones in backticks, "
                       "e.g. `10*9/L`")
            return False
        return True

    def check_data(self) -> None:
        for item in self.trial.data:
            if item.unit is not None:
                self.check_unit_code(item.unit, item.span)
            if item.molar_mass is not None and item.kind is not DataKind.LAB:
                self.error(f"only a lab has a molar mass; '{item.name}' is a {item.kind.value}",
                           item.span)
            if item.kind is DataKind.LAB and item.unit is None:
                self.error(f"lab '{item.name}' needs a unit", item.span,
                           "add e.g. 'unit U/L'; lab values are compared after unit conversion")
            if item.values and item.kind is not DataKind.CATEGORY:
                self.error(f"only a category has values; '{item.name}' is a {item.kind.value}",
                           item.span)
            if item.low is not None and item.high is not None and item.low > item.high:
                self.error(f"the range of '{item.name}' is empty", item.span)

    # ---- expressions -------------------------------------------------------------------------

    def check_eligibility(self) -> None:
        elig = self.trial.eligibility
        if elig.assessed_at:
            self.check_anchor_name(elig.assessed_at, elig.span)
        elif elig.criteria and self.trial.schedule is None:
            self.warning("no reference time for eligibility", elig.criteria[0].span,
                         "add 'eligibility assessed at <anchor>' or a schedule")
        for criterion in elig.criteria:
            self.check_expr(criterion.expr, in_where=None)

    def check_anchor_name(self, name: str, span: Span | None) -> None:
        known = self.anchors | self.visits
        if name in self.period_visits:
            self.error(f"visit '{name}' is planned in every study period: it cannot time "
                       "anything by itself", span,
                       "time from a period's dose instead, e.g. 'last dose of period 2'")
        elif name not in known:
            self.error(f"undefined anchor '{name}'", span,
                       suggest(name, known) or "declare it in the schedule: 'anchor NAME'")

    def check_anchor(self, ref: ex.AnchorRef, in_schedule: bool = False) -> None:
        if isinstance(ref, ex.NamedAnchor):
            self.check_anchor_name(ref.name, ref.span)
        elif isinstance(ref, ex.DoseAnchor):
            if ref.intervention not in self.interventions:
                self.undefined("intervention", ref.intervention, ref.span, self.interventions)
        elif isinstance(ref, ex.PeriodDoseAnchor):
            which = "first" if ref.which is ex.AggregateFn.FIRST else "last"
            count = self.trial.period_count
            sched = self.trial.schedule
            if not in_schedule:
                self.error(f"'{which} dose of period {ref.period}' times the schedule only",
                           ref.span, "select data relative to an anchor event, or to the "
                           "first or last dose of an intervention")
            elif sched is None or sched.periods is None:
                self.error(f"'{which} dose of period {ref.period}': the schedule has no study "
                           "periods", ref.span, "add a 'periods' block to the schedule")
            elif count and ref.period > count:
                self.error(f"there is no period {ref.period}: the arms' sequences have "
                           f"{count} period{'s' if count != 1 else ''}", ref.span)
        else:
            self.data_ref(ref.kind, ref.span)

    def data_ref(self, kind: str, span: Span | None) -> DataItem | None:
        item = self.data.get(kind)
        if item is None:
            self.undefined("data item", kind, span, self.data)
        return item

    def check_selection(self, sel: ex.Selection) -> DataItem | None:
        item = self.data_ref(sel.kind, sel.span)
        temporal = sel.temporal
        if temporal is not None:
            self.check_anchor(temporal.anchor)
            if isinstance(temporal, ex.Within) and temporal.strict and \
                    temporal.duration.amount == 0:
                self.error(f"'strictly within {temporal.duration}' selects nothing: the window "
                           "is empty", temporal.span, "give a duration, or drop 'strictly'")
        if sel.where is not None:
            self.check_expr(sel.where, in_where=item)
        return item

    def check_expr(self, node: ex.Expr, in_where: DataItem | None) -> None:  # noqa: C901
        if isinstance(node, (ex.And, ex.Or)):
            for operand in node.operands:
                self.check_expr(operand, in_where)
        elif isinstance(node, ex.Not):
            self.check_expr(node.operand, in_where)
        elif isinstance(node, ex.Name):
            self.check_name(node, in_where)
        elif isinstance(node, (ex.Aggregate, ex.Count)):
            self.check_selection(node.selection)
        elif isinstance(node, ex.Exists):
            item = self.check_selection(node.selection)
            if node.lasting and item and item.kind not in (DataKind.CONDITION, DataKind.EVENT):
                self.error(f"'lasting' needs an interval (a condition or an event); "
                           f"'{item.name}' is a {item.kind.value}", node.lasting.span)
        elif isinstance(node, ex.Statistic):
            self.check_statistic(node)
        elif isinstance(node, ex.CountDistinct):
            item = self.check_selection(node.selection)
            if item is not None:
                self.check_attribute(item, node.attribute, node.span)
        elif isinstance(node, ex.Continuous):
            self.check_continuous(node)
        elif isinstance(node, ex.LogReduction):
            item = self.check_selection(node.selection)
            if item and item.kind is not DataKind.MARKER:
                self.error(f"log_reduction needs a marker; '{item.name}' is a {item.kind.value}",
                           node.span)
        elif isinstance(node, ex.Compare):
            self.check_expr(node.left, in_where)
            self.check_expr(node.right, in_where)
            self.check_comparison(node.left, node.right, node.span)
        elif isinstance(node, ex.InRange):
            self.check_expr(node.operand, in_where)
        elif isinstance(node, ex.InSet):
            self.check_expr(node.operand, in_where)
            for value in node.values:
                self.check_comparison(node.operand, value, node.span)
        elif isinstance(node, ex.Test):
            self.check_expr(node.operand, in_where)
            item = self.item_of(node.operand)
            wants_marker = node.test in (ex.TestKind.DETECTABLE, ex.TestKind.UNDETECTABLE)
            if wants_marker and item and item.kind is not DataKind.MARKER:
                self.error(f"'is {node.test.value}' needs a marker; '{item.name}' is a "
                           f"{item.kind.value}", node.span)
        elif isinstance(node, ex.Consecutive):
            item = self.data_ref(node.kind, node.span)
            self.check_expr(node.threshold, None)
            if item:
                self.check_threshold(item, node.threshold, node.span)
        elif isinstance(node, ex.LogRise):
            item = self.data_ref(node.kind, node.span)
            if item and item.kind is not DataKind.MARKER:
                self.error(f"'rises ... log' needs a marker; '{item.name}' is a "
                           f"{item.kind.value}", node.span)

    def check_attribute(self, item: DataItem, name: str, span: Span | None) -> None:
        """An attribute named by an aggregate (`volume of blood_donation`) exists on the item."""
        allowed = EVENT_ATTRIBUTES + item.attributes
        if name not in allowed:
            self.error(f"'{item.name}' has no attribute '{name}'", span,
                       suggest(name, allowed) or f"declare it: 'attributes {name}' on "
                       f"'{item.name}'")

    def check_statistic(self, node: ex.Statistic) -> None:
        item = self.check_selection(node.selection)
        if item is None:
            return
        if node.attribute is not None:
            self.check_attribute(item, node.attribute, node.span)
        elif item.kind not in _NUMERIC_KINDS:
            self.error(f"{node.fn.value} needs numbers; '{item.name}' is a {item.kind.value}",
                       node.span, f"name the attribute to add up: '{node.fn.value}(ATTRIBUTE "
                       f"of {item.name} ...)'" if item.kind in (DataKind.EVENT,
                                                               DataKind.CONDITION,
                                                               DataKind.PROCEDURE) else None)

    def check_continuous(self, node: ex.Continuous) -> None:
        item = self.check_selection(node.selection)
        self.check_anchor(node.anchor)
        if item is not None and node.unchanged is not None:
            self.check_attribute(item, node.unchanged, node.span)
        for what, d in (("the period", node.duration), ("the gap allowed", node.gap)):
            if d is not None and d.sub_day:
                self.error(f"'continuous' counts whole days: {what} ({d}) must be in days, "
                           "weeks, months or years", d.span or node.span)
        if node.duration.amount == 0:
            self.error("'continuous ... for 0 days' asks for nothing", node.duration.span
                       or node.span, "give the length of the period")

    def check_name(self, node: ex.Name, in_where: DataItem | None) -> None:
        if in_where is not None:
            allowed = EVENT_ATTRIBUTES + in_where.attributes
            if node.name not in allowed:
                self.error(f"'{in_where.name}' has no attribute '{node.name}'", node.span,
                           suggest(node.name, allowed)
                           or f"declare it: 'attributes {node.name}' on '{in_where.name}'")
        elif node.name not in PATIENT_ATTRIBUTES:
            hint = suggest(node.name, PATIENT_ATTRIBUTES)
            if node.name in self.data:
                hint = f"say which value: 'latest {node.name} ...' or 'any {node.name} ...'"
            self.error(f"unknown name '{node.name}'", node.span,
                       hint or "a bare name is a patient attribute: age, sex or arm")

    def item_of(self, node: ex.Expr) -> DataItem | None:
        """The data item an aggregate (`latest alt ...`) reads, for checking what it is compared with."""
        if isinstance(node, ex.Aggregate):
            return self.data.get(node.selection.kind)
        if isinstance(node, ex.Statistic) and node.attribute is None:
            item = self.data.get(node.selection.kind)
            return item if item is not None and item.kind in _NUMERIC_KINDS else None
        return None

    def check_comparison(self, left: ex.Expr, right: ex.Expr, span: Span | None) -> None:
        item = self.item_of(left)
        if item is not None:
            self.check_threshold(item, right, span)
            return
        if isinstance(left, ex.Name) and left.name == "age":
            ok = isinstance(right, ex.QuantityLiteral) and right.quantity.unit in _TIME_UNIT_CODES
            if not ok:
                self.error("age is compared with a duration", span, "e.g. 'age >= 50 years'")
        elif isinstance(left, ex.Name) and left.name == "arm":
            if isinstance(right, ex.StringLiteral) and right.value not in self.arms:
                self.undefined("arm", right.value, right.span, self.arms)
        elif isinstance(left, ex.Name) and left.name == "sex":
            if not (isinstance(right, ex.StringLiteral) and right.value in ("female", "male")):
                self.error("sex is compared with \"female\" or \"male\"", span)
        elif isinstance(left, ex.RelativeLimit) or isinstance(right, ex.RelativeLimit):
            if not isinstance(left, ex.Consecutive):
                self.error("'x ULN' and 'x LLN' compare a lab value, e.g. 'latest alt <= 3 x ULN'",
                           span)

    def check_threshold(self, item: DataItem, right: ex.Expr, span: Span | None) -> None:
        if isinstance(right, ex.RelativeLimit):
            if item.kind is not DataKind.LAB:
                self.error(f"'{right.multiple:g} x {right.limit.value}' needs a lab with a "
                           f"reference range; '{item.name}' is a {item.kind.value}", right.span)
        elif isinstance(right, ex.StringLiteral):
            if item.kind is not DataKind.CATEGORY:
                self.error(f"'{item.name}' is a {item.kind.value}, not a category; it is not "
                           f"compared with text", right.span)
            elif item.values and right.value not in item.values:
                values = "its values are " + ", ".join(f'"{v}"' for v in item.values)
                close = suggest(right.value, item.values)
                self.error(f"'{right.value}' is not a value of '{item.name}'", right.span,
                           f"{close} ({values})" if close else values)
        elif isinstance(right, ex.QuantityLiteral):
            unit = right.quantity.unit
            if item.kind is DataKind.CATEGORY:
                self.error(f"'{item.name}' is a category; compare it with a quoted value",
                           right.span)
            elif unit is None and item.unit is not None and item.kind is DataKind.LAB:
                self.error(f"'{item.name}' is measured in {item.unit}; the threshold needs a unit",
                           right.span, f"e.g. '{right.quantity.value:g} {item.unit}' or a "
                           "multiple of the reference range ('x ULN')")
            elif unit is not None and item.unit is None:
                self.error(f"'{item.name}' has no unit, but the threshold is in {unit}",
                           right.span)
            elif unit is not None and item.unit is not None:
                if self.check_unit_code(unit, right.span) and not compatible(
                        unit, item.unit, item.molar_mass):
                    self.error(f"cannot compare '{item.name}' ({item.unit}) with {unit}: "
                               "the units measure different things", right.span)

    # ---- schedule ----------------------------------------------------------------------------

    def check_schedule(self) -> None:
        schedule = self.trial.schedule
        if schedule is None:
            return
        self.check_anchor_name(schedule.anchor, schedule.span)
        for decl in schedule.anchors:
            self.check_anchor_effect(decl, schedule.anchor)
        blocks = [p for p in schedule.items if isinstance(p, Periods)]
        for extra in blocks[1:]:
            self.error("a schedule has one 'periods' block", extra.span,
                       "every study period plans the items of the one block")
        for top in schedule.items:
            if isinstance(top, Cycles):
                self.check_cycle_block(top)
            if isinstance(top, Periods):
                self.check_periods(top)
            for item in (top.items if isinstance(top, (Cycles, Periods)) else (top,)):
                self.check_schedule_item(item, in_cycle=isinstance(top, Cycles))
        self.check_cycles()
        self.check_overlaps()
        if self.trial.calendar.first_day == 1:
            self.check_no_day_zero(schedule)

    def check_no_day_zero(self, schedule: Schedule) -> None:
        points: list[tuple[DayPoint, Span | None]] = []
        flat: list[Visit | Activity | Cycles] = []
        for top in schedule.items:
            if isinstance(top, Periods):
                points.append((top.start, top.span))
                flat.extend(top.items)
            else:
                flat.append(top)
        for item in flat:
            if isinstance(item, Visit):
                t = item.timing
                if isinstance(t, AtDay):
                    points.append((t.point, t.span or item.span))
                elif isinstance(t, DayRange):
                    points += [(t.start, t.span or item.span), (t.end, t.span or item.span)]
            elif isinstance(item, Cycles):
                points.append((item.start, item.span))
            elif isinstance(item.timing, AtTimes):
                points += [(p, item.timing.span or item.span) for p in item.timing.points]
            elif isinstance(item.timing, Repeat):
                points.append((item.timing.start, item.timing.span or item.span))
        for point, span in points:
            if point.unit is TimeUnit.DAY and point.value == 0:
                self.error("there is no day 0: this protocol counts its days from 1",
                           point.span or span, "day 1 is the anchor's day; day -1 the day before")

    def check_cycle_block(self, block: Cycles) -> None:
        for arm in block.arms:
            if arm not in self.arms:
                self.undefined("arm", arm, block.span, self.arms)
        for name in block.until:
            if name not in self.data:
                self.check_anchor_name(name, block.span)
        if not block.items:
            self.error(f"cycles '{block.name}' plan nothing", block.span,
                       "add the activities of each cycle, e.g. 'dose drug on day 1'")
        elif block.first_day_item is None:
            self.error(f"nothing is planned on day 1 of the cycles '{block.name}'", block.span,
                       "a cycle's start is dated by what is done on its day 1 (usually the dose)")
        length = block.length.days(self.trial.calendar)
        for act in block.items:
            if isinstance(act.timing, CycleDays) and act.timing.days[-1] > length:
                self.error(f"day {act.timing.days[-1]} is past the end of a {block.length} cycle",
                           act.timing.span or act.span)
        if block.max_cycles is None and not block.until:
            self.warning(f"the cycles '{block.name}' have no end: no 'until' and no 'max'",
                         block.span, "they are planned while they start by the as-of date")

    def check_schedule_item(self, item: Visit | Activity, in_cycle: bool) -> None:
        for arm in item.arms:
            if arm not in self.arms:
                self.undefined("arm", arm, item.span, self.arms)
        if item.condition and item.condition not in self.data:
            self.check_anchor_name(item.condition, item.span)
        if isinstance(item, Visit):
            self.check_visit(item)
            return
        if isinstance(item.timing, CycleDays) and not in_cycle:
            self.error("'on day ...' times an activity inside a 'cycles' block only",
                       item.timing.span or item.span)
        names = self.interventions if item.kind is ActivityKind.DOSE else set(self.data)
        what = "intervention" if item.kind is ActivityKind.DOSE else "data item"
        for name in item.items:
            if name not in names:
                self.undefined(what, name, item.span, names)
        if isinstance(item.timing, Repeat) and isinstance(item.timing.end, RepeatUntil):
            self.check_anchor(item.timing.end.anchor, in_schedule=True)

    def check_periods(self, block: Periods) -> None:
        """A periods block: what its items may be, that it doses something (a period is timed
        from its first dose), and that a period's activities end before the next period's
        could begin after the shortest washout."""
        cal = self.trial.calendar
        for item in block.items:
            t = item.timing
            if isinstance(item, Visit):
                if not isinstance(t, (AtDay, DayRange)):
                    self.error(f"visit '{item.name}' of the periods is timed in days of the "
                               "period", t.span or item.span,
                               "write e.g. 'at day -1' or 'at day 1 to day 3': days count "
                               "from the period's first dose")
                if item.number is not None:
                    self.error(f"visit '{item.name}' is planned in every period: it cannot "
                               "have one visit number", item.span,
                               "leave the number out; the SDTM mapping names each period's "
                               "VISITNUM")
            elif isinstance(t, CycleDays) or (
                    isinstance(t, Repeat) and not isinstance(t.end, (RepeatFor, RepeatTimes))):
                self.error("an activity of the periods is timed in days of the period",
                           t.span or item.span,
                           "write e.g. 'at day 1, 2' or 'every 1 day from day 1 times 3'")
        if not block.doses:
            self.error(f"the periods '{block.name}' plan no dose", block.span,
                       "a period is timed from its first dose: add e.g. 'dose drug at day 1'")
            return
        # the days of one period, from its first dose: when the next period's first dose can
        # come at the earliest, nothing of this period may still be going on
        dose_days = [d for a in block.doses for d in _item_days(a, cal)]
        first_dose, last_dose = min(dose_days), max(dose_days)
        ends: list[tuple[int | float, str, Span | None]] = []
        starts: list[tuple[int | float, str]] = []
        for item in block.items:
            days = _item_days(item, cal)
            if not days:
                continue
            after = item.window.days(cal)[1] if item.window is not None else 0.0
            before = item.window.days(cal)[0] if item.window is not None else 0.0
            name = item.name if isinstance(item, Visit) else ", ".join(item.items)
            ends.append((max(days) + after, name, item.span))
            starts.append((min(days) - before, name))
        gap = block.washout.minimum.days(cal)
        next_first = last_dose + gap  # the next period's first dose, from this one's day 0
        earliest, first_name = min(starts)
        end, name, span = max(ends, key=lambda e: e[0])
        next_start = next_first + (earliest - first_dose)
        if end >= next_start:
            day = cal.protocol_day(round(end))
            self.error(
                f"the washout of {block.washout.minimum} is shorter than a period: {name} "
                f"on day {day:g} of a period falls on or after {first_name} of the next "
                "period", span,
                f"after the last dose (day {cal.protocol_day(round(last_dose)):g}) the next "
                f"period's first dose comes {block.washout.minimum} later at the earliest; "
                "lengthen the washout or end the period's activities sooner")

    def check_anchor_effect(self, decl: AnchorDecl, root: str) -> None:
        effect = decl.effect
        if effect is None:
            return
        if decl.name in (root, self.trial.reference_anchor):
            what = "schedule" if decl.name == root else "eligibility reference"
            self.error(f"anchor {decl.name} is the {what} anchor: it cannot also stop the "
                       "patient's treatment or participation", decl.span,
                       "remove the 'then' clause, or declare a separate anchor for the stop")
        if isinstance(effect, Discontinue):
            for name in effect.interventions:
                if name not in self.interventions:
                    self.undefined("intervention", name, decl.span, self.interventions)

    def check_visit(self, visit: Visit) -> None:
        for name in visit.activities:
            if name not in self.data:
                self.undefined("data item", name, visit.span, self.data)
        for cond in visit.item_conditions:
            for arm in cond.arms:
                if arm not in self.arms:
                    self.undefined("arm", arm, cond.span or visit.span, self.arms)
            if cond.condition and cond.condition not in self.data:
                self.check_anchor_name(cond.condition, cond.span or visit.span)
        timing = visit.timing
        if isinstance(timing, AfterAnchor):
            self.check_anchor(timing.anchor, in_schedule=True)
        elif isinstance(timing, OnEvent):
            self.check_anchor_name(timing.event, timing.span or visit.span)
        elif isinstance(timing, OnEach):
            self.check_selection(timing.selection)
        if isinstance(timing, DayRange) and visit.window is not None:
            self.error(f"visit '{visit.name}' is a range of days and also has a window",
                       visit.window.span, "the range already says which days are allowed")

    def check_cycles(self) -> None:
        assert self.trial.schedule is not None
        cycle = find_cycle(self.trial.schedule, self.trial.period_count)
        if cycle is not None:
            path, span = cycle
            self.error("the schedule's anchors form a cycle: " + " -> ".join(path), span,
                       "no date in a cycle can be computed; time one of them from another anchor")

    def check_overlaps(self) -> None:
        assert self.trial.schedule is not None
        cal = self.trial.calendar
        spans: list[tuple[int | float, int | float, int | float, Visit]] = []
        for visit in self.trial.schedule.visits:
            if visit.arms or visit.condition:
                continue  # arm-specific and conditional visits do not follow one another
            timing = visit.timing
            if isinstance(timing, AtDay):
                nominal = timing.point.days(cal)
                before, after = visit.window.days(cal) if visit.window else (0.0, 0.0)
                spans.append((nominal, nominal - before, nominal + after, visit))
            elif isinstance(timing, DayRange):
                spans.append((timing.end.days(cal), timing.start.days(cal), timing.end.days(cal),
                              visit))
        spans.sort(key=lambda s: s[0])
        for (_, _, hi, a), (_, lo, _, b) in zip(spans, spans[1:], strict=False):
            if lo <= hi:
                self.warning(f"the windows of visits '{a.name}' and '{b.name}' overlap "
                             f"(day {lo:g} <= day {hi:g})", b.span,
                             "a visit in the overlap cannot be assigned to one of them for sure")

    # ---- stopping ----------------------------------------------------------------------------

    def check_stopping(self) -> None:
        for rule in self.trial.stopping.rules:
            if isinstance(rule, PatientRule):
                self.check_patient_rule(rule)
            elif isinstance(rule, InterimRule):
                self.check_interim(rule)
            elif isinstance(rule, SafetyRule):
                self.check_safety(rule)

    def check_patient_rule(self, rule: PatientRule) -> None:
        action = rule.action
        if isinstance(action, Discontinue):
            for name in action.interventions:
                if name not in self.interventions:
                    self.undefined("intervention", name, action.span, self.interventions)
        elif isinstance(action, Retest):
            self.data_ref(action.kind, action.span)
        self.check_expr(rule.condition, in_where=None)
        if rule.unless is not None:
            self.data_ref(rule.unless.kind, rule.unless.span)
            if not 0 < rule.unless.percent < 100:
                self.error("the fall must be a percentage between 0 and 100", rule.unless.span)

    def check_interim(self, rule: InterimRule) -> None:
        info = rule.information
        if any(b <= a for a, b in zip(info, info[1:], strict=False)):
            self.error("information fractions must increase from look to look", rule.span)
        if any(not 0 < f <= 1 for f in info):
            self.error("information fractions must lie in (0, 1]", rule.span)
        elif info and info[-1] != 1:
            self.error("the last look must be at information 1: the fractions are of the "
                       "maximum information, which the final analysis reaches", rule.span)
        if not 0 < rule.efficacy.alpha < 0.5:
            self.error(f"alpha must lie in (0, 0.5), not {rule.efficacy.alpha:g}",
                       rule.efficacy.span)
        check_interim_rule(rule, len(self.trial.arms), self.error)

    def check_safety(self, rule: SafetyRule) -> None:
        for arm in rule.arms:
            if arm not in self.arms:
                self.undefined("arm", arm, rule.span, self.arms)
        self.check_expr(rule.event, in_where=None)
        method = rule.method
        probabilities: list[int | float] = []
        if isinstance(method, BayesianStop):
            probabilities = [method.threshold, method.probability]
            if method.prior_a <= 0 or method.prior_b <= 0:
                self.error("a beta prior needs positive parameters", method.span)
        elif isinstance(method, BinomialStop):
            probabilities = [method.threshold, method.alpha]
        elif isinstance(method, SprtStop):
            probabilities = [method.p0, method.p1, method.alpha, method.beta]
            if method.p0 >= method.p1:
                self.error("an SPRT needs p0 < p1", method.span)
        if rule.looks and isinstance(method, SprtStop):
            self.error("an SPRT is checked after every patient; it takes no looks", rule.span)
        if any(not 0 < p < 1 for p in probabilities):
            self.error("rates and probabilities must lie strictly between 0 and 1", method.span)


__all__ = ["check", "suggest"]


def _item_days(item: Visit | Activity, cal: Calendar) -> list[int | float]:
    """The days of a period's visit or activity, from the period's day 0 (its first dose's
    reference day); [] for a timing a period does not take."""
    t = item.timing
    if isinstance(t, AtDay):
        return [t.point.days(cal)]
    if isinstance(t, DayRange):
        return [t.start.days(cal), t.end.days(cal)]
    if isinstance(t, AtTimes):
        return [p.days(cal) for p in t.points]
    if isinstance(t, Repeat) and isinstance(t.end, (RepeatFor, RepeatTimes)):
        start, every = t.start.days(cal), t.every.days(cal)
        if isinstance(t.end, RepeatTimes):
            return [start + k * every for k in range(max(t.end.times, 1))]
        stop = start + t.end.duration.days(cal)
        out: list[int | float] = []
        d = start
        while d < stop and len(out) < 1000:
            out.append(d)
            d += every
        return out
    return []
