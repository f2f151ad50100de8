"""Patient data as a table: one row per event, with a patient column (Parquet), the same event
model as the patient file (docs/patient-data.md, "Patient data as a table").

    patient  type         name           date        kind  value  unit  ...
    P001     patient      -              -           -     -      -     (arm, sex, birth_date...)
    P001     anchor       randomization  2023-03-01
    P001     observation  -              2023-02-20  alt   31     U/L

Each row becomes the JSON object a patient line would hold (its non-null columns; `type
= 'patient'` rows give the patient's own fields) and goes through the patient file's reader, so
every check, message and rejection is the same; records are cited as `events.parquet row 12`.
A patient's rows must be next to each other (rows of an id met again later are rejected, as a
repeated patient line is). Read in row groups: memory does not grow with the file.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from engine.io.jsonl import (
    EVENT_FIELDS,
    PATIENT_FIELDS,
    PatientFileError,
    TableReader,
)
from engine.io.vocabulary import EMPTY, Vocabulary, did_you_mean
from engine.patient import Patient, RecordRef, RejectedRecord
from protocol.trial import Trial

PATIENT_COLUMN = "patient"
TYPE_COLUMN = "type"
# `value` holds numbers; a category's value may come in `value_text` (a column has one type)
COLUMNS = frozenset(
    {PATIENT_COLUMN, TYPE_COLUMN, "value_text"}
    | (PATIENT_FIELDS - {"id", "events"})
    | {f for fields in EVENT_FIELDS.values() for f in fields}
)


def read_event_table(
    path: str | Path,
    trial: Trial | None = None,
    *,
    vocabulary: Vocabulary | None = None,
    rows: tuple[int, int] | None = None,
    reader: TableReader | None = None,
) -> Iterator[tuple[int, Patient | RejectedRecord]]:
    """Each patient of an event table (with the row of its first record) and a RejectedRecord
    for every record that cannot be used. `rows` (first, stop), numbered from 1, reads only
    those rows (a piece that starts and ends at patient boundaries); `reader` carries the ids
    of earlier pieces."""
    path = Path(path)
    file = open_event_table(path)
    vocab = vocabulary or (Vocabulary.from_trial(trial) if trial is not None else EMPTY)
    if reader is None:
        reader = table_reader(path, file, vocab)
    first, stop = rows or (1, file.metadata.num_rows + 1)
    current: str | None = None
    group: list[tuple[int, dict[str, Any]]] = []
    # rows without a patient are rejected alone, after the patient around them (positions
    # stay in input order) and without breaking its rows in two
    orphans: list[tuple[int, RejectedRecord]] = []
    for row, record in _records(file, first, stop):
        pid = record.pop(PATIENT_COLUMN, None)
        if not isinstance(pid, str) or not pid.strip():
            orphans.append((row, RejectedRecord(
                RecordRef(path.name, f"row {row}"),
                "patient id missing; the row is rejected", None, PATIENT_COLUMN,
            )))
            continue
        if pid != current:
            if group:
                yield from _patient(reader, path.name, current, group)
                group = []
            yield from orphans
            orphans = []
        current = pid
        group.append((row, record))
    if group:
        yield from _patient(reader, path.name, current, group)
    yield from orphans


def open_event_table(path: Path) -> pq.ParquetFile:
    try:
        file = pq.ParquetFile(path)
    except OSError as exc:
        raise PatientFileError(f"{path}: cannot read: {exc}") from None
    except Exception as exc:  # pyarrow's own errors for a file that is not Parquet
        raise PatientFileError(f"{path}: not a Parquet file: {exc}") from None
    names = file.schema_arrow.names
    for needed in (PATIENT_COLUMN, TYPE_COLUMN):
        if needed not in names:
            raise PatientFileError(
                f"{path}: not an event table: no column '{needed}' (docs/patient-data.md)"
            )
    for name in names:
        if name not in COLUMNS:
            raise PatientFileError(
                f"{path}: unknown column '{name}'{did_you_mean(name, COLUMNS)}"
            )
    return file


def table_reader(
    path: Path, file: pq.ParquetFile, vocab: Vocabulary, seen: dict[str, int] | None = None
) -> TableReader:
    """The reader of an event table, with what its metadata says (`trialcode.trial`,
    `trialcode.collected`)."""
    meta = {k.decode(): v.decode() for k, v in (file.schema_arrow.metadata or {}).items()
            if k.startswith(b"trialcode.")}
    header: dict[str, Any] = {"format": "trialcode.patients/1"}
    if "trialcode.trial" in meta:
        header["trial"] = meta["trialcode.trial"]
    if "trialcode.collected" in meta:
        try:
            header["collected"] = json.loads(meta["trialcode.collected"])
        except ValueError:
            raise PatientFileError(
                f"{path}: metadata trialcode.collected must be a JSON list of data kinds"
            ) from None
    try:
        return TableReader(path.name, vocab, json.dumps(header), seen)
    except PatientFileError as exc:  # worded for a header line: say where it is here
        raise PatientFileError(
            str(exc).replace(f"{path.name} line 0", f"{path}: metadata")
        ) from None


def patient_bounds(path: Path, rows_per_piece: int) -> Iterator[tuple[int, int]]:
    """Row ranges (first, stop) of about `rows_per_piece` rows that end at patient boundaries,
    reading only the patient column (for `validate --jobs`)."""
    file = open_event_table(path)
    first, row, previous = 1, 0, object()
    for batch in file.iter_batches(batch_size=65536, columns=[PATIENT_COLUMN]):
        for pid in batch.column(0).to_pylist():
            row += 1
            if not isinstance(pid, str) or not pid.strip():
                continue  # a row without a patient does not end one (see read_event_table)
            if row - first >= rows_per_piece and pid != previous:
                yield first, row
                first = row
            previous = pid
    if row >= first:
        yield first, row + 1


def _records(file: pq.ParquetFile, first: int, stop: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows first..stop-1 (numbered from 1) as dicts, reading only the row groups they span."""
    start = 1
    for index in range(file.metadata.num_row_groups):
        size = file.metadata.row_group(index).num_rows
        end = start + size
        if end > first and start < stop:
            table = file.read_row_group(index)
            lo, hi = max(first, start) - start, min(stop, end) - start
            for offset, record in enumerate(table.slice(lo, hi - lo).to_pylist()):
                yield start + lo + offset, record
        start = end
        if start >= stop:
            break


