"""The schedule of activities as a grid: visits as columns grouped by epoch, activities as rows.

Columns are the declared visits plus the time points of activities planned `at month 3, 6`
that no visit already covers. Rows are the data items assessed at those columns (an X, with a
footnote letter when the item is conditional or arm-specific) and, below them, one row per
repeating activity, shown as a single bar over the columns its period covers with its
frequency in words (`every 7 days from day 1 for 6 months (±2 days)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.anchors import anchor_node
from protocol.expr import AggregateFn, DoseAnchor, NamedAnchor, PeriodDoseAnchor
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AsNeeded,
    AtDay,
    AtTimes,
    CycleDays,
    Cycles,
    DayRange,
    DoseOnDays,
    OnEach,
    OnEvent,
    Periods,
    Repeat,
    Timepoints,
    Visit,
)
from protocol.timing import PREDOSE, Calendar, DayPoint, Duration, TimeUnit, Window, elapsed_code
from protocol.trial import Trial
from protocol.vocab import ActivityKind, DataKind, Sex
from render.design import (
    anchor_days,
    epoch_list,
    period_bounds,
    period_epoch,
    period_item_days,
    repeat_span,
    washout_text,
)
from render.prose import Prose
from render.terms import (
    Terms,
    duration_text,
    join_and,
    lower_first,
    num,
    sentence_case,
    signed,
    window_text,
)

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Column:
    key: str
    label: str
    epoch: str | None
    day_text: str
    window_text: str
    day: float | None  # nominal day for ordering and coverage (approximate for relative visits)
    footnotes: list[str] = field(default_factory=list)
    visit: str | None = None
    approximate: bool = False  # day estimated from another anchor (`30 days after last dose`)
    epoch_label: str = ""
    number: str = ""  # the visit number (SDTM VISITNUM) when the protocol states one
    range: tuple[float, float] | None = None  # a visit over a range of days (`day -14 to -1`)
    group: str = ""  # the header over the column when it is not its epoch's (a cycles block)
    period: tuple[float, float] | None = None  # a cycle day's column: the days its cycles span
    study_period: int | None = None  # a study period's column: which period (1, 2, ...)
    period_day: float | None = None  # ... and its day from the period's day 0


@dataclass
class Mark:
    text: str  # "X" or ""
    footnotes: list[str] = field(default_factory=list)


@dataclass
class Row:
    label: str
    kind: str  # "item" | "repeat"
    marks: list[Mark]
    footnotes: list[str] = field(default_factory=list)
    span: tuple[int, int] | None = None  # repeat rows: first and last covered column index
    timing: str = ""
    interventions: tuple[str, ...] = ()  # the interventions a dosing row administers
    timepoints: str | None = None  # a timepoints block's row: the block's name
    item: str | None = None  # a timepoint table's row: its data item


@dataclass
class TimeColumn:
    """One time of a timepoint table: `Pre-dose`, `0.5 h`, with its window."""

    code: str  # PREDOSE, PT30M (SDTM --ELTM)
    label: str
    window_text: str
    minutes: float  # from the reference; a pre-dose time sorts first


@dataclass
class TimepointTable:
    """The times of the timepoints blocks that share a reference, as protocols print them
    beside the schedule of activities: items as rows, times after the reference as columns."""

    number: int  # the table's number in the document (the schedule of activities is Table 1)
    title: str  # `Pharmacokinetic sampling`
    reference: str  # `Times from the dose of Study drug on Days 1 and 14`
    columns: list[TimeColumn]
    rows: list[Row]
    footnotes: list[tuple[str, str]]
    blocks: list[str] = field(default_factory=list)  # the names of its timepoints blocks

    @property
    def caption(self) -> str:
        return f"Table {self.number}. {self.title}"


@dataclass
class EpochGroup:
    label: str
    width: int


@dataclass
class Grid:
    columns: list[Column]
    groups: list[EpochGroup]
    rows: list[Row]
    footnotes: list[tuple[str, str]]  # (letter, text)
    timepoints: list[TimepointTable] = field(default_factory=list)

    @property
    def crowded(self) -> bool:
        """Too many visits for horizontal names across a page: names are printed bottom to top."""
        return len(self.columns) > 12

    @property
    def numbered(self) -> bool:
        """Whether any column has a visit number (the grid then shows a visit-number row)."""
        return any(c.number for c in self.columns)

    @property
    def item_rows(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "item"]

    @property
    def repeat_rows(self) -> list[Row]:
        return [r for r in self.rows if r.kind == "repeat"]


class _Notes:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def letter(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        i = self.texts.index(text)
        return _LETTERS[i % 26] + ("" if i < 26 else str(i // 26))

    def items(self) -> list[tuple[str, str]]:
        return [(self.letter(t), t) for t in self.texts]


def _point_label(p: DayPoint) -> str:
    return f"{p.unit.value.capitalize()} {signed(p.value)}"


def _window_short(w: Window | None) -> str:
    text = window_text(w)
    return text.replace(" days", " d").replace(" day", " d").replace(" weeks", " wk").replace(
        " week", " wk"
    )


def build_grid(trial: Trial) -> Grid | None:
    sched = trial.schedule
    if sched is None or not sched.items:
        return None
    prose = Prose(trial)
    terms = prose.terms
    cal = trial.calendar
    notes = _Notes()
    anchors = anchor_days(trial)
    epochs = epoch_list(trial) if sched.epochs or sched.periods is not None else []
    epoch_order = {e.name: i for i, e in enumerate(epochs)}

    columns: list[Column] = []
    for v in sched.visits:
        col = _visit_column(v, prose, anchors)
        if v.number is not None:
            col.number = num(v.number)
        if v.arms:
            col.footnotes.append(
                notes.letter(f"{join_and([terms.arm(a) for a in v.arms])} only.")
            )
        if v.sex is not None and v.sex is not Sex.ALL:
            col.footnotes.append(notes.letter(_sex_note(v.sex)))
        if v.condition:
            col.footnotes.append(notes.letter(_condition_note(v.condition, terms)))
        if isinstance(v.timing, OnEvent):
            # the event is the visit's timing: said once, in a note, so the column stays narrow
            col.footnotes.append(notes.letter(f"{sentence_case(prose.visit_timing(v.timing))}; no planned day."))
        elif isinstance(v.timing, OnEach):
            col.footnotes.append(notes.letter(
                f"{sentence_case(prose.visit_when(v))}: one visit per event; no planned day."))
        columns.append(col)

    # time points of `at ...` activities that no visit covers become columns of their own
    # (a point inside a visit held over a range of days is done at that visit)
    for a in sched.activities:
        if not isinstance(a.timing, AtTimes):
            continue
        for p in a.timing.points:
            d = p.days(cal)
            if _find_column(columns, d, a.epoch) is None and _range_column(columns, d, a, cal) is None:
                columns.append(
                    Column(
                        key=f"t{num(d)}",
                        label=_point_label(p),
                        epoch=a.epoch,
                        day_text=_day_text(_pd(cal, d), p),
                        window_text=_window_short(a.window),
                        day=d,
                    )
                )

    for block in sched.cycles:
        columns.extend(_cycle_columns(block, prose, notes))
    periods = sched.periods
    if periods is not None:
        columns.extend(_period_columns(periods, prose, notes))

    tables = timepoint_tables(trial, prose)
    table_of = {b: t.number for t in tables for b in t.blocks}
    timed_at: list[tuple[Timepoints, list[float]]] = []
    for tblock in sched.timepoints:
        # timed from a study period's dose: marked in that period's column of the dose's day
        days = ([] if isinstance(tblock.reference, PeriodDoseAnchor)
                else _reference_days(tblock, cal, anchors))
        timed_at.append((tblock, days))
        for d in days:
            if _find_column(columns, d, tblock.epoch) is None:
                columns.append(Column(key=f"t{num(d)}", label=f"Day {signed(_pd(cal, d))}",
                                      epoch=tblock.epoch, day_text=signed(_pd(cal, d)),
                                      window_text="", day=d))

    def order(c: Column) -> tuple[int, int, float]:
        scheduled = 0 if c.day is not None else 1
        ep = epoch_order.get(c.epoch or "", len(epoch_order))
        return (ep if c.epoch else len(epoch_order) + scheduled, scheduled, c.day if c.day is not None else 0.0)

    columns.sort(key=order)

    groups: list[EpochGroup] = []
    for c in columns:
        # a visit outside every epoch is "Unscheduled" only if it has no planned day (as
        # needed, on an event); a planned visit of a protocol that declares no epochs has none
        label = c.group or (_epoch_label(trial, c.epoch) if c.epoch
                            else "Unscheduled" if c.day is None else "")
        c.epoch_label = label
        if groups and groups[-1].label == label:
            groups[-1].width += 1
        else:
            groups.append(EpochGroup(label, 1))
    if not any(g.label for g in groups):
        groups = []  # no epochs to show: the grid has no epoch row

    rows: list[Row] = []
    item_rows: dict[str, Row] = {}

    def item_row(name: str) -> Row:
        if name not in item_rows:
            label = terms.term_full(name) if terms.item(name) else terms.intervention(name)
            given = (name,) if trial.intervention(name) is not None else ()
            item_rows[name] = Row(label, "item", [Mark("") for _ in columns], interventions=given)
            rows.append(item_rows[name])
        return item_rows[name]

    for v in sched.visits:
        idx = next(i for i, c in enumerate(columns) if c.visit == v.name)
        for name in v.activities:
            row = item_row(name)
            row.marks[idx].text = "X"
            cond = v.item_condition(name)
            if cond is not None:
                row.marks[idx].footnotes.extend(_restriction_notes(
                    cond.arms, cond.sex, cond.condition, prose, notes))
    for a in sched.activities:
        if not isinstance(a.timing, AtTimes):
            continue
        marks_notes = _activity_notes(a, prose, notes)
        for name in a.items:
            row = item_row(name)
            for p in a.timing.points:
                i = _find_column(columns, p.days(cal), a.epoch)
                extra: list[str] = []
                if i is None:
                    i = _range_column(columns, p.days(cal), a, cal)
                    assert i is not None
                    # done at a visit held over several days, on a day of its own
                    when = f"{_point_text(p)}" + (f" ({window_text(a.window)})" if a.window else "")
                    extra.append(notes.letter(f"At {when}, within the {columns[i].label} period."))
                row.marks[i].text = "X"
                for n in marks_notes + extra:
                    if n not in row.marks[i].footnotes:
                        row.marks[i].footnotes.append(n)

    if periods is not None:
        _period_marks(periods, columns, item_row, prose, notes)

    for block in sched.cycles:
        for a in block.items:
            assert isinstance(a.timing, CycleDays)
            marks_notes = _activity_notes(a, prose, notes)
            for name in a.items:
                row = item_row(name)
                for d in a.timing.days:
                    i = next(i for i, c in enumerate(columns) if c.key == _cycle_key(block, d))
                    row.marks[i].text = "X"
                    starts = d == 1 and block.window is not None and a is block.first_day_item
                    extra = []
                    if a.window is not None and not starts and \
                            columns[i].window_text != _window_short(a.window):
                        extra.append(notes.letter(
                            f"{_items_label(a, prose)}: window {window_text(a.window)}."))
                    for n in marks_notes + extra:
                        if n not in row.marks[i].footnotes:
                            row.marks[i].footnotes.append(n)

    for tblock, days in timed_at:
        row = Row(tblock.label, "item", [Mark("") for _ in columns], timepoints=tblock.name)
        rows.append(row)
        row.footnotes.append(notes.letter(
            f"{sentence_case(_reference_text(tblock, prose))}: the times and their windows are "
            f"in Table {table_of[tblock.name]}."))
        row.footnotes.extend(_restriction_notes(tblock.arms, None, None, prose, notes))
        for d in days:
            i = _find_column(columns, d, tblock.epoch)
            assert i is not None
            row.marks[i].text = "X"
        at = _period_dose_column(columns, tblock, trial)
        if at is not None:
            row.marks[at].text = "X"

    repeat_rows: list[Row] = []
    for a in sched.activities:
        if not isinstance(a.timing, Repeat):
            continue
        label = _items_label(a, prose)
        span = repeat_span(a, cal, anchors)
        covered = [
            i
            for i, c in enumerate(columns)
            if span is not None and c.day is not None and (
                span[0] - _slack(a) <= c.day <= span[1] + _slack(a)
                or (c.period is not None and span[0] <= c.period[1] and c.period[0] <= span[1]))
            # an activity declared in an epoch does not run into the visits of another
            and (a.epoch is None or c.epoch is None or c.epoch == a.epoch)
        ]
        row = Row(
            label,
            "repeat",
            [Mark("") for _ in columns],
            footnotes=_activity_notes(a, prose, notes),
            timing=prose.activity_timing(a),
            interventions=a.items if a.kind is ActivityKind.DOSE else (),
        )
        if covered:
            row.span = (min(covered), max(covered))
        repeat_rows.append(row)

    return _reletter(Grid(columns, groups, rows + repeat_rows, notes.items(), tables))


def _reference_days(block: Timepoints, cal: Calendar, anchors: dict[str, float]) -> list[float]:
    """The days of the schedule a timepoints block falls on: its doses' days, or its anchor's
    nominal day when the schedule places it (none otherwise)."""
    ref = block.reference
    if isinstance(ref, DoseOnDays):
        return [d.days(cal) for d in ref.days]
    key = anchor_node(ref)
    return [anchors[key]] if key in anchors else []


def _reference_text(block: Timepoints, prose: Prose) -> str:
    """`times from the dose of Study drug on Days 1 and 14` / `times after the first dose of
    Study drug`."""
    ref = block.reference
    if isinstance(ref, DoseOnDays):
        days = join_and([num(d.value) for d in ref.days])
        plural = "Days" if len(ref.days) > 1 else "Day"
        return (f"times from the dose of {prose.terms.intervention(ref.intervention)} on "
                f"{plural} {days}")
    return f"times after {prose.terms.anchor(ref)}"


def _minutes_label(d: Duration) -> str:
    if d.unit is TimeUnit.MINUTE:
        return f"{num(d.amount)} min"
    return f"{num(d.amount)} h"


def _window_minutes(w: Window | None) -> str:
    """`±5 min`, `−5 to +10 min`, `±1 h`: a timepoint's window, short for a table header."""
    text = window_text(w)
    for long, short in ((" minutes", " min"), (" minute", " min"), (" hours", " h"),
                        (" hour", " h")):
        text = text.replace(long, short)
    return text or "—"


