"""The compact terminal summary of a validation run, and a progress bar for stderr.

The summary is plain text (no colour codes) so that it reads the same in a log file.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from typing import TextIO

from engine.results import Status
from engine.summary import ActivityStatusRow
from protocol.trial import Trial
from render.report.collect import Accounting, ReportData

STATUS_COLUMNS = (
    (Status.ON_TIME, "on time"),
    (Status.EARLY, "early"),
    (Status.LATE, "late"),
    (Status.MISSED, "missed"),
    (Status.NOT_DUE, "not due"),
    (Status.NOT_APPLICABLE, "not applicable"),
    (Status.NOT_COLLECTED, "not collected"),
)


def activity_order(activities: Sequence[ActivityStatusRow]) -> list[ActivityStatusRow]:
    """The rows of the conformance table as the reports show them: visits first, then each
    type of activity; within a type the planned activities in the order met, then those with
    only unplanned events (unscheduled visits) in natural order of their names, so that
    `UNSCHEDULED 1.2` comes before `UNSCHEDULED 10.2` and not where the data first had one."""

    def key(indexed: tuple[int, ActivityStatusRow]) -> tuple[object, ...]:
        i, a = indexed
        unplanned_only = not a.counts
        name = tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                     for part in _NUMBERS.split(a.activity) if part)
        return (a.activity_type != "visit", a.activity_type, unplanned_only,
                name if unplanned_only else (), i)

    return [a for _, a in sorted(enumerate(activities), key=key)]


_NUMBERS = re.compile(r"(\d+)")


def _table(
    header: Sequence[str], rows: Sequence[Sequence[object]], right_from: int = 1
) -> list[str]:
    cells = [list(map(str, header))] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for n, row in enumerate(cells):
        parts = [
            c.rjust(widths[i]) if i >= right_from else c.ljust(widths[i]) for i, c in enumerate(row)
        ]
        out.append("  " + "  ".join(parts).rstrip())
        if n == 0:
            out.append("  " + "  ".join("-" * w for w in widths))
    return out


def _cell(value: object) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# items of a listing the summary names (stopping events: twice as many); a run that keeps only
# what the terminal shows (validate --spark without --html or --csv) keeps 2 x MAX_LISTED
MAX_LISTED = 5


def terminal_summary(
    data: ReportData, *, max_listed: int = MAX_LISTED, outputs: Sequence[str] = ()
) -> str:
    s = data.summary
    trial = data.trial
    anchor = (trial.reference_anchor or "day 0").replace("_", " ")
    lines = [
        f"{trial.name}: {s.patients:,} patients from {data.source}, data cut {data.as_of.isoformat()}",
        "",
    ] + eligibility_headline(data, f"Eligibility at {anchor}")
    note = undated_note(data)
    if note:
        lines.append(f"  {note}")
    site = s.site_verification
    header: tuple[str, ...] = ("criterion", "met", "not met", "unknown")
    if site:
        header += ("not in data",)
    header += ("remaining",)
    if site:
        header += ("on the data",)
    header += ("not ruled out",)
    rows_: list[list[object]] = []
    for c in s.attrition:
        row: list[object] = [c.id, c.met, c.not_met, c.missing]
        if site:
            row.append(c.not_collected)
        row.append(c.remaining)
        if site:
            row.append(c.remaining_on_data)
        row.append(data.not_ruled_out.get(c.id, 0))
        rows_.append(row)
    lines += _table(header, rows_)
    if site:
        lines += [
            "",
            f"Criteria the data cannot answer ({len(site)}): the site must verify "
            f"{'it' if len(site) == 1 else 'them'} (not counted as unknown above)",
        ]
        width = max(len(c.id) for c in site)
        for c in site:
            whom = "" if c.not_collected == s.patients else (
                f" (for {c.not_collected:,} of {s.patients:,} patients)")
            lines.append(
                f"  {c.id.ljust(width)}  {c.category}: "
                f"{_clip(', '.join(c.kinds_not_collected), 50)} not in the data{whom}"
            )

    n = s.patients_with_deviations
    lines += ["", f"Schedule: {n:,} patient{'' if n == 1 else 's'} with deviations"]
    rows = []
    columns: tuple[tuple[Status, str], ...] = STATUS_COLUMNS
    unknown = sum(a.count(Status.TIME_UNKNOWN) for a in s.activities)
    if unknown:
        columns += ((Status.TIME_UNKNOWN, "time unknown"),)  # only with sub-day timepoints
        # not deviations, but listed with them: say so where the count is read
        lines.append(f"  and {unknown:,} timepoint{'' if unknown == 1 else 's'} with time unknown "
                     "(done; the recorded times cannot tell whether on time): not deviations, "
                     "listed with them")
    for a in activity_order(s.activities):
        if not a.counts and not a.unplanned:
            continue
        name = (
            a.activity
            if a.activity_type in ("visit", "assess")
            else f"{a.activity} ({a.activity_type})"
        )
        rows.append(
            [name] + [a.count(st) for st, _ in columns] + [a.unplanned, a.deviations]
        )
    lines += _table(
        ("activity",) + tuple(h for _, h in columns) + ("unplanned", "deviations"), rows
    )

    day0 = schedule_anchor(trial)
    lines += ["", stopping_headline(data, day0)]
    if data.stopping.items:
        shown = data.stopping.items[: max_listed * 2]
        lines += _table(
            ("patient", "date", "action", "meaning", "rule"),
            [
                (
                    i.patient,
                    i.event.date.isoformat(),
                    i.event.action,
                    stop_label(i.kind, day0),
                    _clip(i.event.rule, 70),
                )
                for i in shown
            ],
            right_from=99,
        )
        more = data.stopping.total - len(shown)
        if more > 0:
            lines.append(f"  ... and {more:,} more (stopping.csv / the HTML report list them all)")

    lines += ["", f"Rejected records: {s.rejected:,}"]
    for r in data.rejected.items[:max_listed]:
        lines.append(f"  {r}")
    if s.rejected > max_listed:
        lines.append(f"  ... and {s.rejected - max_listed:,} more (rejected.csv / the HTML report)")
    for acc in data.accounting:
        if acc.rejected or acc.ignored_total or acc.rejected_records:
            line = (
                f"  {acc.dataset}: {acc.rows:,} row{'' if acc.rows == 1 else 's'} = {acc.used:,} used + {acc.rejected:,} "
                f"rejected + {acc.ignored_total:,} ignored"
            )
            if acc.rejected_records != acc.rejected:
                line += f"; {_records_note(acc)}"
            lines.append(line)
    if data.undeclared:
        lines += [
            "",
            "Data kinds the protocol does not declare (kept, used by no criterion or plan):",
        ]
        for kind, n, hint in data.undeclared[: max_listed * 2]:
            lines.append(f"  {kind}: {n:,} events" + (f" ({hint})" if hint else ""))
    if s.errors:
        lines += ["", f"Evaluation errors: {s.errors:,}"]
        lines += [f"  {e}" for e in s.error_samples[:max_listed]]
    if outputs:
        lines += ["", "Reports:"] + [f"  {o}" for o in outputs]
    return "\n".join(lines) + "\n"


STOP_LABELS = {
    "stop": "stopped",
    "retest": "retest owed",
    "rescinded": "rescinded",
    "pending": "pending",
    "no_effect": "no effect",
}


def schedule_anchor(trial: Trial) -> str:
    """The name of the schedule's day 0, in words (stops are judged against its date)."""
    name = trial.schedule.anchor if trial.schedule and trial.schedule.anchor else "day 0"
    return name.replace("_", " ")


