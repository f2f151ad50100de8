"""Sub-day timepoints: planned and matched with date-time precision, deviations in minutes.

A `timepoints` block (protocol.schedule.Timepoints) plans, for each of its references (the
dose of an intervention given on each listed day, or an anchor event), one occurrence of each
of its items at each of its times: `pk_conc` before the dose and 0.5, 1, 2, ... hours after
it. The rules (docs/engine-semantics.md, "Timepoints"):

* **The reference** is what happened: the administration matched to the dose planned on that
  day (its date and time of day; a dose given a day late moves its timepoints with it), else
  the first dose of the intervention recorded on that day; for an anchor, the record that
  dates it (engine.timed_select.compile_anchor_stamp, the stamp the criteria's hour windows
  use). A reference not yet due makes its timepoints `not_due`; one that did not happen (the
  dose was missed, or is not applicable after a stop) makes them `not_applicable`, saying why.
* **Times** are counted in microseconds from the reference on the local clock; each
  occurrence's window is [reference + offset - before, reference + offset + after].
* **Matching**, per item, each record used at most once: (A) a record naming its timepoint
  (`Observation.timepoint`, from SDTM --TPT/--ELTM or the patient file) takes that timepoint's
  occurrence of the reference nearest its date; (B) records with a time of day take
  occurrences by the ordinary rules of engine.conformance on instants (windows, then near
  misses within the catchment); (C) a further record inside the window of a matched
  occurrence is a replicate of it (ECG triplicates); (D) the item's day-level occurrences, if
  it has any (a visit's vital signs), take what is left; (E) last, a record without a time of
  day (or timed from a reference without one) takes the first occurrence left, in order,
  whose window it may fall in.
* **Status** by the one rule of engine.clock for times: inside the window for every instant
  the record and the reference may denote: `on_time`; outside for all: `early` / `late` with
  the least certain deviation in minutes; otherwise `time_unknown`, never a silent pass.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Final

from engine import clock
from engine.conformance import Actual, Planned, match, match_general
from engine.expressions import Scope, stamp_of
from engine.patient import MICROS_PER_DAY, ClockTime, DoseEvent
from engine.results import RowTiming, ScheduleRow, Status
from engine.timed_select import compile_anchor_stamp
from protocol.anchors import anchor_node
from protocol.expr import AnchorRef, PeriodDoseAnchor
from protocol.schedule import DoseOnDays, Timepoints
from protocol.timing import PREDOSE, Calendar, Duration, TimeUnit, elapsed_code

if TYPE_CHECKING:
    from engine.schedule import _Run

_MINUTE: Final = clock.MICROS_PER_MINUTE
_HOUR: Final = clock.MICROS_PER_HOUR


def _us(minutes: int | float) -> int:
    return round(minutes * _MINUTE)


def offset_label(d: Duration) -> str:
    """`30 min`, `0.5 h`, `24 h`: a timepoint as schedules of activities name it, in the
    protocol's unit."""
    if d.unit is TimeUnit.MINUTE:
        return f"{d.amount:g} min"
    if d.unit is TimeUnit.HOUR:
        return f"{d.amount:g} h"
    return str(d)


class PointSpec:
    """One planned time of one item: its code (PREDOSE, PT30M), label and window, in
    microseconds from the reference. `order` sorts the times of a reference: a pre-dose time
    first, then by offset."""

    __slots__ = ("code", "label", "offset", "lo", "hi", "order")

    def __init__(self, code: str, label: str, offset: int, lo: int, hi: int, pre: int):
        self.code = code
        self.label = label
        self.offset = offset
        self.lo = lo
        self.hi = hi
        self.order = (pre, offset)


class TimedItemSpec:
    __slots__ = ("atype", "item", "points", "arms", "sex", "condition")

    def __init__(self, atype: str, item: str, arms: frozenset[str], sex: str | None,
                 condition: str | None):
        self.atype = atype
        self.item = item
        self.points: list[PointSpec] = []
        self.arms = arms
        self.sex = sex
        self.condition = condition


