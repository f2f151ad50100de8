"""The validation report as one self-contained HTML file (no scripts, fonts or images fetched).

Rendered with jinja2 and autoescaping on: every value from the data (patient ids, terms,
messages) is escaped; only the SVG timelines built by `timeline.py` (which escapes its own text)
are inserted as markup.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import jinja2

from engine.patient import ClockTime
from engine.results import Status
from render.atomic import write_atomic
from render.report.collect import ReportData
from render.report.timeline import timeline_svg

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "report"
# the columns of the conformance table; `time_unknown` only where some timepoint has it
STATUS_ORDER = [s.value for s in Status if s is not Status.TIME_UNKNOWN]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["words"] = lambda s: str(s).replace("_", " ")
    env.filters["stamp"] = _stamp
    env.filters["clock"] = _clock
    return env


def _stamp(s: tuple[datetime.date, ClockTime | None] | None) -> str:
    """`2024-03-01 08:30`: a date and time of day as the report shows them."""
    if s is None:
        return ""
    return s[0].isoformat() + (f" {s[1].iso()}" if s[1] is not None else "")


def _clock(s: tuple[datetime.date, ClockTime | None] | None) -> str:
    """`08:30`: the time of day only (`no time` when the record has none)."""
    if s is None:
        return ""
    return s[1].iso() if s[1] is not None else "no time"


def _num(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() else f"{x:g}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def _pct(part: int, whole: int) -> str:
    return "" if not whole else f"{100 * part / whole:.0f}%"


def render_html(data: ReportData) -> str:
    """The report page."""
    env = _environment()
    trial = data.trial
    anchor = trial.reference_anchor or (trial.schedule.anchor if trial.schedule else "day 0")
    activities = sorted(
        data.summary.activities,
        key=lambda a: (a.activity_type != "visit", a.activity_type),
    )
    timelines = [
        {
            "index": t.index,
            "result": t.result,
            "svg": timeline_svg(t.result, t.patient, data.as_of, anchor),
        }
        for t in data.timelines.items
    ]
    anchors = {t.result.id: f"pt-{t.index}" for t in data.timelines.items}
    return env.get_template("report.html.j2").render(
        d=data,
        s=data.summary,
        trial=trial,
        anchor=anchor,
        activities=activities,
        statuses=STATUS_ORDER + (
            [Status.TIME_UNKNOWN.value]
            if any(a.count(Status.TIME_UNKNOWN) for a in activities) else []),
        timelines=timelines,
        anchors=anchors,
    )


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write the report page whole, or not at all (render/atomic.py)."""
    return write_atomic(path, render_html(data))
