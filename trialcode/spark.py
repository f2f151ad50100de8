"""`trialcode validate ... --spark MASTER`: the same engine on Spark executors, the same tables.

The run is cut into chunks of consecutive patients as with `--jobs` (trialcode.parallel), and
each chunk is evaluated where Spark runs its task, by trialcode.parallel.parts.make_part: the
function the `--jobs` worker processes run. As there, the process that evaluates a chunk
writes the chunk's file of every table (render.report.parquet.ChunkFiles) straight into the
results folder's partial folder, so the tables' rows are encoded and compressed on every
executor core and never cross to the driver or through Spark. What an executor returns is a
chunk's counters (`Share`: the summary's counts, the ids it read; a few kilobytes), collected
once: the engine runs in one Spark job, once per patient.

A patient file is read by Spark itself (`spark.read.text`), so it may live on any storage the
cluster reads (HDFS, S3, DBFS). Before the engine runs, a light job counts each partition's
lines (for line numbers; Arrow counts them, no line is parsed) and the file's first lines are
fetched for its header.
A patient id that a chunk accepted but an earlier partition had read already (a bad file: the
reader rejects a repeated id) is found on the driver from the chunks' ids; the partitions
holding such repeats are then evaluated again, told the first line of each, and their chunks'
files replaced: the tables are those of one pass over the file. An SDTM folder must be
readable by the driver and by every executor at the same path.

The driver merges the chunks' counters in input order (the same first-seen order as one pass)
and writes the summary table; with them (and the first few items of each listing, which the
chunks keep) it has what the terminal summary shows, so a run without --html or --csv never
reads the tables back. The tables are written into a hidden folder inside DIR and moved
into place at the end (the summary table last: a folder with a summary table is complete).
"""

from __future__ import annotations

import datetime
import os
import pickle
import re
import shutil
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from engine.summary import Summary
from render.report.collect import ReportCollector, ReportData
from render.report.parquet import (
    PART,
    PARTIAL_PREFIX,
    RunInfo,
    results_filesystem,
    summary_rows,
)
from render.report.tables import PATIENT_TABLES, SCHEMAS
from render.report.terminal import MAX_LISTED
from trialcode.parallel.chunks import (
    CHUNK_CHARS,
    CHUNK_GROWTH,
    CHUNK_ITEMS,
    CHUNK_LINES,
    CHUNKS_WANTED,
    ItemsChunk,
    LinesChunk,
    RunSpec,
    RunState,
)
from trialcode.parallel.parts import Part, make_part

# what an executor sends back: one row per chunk
SHARES = pa.schema([("partition", pa.int64()), ("first", pa.int64()), ("share", pa.binary())])
# A chunk of a patient file is named by its first line (12 digits: name order stays input
# order up to a trillion lines); a chunk of an SDTM folder by its number, as in a local run.
LINE_DIGITS = 12

_STATES: dict[RunSpec, RunState] = {}


class SparkUnavailable(Exception):
    """Spark cannot run here: pyspark or Java missing, or the session did not start (the
    message says which and what to do). EXIT_UNAVAILABLE."""


class SparkMasterError(Exception):
    """A `--spark` value that is no Spark master. A usage error: EXIT_USAGE."""


# The masters Spark itself accepts (SparkContext's own patterns), checked before a JVM is
# started: Spark's answer to a mistyped master is a Java stack trace after seconds of start-up.
_MASTER = re.compile(
    r"local(\[(\*|[1-9][0-9]*)(\s*,\s*[1-9][0-9]*)?\])?"
    r"|local-cluster\[\s*[1-9][0-9]*\s*,\s*[1-9][0-9]*\s*,\s*[1-9][0-9]*\s*\]"
    r"|spark://[^\s/]+(/.*)?|yarn|k8s://\S+"
)


# the levels SparkContext.setLogLevel takes (anything else is a Java exception mid-run)
LOG_LEVELS = ("ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN")


def log_level() -> str:
    """The level the run logs at: TRIALCODE_SPARK_LOG (see log_level_problem), else ERROR."""
    return os.environ.get("TRIALCODE_SPARK_LOG", "ERROR").strip().upper()


