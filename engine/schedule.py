"""The schedule of activities, compiled once per trial and expanded per patient.

Planning (per patient, with d0 = the date of the schedule's anchor, day 0):

* `visit V at day N [window -a to +b]`: nominal d0 + N, window [nominal - a, nominal + b]
  (no window: the nominal day only). `at day A to day B`: nominal B, window [A, B].
* `visit V at D after X` (or `before`): X's date + D, where X is an anchor event, the
  first/last dose of an intervention, or another visit: a visit that happened counts from its
  actual date, one that did not from its planned date.
* `visit V on EVENT`: planned on the date of the event (the first one), window from the visit.
  `visit V if EVENT`: planned only if the event happened by the as-of date (an anchor event, or
  a record of a data item). `visit V as needed`: never planned and never missed; each one that
  happened is listed as `on_time`.
* A visit's activities (`{ alt, ast }`) are planned assessments of those data items with the
  visit's timing and window.
* `assess/dose ITEMS at month 3, 6`: one occurrence per time. `every N unit from day D`:
  occurrences at D, D + N, D + 2N, ...: `for T` keeps those strictly before D + T; `times K`
  the first K; `until X` those on or before X's date (X not yet happened: through the as-of
  date; X not applicable to the patient: the first occurrence only, with a note).
* Months, weeks and years are converted through the trial's calendar.
* The same data item planned twice on the same day (by a visit and by a repeating activity) is
  one planned occurrence (its windows merged).
* Items for other arms are not planned; each appears once as a `not_applicable` row with
  occurrence 0. A dose plan follows the arm's regimen: each occurrence carries the amount of the
  titration step in force on its day (steps counted from the first planned dose).
* An intervention of the arm with a regimen but no `dose` activity is planned from its regimen,
  from day 0, with no window.
* Stopping events change the plan: a planned occurrence on or after the stop date is
  `not_applicable` unless it was done on or before that date; for a discontinuation this
  applies to the discontinued interventions' doses, for a withdrawal to everything.
  Visits planned because of an event (`on X`, `if X`) are never cancelled by a stop.
* "last dose of X" is the last actual dose when X's dosing is over (discontinued, or its last
  planned window has closed by the as-of date) and otherwise the planned last dose.

Anchors are dated in the topological order of the anchor graph (protocol.anchors); a cycle
(rejected by the checker) leaves the anchors on it undated instead of looping.
"""

from __future__ import annotations

import datetime
import math
import operator
from typing import Final

import networkx as nx

from engine.compile_expr import compile_condition
from engine.compile_select import SelectFn, compile_selection
from engine.conformance import Actual, Planned, match
from engine.cycles import CycleSpec, plan_cycles, procedure_items
from engine.expressions import Scope, normalize_sex, start_of
from engine.patient import DoseEvent, Observation, Occurrence, VisitEvent, fast_constructor
from engine.periods import PeriodSpec, plan_periods
from engine.results import ScheduleRow, Status, UnplannedEvent
from engine.timeline import PatientIndex
from engine.timepoints import TimedRun, TimepointsSpec
from protocol.anchors import anchor_node, build_graph
from protocol.design import Regimen
from protocol.expr import PeriodDoseAnchor
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AsNeeded,
    AtDay,
    AtTimes,
    Cycles,
    DayRange,
    OnEach,
    OnEvent,
    Periods,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Timepoints,
    Visit,
)
from protocol.timing import Calendar, Window
from protocol.trial import Trial
from protocol.vocab import ActivityKind, DataKind

# A repeat is planned occurrence by occurrence. Every occurrence whose window opens by the data
# cut is planned (it may be on time, late or missed), up to MAX_DUE_OCCURRENCES (a daily dose
# for 270 years); later ones (not yet due) only while fewer than MAX_OCCURRENCES are planned.
# Whatever is left out is said in a note on the patient, never dropped without a word.
MAX_OCCURRENCES = 5000
MAX_DUE_OCCURRENCES = 100_000


def _window(w: Window | None, cal: Calendar) -> tuple[int, int]:
    if w is None:
        return 0, 0
    b, a = w.days(cal)
    return round(b), round(a)


def _label_day(days: int, cal: Calendar) -> str:
    """`day 28`: an occurrence named by its protocol day (as the protocol numbers days)."""
    return f"day {cal.protocol_day(days)}"


class VisitSpec:
    __slots__ = ("visit", "name", "label", "arms", "condition", "activities", "epoch", "before",
                 "after", "kind", "offset", "start", "anchor", "event", "order", "sex",
                 "item_conditions", "select")

    def __init__(self, v: Visit, cal: Calendar, order: int):
        self.visit = v
        self.name = v.name
        self.label = v.label
        self.arms = frozenset(v.arms)
        self.sex = v.sex.value if v.sex is not None else None
        self.condition = v.condition
        self.activities = v.activities
        # item -> (arms, sex, condition): items of the visit done only for some patients
        self.item_conditions: dict[str, tuple[frozenset[str], str | None, str | None]] = {
            c.item: (frozenset(c.arms), c.sex.value if c.sex is not None else None, c.condition)
            for c in v.item_conditions}
        self.epoch = v.epoch
        self.before, self.after = _window(v.window, cal)
        self.order = order
        self.offset = 0
        self.start = 0
        self.anchor: str | None = None
        self.event: str | None = None
        self.select: SelectFn | None = None
        t = v.timing
        if isinstance(t, AtDay):
            self.kind, self.offset = "day", round(t.point.days(cal))
        elif isinstance(t, DayRange):
            self.kind = "range"
            self.start, self.offset = round(t.start.days(cal)), round(t.end.days(cal))
        elif isinstance(t, AfterAnchor):
            self.kind, self.offset = "after", round(t.offset.days(cal))
            self.anchor = anchor_node(t.anchor)
        elif isinstance(t, OnEvent):
            self.kind, self.event = "on", t.event
        elif isinstance(t, OnEach):
            self.kind, self.event = "each", t.selection.kind
            self.select = compile_selection(t.selection, compile_condition)
        else:
            assert isinstance(t, AsNeeded)
            self.kind = "as_needed"


