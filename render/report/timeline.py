"""A patient's timeline as inline SVG: planned windows, what happened, adverse events, stops.

One lane per activity (all visits share a lane), days on the x axis counted from the schedule's
anchor (day 0), a dashed line at the data cut. Every mark has a tooltip (`<title>`) with the
dates, the status and the source record. All text is escaped.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from markupsafe import Markup, escape

from engine.patient import DoseEvent, Occurrence, Patient, stamp_text
from engine.results import PatientResult, ScheduleRow, Status

WIDTH = 1080
LABEL = 150
RIGHT = 24
LANE = 18
TOP = 26
DENSE = 60  # a dose lane with more planned occurrences than this is drawn compressed

COLORS = {
    Status.ON_TIME: "#2e7d32",
    Status.EARLY: "#e65100",
    Status.LATE: "#e65100",
    Status.MISSED: "#c62828",
    Status.NOT_DUE: "#9e9e9e",
    Status.NOT_APPLICABLE: "#bdbdbd",
    Status.TIME_UNKNOWN: "#757575",
}
UNPLANNED = "#6a1b9a"
STOP = "#c62828"
WINDOW = "#e3ecf7"


def _grade_color(grade: object) -> str:
    if isinstance(grade, (int, float)) and not isinstance(grade, bool):
        if grade >= 4:
            return "#b71c1c"
        if grade >= 3:
            return "#e65100"
        if grade >= 2:
            return "#f9a825"
    return "#fdd835"


def _fmt_day(d: int | float | None) -> str:
    if d is None:
        return "?"
    return str(int(d)) if float(d).is_integer() else f"{d:g}"


def _row_title(r: ScheduleRow) -> str:
    parts = [f"{r.activity} — {r.label} (occurrence {r.occurrence})", f"status: {_status_text(r)}"]
    if r.planned_date:
        parts.append(f"planned {r.planned_date.isoformat()} (day {_fmt_day(r.planned_day)})")
    if r.window_dates:
        a, b = r.window_dates
        parts.append(f"window {a.isoformat()} to {b.isoformat()}")
    t = r.timing
    if t is not None and t.window is not None:
        parts.append(f"window {stamp_text(*t.window[0])} to {stamp_text(*t.window[1])} "
                     f"({t.timepoint} from the {t.reference})")
    if r.actual_date:
        when = stamp_text(*t.actual) if t is not None and t.actual is not None \
            else r.actual_date.isoformat()
        parts.append(f"actual {when} (day {_fmt_day(r.actual_day)})")
    if r.actual_amount is not None or r.planned_amount is not None:
        unit = r.actual_unit or r.planned_unit or ""
        parts.append(
            f"dose {_fmt_day(r.actual_amount)} {unit} (planned {_fmt_day(r.planned_amount)})"
        )
    if r.reason:
        parts.append(r.reason)
    if r.ref:
        parts.append(f"source: {r.ref}")
    return "\n".join(parts)


def _status_text(r: ScheduleRow) -> str:
    minutes = r.timing.deviation_minutes if r.timing is not None else None
    if r.status in (Status.EARLY, Status.LATE) and minutes is not None:
        return f"{r.status.value} by {_fmt_day(abs(minutes))} min"
    if r.status in (Status.EARLY, Status.LATE) and r.deviation_days is not None:
        n = abs(r.deviation_days)
        return f"{r.status.value.replace('_', ' ')} by {n} day{'s' if n != 1 else ''}"
    return r.status.value.replace("_", " ")


class _Svg:
    def __init__(self, lo: int, hi: int):
        self.lo, self.hi = lo, max(hi, lo + 1)
        self.parts: list[str] = []

    def x(self, day: float) -> float:
        day = min(max(day, self.lo), self.hi)
        return round(LABEL + (day - self.lo) / (self.hi - self.lo) * (WIDTH - LABEL - RIGHT), 1)

    def add(self, text: str) -> None:
        self.parts.append(text)


def _e(text: object) -> str:
    return str(escape(str(text)))


def timeline_svg(
    result: PatientResult,
    patient: Patient | None,
    as_of: datetime.date,
    anchor_name: str = "day 0",
) -> Markup:
    """The timeline of one patient as an `<svg>` element (safe to embed)."""
    anchor = result.anchor_date
    if anchor is None:
        return Markup(
            '<p class="muted">No timeline: the patient has no '
            f"{_e(anchor_name)} date, so no planned day can be placed.</p>"
        )

    def day_of(d: datetime.date) -> int:
        return (d - anchor).days

    rows = [r for r in result.schedule if r.status is not Status.NOT_APPLICABLE]
    cut = day_of(as_of)
    planned_days = [r.window[0] for r in rows if r.window] + [
        r.planned_day for r in rows if r.planned_day is not None and not r.window
    ]
    actual_days = [r.actual_day for r in rows if r.actual_day is not None]
    actual_days += [u.day for u in result.unplanned if u.day is not None]
    adverse = _adverse_events(patient)
    doses = [e for e in patient.events if isinstance(e, DoseEvent)] if patient else []
    lo = min(
        planned_days + [d for d in actual_days if d >= min(planned_days, default=-7) - 14] + [-7]
    )
    due_planned = [r.window[1] if r.window else r.planned_day for r in rows]
    hi_candidates = [d for d in due_planned if d is not None and d <= cut + 60]
    hi = max(hi_candidates + actual_days + [min(cut, max(hi_candidates, default=cut)), 7])
    for s in result.stopping:
        hi = max(hi, day_of(s.date))
    hi = int(hi + max(7, (hi - lo) * 0.02))
    lo = int(lo - max(3, (hi - lo) * 0.02))
    svg = _Svg(lo, hi)

    # Lanes: visits first, then assessments and doses in schedule order, then adverse events.
    lanes: list[tuple[str, str]] = []
    if any(r.activity_type == "visit" for r in rows) or any(
        u.activity_type == "visit" for u in result.unplanned
    ):
        lanes.append(("visit", "visits"))
    for item in list(rows) + list(result.unplanned):
        key = (item.activity_type, item.activity)
        if item.activity_type != "visit" and key not in lanes:
            lanes.append(key)
    for d in doses:
        if ("dose", d.intervention) not in lanes:
            lanes.append(("dose", d.intervention))
    ae_rows = _pack(adverse, day_of, cut)
    lane_of = {key: i for i, key in enumerate(lanes)}
    n_lanes = len(lanes) + len(ae_rows)
    height = TOP + n_lanes * LANE + 30

    def y(i: int) -> float:
        return TOP + i * LANE + LANE / 2

    # Grid, lanes and labels.
    for i, (kind, name) in enumerate(lanes):
        if i % 2 == 0:
            svg.add(
                f'<rect x="0" y="{TOP + i * LANE}" width="{WIDTH}" height="{LANE}" fill="#fafafa"/>'
            )
        label = name if kind in ("visit", "assess") else f"{name} ({kind})"
        svg.add(
            f'<text x="{LABEL - 8}" y="{y(i) + 4}" text-anchor="end" class="lane">{_e(label)}</text>'
        )
    for j in range(len(ae_rows)):
        i = len(lanes) + j
        label = "adverse events" if j == 0 else ""
        svg.add(
            f'<text x="{LABEL - 8}" y="{y(i) + 4}" text-anchor="end" class="lane">{label}</text>'
        )
    for t in _ticks(lo, hi):
        x = svg.x(t)
        svg.add(f'<line x1="{x}" y1="{TOP - 4}" x2="{x}" y2="{height - 26}" stroke="#eee"/>')
        svg.add(f'<text x="{x}" y="{height - 12}" text-anchor="middle" class="tick">day {t}</text>')
    svg.add(
        f'<line x1="{svg.x(0)}" y1="{TOP - 10}" x2="{svg.x(0)}" y2="{height - 26}" stroke="#555"/>'
        f'<text x="{svg.x(0) + 3}" y="{TOP - 12}" class="mark">{_e(anchor_name)} {anchor.isoformat()}</text>'
    )
    if lo <= cut <= hi:
        svg.add(
            f'<line x1="{svg.x(cut)}" y1="{TOP - 10}" x2="{svg.x(cut)}" y2="{height - 26}" '
            f'stroke="#777" stroke-dasharray="4 3"/>'
            f'<text x="{svg.x(cut) - 3}" y="{TOP - 12}" text-anchor="end" class="mark">data cut '
            f"{as_of.isoformat()}</text>"
        )

    # Dose periods from the data (daily dosing is drawn as bars).
    for d in doses:
        i = lane_of[("dose", d.intervention)]
        a = day_of(d.start)
        b = day_of(d.end) if d.end else a
        title = f"{d.intervention} {_fmt_day(d.amount)} {d.unit or ''} given {d.start.isoformat()}"
        if d.end:
            title += f" to {d.end.isoformat()}"
        title += f"\nsource: {d.ref}"
        if b > a:
            svg.add(
                f'<rect x="{svg.x(a)}" y="{y(i) - 3}" width="{max(svg.x(b + 1) - svg.x(a), 1.5)}" '
                f'height="6" fill="#a5d6a7"><title>{_e(title)}</title></rect>'
            )

    # Planned occurrences.
    dense = {
        key
        for key in lanes
        if key[0] == "dose" and sum(1 for r in rows if (r.activity_type, r.activity) == key) > DENSE
    }
    for r in rows:
        key = ("visit", "visits") if r.activity_type == "visit" else (r.activity_type, r.activity)
        lane = lane_of.get(key)
        if lane is None:
            continue
        i = lane
        cy = y(i)
        title = _e(_row_title(r))
        if key in dense:
            if r.status is Status.MISSED and r.planned_day is not None:
                x = svg.x(r.planned_day)
                svg.add(
                    f'<line x1="{x}" y1="{cy - 6}" x2="{x}" y2="{cy + 6}" stroke="{COLORS[r.status]}" '
                    f'stroke-width="1.5"><title>{title}</title></line>'
                )
            elif r.status in (Status.EARLY, Status.LATE) and r.actual_day is not None:
                x = svg.x(r.actual_day)
                svg.add(
                    f'<circle cx="{x}" cy="{cy}" r="3" fill="{COLORS[r.status]}"><title>{title}</title></circle>'
                )
            continue
        if r.window:
            a, b = r.window
            svg.add(
                f'<rect x="{svg.x(a)}" y="{cy - 6}" width="{max(svg.x(b + 1) - svg.x(a), 2)}" '
                f'height="12" rx="2" fill="{WINDOW}"><title>{title}</title></rect>'
            )
        color = COLORS[r.status]
        if r.status is Status.MISSED and r.planned_day is not None:
            x = svg.x(r.planned_day)
            svg.add(
                f'<path d="M{x - 4} {cy - 4} L{x + 4} {cy + 4} M{x - 4} {cy + 4} L{x + 4} {cy - 4}" '
                f'stroke="{color}" stroke-width="2"><title>{title}</title></path>'
            )
        elif r.status is Status.NOT_DUE and r.planned_day is not None:
            svg.add(
                f'<circle cx="{svg.x(r.planned_day)}" cy="{cy}" r="3.5" fill="white" stroke="{color}">'
                f"<title>{title}</title></circle>"
            )
        elif r.actual_day is not None:
            svg.add(
                f'<circle cx="{svg.x(r.actual_day)}" cy="{cy}" r="4" fill="{color}">'
                f"<title>{title}</title></circle>"
            )

    # Unplanned events.
    for u in result.unplanned:
        key = ("visit", "visits") if u.activity_type == "visit" else (u.activity_type, u.activity)
        lane = lane_of.get(key)
        if lane is None or u.day is None or u.day < lo:
            continue
        x, cy = svg.x(u.day), y(lane)
        title = _e(
            f"unplanned {u.activity} on {u.date.isoformat()} (day {u.day})"
            + (f"\n{u.reason}" if u.reason else "")
            + f"\nsource: {u.ref}"
        )
        svg.add(
            f'<path d="M{x} {cy - 5} L{x + 5} {cy} L{x} {cy + 5} L{x - 5} {cy} Z" '
            f'fill="{UNPLANNED}"><title>{title}</title></path>'
        )

    # Adverse events, packed into rows.
    for j, bars in enumerate(ae_rows):
        cy = y(len(lanes) + j)
        for ae, a, b in bars:
            grade = ae.attribute("grade")
            term = ae.attribute("term") or ae.kind
            end = (
                ae.end.isoformat()
                if ae.end
                else ("ongoing" if ae.ongoing else ae.start.isoformat())
            )
            title = (
                f"{term}, grade {_fmt_day(grade) if grade is not None else '?'}"  # type: ignore[arg-type]
                f"\n{ae.start.isoformat()} to {end}"
            )
            related = ae.attribute("related")
            if related not in (None, "none", False):
                title += f"\nrelated: {related}"
            title += f"\nsource: {ae.ref}"
            x1, x2 = svg.x(a), svg.x(b + 1)
            svg.add(
                f'<rect x="{x1}" y="{cy - 5}" width="{max(x2 - x1, 3)}" height="10" rx="2" '
                f'fill="{_grade_color(grade)}"><title>{_e(title)}</title></rect>'
            )
            if x2 - x1 > 40:
                svg.add(
                    f'<text x="{x1 + 3}" y="{cy + 3.5}" class="bar">{_e(_clip(str(term), (x2 - x1) / 5.5))}</text>'
                )

    # Stopping events across all lanes.
    for s in result.stopping:
        stop_day = day_of(s.date)
        x = svg.x(stop_day)
        title = _e(
            f"{s.rule}: {s.action} on {s.date.isoformat()} (day {stop_day}), {s.status.value}"
            + "".join(f"\n{e.explanation}" for e in s.evidence)
        )
        dash = "" if s.source == "rule" else ' stroke-dasharray="2 2"'
        svg.add(
            f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{height - 26}" stroke="{STOP}" '
            f'stroke-width="1.5"{dash}><title>{title}</title></line>'
        )

    label = _e(f"Timeline of patient {result.id}")
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{label}">'
        + "".join(svg.parts)
        + "</svg>"
    )


def _adverse_events(patient: Patient | None) -> list[Occurrence]:
    if patient is None:
        return []
    return [e for e in patient.events if isinstance(e, Occurrence) and e.kind == "adverse_event"]


def _pack(
    events: Iterable[Occurrence], day_of: object, cut: int
) -> list[list[tuple[Occurrence, int, int]]]:
    """Greedy interval packing of adverse events into at most 6 rows."""
    rows: list[list[tuple[Occurrence, int, int]]] = []
    ends: list[int] = []
    for ae in sorted(events, key=lambda e: e.start):
        a = day_of(ae.start)  # type: ignore[operator]
        b = day_of(ae.end) if ae.end else (cut if ae.ongoing else a)  # type: ignore[operator]
        b = max(a, b)
        for k, end in enumerate(ends):
            if a > end + 1:
                rows[k].append((ae, a, b))
                ends[k] = b + 12  # room for a label
                break
        else:
            if len(rows) < 6:
                rows.append([(ae, a, b)])
                ends.append(b + 12)
            else:
                rows[-1].append((ae, a, b))
    return rows


def _ticks(lo: int, hi: int) -> list[int]:
    span = hi - lo
    step = next((s for s in (7, 14, 28, 56, 91, 182, 364, 728) if span / s <= 12), 1456)
    first = (lo // step + 1) * step
    return list(range(first, hi + 1, step))


def _clip(text: str, chars: float) -> str:
    n = int(chars)
    return text if len(text) <= n else text[: max(n - 1, 1)] + "…"
