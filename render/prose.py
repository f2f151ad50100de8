"""Protocol sentences from the model: criteria, stopping rules, regimens and schedule timing.

`criterion_text` is what the document prints for a criterion the author gave no words for;
`rule_text` is how a stopping rule reads; `check_text_vs_expr` flags numbers on which the
author's words and the computable expression disagree.
"""

from __future__ import annotations

import re

import attrs

from protocol.design import DoseStep, Frequency, Regimen
from protocol.eligibility import Criterion
from protocol.expr import (
    Aggregate,
    AggregateFn,
    And,
    Attested,
    BoolLiteral,
    Compare,
    CompareOp,
    Consecutive,
    Continuous,
    Count,
    CountDistinct,
    Direction,
    Exists,
    Expr,
    InRange,
    InSet,
    Lasting,
    LogReduction,
    LogRise,
    Name,
    Not,
    OngoingAt,
    Or,
    QuantityLiteral,
    Relative,
    RelativeLimit,
    Selection,
    Statistic,
    StatisticFn,
    StringLiteral,
    Temporal,
    Test,
    TestKind,
    Within,
)
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AsNeeded,
    AtDay,
    AtTimes,
    CycleDays,
    DayRange,
    OnEach,
    OnEvent,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    Visit,
    VisitTiming,
)
from protocol.stopping import (
    BayesianStop,
    BinomialStop,
    BoundaryFamily,
    Discontinue,
    FollowUp,
    InterimRule,
    PatientRule,
    Retest,
    SafetyRule,
    SprtStop,
    StoppingRule,
    Withdraw,
)
from protocol.timing import DEFAULT_CALENDAR, Calendar, Duration, TimeUnit
from protocol.trial import Trial
from protocol.vocab import DataKind
from render.terms import (
    Terms,
    daypoint_text,
    duration_text,
    join_and,
    num,
    op_symbol,
    plural,
    points_text,
    quantity_display,
    sentence_case,
    signed,
    window_text,
)

__all__ = [
    "Finding",
    "Prose",
    "check_text_vs_expr",
    "criterion_text",
    "rule_text",
]

_COUNT_OPS = {
    CompareOp.GE: "at least",
    CompareOp.GT: "more than",
    CompareOp.LE: "at most",
    CompareOp.LT: "fewer than",
    CompareOp.EQ: "exactly",
    CompareOp.NE: "other than",
}

_WORD_OPS = {
    CompareOp.GE: "at least",
    CompareOp.GT: "more than",
    CompareOp.LE: "at most",
    CompareOp.LT: "less than",
    CompareOp.EQ: "exactly",
    CompareOp.NE: "other than",
}

_FAMILY_NAMES = {
    "obrien_fleming": "O'Brien–Fleming",
    "obf": "O'Brien–Fleming",
    "pocock": "Pocock",
    "haybittle_peto": "Haybittle–Peto",
    "wang_tsiatis": "Wang–Tsiatis",
    "ld_obf": "Lan–DeMets O'Brien–Fleming-type spending function",
    "lan_demets_obrien_fleming": "Lan–DeMets O'Brien–Fleming-type spending function",
    "ld_pocock": "Lan–DeMets Pocock-type spending function",
    "lan_demets_pocock": "Lan–DeMets Pocock-type spending function",
    "hsd": "Hwang–Shih–DeCani spending function",
    "hwang_shih_decani": "Hwang–Shih–DeCani spending function",
    "power": "power spending function",
    "kim_demets": "Kim–DeMets power spending function",
    "pampallona_tsiatis": "Pampallona–Tsiatis",
    "user_spending": "user-defined spending function",
    "z_bounds": "boundary on the Z scale",
}


def family_name(name: str, parameter: float | None = None) -> str:
    base = _FAMILY_NAMES.get(name.replace("-", "_").lower(), name.replace("_", " "))
    if parameter is None:
        return base
    if name == "haybittle_peto":
        return f"{base} (interim boundary Z = {num(parameter)})"
    symbol = {"hsd": "γ", "hwang_shih_decani": "γ", "wang_tsiatis": "Δ",
              "pampallona_tsiatis": "Δ"}.get(name, "ρ")
    return f"{base} ({symbol} = {num(parameter)})"


def family_text(f: BoundaryFamily) -> str:
    """A boundary family in words, with its parameter or its numbers per look."""
    if f.name == "user_spending":
        return (f"{family_name(f.name)} (cumulative fractions "
                f"{', '.join(num(x) for x in f.values)})")
    if f.name == "z_bounds":
        return f"{family_name(f.name)} (Z = {', '.join(num(x) for x in f.values)})"
    return family_name(f.name, f.parameter)


