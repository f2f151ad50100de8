"""The schedule of activities: anchors, epochs, visits and repeating activities."""

from __future__ import annotations

from typing import Union

import attrs

from protocol.expr import AnchorRef, Selection
from protocol.source import Span, span_field
from protocol.stopping import Discontinue, FollowUp, Withdraw
from protocol.timing import PREDOSE, DayPoint, Duration, Window, elapsed_code
from protocol.vocab import ActivityKind, Sex


@attrs.frozen
class AnchorDecl:
    """An event that times are counted from and that comes from patient data: `anchor randomization`.

    `effect` is what the event does to the patient's plan when it happens: `then discontinue
    peg_ifn` (doses stop, follow-up goes on; no names: all of the patient's arm's
    interventions), `then withdraw` (the patient leaves the study), `then follow_up_only`.
    Without it, an anchor only dates things, except the two the engine knows by name:
    `discontinuation` (as `then discontinue`) and `withdrawal` (as `then withdraw`).
    """

    name: str
    label: str | None = None
    effect: Discontinue | Withdraw | FollowUp | None = None
    span: Span | None = span_field()


@attrs.frozen
class Epoch:
    name: str
    label: str
    span: Span | None = span_field()


# ---- when a visit happens --------------------------------------------------------------------


@attrs.frozen
class AtDay:
    """At a nominal time from the schedule's anchor: `at day 0`, `at week 2`."""

    point: DayPoint
    span: Span | None = span_field()


@attrs.frozen
class DayRange:
    """Any day in a range: `at day -28 to day -1` (nominal: the end; window: the whole range)."""

    start: DayPoint
    end: DayPoint
    span: Span | None = span_field()


@attrs.frozen
class AfterAnchor:
    """At an offset from another anchor: `at 30 days after last dose of peg_ifn`.

    A negative offset is written `at 1 day before week2`.
    """

    offset: Duration
    anchor: AnchorRef
    span: Span | None = span_field()


@attrs.frozen
class OnEvent:
    """Whenever an anchor event happens: `on discontinuation` (early termination)."""

    event: str
    span: Span | None = span_field()


@attrs.frozen
class OnEach:
    """After every record of a selection: `on each adverse_event where serious == "Y"` (a
    follow-up visit per serious adverse event, within the visit's window of the event)."""

    selection: Selection
    span: Span | None = span_field()


@attrs.frozen
class AsNeeded:
    """Unscheduled: any number, at any time."""

    span: Span | None = span_field()


VisitTiming = Union[AtDay, DayRange, AfterAnchor, OnEvent, OnEach, AsNeeded]


@attrs.frozen
class ItemCondition:
    """A restriction on one item of a visit: `{ alt, pregnancy_test (sex female if
    childbearing_potential) }`. The item is done at that visit only for patients of those arms,
    of that sex, and for whom the condition holds (the qualifiers a visit takes)."""

    item: str
    arms: tuple[str, ...] = ()
    sex: Sex | None = None
    condition: str | None = None
    span: Span | None = span_field()


@attrs.frozen
class Visit:
    """A visit. `condition` names an anchor event that must have happened (`if discontinuation`),
    or a data item of which the patient must have a record (`if rash`). `sex` restricts it to
    patients of one sex (`sex female`); others have it as not applicable. `item_conditions`
    restrict single items of `activities` in the same way."""

    name: str
    label: str
    timing: VisitTiming
    window: Window | None = None
    arms: tuple[str, ...] = ()
    condition: str | None = None
    activities: tuple[str, ...] = ()
    epoch: str | None = None
    number: int | float | None = None
    sex: Sex | None = None
    item_conditions: tuple[ItemCondition, ...] = ()
    span: Span | None = span_field()

    def item_condition(self, item: str) -> ItemCondition | None:
        """The restriction on one of the visit's items, if it has one."""
        return next((c for c in self.item_conditions if c.item == item), None)

    @property
    def scheduled(self) -> bool:
        """Whether the visit has a planned time (as opposed to event-driven or unscheduled)."""
        return isinstance(self.timing, (AtDay, DayRange, AfterAnchor))


# ---- when a repeating activity happens ------------------------------------------------------


@attrs.frozen
class AtTimes:
    """At listed nominal times: `at month 3, 6, 12`."""

    points: tuple[DayPoint, ...]
    span: Span | None = span_field()


@attrs.frozen
class RepeatFor:
    duration: Duration
    span: Span | None = span_field()


@attrs.frozen
class RepeatUntil:
    anchor: AnchorRef
    span: Span | None = span_field()


