"""The validation report as tables (schema `trialcode.results/2`, docs/results-tables.md): the
columns of each table, and `TableRows`, which turns results into Arrow record batches.

Every table has the patient's `position` (its place in the input: its line in a patient file,
its first row in a Parquet events file, its number in an SDTM load) and the `patient` id, so that
the tables join on (`position`) and sort back into input order. A record reference (`lb.xpt row
4031 (LBSEQ 41)`) is two columns, `*_file` and `*_record`. Enums are their lower-case values,
dates are dates, numbers that may be integers or decimals are float64.
"""

from __future__ import annotations

from typing import Any, Final

import pyarrow as pa

from engine.patient import (
    DoseEvent,
    Event,
    Occurrence,
    Patient,
    RecordRef,
    RejectedRecord,
    stamp_text,
)
from engine.results import ClockStamp, Evidence, PatientResult, RowTiming

SCHEMA: Final = "trialcode.results/2"

_s, _i32, _i64, _f64, _b, _d = pa.string(), pa.int32(), pa.int64(), pa.float64(), pa.bool_(), pa.date32()


def _ref(name: str) -> list[tuple[str, pa.DataType]]:
    return [(f"{name}_file", _s), (f"{name}_record", _s)]


_KEY = [("position", _i64), ("patient", _s)]
_EVENT_ROLES = ("matched", "unplanned", "anchor", "evidence", "not_schedule_relevant", "not_evaluated")

COLUMNS: Final[dict[str, list[tuple[str, pa.DataType]]]] = {
    "patients": [
        *_KEY, ("arm", _s), ("as_of", _d), ("anchor_date", _d), ("verdict", _s),
        ("reference_anchor", _s), ("reference_date", _d), ("unresolved", pa.list_(_s)),
        *_ref("source"), ("notes", pa.list_(_s)),
        ("errors", pa.list_(pa.struct([("message", _s), *_ref("source"), ("where", _s)]))),
        *[(f"events_{role}", _i32) for role in _EVENT_ROLES],
        ("site_verification", pa.list_(_s)),
    ],
    "criteria": [
        *_KEY, ("n", _i32), ("criterion", _s), ("category", _s), ("verdict", _s), ("truth", _s),
        ("text", _s), ("implicit", _b), ("missing_policy_applied", _b), ("passes", _b),
        ("not_collected", pa.list_(_s)),
    ],
    "evidence": [
        *_KEY, ("owner", _s), ("owner_n", _i32), ("n", _i32), ("explanation", _s),
        ("source", _s), ("subject", _s), ("truth", _s), ("value_number", _f64),
        ("value_text", _s), ("value_bool", _b), ("unit", _s), ("date", _d), *_ref("record"),
        ("threshold_number", _f64), ("threshold_text", _s), ("threshold_unit", _s),
        ("has_reference_range", _b), ("reference_low", _f64), ("reference_high", _f64),
        ("error", _s), ("time_micros", _i64), ("time_precision", _s), ("time_offset", _i32),
    ],
    "schedule": [
        *_KEY, ("arm", _s), ("n", _i32), ("activity", _s), ("activity_type", _s),
        ("occurrence", _i32), ("label", _s), ("status", _s), ("planned_day", _i32),
        ("planned_date", _d), ("window_first_day", _i32), ("window_last_day", _i32),
        ("window_first_date", _d), ("window_last_date", _d), ("actual_date", _d),
        ("actual_day", _i32), ("deviation_days", _i32), *_ref("source"), ("reason", _s),
        ("epoch", _s), ("planned_amount", _f64), ("planned_unit", _s), ("actual_amount", _f64),
        ("actual_unit", _s),
        # a sub-day timepoint's row (null on the others): added within /2, at the end
        ("timepoint", _s), ("timepoint_reference", _s), ("reference_datetime", _s),
        ("planned_datetime", _s), ("window_first_datetime", _s), ("window_last_datetime", _s),
        ("actual_datetime", _s), ("deviation_minutes", _f64),
    ],
    "unplanned": [
        *_KEY, ("n", _i32), ("activity", _s), ("activity_type", _s), ("date", _d), ("day", _i32),
        *_ref("source"), ("reason", _s),
    ],
    "dosing": [
        *_KEY, ("intervention", _s), ("planned", _i32), ("due", _i32), ("given", _i32),
        ("on_time", _i32), ("early", _i32), ("late", _i32), ("missed", _i32),
        ("not_applicable", _i32), ("extra", _i32), ("compliance", _f64),
        ("longest_gap_days", _i32), ("first_date", _d), ("last_date", _d),
        ("gaps", pa.list_(pa.struct([("start", _d), ("end", _d), ("days", _i32),
                                     ("allowed_days", _i32), ("trailing", _b)]))),
        ("mismatches", pa.list_(pa.struct([("date", _d), *_ref("source"),
                                           ("planned_amount", _f64), ("planned_unit", _s),
                                           ("actual_amount", _f64), ("actual_unit", _s)]))),
    ],
    "stopping": [
        *_KEY, ("arm", _s), ("n", _i32), ("rule", _s), ("date", _d), ("action", _s),
        ("status", _s), ("source", _s), ("interventions", pa.list_(_s)), ("retest_kind", _s),
        ("retest_due", _d), ("retest_status", _s), ("retest_date", _d), *_ref("retest"),
    ],
    "events": [
        *_KEY, ("n", _i32), *_ref("source"), ("type", _s), ("role", _s), ("detail", _s),
        ("kind", _s), ("start", _d), ("end", _d), ("ongoing", _b), ("amount", _f64),
        ("unit", _s), ("term", _s), ("grade", _i32), ("related", _s), ("start_time", _s),
        ("end_time", _s),
    ],
    "rejected": [
        ("position", _i64), ("n", _i32), *_ref("source"), ("patient", _s), ("field", _s),
        ("message", _s),
    ],
}
SUMMARY_COLUMNS: Final = [
    ("section", _s), ("n", _i32), ("name", _s), ("kind", _s), ("text", _s), ("metric", _s),
    ("value", _i64),
]
# How many columns were added at the end of each table within this version: a folder written
# before them lacks them, and is read with them null (render.report.parquet.open_results).
ADDED_COLUMNS: Final = {"schedule": 8}
PATIENT_TABLES: Final = tuple(COLUMNS)
TABLES: Final = (*PATIENT_TABLES, "summary")
SCHEMAS: Final[dict[str, pa.Schema]] = {
    **{name: pa.schema(columns) for name, columns in COLUMNS.items()},
    "summary": pa.schema(SUMMARY_COLUMNS),
}