class Prose:
    """Sentences about one Trial; labels come from its data dictionary, arms and schedule."""

    def __init__(self, trial: Trial):
        self.trial = trial
        self.terms = Terms(trial)

    # ---- expressions -----------------------------------------------------------------------

    def expr(self, e: Expr, nested: bool = False) -> str:
        """A condition as a clause: `ALT ≤ 2.5 × ULN within 14 days before randomization`."""
        if isinstance(e, And):
            parts = [self.expr(x, nested=True) for x in e.operands]
            if any(isinstance(x, (And, Or)) for x in e.operands) or len(parts) > 2:
                return "; ".join(parts[:-1]) + "; and " + parts[-1]
            return join_and(parts)
        if isinstance(e, Or):
            parts = [self.expr(x, nested=True) for x in e.operands]
            body = join_and(parts, "or")
            return f"either {body}" if nested and len(parts) == 2 else body
        if isinstance(e, Not):
            inner = e.operand
            if isinstance(inner, Exists):
                return self.exists(inner, negate=True)
            if isinstance(inner, Attested):
                return "not confirmed by the investigator"
            return f"not ({self.expr(inner, nested=True)})"
        if isinstance(e, Compare):
            return self.compare(e)
        if isinstance(e, InRange):
            return self.in_range(e)
        if isinstance(e, InSet):
            values = [self.literal(v) for v in e.values]
            return f"{self.subject(e.operand)} is {join_and(values, 'or')}{self.when(e.operand)}"
        if isinstance(e, Test):
            return self.test(e)
        if isinstance(e, Exists):
            return self.exists(e)
        if isinstance(e, Continuous):
            return self.continuous(e)
        if isinstance(e, Consecutive):
            op = op_symbol(e.op.value)
            return (
                f"{self.terms.term(e.kind)} {op} {self.value(e.threshold, e.kind)} "
                f"on {num(e.count)} consecutive samples"
            )
        if isinstance(e, LogRise):
            op = _WORD_OPS[e.op]
            logs = "log" if e.logs == 1 else "logs"
            tail = f" on {num(e.count)} consecutive samples" if e.count > 1 else ""
            return (
                f"{self.terms.term(e.kind)} rises by {op} {num(e.logs)} {logs} "
                f"from its lowest earlier value{tail}"
            )
        if isinstance(e, BoolLiteral):
            return "always" if e.value else "never"
        if isinstance(e, Attested):
            return "confirmed by the investigator"
        return self.value(e)

    def subject(self, e: Expr) -> str:
        """The thing compared, without its time qualifier (that goes at the end)."""
        if isinstance(e, Aggregate):
            term = self.terms.term(e.selection.kind)
            fn = {
                AggregateFn.LATEST: "",
                AggregateFn.FIRST: "first ",
                AggregateFn.LOWEST: "lowest ",
                AggregateFn.HIGHEST: "highest ",
            }[e.fn]
            where = self.where(e.selection.where)
            return f"{fn}{term}{where}"
        if isinstance(e, Count):
            sel = e.selection
            return f"number of {plural(self.terms.term(sel.kind))}{self.where(sel.where)}"
        if isinstance(e, LogReduction):
            return f"log₁₀ reduction of {self.terms.term(e.selection.kind)}"
        if isinstance(e, Statistic):
            sel = e.selection
            head = "total" if e.fn is StatisticFn.SUM else "mean"
            if e.attribute is not None:
                return (f"{head} {e.attribute.replace('_', ' ')} of "
                        f"{plural(self.terms.term(sel.kind))}{self.where(sel.where)}")
            return f"{head} {self.terms.term(sel.kind)}{self.where(sel.where)}"
        if isinstance(e, CountDistinct):
            sel = e.selection
            return (f"number of different {e.attribute.replace('_', ' ')} values among "
                    f"{plural(self.terms.term(sel.kind))}{self.where(sel.where)}")
        if isinstance(e, Name):
            return e.name.replace("_", " ")
        return self.value(e)

    def when(self, e: Expr) -> str:
        """The time qualifier of an operand, with a leading space, or nothing."""
        if isinstance(e, (Aggregate, Count, LogReduction, Statistic, CountDistinct)):
            return self.temporal(e.selection.temporal)
        return ""

    def compare(self, c: Compare) -> str:
        left, right, op = c.left, c.right, c.op
        # literal on the left: flip so the subject comes first
        if not _is_operand(left) and _is_operand(right):
            left, right = right, left
            op = _flip(op)
        kind = _kind_of(left)
        if isinstance(left, Count):
            sel = left.selection
            n = self.value(right)
            noun = self.terms.term(sel.kind)
            noun = noun if _is_one(right) and op in (CompareOp.EQ, CompareOp.GE) else plural(noun)
            if op is CompareOp.GE and _is_one(right):
                head = "at least one recorded"
                return f"{head} {noun}{self.where(sel.where)}{self.temporal(sel.temporal)}"
            return (
                f"{_COUNT_OPS[op]} {n} recorded {noun}{self.where(sel.where)}"
                f"{self.temporal(sel.temporal)}"
            )
        if isinstance(left, LogReduction):
            return (
                f"{self.terms.term(left.selection.kind)} reduced by {_WORD_OPS[op]} "
                f"{self.value(right)} log{self.temporal(left.selection.temporal)} "
                "(first to most recent value)"
            )
        if isinstance(right, (StringLiteral, BoolLiteral)):
            subj = self.subject(left)
            if isinstance(left, Aggregate) and left.fn is AggregateFn.LATEST:
                subj = f"most recent {subj}"
            verb = "is" if op is CompareOp.EQ else "is not"
            if isinstance(left, Name):
                if op is CompareOp.EQ and isinstance(right, StringLiteral):
                    return f"{left.name.replace('_', ' ')} {right.value}"
            return f"{subj}{self.when(left)} {verb} {self.literal(right)}"
        subj = self.subject(left)
        return f"{subj} {op_symbol(op.value)} {self.value(right, kind)}{self.when(left)}"

    def in_range(self, r: InRange) -> str:
        low, high = num(r.low), num(r.high)
        if isinstance(r.operand, Count):
            sel = r.operand.selection
            return (
                f"{low} to {high} recorded {plural(self.terms.term(sel.kind))}"
                f"{self.where(sel.where)}{self.temporal(sel.temporal)}"
            )
        kind = _kind_of(r.operand)
        unit = self.terms.unit_of(kind) if kind else None
        high_text = quantity_display(r.high, unit) if unit else high
        return f"{self.subject(r.operand)} {low} to {high_text}{self.when(r.operand)}"

    def test(self, t: Test) -> str:
        subj = self.subject(t.operand)
        when = self.when(t.operand)
        if isinstance(t.operand, Aggregate) and t.operand.fn is AggregateFn.LATEST:
            subj = f"most recent {subj}"
        if t.test is TestKind.DETECTABLE:
            return f"{subj}{when} still detectable"
        if t.test is TestKind.UNDETECTABLE:
            return f"{subj}{when} undetectable"
        if t.test is TestKind.MISSING:
            return f"no {subj.removeprefix('most recent ')} recorded{when}"
        return f"{subj.removeprefix('most recent ')} recorded{when}"

    def exists(self, e: Exists, negate: bool = False, as_event: bool = False) -> str:
        sel = e.selection
        item = self.terms.item(sel.kind)
        term = self.terms.term(sel.kind)
        is_condition = item is not None and item.kind is DataKind.CONDITION
        where = self.where(sel.where)
        when = self.temporal(sel.temporal)
        lasting = self.lasting(e.lasting, as_event) if e.lasting else ""
        if as_event:
            article = _article(term)
            verb = "" if lasting else (" is recorded" if is_condition else " occurs")
            return f"{article} {term}{where}{when}{lasting}{verb}"
        if negate:
            return f"no recorded {term}{where}{when}{lasting}"
        if is_condition:
            if isinstance(sel.temporal, Relative):
                return f"{term}{where} recorded{when}{lasting}"
            return f"{term}{where}{when}{lasting}"
        return f"at least one recorded {term}{where}{when}{lasting}"

    def continuous(self, e: Continuous) -> str:
        """`metformin with daily dose ≥ 1500 taken without interruption for at least 3 months
        before Day 1, at a stable daily dose (interruptions of up to 7 days allowed)`."""
        sel = e.selection
        text = (f"{self.terms.term(sel.kind)}{self.where(sel.where)} taken without interruption "
                f"for at least {duration_text(e.duration)} before "
                f"{self.terms.anchor(e.anchor)}")
        if e.unchanged is not None:
            text += f", at a stable {e.unchanged.replace('_', ' ')}"
        if e.gap is not None:
            text += f" (interruptions of up to {duration_text(e.gap)} allowed)"
        return text

    def lasting(self, lasting: Lasting, as_event: bool = False) -> str:
        word = _WORD_OPS[lasting.op]
        verb = "lasts" if as_event else "lasting"
        return f" {verb} {word} {duration_text(lasting.duration)}"

    def where(self, w: Expr | None) -> str:
        """A condition on the events themselves: ` of grade ≥ 3 related to X`."""
        if w is None:
            return ""
        parts = _conjuncts(w)
        phrases: list[str] = []
        for p in parts:
            phrases.append(self.attribute_phrase(p))
        out = ""
        for i, ph in enumerate(phrases):
            if i == 0:
                out += " " + ph
            elif ph.startswith(("related to", "of ", "with ")):
                out += (" and " if ph.startswith("with ") and phrases[i - 1].startswith("with ") else " ") + ph
            else:
                out += " and " + ph
        return out

    def attribute_phrase(self, p: Expr) -> str:
        if isinstance(p, Compare) and isinstance(p.left, Name):
            attr = p.left.name
            if attr == "related" and p.op is CompareOp.EQ and isinstance(p.right, StringLiteral):
                return f"related to {self.terms.intervention(p.right.value)}"
            if attr == "grade":
                return f"of grade {op_symbol(p.op.value)} {self.value(p.right)}"
            if p.op is CompareOp.EQ:
                return f"with {attr.replace('_', ' ')} {self.value(p.right)}"
            return f"with {attr.replace('_', ' ')} {op_symbol(p.op.value)} {self.value(p.right)}"
        if isinstance(p, InSet) and isinstance(p.operand, Name):
            values = join_and([self.literal(v) for v in p.values], "or")
            return f"with {p.operand.name.replace('_', ' ')} {values}"
        return f"where {self.expr(p, nested=True)}"

    def temporal(self, t: Temporal | None) -> str:
        if t is None:
            return ""
        if isinstance(t, Within):
            d = "before" if t.direction is Direction.BEFORE else "after"
            if t.strict:  # the far bound excluded: less than N days
                return f" less than {duration_text(t.duration)} {d} {self.terms.anchor(t.anchor)}"
            return f" within {duration_text(t.duration)} {d} {self.terms.anchor(t.anchor)}"
        if isinstance(t, Relative):
            d = "before" if t.direction is Direction.BEFORE else "after"
            if t.strict:
                return f" {d} the day of {self.terms.anchor(t.anchor)}"
            return f" {d} {self.terms.anchor(t.anchor)}"
        assert isinstance(t, OngoingAt)
        return f" ongoing at {self.terms.anchor(t.anchor)}"

    def literal(self, v: Expr) -> str:
        if isinstance(v, StringLiteral):
            return v.value
        if isinstance(v, BoolLiteral):
            return "yes" if v.value else "no"
        return self.value(v)

    def value(self, v: Expr, kind: str | None = None) -> str:
        if isinstance(v, QuantityLiteral):
            return quantity_display(v.quantity.value, v.quantity.unit)
        if isinstance(v, RelativeLimit):
            return f"{num(v.multiple)} × {v.limit.value}"
        if isinstance(v, StringLiteral):
            return v.value
        if isinstance(v, BoolLiteral):
            return "yes" if v.value else "no"
        if isinstance(v, Name):
            return v.name.replace("_", " ")
        return self.expr(v, nested=True)

    # ---- criteria and rules ----------------------------------------------------------------

    def criterion(self, c: Criterion) -> str:
        """The author's words, or a sentence generated from the expression."""
        if c.text:
            return c.text
        return self.generated(c)

    def generated(self, c: Criterion) -> str:
        return sentence_case(self.expr(c.expr)) + "."

    def rule(self, r: StoppingRule) -> str:
        if isinstance(r, PatientRule):
            return self.patient_rule(r)
        if isinstance(r, InterimRule):
            return self.interim_rule(r)
        return self.safety_rule(r)

    def condition_as_event(self, e: Expr) -> str:
        """A condition read as something that happens: `an adverse event ... lasts more than 14 days`."""
        if isinstance(e, Exists):
            return self.exists(e, as_event=True)
        if isinstance(e, Or):
            return join_and([self.condition_as_event(x) for x in e.operands], "or")
        return self.expr(e)

    def anchor_effect(self, a: Discontinue | Withdraw | FollowUp) -> str:
        """What an anchor's event does (`anchor ... then ...`), as a sentence."""
        if isinstance(a, Discontinue):
            if a.interventions:
                what = join_and([self.terms.intervention(i) for i in a.interventions])
                return f"{what} is discontinued; the participant stays in the trial."
            return "Trial intervention is discontinued; the participant stays in the trial."
        if isinstance(a, Withdraw):
            return "The participant is withdrawn from the trial."
        return "Trial intervention stops and the participant moves to follow-up."

    def patient_rule(self, r: PatientRule) -> str:
        cond = self.condition_as_event(r.condition)
        a = r.action
        if isinstance(a, Discontinue):
            what = join_and([self.terms.intervention(i) for i in a.interventions])
            head = f"Discontinue {what} if {cond}"
        elif isinstance(a, Withdraw):
            head = f"Withdraw the participant from the trial if {cond}"
        elif isinstance(a, FollowUp):
            head = f"Stop trial intervention and move the participant to follow-up if {cond}"
        else:
            assert isinstance(a, Retest)
            head = (
                f"Repeat {self.terms.term(a.kind)} within {duration_text(a.within)} if {cond}"
            )
        if r.unless is not None:
            u = r.unless
            head += (
                f", unless a repeat {self.terms.term(u.kind)} within {duration_text(u.within)} "
                f"has fallen by at least {num(u.percent)}%"
            )
        return head + "."

    def interim_rule(self, r: InterimRule) -> str:
        what = r.label or r.name.replace("_", " ")
        fractions = [f"{num(round(f * 100, 4))}%" for f in r.information]
        looks = len(r.information)
        interim = fractions[:-1] if r.information and r.information[-1] == 1 else fractions
        eff = r.efficacy
        sided = "two-sided" if eff.sides == 2 else "one-sided"
        events = f" ({r.planned_events} events at the final analysis)" if r.planned_events else ""
        if interim and len(interim) < looks:
            timing = (
                f"{'An interim analysis' if len(interim) == 1 else 'Interim analyses'} of "
                f"{lower_label(what)} will be performed at {join_and(interim)} of the planned "
                f"information{events}, with the final analysis at 100%."
            )
        else:
            timing = (
                f"Analyses of {lower_label(what)} will be performed at {join_and(fractions)} "
                f"of the planned information{events}."
            )
        bound = (
            f" The trial may stop early for efficacy if the {family_text(eff.family)} "
            f"boundary is crossed (overall {sided} α = {num(eff.alpha)})."
        )
        fut = ""
        if r.futility is not None:
            f = r.futility
            binding = "binding" if f.binding else "non-binding"
            beta = f", β = {num(f.beta)}" if f.beta is not None else ""
            fut = (
                f" A {binding} futility boundary ({family_text(f.family)}{beta}) allows "
                "stopping for lack of benefit."
            )
        return timing + bound + fut

    def safety_rule(self, r: SafetyRule) -> str:
        who = "participants"
        if r.arms:
            who = f"participants in the {join_and([self.terms.arm(a) for a in r.arms])}"
        event = self.expr(r.event)
        m = r.method
        if isinstance(m, BayesianStop):
            how = (
                f"the posterior probability that the true rate exceeds {pct(m.threshold)} is "
                f"greater than {pct(m.probability)}, under a Beta({num(m.prior_a)}, {num(m.prior_b)}) prior"
            )
        elif isinstance(m, BinomialStop):
            how = (
                f"an exact one-sided binomial test rejects a rate of at most {pct(m.threshold)} "
                f"at level {num(m.alpha)}"
            )
        else:
            assert isinstance(m, SprtStop)
            how = (
                f"a truncated sequential probability ratio test of {pct(m.p0)} against {pct(m.p1)} "
                f"(α = {num(m.alpha)}, β = {num(m.beta)}, at most {m.max_patients} participants) "
                "rejects the lower rate"
            )
        if r.looks:
            whom = "participants"
            if r.arms:
                whom += f" of the {join_and([self.terms.arm(a) for a in r.arms])}"
            when = f"is reviewed after {join_and([str(n) for n in r.looks])} {whom} have been evaluated"
        else:
            when = "is monitored continuously (after each participant)"
        return f"The number of {who} with {event} {when}; enrolment will be stopped if {how}."

    # ---- interventions and schedule --------------------------------------------------------

    def frequency(self, f: Frequency | None) -> str:
        if f is None:
            return ""
        if f.interval is None:
            return "once"
        iv = f.interval
        if iv.amount == 1:
            return {
                TimeUnit.DAY: "daily",
                TimeUnit.WEEK: "weekly",
                TimeUnit.MONTH: "monthly",
                TimeUnit.HOUR: "hourly",
                TimeUnit.MINUTE: "every minute",
                TimeUnit.YEAR: "yearly",
            }[iv.unit]
        return f"every {duration_text(iv)}"

    def dose_step(self, s: DoseStep) -> str:
        parts = [quantity_display(s.amount.value, s.amount.unit)]
        if s.route is not None:
            parts.append(s.route.value.replace("_", " "))
        freq = self.frequency(s.frequency)
        if freq:
            parts.append(freq)
        if s.duration is not None:
            parts.append(f"for {duration_text(s.duration)}")
        text = " ".join(parts)
        if s.label:
            text = f"{text} ({s.label})"
        return text

    def regimen(self, r: Regimen | None) -> str:
        if r is None or not r.steps:
            return ""
        return ", then ".join(self.dose_step(s) for s in r.steps)

    def visit_timing(self, t: VisitTiming) -> str:
        if isinstance(t, AtDay):
            return daypoint_text(t.point)
        if isinstance(t, DayRange):
            if t.start.unit == t.end.unit:
                return f"{t.start.unit.value}s {signed(t.start.value)} to {signed(t.end.value)}"
            return f"{daypoint_text(t.start)} to {daypoint_text(t.end)}"
        if isinstance(t, AfterAnchor):
            off = t.offset
            if off.amount < 0:
                back = Duration(-off.amount, off.unit)
                return f"{duration_text(back)} before {self.terms.anchor(t.anchor)}"
            return f"{duration_text(off)} after {self.terms.anchor(t.anchor)}"
        if isinstance(t, OnEvent):
            return f"at {self.terms.anchor_name(t.event)}"
        if isinstance(t, OnEach):
            sel = t.selection
            return f"after each {self.terms.term(sel.kind)}{self.where(sel.where)}"
        assert isinstance(t, AsNeeded)
        return "as needed"

    def activity_timing(self, a: Activity) -> str:
        t = a.timing
        if isinstance(t, AtTimes):
            text = f"at {points_text(t.points)}"
        elif isinstance(t, CycleDays):
            days = join_and([str(d) for d in t.days])
            text = f"on day{'s' if len(t.days) > 1 else ''} {days} of each cycle"
        else:
            assert isinstance(t, Repeat)
            text = self.repeat(t)
        w = window_text(a.window)
        return f"{text} ({w})" if w else text

    def repeat(self, t: Repeat) -> str:
        every = t.every
        head = "every " + (every.unit.value if every.amount == 1 else duration_text(every))
        head += f" from {daypoint_text(t.start)}"
        end = t.end
        if isinstance(end, RepeatFor):
            head += f" for {duration_text(end.duration)}"
        elif isinstance(end, RepeatUntil):
            head += f" until {self.terms.anchor(end.anchor)}"
        else:
            assert isinstance(end, RepeatTimes)
            head += f", {end.times} times"
        return head

    def visit_when(self, v: Visit) -> str:
        text = self.visit_timing(v.timing)
        w = window_text(v.window)
        return f"{text} ({w})" if w else text


