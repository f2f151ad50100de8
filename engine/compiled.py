"""A protocol compiled once for fast evaluation of many patients, and the per-patient pipeline:

1. index the patient's events (by kind, visit, intervention; each sorted once);
2. eligibility at the reference date (engine.eligibility);
3. patient stopping rules and dispositions up to the as-of date (engine.rules);
4. the schedule planned from the schedule's anchor, changed by the stopping events, and matched
   to the actual visits, assessments and doses (engine.schedule, engine.conformance);
5. dosing per intervention (engine.dosing);
6. the account of every input event: exactly one role each (engine.results.EventRole).
"""

from __future__ import annotations

import datetime
from typing import Final

from engine.anchor_effects import AnchorEffect, anchor_effects
from engine.dosing import summarize
from engine.eligibility import compile_criteria, evaluate_eligibility
from engine.expressions import Scope
from engine.patient import (
    AnchorEvent,
    Disposition,
    DoseEvent,
    Observation,
    Occurrence,
    Patient,
    VisitEvent,
    fast_constructor,
)
from engine.results import (
    EligibilityResult,
    EvaluationError,
    EventAccount,
    EventRole,
    PatientResult,
    StoppingEvent,
)
from engine.rules import compile_rules, evaluate_rules
from engine.schedule import Outcome, SchedulePlan, Stops, plan_and_match
from engine.timeline import EVENT_TYPE_NAMES, PatientIndex, completes, disposition_effect
from protocol.schedule import OnEvent
from protocol.trial import Trial


class CompiledTrial:
    """Everything about a trial that does not depend on the patient, computed once."""

    def __init__(self, trial: Trial):
        self.trial = trial
        self.calendar = trial.calendar
        self.items = {d.name: d for d in trial.data}
        self.criteria = compile_criteria(trial)
        self.all_interventions = tuple(i.name for i in trial.interventions)
        self.rules = compile_rules(trial.stopping.patient_rules, self.all_interventions, trial)
        self.schedule = SchedulePlan(trial)
        self.reference_anchor = trial.reference_anchor
        self.root = trial.schedule.anchor if trial.schedule else None
        self.anchor_effects = anchor_effects(trial)
        names = set(self.anchor_effects)
        if self.reference_anchor:
            names.add(self.reference_anchor)
        if trial.schedule is not None:
            names.add(trial.schedule.anchor)
            names.update(a.name for a in trial.schedule.anchors)
            for v in trial.schedule.visits + trial.schedule.period_visits:
                if isinstance(v.timing, OnEvent):
                    names.add(v.timing.event)
                if v.condition:
                    names.add(v.condition)
        self.anchor_names = frozenset(names)

    # ---- the pipeline -------------------------------------------------------------------------

    def _anchor(self, idx: PatientIndex, name: str | None,
                as_of: datetime.date) -> tuple[datetime.date, int] | None:
        if name is None:
            return None
        return idx.anchor_date(name, as_of) or idx.first_visit(name, as_of)

    def evaluate(self, patient: Patient, as_of: datetime.date) -> PatientResult:
        idx = PatientIndex(patient)
        errors: list[EvaluationError] = []
        cited: set[int] = set()
        notes: list[str] = []
        anchor_pos: set[int] = set()

        # eligibility, with the data up to the reference date
        ref = self._anchor(idx, self.reference_anchor, as_of)
        ref_date = ref[0] if ref else None
        if ref:
            anchor_pos.add(ref[1])
        elif self.reference_anchor is None:
            ref_date = as_of  # a protocol without a reference anchor is judged as of the data cut
        scope = Scope(idx, ref_date or as_of, self.calendar, self.items, ref_date=ref_date,
                      errors=errors, cited=cited, anchor_effects=self.anchor_effects)
        if ref_date is None:
            scope.ref_date = None
        eligibility: EligibilityResult = evaluate_eligibility(
            self.criteria, scope, self.reference_anchor, ref_date)

        # stopping rules and dispositions
        arm_ivs = self.schedule.arm_interventions.get(patient.arm, self.all_interventions) \
            if patient.arm is not None else self.all_interventions
        stopping = evaluate_rules(self.rules, idx, as_of, self.calendar, self.items, arm_ivs,
                                  errors, cited, self.anchor_effects)
        stops = _stops(stopping, self.anchor_effects)
        done = _completion(idx, as_of)
        if done is not None:
            stops.end_all(done[0].toordinal() + 1, f"completion on {done[0].isoformat()}")
            anchor_pos.add(done[1])

        for name, series in idx.anchors.items():
            if name in self.anchor_names and series.until(as_of) > 1:
                notes.append(f"{series.until(as_of)} '{name}' anchor records: the earliest, "
                             f"{series.dates[0].isoformat()}, is used")

        # the schedule
        root = self._anchor(idx, self.root, as_of)
        outcome: Outcome | None = None
        if self.root is not None and root is not None:
            anchor_pos.add(root[1])
            outcome = plan_and_match(self.schedule, idx, patient.arm, as_of, root[0], stops)
            notes.extend(outcome.notes)
            anchor_pos |= outcome.anchor_positions
        elif self.root is not None:
            notes.append(f"no date for {self.root}: the schedule was not evaluated")
        stopped = {iv: day for iv, (day, _) in stops.treatment.items()}
        if stops.withdraw is not None:
            for iv in self.all_interventions:
                stopped[iv] = min(stopped.get(iv, stops.withdraw), stops.withdraw)
        dosing = summarize(outcome, as_of, stopped) if outcome is not None else []

        accounts = self._account(patient, as_of, outcome, cited, anchor_pos)
        return PatientResult(
            id=patient.id,
            arm=patient.arm,
            as_of=as_of,
            eligibility=eligibility,
            schedule=tuple(outcome.rows) if outcome else (),
            unplanned=tuple(sorted(outcome.unplanned, key=lambda u: u.date)) if outcome else (),
            dosing=tuple(dosing),
            stopping=tuple(stopping),
            events=accounts,
            errors=tuple(errors),
            notes=tuple(dict.fromkeys(notes)),
            anchor_date=root[0] if root else None,
            ref=patient.ref,
        )

    def _account(self, patient: Patient, as_of: datetime.date, outcome: Outcome | None,
                 cited: set[int], anchor_pos: set[int]) -> tuple[EventAccount, ...]:
        out: list[EventAccount] = []
        used = outcome.used if outcome else {}
        unplanned = outcome.unplanned_pos if outcome else set()
        names = EVENT_TYPE_NAMES
        append = out.append
        for i, ev in enumerate(patient.events):
            t = type(ev)
            etype = names[t]
            detail: str | None = None
            # the (start) date of the event, as timeline.event_date
            if (ev.start if t is Occurrence or t is DoseEvent else ev.date) > as_of:  # type: ignore[union-attr]
                role, detail = EventRole.NOT_EVALUATED, "dated after the as-of date"
            elif i in used:
                append(_ACCOUNT(i, ev.ref, etype, _MATCHED, used[i]))
                continue
            elif i in unplanned:
                role = EventRole.UNPLANNED
            elif isinstance(ev, AnchorEvent):
                if ev.name in self.anchor_names or i in anchor_pos:
                    role = EventRole.ANCHOR
                else:
                    role, detail = EventRole.NOT_SCHEDULE_RELEVANT, \
                        f"anchor '{ev.name}' is not used by the protocol"
            elif isinstance(ev, Disposition):
                if disposition_effect(ev) is not None or i in anchor_pos:
                    role, detail = EventRole.ANCHOR, f"disposition: {ev.status}"
                else:
                    role, detail = EventRole.NOT_SCHEDULE_RELEVANT, f"disposition: {ev.status}"
            elif outcome is None and isinstance(ev, (VisitEvent, DoseEvent)) or (
                    outcome is None and isinstance(ev, (Observation, Occurrence))
                    and ev.kind in self.schedule.assess_kinds):
                role, detail = EventRole.NOT_EVALUATED, f"no date for {self.root}"
            elif i in cited:
                role = EventRole.EVIDENCE
            elif outcome is not None and i in outcome.history:
                role, detail = EventRole.NOT_SCHEDULE_RELEVANT, \
                    "history: dated before the schedule's first window"
            else:
                role = EventRole.NOT_SCHEDULE_RELEVANT
            append(_ACCOUNT(i, ev.ref, etype, role, detail))
        return tuple(out)


