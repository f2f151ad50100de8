"""The validation report as one self-contained HTML file (nothing is fetched: no external script,
font, image or style).

Rendered with jinja2 and autoescaping on: every value from the data (patient ids, terms,
messages) is escaped. The patient timelines are not markup: their data (`timeline.py`) are
embedded once, gzip-compressed and base64-encoded, and drawn by the page's one script
(`templates/report/timeline.js`) as each scrolls into view, with DOM calls that set text as
text. A Content-Security-Policy lets only that script run (by its hash) and nothing load: an
injected script could not run even if escaping failed. On the CDISC pilot (306 patients) this
made the page 17.8 MB -> about 2 MB.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import jinja2

from engine.patient import ClockTime
from engine.results import Status
from render.atomic import write_atomic
from render.report.collect import ReportData
from render.report.terminal import (
    activity_order,
    eligibility_headline,
    schedule_anchor,
    stop_label,
    stopping_headline,
    undated_note,
)
from render.report.timeline import timeline_data

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
    env.filters["capitalize_first"] = lambda s: str(s)[:1].upper() + str(s)[1:]
    env.filters["verdict"] = lambda v: VERDICT_WORDS.get(str(v), str(v))
    env.filters["stamp"] = _stamp
    env.filters["clock"] = _clock
    env.filters["span"] = _span
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


def _span(window: tuple[tuple[datetime.date, ClockTime | None],
                        tuple[datetime.date, ClockTime | None]]) -> str:
    """`2024-03-01 08:25 – 08:35`: a window of instants, the last one's date said again only
    when the window runs past midnight (`2024-03-01 23:45 – 2024-03-02 00:15`)."""
    first, last = window
    end = _clock(last) if last[0] == first[0] else _stamp(last)
    return f"{_stamp(first)} – {end}"


# A verdict on the criteria the data can decide, in the words of the report's headline.
VERDICT_WORDS = {"eligible": "eligible", "ineligible": "not eligible", "indeterminate": "unknown"}


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
    activities = activity_order(data.summary.activities)
    timelines = []
    drawn: list[dict[str, Any]] = []
    for t in data.timelines.items:
        tl = timeline_data(t.result, t.patient, data.as_of, anchor, trial.calendar)
        entry: dict[str, Any] = {"index": t.index, "result": t.result}
        if isinstance(tl, str):
            entry["none"] = tl
        else:
            entry["slot"], entry["height"] = len(drawn), tl["h"]
            drawn.append(tl)
        timelines.append(entry)
    anchors = {t.result.id: f"pt-{t.index}" for t in data.timelines.items}
    day0 = schedule_anchor(trial)
    return env.get_template("report.html.j2").render(
        site=data.summary.site_verification,
        headline=" ".join(eligibility_headline(data, f"Eligibility at {anchor.replace('_', ' ')}")),
        undated=undated_note(data),
        stopping_headline=stopping_headline(data, day0),
        stop_label=lambda kind: stop_label(kind, day0),
        labels={item.name: item.label for item in trial.data},
        timeline_blob=_blob(drawn) if drawn else "",
        script=SCRIPT,
        script_hash=SCRIPT_HASH,
        d=data,
        s=data.summary,
        trial=trial,
        anchor=anchor,
        activities=activities,
        timed=bool(trial.schedule and trial.schedule.timepoints),
        time_unknown=sum(a.count(Status.TIME_UNKNOWN) for a in activities),
        statuses=STATUS_ORDER + (
            [Status.TIME_UNKNOWN.value]
            if any(a.count(Status.TIME_UNKNOWN) for a in activities) else []),
        timelines=timelines,
        anchors=anchors,
    )


def _blob(timelines: list[dict[str, Any]]) -> str:
    """The timelines as gzip-compressed JSON in base64 (a fixed mtime: the same report gives the
    same bytes). Base64 has no `<`, so the data cannot end the element that holds it."""
    text = json.dumps(timelines, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(gzip.compress(text.encode("utf-8"), 9, mtime=0)).decode("ascii")


def timelines_of(html: str) -> list[dict[str, Any]]:
    """The timeline data embedded in a report page (for tests and tools)."""
    start = html.index('id="timeline-data">') + len('id="timeline-data">')
    blob = html[start:html.index("</script>", start)]
    return json.loads(gzip.decompress(base64.b64decode(blob.strip())))


SCRIPT = (TEMPLATES / "timeline.js").read_text(encoding="utf-8")
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write the report page whole, or not at all (render/atomic.py)."""
    return write_atomic(path, render_html(data))
