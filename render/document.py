"""The protocol document as a tree of numbered sections (ICH M11 numbering) holding blocks.

The same tree feeds every output format (Markdown and HTML through jinja2 templates, Word
through python-docx, PDF from the HTML), so a fact is worded once. A section that would be
empty is not created: no format ever prints a heading with nothing under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from protocol.eligibility import Criterion
from protocol.expr import Expr, RelativeLimit
from protocol.stopping import (
    Discontinue,
    FollowUp,
    InterimRule,
    Retest,
    SafetyRule,
    Withdraw,
)
from protocol.trial import Trial
from protocol.vocab import (
    ActivityKind,
    Allocation,
    IllustrativePart,
    MaskingLevel,
    ObjectiveLevel,
    Sex,
)
from render.design import DesignMatrix, build_matrix, period_bounds, ratio_text, washout_text
from render.prose import Prose, formulas_used
from render.sample_size_text import sample_size_blocks
from render.schema_svg import schema_svg
from render.soa import Grid, TimepointTable, build_grid
from render.stats import NumberTable, design_problem, interim_plot, interim_table, safety_table
from render.terms import duration_text, join_and, lower_first, num, sentence_case, window_text

GENERATED_MARK = "†"
GENERATED_NOTE = (
    "† Wording generated from the computable criterion because the protocol file gives none; "
    "review before use."
)


# ---- blocks ------------------------------------------------------------------------------------


@dataclass
class Para:
    text: str
    kind: str = "para"


@dataclass
class Bullets:
    items: list[str]
    kind: str = "bullets"


@dataclass
class ListItem:
    id: str
    text: str
    generated: bool = False


@dataclass
class Numbered:
    items: list[ListItem]
    note: str = ""
    kind: str = "numbered"


Cell = str | list[str]  # a list is shown as one item per line (endpoints of an objective)


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: Sequence[Sequence[Cell]]
    note: str = ""
    kind: str = "table"


@dataclass
class KeyValues:
    rows: list[tuple[str, Cell]]
    kind: str = "keyvalues"


@dataclass
class Schema:
    svg: str
    table: Table
    caption: str
    kind: str = "schema"


@dataclass
class Figure:
    """A figure drawn only in HTML (Markdown and Word carry the same numbers as a table)."""

    svg: str
    caption: str
    kind: str = "figure"


@dataclass
class SoA:
    grid: Grid
    caption: str
    kind: str = "soa"


@dataclass
class Notice:
    """A boxed warning every format shows prominently: content marked `illustrative` (not from
    the trial's real protocol)."""

    title: str
    text: str
    kind: str = "notice"


@dataclass
class Timepoints:
    """A table of sub-day timepoints (times after a dose) printed after the schedule grid."""

    table: TimepointTable
    kind: str = "timepoints"


Block = Para | Bullets | Numbered | Table | KeyValues | Schema | Figure | SoA | Timepoints | Notice


@dataclass
class Section:
    number: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)

    @property
    def level(self) -> int:
        return self.number.count(".") + 1

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}"

    def walk(self) -> list[Section]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out


@dataclass
class TitlePage:
    title: str
    rows: list[tuple[str, str]]
    notices: list[Notice] = field(default_factory=list)


@dataclass
class Document:
    name: str
    title: str
    title_page: TitlePage
    sections: list[Section]
    footer: str

    illustrative: bool = False

    @property
    def running_head(self) -> str:
        """The header of every printed page but the title page (with the page number at the
        foot: render/templates/document.css); it says so on every page when parts of the
        document are illustrative."""
        head = f"{self.name} · Clinical Trial Protocol"
        return head + " · CONTAINS ILLUSTRATIVE CONTENT" if self.illustrative else head

    def all_sections(self) -> list[Section]:
        out: list[Section] = []
        for s in self.sections:
            out.extend(s.walk())
        return out


def _section(
    number: str, title: str, blocks: list[Block], children: list[Section | None] | None = None
) -> Section | None:
    kids = [c for c in (children or []) if c is not None]
    if not blocks and not kids:
        return None
    return Section(number, title, blocks, kids)


def _keep(*sections: Section | None) -> list[Section]:
    return [s for s in sections if s is not None]


# ---- labels of enumerations --------------------------------------------------------------------

_SCHEMES = {
    "nct": "ClinicalTrials.gov",
    "org_study_id": "Sponsor protocol number",
    "eudract": "EudraCT",
    "euct": "EU CT number",
    "ctis": "EU CT number",
    "isrctn": "ISRCTN",
    "ind": "IND",
    "who": "WHO UTN",
    "sponsor": "Sponsor protocol number",
    "sponsor_protocol": "Sponsor protocol number",
    "study_id": "Study identifier (STUDYID)",
    "studyid": "Study identifier (STUDYID)",
}


def scheme_label(scheme: str) -> str:
    if scheme.lower() in _SCHEMES:
        return _SCHEMES[scheme.lower()]
    text = scheme.replace("_", " ")
    return text.upper() if len(scheme) <= 6 else text[:1].upper() + text[1:]