def timepoint_tables(trial: Trial, prose: Prose | None = None) -> list[TimepointTable]:
    """One table per reference of the schedule's timepoints blocks (blocks with the same
    reference share a table), numbered from 2 in the order of the blocks."""
    sched = trial.schedule
    if sched is None or not sched.timepoints:
        return []
    prose = prose or Prose(trial)
    terms = prose.terms
    groups: dict[str, list[Timepoints]] = {}
    for block in sched.timepoints:
        groups.setdefault(_reference_text(block, prose), []).append(block)
    out: list[TimepointTable] = []
    for n, (reference, blocks) in enumerate(groups.items(), 2):
        notes = _Notes()
        times: dict[str, TimeColumn] = {}
        windows: dict[tuple[str, str], str] = {}  # (item, code) -> its window text
        for block in blocks:
            for act in block.items:
                points: list[tuple[str, str, str, float]] = []
                if act.predose is not None:
                    points.append((PREDOSE, "Pre-dose",
                                   f"≤{_minutes_label(act.predose)} before", -1.0))
                for d in act.offsets:
                    points.append((elapsed_code(d.minutes()), _minutes_label(d),
                                   _window_minutes(act.window_for(d)), float(d.minutes())))
                for code, label, wtext, minutes in points:
                    times.setdefault(code, TimeColumn(code, label, wtext, minutes))
                    for item in act.items:
                        windows[(item, code)] = wtext
        columns = sorted(times.values(), key=lambda c: c.minutes)
        # a column's window is the one most of its marks have; the others say theirs
        for c in columns:
            texts = [w for (_, code), w in windows.items() if code == c.code]
            c.window_text = max(dict.fromkeys(texts), key=texts.count)  # a tie: the first
        rows: list[Row] = []
        by_item: dict[str, Row] = {}
        for block in blocks:
            for act in block.items:
                for item in act.items:
                    row = by_item.get(item)
                    if row is None:
                        label = terms.term_full(item) if terms.item(item) else item
                        row = by_item[item] = Row(label, "item", [Mark("") for _ in columns],
                                                  item=item)
                        rows.append(row)
                    for note in _restriction_notes(act.arms + block.arms, act.sex,
                                                   act.condition, prose, notes):
                        if note not in row.footnotes:
                            row.footnotes.append(note)
                    for code in act.timepoint_codes():
                        i = next(i for i, c in enumerate(columns) if c.code == code)
                        row.marks[i].text = "X"
                        own = windows[(item, code)]
                        if own != columns[i].window_text:
                            row.marks[i].footnotes.append(notes.letter(
                                f"{row.label}: window {own}."))
        title = "; ".join([blocks[0].label] + [lower_first(b.label) for b in blocks[1:]])
        table = TimepointTable(n, title, sentence_case(reference), columns, rows, [],
                               [b.name for b in blocks])
        out.append(_reletter_table(table, notes))
    return out