class ActivitySpec:
    """One item (data item or intervention) of a repeating/listed activity."""

    __slots__ = ("atype", "item", "arms", "condition", "epoch", "before", "after", "offsets",
                 "start", "every", "until", "order", "source", "sex", "stop", "times")

    def __init__(self, act: Activity, item: str, atype: str, cal: Calendar, order: int):
        self.atype = atype
        self.item = item
        self.arms = frozenset(act.arms)
        self.sex = act.sex.value if act.sex is not None else None
        self.condition = act.condition
        self.epoch = act.epoch
        self.before, self.after = _window(act.window, cal)
        self.order = order
        self.source: Activity | None = act
        self.until: str | None = None
        self.start = 0
        self.every = 0
        self.offsets: list[tuple[int, str]] | None = None
        self.stop: int | float = math.inf  # a repeat's end (exclusive), `for` a duration
        self.times = -1  # a repeat's number of occurrences, or -1
        t = act.timing
        if isinstance(t, AtTimes):
            self.offsets = [(round(p.days(cal)), str(p)) for p in t.points]
        else:
            assert isinstance(t, Repeat)
            self.start = round(t.start.days(cal))
            self.every = max(1, round(t.every.days(cal)))
            end = t.end
            # A repeat of at most MAX_OCCURRENCES is the same for every patient: planned here,
            # once. A longer one is planned per patient, up to the data cut (`repeat`).
            if isinstance(end, RepeatFor):
                self.stop = self.start + end.duration.days(cal)
                count = max(0, math.ceil((self.stop - self.start) / self.every))
            elif isinstance(end, RepeatTimes):
                self.times = end.times
                count = end.times
            else:
                assert isinstance(end, RepeatUntil)
                self.until = anchor_node(end.anchor)
                count = -1
            if 0 <= count <= MAX_OCCURRENCES:
                offsets: list[tuple[int, str]] = []
                d = self.start
                while d < self.stop and (self.times < 0 or len(offsets) < self.times):
                    offsets.append((d, _label_day(d, cal)))
                    d += self.every
                self.offsets = offsets


class SchedulePlan:
    """The per-trial part of planning: specs, anchor order, regimens per arm."""

    def __init__(self, trial: Trial):
        self.trial = trial
        cal = trial.calendar
        self.calendar = cal
        sched = trial.schedule
        self.root: str | None = sched.anchor if sched else None
        self.visits: dict[str, VisitSpec] = {}
        self.activities: list[ActivitySpec] = []
        self.declared_anchors: set[str] = set()
        self.order: list[str] = []
        self.cycle_nodes: set[str] = set()
        items = {d.name: d for d in trial.data}
        self.data_items = set(items)
        self.items = items
        self.interventions = tuple(i.name for i in trial.interventions)
        self.group_ranks: dict[tuple[str, str], int | float] = {}
        self.cycles: list[CycleSpec] = []
        self.periods: list[PeriodSpec] = []
        self.period_visits: set[str] = set()
        # interventions dosed by a cycles or periods block (planned there, not from a regimen)
        self.cycle_doses: set[str] = set()
        self.timepoints: list[TimepointsSpec] = []
        if sched is None:
            self.assess_kinds: set[str] = set()
            self.arm_interventions: dict[str | None, tuple[str, ...]] = {}
            self.regimens: dict[tuple[str | None, str], Regimen | None] = {}
            return
        self.declared_anchors = {a.name for a in sched.anchors}
        procedures = procedure_items({d.name: d.kind for d in trial.data})
        for n, it in enumerate(sched.items):
            if isinstance(it, Visit):
                self.visits[it.name] = VisitSpec(it, cal, n)
            elif isinstance(it, Cycles):
                self.cycles.append(CycleSpec(it, cal, n, procedures))
            elif isinstance(it, Timepoints):
                self.timepoints.append(TimepointsSpec(it, cal, n, procedures))
            elif isinstance(it, Periods):
                self.periods.append(PeriodSpec(it, trial, n))
            else:
                for item in it.items:
                    if it.kind is ActivityKind.DOSE:
                        atype = "dose"
                    elif it.kind is ActivityKind.PROCEDURE or (
                            item in items and items[item].kind is DataKind.PROCEDURE):
                        atype = "procedure"
                    else:
                        atype = "assess"
                    self.activities.append(ActivitySpec(it, item, atype, cal, n))
        graph = build_graph(sched, trial.period_count)
        try:
            self.order = list(nx.topological_sort(graph))
        except nx.NetworkXUnfeasible:
            cyclic = set()
            for comp in nx.strongly_connected_components(graph):
                if len(comp) > 1:
                    cyclic |= comp
            self.cycle_nodes = cyclic
            acyclic = graph.subgraph([n for n in graph if n not in cyclic])
            self.order = list(nx.topological_sort(acyclic))
        # kinds the schedule plans (assessments/procedures) and doses per arm
        self.assess_kinds = {a.item for a in self.activities if a.atype != "dose"}
        for c in self.cycles:
            self.assess_kinds.update(it.item for it in c.items if it.atype != "dose")
            self.cycle_doses |= c.dose_items
        for tspec in self.timepoints:
            # timed from a study period's dose: the period's epoch (`treatment_2`)
            ref = tspec.anchor_ref
            if isinstance(ref, PeriodDoseAnchor) and tspec.epoch is None and self.periods:
                tspec.epoch = self.periods[0].epoch(ref.period)
        for ps in self.periods:
            self.assess_kinds.update(a.item for a in ps.activities if a.atype != "dose")
            self.assess_kinds.update(k for v in ps.visits for k in v.activities)
            self.cycle_doses |= ps.dose_items
            self.period_visits |= ps.visit_names
        for v in self.visits.values():
            self.assess_kinds.update(v.activities)
        for tpoints in self.timepoints:
            self.assess_kinds.update(it.item for it in tpoints.items)
        self.arm_interventions = {arm.name: arm.given() for arm in trial.arms}
        self.regimens = {}
        for arm in trial.arms:
            for ai in arm.interventions:
                iv = trial.intervention(ai.intervention)
                self.regimens[(arm.name, ai.intervention)] = ai.regimen or (iv.regimen if iv else None)
        for iv in trial.interventions:
            self.regimens[(None, iv.name)] = iv.regimen
        self.dose_specs: dict[str, list[ActivitySpec]] = {}
        for a in self.activities:
            if a.atype == "dose":
                self.dose_specs.setdefault(a.item, []).append(a)
        # Every patient starts with the same activity groups in the same order (their rank is
        # the position of the first schedule item that plans them).
        for v in self.visits.values():
            self._rank(("visit", v.name), v.order)
            for kind in v.activities:
                self._rank(("assess", kind), v.order + 0.5)
        for spec in self.activities:
            self._rank((spec.atype, spec.item), spec.order)
        for block in self.cycles:
            for part in block.items:
                self._rank((part.atype, part.item), block.order)
        for tblock in self.timepoints:
            for titem in tblock.items:
                self._rank((titem.atype, titem.item), tblock.order)
        for ps in self.periods:
            for pv in ps.visits:
                self._rank(("visit", pv.name), ps.order)
                for kind in pv.activities:
                    self._rank(("assess", kind), ps.order + 0.5)
            for pa in ps.activities:
                self._rank((pa.atype, pa.item), ps.order)

    def _rank(self, key: tuple[str, str], rank: int | float) -> None:
        if rank < self.group_ranks.get(key, float("inf")):
            self.group_ranks[key] = rank