_MATCHED: Final = EventRole.MATCHED
_ACCOUNT: Final = fast_constructor(EventAccount)  # every field, positionally


def _stops(events: list[StoppingEvent], effects: dict[str, AnchorEffect]) -> Stops:
    stops = Stops()
    for e in events:
        if not e.effective:
            continue
        day = e.date.toordinal()
        what = e.rule
        label = {"discontinue": "discontinuation", "withdraw": "withdrawal",
                 "follow_up": "end of treatment"}[e.action]
        text = f"{label} ({what})" if what not in ("discontinuation", "withdrawal") else label
        text = f"{text} on {e.date.isoformat()}"
        if e.action == "withdraw":
            stops.end_all(day, text)
        else:
            for iv in e.interventions:
                cur = stops.treatment.get(iv)
                if cur is None or day < cur[0]:
                    stops.treatment[iv] = (day, text)
        # the anchors this event dates (the earliest event counts)
        for name, effect in effects.items():
            if effect.dated_by(e.action, e.interventions):
                stops.anchors[name] = min(stops.anchors.get(name, day), day)
    return stops


def _completion(idx: PatientIndex, as_of: datetime.date) -> tuple[datetime.date, int] | None:
    """The first disposition saying the patient completed the study (on or before as_of)."""
    s = idx.dispositions
    for i in range(s.until(as_of)):
        ev = s.events[i]
        assert isinstance(ev, Disposition)
        if completes(ev):
            return ev.date, s.positions[i]
    return None


def compile_trial(trial: Trial) -> CompiledTrial:
    """Compile `trial` once; pass the result to `evaluate`/`evaluate_all`."""
    return CompiledTrial(trial)