def _reletter_table(table: TimepointTable, notes: _Notes) -> TimepointTable:
    """Footnote letters of a timepoint table in reading order (rows top to bottom)."""
    seen: list[str] = []
    for r in table.rows:
        seen.extend(x for x in r.footnotes + [f for m in r.marks for f in m.footnotes]
                    if x not in seen)
    new = {old: _LETTERS[i % 26] for i, old in enumerate(seen)}
    texts = dict(notes.items())
    for r in table.rows:
        r.footnotes = [new[x] for x in r.footnotes]
        for m in r.marks:
            m.footnotes = [new[x] for x in m.footnotes]
    table.footnotes = [(new[old], texts[old]) for old in seen]
    return table


def _period_key(block: Periods, k: int, name: str) -> str:
    return f"{block.name}:p{k}:{name}"


def _period_columns(block: Periods, prose: Prose, notes: _Notes) -> list[Column]:
    """The columns of every study period: its visits and the days of its activities that no
    visit covers, under the period's header. Each period is drawn: a crossover's periods
    differ in what is given (the sequences), and protocols draw them side by side."""
    trial = prose.trial
    cal = trial.calendar
    n = trial.period_count
    first, _ = period_bounds(trial)
    doses = [d for a in block.doses for d in period_item_days(a, cal)]
    last_dose = max(doses) if doses else first
    # nominal study days, as if every washout were the shortest stated
    step = last_dose - first + block.washout.minimum.days(cal)
    base = block.start.days(cal)
    how = notes.letter(
        f"Days of a period count from its first dose ({_day_name(cal, first)}). Each period "
        f"after the first starts {washout_text(block)} after the last dose of the period "
        "before (washout); what is given in a period depends on the sequence.")
    out: list[Column] = []
    for k in range(1, n + 1):
        start = base + (k - 1) * step
        cols: list[Column] = []
        for v in block.visits:
            days = period_item_days(v, cal)
            t = v.timing
            day_text = (f"{signed(_pd(cal, days[0]))} to {signed(_pd(cal, days[1]))}"
                        if isinstance(t, DayRange) else signed(_pd(cal, days[0])))
            cols.append(Column(
                _period_key(block, k, v.name), v.label, period_epoch(block, k), day_text,
                _window_short(v.window), start + days[-1], visit=v.name,
                range=(start + days[0], start + days[-1]) if isinstance(t, DayRange) else None,
                group=block.period_label(k), study_period=k, period_day=days[-1]))
        covered = {c.period_day for c in cols}
        for a in block.activities:
            for d in period_item_days(a, cal):
                if d in covered:
                    continue
                covered.add(d)
                cols.append(Column(
                    _period_key(block, k, f"d{num(d)}"), f"Day {num(_pd(cal, d))}",
                    period_epoch(block, k), signed(_pd(cal, d)), _window_short(a.window),
                    start + d, group=block.period_label(k), study_period=k, period_day=d))
        cols.sort(key=lambda c: (c.period_day or 0.0, c.visit is None))
        if block.window is not None:
            # the window the protocol allows around each period's first dose
            for c in cols:
                if c.period_day == first and not c.window_text:
                    c.window_text = _window_short(block.window)
        if k == 1:
            cols[0].footnotes.append(how)
        out.extend(cols)
    return out