def log_level_problem() -> str | None:
    """Why TRIALCODE_SPARK_LOG names no Spark log level, or None (docs/cli.md)."""
    if log_level() in LOG_LEVELS:
        return None
    return (f"TRIALCODE_SPARK_LOG={os.environ.get('TRIALCODE_SPARK_LOG')!r} is not a Spark log "
            f"level: {', '.join(LOG_LEVELS)}")


def check_master(master: str) -> None:
    """SparkMasterError unless `master` is a master Spark accepts or a Spark session is active
    already (spark-submit, Databricks: that session is used, whatever the master)."""
    if _MASTER.fullmatch(master):
        return
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pass
    else:
        if SparkSession.getActiveSession() is not None:
            return
    raise SparkMasterError(
        f"--spark {master!r} is not a Spark master: give local[N] (N cores of this machine), "
        "local[*], spark://HOST:PORT, yarn or k8s://https://HOST:PORT (docs/spark.md)"
    )


def _state(spec: RunSpec) -> RunState:
    """This Python worker's state for the run (built once: Spark reuses its Python workers)."""
    state = _STATES.get(spec)
    if state is None:
        _STATES.clear()
        state = _STATES[spec] = RunState(spec)
    return state


@attrs.frozen
class Share:
    """A chunk's counters: all an executor sends back to the driver (pickled)."""

    partition: int
    first: int  # the chunk's first line (a patient file) or its number (an SDTM folder)
    summary: Summary
    collector: ReportCollector  # its counters, and the first items of each listing
    undeclared: Counter[str]
    seen: tuple[tuple[str, int], ...]  # (patient id, line) of the patients it accepted
    files: tuple[str, ...]  # the tables it wrote a file for


def _shares(partition: int, first: int, part: Part) -> pa.RecordBatch:
    share = Share(partition, first, part.summary, part.collector, part.undeclared, part.seen,
                  part.files)
    return pa.RecordBatch.from_pydict(
        {"partition": [partition], "first": [first],
         "share": [pickle.dumps(share, protocol=pickle.HIGHEST_PROTOCOL)]},
        schema=SHARES,
    )


# No listing is full when a chunk starts: each keeps its first items (as many as the terminal
# summary shows: see run_spark), and the driver the first of them in input order.
_LISTINGS = (0, 0, 0, 0, 0)


def _partition() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    assert context is not None
    return context.partitionId()


def _evaluate_items(spec: RunSpec) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        state = _state(spec)
        partition = _partition()
        for batch in batches:
            for index in batch.column("id").to_pylist():
                start = index * CHUNK_ITEMS
                chunk = ItemsChunk(index, start, min(start + CHUNK_ITEMS, len(state.items)))
                yield _shares(partition, index, make_part(state, chunk, _LISTINGS))

    return run