def _file(ref: RecordRef | None) -> str | None:
    return ref.source if ref is not None else None


def _locator(ref: RecordRef | None) -> str | None:
    return ref.locator if ref is not None else None


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _text(x: object) -> str | None:
    return x if isinstance(x, str) else None


def _boolean(x: object) -> bool | None:
    return x if isinstance(x, bool) else None


def _times(event: Event | None) -> tuple[str | None, str | None]:
    """An event's times of day as ISO text (`08:30`, `T08` as `08`), start and end."""
    if isinstance(event, DoseEvent | Occurrence):
        start, end = event.start_time, event.end_time
    else:
        start, end = getattr(event, "time", None), None
    return (start.iso() if start is not None else None, end.iso() if end is not None else None)


_NO_TIMING: Final = (None,) * 8


def _stamp(s: ClockStamp | None) -> str | None:
    return stamp_text(s[0], s[1]) if s is not None else None


def _timing(t: RowTiming) -> tuple[Any, ...]:
    """The timepoint columns of a schedule row: its date-times as the JSON report writes them
    (`2024-03-01T08:30`, with the precision and UTC offset the data gave)."""
    first, last = t.window if t.window is not None else (None, None)
    return (t.timepoint, t.reference, _stamp(t.reference_stamp), _stamp(t.planned),
            _stamp(first), _stamp(last), _stamp(t.actual), _number(t.deviation_minutes))


def _value(x: Any) -> Any:
    return x._value_ if x is not None else None