def _day_name(cal: Calendar, offset: float) -> str:
    return f"day {num(_pd(cal, offset))}"


def _period_marks(block: Periods, columns: list[Column], item_row: object, prose: Prose,
                  notes: _Notes) -> None:
    """The Xs of the periods: items at their visits and activities on their days; a dose that
    a sequence gives is marked in each period where some sequence gives it, with a note
    naming those sequences."""
    trial = prose.trial
    cal = trial.calendar
    row_of = item_row  # (name) -> Row
    index = {c.key: i for i, c in enumerate(columns)}
    given = {n for a in trial.arms for t in a.sequence for n in t.interventions}
    for k in range(1, trial.period_count + 1):
        for v in block.visits:
            i = index[_period_key(block, k, v.name)]
            for name in v.activities:
                row = row_of(name)  # type: ignore[operator]
                row.marks[i].text = "X"
                cond = v.item_condition(name)
                if cond is not None:
                    row.marks[i].footnotes.extend(_restriction_notes(
                        cond.arms, cond.sex, cond.condition, prose, notes))
        for a in block.activities:
            extra = _activity_notes(a, prose, notes)
            for name in a.items:
                sequences = [arm for arm in trial.arms
                             if k <= len(arm.sequence) and name in arm.sequence[k - 1].interventions]
                if a.kind is ActivityKind.DOSE and name in given:
                    if not sequences:
                        continue
                    who = [notes.letter(f"{join_and([s.label for s in sequences])} only.")]
                else:
                    who = []
                row = row_of(name)  # type: ignore[operator]
                for d in period_item_days(a, cal):
                    at = next((j for j, c in enumerate(columns)
                               if c.study_period == k and c.period_day == d), None)
                    if at is None:
                        continue
                    row.marks[at].text = "X"
                    for n in extra + who:
                        if n not in row.marks[at].footnotes:
                            row.marks[at].footnotes.append(n)


