"""A chunk's share of every report (`Part`), made in a worker; and the run's reports, which the
parent builds by merging the parts in input order (`Reports`).

A part holds text (the JSON report's and the CSV listings' bytes for its patients), counters
(the summary's, the HTML report's attrition and listings totals, undeclared data kinds) and
at most a listing's worth of results for the HTML report's listings and timelines, only while
the parent's listing is not full: what crosses between processes stays proportional to the
reports, not to the engine's object graphs. The Parquet tables do not cross at all: the process
that evaluates a chunk writes the chunk's files (render.report.parquet.ChunkFiles), so that the
tables' rows, the bulk of a run's output, are encoded and compressed on every core (on Spark,
on every executor: trialcode.spark).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from engine.patient import Observation, Occurrence, Patient, RejectedRecord
from engine.results import PatientResult
from engine.summary import Summary
from render.report.collect import ReportCollector
from render.report.json_stream import JsonParts, JsonReportWriter
from render.report.listings import CsvListings, CsvParts
from trialcode.parallel.chunks import Chunk, RunState

if TYPE_CHECKING:  # pyarrow is imported only by runs that write tables
    from render.report.parquet import ChunkFiles
    from render.report.tables import TableRows

# A chunk's table rows are turned into Arrow data (and, written in files, into row groups)
# every this many rows: what a process holds of them as Python values stays bounded.
TABLE_ROWS = 32768


@attrs.frozen
class Part:
    index: int  # the chunk's, in input order
    size: int  # the chunk's size, for the progress bar
    seen: tuple[tuple[str, int], ...]  # (patient id, line) of the patient lines read
    summary: Summary
    collector: ReportCollector
    undeclared: Counter[str]
    json: tuple[list[str], list[str]] | None = None
    csv: tuple[str, ...] | None = None
    files: tuple[str, ...] = ()  # the tables this chunk wrote a file for


def make_part(
    state: RunState,
    chunk: Chunk,
    full: Sequence[int] = (0,) * 5,
    seen: dict[str, int] | None = None,
) -> Part:
    """Read and evaluate one chunk. `full` flags the parent's HTML listings that are full (in
    the order of ReportCollector.LISTINGS): this part need not keep their items. `seen`: ids
    that earlier chunks read, with their line (see LineReader)."""
    spec = state.spec
    items, reader = state.items_of(chunk, seen)
    summary = Summary(state.trial)
    collector = ReportCollector(max_rows=spec.max_rows, max_timelines=spec.max_timelines)
    for listing, is_full in zip(collector.listings(), full, strict=True):
        if is_full:
            listing.limit = 0
    json = JsonParts() if spec.json else None
    csv = CsvParts(state.trial.has_timepoints) if spec.csv else None
    tables: TableRows | None = None
    files: ChunkFiles | None = None
    if spec.parquet_dir is not None:
        from render.report.parquet import ChunkFiles
        from render.report.tables import TableRows

        tables = TableRows()
        files = ChunkFiles(spec.parquet_dir, chunk.index, digits=spec.chunk_digits)
    rejected_at: tuple[int, int] = (0, 0)  # (position, rejected records at it so far)
    undeclared: Counter[str] = Counter()
    declared = set(state.vocab.items)
    run = state.compiled.evaluate
    as_of = spec.as_of
    for position, item in items:
        out: PatientResult | RejectedRecord
        patient: Patient | None = None
        if isinstance(item, RejectedRecord):
            out = item
        else:
            patient = item
            if declared:
                for e in item.events:
                    if isinstance(e, (Observation, Occurrence)) and e.kind not in declared:
                        undeclared[e.kind] += 1
            out = run(item, as_of)
        summary.add(out)
        collector.add(out, patient)
        if json is not None:
            json.add(out)
        if csv is not None:
            csv.add(out)
        if tables is not None:
            n = 0
            if patient is None:
                n = rejected_at[1] if rejected_at[0] == position else 0
                rejected_at = (position, n + 1)
            tables.add(position, out, patient, n)
            if files is not None and tables.total() >= TABLE_ROWS:
                files.add(tables.take())
    written: tuple[str, ...] = ()
    if files is not None:
        assert tables is not None
        files.add(tables.take())
        written = files.close()
    given = seen or {}
    read = (
        tuple((pid, line) for pid, line in reader.seen.items() if pid not in given)
        if reader is not None
        else ()
    )
    return Part(
        chunk.index,
        chunk.size,
        read,
        summary,
        collector,
        undeclared,
        json.take() if json is not None else None,
        csv.take() if csv is not None else None,
        written,
    )


class Reports:
    """The run's reports, built from the parts in input order (see `merge`)."""

    def __init__(
        self,
        state: RunState,
        json: JsonReportWriter | None = None,
        csv: CsvListings | None = None,
    ):
        spec = state.spec
        self.summary = Summary(state.trial)
        self.collector = ReportCollector(max_rows=spec.max_rows, max_timelines=spec.max_timelines)
        self.undeclared: Counter[str] = Counter()
        self.json = json
        self.csv = csv
        self.seen: dict[str, int] = {}  # every patient id read, with its line
        self.done = 0  # chunk sizes merged, for the progress bar

    def full(self) -> tuple[int, ...]:
        """Which HTML listings are full (for the next parts: see make_part)."""
        return tuple(int(listing.full) for listing in self.collector.listings())

    def repeated(self, part: Part) -> dict[str, int]:
        """The ids of `part` that an earlier part read already, with their first line."""
        seen = self.seen
        return {pid: seen[pid] for pid, _ in part.seen if pid in seen}

    def merge(self, part: Part) -> None:
        """Add the next part in input order (after `repeated` found nothing in it)."""
        self.seen.update(part.seen)
        self.summary.merge(part.summary)
        self.collector.merge(part.collector)
        self.undeclared.update(part.undeclared)
        if self.json is not None and part.json is not None:
            self.json.add_parts(part.json)
        if self.csv is not None and part.csv is not None:
            self.csv.write_parts(part.csv)
        self.done += part.size

