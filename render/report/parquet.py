"""The validation report written as Parquet tables (`validate --parquet DIR`), and read back.

Each table of render.report.tables is a folder of Parquet files, `DIR/<table>/part-*.parquet`
(one file from `--parquet`, one per Spark partition from `--spark`; read the files in name order
for input order), written with pyarrow in row groups as the patients stream through (memory
stays flat), zstd-compressed. The summary table also says what run it was (`info` rows: the
schema `trialcode.results/1`, the trial, the data cut, the input, the trialcode version and
the protocol's own text, so that `trialcode report DIR` needs nothing else).

A folder is never left half written: the tables are written into a hidden folder inside DIR and
moved into place when the run has finished, the old summary table removed first and the new one
moved last. A folder with a summary table is complete; a failed run removes what it wrote.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq

from engine.summary import SummaryResult
from render.report.collect import Accounting
from render.report.tables import PATIENT_TABLES, SCHEMA, SCHEMAS, TABLES

# rows per row group: each table buffers up to this many rows before writing (the memory of
# the writing process is bounded by it, about 25 MB for the schedule table)
ROW_GROUP_ROWS = 64 * 1024
PARTIAL_PREFIX = ".trialcode-partial-"
PART = "part-00000.parquet"


INFO_KEYS = ("schema", "trial", "as_of", "source", "version", "generated", "protocol_path",
             "protocol")


@attrs.frozen
class RunInfo:
    """What the summary table says about the run (its `info` rows)."""

    trial: str
    as_of: datetime.date
    source: str
    protocol_text: str
    protocol_path: str = ""
    version: str = ""
    generated: datetime.date | None = None

    def texts(self) -> dict[str, str]:
        return {
            "schema": SCHEMA,
            "trial": self.trial,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "version": self.version,
            "generated": self.generated.isoformat() if self.generated else "",
            "protocol_path": self.protocol_path,
            "protocol": self.protocol_text,
        }

    @staticmethod
    def from_texts(text: dict[str, str]) -> RunInfo:
        generated = text.get("generated") or None
        return RunInfo(
            trial=text["trial"],
            as_of=datetime.date.fromisoformat(text["as_of"]),
            source=text["source"],
            protocol_text=text["protocol"],
            protocol_path=text.get("protocol_path", ""),
            version=text.get("version", ""),
            generated=datetime.date.fromisoformat(generated) if generated else None,
        )


class ResultsFolderError(Exception):
    """A folder that is not (or not wholly) a trialcode results folder of a known version."""


class ParquetResultsWriter:
    """The patient tables, appended batch by batch; `finish` adds the summary and moves the
    tables into place."""

    def __init__(self, folder: str | Path, *, row_group_rows: int = ROW_GROUP_ROWS):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.row_group_rows = row_group_rows
        self.tmp = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=self.folder))
        self._writers: dict[str, pq.ParquetWriter] = {}
        for table in PATIENT_TABLES:
            (self.tmp / table).mkdir()
            self._writers[table] = pq.ParquetWriter(
                self.tmp / table / PART, SCHEMAS[table], compression="zstd"
            )
        self._pending: dict[str, list[pa.RecordBatch]] = {t: [] for t in PATIENT_TABLES}
        self._rows = dict.fromkeys(PATIENT_TABLES, 0)

    def add(self, batches: dict[str, pa.RecordBatch]) -> None:
        """Append the next rows of each table (in input order)."""
        for table, batch in batches.items():
            if batch.num_rows:
                self._pending[table].append(batch)
                self._rows[table] += batch.num_rows
                if self._rows[table] >= self.row_group_rows:
                    self._flush(table)

    def _flush(self, table: str) -> None:
        if self._pending[table]:
            data = pa.Table.from_batches(self._pending[table], SCHEMAS[table])
            self._writers[table].write_table(data, row_group_size=self.row_group_rows)
        self._pending[table] = []
        self._rows[table] = 0

    def finish(self, summary: list[dict[str, Any]]) -> Path:
        """Write the summary table (rows of `summary_rows`), close every file and move the
        tables into the folder."""
        for table in PATIENT_TABLES:
            self._flush(table)
            self._writers[table].close()
        (self.tmp / "summary").mkdir()
        pq.write_table(
            pa.Table.from_pylist(summary, SCHEMAS["summary"]),
            self.tmp / "summary" / PART,
            compression="zstd",
        )
        shutil.rmtree(self.folder / "summary", ignore_errors=True)
        for table in TABLES:  # the summary last
            shutil.rmtree(self.folder / table, ignore_errors=True)
            (self.tmp / table).rename(self.folder / table)
        self.tmp.rmdir()
        return self.folder

    def abort(self) -> None:
        """Remove what was written (a failed run leaves the folder as it was)."""
        for writer in self._writers.values():
            try:
                writer.close()
            except Exception:  # closing a writer after a failure may fail too
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def summary_rows(
    s: SummaryResult,
    *,
    not_ruled_out: dict[str, int],
    undeclared: tuple[tuple[str, int, str], ...] = (),
    accounting: tuple[Accounting, ...] = (),
    not_read: tuple[str, ...] = (),
    info: RunInfo | None = None,
) -> list[dict[str, Any]]:
    """The summary table: one row per number (`value`), or per text about the run (`info`
    rows, in `text`); `section` says which part of the summary."""
    rows: list[dict[str, Any]] = []

    def add(section: str, n: int, name: str | None, kind: str | None, text: str | None,
            metric: str, value: int) -> None:
        rows.append({"section": section, "n": n, "name": name, "kind": kind, "text": text,
                     "metric": metric, "value": value})

    if info is not None:
        for n, (key, text) in enumerate(info.texts().items()):
            add("info", n, key, None, text, "text", 0)
    for metric in ("patients", "rejected", "eligible", "ineligible", "indeterminate",
                   "patients_with_stopping", "patients_with_deviations", "errors"):
        add("run", 0, None, None, None, metric, getattr(s, metric))
    for n, a in enumerate(s.attrition):
        for metric in ("met", "not_met", "unknown", "remaining"):
            add("attrition", n, a.id, a.category, a.text, metric, getattr(a, metric))
        add("attrition", n, a.id, a.category, a.text, "not_ruled_out", not_ruled_out.get(a.id, 0))
    for n, act in enumerate(s.activities):
        for status, count in act.counts:
            add("activity", n, act.activity, act.activity_type, None, status, count)
        add("activity", n, act.activity, act.activity_type, None, "unplanned", act.unplanned)
    for n, r in enumerate(s.rules):
        for metric in ("patients", "fired", "rescinded", "pending", "retests_done",
                       "retests_late", "retests_missing"):
            add("rule", n, r.rule, r.action, None, metric, getattr(r, metric))
    for n, (kind, count, hint) in enumerate(undeclared):
        add("undeclared", n, kind, None, hint or None, "events", count)
    for n, d in enumerate(accounting):
        for metric in ("rows", "used", "rejected"):
            add("dataset", n, d.dataset, None, None, metric, getattr(d, metric))
        for reason, count in d.ignored:
            add("dataset", n, d.dataset, None, reason, "ignored", count)
    for n, name in enumerate(not_read):
        add("not_read", n, name, None, None, "files", 1)
    return rows


# ---- reading ----------------------------------------------------------------------------------


def _parts(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).glob("*.parquet"))


def open_results(folder: str | Path) -> tuple[RunInfo, dict[str, list[pq.ParquetFile]]]:
    """The tables of a results folder (each a list of files in name order), checked to be
    complete and of this schema version."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsFolderError(f"{folder}: not a folder")
    if not _parts(folder, "summary"):
        raise ResultsFolderError(
            f"{folder}: no summary table: not a trialcode results folder, or a run that did not "
            "finish"
        )
    files: dict[str, list[pq.ParquetFile]] = {}
    for table in TABLES:
        files[table] = []
        for path in _parts(folder, table):
            try:
                file = pq.ParquetFile(path)
            except (OSError, pa.ArrowException) as exc:
                raise ResultsFolderError(f"{path}: not a readable Parquet file: {exc}") from None
            names = [f.name for f in file.schema_arrow]
            if names != SCHEMAS[table].names:
                raise ResultsFolderError(f"{path}: not a {table} table of {SCHEMA}")
            files[table].append(file)
    texts = {
        row["name"]: row["text"] for row in rows(files["summary"]) if row["section"] == "info"
    }
    if texts.get("schema") != SCHEMA:
        raise ResultsFolderError(
            f"{folder}: results of schema {texts.get('schema') or 'unknown'!r}: this trialcode "
            f"reads {SCHEMA!r}"
        )
    return RunInfo.from_texts(texts), files