def _cycle_key(block: Cycles, day: int) -> str:
    return f"{block.name}:d{day}"


def _cycle_columns(block: Cycles, prose: Prose, notes: _Notes) -> list[Column]:
    """One column per cycle day on which something is done, under a header naming the block:
    protocols draw one cycle and say how it repeats."""
    cal = prose.trial.calendar
    days = sorted({d for a in block.items if isinstance(a.timing, CycleDays)
                   for d in a.timing.days})
    start = block.start.days(cal)
    header = f"{block.label} (every {duration_text(block.length)})"
    how = [f"Each cycle starts {duration_text(block.length)} after the actual start of the "
           "previous one (Day 1 of a cycle is its first dose); a delayed cycle moves the "
           "later ones."]
    ends = []
    if block.until:
        ends.append("until " + join_and([_event_name(e, prose.terms) for e in block.until], "or"))
    if block.max_cycles is not None:
        ends.append(f"for at most {block.max_cycles} cycles")
    if ends:
        how.append("Cycles are repeated " + ", ".join(ends) + ".")
    note = notes.letter(" ".join(how))
    cols = []
    for d in days:
        win = ""
        if d == 1 and block.window is not None:
            win = _window_short(block.window)
        else:
            windows = {a.window for a in block.items
                       if isinstance(a.timing, CycleDays) and d in a.timing.days}
            if len(windows) == 1:
                win = _window_short(next(iter(windows)))
        last = (start + block.length.days(cal) * block.max_cycles - 1
                if block.max_cycles is not None else float("inf"))
        col = Column(_cycle_key(block, d), f"Day {d}", block.epoch, f"Cycle day {d}", win,
                     start + d - 1, group=header, period=(start, last))
        cols.append(col)
    cols[0].footnotes.append(note)
    return cols


