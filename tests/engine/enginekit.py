"""Builders for engine tests: small trials in Python and hand-made patient timelines.

Days are protocol days from D0 (2024-01-10, the randomization day in every test timeline).
"""

from __future__ import annotations

import datetime
from typing import Any

from engine.patient import (
    AnchorEvent,
    ClockTime,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    Patient,
    RecordRef,
    VisitEvent,
)
from protocol import expr as ex
from protocol.design import (
    Arm,
    ArmIntervention,
    DataItem,
    DoseStep,
    Frequency,
    Intervention,
    Population,
    Regimen,
)
from protocol.eligibility import Criterion, Eligibility
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AnchorDecl,
    AsNeeded,
    AtDay,
    AtTimes,
    DayRange,
    OnEvent,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Schedule,
    Visit,
)
from protocol.stopping import PatientRule, Stopping
from protocol.timing import DEFAULT_CALENDAR, Calendar, DayPoint, Duration, TimeUnit, Window
from protocol.trial import Trial
from protocol.units import Quantity
from protocol.vocab import (
    ActivityKind,
    ArmType,
    CriterionCategory,
    DataKind,
    InterventionType,
    MissingPolicy,
)

D0 = datetime.date(2024, 1, 10)
DAY = TimeUnit.DAY


def day(n: int) -> datetime.date:
    return D0 + datetime.timedelta(days=n)


def clock(text: str | None) -> ClockTime | None:
    """A time of day from `08:30`, `08:30:15`, `08` (to the hour), with `Z` / `+02:00`."""
    if text is None:
        return None
    from engine.io.dates import parse_iso_stamp

    return parse_iso_stamp(f"2000-01-01T{text}")[1]


# ---- expressions ------------------------------------------------------------------------------


def days(n: float, unit: TimeUnit = DAY) -> Duration:
    return Duration(n, unit)


def named(name: str) -> ex.NamedAnchor:
    return ex.NamedAnchor(name)


RANDO = named("randomization")


def within(n: float, anchor: ex.AnchorRef = RANDO, unit: TimeUnit = DAY,
           after: bool = False) -> ex.Within:
    return ex.Within(days(n, unit), ex.Direction.AFTER if after else ex.Direction.BEFORE, anchor)


def before(anchor: ex.AnchorRef = RANDO, strict: bool = False) -> ex.Relative:
    return ex.Relative(ex.Direction.BEFORE, anchor, strict)


def after(anchor: ex.AnchorRef = RANDO, strict: bool = False) -> ex.Relative:
    return ex.Relative(ex.Direction.AFTER, anchor, strict)


def ongoing_at(anchor: ex.AnchorRef = RANDO) -> ex.OngoingAt:
    return ex.OngoingAt(anchor)


def sel(kind: str, temporal: ex.Temporal | None = None, where: ex.Expr | None = None) -> ex.Selection:
    return ex.Selection(kind, temporal, where)


def latest(kind: str, temporal: ex.Temporal | None = None, where: ex.Expr | None = None) -> ex.Aggregate:
    return ex.Aggregate(ex.AggregateFn.LATEST, sel(kind, temporal, where))


def agg(fn: str, kind: str, temporal: ex.Temporal | None = None) -> ex.Aggregate:
    return ex.Aggregate(ex.AggregateFn(fn), sel(kind, temporal))


def any_(kind: str, temporal: ex.Temporal | None = None, where: ex.Expr | None = None,
         lasting: ex.Lasting | None = None) -> ex.Exists:
    return ex.Exists(sel(kind, temporal, where), lasting)


def count(kind: str, temporal: ex.Temporal | None = None, where: ex.Expr | None = None) -> ex.Count:
    return ex.Count(sel(kind, temporal, where))


def q(value: float, unit: str | None = None) -> ex.QuantityLiteral:
    return ex.QuantityLiteral(Quantity(value, unit))


def s(value: str) -> ex.StringLiteral:
    return ex.StringLiteral(value)


def name(n: str) -> ex.Name:
    return ex.Name(n)


def uln(m: float) -> ex.RelativeLimit:
    return ex.RelativeLimit(m, ex.Limit.ULN)


def lln(m: float) -> ex.RelativeLimit:
    return ex.RelativeLimit(m, ex.Limit.LLN)


def cmp(left: ex.Expr, op: str, right: ex.Expr) -> ex.Compare:
    return ex.Compare(ex.CompareOp(op), left, right)


def and_(*xs: ex.Expr) -> ex.And:
    return ex.And(tuple(xs))


