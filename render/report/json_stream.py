"""The JSON report (schema `trialcode.report/1`, built by `engine.report_json`) written as the
results stream in: patients are written as they come, rejected records are spooled to a
temporary file and copied after them, the summary comes last. Memory does not grow with the
number of patients.

The document is the engine's, plus an `input` object: where the patients came from and, for
SDTM, what became of every dataset's rows.

The compact layout is written by orjson: it serialises a patient's report about 5x faster than
`json.dumps` (which took about a third of a `validate --json` run), and its output is plain
JSON without spaces. A value orjson cannot write (an integer wider than 64 bits) falls back to
`json.dumps` with the same compact separators, so the file keeps one layout.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import orjson

from engine import report_json
from engine.patient import RejectedRecord
from engine.results import PatientResult
from engine.summary import SummaryResult
from render.atomic import AtomicFile
from render.report.collect import Accounting


def _dump(obj: Any) -> str:
    try:
        return orjson.dumps(obj).decode("utf-8")
    except orjson.JSONEncodeError:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: written as its escape
            text = json.dumps(obj, separators=(",", ":"))
        return text


class JsonParts:
    """The patients and rejected records of a share of a run (a worker's) as report text, for
    JsonReportWriter.add_parts: each item's compact JSON.

    The texts stay one per item rather than joined: a chunk's patients are about 10 MB of JSON,
    and joining them (then encoding the joined text) made the process touch two or three fresh
    copies of that per chunk, which cost more system time (page faults) than the engine's own
    work gained from the chunks (docs/performance.md, issue 14)."""

    def __init__(self) -> None:
        self.patients: list[str] = []
        self.rejected: list[str] = []

    def add(self, item: PatientResult | RejectedRecord) -> None:
        if isinstance(item, RejectedRecord):
            self.rejected.append(_dump(report_json.rejected_json(item)))
        else:
            self.patients.append(_dump(report_json.patient_json(item)))

    def take(self) -> tuple[list[str], list[str]]:
        """(the patients' texts, the rejected records' texts) since the last take."""
        out = (self.patients, self.rejected)
        self.patients, self.rejected = [], []
        return out


class JsonReportWriter:
    def __init__(
        self, path: str | Path, trial_name: str, as_of: datetime.date, *, indent: bool = False
    ):
        self.path = Path(path)
        # written under a temporary name and renamed into place by `finish`: a run that stops
        # midway leaves no half-written report (render/atomic.py)
        self.file = AtomicFile(self.path)
        self.handle: IO[str] = self.file.handle
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.indent = indent
        self.patients = 0
        self.rejected = 0
        header = report_json.report_header(trial_name, as_of)
        head = self._dump(header)
        self.handle.write(head[:-1] + ',\n"patients": [')

    def _dump(self, obj: Any) -> str:
        if self.indent:
            return json.dumps(obj, ensure_ascii=False, indent=1)
        return _dump(obj)

    def add_parts(self, parts: JsonParts | tuple[list[str], list[str]]) -> None:
        """Append what a JsonParts took (a worker's share of the run, in input order): the same
        bytes as adding its items one by one (in the compact layout only)."""
        if self.indent:
            raise ValueError("add_parts writes the compact layout")
        patients, rejected = parts.take() if isinstance(parts, JsonParts) else parts
        write = self.handle.write
        for text in patients:  # one write per item, as `add` makes (one system call each)
            write((",\n" if self.patients else "\n") + text)
            self.patients += 1
        write = self.spool.write
        for text in rejected:
            write((",\n" if self.rejected else "\n") + text)
            self.rejected += 1

    def add(self, item: PatientResult | RejectedRecord) -> None:
        if isinstance(item, RejectedRecord):
            self.spool.write(
                ("," if self.rejected else "") + "\n" + self._dump(report_json.rejected_json(item))
            )
            self.rejected += 1
            return
        self.handle.write(
            ("," if self.patients else "") + "\n" + self._dump(report_json.patient_json(item))
        )
        self.patients += 1

    def finish(
        self,
        summary: SummaryResult,
        *,
        source: str,
        accounting: tuple[Accounting, ...] = (),
        not_read: tuple[str, ...] = (),
    ) -> Path:
        self.handle.write('\n],\n"rejected": [')
        self.spool.seek(0)
        shutil.copyfileobj(self.spool, self.handle)
        self.handle.write('\n],\n"summary": ')
        self.handle.write(self._dump(report_json.summary_json(summary)))
        inp: dict[str, Any] = {"source": source}
        if accounting:
            inp["datasets"] = [
                {
                    "dataset": a.dataset,
                    "rows": a.rows,
                    "used": a.used,
                    "rejected": a.rejected,
                    "ignored": [{"reason": r, "rows": n} for r, n in a.ignored],
                    "rejected_records": a.rejected_records,
                }
                for a in accounting
            ]
            inp["not_read"] = list(not_read)
        self.handle.write(',\n"input": ' + self._dump(inp) + "\n}\n")
        self.file.commit()
        self.spool.close()
        return self.path

    def close(self) -> None:
        """Stop without finishing: the partial report is removed (an earlier file at the
        path is left as it was)."""
        self.file.discard()
        self.spool.close()

    def __enter__(self) -> JsonReportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