class TimepointsSpec:
    """The per-trial part of a timepoints block."""

    def __init__(self, block: Timepoints, cal: Calendar, order: int, procedures: set[str]):
        self.name = block.name
        self.label = block.label
        self.order = order
        self.epoch = block.epoch
        self.arms = frozenset(block.arms)
        ref = block.reference
        self.intervention: str | None = None
        self.days: list[tuple[int, str]] = []  # (days from the schedule's anchor, `day 14`)
        self.anchor: str | None = None
        self.anchor_ref: AnchorRef | None = None
        if isinstance(ref, DoseOnDays):
            self.intervention = ref.intervention
            self.days = [(round(d.days(cal)), str(d)) for d in ref.days]
            after = "post-dose"
        elif isinstance(ref, PeriodDoseAnchor):
            # rows named after the period's dose day, as cycles' are: `P2D1 0.5 h post-dose`
            self.anchor_ref = ref
            self.anchor = anchor_node(ref)
            after = "post-dose"
        else:
            self.anchor_ref = ref
            self.anchor = anchor_node(ref)
            after = f"after {self.anchor.replace('_', ' ')}"
        # one spec per item of each line: the lines of one item may be restricted differently
        self.items: list[TimedItemSpec] = []
        for act in block.items:
            for item in act.items:
                atype = "procedure" if act.kind.value == "procedure" or item in procedures \
                    else "assess"
                spec = TimedItemSpec(atype, item, frozenset(act.arms) | self.arms,
                                     act.sex.value if act.sex is not None else None,
                                     act.condition)
                self.items.append(spec)
                if act.predose is not None:
                    spec.points.append(PointSpec(PREDOSE, "pre-dose", 0,
                                                 -_us(act.predose.minutes(cal)), 0, 0))
                for d in act.offsets:
                    m = d.minutes(cal)
                    w = act.window_for(d)
                    before, after_ = w.minutes(cal) if w is not None else (0, 0)
                    spec.points.append(PointSpec(elapsed_code(m), f"{offset_label(d)} {after}",
                                                 _us(m), _us(m - before), _us(m + after_), 1))


class Reference:
    """One reference of a block for one patient: when it happened (ordinal day and time of
    day), or why its timepoints are not planned from it."""

    __slots__ = ("text", "label", "day", "time", "planned_day", "na_reason", "pending", "index")

    def __init__(self, text: str, label: str, planned_day: int, index: int):
        self.text = text  # `dose of study_drug on day 14`
        self.label = label  # `day 14` (prefix of the rows' labels), or ""
        self.day: int | None = None  # the ordinal day it happened
        self.time: ClockTime | None = None
        self.planned_day = planned_day
        self.na_reason: str | None = None
        self.pending = False  # not yet due on the as-of date
        self.index = index

    @property
    def stamp(self) -> clock.Stamp | None:
        if self.day is None:
            return None
        return _DATE(self.day), self.time


