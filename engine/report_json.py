"""The JSON report: pure conversions from result objects to JSON-able dicts.

Schema `trialcode.report/2` (docs/engine-semantics.md, "The JSON report", documents every field):

    {"schema": "trialcode.report/2", "trial": "NCT06802718", "as_of": "2025-01-31",
     "patients": [PATIENT, ...], "rejected": [REJECTED, ...], "summary": SUMMARY}

Dates are ISO strings, days are protocol days (day 0 = the schedule anchor's day), enums are
their lower-case values, absent values are null. Nothing here writes files: `report` builds the
whole document for small runs; for a stream, write `report_header` and then each
`patient_json(result)` yourself (the renderers and the CLI do).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from engine.patient import RecordRef, RejectedRecord, stamp_text
from engine.results import (
    ClockStamp,
    CriterionResult,
    DosingSummary,
    EligibilityResult,
    EventAccount,
    EventRole,
    Evidence,
    PatientResult,
    ScheduleRow,
    StoppingEvent,
    UnplannedEvent,
)
from engine.summary import Summary, SummaryResult

SCHEMA = "trialcode.report/2"

__all__ = [
    "SCHEMA",
    "evidence_json",
    "patient_json",
    "rejected_json",
    "report",
    "report_header",
    "summary_json",
]


# Enum members are read through `_value_`: the `.value` property is Python code, and a report
# reads a few hundred of them per patient (it was the largest single cost of writing one).


class _IsoDates(dict[datetime.date, str]):
    """date -> its ISO text, remembered: a report writes four dates per schedule row, and a
    trial's rows share a few hundred dates (building the text each time was a fifth of the
    cost of a patient's report). Bounded, in case a file spans endless dates."""

    def __missing__(self, day: datetime.date) -> str:
        text = day.isoformat()
        if len(self) < 100_000:
            self[day] = text
        return text


_ISO = _IsoDates()


def _d(x: datetime.date | None) -> str | None:
    return _ISO[x] if x is not None else None


def _ref(ref: RecordRef | None) -> str | None:
    return str(ref) if ref is not None else None


def evidence_json(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"explanation": e.explanation}
    if e.subject is not None:
        out["subject"] = e.subject
    if e.truth is not None:
        out["truth"] = e.truth._value_
    if e.value is not None:
        out["value"] = e.value
    if e.unit is not None:
        out["unit"] = e.unit
    if e.date is not None:
        out["date"] = _ISO[e.date]
        if e.time is not None:
            out["time"] = e.time.iso()
    if e.ref is not None:
        out["source"] = str(e.ref)
    if e.threshold is not None:
        out["threshold"] = e.threshold
    if e.threshold_unit is not None:
        out["threshold_unit"] = e.threshold_unit
    if e.reference_range is not None:
        out["reference_range"] = list(e.reference_range)
    if e.error is not None:
        out["error"] = e.error
    if e.inputs:
        out["inputs"] = [evidence_json(i) for i in e.inputs]
    return out


def criterion_json(c: CriterionResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "category": c.category,
        "verdict": c.verdict._value_,
        "truth": c.truth._value_,
        "evidence": [evidence_json(e) for e in c.evidence],
    }
    if c.text is not None:
        out["text"] = c.text
    if c.implicit:
        out["implicit"] = True
    if c.policy_applied:
        out["missing_policy_applied"] = True
    if c.not_collected:
        out["not_collected"] = list(c.not_collected)
    return out


def eligibility_json(e: EligibilityResult) -> dict[str, Any]:
    return {
        "verdict": e.verdict._value_,
        "data_verdict": e.data_verdict._value_,
        "reference_anchor": e.reference_anchor,
        "reference_date": _d(e.reference_date),
        "unresolved": list(e.unresolved),
        "site_verification": list(e.site_verification),
        "criteria": [criterion_json(c) for c in e.criteria],
    }


