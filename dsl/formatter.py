"""`trialcode fmt`: a protocol in canonical layout, comments kept.

The text is printed from the model, statement by statement, in a fixed order of blocks and
with two-space indentation. Comments are put back by position: a comment on its own line goes
before the statement that followed it in the source, a comment at the end of a line goes to the
end of the statement that held it. Formatting is idempotent and never changes the model.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from dsl import ParsedProtocol
from dsl import exprfmt as ef
from dsl.parser import Comment
from protocol.definitions import Definition
from protocol.design import DoseStep, Organization, Regimen
from protocol.eligibility import Criterion
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
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Schedule,
    ScheduleItem,
    TimedActivity,
    Timepoints,
    Visit,
)
from protocol.source import Span
from protocol.stopping import (
    BayesianStop,
    BinomialStop,
    BoundaryFamily,
    Discontinue,
    FollowUp,
    InterimRule,
    MeansAssumptions,
    PatientRule,
    ProportionAssumptions,
    ProportionsAssumptions,
    Retest,
    SafetyRule,
    SampleSizePlan,
    SprtStop,
    StoppingRule,
    SurvivalAssumptions,
    Withdraw,
)
from protocol.timing import Duration
from protocol.trial import Trial

INDENT = "  "


class _Printer:
    def __init__(self, comments: Iterable[Comment]):
        self.lines: list[str] = []
        self.pending = sorted(comments, key=lambda c: (c.line, c.column))
        self.depth = 0

    def _flush_before(self, line: int) -> None:
        while self.pending and self.pending[0].line < line:
            comment = self.pending.pop(0)
            if not comment.own_line and self.lines:
                self.lines[-1] += "  " + comment.text.rstrip()
            else:
                self.lines.append(INDENT * self.depth + comment.text.rstrip())

    def _trailing(self, first: int, last: int) -> None:
        while self.pending and not self.pending[0].own_line and first <= self.pending[0].line <= last:
            self.lines[-1] += "  " + self.pending.pop(0).text.rstrip()

    def statement(self, lines: list[str], span: Span | None, extra: int = 1) -> None:
        """Emit a statement: its first line at the current depth, the rest indented further."""
        if span is not None:
            self._flush_before(span.line)
        for i, text in enumerate(lines):
            depth = self.depth if i == 0 else self.depth + extra
            self.lines.append(INDENT * depth + text)
            if span is not None and i == 0 and len(lines) == 1:
                self._trailing(span.line, span.end_line)
        if span is not None and len(lines) > 1:
            self._trailing(span.line, span.end_line)

    def open(self, header: str, span: Span | None) -> None:
        if span is not None:
            self._flush_before(span.line)
        self.lines.append(INDENT * self.depth + header + " {")
        if span is not None:
            self._trailing(span.line, span.line)
        self.depth += 1

    def close(self, span: Span | None) -> None:
        if span is not None:
            self._flush_before(span.end_line)
        self.depth -= 1
        self.lines.append(INDENT * self.depth + "}")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "" and not self.lines[-1].endswith("{"):
            self.lines.append("")

    def text(self) -> str:
        self._flush_before(10**9)
        return "\n".join(self.lines) + "\n"


def format_source(parsed: ParsedProtocol) -> str:
    """The canonical text of a parsed protocol, with its comments."""
    return format_trial(parsed.trial, parsed.comments, parsed.statement_spans)


def format_trial(trial: Trial, comments: Iterable[Comment] = (),
                 statement_spans: dict[str, Span] | None = None) -> str:
    """The canonical text of a trial model (comments are placed by their source lines).

    `statement_spans` gives the source spans of single-valued statements (`status`, ...),
    which the model does not keep, so that comments near them stay near them.
    """
    p = _Printer(comments)
    p.open(f"trial {trial.name}", trial.span)
    spans = statement_spans or {}
    _registry(p, trial, spans)
    if trial.calendar.span is not None or trial.calendar != type(trial.calendar)():
        p.blank()
        c = trial.calendar
        # The month is always shown: it is the unit whose length protocols disagree on.
        items = [f"week {c.days_per_week} days"] if c.days_per_week != 7 else []
        items += [f"month {c.days_per_month} days"]
        items += [f"year {c.days_per_year} days"] if c.days_per_year != 365 else []
        items += [f"days counted from {c.first_day}"] if c.first_day != 0 else []
        p.statement([f"calendar {{ {'; '.join(items)} }}"], c.span)
    for iv in trial.interventions:
        p.blank()
        header = f"intervention {iv.name} {iv.type.value} {ef.string(iv.label)}"
        body: list[tuple[str, Span | None]] = [(f"other_name {ef.string(n)}", None)
                                              for n in iv.other_names]
        if iv.description is not None:
            body.append((f"description {ef.string(iv.description)}", None))
        if iv.form is not None:
            body.append((f"form {ef.string(iv.form)}", None))
        if iv.regimen:
            body.append(("dose " + _regimen(iv.regimen), iv.regimen.span))
        _block(p, header, body, iv.span)
    for arm in trial.arms:
        p.blank()
        header = f"arm {arm.name} {ef.string(arm.label)} {arm.type.value}"
        body = []
        if arm.code is not None:
            body.append((f"code {ef.string(arm.code)}", None))
        if arm.description is not None:
            body.append((f"description {ef.string(arm.description)}", None))
        for ai in arm.interventions:
            text = ai.intervention + (" " + _regimen(ai.regimen) if ai.regimen else "")
            body.append((text, ai.span))
        if arm.sequence:
            body.append(("sequence " + ", ".join(" + ".join(t.interventions)
                                                 for t in arm.sequence), arm.sequence[0].span))
        _block(p, header, body, arm.span)
    if trial.population:
        pop = trial.population
        p.blank()
        body = []
        if pop.age_min or pop.age_max:
            low = ef.duration(pop.age_min) if pop.age_min else "0 years"
            high = ef.duration(pop.age_max) if pop.age_max else "no_limit"
            body.append((f"age {low} to {high}", None))
        body.append((f"sex {pop.sex.value}", None))
        if pop.healthy_volunteers is not None:
            body.append((f"healthy_volunteers {'yes' if pop.healthy_volunteers else 'no'}", None))
        _block(p, "population", body, pop.span, always_open=True)
    if trial.data:
        p.blank()
        data_span = spans.get("data") or _block_span(trial.data)
        p.open("data", data_span)
        for item in trial.data:
            text = f"{item.kind.value} {item.name} {ef.string(item.label)}"
            if item.unit is not None:
                text += f" unit {'1' if item.unit == '1' else ef.unit(item.unit)}"
            if item.values:
                text += " values " + ", ".join(ef.string(v) for v in item.values)
            if item.low is not None and item.high is not None:
                text += f" range {ef.num(item.low)}..{ef.num(item.high)}"
            if item.molar_mass is not None:
                text += f" molar_mass {ef.num(item.molar_mass)}"
            if item.attributes:
                text += " attributes " + ", ".join(
                    a + (f" in {ef.unit(u)}" if (u := item.attribute_unit(a)) else "")
                    for a in item.attributes)
            p.statement([text], item.span)
        p.close(data_span)
    for table in trial.tables:
        p.blank()
        label = f" {ef.string(table.label)}" if table.label is not None else ""
        header = f"table {table.name}{label}"
        p.open(header, table.span)
        for row in table.rows:
            p.statement([f"{ef.string(row.key)}: {ef.expression(row.value)}"], row.span)
        p.close(table.span)
    if trial.definitions:
        p.blank()
    for definition in trial.definitions:
        p.statement(_definition(definition), definition.span)
    elig = trial.eligibility
    if elig.assessed_at:
        p.blank()
        p.statement([f"eligibility assessed at {elig.assessed_at}"], None)
    for word, criteria in (("inclusion", elig.inclusion), ("exclusion", elig.exclusion)):
        if criteria:
            p.blank()
            span = spans.get(word) or _block_span(criteria)
            p.open(word, span)
            for criterion in criteria:
                p.statement(_criterion(criterion), criterion.span)
            p.close(span)
    if trial.schedule:
        p.blank()
        _schedule(p, trial.schedule)
    if trial.stopping.rules:
        p.blank()
        p.open("stopping", trial.stopping.span)
        for rule in trial.stopping.rules:
            p.statement(_rule(rule), rule.span)
        p.close(trial.stopping.span)
    p.close(trial.span)
    return p.text()


def _block_span(items: Iterable[object]) -> Span | None:
    spans = [getattr(i, "span", None) for i in items]
    real = [s for s in spans if s is not None]
    if not real:
        return None
    first, last = real[0], real[-1]
    return Span(first.file, first.line, first.column, last.end_line + 1, 1, first.start, last.end)


def _block(p: _Printer, header: str, body: list[tuple[str, Span | None]], span: Span | None,
           always_open: bool = False) -> None:
    if not body and not always_open:
        p.statement([header], span)
        return
    p.open(header, span)
    for text, item_span in body:
        p.statement(_wrap_then(text), item_span)
    p.close(span)


def _wrap_then(text: str, width: int = 96) -> list[str]:
    """A long titration, one step per line, continuation lines led by `then`."""
    if len(text) <= width or ", then " not in text:
        return [text]
    first, *rest = text.split(", then ")
    return [first + ","] + [f"then {r}," for r in rest[:-1]] + [f"then {rest[-1]}"]


def _registry(p: _Printer, t: Trial, spans: dict[str, Span]) -> None:
    lines: list[tuple[str, Span | None]] = []

    def add(field: str, text: str) -> None:
        lines.append((text, spans.get(field)))

    if t.title is not None:
        add("title", f"title {ef.string(t.title)}")
    lines += [(f"identifier {i.scheme} {ef.string(i.value)}", i.span) for i in t.identifiers]
    if t.status:
        add("status", f"status {t.status.value}")
    if t.last_updated:
        add("last_updated", f"last_updated {t.last_updated.isoformat()}")
    if t.study_type:
        add("study_type", f"study_type {t.study_type.value}")
    if t.phase:
        add("phase", f"phase {t.phase.value}")
    if t.enrollment is not None:
        kind = f" {t.enrollment_kind}" if t.enrollment_kind else ""
        add("enrollment", f"enrollment {t.enrollment}{kind}")
    if t.start:
        add("start", f"start {t.start.isoformat()}")
    if t.completion:
        add("completion", f"completion {t.completion.isoformat()}")
    if t.allocation:
        ratio = " ratio " + ":".join(str(n) for n in t.allocation_ratio) if t.allocation_ratio else ""
        add("allocation", f"allocation {t.allocation.value}{ratio}")
    if t.model:
        add("model", f"model {t.model.value}")
    if t.purpose:
        add("purpose", f"purpose {t.purpose.value}")
    if t.masking:
        roles = f" ({', '.join(r.value for r in t.masking.roles)})" if t.masking.roles else ""
        add("masking", f"masking {t.masking.level.value}{roles}")
    lines += [(f"condition {ef.string(c)}", spans.get(f"condition:{c}")) for c in t.conditions]
    lines += [(f"keyword {ef.string(k)}", spans.get(f"keyword:{k}")) for k in t.keywords]
    lines += [(f"objective {o.level.value} {ef.string(o.text)}"
               + "".join(f" endpoint {ef.string(e)}" for e in o.endpoints), o.span)
              for o in t.objectives]
    lines += [(f"illustrative {', '.join(part.value for part in i.parts)} {ef.string(i.note)}",
               i.span) for i in t.illustrative]
    if t.sponsor:
        lines.append((_organization("sponsor", t.sponsor), t.sponsor.span))
    lines += [(_organization("collaborator", c), c.span) for c in t.collaborators]
    if t.responsible_party:
        rp = t.responsible_party
        name = f" {ef.string(rp.name)}" if rp.name is not None else ""
        lines.append((f"responsible_party {rp.kind.value}{name}", rp.span))
    for site in t.sites:
        text = f"site {ef.string(site.facility)}"
        for word, value in (("city", site.city), ("region", site.region),
                            ("country", site.country)):
            if value is not None:
                text += f" {word} {ef.string(value)}"
        if site.status is not None:
            text += f" status {site.status}"
        lines.append((text, site.span))
    for text, span in lines:
        p.statement([text], span)


def _organization(word: str, org: Organization) -> str:
    name = org.name
    org_class = org.org_class
    return f"{word} {ef.string(name)}" + (f" class {org_class.value}" if org_class else "")


def _regimen(regimen: Regimen) -> str:
    return ", then ".join(_step(s) for s in regimen.steps)


def _step(step: DoseStep) -> str:
    parts = [ef.quantity(step.amount)]
    if step.route:
        parts.append(step.route.value)
    if step.frequency:
        interval = step.frequency.interval
        parts.append(f"every {ef.duration(interval)}" if interval else "once")
    if step.duration:
        parts.append("for " + ef.duration(step.duration))
    if step.label is not None:
        parts.append("as " + ef.string(step.label))
    return " ".join(parts)


def _definition(d: Definition) -> list[str]:
    head = f"define {d.name}" + (f" {ef.string(d.label)}" if d.label is not None else "") + " ="
    lines = ef.split_lines(d.expr)
    if len(lines) == 1 and len(head) + 1 + len(lines[0]) <= 96:
        return [f"{head} {lines[0]}"]
    return [head] + lines


def _criterion(c: Criterion) -> list[str]:
    head = c.id
    if c.text is not None:
        head += " " + ef.string(c.text)
    if c.missing is not None:
        head += f" assume {c.missing.value}"
    return [head + ":"] + ef.split_lines(c.expr)


def _schedule(p: _Printer, s: Schedule) -> None:
    p.open(f"schedule anchored at {s.anchor}", s.span)
    for decl in s.anchors:
        label = f" {ef.string(decl.label)}" if decl.label is not None else ""
        effect = f" then {_action(decl.effect)}" if decl.effect is not None else ""
        p.statement([f"anchor {decl.name}{label}{effect}"], decl.span)
    epochs = {e.name: e for e in s.epochs}
    current: str | None = None
    for item in s.items:
        epoch = None if isinstance(item, Periods) else item.epoch
        if epoch != current:
            if current is not None:
                p.close(None)
            current = epoch
            if current is not None:
                ep = epochs[current]
                p.open(f"epoch {ep.name} {ef.string(ep.label)}", ep.span)
        if isinstance(item, Cycles):
            _cycles(p, item)
            continue
        if isinstance(item, Timepoints):
            _timepoints(p, item)
            continue
        if isinstance(item, Periods):
            _periods(p, item)
            continue
        p.statement(_schedule_item(item), item.span, extra=0)
    if current is not None:
        p.close(None)
    p.close(s.span)


def _schedule_item(item: ScheduleItem) -> list[str]:
    if isinstance(item, Visit):
        return _visit(item)
    assert isinstance(item, Activity)
    return [_activity(item)]


def _cycles(p: _Printer, c: Cycles) -> None:
    head = (f"cycles {c.name} {ef.string(c.label)} every {ef.duration(c.length)} "
            f"from {ef.day_point(c.start)}")
    if c.window is not None:
        head += " " + ef.window(c.window)
    if c.until:
        head += " until " + " or ".join(c.until)
    if c.max_cycles is not None:
        head += f" max {c.max_cycles} cycles"
    if c.arms:
        head += " arms " + ", ".join(c.arms)
    p.open(head, c.span)
    for a in c.items:
        p.statement([_activity(a)], a.span, extra=0)
    p.close(c.span)


def _timepoints(p: _Printer, t: Timepoints) -> None:
    ref = t.reference
    if isinstance(ref, DoseOnDays):
        after = (f"dose of {ref.intervention} on day "
                 + ", ".join(ef.num(d.value) for d in ref.days))
    else:
        after = ef.anchor(ref)
    head = f"timepoints {t.name} {ef.string(t.label)} after {after}"
    if t.arms:
        head += " arms " + ", ".join(t.arms)
    p.open(head, t.span)
    for a in t.items:
        p.statement([_timed_activity(a)], a.span, extra=0)
    p.close(t.span)


def _timed_activity(a: TimedActivity) -> str:
    if a.predose is not None:
        when = f"predose within {ef.duration(a.predose)}"
    else:
        # `0.5, 1, 2 hours, 30 minutes`: one unit word after each run of the same unit
        groups: list[list[Duration]] = []
        for d in a.offsets:
            if groups and groups[-1][-1].unit is d.unit:
                groups[-1].append(d)
            else:
                groups.append([d])
        when = "at " + ", ".join(
            ", ".join(ef.num(d.amount) for d in g) + " "
            + (g[0].unit.word(g[0].amount) if len(g) == 1 else g[0].unit.value + "s")
            for g in groups)
    if a.windows:
        bands = []
        for band in a.windows:
            text = ef.window(band.window)[len("window "):]
            if band.up_to is not None:
                text += f" up to {ef.duration(band.up_to)}"
            elif len(a.windows) > 1:
                text += " after"
            bands.append(text)
        when += " window " + ", ".join(bands)
    if a.arms:
        when += " arms " + ", ".join(a.arms)
    if a.sex is not None:
        when += f" sex {a.sex.value}"
    if a.condition:
        when += f" if {a.condition}"
    return f"{a.kind.value} {', '.join(a.items)} {when}"


def _periods(p: _Printer, block: Periods) -> None:
    head = f"periods {block.name} {ef.string(block.label)} from {ef.day_point(block.start)}"
    if block.window is not None:
        head += " " + ef.window(block.window)
    w = block.washout
    if w.maximum is None:
        head += f" washout at least {ef.duration(w.minimum)}"
    elif w.maximum == w.minimum:
        head += f" washout {ef.duration(w.minimum)}"
    else:
        head += (f" washout {ef.num(w.minimum.amount)} to {ef.num(w.maximum.amount)} "
                 f"{w.maximum.unit.word(w.maximum.amount)}")
    p.open(head, block.span)
    for item in block.items:
        p.statement(_schedule_item(item), item.span, extra=0)
    p.close(block.span)


def _suffix(item: Visit | Activity) -> str:
    text = ""
    if item.window is not None:
        text += " " + ef.window(item.window)
    if item.arms:
        text += " arms " + ", ".join(item.arms)
    if item.sex is not None:
        text += f" sex {item.sex.value}"
    if item.condition:
        text += f" if {item.condition}"
    return text


def _visit(v: Visit) -> list[str]:
    t = v.timing
    if isinstance(t, AtDay):
        when = "at " + ef.day_point(t.point)
    elif isinstance(t, DayRange):
        when = f"at {ef.day_point(t.start)} to {ef.day_point(t.end)}"
    elif isinstance(t, AfterAnchor):
        side = "before" if t.offset.amount < 0 else "after"
        offset = ef.duration(attrs.evolve(t.offset, amount=abs(t.offset.amount)))
        when = f"at {offset} {side} {ef.anchor(t.anchor)}"
    elif isinstance(t, OnEvent):
        when = f"on {t.event}"
    elif isinstance(t, OnEach):
        when = f"on each {ef.selection(t.selection)}"
    else:
        assert isinstance(t, AsNeeded)
        when = "as needed"
    number = f" number {ef.num(v.number)}" if v.number is not None else ""
    text = f"visit {v.name} {ef.string(v.label)}{number} {when}{_suffix(v)}"
    if not v.activities:
        return [text]
    entries = [_visit_item(v, name) for name in v.activities]
    listed = ", ".join(entries)
    if len(text) + len(listed) + 6 <= 96:
        return [f"{text} {{ {listed} }}"]
    lines, current = [text + " {"], ""
    for name in entries:
        piece = name if not current else f"{current}, {name}"
        if current and len(piece) > 92:
            lines.append(INDENT + current + ",")
            current = name
        else:
            current = piece
    lines.append(INDENT + current)
    return lines + ["}"]


def _visit_item(v: Visit, name: str) -> str:
    cond = v.item_condition(name)
    if cond is None:
        return name
    parts = []
    if cond.arms:
        parts.append("arms " + ", ".join(cond.arms))
    if cond.sex is not None:
        parts.append(f"sex {cond.sex.value}")
    if cond.condition:
        parts.append(f"if {cond.condition}")
    return f"{name} ({' '.join(parts)})"


def _activity(a: Activity) -> str:
    t = a.timing
    if isinstance(t, AtTimes):
        unit = t.points[0].unit.value
        when = f"at {unit} " + ", ".join(ef.num(pt.value) for pt in t.points)
    elif isinstance(t, CycleDays):
        when = "on day " + ", ".join(str(d) for d in t.days)
    else:
        when = f"every {ef.duration(t.every)} from {ef.day_point(t.start)}"
        end = t.end
        if isinstance(end, RepeatFor):
            when += " for " + ef.duration(end.duration)
        elif isinstance(end, RepeatUntil):
            when += " until " + ef.anchor(end.anchor)
        else:
            assert isinstance(end, RepeatTimes)
            when += f" times {end.times}"
    return f"{a.kind.value} {', '.join(a.items)} {when}{_suffix(a)}"


def _family(f: BoundaryFamily) -> str:
    if f.values:
        return f.name + "(" + ", ".join(ef.num(x) for x in f.values) + ")"
    return f.name + (f"({ef.num(f.parameter)})" if f.parameter is not None else "")


def _sample_size(plan: SampleSizePlan) -> list[str]:
    """`sample_size power P assuming a, b, ...`, broken after a comma when long."""
    a = plan.assumptions
    items: list[str] = []
    if isinstance(a, SurvivalAssumptions):
        if a.hazard_ratio is not None:
            items.append(f"hazard_ratio {ef.num(a.hazard_ratio)}")
        for name, d in (("control_median", a.control_median),
                        ("experimental_median", a.experimental_median),
                        ("accrual", a.accrual), ("follow_up", a.follow_up)):
            if d is not None:
                items.append(f"{name} {ef.duration(d)}")
        if a.dropout is not None:
            items.append(f"dropout {ef.num(a.dropout.percent)}% per {ef.duration(a.dropout.per)}")
    elif isinstance(a, ProportionsAssumptions):
        items.append(f"proportions {ef.num(a.experimental)} vs {ef.num(a.control)}")
    elif isinstance(a, ProportionAssumptions):
        items.append(f"proportion {ef.num(a.expected)} vs {ef.num(a.reference)}")
    else:
        assert isinstance(a, MeansAssumptions)
        items += [f"mean_difference {ef.num(a.difference)}", f"sd {ef.num(a.sd)}"]
    lines = [f"sample_size power {ef.num(plan.power)} assuming {items[0]}"]
    for item in items[1:]:
        if len(lines[-1]) + len(item) + 2 > 80:
            lines[-1] += ","
            lines.append(f"  {item}")  # the list goes on: indented under the clause
        else:
            lines[-1] += f", {item}"
    return lines


def _action(action: Discontinue | Withdraw | FollowUp | Retest) -> str:
    if isinstance(action, Discontinue):
        return " ".join(("discontinue", ", ".join(action.interventions))).rstrip()
    if isinstance(action, Withdraw):
        return "withdraw"
    if isinstance(action, FollowUp):
        return "follow_up_only"
    return f"retest {action.kind} within {ef.duration(action.within)}"


def _rule(rule: StoppingRule) -> list[str]:
    if isinstance(rule, PatientRule):
        head = "patient "
        if rule.name:
            head += rule.name + (f" {ef.string(rule.label)}" if rule.label is not None else "") + ": "
        head += _action(rule.action)
        lines = ef.split_lines(rule.condition)
        lines[0] = f"{head} when {lines[0]}"
        if rule.name and len(lines[0]) > 96:
            name_part, _, action_part = lines[0].partition(": ")
            lines[0:1] = [name_part + ":", action_part]
        if rule.unless:
            u = rule.unless
            lines.append(f"unless retest of {u.kind} within {ef.duration(u.within)} falls by "
                         f"at least {ef.num(u.percent)} %")
        return lines
    if isinstance(rule, InterimRule):
        head = f"trial interim {rule.name}" + (f" {ef.string(rule.label)}" if rule.label is not None else "")
        head += " at information " + ", ".join(ef.num(x) for x in rule.information)
        if rule.planned_events is not None:
            head += f" of {rule.planned_events} events"
        e = rule.efficacy
        sides = "one_sided" if e.sides == 1 else "two_sided"
        lines = [head, f"efficacy {_family(e.family)} alpha {ef.num(e.alpha)} {sides}"]
        if rule.futility:
            f = rule.futility
            binding = " binding" if f.binding else " non_binding"
            beta = f" beta {ef.num(f.beta)}" if f.beta is not None else ""
            lines.append(f"futility {_family(f.family)}{beta}{binding}")
        if rule.sample_size is not None:
            lines += _sample_size(rule.sample_size)
        joined = " ".join(lines)
        return [joined] if len(joined) <= 96 else lines
    assert isinstance(rule, SafetyRule)
    head = f"trial safety {rule.name}" + (f" {ef.string(rule.label)}" if rule.label is not None else "")
    if rule.arms:
        head += " arms " + ", ".join(rule.arms)
    m = rule.method
    if isinstance(m, BayesianStop):
        stop = (f"stop when posterior P(rate > {ef.num(m.threshold)}) > {ef.num(m.probability)} "
                f"prior beta({ef.num(m.prior_a)}, {ef.num(m.prior_b)})")
    elif isinstance(m, BinomialStop):
        stop = f"stop when binomial rate > {ef.num(m.threshold)} alpha {ef.num(m.alpha)}"
    else:
        assert isinstance(m, SprtStop)
        stop = (f"stop when sprt p0 {ef.num(m.p0)} p1 {ef.num(m.p1)} alpha {ef.num(m.alpha)} "
                f"beta {ef.num(m.beta)} max {m.max_patients}")
    if rule.looks:
        stop += " at " + ", ".join(str(n) for n in rule.looks) + " patients"
    return [head + ":", "patients with " + ef.expression(rule.event), stop]