class TimedPlanned:
    """One planned occurrence of a timepoint. `nominal`, `lo` and `hi` are instants (UTC
    microseconds, see `_instant`), for matching, when the reference has a time of day, else
    None; `day`, `lo_day` and `hi_day` the ordinal dates of the nominal time and of the
    window's first and last instants as the site's clock reads them."""

    __slots__ = ("item", "point", "ref", "day", "lo_day", "hi_day", "nominal", "lo", "hi",
                 "epoch", "na_reason", "actual", "replicates", "number")

    def __init__(self, item: TimedItemSpec, point: PointSpec, ref: Reference, epoch: str | None,
                 frame: int):
        self.item = item
        self.point = point
        self.ref = ref
        self.epoch = epoch
        self.na_reason = ref.na_reason
        self.actual: Actual | None = None
        self.replicates: list[Actual] = []
        self.number = 0
        self.nominal: int | None = None
        self.lo: int | None = None
        self.hi: int | None = None
        if ref.day is not None:
            start = ref.day * MICROS_PER_DAY
            lo, hi = clock.bounds(_DATE(ref.day), ref.time, False)
            self.day = (start + (ref.time.micros if ref.time else 0) + point.offset) \
                // MICROS_PER_DAY
            self.lo_day = (lo + point.lo) // MICROS_PER_DAY
            self.hi_day = (hi + point.hi) // MICROS_PER_DAY
            rep = _instant(ref.day, ref.time, frame)
            if rep is not None:
                self.nominal, self.lo, self.hi = rep + point.offset, rep + point.lo, \
                    rep + point.hi
        else:
            start = ref.planned_day * MICROS_PER_DAY
            self.day = (start + point.offset) // MICROS_PER_DAY
            self.lo_day = (start + point.lo) // MICROS_PER_DAY
            self.hi_day = (start + MICROS_PER_DAY - 1 + point.hi) // MICROS_PER_DAY

    @property
    def label(self) -> str:
        return f"{self.ref.label} {self.point.label}" if self.ref.label else self.point.label

    def position(self, a: Actual) -> int:
        """engine.clock's answer for record `a` against this occurrence's window."""
        ref = self.ref.stamp
        assert ref is not None
        s = _stamp(a)
        return clock.window_position(s, s, ref, self.point.lo, self.point.hi)


def _instant(day: int, time: ClockTime | None, frame: int) -> int | None:
    """The instant a stamp stands for, for ordering and matching (None without a time of
    day): its time, the middle of the hour for a time to the hour only; on UTC, a time
    without an offset taken at `frame` (the offset of the patient's doses, 0 without one).
    The statuses do not use it: they follow engine.clock."""
    if time is None:
        return None
    extra = _HOUR // 2 if time.precision == "hour" else 0
    offset = time.offset if time.offset is not None else frame
    return day * MICROS_PER_DAY + time.micros + extra - offset * _MINUTE


def _stamp(a: Actual) -> clock.Stamp:
    return stamp_of(a.event)  # type: ignore[arg-type]


def _time_of(a: Actual) -> ClockTime | None:
    return _stamp(a)[1]


_DATE: Final = datetime.date.fromordinal