def stop_label(kind: str, anchor: str) -> str:
    """The words for a StoppingEvent.kind."""
    if kind == "before_anchor":
        return f"before {anchor}"
    return STOP_LABELS[kind]


def stopping_headline(data: ReportData, anchor: str) -> str:
    """Patients who stopped early, and the other stopping events (screen failures, retests
    owed) counted apart: only a stop reads as one."""
    s = data.summary
    n = s.patients_stopped
    text = f"Stopping: {n:,} patient{'' if n == 1 else 's'} stopped early"
    others = s.patients_with_stopping - s.patients_stopped
    if others:
        text += (f"; {s.patients_with_stopping:,} with any stopping event (the others: "
                 f"dispositions before {anchor} such as screen failures, or retests owed)")
    return text


def _records_note(acc: Accounting) -> str:
    """Why a dataset's rejected records are not its rejected rows: values rejected in rows
    that are still used, or several rows rejected as one record (a derived value)."""
    n, rows = acc.rejected_records, acc.rejected
    if n > rows:
        extra = n - rows
        return f"and {extra:,} rejected value{'s' if extra != 1 else ''} of rows still used"
    return f"the {rows:,} rejected rows are {n:,} rejected record{'s' if n != 1 else ''}"


def eligibility_headline(data: ReportData, lead: str) -> list[str]:
    """What the data decide about the patients' eligibility, in one or two lines: the
    verdicts on the criteria the data can decide, and how many criteria the data cannot
    answer at all (their data were not collected: the site must verify them)."""
    s = data.summary
    counts = (f"{s.data_eligible:,} eligible / {s.data_ineligible:,} not eligible / "
              f"{s.data_unknown:,} unknown")
    site = s.site_verification
    if not site:
        return [f"{lead}: {counts}"]
    n = len(site)
    return [
        f"{lead}: {counts} on the criteria the data can decide;",
        f"  {n:,} criteri{'on needs' if n == 1 else 'a need'} site verification "
        "(the data hold nothing they read)",
    ]


def undated_note(data: ReportData) -> str | None:
    """Why patients are unknown when the reason is one: the anchor eligibility is judged at has
    no date for them (`the 52 unknown have no randomization date: eligibility is judged at
    it`), or None."""
    k, unknown = data.undated_unknown, data.summary.data_unknown
    anchor = data.trial.reference_anchor
    if not k or anchor is None:
        return None
    whom = f"the {unknown:,} unknown have" if k == unknown else (
        f"{k:,} of the {unknown:,} unknown {'has' if k == 1 else 'have'}")
    why = " (not randomized, or the date is missing)" if anchor == "randomization" else ""
    return f"{whom} no {anchor.replace('_', ' ')} date, at which eligibility is judged{why}"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


class Progress:
    """A one-line progress bar on a TTY stream, redrawn at most 10 times a second. On anything
    that is not a terminal it prints nothing."""

    def __init__(
        self,
        total: float | None,
        unit: str = "patients",
        stream: TextIO | None = None,
        *,
        processes: int = 1,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.processes = processes
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total = total
        self.unit = unit
        self.count = 0
        self.done = 0.0
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, count: int, done: float | None = None) -> None:
        self.count = count
        if done is not None:
            self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-9)
        text = f"{self.count:,} {self.unit} ({rate:,.0f}/s"
        text += f" on {self.processes} processes)" if self.processes > 1 else ")"
        if self.total:
            frac = min(self.done / self.total, 1.0)
            filled = int(30 * frac)
            text = f"[{'#' * filled}{'.' * (30 - filled)}] {100 * frac:3.0f}% {text}"
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
