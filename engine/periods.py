"""Study periods (crossover): each period planned from the actual last dose of the one before.

A `periods` block (protocol.schedule.Periods) plans the same visits and activities in every
study period, timed from that period's own first dose (docs/engine-semantics.md, section 4):

* The patient's arm is a *sequence* (Arm.sequence): in period k it gives the k-th treatment.
  A dose of an intervention some sequence gives is planned in the periods where the
  patient's sequence gives it; any other dose of the block (and every visit and assessment)
  in every period. How many periods there are is the sequences' length.
* Period 1's day 1 (its day 0 when days are counted from 0) is the block's `from` day. Its
  *start dose* is the period's earliest planned dose; it is planned on that day, with the
  block's window. Period k + 1's start dose is planned `washout.minimum` after the last dose
  of period k (actual, else planned), with the window [last + minimum - before, last +
  maximum + after]; an open washout (`at least`) has no upper bound.
* The start dose is matched while planning: the earliest unused record of its intervention
  dated after the previous period's last dose (period 1: from half a washout, or the block's
  window, before its window) and before any record of the drug that starts a later period
  (an AB/BA sequence's B). The period's day 0 is then the start dose's actual day (less its
  planned day in the period), and every other occurrence of the period is timed from it with
  its own window. A start dose given before its window is `early`, and its reason gives the
  washout actually kept.
* The period's last dose is the latest record of its treatment from its start dose to half a
  washout after its planned last dose (else the planned one): the next period counts from it.
* A period that has not started (no start dose) while its start window is open on the as-of
  date is *pending*: its occurrences are `not_due`. A period that had not started when the
  patient's treatment stopped (a discontinuation of its start drug, or a withdrawal) is
  `not_applicable`, and so are the later ones; the period running at the stop goes on (its
  visits and assessments; its doses stop, section 5).
* Rows are labelled `P2D1` (period 2, day 1) and `P2 Admission`; their epoch is the period's
  (`treatment_2`).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from engine.conformance import Actual, Planned
from engine.results import ScheduleRow, Status
from protocol.schedule import AtDay, AtTimes, DayRange, Periods, Repeat, RepeatTimes, Visit
from protocol.timing import Calendar, Window
from protocol.trial import Trial
from protocol.vocab import ActivityKind, DataKind

if TYPE_CHECKING:
    from engine.schedule import _Run


def _window(w: Window | None, cal: Calendar) -> tuple[int, int]:
    if w is None:
        return 0, 0
    b, a = w.days(cal)
    return round(b), round(a)


class PeriodVisit:
    """A visit of every period: its day in the period and what is assessed at it."""

    __slots__ = ("name", "label", "offset", "lo", "hi", "arms", "sex", "condition",
                 "activities", "item_conditions")

    def __init__(self, v: Visit, cal: Calendar):
        self.name = v.name
        self.label = v.label
        t = v.timing
        before, after = _window(v.window, cal)
        if isinstance(t, DayRange):
            self.offset = round(t.end.days(cal))
            self.lo, self.hi = round(t.start.days(cal)), self.offset
        else:
            assert isinstance(t, AtDay)  # the checker allows no other timing in a period
            self.offset = round(t.point.days(cal))
            self.lo, self.hi = self.offset - before, self.offset + after
        self.arms = frozenset(v.arms)
        self.sex = v.sex.value if v.sex is not None else None
        self.condition = v.condition
        self.activities = v.activities
        self.item_conditions: dict[str, tuple[frozenset[str], str | None, str | None]] = {
            c.item: (frozenset(c.arms), c.sex.value if c.sex is not None else None, c.condition)
            for c in v.item_conditions}


class PeriodActivity:
    """One item (data item or intervention) of an activity of every period."""

    __slots__ = ("atype", "item", "offsets", "before", "after", "arms", "sex", "condition",
                 "by_sequence", "index")

    def __init__(self, atype: str, item: str, offsets: list[int], window: tuple[int, int],
                 arms: frozenset[str], sex: str | None, condition: str | None,
                 by_sequence: bool, index: int):
        self.atype = atype
        self.item = item
        self.offsets = offsets
        self.before, self.after = window
        self.arms = arms
        self.sex = sex
        self.condition = condition
        self.by_sequence = by_sequence  # a sequence gives it: planned where the sequence says
        self.index = index


class PeriodSpec:
    """The per-trial part of a periods block."""

    def __init__(self, block: Periods, trial: Trial, order: int):
        cal = trial.calendar
        self.block = block
        self.name = block.name
        self.label = block.label
        self.order = order
        self.count = trial.period_count
        self.start = round(block.start.days(cal))
        self.before, self.after = _window(block.window, cal)
        self.wmin = round(block.washout.minimum.days(cal))
        mx = block.washout.maximum
        self.wmax: int | None = round(mx.days(cal)) if mx is not None else None
        self.first_day = cal.first_day
        self.calendar = cal
        # arm -> the interventions of each period, in order
        self.sequences: dict[str, tuple[frozenset[str], ...]] = {
            a.name: tuple(frozenset(t.interventions) for t in a.sequence)
            for a in trial.arms if a.sequence}
        given = {n for a in trial.arms for t in a.sequence for n in t.interventions}
        procedures = {d.name for d in trial.data if d.kind is DataKind.PROCEDURE}
        self.visits = [PeriodVisit(v, cal) for v in block.visits]
        self.activities: list[PeriodActivity] = []
        for act in block.activities:
            offsets = _offsets(act.timing, cal)
            for item in act.items:
                if act.kind is ActivityKind.DOSE:
                    atype = "dose"
                elif act.kind is ActivityKind.PROCEDURE or item in procedures:
                    atype = "procedure"
                else:
                    atype = "assess"
                self.activities.append(PeriodActivity(
                    atype, item, offsets, _window(act.window, cal), frozenset(act.arms),
                    act.sex.value if act.sex is not None else None, act.condition,
                    atype == "dose" and item in given, len(self.activities)))

    @property
    def dose_items(self) -> set[str]:
        return {a.item for a in self.activities if a.atype == "dose"}

    @property
    def visit_names(self) -> set[str]:
        return {v.name for v in self.visits}

    def epoch(self, k: int) -> str:
        """The epoch of period k (`treatment_2`)."""
        return f"{self.name}_{k}"

    def day_label(self, k: int, offset: int) -> str:
        """`P2D1`: period k, the day `offset` days from the period's day 0 as the protocol
        numbers it."""
        day = offset + 1 if self.first_day == 1 and offset >= 0 else offset
        return f"P{k}D{day}"


def _offsets(timing: object, cal: Calendar) -> list[int]:
    """The days of a period's activity from the period's day 0."""
    if isinstance(timing, AtTimes):
        return sorted({round(p.days(cal)) for p in timing.points})
    assert isinstance(timing, Repeat)  # `for` or `times` (the checker allows no other)
    start, every = round(timing.start.days(cal)), max(1, round(timing.every.days(cal)))
    end = timing.end
    if isinstance(end, RepeatTimes):
        return [start + k * every for k in range(max(end.times, 1))]
    stop = start + end.duration.days(cal)  # type: ignore[union-attr]
    out: list[int] = []
    d = start
    while d < stop and len(out) < 1000:
        out.append(d)
        d += every
    return out


def plan_periods(run: _Run, spec: PeriodSpec) -> None:
    """Plan (and match the start dose of) every period of `spec` for the patient of `run`."""
    rank = spec.order
    seq = spec.sequences.get(run.arm) if run.arm is not None else None
    visits: list[PeriodVisit] = []
    for v in spec.visits:
        if not run.applies(v.arms):
            run.na_row(rank, "visit", v.name, v.arms, None)
            run.unplanned_visit_reason[v.name] = \
                f"visit {v.name} is only for arms {', '.join(sorted(v.arms))}"
        elif run.other_sex(v.sex):
            run.na_row(rank, "visit", v.name, v.arms, None, v.sex)
            run.unplanned_visit_reason[v.name] = f"visit {v.name} is only for {v.sex} patients"
        elif not run.condition_holds(v.condition)[0]:
            run.group("visit", v.name, rank)
            run.unplanned_visit_reason[v.name] = \
                f"visit {v.name} is planned only if {v.condition} happened"
        else:
            visits.append(v)
    acts: list[PeriodActivity] = []
    for a in spec.activities:
        if not run.applies(a.arms):
            run.na_row(rank, a.atype, a.item, a.arms, None)
        elif run.other_sex(a.sex):
            run.na_row(rank, a.atype, a.item, a.arms, None, a.sex)
        elif a.by_sequence and seq is None:
            who = f"arm {run.arm}" if run.arm else "a patient without an arm"
            run.group(a.atype, a.item, rank)
            run.na_rows.append((rank, _na_row(a, f"not planned for {who}: the periods dose "
                                              "it as a sequence says, and there is none")))
        elif run.condition_holds(a.condition)[0]:
            acts.append(a)
        else:
            run.group(a.atype, a.item, rank)
    starters = [a for a in acts if a.atype == "dose"]
    actuals = {a.item: run.cached_actuals("dose", a.item) for a in starters}
    catch = max(spec.wmin // 2, spec.before, 1)
    prev_last: int | None = None  # the previous period's last dose (actual, else planned)
    floor: int | None = None  # a period's start dose is dated after this day
    stopped: str | None = None  # why the periods from here on are not applicable
    last_label = ""
    for k in range(1, spec.count + 1):
        treatment = seq[k - 1] if seq is not None and k <= len(seq) else frozenset()
        doses = [a for a in starters if not a.by_sequence or a.item in treatment]
        start_item = min(doses, key=lambda a: (a.offsets[0], a.index)) if doses else None
        start_off = start_item.offsets[0] if start_item is not None else 0
        # the start dose: planned day and window
        if prev_last is None:
            nominal = run.root + spec.start + start_off
            lo, hi = nominal - spec.before, nominal + spec.after
            low = lo - catch
        else:
            nominal = prev_last + spec.wmin
            lo = nominal - spec.before
            hi = prev_last + spec.wmax + spec.after if spec.wmax is not None else run.as_of
            low = (floor if floor is not None else prev_last) + 1
        open_ended = prev_last is not None and spec.wmax is None
        stop = (run.stops.for_dose(start_item.item) if start_item is not None
                else run.stops.for_other())
        found: Actual | None = None
        if start_item is not None and stopped is None:
            found = _start_dose(run, spec, k, seq, start_item.item, actuals, low)
            if found is not None and stop is not None and found.day > stop[0]:
                found = None  # given after the stop: not this period's start (unplanned)
        started = found is not None
        label = f"{spec.label} {k}"
        if stopped is None and not started and stop is not None and (
                open_ended or stop[0] <= hi):
            stopped = f"{spec.label.lower()} {k} did not start: {stop[1]}"
        na = stopped
        pending = None
        if na is None and not started and (open_ended or hi >= run.as_of):
            pending = f"{label} has not started by the as-of date"
        if open_ended:
            hi = max(nominal, found.day if found is not None else run.as_of)
        ref = (found.day if found is not None else nominal) - start_off
        epoch = spec.epoch(k)
        note = None
        if found is not None and prev_last is not None:
            kept = found.day - prev_last
            note = (f"washout of {kept} day{'s' if kept != 1 else ''} after the last dose of "
                    f"{last_label} on {datetime.date.fromordinal(prev_last).isoformat()} "
                    f"({_washout_words(spec)} stated)")
        for v in visits:
            n = ref + v.offset
            p = Planned("visit", v.name, f"P{k} {v.label}", n, ref + v.lo, ref + v.hi, epoch)
            _add(run, "visit", v.name, rank, p, na, pending)
            for kind in v.activities:
                q = Planned("assess", kind, f"P{k} {v.label}", n, ref + v.lo, ref + v.hi, epoch,
                            visits=(v.name,))
                if kind in v.item_conditions and na is None:
                    q.na_reason = run.item_excluded(*v.item_conditions[kind])
                _add(run, "assess", kind, rank, q, na, pending)
        last_dose: int | None = None
        for a in acts:
            if a.atype == "dose" and a.by_sequence and a.item not in treatment:
                continue
            amounts = (run.regimen_amounts(a.item, a.offsets) if a.atype == "dose"
                       else [(None, None, "")] * len(a.offsets))
            for off, (amount, unit, _) in zip(a.offsets, amounts, strict=True):
                if a is start_item and off == start_off:
                    p = Planned(a.atype, a.item, spec.day_label(k, off), nominal, lo, hi, epoch,
                                amount, unit)
                    if found is not None:
                        found.used = True
                        p.actual = found
                        p.note = note
                else:
                    n = ref + off
                    p = Planned(a.atype, a.item, spec.day_label(k, off), n, n - a.before,
                                n + a.after, epoch, amount, unit)
                _add(run, a.atype, a.item, rank, p, na, pending)
                if a.atype == "dose":
                    day = p.nominal if a is not start_item or off != start_off else (
                        found.day if found is not None else nominal)
                    last_dose = day if last_dose is None else max(last_dose, day)
        # the period's last dose: the latest record of its treatment, else the planned one
        planned_last = last_dose if last_dose is not None else ref
        if na is not None:
            last = prev_last if prev_last is not None else planned_last
        elif found is not None:
            last = found.day
            limit = planned_last + catch
            for item in {a.item for a in doses}:
                for rec in actuals[item]:
                    if found.day <= rec.day <= limit and rec.day > last:
                        last = rec.day
        else:
            last = planned_last
        run.node[f"first dose of period {k}"] = (
            found.day if found is not None else (prev_last if na is not None else nominal))
        run.node[f"last dose of period {k}"] = last
        # what sub-day timepoints timed from the period's doses need (engine.timepoints)
        last_rec = None
        if found is not None and na is None:
            last_rec = next((rec for item in sorted({a.item for a in doses})
                             for rec in actuals[item] if rec.day == last and rec.day >= found.day),
                            None)
        reason = na or (None if started or pending else f"{label.lower()} did not start")
        run.period_doses[f"first dose of period {k}"] = (
            found if na is None else None, pending, reason, spec.day_label(k, start_off))
        run.period_doses[f"last dose of period {k}"] = (
            last_rec, pending, reason, spec.day_label(k, last - ref))
        if na is not None and stop is not None:
            for a in acts:
                run.cycle_cuts.setdefault((a.atype, a.item), (stop[0], stop[1]))
        prev_last = last
        floor = last
        last_label = label.lower()


def _start_dose(run: _Run, spec: PeriodSpec, k: int, seq: tuple[frozenset[str], ...] | None,
                item: str, actuals: dict[str, list[Actual]], low: int) -> Actual | None:
    """The earliest unused record of `item` dated from `low`, and before any record of a drug
    that a later period of the patient's sequence gives and this one does not: in an AB/BA
    design period 1's A is never taken after period 2's B."""
    cap = run.as_of
    if seq is not None:
        for later in seq[k:]:
            for other in later:
                if other == item or other not in actuals:
                    continue
                for rec in actuals[other]:
                    if rec.day >= low and not rec.used:
                        cap = min(cap, rec.day - 1)
                        break
    for rec in actuals.get(item, ()):
        if rec.used or rec.day < low:
            continue
        if rec.day > cap:
            break
        if rec.end is not None and rec.end > rec.day:
            continue  # a period of daily doses does not date one dose
        return rec
    return None


def _add(run: _Run, atype: str, item: str, rank: int, p: Planned, na: str | None,
         pending: str | None) -> None:
    """Plan `p`. An occurrence of a period that never started (na) is shown, but kept out of
    matching: it cannot take a record, nor merge with an occurrence planned on its day."""
    group = run.group(atype, item, rank)
    if na is not None:
        p.na_reason = na
        run.apart.setdefault((atype, item), []).append(p)
        return
    if pending is not None:
        p.pending = pending
    group.append(p)


def _washout_words(spec: PeriodSpec) -> str:
    lo, hi = spec.wmin, spec.wmax
    if hi is None:
        return f"at least {lo} day{'s' if lo != 1 else ''}"
    if hi == lo:
        return f"{lo} day{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} days"


def _na_row(a: PeriodActivity, reason: str) -> ScheduleRow:
    return ScheduleRow(a.item, a.atype, 0, "all occurrences", Status.NOT_APPLICABLE,
                       reason=reason)
