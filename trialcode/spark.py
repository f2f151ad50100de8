"""`trialcode validate ... --spark MASTER`: the same engine on Spark executors, the same tables.

The run is cut into the same chunks as `--jobs` (trialcode.parallel): consecutive lines of a
patient file, or ranges of an SDTM load. Each executor builds the run's state once per Python
worker from a RunSpec that carries the protocol's text (executors need no copy of the protocol
file), evaluates its chunks with trialcode.parallel.parts.make_part, and returns each chunk's
tables as Arrow IPC payloads in an envelope (`mapInArrow`): one row per chunk and table, plus
one row with the chunk's summary counters. The envelope is staged as Parquet (so the engine
runs once per patient whatever Spark re-reads), then each table is decoded from it in chunk
order and written as Parquet; the driver merges the chunks' summary counters in chunk order
(the same first-seen order as one pass) and writes the summary table. Every table ends up as
the `--parquet` run writes it (docs/results-tables.md), and `trialcode report DIR` reads both.

A patient file is read by Spark itself (`spark.read.text`), so it may live on any storage the
cluster reads (HDFS, S3, DBFS); a first, light pass counts each partition's lines (for line
numbers) and collects the ids each partition accepts, so that a patient id repeated in another
partition is rejected as in one pass. An SDTM folder must be readable by the driver and by
every executor at the same path.

The results folder is written into a hidden folder inside DIR and moved into place at the end
(the summary table last: a folder with a summary table is complete).
"""

from __future__ import annotations

import datetime
import pickle
from collections import Counter
from collections.abc import Iterator
from typing import Any

import attrs
import pyarrow as pa

from engine.summary import Summary
from render.report.parquet import PARTIAL_PREFIX, RunInfo, summary_rows
from render.report.tables import PATIENT_TABLES, SCHEMAS, from_ipc
from trialcode.parallel.chunks import (
    CHUNK_ITEMS,
    CHUNK_LINES,
    ItemsChunk,
    LinesChunk,
    RunSpec,
    RunState,
)
from trialcode.parallel.parts import make_part

ENVELOPE = pa.schema(
    [("order", pa.int64()), ("kind", pa.string()), ("table", pa.string()), ("payload", pa.binary())]
)
_LINES_SCHEMA = pa.schema(
    [("partition", pa.int64()), ("lines", pa.int64()), ("header", pa.int64()),
     ("header_text", pa.string()), ("ids", pa.list_(pa.string())), ("id_lines", pa.list_(pa.int64()))]
)

_STATES: dict[RunSpec, RunState] = {}


def _state(spec: RunSpec) -> RunState:
    """This Python worker's state for the run (built once: Spark reuses its Python workers)."""
    state = _STATES.get(spec)
    if state is None:
        _STATES.clear()
        state = _STATES[spec] = RunState(spec)
    return state


@attrs.frozen
class SharePart:
    """A chunk's counters, pickled into the envelope (a few kilobytes)."""

    summary: Summary
    not_ruled_out: dict[str, int]
    undeclared: Counter[str]


def _envelope(order: int, part: Any) -> pa.RecordBatch:
    rows: dict[str, list[Any]] = {"order": [], "kind": [], "table": [], "payload": []}
    for table, payload in (part.tables or {}).items():
        rows["order"].append(order)
        rows["kind"].append("table")
        rows["table"].append(table)
        rows["payload"].append(payload)
    share = SharePart(part.summary, dict(part.collector.not_ruled_out), part.undeclared)
    rows["order"].append(order)
    rows["kind"].append("part")
    rows["table"].append("")
    rows["payload"].append(pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL))
    return pa.RecordBatch.from_pydict(rows, schema=ENVELOPE)


_NO_LISTINGS = (1, 1, 1, 1, 1)  # the Spark run makes no HTML: no listing samples


def _evaluate_items(spec: RunSpec) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        state = _state(spec)
        for batch in batches:
            for index in batch.column("id").to_pylist():
                start = index * CHUNK_ITEMS
                chunk = ItemsChunk(index, start, min(start + CHUNK_ITEMS, len(state.items)))
                yield _envelope(index, make_part(state, chunk, _NO_LISTINGS))

    return run


def _partition_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[str]:
    for batch in batches:
        yield from batch.column("value").to_pylist()


