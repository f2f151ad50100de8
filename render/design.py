"""The trial design as documents and exports lay it out: epochs, elements, arm-by-epoch cells.

The protocol states arms, epochs and a schedule; it does not name SDTM "elements". They are
derived here, once, so that the document's schema, the SDTM TA/TE tables and the USDM cells
agree: in each epoch an arm either receives interventions (one element per dose step, so a
titration gives several) or follows the epoch's common activity (screening, follow-up), and a
no-intervention arm observes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from protocol.allocation import allocation_ratio
from protocol.design import Arm, Regimen
from protocol.expr import AggregateFn, DoseAnchor, NamedAnchor, PeriodDoseAnchor
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    Periods,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Timepoints,
    Visit,
)
from protocol.timing import Calendar, Duration, TimeUnit
from protocol.trial import Trial
from protocol.vocab import ActivityKind, Allocation, ArmType
from render.terms import Terms, duration_text, join_and, lower_first, num, quantity_display


@dataclass(frozen=True)
class EpochInfo:
    name: str
    label: str
    randomized_before: bool = False  # randomization happens at the start of this epoch
    period: int | None = None  # a study period's epoch (or, with washout, the one after it)
    washout: bool = False  # the washout after study period `period`


@dataclass
class Element:
    code: str
    name: str
    description: str
    epoch: str
    start_rule: str
    end_rule: str = ""
    duration: Duration | None = None
    interventions: tuple[str, ...] = ()
    dose: str = ""


@dataclass
class Cell:
    arm: str
    epoch: str
    elements: list[Element] = field(default_factory=list)
    note: str = ""  # a line under the element in the figure: how a cycle repeats, a washout


@dataclass
class DesignMatrix:
    epochs: list[EpochInfo]
    arms: list[Arm]
    cells: list[Cell]
    elements: list[Element]

    def cell(self, arm: str, epoch: str) -> Cell | None:
        return next((c for c in self.cells if c.arm == arm and c.epoch == epoch), None)


DEFAULT_EPOCH = EpochInfo("treatment", "Treatment")


def iso_duration(d: Duration) -> str:
    """ISO 8601 duration as SDTM TEDUR wants it: P2W, P6M, P14D, PT12H."""
    amount = int(d.amount) if float(d.amount).is_integer() else d.amount
    if d.unit is TimeUnit.HOUR:
        return f"PT{amount}H"
    if d.unit is TimeUnit.MINUTE:
        return f"PT{amount}M"
    letter = {TimeUnit.DAY: "D", TimeUnit.WEEK: "W", TimeUnit.MONTH: "M", TimeUnit.YEAR: "Y"}
    return f"P{amount}{letter[d.unit]}"


def _code(text: str, taken: set[str], length: int = 8) -> str:
    base = re.sub(r"[^A-Z0-9]", "", text.upper())[:length] or "EL"
    code = base
    n = 2
    while code in taken:
        suffix = str(n)
        code = base[: length - len(suffix)] + suffix
        n += 1
    taken.add(code)
    return code


def item_days(item: Visit | Activity | Cycles | Timepoints, calendar: Calendar) -> list[float]:
    """Nominal days of a visit or activity relative to the schedule's anchor (where fixed)."""
    if isinstance(item, Cycles):
        return [item.start.days(calendar)]
    if isinstance(item, Timepoints):
        ref = item.dose_reference
        return [d.days(calendar) for d in ref.days] if ref is not None else []
    if isinstance(item, Visit):
        t = item.timing
        if isinstance(t, AtDay):
            return [t.point.days(calendar)]
        if isinstance(t, DayRange):
            return [t.start.days(calendar), t.end.days(calendar)]
        return []
    timing = item.timing
    if isinstance(timing, AtTimes):
        return [p.days(calendar) for p in timing.points]
    if isinstance(timing, CycleDays):
        return []
    return [timing.start.days(calendar)]