def row_json(r: ScheduleRow) -> dict[str, Any]:
    planned, actual, wd = r.planned_date, r.actual_date, r.window_dates
    iso = _ISO
    out: dict[str, Any] = {
        "activity": r.activity,
        "activity_type": r.activity_type,
        "occurrence": r.occurrence,
        "label": r.label,
        "planned_day": r.planned_day,
        "planned_date": iso[planned] if planned is not None else None,
        "window": list(r.window) if r.window is not None else None,
        "window_dates": [iso[wd[0]], iso[wd[1]]] if wd else None,
        "actual_date": iso[actual] if actual is not None else None,
        "actual_day": r.actual_day,
        "status": r.status._value_,
        "deviation_days": r.deviation_days,
        "source": str(r.ref) if r.ref is not None else None,
    }
    if r.reason is not None:
        out["reason"] = r.reason
    if r.epoch is not None:
        out["epoch"] = r.epoch
    if r.planned_amount is not None:
        out["planned_amount"] = r.planned_amount
        out["planned_unit"] = r.planned_unit
    if r.actual_amount is not None:
        out["actual_amount"] = r.actual_amount
        out["actual_unit"] = r.actual_unit
    t = r.timing
    if t is not None:
        out["timepoint"] = t.timepoint
        out["timepoint_reference"] = t.reference
        out["reference_datetime"] = _stamp(t.reference_stamp)
        out["planned_datetime"] = _stamp(t.planned)
        out["window_datetimes"] = ([_stamp(t.window[0]), _stamp(t.window[1])]
                                   if t.window is not None else None)
        out["actual_datetime"] = _stamp(t.actual)
        out["deviation_minutes"] = t.deviation_minutes
    return out


def _stamp(s: ClockStamp | None) -> str | None:
    return stamp_text(s[0], s[1]) if s is not None else None


def unplanned_json(u: UnplannedEvent) -> dict[str, Any]:
    return {
        "activity": u.activity,
        "activity_type": u.activity_type,
        "date": _ISO[u.date],
        "day": u.day,
        "source": str(u.ref),
        "reason": u.reason,
    }


def dosing_json(d: DosingSummary) -> dict[str, Any]:
    return {
        "intervention": d.intervention,
        "planned": d.planned,
        "due": d.due,
        "given": d.given,
        "on_time": d.on_time,
        "early": d.early,
        "late": d.late,
        "missed": d.missed,
        "not_applicable": d.not_applicable,
        "extra": d.extra,
        "compliance": d.compliance,
        "longest_gap_days": d.longest_gap_days,
        "gaps": [{"start": _d(g.start), "end": _d(g.end), "days": g.days,
                  "allowed_days": g.allowed_days, "trailing": g.trailing} for g in d.gaps],
        "mismatches": [{"date": _d(m.date), "source": str(m.ref),
                        "planned_amount": m.planned_amount, "planned_unit": m.planned_unit,
                        "actual_amount": m.actual_amount, "actual_unit": m.actual_unit}
                       for m in d.mismatches],
        "first_date": _d(d.first_date),
        "last_date": _d(d.last_date),
    }


def stopping_json(s: StoppingEvent) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": s.rule,
        "date": s.date.isoformat(),
        "action": s.action,
        "status": s.status._value_,
        "source": s.source,
        "interventions": list(s.interventions),
        "evidence": [evidence_json(e) for e in s.evidence],
    }
    if s.retest_kind is not None:
        out["retest"] = {
            "kind": s.retest_kind,
            "due": _d(s.retest_due),
            "status": s.retest_status._value_ if s.retest_status else None,
            "date": _d(s.retest_date),
            "source": _ref(s.retest_ref),
        }
    return out


def account_json(a: EventAccount) -> dict[str, Any]:
    out: dict[str, Any] = {"index": a.index, "source": str(a.ref), "type": a.event_type,
                           "role": a.role._value_}
    if a.detail is not None:
        out["detail"] = a.detail
    return out


# in EventRole order; iterating an Enum runs Python code, once per patient here
_ROLE_VALUES = tuple(role.value for role in EventRole)