class TimedRun:
    """The timepoints of one patient: planned once the doses they are timed from are settled,
    then matched item by item as match_groups reaches each (engine.schedule)."""

    def __init__(self, run: _Run, specs: list[TimepointsSpec]):
        self.run = run
        self.specs = specs
        self.keys = {(it.atype, it.item) for s in specs for it in s.items}
        self.dose_keys = [("dose", s.intervention) for s in specs if s.intervention is not None]
        self.planned: dict[tuple[str, str], list[TimedPlanned]] | None = None
        self.scope: Scope | None = None
        self.frame = 0  # the UTC offset (minutes) times without one are taken at, for matching

    # ---- planning ----------------------------------------------------------------------------

    def plan(self) -> dict[tuple[str, str], list[TimedPlanned]]:
        if self.planned is not None:
            return self.planned
        run = self.run
        out: dict[tuple[str, str], list[TimedPlanned]] = {k: [] for k in self.keys}
        by_spec = [(spec, self.references(spec)) for spec in self.specs]
        excluded_arm: set[tuple[str, str]] = set()
        self.frame = next((r.time.offset for _, refs in by_spec for r in refs
                           if r.time is not None and r.time.offset is not None), 0)
        for spec, refs in by_spec:
            for it in spec.items:
                if not run.applies(it.arms):
                    if (spec.name, it.item) in excluded_arm:
                        continue
                    excluded_arm.add((spec.name, it.item))
                    who = f"arm {run.arm}" if run.arm else "a patient without an arm"
                    run.na_rows.append((spec.order, ScheduleRow(
                        it.item, it.atype, 0, f"all timepoints of {spec.label}",
                        Status.NOT_APPLICABLE,
                        reason=f"not planned for {who} (only arms {', '.join(sorted(it.arms))})",
                        epoch=spec.epoch)))
                    continue
                excluded = run.item_excluded(frozenset(), it.sex, it.condition)
                group = out[(it.atype, it.item)]
                for ref in refs:
                    for point in it.points:
                        p = TimedPlanned(it, point, ref, spec.epoch, self.frame)
                        if excluded is not None and p.na_reason is None:
                            p.na_reason = excluded
                        group.append(p)
        for group in out.values():
            group.sort(key=_planned_order)
        self.planned = out
        return out

    def references(self, spec: TimepointsSpec) -> list[Reference]:
        run = self.run
        refs: list[Reference] = []
        if spec.intervention is not None:
            iv = spec.intervention
            planned = run.out.dose_planned.get(iv) or []
            rows = run.rows_by_group.get(("dose", iv)) or []
            for n, (off, day_text) in enumerate(spec.days):
                target = run.root + off
                ref = Reference(f"dose of {iv} on {day_text}", day_text, target, n)
                refs.append(ref)
                i = next((i for i, p in enumerate(planned) if p.nominal == target), None)
                if i is not None:
                    p = planned[i]
                    row = rows[i] if i < len(rows) else None
                    if p.actual is not None:
                        a = p.actual
                        ev = a.event
                        ref.day = a.day
                        if isinstance(ev, DoseEvent) and ev.start.toordinal() == a.day:
                            ref.time = ev.start_time
                    elif row is not None and row.status is Status.NOT_DUE:
                        ref.pending = True
                    elif row is not None and row.status is Status.NOT_APPLICABLE:
                        # as the dose's own row says (`after withdrawal on 2024-05-27`)
                        ref.na_reason = row.reason or f"the {ref.text} is not applicable"
                    else:
                        ref.na_reason = f"the {ref.text} was not given"
                    continue
                # no dose planned that day: the first one recorded on it
                s = run.idx.doses.get(iv)
                hit = None
                if s is not None:
                    for k in range(s.until(run.as_of_date)):
                        if s.dates[k].toordinal() == target:
                            hit = s.events[k]
                            break
                if isinstance(hit, DoseEvent):
                    ref.day, ref.time = target, hit.start_time
                elif target > run.as_of:
                    ref.pending = True
                else:
                    ref.na_reason = f"no {iv} is planned or recorded on {day_text}"
            return refs
        assert spec.anchor_ref is not None and spec.anchor is not None
        if isinstance(spec.anchor_ref, PeriodDoseAnchor):
            return [self.period_reference(spec.anchor)]
        if self.scope is None:
            self.scope = Scope(run.idx, run.as_of_date, run.plan.calendar, run.plan.items)
        stamp = compile_anchor_stamp(spec.anchor_ref)(self.scope)
        planned_day = run.node_date(spec.anchor)
        ref = Reference(spec.anchor.replace("_", " "), "",
                        stamp[0].toordinal() if stamp else (planned_day or run.root), 0)
        if stamp is not None:
            ref.day, ref.time = stamp[0].toordinal(), stamp[1]
        elif planned_day is not None and planned_day > run.as_of:
            ref.pending = True
        elif planned_day is not None:
            ref.na_reason = f"{ref.text} did not happen"
        else:
            return []  # an event that did not happen plans nothing (as a visit `on` it)
        return [ref]

    def period_reference(self, node: str) -> Reference:
        """`first dose of period 2`: the record engine.periods dated the period's dose by (its
        date and time of day); pending while the period may still start; not applicable, with
        the period's reason, when it did not start."""
        run = self.run
        rec, pending, reason, label = run.period_doses.get(node, (None, None, None, ""))
        planned_day = run.node_date(node)
        ref = Reference(node, label, planned_day if planned_day is not None else run.root, 0)
        if rec is not None:
            ev = rec.event
            ref.day = rec.day
            if isinstance(ev, DoseEvent) and ev.start.toordinal() == rec.day:
                ref.time = ev.start_time
        elif pending is not None:
            ref.pending = True
        else:
            ref.na_reason = reason or f"the {node} was not given"
        return ref

    # ---- matching ----------------------------------------------------------------------------

    def match_and_settle(self, key: tuple[str, str], planned: list[Planned],
                         actuals: list[Actual]) -> list[ScheduleRow]:
        """Match the item's timepoints and its day-level occurrences (`planned`) to its records,
        and give every occurrence its row, numbered together in date order."""
        run = self.run
        timed = self.plan()[key]
        live = [p for p in timed if p.na_reason is None and p.ref.day is not None]
        _by_label(live, actuals)
        _by_time(live, actuals, self.frame)
        _replicates(live, actuals)
        match(planned, actuals, named=False)
        _by_order(live, actuals, self.frame)
        _replicates(live, actuals)
        # one numbering, in date order: a day's own occurrence before its timepoints
        order: list[tuple[tuple[int, int, int, int, int], int]] = [
            ((p.nominal, 0, 0, 0, 0), -1 - k) for k, p in enumerate(planned)]
        order += [((t.day, 1, t.ref.index, *t.point.order), k) for k, t in enumerate(timed)]
        order.sort()
        numbers = [0] * len(planned)
        for n, (_, k) in enumerate(order, 1):
            if k >= 0:
                timed[k].number = n
            else:
                numbers[-1 - k] = n
        rows = [self.settle(t) for t in timed]
        # a record left on the day of a timepoint that could not be planned says why
        reasons: dict[int, str] = {}
        for a in actuals:
            if not a.used:
                why = next((t.na_reason for t in timed if t.na_reason is not None
                            and t.lo_day <= a.day <= t.hi_day), None)
                if why is not None:
                    reasons[a.pos] = why
        rows += run.settle_group(key[0], key[1], planned, actuals, numbers, bool(timed),
                                 reasons)
        rows.sort(key=_BY_OCCURRENCE)
        return rows

    # ---- statuses ----------------------------------------------------------------------------

    def settle(self, p: TimedPlanned) -> ScheduleRow:
        run = self.run
        it = p.item
        a = p.actual
        stop = run.stops.for_other()
        status: Status
        reason: str | None = None
        deviation_days: int | None = None
        minutes: int | float | None = None
        if p.na_reason is not None:
            status, reason = Status.NOT_APPLICABLE, p.na_reason
            self.release(p)
            a = None
        elif stop is not None and p.day >= stop[0] and (a is None or a.day > stop[0]):
            status, reason = Status.NOT_APPLICABLE, f"after {stop[1]}"
            self.release(p)
            a = None
        elif a is None:
            if not run.idx.collected(it.item):
                status = Status.NOT_APPLICABLE
                reason = (f"{it.item} was not collected for this patient: the data cannot tell "
                          "whether it was done")
            elif p.ref.pending:
                status, reason = Status.NOT_DUE, f"the {p.ref.text} is not due yet"
            elif p.hi_day < run.as_of:
                status, reason = Status.MISSED, "no matching record and the window has closed"
            else:
                status, reason = Status.NOT_DUE, "the window has not closed by the as-of date"
        else:
            status, minutes, reason = self.judge(p, a)
            if status is Status.ON_TIME:
                deviation_days = 0
        tag = f"{it.atype} {it.item} #{p.number}"
        used = run.out.used
        actual_date = actual_day = ref = None
        actual_stamp: clock.Stamp | None = None
        if a is not None:
            used[a.pos] = tag
            for r in p.replicates:
                used[r.pos] = f"{tag} (replicate)"
            actual_date, actual_day, ref = _DATE(a.day), run.pday(a.day), a.event.ref  # type: ignore[attr-defined]
            actual_stamp = _stamp(a)
        timing = RowTiming(p.point.code, p.ref.text, p.ref.stamp, *self.planned_stamps(p),
                           actual_stamp, minutes)
        return ScheduleRow(
            it.item, it.atype, p.number, p.label, status, run.pday(p.day), _DATE(p.day),
            (run.pday(p.lo_day), run.pday(p.hi_day)), (_DATE(p.lo_day), _DATE(p.hi_day)),
            actual_date, actual_day, deviation_days, ref, reason, p.epoch, None, None, None, None,
            timing)

    def release(self, p: TimedPlanned) -> None:
        """Give back the record of an occurrence that is not applicable, and its replicates."""
        for r in ([p.actual] if p.actual is not None else []) + p.replicates:
            r.used = False
        p.actual = None
        p.replicates = []

    def judge(self, p: TimedPlanned, a: Actual) -> tuple[Status, int | float | None, str | None]:
        ref = p.ref.stamp
        assert ref is not None
        s = _stamp(a)
        where = p.position(a)
        if where == clock.INSIDE:
            return Status.ON_TIME, 0, None
        if where == clock.OUTSIDE:
            least, most = clock.difference_bounds(ref, s)
            if most < p.point.lo:
                gap = _minutes(most - p.point.lo)
                return Status.EARLY, gap, f"{_amount(-gap)} before the window opened"
            gap = _minutes(least - p.point.hi)
            if p.point.code == PREDOSE:  # its window closes at the dose: it came after it
                return Status.LATE, gap, (f"{_amount(gap)} after the window closed: taken after "
                                          f"the {p.ref.text}, not before it")
            return Status.LATE, gap, f"{_amount(gap)} after the window closed"
        why = clock.precision_note(s)
        whose = "the record"
        if why is None:
            why, whose = clock.precision_note(ref), f"the {p.ref.text}"
        if why is None:  # both instants: one has a UTC offset and the other none
            why, whose = "has no UTC offset while the other has one", \
                "the record" if s[1] is not None and s[1].offset is None else f"the {p.ref.text}"
        return Status.TIME_UNKNOWN, None, (
            f"done, but whether within its window cannot be told: {whose} {why}")

    def planned_stamps(self, p: TimedPlanned) -> tuple[clock.Stamp | None,
                                                       tuple[clock.Stamp, clock.Stamp] | None]:
        """The nominal instant and the window's first and last instants, as date and time of
        day with the reference's UTC offset (None unless the reference is an instant)."""
        t = p.ref.time
        if p.nominal is None or p.lo is None or p.hi is None or t is None \
                or t.precision == "hour":
            return None, None
        shift = (t.offset if t.offset is not None else self.frame) * _MINUTE
        return (_clock_stamp(p.nominal + shift, t.offset),
                (_clock_stamp(p.lo + shift, t.offset), _clock_stamp(p.hi + shift, t.offset)))