def enum_text(value: object) -> str:
    v = getattr(value, "value", value)
    return str(v).replace("_", " ")


def phase_text(trial: Trial) -> str:
    if trial.phase is None:
        return ""
    v = trial.phase.value
    if v.lower() == "na":
        return "Not applicable"
    if v.lower().startswith("early"):
        return "Early phase 1"
    return f"Phase {v}"


def masking_text(trial: Trial) -> str:
    m = trial.masking
    if m is None:
        return ""
    if m.level is MaskingLevel.NONE:
        return "None (open label)"
    roles = join_and([enum_text(r) for r in m.roles])
    base = f"{enum_text(m.level).capitalize()} blind"
    return f"{base} ({roles})" if roles else base


def population_text(trial: Trial) -> str:
    p = trial.population
    if p is None:
        return ""
    parts = []
    if p.age_min and p.age_max:
        parts.append(f"aged {num(p.age_min.amount)} to {duration_text(p.age_max)}")
    elif p.age_min:
        parts.append(f"aged {duration_text(p.age_min)} or older")
    elif p.age_max:
        parts.append(f"aged up to {duration_text(p.age_max)}")
    sex = {Sex.ALL: "of either sex", Sex.FEMALE: "female", Sex.MALE: "male"}[p.sex]
    parts.append(sex)
    if p.healthy_volunteers is True:
        parts.append("healthy volunteers accepted")
    elif p.healthy_volunteers is False:
        parts.append("no healthy volunteers")
    return "Participants " + ", ".join(parts)


# ---- the builder -----------------------------------------------------------------------------