def patient_json(r: PatientResult, *, events: bool = True) -> dict[str, Any]:
    """One patient. With `events`, `events` lists the role of every input event that is not
    matched or unplanned (those are in `schedule`/`unplanned`), and `event_counts` counts all."""
    counts: dict[str, int] = dict.fromkeys(_ROLE_VALUES, 0)
    for a in r.events:
        counts[a.role._value_] += 1
    out: dict[str, Any] = {
        "id": r.id,
        "arm": r.arm,
        "as_of": r.as_of.isoformat(),
        "anchor_date": _d(r.anchor_date),
        "eligibility": eligibility_json(r.eligibility),
        "schedule": [row_json(x) for x in r.schedule],
        "unplanned": [unplanned_json(u) for u in r.unplanned],
        "dosing": [dosing_json(d) for d in r.dosing],
        "stopping": [stopping_json(s) for s in r.stopping],
        "errors": [{"message": e.message, "source": _ref(e.ref), "where": e.source}
                   for e in r.errors],
        "notes": list(r.notes),
        "event_counts": counts,
    }
    if events:
        out["events"] = [account_json(a) for a in r.events
                         if a.role not in (EventRole.MATCHED, EventRole.UNPLANNED)]
    return out


def rejected_json(r: RejectedRecord) -> dict[str, Any]:
    return {"source": str(r.ref), "patient": r.patient, "field": r.field, "message": r.message}


def summary_json(s: SummaryResult | Summary) -> dict[str, Any]:
    if isinstance(s, Summary):
        s = s.result()
    return {
        "patients": s.patients,
        "rejected": s.rejected,
        "eligibility": {"eligible": s.eligible, "ineligible": s.ineligible,
                        "indeterminate": s.indeterminate,
                        "on_the_data": {"eligible": s.data_eligible,
                                        "ineligible": s.data_ineligible,
                                        "unknown": s.data_unknown}},
        "attrition": [{"id": a.id, "category": a.category, "text": a.text, "met": a.met,
                       "not_met": a.not_met, "unknown": a.unknown, "remaining": a.remaining,
                       "not_collected": a.not_collected,
                       "remaining_on_the_data": a.remaining_on_data}
                      for a in s.attrition],
        "site_verification": [{"id": a.id, "category": a.category, "text": a.text,
                               "not_collected": list(a.kinds_not_collected),
                               "patients": a.not_collected}
                              for a in s.site_verification],
        "activities": [{"activity": a.activity, "activity_type": a.activity_type,
                        "statuses": dict(a.counts), "deviations": a.deviations,
                        "unplanned": a.unplanned} for a in s.activities],
        "stopping": [{"rule": r.rule, "action": r.action, "patients": r.patients,
                      "fired": r.fired, "rescinded": r.rescinded, "pending": r.pending,
                      "retests_done": r.retests_done, "retests_late": r.retests_late,
                      "retests_missing": r.retests_missing} for r in s.rules],
        "patients_with_stopping": s.patients_with_stopping,
        "patients_stopped": s.patients_stopped,
        "patients_with_deviations": s.patients_with_deviations,
        "errors": s.errors,
    }


def report_header(trial_name: str, as_of: datetime.date) -> dict[str, Any]:
    return {"schema": SCHEMA, "trial": trial_name, "as_of": as_of.isoformat()}


def report(
    trial_name: str,
    as_of: datetime.date,
    items: Iterable[PatientResult | RejectedRecord],
    summary: Summary | SummaryResult | None = None,
    *,
    events: bool = True,
) -> dict[str, Any]:
    """The whole report document for a run (holds every patient: for small runs and tests)."""
    out = report_header(trial_name, as_of)
    own = summary is None
    acc = Summary() if own else None
    patients: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for item in items:
        if acc is not None:
            acc.add(item)
        if isinstance(item, RejectedRecord):
            rejected.append(rejected_json(item))
        else:
            patients.append(patient_json(item, events=events))
    out["patients"] = patients
    out["rejected"] = rejected
    out["summary"] = summary_json(acc if acc is not None else summary)  # type: ignore[arg-type]
    return out
