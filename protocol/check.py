"""Semantic checks of a Trial, all in one pass: every problem found is reported, with its span.

Errors make a protocol unusable (an undefined name, a unit that cannot be compared, a cycle of
anchors); warnings point at things a reviewer should look at (overlapping visit windows).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from protocol import expr as ex
from protocol.anchors import find_cycle
from protocol.check_values import NUMERIC_KINDS, ValueType, ValueTypes, is_computed, units_fit
from protocol.design import DataItem, DoseStep
from protocol.errors import Diagnostic, Severity
from protocol.formulas import FUNCTION_NAMES
from protocol.interim_check import check_interim_rule
from protocol.magnitude_check import check_magnitudes
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AnchorDecl,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    DoseOnDays,
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
from protocol.timing import Calendar, DayPoint, Duration, TimeUnit, Window
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
        self.definitions = {d.name: d for d in trial.definitions}
        self.tables = {t.name: t for t in trial.tables}
        self.out: list[Diagnostic] = []
        # names given to two anchors or visits: their graph node is shared, so a cycle through
        # one is an artefact of the duplicate (reported as such), not a cycle of its own
        self.duplicate_anchors: set[str] = set()
        self.values = ValueTypes(self.data, self.definitions, self.tables, self.error)

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
        self.check_tables()
        self.check_definitions()
        self.check_eligibility()
        self.check_schedule()
        self.check_stopping()
        self.out.extend(check_magnitudes(self.trial))
        yield from self.out

    # ---- names -------------------------------------------------------------------------------

    def check_duplicates(self) -> None:
        t = self.trial
        groups: list[tuple[str, list[tuple[str, Span | None]]]] = [
            ("intervention", [(i.name, i.span) for i in t.interventions]),
            ("arm", [(a.name, a.span) for a in t.arms]),
            ("data item", [(d.name, d.span) for d in t.data]),
            ("criterion", [(c.id, c.span) for c in t.eligibility.criteria]),
            ("definition or table", [(d.name, d.span) for d in t.definitions]
             + [(tb.name, tb.span) for tb in t.tables]),
        ]
        if t.schedule:
            groups.append(("anchor or visit",
                           [(a.name, a.span) for a in t.schedule.anchors]
                           + [(v.name, v.span) for v in t.schedule.visits]
                           + [(v.name, v.span) for v in t.schedule.period_visits]))
            groups.append(("epoch", [(e.name, e.span) for e in t.schedule.epochs]))
            groups.append(("timepoints block", [(b.name, b.span) for b in t.schedule.timepoints]))
            groups.append(("visit number", [(f"{v.number:g}", v.span) for v in t.schedule.visits
                                            if v.number is not None]))
        for what, names in groups:
            first: dict[str, Span | None] = {}
            for name, span in names:
                if name in first:
                    if what == "anchor or visit":
                        self.duplicate_anchors.add(name)
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
                self.error(f"only a lab has a molar mass; '{item.name}' is {_a(item.kind)}",
                           item.span)
            if item.kind is DataKind.LAB and item.unit is None:
                self.error(f"lab '{item.name}' needs a unit", item.span,
                           "add e.g. 'unit U/L'; lab values are compared after unit conversion")
            if item.values and item.kind is not DataKind.CATEGORY:
                self.error(f"only a category has values; '{item.name}' is {_a(item.kind)}",
                           item.span)
            if item.low is not None and item.high is not None and item.low > item.high:
                self.error(f"the range of '{item.name}' is empty", item.span)
            for attribute in item.attribute_units:
                self.check_unit_code(attribute.unit, attribute.span or item.span)
        for d in self.trial.definitions:
            if d.name in self.data or d.name in PATIENT_ATTRIBUTES:
                what = "a data item" if d.name in self.data else "a patient attribute"
                self.error(f"definition '{d.name}' has the name of {what}", d.span,
                           "a bare name would be ambiguous: choose another name")

    # ---- definitions and tables --------------------------------------------------------------

    def check_tables(self) -> None:
        for table in self.trial.tables:
            if not table.rows:
                self.error(f"table '{table.name}' has no rows", table.span)
                continue
            first = table.rows[0].value
            for row in table.rows:
                value = row.value
                if isinstance(value, ex.QuantityLiteral) and value.quantity.unit is not None:
                    if not self.check_unit_code(value.quantity.unit, row.span):
                        continue
                if type(value) is not type(first):
                    self.error(f"table '{table.name}' mixes text and numbers", row.span,
                               "every value of a table is of one kind")
                elif isinstance(value, ex.QuantityLiteral) and isinstance(first, ex.QuantityLiteral):
                    a = ValueType("number", first.quantity.unit)
                    b = ValueType("number", value.quantity.unit)
                    if not units_fit(a, b):
                        self.error(f"table '{table.name}': {value.quantity} is not in the "
                                   f"dimension of {first.quantity}", row.span,
                                   "every value of a table measures the same thing")

    def check_definitions(self) -> None:
        for d in self.trial.definitions:
            self.check_expr(d.expr, in_where=None)
            self.values.definition_type(d.name)
        seen: set[str] = set()
        for d in self.trial.definitions:
            cycle = self._definition_cycle(d.name, [], seen)
            if cycle:
                self.error("definitions refer to each other in a cycle: " + " -> ".join(cycle),
                           d.span, "a definition cannot use itself, even through others")
                break

    def _definition_cycle(self, name: str, path: list[str], done: set[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name):] + [name]
        if name in done:
            return None
        definition = self.definitions.get(name)
        if definition is None:
            return None
        for used in sorted(_names(definition.expr) & set(self.definitions)):
            cycle = self._definition_cycle(used, path + [name], done)
            if cycle:
                return cycle
        done.add(name)
        return None

    # ---- expressions -------------------------------------------------------------------------

    def check_eligibility(self) -> None:
        elig = self.trial.eligibility
        if elig.assessed_at:
            self.check_anchor_name(elig.assessed_at, elig.span)
        elif elig.criteria and self.trial.schedule is None:
            self.warning("no reference time for eligibility", elig.criteria[0].span,
                         "add 'eligibility assessed at <anchor>' or a schedule")
        for criterion in elig.criteria:
            self.check_condition(criterion.expr)

    def check_condition(self, node: ex.Expr) -> None:
        """A criterion's or rule's expression: it must be a condition, not a bare value."""
        self.check_expr(node, in_where=None)
        defined_value = isinstance(node, ex.Name) and node.name in self.definitions and \
            self.values.definition_type(node.name).kind in ("number", "text")
        if is_computed(node) or isinstance(node, (ex.AgeAt, ex.Panel)) or defined_value:
            self.error("this is a value, not a condition", node.span,
                       "compare it, e.g. '... >= 60 mL/min'")

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
            if isinstance(temporal, ex.WithinLongest):
                self.check_longest(temporal, item)
        if sel.where is not None:
            self.check_expr(sel.where, in_where=item)
        return item

    def check_expr(self, node: ex.Expr, in_where: DataItem | None) -> None:  # noqa: C901
        if isinstance(node, ex.Arithmetic):
            self.check_expr(node.left, in_where)
            self.check_expr(node.right, in_where)
        elif isinstance(node, ex.Power):
            self.check_expr(node.base, in_where)
        elif isinstance(node, ex.Call):
            if node.function not in FUNCTION_NAMES:
                self.error(f"unknown function '{node.function}'", node.span,
                           suggest(node.function, FUNCTION_NAMES)
                           or "known: " + ", ".join(FUNCTION_NAMES))
            for arg in node.arguments:
                self.check_expr(arg.value, in_where)
        elif isinstance(node, ex.AgeAt):
            self.check_anchor(node.anchor)
        elif isinstance(node, ex.Lookup):
            if node.table not in self.tables:
                self.undefined("table", node.table, node.span, self.tables)
            self.check_expr(node.key, in_where)
            key = self.values.type_of(node.key, in_where)
            if key.kind in ("number", "bool"):
                self.error(f"a table is looked up by text, not by {key.describe()}",
                           node.key.span)
        elif isinstance(node, ex.Panel):
            self.error("a panel is compared or tested as a whole", node.span,
                       "e.g. 'all of latest (alt, ast) <= 2.5 x ULN'")
        elif isinstance(node, (ex.And, ex.Or)):
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
                           f"'{item.name}' is {_a(item.kind)}", node.lasting.span)
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
                self.error(f"log_reduction needs a marker; '{item.name}' is {_a(item.kind)}",
                           node.span)
        elif isinstance(node, ex.Compare):
            self.check_operand(node.left, in_where)
            self.check_expr(node.right, in_where)
            self.check_comparison(node.left, node.right, node.span, in_where)
        elif isinstance(node, ex.InRange):
            self.check_operand(node.operand, in_where)
            if node.unit is not None and self.check_unit_code(node.unit, node.span):
                self.check_range_unit(node, in_where)
        elif isinstance(node, ex.InSet):
            self.check_operand(node.operand, in_where)
            for value in node.values:
                self.check_comparison(node.operand, value, node.span, in_where)
        elif isinstance(node, ex.Test):
            self.check_operand(node.operand, in_where)
            if _computes(node.operand):
                # `bmi(...) is present`: a formula's inputs are checked wherever it is used,
                # not only in a comparison
                self.values.type_of(node.operand, in_where)
            for item in self.items_of(node.operand):
                wants_marker = node.test in (ex.TestKind.DETECTABLE, ex.TestKind.UNDETECTABLE)
                wants_lab = node.test in (ex.TestKind.NORMAL, ex.TestKind.ABNORMAL)
                if wants_marker and item.kind is not DataKind.MARKER:
                    self.error(f"'is {node.test.value}' needs a marker; '{item.name}' is "
                               f"{_a(item.kind)}", node.span)
                if wants_lab and item.kind is not DataKind.LAB:
                    self.error(f"'is {node.test.value}' needs a lab with a reference range; "
                               f"'{item.name}' is {_a(item.kind)}", node.span)
            if node.test in (ex.TestKind.NORMAL, ex.TestKind.ABNORMAL) and not isinstance(
                    node.operand, (ex.Aggregate, ex.Panel)):
                self.error(f"'is {node.test.value}' tests a lab result, e.g. 'latest alt is "
                           f"{node.test.value}'", node.span)
        elif isinstance(node, ex.Consecutive):
            item = self.data_ref(node.kind, node.span)
            self.check_expr(node.threshold, None)
            if item:
                self.check_threshold(item, node.threshold, node.span)
        elif isinstance(node, ex.LogRise):
            item = self.data_ref(node.kind, node.span)
            if item and item.kind is not DataKind.MARKER:
                self.error(f"'rises ... log' needs a marker; '{item.name}' is "
                           f"{_a(item.kind)}", node.span)

    def check_operand(self, node: ex.Expr, in_where: DataItem | None) -> None:
        if isinstance(node, ex.Panel):
            self.check_panel(node)
        else:
            self.check_expr(node, in_where)

    def check_panel(self, panel: ex.Panel) -> None:
        for kind in panel.kinds:
            item = self.data_ref(kind, panel.span)
            if item is not None and item.kind not in NUMERIC_KINDS:
                article = "an" if item.kind.value[0] in "aeiou" else "a"
                self.error(f"a panel holds results with values; '{kind}' is {article} "
                           f"{item.kind.value}", panel.span)
        if panel.temporal is not None:
            self.check_anchor(panel.temporal.anchor)
        if len(panel.kinds) < 2:
            self.warning("a panel of one item", panel.span, "write it without 'all of'")

    def check_range_unit(self, node: ex.InRange, in_where: DataItem | None) -> None:
        value = self.values.type_of(node.operand, in_where)
        if value.kind != "number":
            return
        if value.unit is None:
            self.error(f"the range is in {node.unit} but {_what(node.operand)} has no unit",
                       node.span, "leave the unit out")
        elif not units_fit(value, ValueType("number", node.unit)):
            self.error(f"cannot compare {_what(node.operand)} ({value.unit}) with a range in "
                       f"{node.unit}: the units measure different things", node.span)

    def check_attribute(self, item: DataItem, name: str, span: Span | None) -> None:
        """An attribute named by an aggregate (`volume of blood_donation`) exists on the item."""
        allowed = EVENT_ATTRIBUTES + item.attributes
        if name not in allowed:
            self.error(f"'{item.name}' has no attribute '{name}'", span,
                       suggest(name, allowed) or f"declare it: 'attributes {name}' on "
                       f"'{item.name}'")

    def check_longest(self, t: ex.WithinLongest, item: DataItem | None) -> None:
        """`within 90 days or 5 x half_life whichever is longer ...`: whole days, and lengths
        the records can give (an attribute with a time unit)."""
        for length in t.lengths:
            if isinstance(length, ex.TableDuration):
                continue  # made by protocol.resolve, never written
            if isinstance(length, Duration):
                if length.sub_day:
                    self.error(f"'whichever is longer' counts whole days: {length} must be in "
                               "days, weeks, months or years", length.span or t.span)
                continue
            if length.factor <= 0:
                self.error(f"'{length.factor:g} x {length.attribute}' is not a length",
                           length.span or t.span, "the multiple must be above 0")
            if length.table is not None:
                self.check_length_table(length, item, t.span)
            elif item is not None:
                self.check_attribute(item, length.attribute, length.span or t.span)
                if length.attribute in item.attributes:
                    self.check_time_attribute(item, length.attribute, length.span or t.span)

    def check_time_attribute(self, item: DataItem, name: str, span: Span | None) -> None:
        unit = item.attribute_unit(name)
        if unit is None:
            self.error(f"'{name}' of '{item.name}' is used as a duration but has no unit", span,
                       f"declare it: 'attributes {name} in h' (or d, wk) on '{item.name}'")
        elif not compatible(unit, "d", None):
            self.error(f"'{name}' of '{item.name}' is in {unit}, not a time: it cannot give a "
                       "window's length", span)

    def check_length_table(self, length: ex.DataDuration, item: DataItem | None,
                           span: Span | None) -> None:
        """`5 x half_lives[drug]`: a declared table of durations, keyed by an attribute."""
        if item is not None:
            self.check_attribute(item, length.attribute, length.span or span)
        assert length.table is not None
        table = next((t for t in self.trial.tables if t.name == length.table), None)
        if table is None:
            self.undefined("table", length.table, length.span or span,
                           {t.name for t in self.trial.tables})
            return
        for row in table.rows:
            value = row.value
            unit = value.quantity.unit if isinstance(value, ex.QuantityLiteral) else None
            if unit is None or not compatible(unit, "d", None):
                self.error(f"table '{table.name}' gives a window's length, but its value for "
                           f"\"{row.key}\" is not a duration", row.span or length.span or span,
                           "give each value with a time unit: '36 hours', '5 days'")
                return

    def check_statistic(self, node: ex.Statistic) -> None:
        item = self.check_selection(node.selection)
        if item is None:
            return
        if node.attribute is not None:
            self.check_attribute(item, node.attribute, node.span)
        elif item.kind not in _NUMERIC_KINDS:
            self.error(f"{node.fn.value} needs numbers; '{item.name}' is {_a(item.kind)}",
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
        if in_where is None and node.name in self.definitions:
            return
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
                       hint or suggest(node.name, self.definitions)
                       or "a bare name is a patient attribute (age, sex or arm) or a definition")

    def item_of(self, node: ex.Expr) -> DataItem | None:
        """The data item an aggregate (`latest alt ...`) reads, for checking what it is compared with."""
        if isinstance(node, ex.Aggregate):
            return self.data.get(node.selection.kind)
        if isinstance(node, ex.Statistic) and node.attribute is None:
            item = self.data.get(node.selection.kind)
            return item if item is not None and item.kind in _NUMERIC_KINDS else None
        return None

    def items_of(self, node: ex.Expr) -> list[DataItem]:
        """The data items an aggregate or a panel reads."""
        if isinstance(node, ex.Panel):
            return [self.data[k] for k in node.kinds if k in self.data]
        item = self.item_of(node)
        return [item] if item is not None else []

    def check_comparison(self, left: ex.Expr, right: ex.Expr, span: Span | None,
                         in_where: DataItem | None = None) -> None:
        if isinstance(left, ex.Panel):
            for member in self.items_of(left):
                self.check_threshold(member, right, span)
            return
        if _computes(left) or _computes(right) or self._is_definition(left) \
                or self._is_definition(right):
            self.check_value_comparison(left, right, span, in_where)
            return
        item = self.item_of(left)
        if item is not None:
            self.check_threshold(item, right, span)
            return
        if in_where is not None and isinstance(left, ex.Name):
            self.check_attribute_unit(in_where, left, right, span)
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
            # An undeclared item on the left has its own error already ("undefined data item");
            # saying that it is not a lab would only repeat it, less precisely.
            selection = getattr(left, "selection", None)
            undeclared = isinstance(selection, ex.Selection) and selection.kind not in self.data
            if not isinstance(left, ex.Consecutive) and not undeclared:
                self.error("'x ULN' and 'x LLN' compare a lab value, e.g. 'latest alt <= 3 x ULN'",
                           span)

    def _is_definition(self, node: ex.Expr) -> bool:
        return isinstance(node, ex.Name) and node.name in self.definitions

    def check_value_comparison(self, left: ex.Expr, right: ex.Expr, span: Span | None,
                               in_where: DataItem | None) -> None:
        """A comparison involving a computed value: both sides of one kind and dimension."""
        if isinstance(right, ex.RelativeLimit):
            self.error("'x ULN' and 'x LLN' compare a lab result, not a computed value", span,
                       "compare the lab itself, e.g. 'latest alt <= 3 x ULN'")
            return
        a = self.values.type_of(left, in_where)
        b = self.values.type_of(right, in_where)
        if "any" in (a.kind, b.kind):
            return
        if a.kind != b.kind:
            self.error(f"cannot compare {a.describe()} with {b.describe()}", span)
        elif a.kind == "number" and not units_fit(a, b):
            if b.unit is None and isinstance(right, ex.QuantityLiteral):
                self.error(f"{_what(left)} is {a.describe()}; the threshold needs a unit",
                           right.span, f"e.g. '{right.quantity.value:g} {a.unit}'"
                           if a.unit and "(" not in a.unit else None)
            else:
                self.error(f"cannot compare {a.describe()} with {b.describe()}: the units "
                           "measure different things", span)

    def check_attribute_unit(self, item: DataItem, left: ex.Name, right: ex.Expr,
                             span: Span | None) -> None:
        """`where volume >= 400 mL`: an attribute compared with a quantity needs a unit."""
        if not (isinstance(right, ex.QuantityLiteral) and right.quantity.unit is not None):
            return
        unit = right.quantity.unit
        declared = item.attribute_unit(left.name)
        if declared is None and left.name == "value":
            declared = item.unit
        if declared is None:
            self.error(f"attribute '{left.name}' of '{item.name}' has no unit, but is compared "
                       f"with {right.quantity}", span,
                       f"declare its unit: 'attributes {left.name} in {unit}'")
        elif self.check_unit_code(unit, right.span) and not units_fit(
                ValueType("number", declared), ValueType("number", unit)):
            self.error(f"cannot compare '{left.name}' ({declared}) with {unit}: the units "
                       "measure different things", right.span)

    def check_threshold(self, item: DataItem, right: ex.Expr, span: Span | None) -> None:
        if isinstance(right, ex.RelativeLimit):
            if item.kind is not DataKind.LAB:
                self.error(f"'{right.multiple:g} x {right.limit.value}' needs a lab with a "
                           f"reference range; '{item.name}' is {_a(item.kind)}", right.span)
        elif isinstance(right, ex.StringLiteral):
            if item.kind is not DataKind.CATEGORY:
                self.error(f"'{item.name}' is {_a(item.kind)}, not a category; it is not "
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
            if isinstance(top, Timepoints):
                self.check_timepoints(top)
                continue
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
        flat: list[Visit | Activity | Cycles | Timepoints] = []
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
            elif isinstance(item, Timepoints):
                if isinstance(item.reference, DoseOnDays):
                    points += [(d, item.reference.span or item.span) for d in item.reference.days]
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

    def check_timepoints(self, block: Timepoints) -> None:
        for arm in block.arms:
            if arm not in self.arms:
                self.undefined("arm", arm, block.span, self.arms)
        ref = block.reference
        if isinstance(ref, DoseOnDays):
            if ref.intervention not in self.interventions:
                self.undefined("intervention", ref.intervention, ref.span or block.span,
                               self.interventions)
        else:
            self.check_anchor(ref, in_schedule=True)
        if not block.items:
            self.error(f"timepoints '{block.name}' plan nothing", block.span,
                       "add what is done at each time, e.g. 'assess pk_conc at 1, 2, 4 hours'")
        seen: dict[tuple[str, str], Span | None] = {}
        for act in block.items:
            self.check_timed_activity(block, act, seen)

    def check_timed_activity(self, block: Timepoints, act: TimedActivity,
                             seen: dict[tuple[str, str], Span | None]) -> None:
        span = act.span or block.span
        if act.kind is ActivityKind.DOSE:
            self.error("timepoints time assessments and procedures, not doses", span,
                       "plan the dose with a 'dose' line of the schedule; the timepoints are "
                       "timed from it")
        for name in act.items if act.kind is not ActivityKind.DOSE else ():
            if name not in self.data:
                self.undefined("data item", name, span, self.data)
        for arm in act.arms:
            if arm not in self.arms:
                self.undefined("arm", arm, span, self.arms)
        if act.condition and act.condition not in self.data:
            self.check_anchor_name(act.condition, span)
        if act.predose is not None:
            if not isinstance(block.reference, (DoseOnDays, ex.DoseAnchor, ex.PeriodDoseAnchor)):
                self.error("'predose' is a time before a dose, but these timepoints are timed "
                           "from an event", span,
                           "time the block 'after dose of DRUG on day N' (or after a first or "
                           "last dose), or drop 'predose'")
            self.sub_day(act.predose, span, "a pre-dose window")
            if act.predose.amount <= 0:
                self.error("a pre-dose window must be longer than 0", act.predose.span or span)
            if act.windows:
                self.error("a pre-dose timepoint's window is its 'within'",
                           act.windows[0].span or span, "drop the 'window'")
            codes = ["PREDOSE"]
        else:
            codes = self.check_offsets(act, span)
        for code in codes:
            for name in act.items:
                key = (name, code)
                if key in seen:
                    where = seen[key]
                    self.error(f"'{name}' is planned twice at the same time of '{block.name}'",
                               span, f"the first is at line {where.line}" if where else None)
                seen.setdefault(key, span)

    def check_offsets(self, act: TimedActivity, span: Span | None) -> list[str]:
        """The offsets and window bands of an `at ...` line; returns the offsets' keys."""
        minutes: list[int | float] = []
        for d in act.offsets:
            if self.sub_day(d, d.span or span, "a timepoint"):
                minutes.append(d.minutes())
        ordered = len(minutes) == len(act.offsets) and all(
            a < b for a, b in zip(minutes, minutes[1:], strict=False))
        if not ordered and len(minutes) == len(act.offsets):
            self.error("the times must be listed once each, in increasing order", span)
        bounds: list[int | float] = []
        for k, band in enumerate(act.windows):
            self.sub_day_window(band.window, band.span or span)
            if band.up_to is None:
                if k + 1 < len(act.windows):
                    self.error("only the last window may have no 'up to'", band.span or span,
                               "give each earlier window the time it applies up to")
                continue
            if self.sub_day(band.up_to, band.up_to.span or span, "a window's 'up to'"):
                bounds.append(band.up_to.minutes())
        if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
            self.error("the windows' 'up to' times must increase", span)
        if not act.windows:
            self.warning("these timepoints have no window: each must be done at the exact "
                         "minute", span, "add e.g. 'window +-5 minutes'")
        elif act.windows[-1].up_to is not None:
            for d in act.offsets:
                if d.sub_day and act.window_for(d) is None:
                    self.error(f"no window covers the timepoint at {d}: the last window is "
                               f"up to {act.windows[-1].up_to}", d.span or span,
                               "end with a window for the later times, e.g. '..., +-15 "
                               "minutes after'")
        times = [(d.minutes(), act.window_for(d)) for d in act.offsets] if ordered else []
        for (m1, w1), (m2, w2) in zip(times, times[1:], strict=False):
            hi = m1 + (w1.minutes()[1] if w1 is not None else 0)
            lo = m2 - (w2.minutes()[0] if w2 is not None else 0)
            if lo <= hi:
                self.warning(f"the windows of the timepoints at {_minutes_text(m1)} and "
                             f"{_minutes_text(m2)} overlap", span,
                             "a sample in the overlap cannot be assigned to one of them for sure")
        return [str(m) for m in minutes]

    def sub_day(self, d: Duration, span: Span | None, what: str) -> bool:
        if d.sub_day:
            return True
        self.error(f"{what} is in hours or minutes, not {d.unit.value}s", span,
                   f"write e.g. '{_num_text(d.minutes() / 60)} hours'")
        return False

    def sub_day_window(self, w: Window, span: Span | None) -> None:
        if not w.unit.sub_day:
            self.error(f"a timepoint's window is in minutes or hours, not {w.unit.value}s", span,
                       "write e.g. '+-15 minutes'")

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
        if cycle is not None and not set(cycle[0]) & self.duplicate_anchors:
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
        self.check_condition(rule.condition)
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