class _Builder:
    def __init__(self, trial: Trial):
        self.t = trial
        self.prose = Prose(trial)
        self.terms = self.prose.terms
        self.matrix: DesignMatrix = build_matrix(trial)
        self.grid = build_grid(trial)

    def build(self) -> Document:
        doc = self._build()
        _mark_illustrative(doc, self.t)
        return doc

    def _build(self) -> Document:
        t = self.t
        title = t.title or t.name
        return Document(
            name=t.name,
            title=title,
            title_page=self.title_page(),
            sections=_keep(
                self.summary(),
                self.objectives(),
                self.design(),
                self.population(),
                self.intervention(),
                self.discontinuation(),
                self.assessments(),
                self.statistics(),
                self.glossary(),
            ),
            footer=f"Generated by trialcode from protocol {t.name}.",
            illustrative=bool(t.illustrative),
        )

    # ---- title page ----------------------------------------------------------------------

    def title_page(self) -> TitlePage:
        t = self.t
        rows: list[tuple[str, str]] = []
        if all(i.value != t.name for i in t.identifiers):
            rows.append(("Protocol", t.name))
        for ident in t.identifiers:
            rows.append((scheme_label(ident.scheme), ident.value))
        if t.phase:
            rows.append(("Trial phase", phase_text(t)))
        if t.sponsor:
            rows.append(("Sponsor", t.sponsor.name))
        for c in t.collaborators:
            rows.append(("Collaborator", c.name))
        if t.responsible_party and t.responsible_party.name:
            rows.append((f"Responsible party ({enum_text(t.responsible_party.kind)})", t.responsible_party.name))
        if t.status:
            rows.append(("Status", sentence_case(enum_text(t.status))))
        if t.last_updated:
            rows.append(("Version date", t.last_updated.isoformat()))
        return TitlePage(t.title or t.name, rows)

    # ---- 1 protocol summary --------------------------------------------------------------

    def summary(self) -> Section | None:
        return _section(
            "1",
            "Protocol Summary",
            [],
            [self.synopsis(), self.schema(), self.soa()],
        )

    def synopsis(self) -> Section | None:
        t = self.t
        rows: list[tuple[str, Cell]] = []
        if t.title:
            rows.append(("Title", t.title))
        ids = [f"{scheme_label(i.scheme)}: {i.value}" for i in t.identifiers]
        if ids:
            rows.append(("Identifiers", "; ".join(ids)))
        if t.sponsor:
            rows.append(("Sponsor", t.sponsor.name))
        if t.phase:
            rows.append(("Phase", phase_text(t)))
        if t.conditions:
            rows.append(("Condition(s)", "; ".join(t.conditions)))
        if t.keywords:
            rows.append(("Keywords", "; ".join(t.keywords)))
        if t.study_type:
            rows.append(("Trial type", sentence_case(enum_text(t.study_type))))
        design_bits = []
        if t.allocation and t.allocation is not Allocation.NA:
            alloc = enum_text(t.allocation).replace("non randomized", "non-randomized")
            if t.allocation is Allocation.RANDOMIZED and ratio_text(t):
                alloc += f" {ratio_text(t)} ({' : '.join(a.label for a in t.arms)})"
            design_bits.append(alloc)
        if t.model:
            design_bits.append(f"{enum_text(t.model)} assignment")
        if design_bits:
            rows.append(("Design", sentence_case(", ".join(design_bits))))
        if t.masking:
            rows.append(("Masking", masking_text(t)))
        if t.purpose:
            rows.append(("Primary purpose", sentence_case(enum_text(t.purpose))))
        primary = [o for o in t.objectives if o.level is ObjectiveLevel.PRIMARY]
        if primary:
            rows.append(("Primary objective" + ("s" if len(primary) > 1 else ""), [o.text for o in primary]))
        endpoints = [e for o in primary for e in o.endpoints]
        if endpoints:
            rows.append(("Primary endpoint" + ("s" if len(endpoints) > 1 else ""), endpoints))
        pop = population_text(t)
        if pop:
            rows.append(("Population", pop))
        if t.enrollment is not None:
            kind = f" ({t.enrollment_kind})" if t.enrollment_kind else ""
            rows.append(("Planned number of participants", f"{t.enrollment}{kind}"))
        if t.arms:
            rows.append(
                (
                    "Arms",
                    "; ".join(f"{a.label} ({enum_text(a.type)})" for a in t.arms),
                )
            )
        for iv in t.interventions:
            reg = self.prose.regimen(iv.regimen)
            what = sentence_case(enum_text(iv.type)) + (f" ({lower_first(iv.form)})" if iv.form else "")
            rows.append((f"Intervention: {iv.label}", what + (f"; {reg}" if reg else "")))
        if t.start or t.completion:
            rows.append(
                (
                    "Trial dates",
                    " to ".join(d.isoformat() for d in (t.start, t.completion) if d is not None),
                )
            )
        if t.sites:
            rows.append(("Sites", "; ".join(_site(s) for s in t.sites)))
        return _section("1.1", "Protocol Synopsis", [KeyValues(rows)] if rows else [])

    def schema(self) -> Section | None:
        if not self.t.arms:
            return None
        m = self.matrix
        header = ["Arm"] + [e.label for e in m.epochs]
        rows = []
        for arm in m.arms:
            row = [arm.label]
            for ep in m.epochs:
                cell = m.cell(arm.name, ep.name)
                row.append(" → ".join(el.name for el in cell.elements) if cell else "")
            rows.append(row)
        randomized = next((e for e in m.epochs if e.randomized_before), None)
        note = (
            f"Participants are randomized at the start of the {randomized.label} epoch."
            if randomized
            else ""
        )
        table = Table("Arms by epoch", header, rows, note)
        svg = schema_svg(m, self.t.enrollment, f"Trial schema of {self.t.name}")
        return _section("1.2", "Trial Schema", [Schema(svg, table, "Figure 1. Trial schema")])

    def soa(self) -> Section | None:
        if self.grid is None:
            return None
        blocks: list[Block] = [SoA(self.grid, "Table 1. Schedule of activities")]
        blocks += [Timepoints(t) for t in self.grid.timepoints]
        return _section("1.3", "Schedule of Activities", blocks)

    # ---- 3 objectives --------------------------------------------------------------------

    def objectives(self) -> Section | None:
        levels = [
            (ObjectiveLevel.PRIMARY, "3.1", "Primary Objective(s)"),
            (ObjectiveLevel.SECONDARY, "3.2", "Secondary Objective(s)"),
            (ObjectiveLevel.EXPLORATORY, "3.3", "Exploratory Objective(s)"),
        ]
        kids = []
        paired = any(o.endpoints for o in self.t.objectives)
        for level, number, title in levels:
            objs = [o for o in self.t.objectives if o.level is level]
            blocks: list[Block] = []
            if objs and paired:
                # ICH M11 pairs each objective with the endpoints that measure it
                rows: list[list[Cell]] = [
                    [o.text, list(o.endpoints) if o.endpoints else "Not stated in the protocol"]
                    for o in objs
                ]
                word = title.split()[0]
                blocks.append(Table("", [f"{word} objective" + ("s" if len(objs) > 1 else ""), "Endpoints"], rows))
            elif objs:
                blocks.append(Bullets([o.text for o in objs]))
            kids.append(_section(number, title + (" and Endpoint(s)" if paired and objs else ""), blocks))
        title = "Trial Objectives and Endpoints" if paired else "Trial Objectives"
        return _section("3", title, [], kids)

    # ---- 4 design ------------------------------------------------------------------------

    def design(self) -> Section | None:
        return _section("4", "Trial Design", [], [self.design_description(), self.stopping(), self.dates()])

    def design_description(self) -> Section | None:
        t = self.t
        blocks: list[Block] = []
        adjectives = []
        if t.phase:
            adjectives.append(phase_text(t).lower())
        if t.allocation is Allocation.RANDOMIZED:
            adjectives.append("randomized")
        elif t.allocation is Allocation.NON_RANDOMIZED:
            adjectives.append("non-randomized")
        if t.masking:
            adjectives.append(
                "open-label" if t.masking.level is MaskingLevel.NONE else f"{enum_text(t.masking.level)}-blind"
            )
        n_periods = t.period_count if t.schedule is not None and t.schedule.periods else 0
        if n_periods:
            n_seq = len([a for a in t.arms if a.sequence])
            # `two-period, two-sequence crossover`: the counts qualify the design, no comma
            counts = f"{_count_word(n_periods)}-period"
            if n_seq > 1:
                counts += f", {_count_word(n_seq)}-sequence"
            model = enum_text(t.model) if t.model else "multi-period"
            adjectives.append(f"{counts} {model}")
        elif t.model:
            adjectives.append({"parallel": "parallel-group", "single group": "single-group"}.get(enum_text(t.model), enum_text(t.model)))
        if adjectives or t.arms:
            what = ", ".join(adjectives) or "clinical"
            sentence = f"This is {_a(what)} {what} trial"
            if t.conditions and all(c.strip().lower() in ("healthy volunteers", "healthy")
                                    for c in t.conditions):
                sentence += " in healthy volunteers"
            elif t.conditions:
                sentence += f" in participants with {join_and(list(t.conditions))}"
            if t.purpose:
                sentence += f"; its primary purpose is {enum_text(t.purpose)}"
            sentence += "."
            if t.enrollment is not None and t.arms:
                verb = "randomized" if t.allocation is Allocation.RANDOMIZED else "assigned"
                n_arms = len(t.arms)
                ratio = f" in a {ratio_text(t)} ratio" if ratio_text(t) and n_arms > 1 else ""
                arms = f" ({join_and([a.label for a in t.arms])})" if ratio else ""
                sentence += (
                    f" About {t.enrollment} participants will be {verb}{ratio} to "
                    f"{_count_word(n_arms)} arm{'s' if n_arms != 1 else ''}{arms}."
                )
            blocks.append(Para(sentence))
        if t.arms:
            rows = []
            for a in t.arms:
                ivs = join_and([self.terms.intervention(ai.intervention) for ai in a.interventions])
                if a.sequence:
                    ivs = " → ".join(" + ".join(self.terms.intervention(n) for n in step.interventions)
                                     for step in a.sequence) + (f"; {ivs}" if ivs else "")
                ivs = ivs or "None"
                rows.append([a.label, sentence_case(enum_text(a.type)), ivs, a.description or ""])
            if not any(r[3] for r in rows):
                rows = [r[:3] for r in rows]
                header = ["Arm", "Type", "Intervention(s)"]
            else:
                header = ["Arm", "Type", "Intervention(s)", "Description"]
            blocks.append(Table("Trial arms", header, rows))
        blocks.extend(self.periods_description())
        if self.matrix.epochs and self.t.schedule and (
                self.t.schedule.epochs or self.t.schedule.periods):
            labels = [e.label for e in self.matrix.epochs]
            blocks.append(
                Para(
                    f"The trial has {_count_word(len(labels))} epoch{'s' if len(labels) != 1 else ''}: "
                    f"{join_and(labels)}. Times are counted in days from "
                    f"{self.terms.anchor_name(self.t.schedule.anchor)} "
                    + ("(day 1; there is no day 0)" if self.t.calendar.first_day == 1
                       else "(day 0)")
                    + self._calendar_note()
                    + "."
                )
            )
        return _section("4.1", "Description of Trial Design", blocks)

    def periods_description(self) -> list[Block]:
        """A crossover's sequences (a table: one row per sequence, one column per period) and
        how its periods follow one another."""
        t = self.t
        block = t.schedule.periods if t.schedule is not None else None
        n = t.period_count
        if block is None or not n:
            return []
        header = ["Sequence"] + [block.period_label(k) for k in range(1, n + 1)]
        rows: list[list[Cell]] = []
        for a in t.arms:
            if a.sequence:
                row: list[Cell] = [a.label]
                row += [" + ".join(self.terms.intervention(x) for x in step.interventions)
                        for step in a.sequence]
                rows.append(row)
        cal = t.calendar
        first, _ = period_bounds(t)
        start = f"day {num(cal.protocol_day(round(block.start.days(cal))))}"
        window = f" (window {window_text(block.window)})" if block.window is not None else ""
        text = (f"Each participant receives the treatments of one sequence, one per study period, "
                f"in {_count_word(n)} periods. {block.period_label(1)} starts on {start}{window}; "
                f"each later period starts {washout_text(block)} after the last dose of the "
                "period before (washout). Within a period, days are counted from its first "
                f"dose (day {num(cal.protocol_day(round(first)))} of the period), and every "
                "period plans the same visits and assessments.")
        return [Table("Treatment sequences", header, rows), Para(text)]

    def _calendar_note(self) -> str:
        cal = self.t.calendar
        return f"; a month is counted as {cal.days_per_month} days and a year as {cal.days_per_year} days"

    def stopping(self) -> Section | None:
        rules = [r for r in self.t.stopping.rules if isinstance(r, (InterimRule, SafetyRule))]
        blocks: list[Block] = []
        if rules:
            blocks.append(Bullets([self.prose.rule(r) for r in rules]))
            if self._boundary_tables():
                blocks.append(Para("Boundaries are tabulated in Section 10.9."))
        return _section("4.3", "Trial Stopping Rules", blocks)

    def dates(self) -> Section | None:
        t = self.t
        blocks: list[Block] = []
        if t.start:
            blocks.append(Para(f"The trial starts on {t.start.isoformat()} (planned or actual start date)."))
        if t.completion:
            blocks.append(Para(f"The trial is expected to be completed by {t.completion.isoformat()}."))
        return _section("4.4", "Start of Trial and End of Trial", blocks)

    # ---- 5 population --------------------------------------------------------------------

    def population(self) -> Section | None:
        t = self.t
        blocks: list[Block] = []
        pop = population_text(t)
        if pop:
            blocks.append(Para(pop + "."))
        if t.reference_anchor and t.eligibility.criteria:
            blocks.append(
                Para(
                    "Eligibility is assessed at "
                    f"{self.terms.anchor_name(t.reference_anchor)}: only data recorded by then count."
                )
            )
        return _section(
            "5",
            "Trial Population",
            [],
            [
                _section("5.1", "Description of Trial Population", blocks),
                self.criteria("5.2", "Inclusion Criteria", t.eligibility.inclusion, "Participants are eligible to be included in the trial only if all of the following criteria apply:"),
                self.criteria("5.3", "Exclusion Criteria", t.eligibility.exclusion, "Participants are excluded from the trial if any of the following criteria apply:"),
                self.definitions(),
            ],
        )

    def definitions(self) -> Section | None:
        """What the criteria and rules refer to by name, stated once: the protocol's
        definitions, its tables, and the built-in formulas it uses with their sources."""
        t = self.t
        blocks: list[Block] = []
        if t.definitions:
            blocks.append(Para("The criteria and rules use these definitions; each is evaluated where it is used, with the data available there."))
            rows: list[tuple[str, Cell]] = []
            for d in t.definitions:
                label = d.label or d.name.replace("_", " ")
                rows.append((label, sentence_case(self.prose.expr(d.expr)) + "."))
            blocks.append(KeyValues(rows))
        for table in t.tables:
            unit_rows = [[r.key, self.prose.value(r.value)] for r in table.rows]
            caption = table.label or table.name.replace("_", " ")
            blocks.append(Table(caption, ["Key", "Value"], unit_rows))
        used = formulas_used(t)
        if used:
            blocks.append(Para("Values computed by the built-in formulas:"))
            blocks.append(Bullets([f"{sentence_case(f.title)}: {f.equation}. {f.citation}."
                                   for f in used]))
        return _section("5.4", "Definitions and Formulas Used in the Criteria", blocks)

    def criteria(self, number: str, title: str, criteria: tuple[Criterion, ...], intro: str) -> Section | None:
        if not criteria:
            return None
        items = [ListItem(c.id, self.prose.criterion(c), c.text is None) for c in criteria]
        note = GENERATED_NOTE if any(i.generated for i in items) else ""
        return _section(number, title, [Para(intro), Numbered(items, note)])

    # ---- 6 intervention ------------------------------------------------------------------

    def intervention(self) -> Section | None:
        t = self.t
        overview: list[Block] = []
        if t.interventions:
            rows = []
            for iv in t.interventions:
                arms = [a.label for a in t.arms if iv.name in a.given()]
                rows.append(
                    [
                        iv.label,
                        sentence_case(enum_text(iv.type)),
                        "; ".join(iv.other_names),
                        sentence_case(iv.form) if iv.form else "",
                        self.prose.regimen(iv.regimen),
                        join_and(arms),
                    ]
                )
            header = ["Intervention", "Type", "Other names", "Dosage form", "Dose and regimen", "Arm(s)"]
            keep = [i for i in range(len(header)) if i < 2 or any(r[i] for r in rows)]
            overview.append(
                Table(
                    "Trial interventions",
                    [header[i] for i in keep],
                    [[r[i] for i in keep] for r in rows],
                )
            )
            for iv in t.interventions:
                if iv.description:
                    overview.append(Para(f"{iv.label}: {iv.description}"))
        admin: list[Block] = []
        items = []
        for arm in t.arms:
            for ai in arm.interventions:
                iv_model = t.intervention(ai.intervention)
                reg = ai.regimen or (iv_model.regimen if iv_model else None)
                text = self.prose.regimen(reg)
                if text:
                    items.append(f"{arm.label}: {self.terms.intervention(ai.intervention)} {text}.")
            if not arm.interventions and arm.type.value == "no_intervention":
                items.append(f"{arm.label}: no trial intervention.")
        if t.schedule:
            for a in t.schedule.activities:
                if a.kind is ActivityKind.DOSE:
                    who = f" ({join_and([self.terms.arm(x) for x in a.arms])})" if a.arms else ""
                    items.append(
                        f"Dosing{who}: {join_and([self.terms.intervention(i) for i in a.items])} "
                        f"{self.prose.activity_timing(a)}."
                    )
        periods = t.schedule.periods if t.schedule else None
        if periods is not None:
            for a in periods.doses:
                given = {n for arm in t.arms for step in arm.sequence for n in step.interventions}
                seq = [i for i in a.items if i in given]
                what = join_and([self.terms.intervention(i) for i in a.items],
                                "or" if seq else "and")
                how = ", as the participant's sequence gives it" if seq else ""
                who = f" ({join_and([self.terms.arm(x) for x in a.arms])})" if a.arms else ""
                items.append(f"Dosing in each {lower_first(periods.label)}{who}: {what} "
                             f"{self.prose.activity_timing(a)} of the period{how}.")
            items.append(
                f"{periods.label}s: {_count_word(t.period_count)}, each timed from its first "
                f"dose; each later one starts {washout_text(periods)} after the last dose of the "
                "one before (washout).")
        for block in t.schedule.cycles if t.schedule else ():
            for a in block.items:
                if a.kind is ActivityKind.DOSE:
                    who = f" ({join_and([self.terms.arm(x) for x in a.arms])})" if a.arms else ""
                    items.append(
                        f"Dosing{who}: {join_and([self.terms.intervention(i) for i in a.items])} "
                        + self.prose.activity_timing(a).replace(
                            "each cycle", f"each {duration_text(block.length).replace(' days', '-day')} "
                                          f"{lower_first(block.label)}") + ".")
            ends = []
            if block.until:
                ends.append("until " + join_and(
                    [self.terms.term(e) if self.terms.item(e) is not None
                     else self.terms.anchor_name(e) for e in block.until], "or"))
            if block.max_cycles is not None:
                ends.append(f"for at most {block.max_cycles} cycles")
            late = (f"; a cycle may start within {window_text(block.window)} of its planned day"
                    if block.window is not None else "")
            items.append(
                f"{block.label}s: every {duration_text(block.length)}, each counted from the "
                f"actual start of the previous one{late}; repeated {', '.join(ends) or 'while treatment goes on'}.")
        if items and any(i.endswith(".") for i in items):
            admin.append(Bullets(items))
        assign: list[Block] = []
        if t.allocation is Allocation.RANDOMIZED and t.arms:
            arm_names = join_and([a.label for a in t.arms])
            if not all(a.label.split()[-1].lower() in ("arm", "group", "cohort") for a in t.arms):
                arm_names += " arms"
            ratio = ratio_text(t)
            if ratio and len(t.arms) > 1:
                unequal = len(set(t.allocation_ratio)) > 1
                assign.append(
                    Para(
                        f"Participants are randomized in a {ratio} ratio to the {arm_names}"
                        + (", respectively." if unequal else ".")
                    )
                )
            else:
                assign.append(Para(f"Participants are randomized to the {arm_names}."))
        if t.masking:
            if t.masking.level is MaskingLevel.NONE:
                assign.append(Para("The trial is open label: participants and investigators know the assigned intervention."))
            else:
                assign.append(Para(f"Masking: {masking_text(t)}."))
        return _section(
            "6",
            "Trial Intervention and Concomitant Therapy",
            [],
            [
                _section("6.1", "Overview of Trial Interventions", overview),
                _section("6.4", "Trial Intervention Administration", admin),
                _section("6.8", "Trial Intervention Assignment, Randomisation and Blinding", assign),
            ],
        )

    # ---- 7 discontinuation ---------------------------------------------------------------

    def discontinuation(self) -> Section | None:
        rules = self.t.stopping.patient_rules
        def said(r: object) -> str:
            text = self.prose.rule(r)  # type: ignore[arg-type]
            label = getattr(r, "label", None)
            return f"{label.rstrip('.')}: {text}" if label else text

        stop_iv = [said(r) for r in rules if isinstance(r.action, (Discontinue, FollowUp, Retest))]
        withdraw = [said(r) for r in rules if isinstance(r.action, Withdraw)]
        # anchors whose event stops treatment or participation (`anchor ... then ...`)
        anchors = self.t.schedule.anchors if self.t.schedule is not None else ()
        for decl in anchors:
            if decl.effect is None:
                continue
            text = f"{(decl.label or decl.name).rstrip('.')}: {self.prose.anchor_effect(decl.effect)}"
            (withdraw if isinstance(decl.effect, Withdraw) else stop_iv).append(text)
        blocks1: list[Block] = [Bullets(stop_iv)] if stop_iv else []
        if any(isinstance(r.action, Discontinue) for r in rules) or any(
                isinstance(d.effect, Discontinue) for d in anchors):
            blocks1.append(Para("Participants who discontinue trial intervention remain in the trial and follow the schedule of activities for follow-up."))
        blocks2: list[Block] = [Bullets(withdraw)] if withdraw else []
        if withdraw:
            blocks2.append(Para("No further assessments are planned after withdrawal."))
        return _section(
            "7",
            "Participant Discontinuation of Trial Intervention and Discontinuation or Withdrawal from Trial",
            [],
            [
                _section("7.1", "Discontinuation of Trial Intervention for Individual Participants", blocks1),
                _section("7.2", "Discontinuation or Withdrawal from the Trial", blocks2),
            ],
        )

    # ---- 8 assessments -------------------------------------------------------------------

    def assessments(self) -> Section | None:
        t = self.t
        if not t.data:
            return None
        when = self._when_assessed()
        rows = []
        for d in t.data:
            values = ""
            if d.unit:
                values = f"Unit: {_unit(d.unit)}"
            if d.values:
                values = "Values: " + ", ".join(d.values)
            if d.low is not None or d.high is not None:
                rng = f"Range: {num(d.low) if d.low is not None else ''} to {num(d.high) if d.high is not None else ''}"
                values = (values + "; " if values else "") + rng
            if d.attributes:
                values = (values + "; " if values else "") + "Attributes: " + ", ".join(d.attributes)
            rows.append([self.terms.term_full(d.name), _KIND_LABEL.get(d.kind.value, d.kind.value), values, when.get(d.name, "")])
        header = ["Data item", "Kind", "Unit or values", "When collected"]
        return _section(
            "8",
            "Trial Assessments and Procedures",
            [],
            [
                _section(
                    "8.1",
                    "Trial Assessments and Procedures Considerations",
                    [
                        Para("The protocol refers to the following data. Timing follows the schedule of activities (Section 1.3)."),
                        Table("Data items", header, rows),
                    ],
                )
            ],
        )

    def _when_assessed(self) -> dict[str, str]:
        sched = self.t.schedule
        out: dict[str, list[str]] = {}
        if sched is None:
            return {}
        for v in sched.visits:
            for name in v.activities:
                out.setdefault(name, []).append(v.label)
        for a in sched.activities:
            if a.kind is ActivityKind.DOSE:
                continue
            for name in a.items:
                out.setdefault(name, []).append(self.prose.activity_timing(a))
        for block in sched.cycles:
            for a in block.items:
                if a.kind is ActivityKind.DOSE:
                    continue
                for name in a.items:
                    out.setdefault(name, []).append(
                        self.prose.activity_timing(a).replace("each cycle",
                                                              lower_first(block.label)))
        for tblock in sched.timepoints:
            for act in tblock.items:
                for name in act.items:
                    out.setdefault(name, []).append(self.prose.timed_activity(act, tblock))
        periods = sched.periods
        if periods is not None:
            each = f"of each {lower_first(periods.label)}"
            for v in periods.visits:
                for name in v.activities:
                    out.setdefault(name, []).append(f"{v.label} {each}")
            for a in periods.activities:
                if a.kind is ActivityKind.DOSE:
                    continue
                for name in a.items:
                    out.setdefault(name, []).append(f"{self.prose.activity_timing(a)} {each}")
        return {k: "; ".join(v) for k, v in out.items()}

    # ---- 10 statistics -------------------------------------------------------------------

    def _boundary_tables(self) -> bool:
        """Whether Section 10.9 prints at least one boundary table (a design that cannot be
        solved, or a rule without the numbers to tabulate, prints none)."""
        t = self.t
        return any(interim_table(r) is not None for r in t.stopping.interim_rules) or any(
            safety_table(t, s) is not None for s in t.stopping.safety_rules
        )

    def statistics(self) -> Section | None:
        t = self.t
        interim: list[Block] = []
        for r in t.stopping.interim_rules:
            interim.append(Para(self.prose.rule(r)))
            table = interim_table(r)
            if table is not None:
                interim.append(_table(table))
            problem = design_problem(r)
            if problem is not None:
                interim.append(Para(f"The boundaries of this design cannot be computed: {problem.rstrip('.')}."))
            plot = interim_plot(r)
            if plot is not None:
                interim.append(Figure(plot, f"Figure. Boundaries for {r.label or r.name}"))
        for s in t.stopping.safety_rules:
            interim.append(Para(self.prose.rule(s)))
            table = safety_table(t, s)
            if table is not None:
                interim.append(_table(table))
        size: list[Block] = []
        for r in t.stopping.interim_rules:
            justification = sample_size_blocks(t, r)
            if justification is not None:
                paras, numbers = justification
                size += [Para(p) for p in paras]
                size.append(_table(numbers))
        if t.enrollment is not None and not size:
            size.append(Para(f"The planned number of participants is {t.enrollment}."))
        return _section(
            "10",
            "Statistical Considerations",
            [],
            [
                _section("10.9", "Interim Analyses", interim),
                _section("10.11", "Sample Size Determination", size),
            ],
        )

    # ---- 13 glossary ---------------------------------------------------------------------

    def glossary(self) -> Section | None:
        pairs = dict(self.terms.abbreviations())
        limits = set()
        for c in self.t.eligibility.criteria:
            limits |= _limits(c.expr)
        for r in self.t.stopping.patient_rules:
            limits |= _limits(r.condition)
        if "ULN" in limits:
            pairs["ULN"] = "Upper limit of normal (of the laboratory's reference range)"
        if "LLN" in limits:
            pairs["LLN"] = "Lower limit of normal (of the laboratory's reference range)"
        if self.grid is not None:
            pairs.setdefault("X", "Activity performed at this visit (schedule of activities)")
        if not pairs:
            return None
        rows = [[k, v] for k, v in sorted(pairs.items(), key=lambda kv: kv[0].lower())]
        return _section("13", "Appendix: Glossary of Terms and Abbreviations", [Table("Abbreviations", ["Abbreviation", "Definition"], rows)])