class Stops:
    """The effect of stopping events on the plan: (first ordinal day no longer planned, what
    happened in words) for the doses of each intervention and for everything."""

    def __init__(self) -> None:
        self.withdraw: int | None = None
        self.withdraw_what: str = ""
        self.treatment: dict[str, tuple[int, str]] = {}  # intervention -> (day, what)
        self.anchors: dict[str, int] = {}  # derived anchor dates: discontinuation, withdrawal

    def end_all(self, day: int, what: str) -> None:
        """Nothing is planned from `day` on (withdrawal; the day after a completion)."""
        if self.withdraw is None or day < self.withdraw:
            self.withdraw, self.withdraw_what = day, what

    def for_dose(self, intervention: str) -> tuple[int, str] | None:
        t = self.treatment.get(intervention)
        w = (self.withdraw, self.withdraw_what) if self.withdraw is not None else None
        if t is None:
            return w
        if w is None or t[0] <= w[0]:
            return t
        return w

    def for_other(self) -> tuple[int, str] | None:
        return (self.withdraw, self.withdraw_what) if self.withdraw is not None else None


class Outcome:
    """What planning and matching produced for one patient."""

    def __init__(self) -> None:
        self.rows: list[ScheduleRow] = []
        self.unplanned: list[UnplannedEvent] = []
        self.used: dict[int, str] = {}  # input position -> detail of the row it matched
        self.unplanned_pos: set[int] = set()
        self.history: set[int] = set()  # assessments dated before the schedule's first window
        self.notes: list[str] = []
        self.dose_planned: dict[str, list[Planned]] = {}
        self.dose_actuals: dict[str, list[Actual]] = {}
        self.dose_spacing: dict[str, tuple[int, int, int]] = {}  # every, before, after
        self.anchor_positions: set[int] = set()


class _DateOf(dict[int, datetime.date]):
    """date.fromordinal, memoized: a cohort's rows reuse a few thousand dates (bounded)."""

    def __missing__(self, day: int) -> datetime.date:
        if len(self) >= 100_000:
            self.clear()
        d = self[day] = datetime.date.fromordinal(day)
        return d


_ORD: Final = _DateOf().__getitem__
_NOT_DUE: Final = Status.NOT_DUE
_BY_NOMINAL: Final = operator.attrgetter("nominal", "lo")
_BY_DAY: Final = operator.attrgetter("day", "pos")
_ON_TIME: Final = Status.ON_TIME
_ROW: Final = fast_constructor(ScheduleRow)  # every field, positionally
_EARLY: Final = Status.EARLY
_LATE: Final = Status.LATE
_MISSED: Final = Status.MISSED
_NOT_APPLICABLE: Final = Status.NOT_APPLICABLE
_NOT_COLLECTED: Final = Status.NOT_COLLECTED
_MISSED_WHY: Final = "no matching event and the window has closed"
_NOT_DUE_WHY: Final = "the window has not closed by the as-of date"


