"""The validation report written as Parquet tables (`validate --parquet DIR`), and read back.

Each table of render.report.tables is a folder of Parquet files, `DIR/<table>/part-*.parquet`
(read the files in name order for input order), zstd-compressed. A local run (`--parquet`,
any `--jobs`) writes one file per chunk of the input (trialcode.parallel), named by the chunk's
number, in the process that evaluated the chunk (`ChunkFiles`): the same files whatever the
number of processes, and no process that all rows go through. A Spark run writes one file per
partition. A file's rows are written in row groups as the patients stream through (memory stays
flat). The summary table also says what run it was (`info` rows: the schema
`trialcode.results/2`, the trial, the data cut, the input, the trialcode version and the
protocol's own text, so that `trialcode report DIR` needs nothing else).

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
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from engine.summary import SummaryResult
from render.report.collect import Accounting
from render.report.tables import ADDED_COLUMNS, PATIENT_TABLES, SCHEMA, SCHEMAS, TABLES

# rows per row group: each table buffers up to this many rows before writing (the memory of
# the writing process is bounded by it, about 25 MB for the schedule table)
ROW_GROUP_ROWS = 64 * 1024
PARTIAL_PREFIX = ".trialcode-partial-"
PART = "part-00000000.parquet"  # the summary's file, and an empty table's


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


def chunk_file(index: int, digits: int = 8) -> str:
    """The name of a chunk's file in each table's folder (name order is input order: every
    file of a run has the same number of digits)."""
    return f"part-{index:0{digits}d}.parquet"


def results_filesystem(folder: str | Path) -> tuple[pafs.FileSystem, str]:
    """The file system a results folder is on, and the folder's path on it, for pyarrow: a
    local path (or `file:`), `dbfs:/...` (Databricks' mount of it, `/dbfs/...`, on every
    node), `s3a://` and `s3n://` (Hadoop's names for S3), or any URI pyarrow opens (`s3://`,
    `gs://`, `hdfs://`, `abfss://`)."""
    text = str(folder)
    if isinstance(folder, Path) or "://" not in text and not text.startswith(("file:", "dbfs:")):
        return pafs.LocalFileSystem(), text
    if text.startswith("dbfs:"):
        return pafs.LocalFileSystem(), "/dbfs/" + text[len("dbfs:"):].lstrip("/")
    if text.startswith("file:"):
        return pafs.LocalFileSystem(), "/" + text[len("file:"):].lstrip("/")
    for hadoop in ("s3a://", "s3n://"):
        if text.startswith(hadoop):
            text = "s3://" + text[len(hadoop):]
    fs, path = pafs.FileSystem.from_uri(text)
    return fs, path


class ChunkFiles:
    """One chunk's rows of every patient table, written into the partial folder of a run as
    `<table>/part-<chunk>.parquet`; a table the chunk has no rows for gets no file. The folder
    may be a local path or a URI (`results_filesystem`): Spark's executors write their chunks'
    files where the results folder is.

    Made again for a chunk that is read again (a patient id repeated across chunks: see
    trialcode.parallel), it replaces what the chunk wrote before."""

    def __init__(
        self,
        folder: str | Path,
        index: int,
        *,
        row_group_rows: int = ROW_GROUP_ROWS,
        digits: int = 8,
    ):
        self.fs, self.folder = results_filesystem(folder)
        self.name = chunk_file(index, digits)
        self.row_group_rows = row_group_rows
        for table in PATIENT_TABLES:
            try:
                self.fs.delete_file(self._path(table))
            except FileNotFoundError:
                pass
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.RecordBatch]] = {t: [] for t in PATIENT_TABLES}
        self._rows = dict.fromkeys(PATIENT_TABLES, 0)

    def _path(self, table: str) -> str:
        return f"{self.folder.rstrip('/')}/{table}/{self.name}"

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
            writer = self._writers.get(table)
            if writer is None:
                writer = self._writers[table] = pq.ParquetWriter(
                    self._path(table), SCHEMAS[table], compression="zstd", filesystem=self.fs
                )
            data = pa.Table.from_batches(self._pending[table], SCHEMAS[table])
            writer.write_table(data, row_group_size=self.row_group_rows)
        self._pending[table] = []
        self._rows[table] = 0

    def close(self) -> tuple[str, ...]:
        """Write what is left and close the files; the tables a file was written for."""
        for table in PATIENT_TABLES:
            self._flush(table)
        for writer in self._writers.values():
            writer.close()
        return tuple(self._writers)


class ParquetResultsWriter:
    """A results folder being written: the chunks' files go into `partial` (ChunkFiles, in
    whichever process evaluates the chunk); `finish` adds the summary and moves the tables
    into place, `abort` removes what was written."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(exist_ok=True)
        self.partial = Path(tempfile.mkdtemp(prefix=PARTIAL_PREFIX, dir=self.folder))
        for table in PATIENT_TABLES:
            (self.partial / table).mkdir()

    def finish(self, summary: list[dict[str, Any]]) -> Path:
        """Write the summary table (rows of `summary_rows`), give every table that no chunk
        had rows for an empty file (so that each table can be read as `<table>/*.parquet`),
        and move the tables into the folder."""
        for table in PATIENT_TABLES:
            if not any((self.partial / table).glob("*.parquet")):
                pq.write_table(SCHEMAS[table].empty_table(), self.partial / table / PART,
                               compression="zstd")
        (self.partial / "summary").mkdir()
        pq.write_table(
            pa.Table.from_pylist(summary, SCHEMAS["summary"]),
            self.partial / "summary" / PART,
            compression="zstd",
        )
        shutil.rmtree(self.folder / "summary", ignore_errors=True)
        for table in TABLES:  # the summary last
            shutil.rmtree(self.folder / table, ignore_errors=True)
            (self.partial / table).rename(self.folder / table)
        self.partial.rmdir()
        return self.folder

    def abort(self) -> None:
        """Remove what was written (a failed run leaves the folder as it was)."""
        shutil.rmtree(self.partial, ignore_errors=True)


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
                   "patients_with_stopping", "patients_with_deviations", "errors",
                   "data_eligible", "data_ineligible", "data_unknown", "patients_stopped"):
        add("run", 0, None, None, None, metric, getattr(s, metric))
    for n, a in enumerate(s.attrition):
        for metric in ("met", "not_met", "unknown", "remaining", "not_collected",
                       "remaining_on_data"):
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
        for metric in ("rows", "used", "rejected", "rejected_records"):
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
    # the summary first: a folder of another version is refused by its version, not by the
    # first column that differs
    for table in ("summary", *PATIENT_TABLES):
        files[table] = []
        for path in _parts(folder, table):
            try:
                file = pq.ParquetFile(path)
            except (OSError, pa.ArrowException) as exc:
                raise ResultsFolderError(f"{path}: not a readable Parquet file: {exc}") from None
            names = [f.name for f in file.schema_arrow]
            # columns added within a version come at the end: a file written before them holds
            # the columns before them (the missing ones read as nulls)
            least = len(SCHEMAS[table].names) - ADDED_COLUMNS.get(table, 0)
            if len(names) < least or names != SCHEMAS[table].names[:len(names)]:
                raise ResultsFolderError(f"{path}: not a {table} table of {SCHEMA}")
            files[table].append(file)
        if table == "summary":
            texts = {
                row["name"]: row["text"] for row in rows(files["summary"])
                if row["section"] == "info"
            }
            if texts.get("schema") != SCHEMA:
                raise ResultsFolderError(
                    f"{folder}: results of schema {texts.get('schema') or 'unknown'!r}: this "
                    f"trialcode reads {SCHEMA!r}"
                )
    return RunInfo.from_texts(texts), files


def batches(files: list[pq.ParquetFile], table: str, batch_rows: int = 65536) -> Iterator[pa.RecordBatch]:
    """A table's record batches in order, with the schema's exact types (a file Spark wrote
    may name nested fields differently)."""
    schema = SCHEMAS[table]
    for file in files:
        missing = schema.names[len(file.schema_arrow.names):]
        for batch in file.iter_batches(batch_size=batch_rows):
            if missing:  # a file written before the last columns were added
                batch = pa.RecordBatch.from_arrays(
                    [*batch.columns, *(pa.nulls(batch.num_rows, schema.field(name).type)
                                       for name in missing)],
                    names=schema.names)
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