@attrs.frozen
class RepeatTimes:
    times: int
    span: Span | None = span_field()


RepeatEnd = Union[RepeatFor, RepeatUntil, RepeatTimes]


@attrs.frozen
class Repeat:
    """`every 7 days from day 1 for 6 months`: occurrences at start, start + every, ...

    With `for D` the last occurrence is the last one strictly before start + D; with `until X`
    the last one on or before X; with `times N` exactly N occurrences.
    """

    every: Duration
    start: DayPoint
    end: RepeatEnd
    span: Span | None = span_field()


@attrs.frozen
class CycleDays:
    """On days of each cycle, inside a `cycles` block: `on day 1, 8`.

    Cycle days count from 1, as oncology protocols count them: day 1 is the cycle's first day
    (its start), day 8 is 7 days later. There is no cycle day 0."""

    days: tuple[int, ...]
    span: Span | None = span_field()


ActivityTiming = Union[AtTimes, Repeat, CycleDays]


@attrs.frozen
class Activity:
    """Assessments, doses or procedures of one or more items, on their own timetable.

    `arms`, `sex` and `condition` restrict it as they do a Visit."""

    kind: ActivityKind
    items: tuple[str, ...]
    timing: ActivityTiming
    window: Window | None = None
    arms: tuple[str, ...] = ()
    condition: str | None = None
    epoch: str | None = None
    sex: Sex | None = None
    span: Span | None = span_field()


@attrs.frozen
class Cycles:
    """Treatment cycles: `cycles treatment "Treatment cycle" every 21 days from day 0`.

    Cycle 1 starts on the `start` day (from the schedule's anchor). Each later cycle starts
    `length` after the *actual* start of the one before (the day its first day-1 activity was
    done), so a delayed cycle shifts every later one. `window` is allowed around each cycle's
    start. No cycle starts after any of the `until` events (anchor events or data items:
    `until progression or toxicity`), and at most `max_cycles` are planned. `items` are the
    activities of every cycle, each `on day ...` of the cycle (CycleDays).
    """

    name: str
    label: str
    length: Duration
    start: DayPoint
    items: tuple[Activity, ...]
    window: Window | None = None
    until: tuple[str, ...] = ()
    max_cycles: int | None = None
    arms: tuple[str, ...] = ()
    epoch: str | None = None
    span: Span | None = span_field()

    @property
    def first_day_item(self) -> Activity | None:
        """The activity whose day-1 record dates each cycle's start: the first dose given on
        day 1, else the first activity on day 1 (None when nothing is planned on day 1)."""
        on_day_1 = [a for a in self.items
                    if isinstance(a.timing, CycleDays) and 1 in a.timing.days]
        doses = [a for a in on_day_1 if a.kind is ActivityKind.DOSE]
        chosen = doses or on_day_1
        return chosen[0] if chosen else None


# ---- sub-day timepoints -------------------------------------------------------------------


@attrs.frozen
class WindowBand:
    """The window of the timepoints up to `up_to` after the reference (`up_to` None: of every
    later one): in `window +-5 minutes up to 2 hours, +-15 minutes after`, two bands."""

    window: Window
    up_to: Duration | None = None
    span: Span | None = span_field()


@attrs.frozen
class TimedActivity:
    """Assessments or procedures at times relative to the reference of a `timepoints` block.

    `assess pk_conc at 0.5, 1, 2, 4 hours window +-5 minutes up to 2 hours, +-15 minutes after`
    plans one occurrence at each offset after the reference, each with the window of the first
    band whose `up_to` it does not exceed. `assess pk_conc predose within 60 minutes` plans one
    occurrence before a dose: from 60 minutes before it up to the dose (`predose`, offsets
    empty). `arms`, `sex` and `condition` restrict it as they do a visit's item.
    """

    kind: ActivityKind
    items: tuple[str, ...]
    offsets: tuple[Duration, ...] = ()
    predose: Duration | None = None
    windows: tuple[WindowBand, ...] = ()
    arms: tuple[str, ...] = ()
    sex: Sex | None = None
    condition: str | None = None
    span: Span | None = span_field()

    def timepoint_codes(self) -> list[str]:
        """The codes of its timepoints: `PREDOSE`, or each offset's elapsed time (`PT30M`)."""
        if self.predose is not None:
            return [PREDOSE]
        return [elapsed_code(d.minutes()) for d in self.offsets]

    def window_for(self, offset: Duration) -> Window | None:
        """The window of the timepoint `offset` after the reference: the first band whose
        `up_to` it does not exceed (None: no band covers it, or no window at all)."""
        minutes = offset.minutes()
        for band in self.windows:
            if band.up_to is None or minutes <= band.up_to.minutes() + 1e-9:
                return band.window
        return None