def or_(*xs: ex.Expr) -> ex.Or:
    return ex.Or(tuple(xs))


# ---- trials -----------------------------------------------------------------------------------


def inclusion(cid: str, expr: ex.Expr, missing: str | None = None) -> Criterion:
    return Criterion(cid, CriterionCategory.INCLUSION, expr, text=f"{cid} text",
                     missing=MissingPolicy(missing) if missing else None)


def exclusion(cid: str, expr: ex.Expr, missing: str | None = None) -> Criterion:
    return Criterion(cid, CriterionCategory.EXCLUSION, expr, text=f"{cid} text",
                     missing=MissingPolicy(missing) if missing else None)


DATA = (
    DataItem(DataKind.LAB, "alt", "ALT", unit="U/L"),
    DataItem(DataKind.LAB, "creatinine", "Creatinine", unit="umol/L"),
    DataItem(DataKind.LAB, "glucose", "Glucose", unit="g/L"),
    DataItem(DataKind.SCORE, "ecog", "ECOG", low=0, high=5),
    DataItem(DataKind.CATEGORY, "remission", "Remission", values=("CR1", "CR2")),
    DataItem(DataKind.MARKER, "mrd", "MRD", unit="%"),
    DataItem(DataKind.CONDITION, "infection", "Infection"),
    DataItem(DataKind.CONDITION, "hypothyroidism", "Hypothyroidism"),
    DataItem(DataKind.EVENT, "adverse_event", "AE", attributes=("grade", "related")),
    DataItem(DataKind.EVENT, "chemo_cycle", "Chemo cycle"),
    DataItem(DataKind.LAB, "tsh", "TSH", unit="m[IU]/L"),
    DataItem(DataKind.EVENT, "alcohol", "Alcohol intake", attributes=("units",)),
    DataItem(DataKind.CATEGORY, "pregnancy_test", "Urine pregnancy test",
             values=("negative", "positive")),
    DataItem(DataKind.EVENT, "blood_donation", "Blood donation", attributes=("volume",)),
    DataItem(DataKind.VITAL, "qtcf", "QTcF", unit="ms"),
    DataItem(DataKind.EVENT, "antidiabetic", "Oral antidiabetic drug", attributes=("drug",)),
    DataItem(DataKind.EVENT, "metformin", "Metformin", attributes=("daily_dose",)),
)


def window(before: float, after: float | None = None) -> Window:
    return Window(before, before if after is None else after, DAY)


def at_day(n: float, unit: TimeUnit = DAY) -> AtDay:
    return AtDay(DayPoint(unit, n))


def visit(vname: str, timing: Any, win: Window | None = None, arms: tuple[str, ...] = (),
          condition: str | None = None, activities: tuple[str, ...] = ()) -> Visit:
    return Visit(vname, vname.title(), timing, win, arms, condition, activities)


def repeat(every: float, start: float, end: Any, unit: TimeUnit = DAY) -> Repeat:
    return Repeat(Duration(every, unit), DayPoint(DAY, start), end)


def for_(n: float, unit: TimeUnit = DAY) -> RepeatFor:
    return RepeatFor(Duration(n, unit))


def times(n: int) -> RepeatTimes:
    return RepeatTimes(n)


def until(anchor: ex.AnchorRef) -> RepeatUntil:
    return RepeatUntil(anchor)


def at_times(*points: float, unit: TimeUnit = DAY) -> AtTimes:
    return AtTimes(tuple(DayPoint(unit, p) for p in points))


def assess(*items: str, timing: Any, win: Window | None = None, arms: tuple[str, ...] = (),
           condition: str | None = None) -> Activity:
    return Activity(ActivityKind.ASSESS, tuple(items), timing, win, arms, condition)


def dose(*items: str, timing: Any, win: Window | None = None, arms: tuple[str, ...] = ()) -> Activity:
    return Activity(ActivityKind.DOSE, tuple(items), timing, win, arms)


def after_anchor(n: float, anchor: ex.AnchorRef, unit: TimeUnit = DAY) -> AfterAnchor:
    return AfterAnchor(Duration(n, unit), anchor)


def last_dose(iv: str) -> ex.DoseAnchor:
    return ex.DoseAnchor(ex.AggregateFn.LATEST, iv)


def regimen(*steps: tuple[float, str, float, float | None]) -> Regimen:
    """Steps (amount, unit, every days, for days or None)."""
    return Regimen(tuple(
        DoseStep(Quantity(a, u), frequency=Frequency(Duration(e, DAY)),
                 duration=Duration(f, DAY) if f is not None else None)
        for a, u, e, f in steps))