def period_epochs(trial: Trial) -> list[EpochInfo]:
    """The epochs of the study periods: `Period 1`, `Washout`, `Period 2`, ... (a washout
    between consecutive periods; `Washout 1`, `Washout 2` when there are several)."""
    sched = trial.schedule
    block = sched.periods if sched is not None else None
    if block is None:
        return []
    n = trial.period_count
    out = []
    for k in range(1, n + 1):
        out.append(EpochInfo(period_epoch(block, k), block.period_label(k), period=k))
        if k < n:
            out.append(EpochInfo(f"washout_{k}", "Washout" if n == 2 else f"Washout {k}",
                                 period=k, washout=True))
    return out


def period_epoch(block: Periods, k: int) -> str:
    """The epoch name of study period k (`treatment_2`): the engine's rows carry it too."""
    return f"{block.name}_{k}"


def epoch_list(trial: Trial) -> list[EpochInfo]:
    """Epochs in order, marking the one at whose start participants are randomized. The
    study periods (and the washouts between them) are epochs where the periods block stands."""
    sched = trial.schedule
    periods = period_epochs(trial)
    if sched is None or (not sched.epochs and not periods):
        return [EpochInfo(DEFAULT_EPOCH.name, DEFAULT_EPOCH.label, _randomized(trial))]
    cal = trial.calendar
    pre: set[str] = set()
    first_item: dict[str, int] = {}
    block_at: int | None = None
    for i, it in enumerate(sched.items):
        if isinstance(it, Periods):
            block_at = i if block_at is None else block_at
            continue
        if it.epoch is not None:
            first_item.setdefault(it.epoch, i)
    for e in sched.epochs:
        days = [d for it in sched.items if not isinstance(it, Periods) and it.epoch == e.name
                for d in item_days(it, cal)]
        if days and max(days) < 0:
            pre.add(e.name)
    declared = [EpochInfo(e.name, e.label) for e in sched.epochs]
    if periods:
        at = next((k for k, info in enumerate(declared)
                   if block_at is not None
                   and first_item.get(info.name, len(sched.items)) > block_at), len(declared))
        declared[at:at] = periods
    out: list[EpochInfo] = []
    branch_done = not _randomized(trial)
    for info in declared:
        mark = False
        if not branch_done and info.name not in pre:
            mark = True
            branch_done = True
        out.append(EpochInfo(info.name, info.label, mark, info.period, info.washout))
    return out


def _randomized(trial: Trial) -> bool:
    if trial.allocation is not None:
        return trial.allocation is Allocation.RANDOMIZED
    return len(trial.arms) > 1


def arm_regimen(trial: Trial, arm: Arm, intervention: str) -> Regimen | None:
    for ai in arm.interventions:
        if ai.intervention == intervention and ai.regimen is not None:
            return ai.regimen
    iv = trial.intervention(intervention)
    return iv.regimen if iv else None


def _dose_activities(trial: Trial, arm: str, epoch: str | None) -> list[Activity]:
    if trial.schedule is None:
        return []
    out = []
    for a in trial.schedule.activities:
        if a.kind is not ActivityKind.DOSE:
            continue
        if epoch is not None and a.epoch != epoch:
            continue
        if a.arms and arm not in a.arms:
            continue
        out.append(a)
    return out