class _Run:
    """Planning and matching for one patient."""

    def __init__(self, plan: SchedulePlan, idx: PatientIndex, arm: str | None,
                 as_of: datetime.date, root: datetime.date, stops: Stops):
        self.plan = plan
        self.idx = idx
        self.arm = arm
        self.as_of = as_of.toordinal()
        self.as_of_date = as_of
        self.root = root.toordinal()
        self.stops = stops
        self.out = Outcome()
        self.node: dict[str, int | None] = {}
        # the activity groups every patient starts with, in schedule order
        self.group_rank: dict[tuple[str, str], int | float] = dict(plan.group_ranks)
        self.groups: dict[tuple[str, str], list[Planned]] = {k: [] for k in self.group_rank}
        self.visit_actual_lists: dict[str, list[Actual]] = {}
        self.by_label: dict[str, list[Actual]] = {}
        self.start: int | None = None  # the first day of the patient's schedule
        self.na_rows: list[tuple[int, ScheduleRow]] = []
        self.unplanned_visit_reason: dict[str, str] = {}
        self.dose_done: set[str] = set()
        self.arm_ivs = plan.arm_interventions.get(arm, ()) if arm is not None else ()
        self.actual_lists: dict[tuple[str, str], list[Actual]] = {}  # matched while planning
        self.cycle_cuts: dict[tuple[str, str], tuple[int, str]] = {}  # a cycles block's end
        # planned occurrences kept out of matching (a study period that never started)
        self.apart: dict[tuple[str, str], list[Planned]] = {}
        # `first/last dose of period k` -> the record dating it (None: none), why it is pending
        # (not yet due), why it will not happen and its day's name (`P2D1`) (engine.periods;
        # for sub-day timepoints)
        self.period_doses: dict[str, tuple[Actual | None, str | None, str | None, str]] = {}
        self.scope: Scope | None = None  # for the conditions of event-triggered visits
        # the rows of each activity group once settled (timepoints read their doses' rows)
        self.rows_by_group: dict[tuple[str, str], list[ScheduleRow]] = {}
        self.timed: TimedRun | None = None  # sub-day timepoints, when the protocol has any

    # ---- helpers ------------------------------------------------------------------------------

    def pday(self, day: int) -> int:
        """The protocol's number for an ordinal day (day 0 or day 1 is the anchor's day)."""
        return self.plan.calendar.protocol_day(day - self.root)

    def applies(self, arms: frozenset[str]) -> bool:
        return not arms or (self.arm is not None and self.arm in arms)

    def group(self, atype: str, activity: str, rank: int | float = 1e9) -> list[Planned]:
        """The planned occurrences of one activity; `rank` orders the activities in the output
        (the position of the first schedule item that plans it)."""
        key = (atype, activity)
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = []
            self.group_rank[key] = rank
        elif rank < self.group_rank[key]:
            self.group_rank[key] = rank
        return g

    def other_sex(self, sex: str | None) -> bool:
        """Whether an item restricted to `sex` is not for this patient. A patient whose sex is
        not known gets the item planned: missing it is then visible, not silently excused."""
        if sex is None:
            return False
        own = normalize_sex(self.idx.patient.sex)
        return own is not None and own != sex

    def na_row(self, order: int, atype: str, activity: str, arms: frozenset[str],
               epoch: str | None, sex: str | None = None) -> None:
        who = f"arm {self.arm}" if self.arm else "a patient without an arm"
        reason = f"not planned for {who} (only arms {', '.join(sorted(arms))})"
        if sex is not None:
            reason = f"not planned for this patient (only {sex} patients)"
        self.group(atype, activity, order)
        self.na_rows.append((order, ScheduleRow(activity, atype, 0, "all occurrences",
                                                Status.NOT_APPLICABLE, reason=reason,
                                                epoch=epoch)))

    def event_date(self, name: str) -> int | None:
        """An anchor event by name (as of the as-of date): AnchorEvent, a visit that happened,
        discontinuation/withdrawal derived from stopping events, or a data item's first record."""
        hit = self.idx.anchor_date(name, self.as_of_date)
        best = hit[0].toordinal() if hit else None
        if hit:
            self.out.anchor_positions.add(hit[1])
        derived = self.stops.anchors.get(name)
        if derived is not None and (best is None or derived < best):
            best = derived
        return best

    def node_date(self, node: str) -> int | None:
        if node in self.node:
            return self.node[node]
        if node in self.plan.cycle_nodes:
            return None
        return self.event_date(node)

    # ---- planning -----------------------------------------------------------------------------

    def run(self) -> Outcome:
        plan = self.plan
        self.node[plan.root or ""] = self.root
        self.map_labels()
        for name in self.idx.visits:
            if name is not None and name not in plan.visits and name not in plan.period_visits:
                self.group("visit", name)
                self.unplanned_visit_reason[name] = f"'{name}' is not a visit of the protocol"
        for iv in self.idx.doses:
            self.group("dose", iv)
        for cycles in plan.cycles:
            plan_cycles(self, cycles)
        for periods in plan.periods:
            plan_periods(self, periods)
        for node in plan.order:
            if node == plan.root or node in self.node:
                continue  # the root, and the periods' doses (dated while planning them)
            if node in plan.visits:
                self.node[node] = self.plan_visit(plan.visits[node])
            elif node.startswith("first dose of "):
                self.node[node] = self.first_dose(node[len("first dose of "):])
            elif node.startswith("last dose of "):
                self.node[node] = self.last_dose(node[len("last dose of "):])
            elif node.startswith(("first ", "latest ")):
                which, kind = node.split(" ", 1)
                recs = self.idx.records(kind, self.as_of_date)
                if recs:
                    ev, pos = recs[0] if which == "first" else recs[-1]
                    self.node[node] = (ev.start if isinstance(ev, Occurrence) else ev.date).toordinal()  # type: ignore[union-attr]
                else:
                    self.node[node] = None
            else:
                self.node[node] = self.event_date(node)
        for v in plan.visits.values():
            if v.name not in self.node:
                self.node[v.name] = self.plan_visit(v)
        for iv in sorted(set(plan.dose_specs) | set(self.arm_ivs) | plan.cycle_doses):
            self.plan_doses(iv)
        for spec in plan.activities:
            if spec.atype != "dose":
                self.plan_activity(spec)
        if plan.timepoints:
            self.timed = TimedRun(self, plan.timepoints)
        self.match_groups()
        return self.out

    def item_excluded(self, arms: frozenset[str], sex: str | None,
                      condition: str | None) -> str | None:
        """Why an item restricted within a visit is not for this patient (None: it is). An
        unknown restriction (sex not recorded, the condition's data not collected) keeps the
        item planned, so that a test not done stays visible."""
        if not self.applies(arms):
            who = f"arm {self.arm}" if self.arm else "a patient without an arm"
            return f"not planned for {who} (only arms {', '.join(sorted(arms))})"
        if self.other_sex(sex):
            return f"not planned for this patient (only {sex} patients)"
        if condition is not None:
            if condition in self.plan.data_items and not self.idx.collected(condition):
                return None
            if not self.condition_holds(condition)[0]:
                return f"not planned for this patient (only if {condition.replace('_', ' ')})"
        return None

    def cached_actuals(self, atype: str, activity: str) -> list[Actual]:
        """The actual events of an activity, kept for matching when planning took some."""
        key = (atype, activity)
        got = self.actual_lists.get(key)
        if got is None:
            got = self.actual_lists[key] = self.actuals_for(atype, activity)
        return got

    def until_date(self, name: str) -> int | None:
        """The date of an event that ends a cycles block: an anchor event, else the first
        record of that kind (a data item's, an occurrence's)."""
        if name not in self.plan.data_items:
            d = self.node_date(name)
            if d is not None:
                return d
        recs = self.idx.records(name, self.as_of_date)
        if not recs:
            return None
        ev, _ = recs[0]
        return (ev.start if isinstance(ev, Occurrence) else ev.date).toordinal()  # type: ignore[union-attr]

    def condition_holds(self, cond: str | None) -> tuple[bool, bool]:
        """(holds, is an event condition)."""
        if cond is None:
            return True, False
        if cond in self.plan.data_items:
            recs = self.idx.records(cond, self.as_of_date)
            # the latest record decides: one that says no (`childbearing_potential: "no"`)
            # means the condition does not hold
            return bool(recs) and not _says_no(recs[-1][0]), True
        return self.node_date(cond) is not None, True

    def plan_visit(self, v: VisitSpec) -> int | None:
        if not self.applies(v.arms):
            self.na_row(v.order, "visit", v.name, v.arms, v.epoch)
            self.unplanned_visit_reason[v.name] = f"visit {v.name} is only for arms {', '.join(sorted(v.arms))}"
            return None
        if self.other_sex(v.sex):
            self.na_row(v.order, "visit", v.name, v.arms, v.epoch, v.sex)
            self.unplanned_visit_reason[v.name] = f"visit {v.name} is only for {v.sex} patients"
            return None
        holds, _ = self.condition_holds(v.condition)
        if not holds:
            self.unplanned_visit_reason[v.name] = f"visit {v.name} is planned only if {v.condition} happened"
            return None
        exempt = v.condition is not None
        if v.kind == "day":
            nominal = self.root + v.offset
            lo, hi = nominal - v.before, nominal + v.after
        elif v.kind == "range":
            nominal, lo, hi = self.root + v.offset, self.root + v.start, self.root + v.offset
        elif v.kind == "after":
            assert v.anchor is not None
            base = self.node_date(v.anchor)
            if base is None:
                self.unplanned_visit_reason[v.name] = f"visit {v.name}: {v.anchor} has no date"
                if v.anchor in self.plan.visits or v.anchor.startswith(("first dose", "last dose")):
                    self.out.notes.append(f"visit {v.name} is not planned: {v.anchor} has no date "
                                          "for this patient")
                return None
            nominal = base + v.offset
            lo, hi = nominal - v.before, nominal + v.after
        elif v.kind == "on":
            assert v.event is not None
            base = self.node_date(v.event)
            if base is None:
                self.unplanned_visit_reason[v.name] = f"visit {v.name} is planned on {v.event}, which did not happen"
                return None
            nominal, lo, hi = base, base - v.before, base + v.after
            exempt = True
        elif v.kind == "each":
            return self.plan_each(v)
        else:  # as needed
            return None
        label = v.label if v.kind != "on" else f"{v.label} (on {v.event})"
        triggered = v.kind == "on"
        p = Planned("visit", v.name, label, nominal, lo, hi, v.epoch, exempt=exempt,
                    triggered=triggered)
        self.group("visit", v.name).append(p)
        for kind in v.activities:
            # labelled as the visit's own row is, so a listing names the visit one way
            q = Planned("assess", kind, label, nominal, lo, hi, v.epoch, exempt=exempt,
                        visits=(v.name,), triggered=triggered)
            if v.item_conditions and kind in v.item_conditions:
                q.na_reason = self.item_excluded(*v.item_conditions[kind])
            self.group("assess", kind).append(q)
        # match the visit now: later anchors count from its actual date
        actuals = self.visit_actuals(v.name)
        self.visit_actual_lists[v.name] = actuals
        match([p], actuals, named=True)
        return p.actual.day if p.actual is not None else nominal

    def plan_each(self, v: VisitSpec) -> int | None:
        """A visit after every triggering record (`on each adverse_event where ...`): one
        planned occurrence per record, on its day, with the visit's window. A record for which
        the condition is unknown (an attribute missing) triggers it too: a follow-up owed is
        then visible rather than silently excused."""
        assert v.select is not None and v.event is not None
        if self.scope is None:
            self.scope = Scope(self.idx, self.as_of_date, self.plan.calendar, self.plan.items)
        got = v.select(self.scope)
        # kept, and those the condition (or a window in hours) cannot rule out
        maybe = got[4][0] if got[4] is not None else ()
        days = sorted({start_of(ev).toordinal() for ev, _ in (*got[0], *got[1], *maybe)})
        if not days:
            self.unplanned_visit_reason[v.name] = (
                f"visit {v.name} is planned after each qualifying {v.event}, and none happened")
            return None
        group = self.group("visit", v.name)
        first = None
        for d in days:
            label = f"{v.label} (after {v.event} on {_ORD(d).isoformat()})"
            p = Planned("visit", v.name, label, d, d - v.before, d + v.after, v.epoch, exempt=True,
                        triggered=True)
            group.append(p)
            for kind in v.activities:
                group_a = self.group("assess", kind)
                q = Planned("assess", kind, label, d, d - v.before, d + v.after, v.epoch,
                            exempt=True, visits=(v.name,), triggered=True)
                if v.item_conditions and kind in v.item_conditions:
                    q.na_reason = self.item_excluded(*v.item_conditions[kind])
                group_a.append(q)
            if first is None:
                first = d
        actuals = self.visit_actuals(v.name)
        self.visit_actual_lists[v.name] = actuals
        match(group, actuals, named=False)
        return group[0].actual.day if group[0].actual is not None else first

    def visit_actuals(self, name: str) -> list[Actual]:
        s = self.idx.visits.get(name)
        out = []
        if s is not None:
            n = s.until(self.as_of_date)
            out = [Actual(s.dates[i].toordinal(), s.positions[i], s.events[i]) for i in range(n)]
        extra = self.by_label.get(name)
        if extra:
            out.extend(Actual(a.day, a.pos, a.event) for a in extra)
            out.sort(key=_BY_DAY)
        return out

    def map_labels(self) -> None:
        """Visit records without a protocol visit name are matched by their label to a visit's
        name or label (ignoring case); the rest are unplanned."""
        s = self.idx.visits.get(None)
        if s is None:
            return
        names = {}
        for v in self.plan.visits.values():
            names[v.label.strip().casefold()] = v.name
            names[v.name.casefold()] = v.name
        for ps in self.plan.periods:
            for pv in ps.visits:
                names[pv.label.strip().casefold()] = pv.name
                names[pv.name.casefold()] = pv.name
        for i in range(s.until(self.as_of_date)):
            ev = s.events[i]
            assert isinstance(ev, VisitEvent)
            a = Actual(s.dates[i].toordinal(), s.positions[i], ev)
            name = names.get(ev.label.strip().casefold())
            if name is not None:
                self.by_label.setdefault(name, []).append(a)
            else:
                self.unplanned("visit", ev.label, a,
                               "the visit is not mapped to a visit of the protocol")

    # ---- doses --------------------------------------------------------------------------------

    def dose_applies(self, iv: str) -> list[ActivitySpec]:
        return [s for s in self.plan.dose_specs.get(iv, []) if self.applies(s.arms)]

    def first_dose(self, iv: str) -> int | None:
        bounds = self.idx.dose_bounds(iv, self.as_of_date)
        if bounds is not None:
            return bounds[0].toordinal()
        self.plan_doses(iv)
        planned = self.out.dose_planned.get(iv)
        return planned[0].nominal if planned else None

    def last_dose(self, iv: str) -> int | None:
        self.plan_doses(iv)
        planned = self.out.dose_planned.get(iv)
        if not planned:
            return None
        stop = self.stops.for_dose(iv)
        bounds = self.idx.dose_bounds(iv, self.as_of_date)
        over = stop is not None or planned[-1].hi < self.as_of or ("dose", iv) in self.cycle_cuts
        if over:
            if bounds is not None:
                return bounds[1].toordinal()
            if stop is not None:
                return stop[0]
        return planned[-1].nominal

    def regimen_amounts(self, iv: str, offsets: list[int]) -> list[tuple[int | float | None, str | None, str]]:
        reg = self.plan.regimens.get((self.arm, iv)) or self.plan.regimens.get((None, iv))
        if reg is None or not reg.steps or not offsets:
            return [(None, None, "")] * len(offsets)
        cal = self.plan.calendar
        bounds = []
        t = float(offsets[0])
        for step in reg.steps:
            end = t + step.duration.days(cal) if step.duration is not None else float("inf")
            bounds.append((t, end, step))
            t = end
        out: list[tuple[int | float | None, str | None, str]] = []
        for o in offsets:
            found = next((s for lo, hi, s in bounds if lo <= o < hi), None)
            if found is None:
                out.append((None, None, ""))
            else:
                out.append((found.amount.value, found.amount.unit, found.label or ""))
        return out

    def plan_doses(self, iv: str) -> None:
        if iv in self.dose_done:
            return
        self.dose_done.add(iv)
        specs = self.plan.dose_specs.get(iv, [])
        group = self.group("dose", iv)
        applicable = [s for s in specs if self.applies(s.arms)]
        for s in specs:
            if not self.applies(s.arms):
                self.na_row(s.order, "dose", iv, s.arms, s.epoch)
        offsets: list[tuple[int, int, int, str, str | None]] = []  # offset, before, after, label, epoch
        every = 0
        before = after = 0
        for s in applicable:
            for off, label in self.spec_offsets(s):
                offsets.append((off, s.before, s.after, label, s.epoch))
            every = max(every, s.every)
            before, after = max(before, s.before), max(after, s.after)
        if not specs and iv in self.arm_ivs and iv not in self.plan.cycle_doses:
            offsets, every = self.regimen_offsets(iv)
        if not offsets:
            if group:  # dosed in cycles
                self.out.dose_planned[iv] = group
                if iv not in self.out.dose_spacing:
                    self.out.dose_spacing[iv] = (
                        _largest_gap(group), max(p.nominal - p.lo for p in group),
                        max(p.hi - p.nominal for p in group))
            return
        offsets.sort()
        amounts = self.regimen_amounts(iv, [o[0] for o in offsets])
        for (off, b, a, label, epoch), (amount, unit, step) in zip(offsets, amounts, strict=True):
            nominal = self.root + off
            text = f"{label} ({step})" if step else label
            group.append(Planned("dose", iv, text, nominal, nominal - b, nominal + a, epoch,
                                 amount, unit))
        if every == 0 and len(offsets) > 1:
            every = max(o2[0] - o1[0] for o1, o2 in zip(offsets, offsets[1:], strict=False))
        self.out.dose_planned[iv] = group
        self.out.dose_spacing[iv] = (every, before, after)

    def regimen_offsets(self, iv: str) -> tuple[list[tuple[int, int, int, str, str | None]], int]:
        reg = self.plan.regimens.get((self.arm, iv)) or self.plan.regimens.get((None, iv))
        if reg is None:
            return [], 0
        cal = self.plan.calendar
        out: list[tuple[int, int, int, str, str | None]] = []
        t = 0.0
        every = 0
        for step in reg.steps:
            interval = step.frequency.interval if step.frequency else None
            if interval is None:
                out.append((round(t), 0, 0, _label_day(round(t), cal), None))
                t += step.duration.days(cal) if step.duration else 1
                continue
            e = max(1, round(interval.days(cal)))
            every = max(every, e)
            if step.duration is None:
                self.out.notes.append(f"{iv}: the regimen's last step has no duration; planned "
                                      "through the as-of date")
                end = float(self.as_of - self.root + 1)
            else:
                end = t + step.duration.days(cal)
            d = t
            cut = self.as_of - self.root
            while d < end:
                if len(out) >= MAX_OCCURRENCES and (
                    round(d) > cut or len(out) >= MAX_DUE_OCCURRENCES
                ):
                    self.cap_note(iv, len(out), math.ceil((end - d) / e), round(d) <= cut, True)
                    return out, every
                out.append((round(d), 0, 0, _label_day(round(d), cal), None))
                d += e
            t = end
        return out, every

    def repeat(self, item: str, first: int, every: int, stop: int | float, times: int,
               before: int) -> list[tuple[int, str]]:
        """The offsets `first`, `first + every`, ... before `stop` (and at most `times` of
        them, unless -1): every one whose window opens by the data cut, up to
        MAX_DUE_OCCURRENCES, and later ones while fewer than MAX_OCCURRENCES are planned; a
        note on the patient says how many were left out."""
        cut = self.as_of - self.root + before  # the last offset whose window opens by the cut
        out: list[tuple[int, str]] = []
        d = first
        while d < stop and (times < 0 or len(out) < times):
            if len(out) >= MAX_OCCURRENCES and (d > cut or len(out) >= MAX_DUE_OCCURRENCES):
                left = times - len(out) if times >= 0 else -1
                if stop != math.inf:
                    by_stop = math.ceil((stop - d) / every)
                    left = by_stop if left < 0 else min(left, by_stop)
                self.cap_note(item, len(out), left, d <= cut, False)
                break
            out.append((d, _label_day(d, self.plan.calendar)))
            d += every
        return out

    def cap_note(self, item: str, planned: int, left: int, due: bool, more_steps: bool) -> None:
        """The note that says a repeat was not planned to its end (see MAX_OCCURRENCES)."""
        more = "at least " if more_steps else ""
        if due:
            self.out.notes.append(
                f"{item}: only the first {planned:,} occurrences are planned and evaluated; "
                f"{more}{left:,} more, due by the data cut, are not (at most "
                f"{MAX_DUE_OCCURRENCES:,} are)")
        else:
            cut = datetime.date.fromordinal(self.as_of).isoformat()
            self.out.notes.append(
                f"{item}: {more}{left:,} later occurrences, not yet due at the data cut "
                f"{cut}, are not planned (at most {MAX_OCCURRENCES:,} occurrences are)")

    def spec_offsets(self, s: ActivitySpec) -> list[tuple[int, str]]:
        if s.offsets is not None:
            return s.offsets
        if s.until is None:
            return self.repeat(s.item, s.start, s.every, s.stop, s.times, s.before)
        until = self.node_date(s.until)
        if until is None:
            event_like = s.until in self.plan.declared_anchors or not (
                s.until in self.plan.visits or s.until.startswith(("first dose", "last dose")))
            if not event_like:
                self.out.notes.append(
                    f"{s.item}: 'until {s.until}' has no date for this patient; only the first "
                    "occurrence is planned")
                return [(s.start, _label_day(s.start, self.plan.calendar))]
            last = self.as_of - self.root
        else:
            last = until - self.root
        return self.repeat(s.item, s.start, s.every, last + 1, -1, s.before)

    def plan_activity(self, s: ActivitySpec) -> None:
        if not self.applies(s.arms):
            self.na_row(s.order, s.atype, s.item, s.arms, s.epoch)
            return
        if self.other_sex(s.sex):
            self.na_row(s.order, s.atype, s.item, s.arms, s.epoch, s.sex)
            return
        holds, _ = self.condition_holds(s.condition)
        group = self.group(s.atype, s.item)
        if not holds:
            return
        for off, label in self.spec_offsets(s):
            nominal = self.root + off
            group.append(Planned(s.atype, s.item, label, nominal, nominal - s.before,
                                 nominal + s.after, s.epoch, exempt=s.condition is not None))

    # ---- matching -----------------------------------------------------------------------------

    def actuals_for(self, atype: str, activity: str) -> list[Actual]:
        idx, cut = self.idx, self.as_of_date
        if atype == "visit":
            return self.visit_actuals(activity)
        out: list[Actual] = []
        if atype == "dose":
            s = idx.doses.get(activity)
            if s is None:
                return []
            for i in range(s.until(cut)):
                ev = s.events[i]
                assert isinstance(ev, DoseEvent)
                end = min(ev.end, cut) if ev.end is not None else None
                out.append(Actual(s.dates[i].toordinal(), s.positions[i], ev,
                                  end.toordinal() if end is not None else None))
            return out
        obs = idx.observations.get(activity)
        if activity not in idx.occurrences:
            # observations only (the usual case): straight from the date-sorted series
            if obs is None:
                return out
            dates, positions, events = obs.dates, obs.positions, obs.events
            return [Actual(dates[i].toordinal(), positions[i], events[i])
                    for i in range(obs.until(cut))]
        for ev, pos in idx.records(activity, cut):
            if isinstance(ev, Observation):
                out.append(Actual(ev.date.toordinal(), pos, ev))
            elif isinstance(ev, Occurrence):
                out.append(Actual(ev.start.toordinal(), pos, ev))
        return out

    def match_groups(self) -> None:
        rows_by_group = self.rows_by_group
        order = sorted(self.groups, key=lambda k: self.group_rank[k])
        los = [p.lo for g in self.groups.values() for p in g]
        self.start = min(los) if los else None
        work = order
        timed = self.timed
        if timed is not None:
            # the doses that timepoints are timed from are settled first
            first = [k for k in order if k in timed.dose_keys]
            work = first + [k for k in order if k not in timed.dose_keys]
        for key in work:
            atype, activity = key
            planned = self.groups[key]
            if atype == "visit" and activity in self.plan.visits and \
                    self.plan.visits[activity].kind == "as_needed":
                rows_by_group[key] = self.as_needed_rows(activity)
                continue
            planned.sort(key=_BY_NOMINAL)
            if atype != "visit":
                planned = self.merge_same_day(planned)
                self.groups[key] = planned
                if atype == "dose":
                    self.out.dose_planned[activity] = planned
            if timed is not None and key in timed.keys:
                actuals = self.cached_actuals(atype, activity)
                rows_by_group[key] = timed.match_and_settle(key, planned, actuals)
                continue
            if atype == "visit" and activity in self.visit_actual_lists:
                actuals = self.visit_actual_lists[activity]  # matched while planning
            elif key in self.actual_lists:
                actuals = self.actual_lists[key]  # partly matched while planning (cycles)
                match(planned, actuals, named=False)
            else:
                actuals = self.actuals_for(atype, activity)
                match(planned, actuals, named=atype == "visit")
            if atype == "dose":
                self.out.dose_actuals[activity] = actuals
            apart = self.apart.get(key) if self.apart else None
            if apart:
                # occurrences of a study period that never started: shown, never matched
                planned = sorted(planned + apart, key=_BY_NOMINAL)
            rows_by_group[key] = self.settle_group(atype, activity, planned, actuals)
        # rows in schedule order: activities by the first schedule item that plans them
        na: dict[tuple[str, str], list[ScheduleRow]] = {}
        for _, row in self.na_rows:
            na.setdefault((row.activity_type, row.activity), []).append(row)
        for key in order:
            self.out.rows.extend(rows_by_group.get(key, ()))
            self.out.rows.extend(na.get(key, ()))

    @staticmethod
    def merge_same_day(planned: list[Planned]) -> list[Planned]:
        out: list[Planned] = []
        for p in planned:
            if out and out[-1].nominal == p.nominal:
                q = out[-1]
                if q.actual is None and p.actual is not None:
                    q.actual = p.actual
                if p.na_reason is None:
                    q.na_reason = None
                q.lo, q.hi = min(q.lo, p.lo), max(q.hi, p.hi)
                q.exempt = q.exempt or p.exempt
                q.triggered = q.triggered and p.triggered  # one of the series: ordered
                q.visits = q.visits + p.visits
                if p.label not in q.label.split(" + "):
                    q.label = f"{q.label} + {p.label}"
                q.merged += 1
                continue
            out.append(p)
        return out

    def as_needed_rows(self, name: str) -> list[ScheduleRow]:
        rows = []
        for k, a in enumerate(self.visit_actuals(name), 1):
            d = _ORD(a.day)
            rows.append(ScheduleRow(name, "visit", k, "as needed", Status.ON_TIME,
                                    actual_date=d, actual_day=self.pday(a.day), deviation_days=0,
                                    ref=a.event.ref))  # type: ignore[attr-defined]
            self.out.used[a.pos] = f"visit {name} (as needed)"
        return rows

    def settle_group(self, atype: str, activity: str, planned: list[Planned],
                     actuals: list[Actual], numbers: list[int] | None = None,
                     timed: bool = False,
                     reasons: dict[int, str] | None = None) -> list[ScheduleRow]:
        """The rows of one activity's planned occurrences (numbered 1, 2, ... unless `numbers`
        gives each its occurrence number), and the unplanned records left over. `timed`: the
        activity also has sub-day timepoints (engine.timepoints), numbered among these;
        `reasons` says why some leftover records (by input position) were not planned."""
        rows: list[ScheduleRow] = []
        append = rows.append
        stop = self.stops.for_dose(activity) if atype == "dose" else self.stops.for_other()
        stop_first = stop[0] if stop is not None else None
        cut = self.cycle_cuts.get((atype, activity)) if self.cycle_cuts else None
        collected = atype not in ("assess", "procedure") or self.idx.collected(activity)
        as_of, root, used = self.as_of, self.root, self.out.used
        from_1, pday = self.plan.calendar.first_day == 1, self.pday
        tag = f"{atype} {activity} #"  # + the occurrence number: what a matched event is used for
        # One pass per occurrence: its status (the rules in engine.conformance's docstring,
        # inlined: this loop runs for every planned occurrence of every patient) and its row.
        for i, p in enumerate(planned):
            k = i + 1 if numbers is None else numbers[i]
            a = p.actual
            nominal, lo, hi = p.nominal, p.lo, p.hi
            deviation: int | None = None
            reason: str | None = None
            if stop_first is not None and not p.exempt and nominal >= stop_first and (
                    a is None or a.day > stop_first):
                if a is not None:
                    _release(a)
                    p.actual = a = None
                status, reason = _NOT_APPLICABLE, f"after {stop[1]}"  # type: ignore[index]
            elif p.na_reason is not None and (a is None or cut is None or a.day > cut[0]):
                if a is not None:
                    _release(a)
                    p.actual = a = None
                status, reason = _NOT_APPLICABLE, p.na_reason
            elif a is None:
                if not collected:
                    status = _NOT_COLLECTED
                    reason = (f"{activity} was not collected for this patient: the data "
                              "cannot tell whether it was done")
                elif p.pending is not None:
                    status, reason = _NOT_DUE, p.pending
                elif hi < as_of:
                    status, reason = _MISSED, _MISSED_WHY
                else:
                    status, reason = _NOT_DUE, _NOT_DUE_WHY
            else:
                d = a.day
                if d < lo:
                    status, deviation = _EARLY, d - lo
                    reason = f"{lo - d} day(s) before the window opened"
                    if p.note is not None:
                        reason += ": " + p.note
                elif d > hi:
                    status, deviation = _LATE, d - hi
                    reason = f"{d - hi} day(s) after the window closed"
                    if p.note is not None:
                        reason += ": " + p.note
                else:
                    status, deviation = _ON_TIME, 0
                if reason is not None and p.pending is not None:
                    # a study period not started yet: its window counts from its planned
                    # start, which the period's first dose may still move
                    reason += (f" (provisional: {p.pending}, and the window counts from its "
                               "planned start)")
            actual_date = actual_day = ref = amount = unit = None
            if a is not None:
                ev = a.event
                used[a.pos] = tag + str(k)
                actual_date, actual_day, ref = _ORD(a.day), a.day - root, ev.ref  # type: ignore[attr-defined]
                if type(ev) is DoseEvent:
                    amount, unit = ev.amount, ev.unit
            if from_1:  # the protocol counts its days from 1: no day 0
                append(_ROW(
                    activity, atype, k, p.label, status, pday(nominal), _ORD(nominal),
                    (pday(lo), pday(hi)), (_ORD(lo), _ORD(hi)), actual_date,
                    pday(a.day) if a is not None else None, deviation, ref, reason, p.epoch,
                    p.amount, p.amount_unit, amount, unit, None))
                continue
            append(_ROW(
                activity, atype, k, p.label, status, nominal - root, _ORD(nominal),
                (lo - root, hi - root), (_ORD(lo), _ORD(hi)), actual_date, actual_day, deviation,
                ref, reason, p.epoch, p.amount, p.amount_unit, amount, unit, None))
        matched_days: dict[int, int] | None = None  # built when an actual is left over
        for a in actuals:
            if a.used:
                if a.pos not in used:
                    used[a.pos] = f"{atype} {activity}"
                continue
            if matched_days is None:
                matched_days = {}
                if atype != "dose":
                    for i, p in enumerate(planned):
                        if p.actual is not None:
                            matched_days.setdefault(
                                p.actual.day, i + 1 if numbers is None else numbers[i])
            if a.day in matched_days:
                # replicates (positions, repeats) on the day of a matched assessment or visit
                self.out.used[a.pos] = (f"{atype} {activity} #{matched_days[a.day]} "
                                        "(same-day replicate)")
                continue
            if atype != "visit" and atype != "dose" and self.start is not None \
                    and a.day < self.start:
                self.out.history.add(a.pos)  # medical history, not a study assessment
                continue
            reason = None
            if stop_first is not None and a.day > stop_first:
                reason = f"after {stop[1]}"  # type: ignore[index]
            elif reasons is not None and a.pos in reasons:
                reason = reasons[a.pos]
            elif cut is not None and a.day > cut[0]:
                reason = f"after {cut[1]}"
            elif atype == "visit" and activity in self.unplanned_visit_reason:
                reason = self.unplanned_visit_reason[activity]
            elif not planned and not timed:
                reason = f"no {activity} is planned for this patient"
            else:
                reason = "no planned occurrence within reach"
            self.unplanned(atype, activity, a, reason)
        return rows

    def unplanned(self, atype: str, activity: str, a: Actual, reason: str | None) -> None:
        ev = a.event
        self.out.unplanned.append(UnplannedEvent(activity, atype, _ORD(a.day), ev.ref,  # type: ignore[attr-defined]
                                                 self.pday(a.day), reason))
        self.out.unplanned_pos.add(a.pos)