def lower_label(text: str) -> str:
    from render.terms import lower_first

    return lower_first(text)


def pct(p: float) -> str:
    return f"{num(round(p * 100, 6))}%"


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, And):
        out: list[Expr] = []
        for x in e.operands:
            out.extend(_conjuncts(x))
        return out
    return [e]


def _is_operand(e: Expr) -> bool:
    return isinstance(e, (Aggregate, Count, LogReduction, Name, Statistic, CountDistinct))


def _is_one(e: Expr) -> bool:
    return isinstance(e, QuantityLiteral) and e.quantity.value == 1


def _kind_of(e: Expr) -> str | None:
    if isinstance(e, (Aggregate, Count, LogReduction)):
        return e.selection.kind
    if isinstance(e, Statistic) and e.attribute is None:
        return e.selection.kind
    return None


def _flip(op: CompareOp) -> CompareOp:
    return {
        CompareOp.LT: CompareOp.GT,
        CompareOp.LE: CompareOp.GE,
        CompareOp.GT: CompareOp.LT,
        CompareOp.GE: CompareOp.LE,
        CompareOp.EQ: CompareOp.EQ,
        CompareOp.NE: CompareOp.NE,
    }[op]


def criterion_text(trial: Trial, criterion: Criterion) -> str:
    """The criterion as the document prints it: the author's words, else generated prose."""
    return Prose(trial).criterion(criterion)