def _evaluate_lines(
    spec: RunSpec,
    offsets: dict[int, int],
    growth: int,
    known: dict[str, int],
    only: frozenset[int] | None = None,
) -> Any:
    """The engine on each partition of a patient file: its lines numbered from the partition's
    offset, cut into chunks (as a local run cuts them), each chunk told the ids that earlier
    chunks of the partition accepted and those of `known` (id -> first line) before it. With
    `only`, the partitions not in it are skipped."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        partition = _partition()
        if only is not None and partition not in only:
            return
        state = _state(spec)
        assert spec.header is not None
        header_line = spec.header[1]
        most_lines, most_chars = CHUNK_LINES * growth, CHUNK_CHARS * growth
        seen: dict[str, int] = {}
        lineno = offsets.get(partition, 0)
        first = lineno + 1
        lines: list[str] = []
        chars = 0
        for batch in batches:
            for raw in batch.column("value").to_pylist():
                lineno += 1
                if lineno <= header_line:  # the header, and blank lines before it
                    first = lineno + 1
                    continue
                lines.append(raw)
                chars += len(raw)
                if len(lines) >= most_lines or chars >= most_chars:
                    yield _chunk(state, partition, first, lines, seen, known)
                    first, lines, chars = lineno + 1, [], 0
        if lines:
            yield _chunk(state, partition, first, lines, seen, known)

    return run


def _chunk(
    state: RunState,
    partition: int,
    first: int,
    lines: list[str],
    seen: dict[str, int],
    known: dict[str, int],
) -> pa.RecordBatch:
    given = dict(seen)
    for pid, line in known.items():
        if line < first:
            given.setdefault(pid, line)
    part = make_part(state, LinesChunk(first, first, tuple(lines)), _LISTINGS, given or None)
    seen.update(part.seen)
    return _shares(partition, first, part)


# Arrow batches of lines from the JVM to the Python workers
DEFAULT_CONF = {
    "spark.sql.execution.arrow.maxRecordsPerBatch": "256",
    "spark.ui.showConsoleProgress": "false",
}
# For a local session that trialcode starts itself: the JVM only reads the file and moves
# Arrow batches (the engine runs in the Python workers), so its optimising compiler costs more
# than it saves. Measured on 20,000 patients (load 1-3), the JVM's CPU time with the client
# compiler only: its start 4.3-4.5 s (6.9-8.6 s with both compilers), the first job 3.6-3.7 s
# (5.0-5.1 s), a pass over the file 0.7 s (1.2-1.6 s).
LOCAL_CONF = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")


def local_conf() -> dict[str, str]:
    """LOCAL_CONF, with Spark's start-up logging quietened (spark-log4j2.properties says why)
    unless TRIALCODE_SPARK_LOG asks for Spark's own, or the path cannot be passed to Java."""
    options = LOCAL_CONF["spark.driver.extraJavaOptions"]
    path = str(LOG_CONFIG.resolve())
    if "TRIALCODE_SPARK_LOG" not in os.environ and LOG_CONFIG.is_file() and not any(
        c.isspace() for c in path  # Java splits extraJavaOptions on white space
    ):
        options += f" -Dlog4j2.configurationFile={LOG_CONFIG.resolve().as_uri()}"
    return {**LOCAL_CONF, "spark.driver.extraJavaOptions": options}