_NO_WORDS: Final = frozenset({"no", "n", "false", "negative", "absent", "not applicable"})


def _says_no(ev: object) -> bool:
    """Whether a record answers no: value false, 0, or a word such as "no" or "negative"."""
    value = getattr(ev, "value", None)
    if value is None:
        return getattr(ev, "detected", None) is False
    if isinstance(value, str):
        return value.strip().casefold() in _NO_WORDS
    return value == 0


def _largest_gap(planned: list[Planned]) -> int:
    """The longest planned interval between consecutive occurrences (0 for one or none)."""
    days = sorted(p.nominal for p in planned)
    return max((b - a for a, b in zip(days, days[1:], strict=False)), default=0)


def _release(a: Actual) -> None:
    """Give an actual back (its planned occurrence became not applicable)."""
    period = getattr(a, "period", None)
    if period is None:
        a.used = False
        return
    period.uses -= 1
    if period.uses <= 0:
        period.used = False


def plan_and_match(plan: SchedulePlan, idx: PatientIndex, arm: str | None, as_of: datetime.date,
                   root: datetime.date, stops: Stops) -> Outcome:
    """Plan the patient's schedule from `root` (day 0) and match it to their events."""
    return _Run(plan, idx, arm, as_of, root, stops).run()


__all__ = ["Outcome", "SchedulePlan", "Stops", "plan_and_match"]