def _count_lines(spec: RunSpec) -> Any:
    """Pass 1: per partition, its number of lines, its first non-blank line, and the patient id
    of every readable patient line (with its line within the partition)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        from engine.io.jsonl import accepted_id

        partition = TaskContext.get().partitionId()  # type: ignore[union-attr]
        count, header, header_text = 0, -1, None
        ids: list[str] = []
        id_lines: list[int] = []
        for raw in _partition_lines(batches):
            count += 1
            if not raw or raw.isspace():
                continue
            if header < 0 and raw.strip():  # the file's header, if this partition is the first
                header, header_text = count, raw
            pid = accepted_id(raw)
            if pid is not None:
                ids.append(pid)
                id_lines.append(count)
        yield pa.RecordBatch.from_pydict(
            {"partition": [partition], "lines": [count], "header": [header],
             "header_text": [header_text], "ids": [ids], "id_lines": [id_lines]},
            schema=_LINES_SCHEMA,
        )

    return run


def _evaluate_lines(spec: RunSpec, offsets: dict[int, int], known: dict[str, int]) -> Any:
    """Pass 2: the partition's lines, numbered from its offset, cut into chunks and evaluated;
    `known`: ids accepted first in an earlier partition, with their line."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        state = _state(spec)
        header_line = spec.header[1] if spec.header else 0
        partition = TaskContext.get().partitionId()  # type: ignore[union-attr]
        lineno = offsets[partition]
        lines: list[str] = []
        first = lineno + 1
        for raw in _partition_lines(batches):
            lineno += 1
            if lineno <= header_line:
                first = lineno + 1
                continue
            lines.append(raw)
            if len(lines) >= CHUNK_LINES:
                yield _chunk(state, first, lines, known)
                first, lines = lineno + 1, []
        if lines:
            yield _chunk(state, first, lines, known)

    return run


def _chunk(state: RunState, first: int, lines: list[str], known: dict[str, int]) -> pa.RecordBatch:
    given = {pid: line for pid, line in known.items() if line < first}
    chunk = LinesChunk(first, first, tuple(lines))
    return _envelope(first, make_part(state, chunk, _NO_LISTINGS, given or None))


def _decode(table: str) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for payload in batch.column("payload").to_pylist():
                out = from_ipc({table: payload})[table]
                if out.num_rows:
                    yield out

    return run


# Arrow batches between the JVM and Python (one envelope row per chunk and table: small counts)
DEFAULT_CONF = {
    "spark.sql.execution.arrow.maxRecordsPerBatch": "64",
    "spark.ui.showConsoleProgress": "false",
}