def batches(files: list[pq.ParquetFile], table: str, batch_rows: int = 65536) -> Iterator[pa.RecordBatch]:
    """A table's record batches in order, with the schema's exact types (a file Spark wrote
    may name nested fields differently)."""
    schema = SCHEMAS[table]
    for file in files:
        for batch in file.iter_batches(batch_size=batch_rows):
            yield pa.Table.from_batches([batch]).cast(schema).to_batches()[0] if batch.num_rows else batch


def read_table(files: list[pq.ParquetFile], table: str) -> pa.Table:
    """A whole table (for tests and small runs)."""
    return pa.Table.from_batches(list(batches(files, table)), SCHEMAS[table])


def rows(files: list[pq.ParquetFile], table: str = "summary") -> Iterator[dict[str, Any]]:
    """The rows of a table as dicts, streamed (one batch in memory at a time)."""
    for batch in batches(files, table):
        yield from batch.to_pylist()


def grouped(files: list[pq.ParquetFile], table: str) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Rows of a table grouped by position (the rows of a position are consecutive)."""
    current: int | None = None
    group: list[dict[str, Any]] = []
    for row in rows(files, table):
        if row["position"] != current:
            if group:
                assert current is not None
                yield current, group
            current, group = row["position"], []
        group.append(row)
    if group:
        assert current is not None
        yield current, group