def build_matrix(trial: Trial) -> DesignMatrix:
    terms = Terms(trial)
    epochs = epoch_list(trial)
    taken: set[str] = set()
    shared: dict[str, Element] = {}
    by_key: dict[tuple[str, ...], Element] = {}
    elements: list[Element] = []
    cells: list[Cell] = []
    has_dose_schedule = trial.schedule is not None and any(
        a.kind is ActivityKind.DOSE for a in trial.schedule.activities
    )
    first_post = next((e.name for e in epochs if e.randomized_before), None)
    if first_post is None:
        first_post = next(
            (e.name for e in epochs if not e.name.startswith("screen")), epochs[0].name
        )

    def add(el: Element) -> Element:
        elements.append(el)
        return el

    sched = trial.schedule
    block = sched.periods if sched is not None else None

    def period_element(ep: EpochInfo, arm: Arm) -> Element | None:
        """The element of a period's epoch: the arm's treatment in it, or the washout."""
        assert block is not None and ep.period is not None
        if ep.washout:
            if ("washout",) not in by_key:
                wash = washout_text(block)
                by_key[("washout",)] = add(Element(
                    code=_code("WASHOUT", taken), name="Washout",
                    description=f"Washout: {wash} from the last dose of a period to the first "
                                "dose of the next",
                    epoch=ep.name, start_rule="End of the assessments of a period",
                    end_rule=f"First dose of the next period, {wash} after the last dose of "
                             "the period before",
                    duration=block.washout.minimum))
            return by_key[("washout",)]
        if ep.period > len(arm.sequence):
            return None
        names = arm.sequence[ep.period - 1].interventions
        key: tuple[str, ...] = ("period", *names)
        if key not in by_key:
            label, desc, _, dose = _steps(trial, arm, list(names))[0]
            first, last = period_bounds(trial)
            end_day = trial.calendar.protocol_day(round(last))
            by_key[key] = add(Element(
                code=_code("_".join(names), taken), name=label, description=desc,
                epoch=ep.name,
                start_rule=f"First dose of {join_names(terms, list(names))} in a period",
                end_rule=f"End of the assessments of the period (day {end_day})",
                duration=Duration(last - first, TimeUnit.DAY) if last > first else None,
                interventions=tuple(names), dose=dose))
        return by_key[key]

    for arm in trial.arms:
        for ep in epochs:
            cell = Cell(arm.name, ep.name)
            if ep.period is not None:
                el = period_element(ep, arm)
                if el is not None:
                    cell.elements.append(el)
                if ep.washout and block is not None:
                    cell.note = washout_text(block)
                cells.append(cell)
                continue
            cycles = next((b for b in sched.cycles if (b.epoch == ep.name or (
                b.epoch is None and ep.name == first_post)) and (not b.arms or arm.name in b.arms)),
                None) if sched is not None else None
            if cycles is not None:
                cell.note = "↻ " + cycle_repeat_text(trial, cycles)
            names: list[str] = []
            if has_dose_schedule:
                for a in _dose_activities(trial, arm.name, ep.name if trial.schedule and trial.schedule.epochs else None):
                    names.extend(i for i in a.items if i not in names)
            elif ep.name == first_post:
                names = [ai.intervention for ai in arm.interventions]
            if names:
                steps = _steps(trial, arm, names)
                for idx, (label, desc, dur, dose) in enumerate(steps):
                    key: tuple[str, ...] = (ep.name, label, desc)
                    if key in by_key:
                        cell.elements.append(by_key[key])
                        continue
                    start = "First dose of " + join_names(terms, names) if idx == 0 else (
                        f"First dose of step {idx + 1} ({label})"
                    )
                    el = add(
                        Element(
                            code=_code(label, taken),
                            name=label,
                            description=desc,
                            epoch=ep.name,
                            start_rule=start,
                            end_rule=(f"{duration_text(dur)} after the start of the element" if dur else ""),
                            duration=dur,
                            interventions=tuple(names),
                            dose=dose,
                        )
                    )
                    by_key[key] = el
                    cell.elements.append(el)
            elif arm.type is ArmType.NO_INTERVENTION and ep.name == first_post:
                key = (ep.name, "no_intervention", "")
                if key not in by_key:
                    by_key[key] = add(
                        Element(
                            code=_code("OBS", taken),
                            name="Observation",
                            description=arm.description or "No trial intervention; observation only",
                            epoch=ep.name,
                            start_rule="Randomization" if ep.randomized_before else f"Start of {ep.label}",
                        )
                    )
                cell.elements.append(by_key[key])
            else:
                if ep.name not in shared:
                    shared[ep.name] = add(
                        Element(
                            code=_code(ep.name, taken),
                            name=ep.label,
                            description=ep.label,
                            epoch=ep.name,
                            start_rule=_epoch_start(trial, ep),
                        )
                    )
                cell.elements.append(shared[ep.name])
            cells.append(cell)
    return DesignMatrix(epochs, list(trial.arms), cells, elements)


def washout_text(block: Periods) -> str:
    """`at least 7 days`, `7 days`, `7 to 14 days`: the washout as the protocol states it."""
    w = block.washout
    if w.maximum is None:
        return f"at least {duration_text(w.minimum)}"
    if w.maximum == w.minimum:
        return duration_text(w.minimum)
    return f"{num(w.minimum.amount)} to {duration_text(w.maximum)}"