def _clock_stamp(instant: int, offset: int | None) -> clock.Stamp:
    day, micros = divmod(instant, MICROS_PER_DAY)
    precision = "minute" if micros % _MINUTE == 0 else "second"
    return _DATE(day), ClockTime(micros, precision, offset)


def _minutes(micros: int) -> int | float:
    m = round(micros / _MINUTE, 2)
    return int(m) if float(m).is_integer() else m


def _amount(minutes: int | float) -> str:
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"


def _planned_order(p: TimedPlanned) -> tuple[int, int, int, int]:
    return p.day, p.ref.index, *p.point.order


def _BY_OCCURRENCE(row: ScheduleRow) -> int:  # noqa: N802
    return row.occurrence


# ---- the matching steps -----------------------------------------------------------------------


def _free(actuals: list[Actual]) -> list[Actual]:
    return [a for a in actuals if not a.used and a.end is None]


def _by_label(live: list[TimedPlanned], actuals: list[Actual]) -> None:
    """(A) A record that names its timepoint takes that timepoint's occurrence of the reference
    whose date is nearest the record's (the earlier on a tie)."""
    for a in _free(actuals):
        code = getattr(a.event, "timepoint", None)
        if code is None:
            continue
        best: TimedPlanned | None = None
        for p in live:
            if p.actual is None and p.point.code == code and (
                    best is None or abs(p.day - a.day) < abs(best.day - a.day)):
                best = p
        if best is not None:
            a.used = True
            best.actual = a