_KIND_LABEL = {
    "lab": "Laboratory test",
    "vital": "Vital sign",
    "score": "Score",
    "category": "Categorical",
    "marker": "Marker",
    "event": "Event",
    "condition": "Condition",
    "procedure": "Procedure",
}


def _unit(code: str) -> str:
    from render.terms import unit_display

    shown = unit_display(code)
    return shown.lstrip("× ") if shown.startswith("×") else shown


def _limits(e: Expr | None) -> set[str]:
    import attrs

    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, RelativeLimit):
            found.add(node.limit.value)
            return
        if attrs.has(type(node)):
            for f in attrs.fields(type(node)):  # type: ignore[arg-type]
                visit(getattr(node, f.name))
        elif isinstance(node, tuple):
            for x in node:
                visit(x)

    visit(e)
    return found


def _table(t: NumberTable) -> Table:
    return Table(t.caption, t.header, t.rows, t.note)


def _site(s: object) -> str:
    parts = [getattr(s, "facility", "")]
    for attr in ("city", "country"):
        v = getattr(s, attr, None)
        if v:
            parts.append(v)
    return ", ".join(p for p in parts if p)


def _a(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeio" else "a"


def _count_word(n: int) -> str:
    words = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    return words[n] if 0 <= n < len(words) else str(n)


# The sections of the document each illustrative part covers (ICH M11 numbers, as built above).
ILLUSTRATIVE_SECTIONS: dict[IllustrativePart, tuple[str, ...]] = {
    IllustrativePart.DESIGN: ("4.1", "6.8"),
    IllustrativePart.OBJECTIVES: ("3",),
    IllustrativePart.POPULATION: ("5.1",),
    IllustrativePart.ELIGIBILITY: ("5.2", "5.3"),
    IllustrativePart.INTERVENTIONS: ("6.1", "6.4"),
    IllustrativePart.DATA: ("8",),
    IllustrativePart.SCHEDULE: ("1.3", "8"),
    IllustrativePart.STOPPING: ("4.3", "7.1", "7.2", "10.9"),
    IllustrativePart.SAMPLE_SIZE: ("10.11",),
}
PART_WORDS = {
    IllustrativePart.DESIGN: "design details such as the allocation ratio",
    IllustrativePart.OBJECTIVES: "the objectives and endpoints",
    IllustrativePart.POPULATION: "the population",
    IllustrativePart.ELIGIBILITY: "the eligibility criteria",
    IllustrativePart.INTERVENTIONS: "the interventions",
    IllustrativePart.DATA: "the data definitions",
    IllustrativePart.SCHEDULE: "the schedule of activities",
    IllustrativePart.STOPPING: "the stopping and discontinuation rules",
    IllustrativePart.SAMPLE_SIZE: "the sample-size justification",
}


PLURAL_PARTS = frozenset({
    IllustrativePart.DESIGN, IllustrativePart.OBJECTIVES, IllustrativePart.ELIGIBILITY,
    IllustrativePart.INTERVENTIONS, IllustrativePart.DATA, IllustrativePart.STOPPING})


def _mark_illustrative(doc: Document, trial: Trial) -> None:
    """A notice on the title page naming every illustrative part, and one at the top of each
    section such a part covers, quoting the protocol's note."""
    if not trial.illustrative:
        return
    ident = trial.identifier("nct") or trial.name
    for mark in trial.illustrative:
        parts = join_and([PART_WORDS[p] for p in mark.parts])
        doc.title_page.notices.append(Notice(
            "Illustrative content",
            f"Not everything in this document is from the protocol of {ident}: "
            f"{parts} {'are' if len(mark.parts) > 1 or mark.parts[0] in PLURAL_PARTS else 'is'} "
            f"illustrative. {mark.note}"))
    by_number = {s.number: s for s in doc.all_sections()}
    covering: dict[str, list[IllustrativePart]] = {}
    for mark in trial.illustrative:
        for part in mark.parts:
            for number in ILLUSTRATIVE_SECTIONS[part]:
                if number in by_number and part not in covering.setdefault(number, []):
                    covering[number].append(part)
    for number, covered in covering.items():
        what = join_and([PART_WORDS[p] for p in covered])
        verb = "are" if len(covered) > 1 or covered[0] in PLURAL_PARTS else "is"
        by_number[number].blocks.insert(0, Notice(
            "Illustrative",
            f"{what[0].upper()}{what[1:]} in this section {verb} not from the protocol of "
            f"{ident}: see the notice on the title page."))


def build_document(trial: Trial) -> Document:
    """The protocol document of `trial`, ready for any output format."""
    return _Builder(trial).build()
