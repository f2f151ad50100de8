"""The compact terminal summary of a validation run, and a progress bar for stderr.

The summary is plain text (no colour codes) so that it reads the same in a log file.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from engine.results import Status
from render.report.collect import ReportData

STATUS_COLUMNS = (
    (Status.ON_TIME, "on time"),
    (Status.EARLY, "early"),
    (Status.LATE, "late"),
    (Status.MISSED, "missed"),
    (Status.NOT_DUE, "not due"),
)


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


def terminal_summary(data: ReportData, *, max_listed: int = 5, outputs: Sequence[str] = ()) -> str:
    s = data.summary
    trial = data.trial
    anchor = (trial.reference_anchor or "day 0").replace("_", " ")
    lines = [
        f"{trial.name}: {s.patients:,} patients from {data.source}, data cut {data.as_of.isoformat()}",
        "",
        f"Eligibility at {anchor}: {s.eligible:,} eligible, {s.ineligible:,} ineligible, "
        f"{s.indeterminate:,} indeterminate",
    ]
    lines += _table(
        ("criterion", "met", "not met", "unknown", "remaining", "not ruled out"),
        [
            (a.id, a.met, a.not_met, a.unknown, a.remaining, data.not_ruled_out.get(a.id, 0))
            for a in s.attrition
        ],
    )

    lines += ["", f"Schedule: {s.patients_with_deviations:,} patients with deviations"]
    rows = []
    columns: tuple[tuple[Status, str], ...] = STATUS_COLUMNS
    if any(a.count(Status.TIME_UNKNOWN) for a in s.activities):
        columns += ((Status.TIME_UNKNOWN, "time unknown"),)  # only with sub-day timepoints
    for a in sorted(s.activities, key=lambda a: (a.activity_type != "visit", a.activity_type)):
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

    lines += ["", f"Stopping: {s.patients_with_stopping:,} patients with stopping events"]
    if data.stopping.items:
        shown = data.stopping.items[: max_listed * 2]
        lines += _table(
            ("patient", "date", "action", "status", "rule"),
            [
                (
                    i.patient,
                    i.event.date.isoformat(),
                    i.event.action,
                    i.event.status.value,
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
        if acc.rejected or acc.ignored_total:
            lines.append(
                f"  {acc.dataset}: {acc.rows:,} rows = {acc.used:,} used + {acc.rejected:,} "
                f"rejected + {acc.ignored_total:,} ignored"
            )
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