def _by_time(live: list[TimedPlanned], actuals: list[Actual], frame: int) -> None:
    """(B) Records with a time of day, against occurrences timed from a reference with one: the
    ordinary matching rules (engine.conformance) on instants instead of days."""
    timed = sorted((p for p in live if p.nominal is not None), key=lambda p: p.nominal)  # type: ignore[arg-type,return-value]
    if not timed:
        return
    proxies: list[Planned] = []
    for p in timed:
        assert p.nominal is not None and p.lo is not None and p.hi is not None
        q = Planned("timepoint", p.item.item, p.label, p.nominal, p.lo, p.hi)
        if p.actual is not None:  # taken by its label: keeps the matches in order
            q.actual = Actual(_instant(p.actual.day, _time_of(p.actual), frame) or p.nominal,
                              p.actual.pos, p.actual)
            q.actual.used = True
        proxies.append(q)
    records: list[Actual] = []
    for a in _free(actuals):
        at = _instant(a.day, _time_of(a), frame)
        if at is not None:
            records.append(Actual(at, a.pos, a))
    if not records:
        return
    records.sort(key=lambda r: (r.day, r.pos))
    match_general(proxies, records)
    for p, q in zip(timed, proxies, strict=True):
        if p.actual is None and q.actual is not None:
            original = q.actual.event
            assert isinstance(original, Actual)
            original.used = True
            p.actual = original


