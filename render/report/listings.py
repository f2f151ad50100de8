"""CSV listings for people who live in spreadsheets, written as the results stream in.

    with CsvListings(folder) as csv:
        for item in results:
            csv.add(item)

Files (UTF-8 with a byte-order mark so that Excel opens accents right, one header row):

* `deviations.csv`   every early, late or missed planned occurrence;
* `ineligibility.csv` one row per criterion that keeps an ineligible or indeterminate patient out;
* `stopping.csv`     every stopping event (rule fired, disposition, retest owed);
* `rejected.csv`     every rejected input record.

Days are trialcode days (day 0 = the anchor's day), dates ISO 8601.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.patient import RejectedRecord
from engine.results import EligibilityVerdict, PatientResult, ScheduleRow
from protocol.safe_text import terminal_safe
from render.atomic import AtomicFile

DEVIATION_COLUMNS = (
    "patient",
    "arm",
    "activity_type",
    "activity",
    "occurrence",
    "label",
    "status",
    "deviation_days",
    "planned_day",
    "planned_date",
    "window_first_day",
    "window_last_day",
    "window_first_date",
    "window_last_date",
    "actual_date",
    "actual_day",
    "planned_amount",
    "actual_amount",
    "unit",
    "reason",
    "source_record",
)
INELIGIBILITY_COLUMNS = (
    "patient",
    "arm",
    "patient_verdict",
    "criterion",
    "category",
    "criterion_verdict",
    "criterion_text",
    "evidence",
    "evidence_records",
)
STOPPING_COLUMNS = (
    "patient",
    "arm",
    "rule",
    "source",
    "date",
    "action",
    "status",
    "interventions",
    "retest_of",
    "retest_due",
    "retest_status",
    "retest_date",
    "evidence",
)
REJECTED_COLUMNS = ("source", "record", "patient", "field", "message")


def _iso(d: datetime.date | None) -> str:
    return d.isoformat() if d else ""


def _v(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def deviation_row(patient: str, arm: str | None, r: ScheduleRow) -> list[Any]:
    lo, hi = r.window if r.window else (None, None)
    wlo, whi = r.window_dates if r.window_dates else (None, None)
    return [
        patient,
        arm or "",
        r.activity_type,
        r.activity,
        r.occurrence,
        r.label,
        r.status.value,
        _v(r.deviation_days),
        _v(r.planned_day),
        _iso(r.planned_date),
        _v(lo),
        _v(hi),
        _iso(wlo),
        _iso(whi),
        _iso(r.actual_date),
        _v(r.actual_day),
        _v(r.planned_amount),
        _v(r.actual_amount),
        r.planned_unit or r.actual_unit or "",
        r.reason or "",
        str(r.ref) if r.ref else "",
    ]


class CsvListings:
    """The four CSV listings of a run, written row by row."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(exist_ok=True)
        self._files: list[AtomicFile] = []
        try:
            self.deviations = self._open("deviations.csv", DEVIATION_COLUMNS)
            self.ineligibility = self._open("ineligibility.csv", INELIGIBILITY_COLUMNS)
            self.stopping = self._open("stopping.csv", STOPPING_COLUMNS)
            self.rejected = self._open("rejected.csv", REJECTED_COLUMNS)
        except BaseException:
            self.discard()
            raise

    def _open(self, name: str, columns: tuple[str, ...]) -> _SafeWriter:
        # each file is written under a temporary name and renamed into place by `close`
        handle = AtomicFile(self.folder / name, encoding="utf-8-sig")
        self._files.append(handle)
        writer = _SafeWriter(csv.writer(handle.handle, lineterminator="\n"))
        writer.writerow(columns)
        return writer

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self._files]

    def add(self, item: PatientResult | RejectedRecord) -> None:
        if isinstance(item, RejectedRecord):
            self.rejected.writerow(
                [
                    item.ref.source,
                    item.ref.locator,
                    item.patient or "",
                    item.field or "",
                    item.message,
                ]
            )
            return
        pid, arm = item.id, item.arm
        for r in item.deviations:
            self.deviations.writerow(deviation_row(pid, arm, r))
        verdict = item.eligibility.verdict
        if verdict is not EligibilityVerdict.ELIGIBLE:
            for c in item.eligibility.criteria:
                if c.passes is True:
                    continue
                self.ineligibility.writerow(
                    [
                        pid,
                        arm or "",
                        verdict.value,
                        c.id,
                        c.category,
                        c.verdict.value,
                        c.text or "",
                        " | ".join(e.explanation for e in c.evidence),
                        " | ".join(str(e.ref) for e in c.evidence if e.ref),
                    ]
                )
        for s in item.stopping:
            self.stopping.writerow(
                [
                    pid,
                    arm or "",
                    s.rule,
                    s.source,
                    _iso(s.date),
                    s.action,
                    s.status.value,
                    " ".join(s.interventions),
                    s.retest_kind or "",
                    _iso(s.retest_due),
                    s.retest_status.value if s.retest_status else "",
                    _iso(s.retest_date),
                    " | ".join(e.explanation for e in s.evidence),
                ]
            )

    def close(self) -> None:
        """Finish: every listing is renamed into place."""
        for handle in self._files:
            handle.commit()

    def discard(self) -> None:
        """Stop without finishing: the partial listings are removed (earlier files in the
        folder are left as they were)."""
        for handle in self._files:
            handle.discard()

    def __enter__(self) -> CsvListings:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


# The first characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
# Injection"): `=HYPERLINK(...)` in a patient id would be a live link, `=cmd|...` worse.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: Any) -> Any:
    """A text cell that a spreadsheet will show as text: one starting like a formula gets a
    leading apostrophe (OWASP's advice; Excel hides it), and control characters and
    bidirectional controls are shown as escapes. Numbers are left alone (a negative number
    is not a formula)."""
    if value.__class__ is not str or not value:
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return terminal_safe(value) if not value.isprintable() else value


class _SafeWriter:
    """A csv writer whose text cells go through `neutral_cell`."""

    def __init__(self, writer: Any):
        self.writer = writer

    def writerow(self, row: list[Any] | tuple[Any, ...]) -> None:
        self.writer.writerow([neutral_cell(v) for v in row])