class TableRows:
    """Rows of every patient table, gathered column by column from results as they come;
    `take` turns them into record batches (and starts again)."""

    def __init__(self) -> None:
        # each row a tuple, turned into columns once per batch by `take`: one list append per
        # row (rather than one per value) is what keeps the tables cheap to build
        self._rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
        self._width = {t: len(cols) for t, cols in COLUMNS.items()}

    def rows(self, table: str) -> int:
        return len(self._rows[table])

    def total(self) -> int:
        """Rows gathered since the last take, in all tables."""
        return sum(map(len, self._rows.values()))

    def add(self, position: int, item: PatientResult | RejectedRecord, patient: Patient | None,
            n: int = 0) -> None:
        """One result (or rejected record, the `n`-th of its position) at input `position`."""
        if isinstance(item, RejectedRecord):
            self._append("rejected", position, n, item.ref.source, item.ref.locator, item.patient,
                         item.field, item.message)
            return
        r, pid = item, item.id
        counts = dict.fromkeys(_EVENT_ROLES, 0)
        for a in r.events:
            counts[a.role._value_] += 1
        e = r.eligibility
        self._append(
            "patients", position, pid, r.arm, r.as_of, r.anchor_date, e.verdict._value_,
            e.reference_anchor, e.reference_date, list(e.unresolved), _file(r.ref),
            _locator(r.ref), list(r.notes),
            [{"message": x.message, "source_file": _file(x.ref), "source_record": _locator(x.ref),
              "where": x.source} for x in r.errors],
            *counts.values(),
            list(e.site_verification),
        )
        for cn, c in enumerate(e.criteria):
            self._append("criteria", position, pid, cn, c.id, c.category, c.verdict._value_,
                         c.truth._value_, c.text, c.implicit, c.policy_applied, c.passes,
                         list(c.not_collected))
            for en, ev in enumerate(c.evidence):
                self._evidence(position, pid, "criterion", cn, en, ev)
        for sn, row in enumerate(r.schedule):
            lo, hi = row.window if row.window is not None else (None, None)
            dlo, dhi = row.window_dates if row.window_dates is not None else (None, None)
            self._append(
                "schedule", position, pid, r.arm, sn, row.activity, row.activity_type,
                row.occurrence, row.label, row.status._value_, row.planned_day, row.planned_date,
                lo, hi, dlo, dhi, row.actual_date, row.actual_day, row.deviation_days,
                _file(row.ref), _locator(row.ref), row.reason, row.epoch,
                _number(row.planned_amount), row.planned_unit, _number(row.actual_amount),
                row.actual_unit, *(_timing(row.timing) if row.timing is not None else _NO_TIMING),
            )
        for un, u in enumerate(r.unplanned):
            self._append("unplanned", position, pid, un, u.activity, u.activity_type, u.date, u.day,
                         u.ref.source, u.ref.locator, u.reason)
        for d in r.dosing:
            self._append(
                "dosing", position, pid, d.intervention, d.planned, d.due, d.given, d.on_time,
                d.early, d.late, d.missed, d.not_applicable, d.extra, _number(d.compliance),
                d.longest_gap_days, d.first_date, d.last_date,
                [{"start": g.start, "end": g.end, "days": g.days, "allowed_days": g.allowed_days,
                  "trailing": g.trailing} for g in d.gaps],
                [{"date": m.date, "source_file": m.ref.source, "source_record": m.ref.locator,
                  "planned_amount": _number(m.planned_amount), "planned_unit": m.planned_unit,
                  "actual_amount": _number(m.actual_amount), "actual_unit": m.actual_unit}
                 for m in d.mismatches],
            )
        for sn, s in enumerate(r.stopping):
            self._append(
                "stopping", position, pid, r.arm, sn, s.rule, s.date, s.action, s.status._value_,
                s.source, list(s.interventions), s.retest_kind, s.retest_due,
                _value(s.retest_status), s.retest_date, _file(s.retest_ref),
                _locator(s.retest_ref),
            )
            for en, ev in enumerate(s.evidence):
                self._evidence(position, pid, "stopping", sn, en, ev)
        events: tuple[Event, ...] = patient.events if patient is not None else ()
        for a in r.events:
            event = events[a.index] if a.index < len(events) else None
            kind = start = end = term = grade = related = amount = unit = None
            ongoing = None
            times = _times(event)
            if isinstance(event, DoseEvent):
                kind, start, end = event.intervention, event.start, event.end
                amount, unit = _number(event.amount), event.unit
            elif isinstance(event, Occurrence):
                kind, start, end, ongoing = event.kind, event.start, event.end, event.ongoing
                term = _text(event.attribute("term"))
                g = event.attribute("grade")
                grade = g if isinstance(g, int) and not isinstance(g, bool) else None
                rel = event.attribute("related")
                related = None if rel is None else str(rel).lower() if isinstance(rel, bool) else str(rel)
            elif event is not None:
                start = getattr(event, "date", None)
                kind = getattr(event, "kind", None) or getattr(event, "name", None) or getattr(
                    event, "visit", None) or getattr(event, "status", None)
            self._append("events", position, pid, a.index, a.ref.source, a.ref.locator,
                         a.event_type, a.role._value_, a.detail, kind, start, end, ongoing,
                         amount, unit, term, grade, related, *times)

    def _evidence(self, position: int, pid: str, owner: str, owner_n: int, n: int,
                  e: Evidence) -> None:
        rr = e.reference_range
        self._append(
            "evidence", position, pid, owner, owner_n, n, e.explanation, e.source, e.subject,
            _value(e.truth), _number(e.value), _text(e.value), _boolean(e.value), e.unit, e.date,
            _file(e.ref), _locator(e.ref), _number(e.threshold), _text(e.threshold),
            e.threshold_unit, rr is not None, _number(rr[0]) if rr else None,
            _number(rr[1]) if rr else None, e.error,
            t.micros if (t := e.time) is not None else None,
            t.precision if t is not None else None, t.offset if t is not None else None,
        )

    def _append(self, table: str, *values: Any) -> None:
        self._rows[table].append(values)

    def take(self) -> dict[str, pa.RecordBatch]:
        """The rows gathered since the last take, one record batch per table."""
        out = {}
        for table, rows in self._rows.items():
            schema = SCHEMAS[table]
            columns = list(zip(*rows, strict=True)) if rows else [()] * self._width[table]
            if len(columns) != self._width[table]:
                raise ValueError(f"{table}: rows of {len(columns)} values, not {self._width[table]}")
            out[table] = pa.RecordBatch.from_arrays(
                [pa.array(values, type=field.type) for field, values in zip(schema, columns,
                                                                            strict=True)],
                schema=schema,
            )
            self._rows[table] = []
        return out
