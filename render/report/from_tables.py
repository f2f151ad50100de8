"""Results rebuilt from the Parquet tables (`trialcode report DIR`): the inverse of
render.report.tables.TableRows, streamed in input order, so that the HTML report and the CSV
listings are made from the tables by the same code that makes them during `validate`.

What the tables keep of the input patient is what the reports show of it: doses and adverse
events (for the timelines). Numbers come back as floats (the reports print 135.0 as 135).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq

from engine.io.dates import parse_iso_stamp
from engine.logic import Truth
from engine.patient import (
    AttrValue,
    ClockTime,
    DoseEvent,
    Event,
    Occurrence,
    Patient,
    RecordRef,
    RejectedRecord,
)
from engine.results import (
    ClockStamp,
    CriterionResult,
    CriterionVerdict,
    DoseGap,
    DoseMismatch,
    DosingSummary,
    EligibilityResult,
    EligibilityVerdict,
    EvaluationError,
    EventAccount,
    EventRole,
    Evidence,
    PatientResult,
    RetestStatus,
    RowTiming,
    ScheduleRow,
    Status,
    StoppingEvent,
    StopStatus,
    UnplannedEvent,
)
from render.report.parquet import grouped

Row = dict[str, Any]


def _ref(row: Row, name: str) -> RecordRef | None:
    file = row[f"{name}_file"]
    return RecordRef(file, row[f"{name}_record"]) if file is not None else None


def _evidence(e: Row) -> Evidence:
    value: Any = e["value_bool"] if e["value_bool"] is not None else (
        e["value_number"] if e["value_number"] is not None else e["value_text"])
    threshold = e["threshold_number"] if e["threshold_number"] is not None else e["threshold_text"]
    return Evidence(
        e["explanation"], e["source"], e["subject"],
        Truth(e["truth"]) if e["truth"] is not None else None, value, e["unit"], e["date"],
        _ref(e, "record"), threshold, e["threshold_unit"],
        (e["reference_low"], e["reference_high"]) if e["has_reference_range"] else None,
        e["error"],
        ClockTime(e["time_micros"], e["time_precision"], e["time_offset"])
        if e["time_micros"] is not None else None,
    )


def _stamp(text: str | None) -> ClockStamp | None:
    return parse_iso_stamp(text) if text is not None else None


def _timing(r: Row) -> RowTiming:
    first, last = _stamp(r["window_first_datetime"]), _stamp(r["window_last_datetime"])
    minutes = r["deviation_minutes"]
    return RowTiming(
        r["timepoint"], r["timepoint_reference"], _stamp(r["reference_datetime"]),
        _stamp(r["planned_datetime"]),
        (first, last) if first is not None and last is not None else None,
        _stamp(r["actual_datetime"]),
        # the engine's whole minutes are ints (the table's column is float64)
        int(minutes) if minutes is not None and float(minutes).is_integer() else minutes,
    )


def _patient(p: Row, g: dict[str, list[Row]]) -> tuple[PatientResult, Patient]:
    evidence: dict[tuple[str, int], list[Evidence]] = {}
    for e in g["evidence"]:
        evidence.setdefault((e["owner"], e["owner_n"]), []).append(_evidence(e))
    criteria = tuple(
        CriterionResult(c["criterion"], c["category"], CriterionVerdict(c["verdict"]),
                        Truth(c["truth"]), tuple(evidence.get(("criterion", c["n"]), ())),
                        c["text"], c["implicit"], c["missing_policy_applied"],
                        tuple(c["not_collected"]))
        for c in g["criteria"]
    )
    schedule = tuple(
        ScheduleRow(
            r["activity"], r["activity_type"], r["occurrence"], r["label"], Status(r["status"]),
            r["planned_day"], r["planned_date"],
            (r["window_first_day"], r["window_last_day"]) if r["window_first_day"] is not None else None,
            (r["window_first_date"], r["window_last_date"]) if r["window_first_date"] is not None else None,
            r["actual_date"], r["actual_day"], r["deviation_days"], _ref(r, "source"), r["reason"],
            r["epoch"], r["planned_amount"], r["planned_unit"], r["actual_amount"], r["actual_unit"],
            _timing(r) if r["timepoint"] is not None else None,
        )
        for r in g["schedule"]
    )
    unplanned = tuple(
        UnplannedEvent(u["activity"], u["activity_type"], u["date"], RecordRef(
            u["source_file"], u["source_record"]), u["day"], u["reason"])
        for u in g["unplanned"]
    )
    dosing = tuple(
        DosingSummary(
            d["intervention"], d["planned"], d["due"], d["given"], d["on_time"], d["early"],
            d["late"], d["missed"], d["not_applicable"], d["extra"], d["compliance"],
            d["longest_gap_days"],
            tuple(DoseGap(x["start"], x["end"], x["days"], x["allowed_days"], x["trailing"])
                  for x in d["gaps"]),
            tuple(DoseMismatch(m["date"], RecordRef(m["source_file"], m["source_record"]),
                               m["planned_amount"], m["planned_unit"], m["actual_amount"],
                               m["actual_unit"]) for m in d["mismatches"]),
            d["first_date"], d["last_date"],
        )
        for d in g["dosing"]
    )
    stopping = tuple(
        StoppingEvent(
            s["rule"], s["date"], s["action"], StopStatus(s["status"]), tuple(s["interventions"]),
            tuple(evidence.get(("stopping", s["n"]), ())), s["source"], s["retest_kind"],
            s["retest_due"], RetestStatus(s["retest_status"]) if s["retest_status"] else None,
            s["retest_date"], _ref(s, "retest"),
        )
        for s in g["stopping"]
    )
    accounts = []
    events: list[Event] = []
    for e in g["events"]:
        ref = RecordRef(e["source_file"], e["source_record"])
        accounts.append(EventAccount(e["n"], ref, e["type"], EventRole(e["role"]), e["detail"]))
        if e["type"] == "dose" and e["start"] is not None:
            events.append(DoseEvent(e["kind"], e["start"], ref, e["end"], e["amount"], e["unit"]))
        elif e["kind"] == "adverse_event" or e["term"] is not None:
            attributes: list[tuple[str, AttrValue]] = []
            for name in ("term", "grade", "related"):
                value = e[name]
                if value is not None:
                    # `related` true/false (the data did not say which intervention) is kept
                    # as text in the table; intervention names are never true/false
                    if name == "related" and value in ("true", "false"):
                        value = value == "true"
                    attributes.append((name, value))
            events.append(Occurrence(e["kind"], e["start"], ref, e["end"], bool(e["ongoing"]),
                                     tuple(attributes)))
    errors = tuple(
        EvaluationError(x["message"], p["patient"], _ref(x, "source"), x["where"])
        for x in p["errors"]
    )
    patient_ref = _ref(p, "source")
    result = PatientResult(
        p["patient"], p["arm"], p["as_of"],
        EligibilityResult(EligibilityVerdict(p["verdict"]), criteria, p["reference_anchor"],
                          p["reference_date"], tuple(p["unresolved"]),
                          tuple(p["site_verification"])),
        schedule, unplanned, dosing, stopping, tuple(accounts), errors, tuple(p["notes"]),
        p["anchor_date"], patient_ref,
    )
    patient = Patient(p["patient"], patient_ref or RecordRef("", ""), p["arm"],
                      events=tuple(events))
    return result, patient


def _groups(files: list[pq.ParquetFile], table: str) -> Iterator[tuple[int, list[Row]]]:
    yield from grouped(files, table)
    yield (1 << 62, [])  # the end: a position after every other


def results(
    files: dict[str, list[pq.ParquetFile]],
) -> Iterator[tuple[PatientResult | RejectedRecord, Patient | None]]:
    """Every result and rejected record of a results folder (open_results), in input order,
    each result with what the tables keep of its input patient."""
    tables = ("criteria", "evidence", "schedule", "unplanned", "dosing", "stopping", "events")
    streams = {t: _groups(files[t], t) for t in tables}
    heads = {t: next(streams[t]) for t in tables}
    rejected = _groups(files["rejected"], "rejected")
    next_rejected = next(rejected)
    for _, patient_rows in grouped(files["patients"], "patients"):
        for p in patient_rows:
            position = p["position"]
            while next_rejected[0] < position:
                for r in next_rejected[1]:
                    yield _rejected(r), None
                next_rejected = next(rejected)
            g: dict[str, list[Row]] = {}
            for t in tables:
                while heads[t][0] < position:  # rows of no patient: cannot happen in our files
                    heads[t] = next(streams[t])
                if heads[t][0] == position:
                    g[t] = heads[t][1]
                    heads[t] = next(streams[t])
                else:
                    g[t] = []
            yield _patient(p, g)
            if next_rejected[0] == position:  # the patient's own rejected records follow it
                for r in next_rejected[1]:
                    yield _rejected(r), None
                next_rejected = next(rejected)
    while next_rejected[1]:
        for r in next_rejected[1]:
            yield _rejected(r), None
        next_rejected = next(rejected)


def _rejected(r: Row) -> RejectedRecord:
    return RejectedRecord(RecordRef(r["source_file"], r["source_record"]), r["message"],
                          r["patient"], r["field"])