def _event_name(name: str, terms: Terms) -> str:
    if terms.item(name) is not None:
        return terms.term(name)
    return terms.anchor_name(name)


def _reletter(grid: Grid) -> Grid:
    """Footnote letters in reading order: visit headers left to right, then rows top to bottom."""
    seen: list[str] = []

    def see(letters: list[str]) -> None:
        seen.extend(x for x in letters if x not in seen)

    for c in grid.columns:
        see(c.footnotes)
    for r in grid.rows:
        see(r.footnotes)
        for m in r.marks:
            see(m.footnotes)
    see([letter for letter, _ in grid.footnotes])
    new = {old: _LETTERS[i % 26] + ("" if i < 26 else str(i // 26)) for i, old in enumerate(seen)}
    for c in grid.columns:
        c.footnotes = [new[x] for x in c.footnotes]
    for r in grid.rows:
        r.footnotes = [new[x] for x in r.footnotes]
        for m in r.marks:
            m.footnotes = [new[x] for x in m.footnotes]
    texts = dict(grid.footnotes)
    grid.footnotes = [(new[old], texts[old]) for old in seen]
    return grid


def _slack(a: Activity) -> float:
    return 0.0


def _items_label(a: Activity, prose: Prose) -> str:
    terms = prose.terms
    if a.kind is ActivityKind.DOSE:
        names = [terms.intervention(i) for i in a.items]
        return "Administer " + join_and(names)
    labels = [terms.term_full(i) if terms.item(i) else i for i in a.items]
    return join_and([labels[0]] + [lower_first(x) for x in labels[1:]])


def _activity_notes(a: Activity, prose: Prose, notes: _Notes) -> list[str]:
    return _restriction_notes(a.arms, a.sex, a.condition, prose, notes)


def _restriction_notes(arms: tuple[str, ...], sex: Sex | None, condition: str | None,
                       prose: Prose, notes: _Notes) -> list[str]:
    out = []
    if arms:
        out.append(notes.letter(f"{join_and([prose.terms.arm(x) for x in arms])} only."))
    if sex is not None and sex is not Sex.ALL:
        out.append(notes.letter(_sex_note(sex)))
    if condition:
        out.append(notes.letter(_condition_note(condition, prose.terms)))
    return out


def _sex_note(sex: Sex) -> str:
    return "Female participants only." if sex is Sex.FEMALE else "Male participants only."


def _point_text(p: DayPoint) -> str:
    from render.terms import daypoint_text

    return daypoint_text(p)


def _range_column(columns: list[Column], day: float, a: Activity, cal: Calendar) -> int | None:
    """A visit held over a range of days that contains `day` and the activity's whole window."""
    lo = hi = day
    if a.window is not None:
        before, after = a.window.days(cal)
        lo, hi = day - before, day + after
    for i, c in enumerate(columns):
        if c.range is None or c.study_period is not None or (
                a.epoch is not None and c.epoch not in (a.epoch, None)):
            continue
        if c.range[0] - 1e-9 <= lo and hi <= c.range[1] + 1e-9:
            return i
    return None


def _epoch_label(trial: Trial, name: str) -> str:
    if trial.schedule is not None:
        for e in trial.schedule.epochs:
            if e.name == name:
                return e.label
    return name.replace("_", " ")


def _period_dose_column(columns: list[Column], block: Timepoints, trial: Trial) -> int | None:
    """The column of the dose a timepoints block is timed from when that is a study period's
    first or last dose (`after first dose of period 2`): the period's column of that day."""
    ref = block.reference
    periods = trial.schedule.periods if trial.schedule is not None else None
    if not isinstance(ref, PeriodDoseAnchor) or periods is None:
        return None
    doses = [d for a in periods.doses for d in period_item_days(a, trial.calendar)]
    if not doses:
        return None
    day = min(doses) if ref.which is AggregateFn.FIRST else max(doses)
    return next((i for i, c in enumerate(columns)
                 if c.study_period == ref.period and c.period_day == day), None)


def _find_column(columns: list[Column], day: float, epoch: str | None) -> int | None:
    """The column at `day`: a visit on that day, or a time point of the same epoch."""
    for i, c in enumerate(columns):
        if c.day is None or c.approximate or c.study_period is not None or abs(c.day - day) > 1e-9:
            continue
        if c.visit is not None or c.epoch == epoch:
            return i
    return None


def _day_text(d: float, p: DayPoint | None = None) -> str:
    if p is not None and p.unit is not TimeUnit.DAY:
        return f"{signed(d)}"
    return signed(d)


def _visit_column(v: Visit, prose: Prose, anchors: dict[str, float]) -> Column:
    cal = prose.trial.calendar
    t = v.timing
    if isinstance(t, AtDay):
        d = t.point.days(cal)
        return Column(v.name, v.label, v.epoch, signed(_pd(cal, d)), _window_short(v.window), d,
                      visit=v.name)
    if isinstance(t, DayRange):
        a, b = t.start.days(cal), t.end.days(cal)
        return Column(
            v.name, v.label, v.epoch, f"{signed(_pd(cal, a))} to {signed(_pd(cal, b))}",
            _window_short(v.window), b, visit=v.name,
            range=(a, b),
        )
    if isinstance(t, AfterAnchor):
        approx = anchors.get(v.name)
        if isinstance(t.anchor, NamedAnchor) and _fixed_visit(prose, t.anchor.name) and approx is not None:
            # timed from a visit on a fixed day: the day is exact
            return Column(v.name, v.label, v.epoch, signed(_pd(cal, approx)), _window_short(v.window),
                          approx, visit=v.name)
        text = _after_short(t, prose)
        return Column(
            v.name, v.label, v.epoch, text, _window_short(v.window), approx, visit=v.name,
            approximate=True,
        )
    if isinstance(t, (OnEvent, OnEach)):
        return Column(v.name, v.label, v.epoch, "—", _window_short(v.window), None, visit=v.name)
    assert isinstance(t, AsNeeded)
    return Column(v.name, v.label, v.epoch, "as needed", "", None, visit=v.name)


def _pd(cal: Calendar, d: float) -> float:
    """A day from the anchor as the protocol numbers it (`days counted from 1`: no day 0)."""
    return d + 1 if cal.first_day == 1 and d >= 0 else d


def _after_short(t: AfterAnchor, prose: Prose) -> str:
    """`last dose + 30 d`: a relative visit's day, short enough for a grid header."""
    ref = t.anchor
    if isinstance(ref, DoseAnchor):
        which = "first" if ref.which is AggregateFn.FIRST else "last"
        name = f"{which} dose"
        if len(prose.trial.interventions) > 1:
            name += f" of {prose.terms.intervention(ref.intervention)}"
    elif isinstance(ref, PeriodDoseAnchor):
        name = prose.terms.anchor(ref).removeprefix("the ")
    else:
        name = prose.terms.anchor(ref)
    off = t.offset
    unit = {"day": "d", "week": "wk", "month": "mo", "year": "y", "hour": "h",
            "minute": "min"}[off.unit.value]
    sign = "−" if off.amount < 0 else "+"
    return f"{name} {sign} {num(abs(off.amount))} {unit}"


def _condition_note(condition: str, terms: Terms) -> str:
    """`Only if discontinuation of study drug has occurred.` / `Only for participants with rash.`"""
    item = terms.item(condition)
    if item is not None and item.kind in (DataKind.CATEGORY, DataKind.MARKER):
        return f"Only if {terms.term(condition)} (as last recorded)."
    if item is not None:
        return f"Only for participants with a recorded {terms.term(condition)}."
    return f"Only if {terms.anchor_name(condition)} has occurred."


def _fixed_visit(prose: Prose, name: str, depth: int = 0) -> bool:
    """Whether a visit's day is fixed (at a day, or timed from a visit whose day is fixed)."""
    sched = prose.trial.schedule
    v = sched.visit(name) if sched is not None else None
    if v is None or depth > 20:
        return name == (sched.anchor if sched else None)
    if isinstance(v.timing, (AtDay, DayRange)):
        return True
    if isinstance(v.timing, AfterAnchor) and isinstance(v.timing.anchor, NamedAnchor):
        return _fixed_visit(prose, v.timing.anchor.name, depth + 1)
    return False