def start_session(master: str, conf: dict[str, str]) -> Any:
    """The Spark session (an active one reused, as under spark-submit or on Databricks);
    SparkUnavailable if Spark cannot start here."""
    import sys

    # pyspark 4 warns, on import and again when a job starts, that it does not fully support
    # pandas 3. The runner moves Arrow batches (mapInArrow) and never goes through pandas, and
    # tests/io/test_spark.py compares its tables with the local run's, so the warning only
    # worries the reader of stderr.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            f"--spark needs pyspark (pip install 'trialcode[spark]'): {exc}") from None
    active = SparkSession.getActiveSession()
    if active is None:
        java_home = os.environ.get("JAVA_HOME")
        java = (os.path.join(java_home, "bin", "java") if java_home else shutil.which("java"))
        if java is None or not os.access(java, os.X_OK):
            where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on PATH"
            raise SparkUnavailable(
                f"Spark needs Java 17 or 21 ({where}): on Debian or Ubuntu, apt-get install "
                "openjdk-17-jre-headless, or set JAVA_HOME"
            )
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master.startswith("local"):
        # a local session talks to itself only: on the loopback address
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if active is None and master.startswith("local"):
        conf = {**local_conf(), **conf}
    builder = SparkSession.builder.master(master).appName("trialcode validate")
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, or the master cannot be reached
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkUnavailable(
            f"Spark did not start with master {master!r}: {first[:300]} (is Java 17 or 21 "
            "installed, and the master up and reachable? Spark's own messages, if any, are "
            "above)"
        ) from None
    spark.sparkContext.setLogLevel(log_level())
    for key, value in conf.items():  # a session that existed already (spark-submit, Databricks)
        if key.startswith("spark.sql."):
            spark.conf.set(key, value)
    return spark


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
    """Validate on Spark and write the results folder; returns what the chunks' counters,
    merged on the driver, give: the terminal summary's data (`data`: its listings hold their
    first items only, no timelines) and the run's `state`."""
    import uuid

    from pyspark.sql.pandas.types import from_arrow_schema

    spark = start_session(master, {**DEFAULT_CONF, **(spark_conf or {})})
    if spark.sparkContext.getConf().get("spark.speculation", "false").lower() == "true":
        # two attempts of one task would write the same chunk's files at once
        raise SparkUnavailable("trialcode needs spark.speculation off (its executors write "
                               "the tables' files themselves)")
    base = folder.rstrip("/")
    partial = f"{base}/{PARTIAL_PREFIX}{uuid.uuid4().hex}"
    fs = _FileSystem(spark, base)
    try:
        for table in PATIENT_TABLES:
            fs.mkdirs(f"{partial}/{table}")
        # the HTML report, if any, is made from the tables: the chunks keep only what the
        # terminal summary shows of each listing
        spec = attrs.evolve(spec, parquet_dir=partial, max_rows=2 * MAX_LISTED, max_timelines=0)
        schema = from_arrow_schema(SHARES)
        if spec.patients is not None:
            lines = spark.read.text(patients_uri or str(spec.patients))
            offsets, growth, header = _line_offsets(spark, lines)
            if header is None:
                from engine.io.jsonl import read_lines

                list(read_lines((), spec.patients.name))  # the reader's error for an empty file
            assert header is not None
            spec = attrs.evolve(spec, header=header, chunk_digits=LINE_DIGITS)
            state = RunState(spec)  # the header checked here, before the executors run
            run = _evaluate_lines(spec, offsets, growth, {})
            shares = _collect(lines.mapInArrow(run, schema))
            shares = _repeated_ids(lines, shares, spec, offsets, growth, schema)
        else:
            state = _state(spec)
            chunks = (len(state.items) + CHUNK_ITEMS - 1) // CHUNK_ITEMS
            ranges = spark.range(0, chunks, 1, max(1, spark.sparkContext.defaultParallelism))
            shares = _collect(ranges.mapInArrow(_evaluate_items(spec), schema))
        summary = Summary(state.trial)
        collector = ReportCollector(max_rows=spec.max_rows, max_timelines=0)
        undeclared: Counter[str] = Counter()
        written: set[str] = set()
        for share in shares:
            summary.merge(share.summary)
            collector.merge(share.collector)
            undeclared.update(share.undeclared)
            written.update(share.files)
        from engine.io.vocabulary import did_you_mean

        declared = set(state.vocab.items)
        hints = tuple(
            (kind, n, did_you_mean(kind, declared).strip(" ()"))
            for kind, n in sorted(undeclared.items())
        )
        result = summary.result()
        day = datetime.date.fromisoformat(generated) if generated else None
        data: ReportData = collector.finish(
            state.trial, result, source=state.source, as_of=spec.as_of,
            generated=day or datetime.date.today(), accounting=state.accounting,
            not_read=state.not_read, version=version, undeclared=hints,
        )
        info = RunInfo(state.trial.name, spec.as_of, state.source, spec.protocol_text or "",
                       spec.protocol.name, version, day)
        rows = summary_rows(result, not_ruled_out=data.not_ruled_out, undeclared=hints,
                            accounting=state.accounting, not_read=state.not_read, info=info)
        _write_driver_files(partial, rows, set(PATIENT_TABLES) - written)
        fs.commit(partial, base)
        return {"data": data, "state": state}
    except BaseException:
        fs.delete(partial)
        raise


def _collect(frame: Any) -> list[Share]:
    """Run the engine's job and the chunks' shares, in input order."""
    shares = [pickle.loads(row["share"]) for row in frame.collect()]
    shares.sort(key=lambda s: s.first)
    return shares


_COUNTS = pa.schema([("partition", pa.int64()), ("lines", pa.int64()), ("chars", pa.int64())])