def period_bounds(trial: Trial) -> tuple[float, float]:
    """The first dose day and the last planned day of a study period, in days from the
    period's day 0 (its first dose's reference day)."""
    sched = trial.schedule
    block = sched.periods if sched is not None else None
    if block is None:
        return 0.0, 0.0
    cal = trial.calendar
    doses = [d for a in block.doses for d in period_item_days(a, cal)]
    days = [d for it in block.items for d in period_item_days(it, cal)]
    first = min(doses) if doses else 0.0
    return first, max(days) if days else first


def period_item_days(item: Visit | Activity, cal: Calendar) -> list[float]:
    """The days of a periods block's visit or activity from the period's day 0."""
    t = item.timing
    if isinstance(t, AtDay):
        return [t.point.days(cal)]
    if isinstance(t, DayRange):
        return [t.start.days(cal), t.end.days(cal)]
    if isinstance(t, AtTimes):
        return [p.days(cal) for p in t.points]
    if isinstance(t, Repeat) and not isinstance(t.end, RepeatUntil):
        return occurrences(item, cal, {})  # type: ignore[arg-type]
    return []


def cycle_repeat_text(trial: Trial, block: Cycles) -> str:
    """`every 21 days, at most 8 cycles, until disease progression`: how a cycles block
    repeats, in a few words for the trial schema."""
    terms = Terms(trial)
    text = f"every {duration_text(block.length)}"
    if block.max_cycles is not None:
        text += f", at most {block.max_cycles} cycles"
    ends = [terms.term(e) if terms.item(e) is not None else terms.anchor_name(e)
            for e in block.until]
    if ends:
        text += ", until " + join_and(ends, "or")
    return text


def join_names(terms: Terms, names: list[str]) -> str:
    return join_and([lower_first(terms.intervention(n)) for n in names])


def _epoch_start(trial: Trial, ep: EpochInfo) -> str:
    if ep.name.startswith("screen"):
        return "Informed consent"
    if ep.randomized_before:
        return "Randomization"
    return f"Start of the {ep.label} epoch"


def _steps(
    trial: Trial, arm: Arm, names: list[str]
) -> list[tuple[str, str, Duration | None, str]]:
    """(element label, description, duration, dose text) for the interventions given together."""
    terms = Terms(trial)
    if len(names) == 1:
        reg = arm_regimen(trial, arm, names[0])
        label0 = terms.intervention(names[0])
        if reg is not None and len(reg.steps) > 1:
            out = []
            for s in reg.steps:
                dose = quantity_display(s.amount.value, s.amount.unit)
                label = s.label or f"{label0} {dose}"
                desc = f"{label0} {dose}" + (f" for {duration_text(s.duration)}" if s.duration else "")
                out.append((label, desc, s.duration, dose))
            return out
        dose = ""
        dur = None
        if reg is not None and reg.steps:
            s = reg.steps[0]
            dose = quantity_display(s.amount.value, s.amount.unit)
            dur = s.duration
            label = s.label or label0
        else:
            label = label0
        desc = f"{label0} {dose}".strip()
        return [(label, desc, dur, dose)]
    label = " + ".join(terms.intervention(n) for n in names)
    return [(label, label, None, "")]


# ---- approximate days of anchors, for laying visits out in time -------------------------------


