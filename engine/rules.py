"""Patient-level stopping rules as dated events on the patient's timeline.

A rule's condition is evaluated as of every date on which something it reads became known (the
date of each record of a kind it refers to; for `lasting > N days`, also the day an occurrence
reaches that length), each time with only the data dated on or before that day. Then:

* **discontinue / withdraw / follow_up_only**: the first date the condition holds is a dated
  `StoppingEvent` (status `fired`) with the evidence; later planned occurrences become
  `not_applicable` (doses of the discontinued interventions; everything for a withdrawal;
  doses of all interventions for follow_up_only).
* **`lasting > N days`**: an occurrence (adverse event) lasting more than N days fires on
  start + N + 1 if it is still going then (ongoing, no end, or an end after that day).
* **retest KIND within D**: every trigger owes a new sample of KIND dated after the trigger day
  and at most D days later. A trigger is a date on which the condition holds and either a new
  sample of KIND arrived or the condition did not hold at the previous date. Each trigger is an
  event whose retest is `done` (on time), `late`, `missing` (none, and the allowed time is over
  on the as-of date) or `not_due` (none yet, still allowed).
* **unless retest of KIND within D falls by at least P %**: when the condition first holds on day
  T, the first sample of KIND after T and within D days decides: if its value is at most
  (1 - P/100) x the latest value of KIND on or before T, the action is `rescinded` (and the
  rule keeps watching the dates after the retest: the rescinding retest does not trigger it
  again); otherwise it fires on the retest's date; with no retest it fires on T + D. Before
  T + D has passed (on the as-of date) without a retest it is `pending` (no effect yet).
* **Disposition records** whose status means withdrawal (withdrawn, lost to follow-up, died) or
  discontinuation of treatment, and AnchorEvents called `withdrawal` / `discontinuation`, are
  stopping events too (source `disposition` / `anchor`).
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections.abc import Sequence

import attrs

from engine import describe
from engine.anchor_effects import BUILT_IN, AnchorEffect
from engine.compile_expr import Cond, compile_condition
from engine.expressions import OPS, Scope, lasting_nodes, referenced_kinds, time_of
from engine.logic import TRUE
from engine.patient import Disposition, Observation, Occurrence
from engine.results import (
    EvaluationError,
    Evidence,
    RetestStatus,
    StoppingEvent,
    StopStatus,
)
from engine.timeline import PatientIndex, disposition_effect
from protocol import expr as ex
from protocol.design import DataItem
from protocol.resolve import resolve
from protocol.stopping import Discontinue, FollowUp, PatientRule, Retest, Withdraw
from protocol.timing import Calendar
from protocol.trial import Trial


@attrs.frozen
class CompiledRule:
    """A patient rule ready to evaluate: `cond` is its condition compiled once."""

    rule: PatientRule
    name: str
    action: str
    interventions: tuple[str, ...]
    kinds: frozenset[str]
    lasting: tuple[ex.Exists, ...]
    cond: Cond = attrs.field(eq=False, repr=False, default=attrs.Factory(
        lambda self: compile_condition(self.rule.condition), takes_self=True))


def compile_rules(rules: Sequence[PatientRule], all_interventions: tuple[str, ...],
                  trial: Trial | None = None) -> list[CompiledRule]:
    """The rules ready to evaluate; with the trial, their conditions' definitions, tables,
    panels and attribute units are resolved (protocol.resolve)."""
    out = []
    for i, written in enumerate(rules, 1):
        r = written
        if trial is not None:
            condition = resolve(written.condition, trial)
            if condition is not written.condition:
                r = attrs.evolve(written, condition=condition)
        a = r.action
        if isinstance(a, Discontinue):
            action, ivs = "discontinue", a.interventions
        elif isinstance(a, Withdraw):
            action, ivs = "withdraw", all_interventions
        elif isinstance(a, FollowUp):
            action, ivs = "follow_up", all_interventions
        else:
            action, ivs = "retest", ()
        name = r.name or f"rule {i}: {action} when {describe.expr(written.condition)}"
        kinds = referenced_kinds(r.condition)
        if r.unless is not None:
            kinds = kinds | {r.unless.kind}
        out.append(CompiledRule(r, name, action, tuple(ivs), frozenset(kinds),
                                tuple(lasting_nodes(r.condition))))
    return out


def _candidate_dates(cr: CompiledRule, idx: PatientIndex, as_of: datetime.date,
                     calendar: Calendar) -> list[datetime.date]:
    days: set[datetime.date] = set()
    for kind in cr.kinds:
        obs = idx.observations.get(kind)
        if obs is not None:
            days.update(obs.dates[: bisect_right(obs.dates, as_of)])
        occ = idx.occurrences.get(kind)
        if occ is not None:
            n = bisect_right(occ.dates, as_of)
            days.update(occ.dates[:n])
            for ev in occ.events[:n]:
                end = ev.end  # type: ignore[union-attr]
                if end is not None and end <= as_of:
                    days.add(end)
    for node in cr.lasting:
        assert node.lasting is not None
        limit = node.lasting.duration.days(calendar)
        first = int(limit) + 1 if node.lasting.op is ex.CompareOp.GT else -int(-limit // 1)
        # in hours or minutes the length is reached on one of two days, by the times of day
        # (a day-level cutoff then settles it on the later one at the latest)
        extra = (0, 1) if node.lasting.duration.sub_day else (0,)
        occ = idx.occ(node.selection.kind)
        for ev in occ.events[: occ.until(as_of)]:
            assert isinstance(ev, Occurrence)
            for more in extra:
                d = ev.start + datetime.timedelta(days=max(first, 0) + more)
                if d <= as_of:
                    days.add(d)
    return sorted(days)


def evaluate_rules(
    rules: Sequence[CompiledRule],
    idx: PatientIndex,
    as_of: datetime.date,
    calendar: Calendar,
    items: dict[str, DataItem],
    arm_interventions: tuple[str, ...],
    errors: list[EvaluationError],
    cited: set[int],
    anchor_effects: dict[str, AnchorEffect] = BUILT_IN,
) -> list[StoppingEvent]:
    """Every stopping event of the patient up to `as_of`, in date order. `anchor_effects`:
    what the events of anchors such as `discontinuation` stop (engine.anchor_effects)."""
    out: list[StoppingEvent] = []
    for cr in rules:
        dates = _candidate_dates(cr, idx, as_of, calendar)
        if not dates:
            continue
        scope = Scope(idx, dates[0], calendar, items, source=cr.name, errors=errors, cited=cited,
                      anchor_effects=anchor_effects)
        if cr.action == "retest":
            out.extend(_retests(cr, scope, dates, as_of))
        else:
            out.extend(_stops(cr, scope, dates, as_of))
    out.extend(_dispositions(idx, as_of, arm_interventions, out, anchor_effects))
    out.sort(key=lambda e: e.date)
    return out


def _holds(scope: Scope, cr: CompiledRule, day: datetime.date) -> tuple[bool, list[Evidence]]:
    scope.cutoff = day
    scope.ref_date = day
    truth, ev = cr.cond(scope, None)
    return truth is TRUE, ev


def _samples_after(idx: PatientIndex, kind: str, day: datetime.date,
                   as_of: datetime.date) -> list[tuple[Observation, int]]:
    """Observations of `kind` with a value, dated after `day` and on or before `as_of`."""
    s = idx.obs(kind)
    out = []
    for i in range(s.until(day), s.until(as_of)):
        ev = s.events[i]
        if isinstance(ev, Observation) and ev.value is not None:
            out.append((ev, s.positions[i]))
    return out


def _stops(cr: CompiledRule, scope: Scope, dates: list[datetime.date],
           as_of: datetime.date) -> list[StoppingEvent]:
    out: list[StoppingEvent] = []
    unless = cr.rule.unless
    idx = scope.idx
    skip_until: datetime.date | None = None
    for day in dates:
        if skip_until is not None and day <= skip_until:
            continue
        holds, ev = _holds(scope, cr, day)
        if not holds:
            continue
        if unless is None:
            out.append(StoppingEvent(cr.name, day, cr.action, StopStatus.FIRED, cr.interventions,
                                     tuple(ev)))
            return out
        within = datetime.timedelta(days=round(unless.within.days(scope.calendar)))
        due = day + within
        s = idx.obs(unless.kind)
        base_n = s.until(day)
        base = next((e for e in reversed(s.events[:base_n]) if isinstance(e, Observation)
                     and isinstance(e.value, (int, float))), None)
        retests = [(e, p) for e, p in _samples_after(idx, unless.kind, day, as_of)
                   if e.date <= due]
        common = dict(retest_kind=unless.kind, retest_due=due)
        if retests:
            r, rpos = retests[0]
            scope.cite(rpos)
            assert isinstance(r, Observation)
            fell = None
            if base is not None and isinstance(r.value, (int, float)) and base.value:
                b = float(base.value)
                fell = 100.0 * (b - float(r.value)) / b
            text = (f"retest of {unless.kind} on {r.date.isoformat()}: "
                    f"{describe.qty(r.value, r.unit)}"
                    + (f", {describe.num(fell)} % below {describe.qty(base.value, base.unit)} "
                       f"on {base.date.isoformat()}" if fell is not None and base is not None else "")
                    + f" (needed a fall of at least {describe.num(unless.percent)} %)")
            rev = Evidence(text, source=cr.name, subject=f"retest of {unless.kind}",
                           value=r.value if isinstance(r.value, (int, float, str)) else None,
                           unit=r.unit, date=r.date, ref=r.ref, threshold=unless.percent,
                           threshold_unit="%", time=r.time)
            if fell is not None and OPS[ex.CompareOp.GE](fell, unless.percent):
                out.append(StoppingEvent(cr.name, day, cr.action, StopStatus.RESCINDED,
                                         cr.interventions, tuple(ev) + (rev,),
                                         retest_status=RetestStatus.DONE, retest_date=r.date,
                                         retest_ref=r.ref, **common))  # type: ignore[arg-type]
                skip_until = r.date  # the rescinding retest does not trigger the rule again
                continue
            out.append(StoppingEvent(cr.name, r.date, cr.action, StopStatus.FIRED,
                                     cr.interventions, tuple(ev) + (rev,),
                                     retest_status=RetestStatus.DONE, retest_date=r.date,
                                     retest_ref=r.ref, **common))  # type: ignore[arg-type]
            return out
        if due < as_of:
            note = Evidence(f"no retest of {unless.kind} within {unless.within} of "
                            f"{day.isoformat()} (due by {due.isoformat()})", source=cr.name)
            out.append(StoppingEvent(cr.name, due, cr.action, StopStatus.FIRED, cr.interventions,
                                     tuple(ev) + (note,), retest_status=RetestStatus.MISSING,
                                     **common))  # type: ignore[arg-type]
            return out
        out.append(StoppingEvent(cr.name, day, cr.action, StopStatus.PENDING, cr.interventions,
                                 tuple(ev), retest_status=RetestStatus.NOT_DUE,
                                 **common))  # type: ignore[arg-type]
        return out
    return out


def _retests(cr: CompiledRule, scope: Scope, dates: list[datetime.date],
             as_of: datetime.date) -> list[StoppingEvent]:
    action = cr.rule.action
    assert isinstance(action, Retest)
    idx = scope.idx
    kind_days = set(idx.obs(action.kind).dates)
    within = datetime.timedelta(days=round(action.within.days(scope.calendar)))
    out: list[StoppingEvent] = []
    held_before = False
    for day in dates:
        holds, ev = _holds(scope, cr, day)
        if holds and (day in kind_days or not held_before):
            due = day + within
            after = _samples_after(idx, action.kind, day, as_of)
            common = dict(retest_kind=action.kind, retest_due=due)
            if after:
                r, rpos = after[0]
                scope.cite(rpos)
                status = RetestStatus.DONE if r.date <= due else RetestStatus.LATE
                out.append(StoppingEvent(cr.name, day, "retest", StopStatus.FIRED, (), tuple(ev),
                                         retest_status=status, retest_date=r.date,
                                         retest_ref=r.ref, **common))  # type: ignore[arg-type]
            else:
                status = RetestStatus.MISSING if due < as_of else RetestStatus.NOT_DUE
                out.append(StoppingEvent(cr.name, day, "retest", StopStatus.FIRED, (), tuple(ev),
                                         retest_status=status, **common))  # type: ignore[arg-type]
        held_before = holds
    return out


def _dispositions(idx: PatientIndex, as_of: datetime.date, interventions: tuple[str, ...],
                  fired: list[StoppingEvent],
                  anchor_effects: dict[str, AnchorEffect]) -> list[StoppingEvent]:
    out: list[StoppingEvent] = []
    s = idx.dispositions
    for ev in s.events[: s.until(as_of)]:
        assert isinstance(ev, Disposition)
        effect = disposition_effect(ev)
        if effect is None:
            continue
        reason = f" ({ev.reason})" if ev.reason else ""
        e = Evidence(f"disposition '{ev.status}'{reason} on {ev.date.isoformat()}",
                     source="disposition", subject="disposition", value=ev.status, date=ev.date,
                     ref=ev.ref, time=ev.time)
        out.append(StoppingEvent(f"disposition: {ev.status}", ev.date, effect, StopStatus.FIRED,
                                 interventions, (e,), source="disposition"))
    for name, anchor in anchor_effects.items():
        hit = idx.anchor_date(name, as_of)
        if hit is None:
            continue
        day = hit[0]
        effect = anchor.action
        stopped = anchor.interventions if anchor.interventions is not None else interventions
        if any(x.date == day and x.action == effect for x in out + fired):
            continue
        a = idx.patient.events[hit[1]]
        e = Evidence(f"{name} on {day.isoformat()}", source="anchor", subject=name, date=day,
                     ref=a.ref, time=time_of(a))
        out.append(StoppingEvent(name, day, effect, StopStatus.FIRED, stopped, (e,),
                                 source="anchor"))
    return out
