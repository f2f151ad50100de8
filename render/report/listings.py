"""CSV listings for people who live in spreadsheets, written as the results stream in.

    with CsvListings(folder) as csv:
        for item in results:
            csv.add(item)

Files (UTF-8 with a byte-order mark so that Excel opens accents right, one header row):

* `deviations.csv`   every early, late or missed planned occurrence, and every sub-day
                     timepoint whose timing the data cannot tell (time_unknown);
* `ineligibility.csv` one row per criterion that keeps an ineligible or indeterminate patient out
                      (criteria the data cannot answer are in site_verification.csv instead);
* `stopping.csv`     every stopping event (rule fired, disposition, retest owed) and what it means;
* `rejected.csv`     every rejected input record;
* `site_verification.csv` once per criterion that the data cannot answer (its data were not
                      collected): for the site to verify, with how many patients it concerns.

Days are trialcode days (day 0 = the anchor's day), dates ISO 8601.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from engine.patient import ClockTime, RejectedRecord, stamp_text
from engine.results import EligibilityVerdict, PatientResult, ScheduleRow
from engine.summary import SummaryResult
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
# Six more columns of deviations.csv for a protocol with sub-day timepoints (only then: the
# listings of every other protocol keep their columns, byte for byte)
TIMEPOINT_COLUMNS = (
    "timepoint",
    "planned_datetime",
    "window_first_datetime",
    "window_last_datetime",
    "actual_datetime",
    "deviation_minutes",
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
    "patient_verdict_on_the_data",
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
    "meaning",
)
REJECTED_COLUMNS = ("source", "record", "patient", "field", "message")
SITE_VERIFICATION_COLUMNS = (
    "criterion",
    "category",
    "criterion_text",
    "not_collected",
    "patients",
)


def _iso(d: datetime.date | None) -> str:
    return d.isoformat() if d else ""


def _v(x: Any) -> Any:
    if x is None:
        return ""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def deviation_row(patient: str, arm: str | None, r: ScheduleRow,
                  timed: bool = False) -> list[Any]:
    """One row of deviations.csv; `timed`: with the TIMEPOINT_COLUMNS."""
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
        *(_timing_cells(r) if timed else ()),
    ]


def _stamp_cell(s: tuple[datetime.date, ClockTime | None] | None) -> str:
    return stamp_text(s[0], s[1]) if s is not None else ""


def _timing_cells(r: ScheduleRow) -> list[Any]:
    """The TIMEPOINT_COLUMNS (empty for the rows of day-level occurrences)."""
    t = r.timing
    if t is None:
        return ["", "", "", "", "", ""]
    first, last = t.window if t.window is not None else (None, None)
    return [t.timepoint, _stamp_cell(t.planned), _stamp_cell(first), _stamp_cell(last),
            _stamp_cell(t.actual), _v(t.deviation_minutes)]


SITE_VERIFICATION_FILE = "site_verification.csv"


FILES = (
    ("deviations.csv", DEVIATION_COLUMNS),
    ("ineligibility.csv", INELIGIBILITY_COLUMNS),
    ("stopping.csv", STOPPING_COLUMNS),
    ("rejected.csv", REJECTED_COLUMNS),
)


class _CsvRows:
    """The rows of the four listings, written through one csv writer per text handle (in the
    order of FILES). `timed`: the protocol has sub-day timepoints (deviations.csv gets the
    TIMEPOINT_COLUMNS)."""

    def __init__(self, handles: list[IO[str]], timed: bool = False):
        self._handles = handles
        self.timed = timed
        self.deviations, self.ineligibility, self.stopping, self.rejected = (
            _SafeWriter(csv.writer(handle, lineterminator="\n")) for handle in handles
        )

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
        for r in item.review_rows:
            self.deviations.writerow(deviation_row(pid, arm, r, self.timed))
        verdict = item.eligibility.verdict
        on_data = item.eligibility.data_verdict
        if verdict is not EligibilityVerdict.ELIGIBLE:
            for c in item.eligibility.criteria:
                if c.passes is True or c.not_collected:
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
                        on_data.value,
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
                    s.kind(item.anchor_date),
                ]
            )



class CsvParts(_CsvRows):
    """The rows of a share of a run (a worker's), kept as text to be appended to the files by
    CsvListings.write_parts, in input order: the same bytes as rows written one by one."""

    def __init__(self, timed: bool = False) -> None:
        super().__init__([io.StringIO() for _ in FILES], timed)

    def take(self) -> tuple[str, ...]:
        """The text of each listing's rows since the last take (in the order of FILES)."""
        texts = []
        for handle in self._handles:
            assert isinstance(handle, io.StringIO)
            texts.append(handle.getvalue())
            handle.seek(0)
            handle.truncate()
        return tuple(texts)


class CsvListings(_CsvRows):
    """The four CSV listings of a run, written row by row. Each file is written under a
    temporary name and renamed into place by `close` (render/atomic.py); `discard` removes
    them, leaving earlier files in the folder as they were."""

    def __init__(self, folder: str | Path, timed: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(exist_ok=True)  # the parent must exist (trialcode/commands/outputs.py)
        self._files: list[AtomicFile] = []
        try:
            for name, columns in FILES:
                file = AtomicFile(self.folder / name, encoding="utf-8-sig")
                self._files.append(file)
                header = columns + TIMEPOINT_COLUMNS if timed and name == "deviations.csv" \
                    else columns
                csv.writer(file.handle, lineterminator="\n").writerow(header)
        except BaseException:
            self.discard()
            raise
        super().__init__([f.handle for f in self._files], timed)

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self._files]

    def write_parts(self, texts: tuple[str, ...]) -> None:
        """Append the rows a CsvParts took (see there)."""
        for handle, text in zip(self._handles, texts, strict=True):
            if text:
                handle.write(text)

    def close(self, summary: SummaryResult | None = None) -> None:
        """Finish: every listing is renamed into place, and site_verification.csv written
        from the run's `summary` (when given)."""
        if summary is not None:
            site = AtomicFile(self.folder / SITE_VERIFICATION_FILE, encoding="utf-8-sig")
            self._files.append(site)
            writer = _SafeWriter(csv.writer(site.handle, lineterminator="\n"))
            writer.writerow(SITE_VERIFICATION_COLUMNS)
            for a in summary.site_verification:
                writer.writerow(
                    [a.id, a.category, a.text or "", " ".join(a.kinds_not_collected),
                     a.not_collected])
        for file in self._files:
            file.commit()

    def discard(self) -> None:
        """Stop without finishing: the partial listings are removed."""
        for file in self._files:
            file.discard()

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