def anchor_days(trial: Trial) -> dict[str, float]:
    """Nominal day of each anchor that can be placed on the schedule's own day axis."""
    sched = trial.schedule
    out: dict[str, float] = {}
    if sched is None:
        return out
    cal = trial.calendar
    out[sched.anchor] = 0.0
    for a in sched.activities:
        if a.kind is not ActivityKind.DOSE:
            continue
        occ = occurrences(a, cal, {})
        for drug in a.items:
            if occ:
                out.setdefault(f"first dose of {drug}", occ[0])
                if not isinstance(a.timing, Repeat) or not isinstance(a.timing.end, RepeatUntil):
                    out[f"last dose of {drug}"] = max(out.get(f"last dose of {drug}", occ[-1]), occ[-1])
    for block in sched.cycles:
        # on the nominal axis, as if no cycle were delayed
        start, length = block.start.days(cal), block.length.days(cal)
        for a in block.items:
            if a.kind is not ActivityKind.DOSE or not isinstance(a.timing, CycleDays):
                continue
            for drug in a.items:
                out.setdefault(f"first dose of {drug}", start + a.timing.days[0] - 1)
                if block.max_cycles is not None:
                    out[f"last dose of {drug}"] = (start + length * (block.max_cycles - 1)
                                                   + a.timing.days[-1] - 1)
    periods = sched.periods
    if periods is not None:
        # on the nominal axis, as if every washout were the shortest stated
        first, _ = period_bounds(trial)
        doses = [d for a in periods.doses for d in period_item_days(a, cal)]
        last_dose = max(doses) if doses else first
        step = last_dose - first + periods.washout.minimum.days(cal)
        for k in range(1, trial.period_count + 1):
            base = periods.start.days(cal) + (k - 1) * step
            out[f"first dose of period {k}"] = base + first
            out[f"last dose of period {k}"] = base + last_dose
    for _ in range(3):  # visits timed from other visits or doses
        for v in sched.visits:
            days = item_days(v, cal)
            if days:
                out[v.name] = days[-1]
            elif isinstance(v.timing, AfterAnchor):
                ref = v.timing.anchor
                key = _anchor_key(ref)
                if key in out:
                    out[v.name] = out[key] + v.timing.offset.days(cal)
    return out


def _anchor_key(ref: object) -> str:
    if isinstance(ref, NamedAnchor):
        return ref.name
    if isinstance(ref, DoseAnchor):
        return f"{'first' if ref.which is AggregateFn.FIRST else 'last'} dose of {ref.intervention}"
    if isinstance(ref, PeriodDoseAnchor):
        return f"{'first' if ref.which is AggregateFn.FIRST else 'last'} dose of period {ref.period}"
    return ""


def occurrences(a: Activity, cal: Calendar, anchors: dict[str, float], cap: int = 2000) -> list[float]:
    """Nominal days of an activity's occurrences (a repeat until an unknown anchor gives [])."""
    t = a.timing
    if isinstance(t, AtTimes):
        return [p.days(cal) for p in t.points]
    if isinstance(t, CycleDays):
        return []  # inside a cycles block: timed from each cycle's actual start
    start = t.start.days(cal)
    step = t.every.days(cal)
    if step <= 0:
        return [start]
    end = t.end
    if isinstance(end, RepeatTimes):
        return [start + i * step for i in range(end.times)]
    if isinstance(end, RepeatFor):
        stop = start + end.duration.days(cal)
        out: list[float] = []
        d = start
        while d < stop - 1e-9 and len(out) < cap:
            out.append(d)
            d += step
        return out
    key = _anchor_key(end.anchor)
    if key not in anchors:
        return []
    stop = anchors[key]
    out = []
    d = start
    while d <= stop + 1e-9 and len(out) < cap:
        out.append(d)
        d += step
    return out


def repeat_span(a: Activity, cal: Calendar, anchors: dict[str, float]) -> tuple[float, float] | None:
    """[first, last] nominal day covered by a repeating activity, where it can be placed."""
    t = a.timing
    if not isinstance(t, Repeat):
        return None
    start = t.start.days(cal)
    end = t.end
    if isinstance(end, RepeatFor):
        # occurrences strictly before start + duration: the last is a whole number of steps
        # from the start ("every day from day 1 for 14 days" ends on day 14, not 15)
        every, length = t.every.days(cal), end.duration.days(cal)
        steps = math.ceil(length / every) - 1 if every > 0 else 0
        return start, start + every * max(steps, 0)
    if isinstance(end, RepeatTimes):
        return start, start + t.every.days(cal) * max(end.times - 1, 0)
    key = _anchor_key(end.anchor)
    if key in anchors:
        return start, anchors[key]
    return start, float("inf")


# ---- the allocation ratio ---------------------------------------------------------------------


def ratio_text(trial: Trial) -> str:
    """`1:1:1`, or "" when the protocol states no ratio."""
    r = allocation_ratio(trial)
    return ":".join(str(p) for p in r) if r else ""