@attrs.frozen
class DoseOnDays:
    """The dose of an intervention given on each listed day: `dose of study_drug on day 1, 14`
    (one reference per day, each timed by its own administration)."""

    intervention: str
    days: tuple[DayPoint, ...]
    span: Span | None = span_field()


TimepointReference = Union[DoseOnDays, AnchorRef]


@attrs.frozen
class Timepoints:
    """Sub-day timepoints: `timepoints pk "PK sampling" after dose of study_drug on day 1, 14
    { ... }`. Each activity inside is timed in hours or minutes from the reference: the actual
    administration of the dose on each listed day, or an anchor event (`after first dose of X`,
    `after randomization`), with date-time precision. Outside the block the schedule counts
    days; inside it, minutes."""

    name: str
    label: str
    reference: TimepointReference
    items: tuple[TimedActivity, ...]
    arms: tuple[str, ...] = ()
    epoch: str | None = None
    span: Span | None = span_field()

    @property
    def dose_reference(self) -> DoseOnDays | None:
        return self.reference if isinstance(self.reference, DoseOnDays) else None



@attrs.frozen
class Washout:
    """The time from the last dose of one study period to the first dose of the next.

    `washout at least 7 days` (minimum only), `washout 7 days` (exactly: the period block's
    window gives the allowed deviation), `washout 7 to 14 days` (a range)."""

    minimum: Duration
    maximum: Duration | None = None
    span: Span | None = span_field()

    @property
    def open_ended(self) -> bool:
        """Whether the washout has no upper bound (`at least`)."""
        return self.maximum is None


@attrs.frozen
class Periods:
    """Study periods separated by washouts, as crossover trials have them:
    `periods treatment "Period" from day 1 washout at least 7 days { ... }`.

    Every period plans the same `items` (visits and activities), timed in days from the
    period's own first dose: `at day -1` is the day before it, `at day 1` its day when days
    are counted from 1. Period 1's first dose is planned on the `start` day (from the
    schedule's anchor); period k + 1's first dose is planned `washout.minimum` after the
    *actual* last dose of period k. `window` is allowed around each period's first dose.
    How many periods there are, and which intervention each one doses, is said by the arms'
    sequences (Arm.sequence): a `dose` of an intervention that a sequence gives is planned in
    the periods where that arm's sequence gives it; any other dose in every period."""

    name: str
    label: str
    start: DayPoint
    washout: Washout
    items: tuple[Visit | Activity, ...] = ()
    window: Window | None = None
    span: Span | None = span_field()

    def period_label(self, k: int) -> str:
        """`Period 2`: the label of the k-th period (from 1)."""
        return f"{self.label} {k}"

    @property
    def visits(self) -> tuple[Visit, ...]:
        return tuple(i for i in self.items if isinstance(i, Visit))

    @property
    def activities(self) -> tuple[Activity, ...]:
        return tuple(i for i in self.items if isinstance(i, Activity))

    @property
    def doses(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.kind is ActivityKind.DOSE)


ScheduleItem = Union[Visit, Activity, Cycles, Periods, Timepoints]


@attrs.frozen
class Schedule:
    """Everything is timed from `anchor` unless it names another anchor. Items keep source order."""

    anchor: str
    anchors: tuple[AnchorDecl, ...] = ()
    epochs: tuple[Epoch, ...] = ()
    items: tuple[ScheduleItem, ...] = ()
    span: Span | None = span_field()

    @property
    def visits(self) -> tuple[Visit, ...]:
        return tuple(i for i in self.items if isinstance(i, Visit))

    @property
    def activities(self) -> tuple[Activity, ...]:
        return tuple(i for i in self.items if isinstance(i, Activity))

    @property
    def cycles(self) -> tuple[Cycles, ...]:
        return tuple(i for i in self.items if isinstance(i, Cycles))

    @property
    def timepoints(self) -> tuple[Timepoints, ...]:
        return tuple(i for i in self.items if isinstance(i, Timepoints))

    @property
    def periods(self) -> Periods | None:
        """The study periods (a crossover's), if the schedule has them."""
        return next((i for i in self.items if isinstance(i, Periods)), None)

    @property
    def period_visits(self) -> tuple[Visit, ...]:
        """The visits planned in every study period (timed from the period's first dose)."""
        p = self.periods
        return p.visits if p is not None else ()

    def visit(self, name: str) -> Visit | None:
        return next((v for v in self.visits if v.name == name), None)