def trial(
    *,
    inclusions: tuple[Criterion, ...] = (),
    exclusions: tuple[Criterion, ...] = (),
    items: tuple[Any, ...] = (),
    rules: tuple[PatientRule, ...] = (),
    population: Population | None = None,
    arms: tuple[Arm, ...] | None = None,
    interventions: tuple[Intervention, ...] | None = None,
    calendar: Calendar = DEFAULT_CALENDAR,
    anchors: tuple[str, ...] = ("randomization", "discontinuation"),
) -> Trial:
    ivs = interventions if interventions is not None else (
        Intervention("drug", InterventionType.DRUG, "Study drug",
                     regimen=regimen((100, "mg", 7, None))),
        Intervention("other", InterventionType.DRUG, "Other drug"),
    )
    arm_list = arms if arms is not None else (
        Arm("a", "Arm A", ArmType.EXPERIMENTAL, interventions=(ArmIntervention("drug"),)),
        Arm("b", "Arm B", ArmType.ACTIVE_COMPARATOR, interventions=(ArmIntervention("other"),)),
    )
    sched = Schedule("randomization", tuple(AnchorDecl(a) for a in anchors), (), tuple(items))
    return Trial(
        "TEST",
        calendar=calendar,
        interventions=ivs,
        arms=arm_list,
        population=population,
        data=DATA,
        eligibility=Eligibility("randomization", tuple(inclusions), tuple(exclusions)),
        schedule=sched,
        stopping=Stopping(tuple(rules)),
    )


# ---- timelines --------------------------------------------------------------------------------


class Timeline:
    """A patient built event by event; each event gets the RecordRef `test row N`."""

    def __init__(self, randomized: int | None = 0):
        self.events: list[Event] = []
        if randomized is not None:
            self.anchor("randomization", randomized)

    def _ref(self) -> RecordRef:
        return RecordRef("test", f"row {len(self.events) + 1}")

    def add(self, ev: Event) -> Timeline:
        self.events.append(ev)
        return self

    # `at` / `end_at`: the time of day (`08:30`, see `clock`); None: a date without a time

    def anchor(self, aname: str, d: int, at: str | None = None) -> Timeline:
        return self.add(AnchorEvent(aname, day(d), self._ref(), clock(at)))

    def visit(self, vname: str | None, d: int, label: str | None = None,
              at: str | None = None) -> Timeline:
        return self.add(VisitEvent(vname, label or (vname or "?"), day(d), self._ref(), clock(at)))

    def obs(self, kind: str, d: int, value: Any = None, unit: str | None = None,
            low: float | None = None, high: float | None = None,
            detected: bool | None = None, at: str | None = None,
            attributes: tuple[tuple[str, Any], ...] = ()) -> Timeline:
        return self.add(Observation(kind, day(d), self._ref(), value, unit, low, high, detected,
                                    None, attributes, clock(at)))

    def occ(self, kind: str, d: int, end: int | None = None, ongoing: bool = False,
            at: str | None = None, end_at: str | None = None, **attributes: Any) -> Timeline:
        return self.add(Occurrence(kind, day(d), self._ref(), day(end) if end is not None else None,
                                   ongoing, tuple(attributes.items()), clock(at), clock(end_at)))

    def dose(self, iv: str, d: int, end: int | None = None, amount: float | None = None,
             unit: str | None = None, at: str | None = None,
             end_at: str | None = None) -> Timeline:
        return self.add(DoseEvent(iv, day(d), self._ref(), day(end) if end is not None else None,
                                  amount, unit, None, clock(at), clock(end_at)))

    def disposition(self, status: str, d: int, effect: str | None = None,
                    at: str | None = None) -> Timeline:
        return self.add(Disposition(status, day(d), self._ref(), None, effect, clock(at)))

    def patient(self, pid: str = "P1", arm: str | None = "a", sex: str | None = "F",
                birth: datetime.date | None = datetime.date(1970, 6, 15),
                age: float | None = None, collected: frozenset[str] | None = None) -> Patient:
        return Patient(pid, RecordRef("test", pid), arm, sex, birth, age, tuple(self.events),
                       collected)


def rows(result: Any, activity: str) -> list[Any]:
    return [r for r in result.schedule if r.activity == activity]


def statuses(result: Any, activity: str) -> list[str]:
    return [r.status.value for r in rows(result, activity)]


__all__ = [
    "AsNeeded",
    "DayRange",
    "OnEvent",
    "PatientRule",
    "Population",
]