def rule_text(trial: Trial, rule: StoppingRule) -> str:
    return Prose(trial).rule(rule)


# ---- the author's words against the expression ------------------------------------------------


@attrs.frozen
class Finding:
    """A number the criterion's text states that its expression does not have."""

    criterion: str
    message: str
    text_value: str
    expr_values: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.criterion}: {self.message}"


@attrs.frozen
class _Fact:
    """A number in text or expression, with what kind of number it is."""

    kind: str  # "limit", "range", "duration", "quantity", "plain"
    value: float
    high: float | None = None  # ranges
    limit: str | None = None  # ULN / LLN
    unit: str | None = None  # time unit word or measurement unit
    op: str | None = None  # comparison in canonical symbols: < <= > >= ==
    shown: str = ""


_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a": 1,
    "an": 1,
}
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(k for k in _NUMBER_WORDS if len(k) > 2) + r")"
_UCUM_TIME = {"a": "year", "mo": "month", "wk": "week", "d": "day", "h": "hour", "min": "minute"}
_TIME_UNITS = {
    "minute": TimeUnit.MINUTE,
    "hour": TimeUnit.HOUR,
    "day": TimeUnit.DAY,
    "week": TimeUnit.WEEK,
    "month": TimeUnit.MONTH,
    "year": TimeUnit.YEAR,
}
_OP_WORDS = [
    (r"≤|<=|=<|⩽|no more than|not more than|at most|up to|not exceeding", "<="),
    (r"≥|>=|=>|⩾|at least|no less than|not less than|a minimum of", ">="),
    (r"<|less than|lower than|below|fewer than|under", "<"),
    (r">|more than|greater than|higher than|above|exceeding|over", ">"),
]
_LIMIT_RE = re.compile(
    rf"(?P<n>{_NUM})\s*(?:x|×|\*|times|fold)\s*(?:the\s+)?"
    r"(?P<lim>ULN|LLN|upper limits? of (?:the )?normal(?: range)?|lower limits? of (?:the )?normal(?: range)?)",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(
    rf"(?<![\w.])(?:between\s+)?(?P<a>{_NUM})\s*(?:-|–|—|to|and|through)\s*(?P<b>{_NUM})(?![\w.])"
    r"(?:\s*(?P<unit>hours?|days?|weeks?|months?|years?)\b)?",
    re.IGNORECASE,
)
_DURATION_RE = re.compile(
    rf"(?<![\w.])(?P<n>{_NUM}|a|an)\s+(?P<unit>hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_PLAIN_RE = re.compile(r"(?<![\w.:])(?P<n>\d+(?:\.\d+)?)(?![\w.]*\d)(?!\w)")


def _to_float(token: str) -> float:
    t = token.lower()
    return float(_NUMBER_WORDS[t]) if t in _NUMBER_WORDS else float(t)


def _op_before(text: str, start: int) -> str | None:
    """The comparison written just before a number (`≤ 2.5`, `at least 2`)."""
    head = text[max(0, start - 24) : start].rstrip().lower()
    for pattern, op in _OP_WORDS:
        if re.search(rf"(?:{pattern})$", head):
            return op
    return None


def _text_facts(text: str) -> list[_Fact]:
    facts: list[_Fact] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    for m in _LIMIT_RE.finditer(text):
        lim = m.group("lim").upper()
        limit = "ULN" if lim.startswith(("ULN", "UPPER")) else "LLN"
        facts.append(
            _Fact(
                "limit",
                _to_float(m.group("n")),
                limit=limit,
                op=_op_before(text, m.start()),
                shown=m.group(0),
            )
        )
        taken.append(m.span())
    for m in _RANGE_RE.finditer(text):
        if not free(*m.span()):
            continue
        a, b = _to_float(m.group("a")), _to_float(m.group("b"))
        if a >= b:
            continue
        unit = m.group("unit")
        facts.append(
            _Fact(
                "range",
                a,
                high=b,
                unit=unit.lower().rstrip("s") if unit else None,
                shown=m.group(0).strip(),
            )
        )
        taken.append(m.span())
    for m in _DURATION_RE.finditer(text):
        if not free(*m.span()):
            continue
        facts.append(
            _Fact(
                "duration",
                _to_float(m.group("n")),
                unit=m.group("unit").lower().rstrip("s"),
                op=_op_before(text, m.start()),
                shown=m.group(0),
            )
        )
        taken.append(m.span())
    for m in _PLAIN_RE.finditer(text):
        if not free(*m.span()):
            continue
        facts.append(
            _Fact("plain", float(m.group("n")), op=_op_before(text, m.start()), shown=m.group(0))
        )
    return facts


def _expr_facts(e: Expr | None, out: list[_Fact]) -> None:
    if e is None:
        return
    if isinstance(e, (And, Or)):
        for x in e.operands:
            _expr_facts(x, out)
    elif isinstance(e, Not):
        _expr_facts(e.operand, out)
    elif isinstance(e, Compare):
        left, right, op = e.left, e.right, e.op
        if not _is_operand(left) and _is_operand(right):
            left, right, op = right, left, _flip(op)
        _expr_facts(left, out)
        if isinstance(right, RelativeLimit):
            out.append(
                _Fact(
                    "limit",
                    right.multiple,
                    limit=right.limit.value,
                    op=op.value,
                    shown=f"{op_symbol(op.value)} {num(right.multiple)} × {right.limit.value}",
                )
            )
        elif isinstance(right, QuantityLiteral):
            q = right.quantity
            out.append(
                _Fact(
                    "quantity",
                    q.value,
                    unit=q.unit,
                    op=op.value,
                    shown=f"{op_symbol(op.value)} {quantity_display(q.value, q.unit)}",
                )
            )
        else:
            _expr_facts(right, out)
    elif isinstance(e, InRange):
        _expr_facts(e.operand, out)
        out.append(
            _Fact("range", e.low, high=e.high, shown=f"in {num(e.low)}..{num(e.high)}")
        )
    elif isinstance(e, InSet):
        _expr_facts(e.operand, out)
    elif isinstance(e, Test):
        _expr_facts(e.operand, out)
    elif isinstance(e, (Aggregate, Count, LogReduction, Statistic, CountDistinct)):
        _selection_facts(e.selection, out)
    elif isinstance(e, Continuous):
        _selection_facts(e.selection, out)
        _duration_fact(e.duration, out, None)
        if e.gap is not None:
            _duration_fact(e.gap, out, None)
    elif isinstance(e, Exists):
        _selection_facts(e.selection, out)
        if e.lasting is not None:
            _duration_fact(e.lasting.duration, out, e.lasting.op.value)
    elif isinstance(e, Consecutive):
        _expr_facts(e.threshold, out)
        out.append(_Fact("plain", float(e.count), shown=f"{e.count} consecutive"))
    elif isinstance(e, LogRise):
        out.append(_Fact("plain", e.logs, op=e.op.value, shown=f"{num(e.logs)} log"))
        out.append(_Fact("plain", float(e.count), shown=f"{e.count} consecutive"))


def _selection_facts(sel: Selection, out: list[_Fact]) -> None:
    t = sel.temporal
    if isinstance(t, Within):
        _duration_fact(t.duration, out, None)
    _expr_facts(sel.where, out)


def _duration_fact(d: Duration, out: list[_Fact], op: str | None) -> None:
    out.append(
        _Fact("duration", d.amount, unit=d.unit.value, op=op, shown=duration_text(d))
    )


def _days(value: float, unit: str | None, calendar: Calendar) -> float | None:
    if unit is None or unit not in _TIME_UNITS:
        return None
    return calendar.days(value, _TIME_UNITS[unit])


def _same_op(text_op: str | None, expr_op: str | None) -> bool:
    if text_op is None or expr_op is None:
        return True
    return text_op == expr_op


def _matches(t: _Fact, x: _Fact, calendar: Calendar) -> bool:
    if t.kind == "limit":
        return x.kind == "limit" and x.limit == t.limit and x.value == t.value
    if t.kind == "range":
        if x.kind == "range":
            return x.value == t.value and x.high == t.high
        return False
    if t.kind == "duration":
        if x.kind == "quantity" and x.unit in _UCUM_TIME:
            x = attrs.evolve(x, kind="duration", unit=_UCUM_TIME[x.unit])
        if x.kind != "duration":
            return False
        if x.unit == t.unit and x.value == t.value:
            return True
        a, b = _days(t.value, t.unit, calendar), _days(x.value, x.unit, calendar)
        return a is not None and b is not None and abs(a - b) < 1e-9
    # plain number: any number of the expression with that value
    if x.kind == "range":
        return t.value in (x.value, x.high)
    return x.value == t.value


def check_text_vs_expr(
    criterion: Criterion, calendar: Calendar = DEFAULT_CALENDAR
) -> list[Finding]:
    """Numbers in the criterion's text that its expression does not state the same way.

    Each number of the text (a multiple of ULN or LLN, a range `1-2`, a duration `one month`,
    a plain number) must appear in the expression with the same value (durations compared in
    days through `calendar`) and, where the text writes a comparison (`≤`, `at least`), with the
    same comparison. Numbers of the expression that the text does not mention are not findings:
    expressions are routinely more precise than their words (a look-back window, say).
    """
    if not criterion.text:
        return []
    texts = _text_facts(criterion.text)
    exprs: list[_Fact] = []
    _expr_facts(criterion.expr, exprs)
    findings: list[Finding] = []
    for t in texts:
        matched = [x for x in exprs if _matches(t, x, calendar)]
        # a range in words may be the two ends of a pair of comparisons
        if not matched and t.kind == "range":
            lows = [x for x in exprs if x.kind != "range" and x.value == t.value]
            highs = [x for x in exprs if x.kind != "range" and x.value == t.high]
            if lows and highs:
                continue
        if not matched:
            if t.kind == "plain" and t.value > 1900:  # a year, not a threshold
                continue
            same_kind = [x for x in exprs if x.kind == t.kind or (t.kind == "plain")]
            if t.kind == "limit":
                same_kind = [x for x in exprs if x.kind == "limit" and x.limit == t.limit]
            if t.kind == "plain" and not same_kind:
                continue
            shown = tuple(x.shown for x in same_kind)
            where = f"; the expression has {', '.join(shown)}" if shown else (
                "; the expression has no such number"
            )
            findings.append(
                Finding(
                    criterion.id,
                    f"the text says '{t.shown}'{where}",
                    t.shown,
                    shown,
                )
            )
            continue
        if t.op is not None and not any(_same_op(t.op, x.op) for x in matched):
            ops = sorted({op_symbol(x.op) for x in matched if x.op})
            findings.append(
                Finding(
                    criterion.id,
                    f"the text says {op_symbol(t.op)} {t.shown}; the expression compares with "
                    f"{', '.join(ops)}",
                    t.shown,
                    tuple(x.shown for x in matched),
                )
            )
    return findings