def run_spark(
    master: str,
    spec: RunSpec,
    folder: str,
    *,
    patients_uri: str | None = None,
    version: str = "",
    generated: str = "",
    spark_conf: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Validate on Spark and write the results folder; returns the summary counters merged on
    the driver (`summary`, `not_ruled_out`, `undeclared`, `state`)."""
    import os
    import sys
    import uuid

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        # a local session talks to itself only: on the loopback address
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName("trialcode validate")
    conf = {**DEFAULT_CONF, **(spark_conf or {})}
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("TRIALCODE_SPARK_LOG", "ERROR"))
    for key, value in conf.items():  # a session that existed already (spark-submit, Databricks)
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    base = folder.rstrip("/")
    partial = f"{base}/{PARTIAL_PREFIX}{uuid.uuid4().hex}"
    fs = _FileSystem(spark, base)
    try:
        envelope_schema = from_arrow_schema(ENVELOPE)
        if spec.patients is not None:
            lines = spark.read.text(patients_uri or str(spec.patients))
            counts = lines.mapInArrow(_count_lines(spec), from_arrow_schema(_LINES_SCHEMA)).collect()
            counts.sort(key=lambda r: r["partition"])
            offsets: dict[int, int] = {}
            total = 0
            header: tuple[str, int] | None = None
            first_line: dict[str, int] = {}
            occurrences: Counter[str] = Counter()
            for row in counts:
                offsets[row["partition"]] = total
                if header is None and row["header"] >= 0:
                    header = (row["header_text"], total + row["header"])
                for pid, line in zip(row["ids"], row["id_lines"], strict=True):
                    global_line = total + line
                    if header is not None and global_line == header[1]:
                        continue  # the header is no patient (it has no id anyway)
                    occurrences[pid] += 1
                    if pid not in first_line or global_line < first_line[pid]:
                        first_line[pid] = global_line
                total += row["lines"]
            if header is None:
                from engine.io.jsonl import read_lines

                list(read_lines((), spec.patients.name))  # the reader's error for an empty file
            assert header is not None
            # ids on more than one line: each chunk is told the first line of those it has not
            # read itself, and rejects the others as one pass over the file does
            known = {pid: first_line[pid] for pid, n in occurrences.items() if n > 1}
            spec = attrs.evolve(spec, header=header)
            state = RunState(spec)  # the header checked here, before the executors run
            envelope = lines.mapInArrow(_evaluate_lines(spec, offsets, known), envelope_schema)
        else:
            state = _state(spec)
            chunks = (len(state.items) + CHUNK_ITEMS - 1) // CHUNK_ITEMS
            ranges = spark.range(0, chunks, 1, max(1, spark.sparkContext.defaultParallelism))
            envelope = ranges.mapInArrow(_evaluate_items(spec), envelope_schema)
        envelope.write.parquet(f"{partial}/_envelope")
        staged = spark.read.parquet(f"{partial}/_envelope")
        shares = staged.filter(F.col("kind") == "part").select("order", "payload").collect()
        shares.sort(key=lambda r: r["order"])
        summary = Summary(state.trial)
        not_ruled_out: dict[str, int] = {}
        undeclared: Counter[str] = Counter()
        for row in shares:
            share: SharePart = pickle.loads(row["payload"])
            summary.merge(share.summary)
            for cid, n in share.not_ruled_out.items():
                not_ruled_out[cid] = not_ruled_out.get(cid, 0) + n
            undeclared.update(share.undeclared)
        # sorted once (by chunk: a few rows per chunk), kept, then each table decoded from it:
        # partitions come in range order and keep their rows' order, so the files of a table
        # are in input order
        ordered = staged.filter(F.col("kind") == "table").orderBy("order").persist()
        for table in PATIENT_TABLES:
            (
                ordered.filter(F.col("table") == table)
                .mapInArrow(_decode(table), from_arrow_schema(SCHEMAS[table]))
                .write.parquet(f"{partial}/{table}")
            )
        ordered.unpersist()
        from engine.io.vocabulary import did_you_mean

        declared = set(state.vocab.items)
        hints = tuple(
            (kind, n, did_you_mean(kind, declared).strip(" ()"))
            for kind, n in sorted(undeclared.items())
        )
        result = summary.result()
        info = RunInfo(state.trial.name, spec.as_of, state.source, spec.protocol_text or "",
                       spec.protocol.name, version,
                       datetime.date.fromisoformat(generated) if generated else None)
        rows = summary_rows(result, not_ruled_out=not_ruled_out, undeclared=hints,
                            accounting=state.accounting, not_read=state.not_read, info=info)
        summary_schema = from_arrow_schema(SCHEMAS["summary"])
        frame = spark.createDataFrame(
            [tuple(r[f.name] for f in summary_schema.fields) for r in rows], summary_schema
        )
        frame.coalesce(1).write.parquet(f"{partial}/summary")
        fs.delete(f"{partial}/_envelope")
        fs.commit(partial, base)
        return {"summary": result, "not_ruled_out": not_ruled_out, "undeclared": hints,
                "state": state}
    except BaseException:
        fs.delete(partial)
        raise


class _FileSystem:
    """The results folder's file system, through Spark's Hadoop configuration (local folders,
    HDFS, S3, DBFS alike)."""

    def __init__(self, spark: Any, folder: str):
        jvm = spark.sparkContext._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self.fs = self._path(folder).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        self.fs.mkdirs(self._path(folder))

    def delete(self, path: str) -> None:
        self.fs.delete(self._path(path), True)

    def commit(self, partial: str, folder: str) -> None:
        """Move the tables into the folder: the old summary first, the new one last."""
        self.delete(f"{folder}/summary")
        for table in (*PATIENT_TABLES, "summary"):
            self.delete(f"{folder}/{table}")
            if not self.fs.rename(self._path(f"{partial}/{table}"), self._path(f"{folder}/{table}")):
                raise OSError(f"cannot move {partial}/{table} to {folder}/{table}")
        self.delete(partial)