def _replicates(live: list[TimedPlanned], actuals: list[Actual]) -> None:
    """(C) A further record is a replicate of a matched occurrence (ECG triplicates) when it
    is surely inside its window; or, when the window cannot place it (a reference without a
    time of day), when it was taken on the matched record's date within the window's width of
    its time."""
    matched = [p for p in live if p.actual is not None]
    if not matched:
        return
    for a in _free(actuals):
        t = _time_of(a)
        if t is None:
            continue
        for p in matched:
            if p.position(a) == clock.INSIDE or _near(p, a, t):
                a.used = True
                p.replicates.append(a)
                break


def _near(p: TimedPlanned, a: Actual, t: ClockTime) -> bool:
    """Whether `a` was taken within the window's width of the record matched to `p`, on its
    date, when `p`'s reference has no time of day."""
    m = p.actual
    if p.ref.time is not None or m is None or m.day != a.day:
        return False
    mt = _time_of(m)
    if mt is None:
        return False
    lo, hi = clock.difference_bounds(_stamp(m), (_DATE(a.day), t))
    width = p.point.hi - p.point.lo
    return -width <= lo and hi <= width


def _by_order(live: list[TimedPlanned], actuals: list[Actual], frame: int) -> None:
    """(E) What is left, in order: each occurrence without a record takes the first record
    left whose date is not before the previous match's nor after the next match's, and that
    may lie in its window (a record without a time of day on a day the window touches)."""
    left = _free(actuals)
    if not left:
        return
    left.sort(key=lambda a: (a.day, _instant(a.day, _time_of(a), frame) or 0, a.pos))
    for i, p in enumerate(live):
        if p.actual is not None:
            continue
        after = max((q.actual.day for q in live[:i] if q.actual is not None), default=None)
        before = min((q.actual.day for q in live[i + 1:] if q.actual is not None), default=None)
        for a in left:
            if a.used or (after is not None and a.day < after) or (
                    before is not None and a.day > before):
                continue
            if p.position(a) != clock.OUTSIDE:
                a.used = True
                p.actual = a
                break
