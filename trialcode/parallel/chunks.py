"""What a run reads, and how it is cut into chunks of consecutive patients in input order.

`RunSpec` is what a process needs to know to take part in a run (small and picklable: a worker
started with the `spawn` method rebuilds everything from it); `RunState` is what it builds from
it once (the protocol, compiled; the input opened). A chunk is either consecutive lines of a
patient file (`LinesChunk`, the lines themselves: reading a file is cheap, parsing it is not)
or a range of the items an SDTM folder gave (`ItemsChunk`, indexes only: a forked worker has
the loaded folder in memory already).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import attrs

from engine.api import CompiledTrial, compile_trial
from engine.io.jsonl import (
    LineReader,
    PatientFileError,
    TableReader,
    open_patient_file,
    read_lines,
)
from engine.io.sdtm import load_map, load_sdtm
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient, RejectedRecord
from protocol.trial import Trial
from render.report.collect import Accounting

# A chunk ends after this many patient lines or characters, whichever comes first: big enough
# that a worker's part costs little to send, small enough that memory stays flat and the
# processes share the work evenly.
CHUNK_LINES = 256
CHUNK_CHARS = 1 << 20
CHUNK_ITEMS = 32  # SDTM items (patients and rejected records) per chunk
CHUNK_ROWS = 16384  # rows of an event table (about 190 patients of the synthetic cohort)
# A run that writes Parquet tables writes one file per chunk and table: on a big input, its
# chunks grow (up to CHUNK_GROWTH times the sizes above, while the input still makes at least
# CHUNKS_WANTED chunks) so that the files do not become many small ones (about 800 patients
# a file at most; 1,000,000 patients make about 1,200 files per table). The growth depends on
# the input's size alone: the files are the same whatever the number of processes.
CHUNK_GROWTH = 8
CHUNKS_WANTED = 64


@attrs.frozen
class RunSpec:
    """What a run reads and writes: enough for any process to take part in it."""

    protocol: Path
    as_of: datetime.date
    patients: Path | None = None
    sdtm: Path | None = None
    map: Path | None = None
    json: bool = False
    csv: bool = False
    # where each chunk writes its tables' files itself (render.report.parquet.ChunkFiles): the
    # partial folder of the results folder being written (a URI on Spark: trialcode.spark)
    parquet_dir: Path | str | None = None
    # digits of a chunk's number in its files' names (Spark numbers a chunk by its first line)
    chunk_digits: int = 8
    max_rows: int = 2000
    max_timelines: int = 400
    # For processes that cannot read the protocol file or the patient file's first lines
    # (Spark executors): the protocol's text, and the header line with its number.
    protocol_text: str | None = None
    header: tuple[str, int] | None = None


@attrs.frozen
class LinesChunk:
    index: int
    first_lineno: int
    lines: tuple[str, ...]

    @property
    def size(self) -> int:
        """Characters, for the progress bar."""
        return sum(map(len, self.lines))


@attrs.frozen
class ItemsChunk:
    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@attrs.frozen
class RowsChunk:
    """Rows first..stop-1 of an event table (they start and end at patient boundaries)."""

    index: int
    first: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.first


Chunk = LinesChunk | ItemsChunk | RowsChunk


class RunState:
    """A run as one process sees it: the protocol (compiled once) and the opened input.

    For a patient file, only the header is read here (`PatientFileError` if it is not one);
    `chunks` then reads the rest, in the parent only. An SDTM folder is loaded whole, as
    `trialcode validate` always did (the datasets are tables, not a stream).
    """

    def __init__(self, spec: RunSpec, trial: Trial | None = None):
        import trialcode

        self.spec = spec
        if trial is None:
            trial = (
                trialcode.load_source(spec.protocol_text, spec.protocol.name)
                if spec.protocol_text is not None
                else trialcode.load(spec.protocol)
            )
        self.trial: Trial = trial
        self.vocab = Vocabulary.from_trial(self.trial)
        self.compiled: CompiledTrial = compile_trial(self.trial)
        self.accounting: tuple[Accounting, ...] = ()
        self.not_read: tuple[str, ...] = ()
        self.items: Sequence[Patient | RejectedRecord] = ()
        self.header: tuple[str, int] = ("", 0)
        self.total: float | None = None
        self._handle: IO[str] | None = None
        self.table: Path | None = None  # an event table (Parquet)
        if spec.patients is not None:
            self.name = spec.patients.name
            self.source = str(spec.patients)
            if spec.patients.suffix.lower() == ".parquet":
                from engine.io.event_table import open_event_table, table_reader

                table = open_event_table(spec.patients)
                table_reader(spec.patients, table, self.vocab)  # its metadata checked now
                self.table = spec.patients
                self.total = float(table.metadata.num_rows) or None
            elif spec.header is not None:
                self.header = spec.header
                self.reader(None)  # PatientFileError for a bad header
            else:
                self._open_patients(spec.patients)
        else:
            assert spec.sdtm is not None
            mapping = load_map(spec.map) if spec.map else None
            load = load_sdtm(spec.sdtm, mapping, self.trial)
            self.items = list(load)
            self.total = float(len(self.items)) or None
            self.name = str(spec.sdtm)
            self.source = f"SDTM datasets in {spec.sdtm}" + (f" (map {spec.map})" if spec.map else "")
            self.accounting = tuple(
                Accounting(c.dataset, c.rows, c.used, c.rejected, tuple(sorted(c.ignored.items())),
                           c.rejected_records)
                for c in load.accounting.values()
            )
            self.not_read = tuple(load.not_read)

    def _open_patients(self, path: Path) -> None:
        try:
            handle = open_patient_file(path)
        except OSError as exc:
            raise PatientFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
        self.total = float(path.stat().st_size) or None
        lineno = 0
        for raw in handle:
            lineno += 1
            if raw.strip():
                self.header = (raw, lineno)
                break
        else:
            handle.close()
            list(read_lines((), self.name, self.vocab))  # the reader's error for an empty file
        self.lines_read = lineno
        self.reader(None)  # PatientFileError now, for a bad header, before any worker starts
        self._handle = handle

    def reader(self, seen: dict[str, int] | None) -> LineReader:
        """A reader of this file's patient lines (`seen`: ids of earlier chunks, see LineReader)."""
        return LineReader(self.name, self.vocab, *self.header, seen=seen)

    def growth(self, unit: int) -> int:
        """How many times the usual size this run's chunks are (see CHUNK_GROWTH), for an
        input of `self.total` in chunks of `unit`."""
        if self.spec.parquet_dir is None or not self.total:
            return 1
        return max(1, min(CHUNK_GROWTH, int(self.total) // (CHUNKS_WANTED * unit)))

    def chunks(self) -> Iterator[Chunk]:
        """The input cut into chunks, in input order (read lazily: for the parent)."""
        if self.table is not None:
            from engine.io.event_table import patient_bounds

            rows = CHUNK_ROWS * self.growth(CHUNK_ROWS)
            for index, (first, stop) in enumerate(patient_bounds(self.table, rows)):
                yield RowsChunk(index, first, stop)
            return
        if self._handle is None:
            for index, start in enumerate(range(0, len(self.items), CHUNK_ITEMS)):
                yield ItemsChunk(index, start, min(start + CHUNK_ITEMS, len(self.items)))
            return
        handle, self._handle = self._handle, None
        growth = self.growth(CHUNK_CHARS)
        most_lines, most_chars = CHUNK_LINES * growth, CHUNK_CHARS * growth
        with handle:
            index = 0
            first = self.lines_read + 1
            lines: list[str] = []
            chars = 0
            for raw in handle:
                lines.append(raw)
                chars += len(raw)
                if len(lines) >= most_lines or chars >= most_chars:
                    yield LinesChunk(index, first, tuple(lines))
                    index += 1
                    first += len(lines)
                    lines, chars = [], 0
            if lines:
                yield LinesChunk(index, first, tuple(lines))

    def items_of(
        self, chunk: Chunk, seen: dict[str, int] | None = None
    ) -> tuple[Iterator[tuple[int, Patient | RejectedRecord]], LineReader | TableReader | None]:
        """The items of a chunk, each with its position in the input (its line in a patient
        file, its first row in an event table, its number in an SDTM load), and the reader of
        its records (for the ids it read)."""
        if isinstance(chunk, RowsChunk):
            from engine.io.event_table import open_event_table, read_event_table, table_reader

            assert self.table is not None
            table = open_event_table(self.table)
            rows = table_reader(self.table, table, self.vocab, seen)
            items = read_event_table(self.table, vocabulary=self.vocab,
                                     rows=(chunk.first, chunk.stop), reader=rows)
            return items, rows
        if isinstance(chunk, ItemsChunk):
            return enumerate(self.items[chunk.start : chunk.stop], chunk.start + 1), None
        reader = self.reader(seen)
        return reader.read_numbered(chunk.lines, chunk.first_lineno), reader

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