def _plain(value: Any) -> Any:
    """A cell as the patient file would hold it."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list) and value and all(
        isinstance(x, tuple) and len(x) == 2 for x in value
    ):  # a map column
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(x) for x in value]
    return value


def _patient(
    reader: TableReader, source: str, pid: str | None, group: list[tuple[int, dict[str, Any]]]
) -> Iterator[tuple[int, Patient | RejectedRecord]]:
    assert pid is not None
    first_row = group[0][0]
    ref = RecordRef(source, f"row {first_row}" if len(group) == 1
                    else f"rows {first_row}-{group[-1][0]}")
    obj: dict[str, Any] = {"id": pid}
    events: list[dict[str, Any]] = []
    locators: list[str] = []
    extra: list[RejectedRecord] = []
    seen_patient_row = False
    for row, record in group:
        kind = record.pop(TYPE_COLUMN, None)
        fields = {k: _plain(v) for k, v in record.items() if v is not None}
        if "value_text" in fields:
            text = fields.pop("value_text")
            fields.setdefault("value", text)
        attributes = fields.get("attributes")
        if isinstance(attributes, str):
            try:
                fields["attributes"] = json.loads(attributes)
            except ValueError:
                pass  # the reader says what an attribute must be
        if kind == "patient":
            if "id" in fields:  # the patient's id is the patient column
                extra.append(RejectedRecord(RecordRef(source, f"row {row}"),
                                            f"the patient row has an id ({fields.pop('id')!r}): "
                                            "the patient's id is its patient column", pid, "id"))
            if seen_patient_row:
                extra.append(RejectedRecord(RecordRef(source, f"row {row}"),
                                            "a second 'patient' row; the row is rejected", pid,
                                            TYPE_COLUMN))
                continue
            seen_patient_row = True
            obj.update(fields)
        else:
            events.append({"type": kind, **fields} if kind is not None else fields)
            locators.append(f"row {row}")
    obj["events"] = events
    for item in reader.rows(obj, pid, ref, first_row, locators):
        yield first_row, item
    for item in extra:
        yield first_row, item


def write_event_table(
    path: str | Path, patients: Iterable[dict[str, Any]], *, metadata: dict[str, str] | None = None
) -> int:
    """Write patients given as patient-file objects (`{"id": ..., "events": [...]}`) as an
    event table: a `patient` row for each patient's own fields, a row per event. Numbers of
    `value` go to `value`, category values to `value_text`, `attributes` as JSON text. Returns
    the rows written (for tests, and for converting a patient file)."""
    import pyarrow as pa

    rows: list[dict[str, Any]] = []
    for p in patients:
        own = {k: v for k, v in p.items() if k not in ("id", "events")}
        rows.append({PATIENT_COLUMN: p["id"], TYPE_COLUMN: "patient", **own})
        for event in p.get("events", ()):
            row = {PATIENT_COLUMN: p["id"], **event}
            value = row.get("value")
            if isinstance(value, str):
                row["value_text"] = row.pop("value")
            elif isinstance(value, bool):
                row["value_text"] = json.dumps(row.pop("value"))
            if "attributes" in row:
                row["attributes"] = json.dumps(row["attributes"])
            if isinstance(row.get("related"), bool):
                row["related"] = json.dumps(row["related"])
            rows.append(row)
    names = sorted({k for row in rows for k in row}, key=lambda k: (k != PATIENT_COLUMN, k != TYPE_COLUMN, k))
    table = pa.Table.from_pylist([{k: row.get(k) for k in names} for row in rows])
    if metadata:
        table = table.replace_schema_metadata({f"trialcode.{k}": v for k, v in metadata.items()})
    pq.write_table(table, path)
    return len(rows)
