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
from engine.io.jsonl import LineReader, PatientFileError, open_patient_file, read_lines
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
    max_rows: int = 2000
    max_timelines: int = 400


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


Chunk = LinesChunk | ItemsChunk


class RunState:
    """A run as one process sees it: the protocol (compiled once) and the opened input.

    For a patient file, only the header is read here (`PatientFileError` if it is not one);
    `chunks` then reads the rest, in the parent only. An SDTM folder is loaded whole, as
    `trialcode validate` always did (the datasets are tables, not a stream).
    """

    def __init__(self, spec: RunSpec, trial: Trial | None = None):
        import trialcode

        self.spec = spec
        self.trial: Trial = trial if trial is not None else trialcode.load(spec.protocol)
        self.vocab = Vocabulary.from_trial(self.trial)
        self.compiled: CompiledTrial = compile_trial(self.trial)
        self.accounting: tuple[Accounting, ...] = ()
        self.not_read: tuple[str, ...] = ()
        self.items: Sequence[Patient | RejectedRecord] = ()
        self.header: tuple[str, int] = ("", 0)
        self.total: float | None = None
        self._handle: IO[str] | None = None
        if spec.patients is not None:
            self.name = spec.patients.name
            self.source = str(spec.patients)
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
                Accounting(c.dataset, c.rows, c.used, c.rejected, tuple(sorted(c.ignored.items())))
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

    def chunks(self) -> Iterator[Chunk]:
        """The input cut into chunks, in input order (read lazily: for the parent)."""
        if self._handle is None:
            for index, start in enumerate(range(0, len(self.items), CHUNK_ITEMS)):
                yield ItemsChunk(index, start, min(start + CHUNK_ITEMS, len(self.items)))
            return
        handle, self._handle = self._handle, None
        with handle:
            index = 0
            first = self.lines_read + 1
            lines: list[str] = []
            chars = 0
            for raw in handle:
                lines.append(raw)
                chars += len(raw)
                if len(lines) >= CHUNK_LINES or chars >= CHUNK_CHARS:
                    yield LinesChunk(index, first, tuple(lines))
                    index += 1
                    first += len(lines)
                    lines, chars = [], 0
            if lines:
                yield LinesChunk(index, first, tuple(lines))

    def items_of(
        self, chunk: Chunk, seen: dict[str, int] | None = None
    ) -> tuple[Iterator[Patient | RejectedRecord], LineReader | None]:
        """The items of a chunk, and the reader of its lines (for the ids it read)."""
        if isinstance(chunk, ItemsChunk):
            return iter(self.items[chunk.start : chunk.stop]), None
        reader = self.reader(seen)
        return reader.read(chunk.lines, chunk.first_lineno), reader

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