def _a(kind: DataKind) -> str:
    """The kind with its article: 'a lab', 'an event'."""
    return f"an {kind.value}" if kind.value[0] in "aeiou" else f"a {kind.value}"


def _num_text(x: int | float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _minutes_text(m: int | float) -> str:
    return f"{_num_text(m / 60)} hours" if m >= 60 else f"{_num_text(m)} minutes"


def _computes(node: ex.Expr) -> bool:
    return is_computed(node) or isinstance(node, ex.AgeAt)


def _what(node: ex.Expr) -> str:
    if isinstance(node, ex.Aggregate):
        return f"'{node.selection.kind}'"
    if isinstance(node, ex.AgeAt):
        return "the age"
    if isinstance(node, ex.Name):
        return f"'{node.name}'"
    if isinstance(node, ex.Call):
        return f"{node.function}()"
    return "the value"


def _names(node: object) -> set[str]:
    """Every bare name an expression uses (outside `where`), for the definitions' graph."""
    out: set[str] = set()

    def walk(n: object) -> None:
        if isinstance(n, ex.Name):
            out.add(n.name)
        elif isinstance(n, ex.Selection):
            return  # names inside `where` are attributes of the event
        elif isinstance(n, (tuple, list)):
            for x in n:
                walk(x)
        elif hasattr(type(n), "__attrs_attrs__"):
            for field in type(n).__attrs_attrs__:  # type: ignore[attr-defined]
                if field.name != "span":
                    walk(getattr(n, field.name))

    walk(node)
    return out


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