def _count_lines(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A partition's lines and characters, counted by Arrow (no line is decoded in Python)."""
    import pyarrow.compute as pc

    lines = chars = 0
    for batch in batches:
        column = batch.column("value")
        lines += len(column)
        chars += pc.sum(pc.utf8_length(column)).as_py() or 0
    yield pa.RecordBatch.from_pydict(
        {"partition": [_partition()], "lines": [lines], "chars": [chars]}, schema=_COUNTS)


def _line_offsets(spark: Any, lines: Any) -> tuple[dict[int, int], int, tuple[str, int] | None]:
    """Each partition's first line number minus one, how many times the usual size the chunks
    are (as a local run's: see RunState.growth), and the file's header with its line (None
    for a file of blank lines).

    The lines are counted in the Python workers, by Arrow: measured on 3,000 patients, that
    job costs the JVM about 2 CPU-s less than counting in Spark SQL (an aggregate that Spark
    compiles, with a shuffle), and it starts the Python workers that the engine's job reuses."""
    from pyspark.sql.pandas.types import from_arrow_schema

    counts = lines.mapInArrow(_count_lines, from_arrow_schema(_COUNTS)).collect()
    offsets: dict[int, int] = {}
    total = chars = 0
    for row in sorted(counts, key=lambda r: r["partition"]):
        offsets[row["partition"]] = total
        total += row["lines"]
        chars += row["chars"] + row["lines"]  # with their line ends, as a file's size
    growth = max(1, min(CHUNK_GROWTH, chars // (CHUNKS_WANTED * CHUNK_CHARS)))
    header = None
    want = 16
    while header is None:  # the first line that is not blank (usually the first line)
        first = lines.head(min(want, total))
        header = next(((row["value"], n) for n, row in enumerate(first, 1)
                       if row["value"].strip()), None)
        if len(first) >= total:
            break
        want *= 16
    return offsets, growth, header


def _repeated_ids(
    lines: Any,
    shares: list[Share],
    spec: RunSpec,
    offsets: dict[int, int],
    growth: int,
    schema: Any,
) -> list[Share]:
    """The shares after evaluating again each partition that accepted a patient id an earlier
    partition accepted (a partition knows only its own earlier ids): told the first line of
    each such id, those chunks reject it as one pass over the file does."""
    first_line: dict[str, int] = {}
    for share in shares:
        for pid, line in share.seen:
            if line < first_line.get(pid, line + 1):
                first_line[pid] = line
    known: dict[str, int] = {}
    again: set[int] = set()
    for share in shares:
        for pid, line in share.seen:
            if first_line[pid] < line:
                known[pid] = first_line[pid]
                again.add(share.partition)
    if not again:
        return shares
    from pyspark.sql import functions as F

    only = frozenset(again)
    run = _evaluate_lines(spec, offsets, growth, known, only)
    redone = _collect(lines.where(F.spark_partition_id().isin(sorted(again))).mapInArrow(run, schema))
    kept = [s for s in shares if s.partition not in only]
    return sorted(kept + redone, key=lambda s: s.first)


def _write_driver_files(partial: str, rows: list[dict[str, Any]], empty: set[str]) -> None:
    """The summary table, and an empty file for each table no chunk wrote a file for (so that
    each table can be read as `<table>/*.parquet`), as a local run writes them."""
    import pyarrow.parquet as pq

    pafs, folder = results_filesystem(partial)
    for table in sorted(empty):
        pq.write_table(SCHEMAS[table].empty_table(), f"{folder}/{table}/{PART}",
                       compression="zstd", filesystem=pafs)
    pafs.create_dir(f"{folder}/summary")
    pq.write_table(pa.Table.from_pylist(rows, SCHEMAS["summary"]), f"{folder}/summary/{PART}",
                   compression="zstd", filesystem=pafs)


class _FileSystem:
    """The results folder's file system, through Spark's Hadoop configuration (local folders,
    HDFS, S3, DBFS alike): the folders made and the tables moved into place."""

    def __init__(self, spark: Any, folder: str):
        jvm = spark.sparkContext._jvm
        self._path = jvm.org.apache.hadoop.fs.Path
        self.fs = self._path(folder).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        self.fs.mkdirs(self._path(folder))

    def mkdirs(self, path: str) -> None:
        self.fs.mkdirs(self._path(path))

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
