"""Protocol sentences from the model: criteria, stopping rules, regimens and schedule timing.

`criterion_text` is what the document prints for a criterion the author gave no words for;
`rule_text` is how a stopping rule reads. (render.wording flags numbers on which the author's
words and the computable expression disagree.)
"""

from __future__ import annotations

import re

import attrs

from protocol import expr as ex
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
    Statistic,
    StatisticFn,
    StringLiteral,
    Temporal,
    Test,
    TestKind,
    Within,
    WithinLongest,
)
from protocol.formulas import FORMULAS, MATH_FUNCTIONS, Formula, MathFunction
from protocol.schedule import (
    Activity,
    AfterAnchor,
    AsNeeded,
    AtDay,
    AtTimes,
    CycleDays,
    DayRange,
    DoseOnDays,
    OnEach,
    OnEvent,
    Repeat,
    RepeatFor,
    RepeatTimes,
    RepeatUntil,
    TimedActivity,
    Timepoints,
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
from protocol.timing import Duration, TimeUnit
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
    "Prose",
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
            return self.name(e.name)
        if isinstance(e, ex.Panel):
            return self.panel(e)
        if isinstance(e, (ex.Arithmetic, ex.Power, ex.Call, ex.Lookup, ex.AgeAt)):
            return self.computed(e)
        return self.value(e)

    def when(self, e: Expr) -> str:
        """The time qualifier of an operand, with a leading space, or nothing."""
        if isinstance(e, (Aggregate, Count, LogReduction, Statistic, CountDistinct)):
            return self.temporal(e.selection.temporal)
        if isinstance(e, ex.Panel):
            return self.temporal(e.temporal)
        return ""

    def name(self, name: str) -> str:
        """A bare name: a definition (referred to, stated once in the document), else a
        patient attribute."""
        d = self.trial.definition(name)
        if d is not None:
            label = lower_label(d.label) if d.label else name.replace("_", " ")
            return f"{label} (see Definitions)"
        return name.replace("_", " ")

    def panel(self, p: ex.Panel) -> str:
        """`ALT and AST` (all of), `ALT or AST` (any of)."""
        terms = [self.terms.term(k) for k in p.kinds]
        fn = {AggregateFn.LATEST: "", AggregateFn.FIRST: "first ",
              AggregateFn.LOWEST: "lowest ", AggregateFn.HIGHEST: "highest "}[p.fn]
        return fn + join_and(terms, "and" if p.quantifier is ex.Quantifier.ALL else "or")

    # ---- computed values -------------------------------------------------------------------

    def computed(self, e: Expr, context: int = 0) -> str:  # noqa: C901 - one case per node
        """A computed value in plain notation: `body weight / height²`, each input with its
        time qualifier, a formula by its name and source."""
        if isinstance(e, ex.Arithmetic):
            level = 1 if e.op in (ex.ArithOp.ADD, ex.ArithOp.SUB) else 2
            symbol = {ex.ArithOp.ADD: "+", ex.ArithOp.SUB: "−", ex.ArithOp.MUL: "×",
                      ex.ArithOp.DIV: "/"}[e.op]
            text = f"{self.computed(e.left, level)} {symbol} {self.computed(e.right, level + 1)}"
            return f"({text})" if level < context else text
        if isinstance(e, ex.Power):
            base = self.computed(e.base, 3)
            if " " in base and not base.startswith("("):
                base = f"({base})"
            sup = _SUPERSCRIPTS.get(num(e.exponent))
            return f"{base}{sup}" if sup else f"{base}^{num(e.exponent)}"
        if isinstance(e, ex.Call):
            fn = MATH_FUNCTIONS.get(e.function)
            args = [self.computed(a.value) for a in e.arguments]
            if fn is MathFunction.ABS:
                return f"|{args[0]}|"
            if fn is MathFunction.MIN or fn is MathFunction.MAX:
                which = "smaller" if fn is MathFunction.MIN else "larger"
                text = f"the {which} of {join_and(args)}"
                return f"({text})" if context else text
            if fn is MathFunction.LOG10:
                return f"log₁₀({args[0]})"
            if fn is MathFunction.LN:
                return f"ln({args[0]})"
            formula = FORMULAS.get(e.function)
            if formula is not None:
                return self.formula(e, formula)
            return f"{e.function}({', '.join(args)})"
        if isinstance(e, ex.Lookup):
            table = self.trial.table(e.table)
            label = lower_label(table.label) if table and table.label else e.table.replace("_", " ")
            return f"the {label} for {self.computed(e.key)}"
        if isinstance(e, ex.AgeAt):
            return f"age at {self.terms.anchor(e.anchor)}"
        if isinstance(e, Aggregate):
            subj = self.subject(e)
            when = self.when(e)
            return f"{subj} ({when.strip()})" if when else subj
        if isinstance(e, QuantityLiteral):
            return quantity_display(e.quantity.value, e.quantity.unit)
        if isinstance(e, Name):
            if self.trial.definition(e.name) is None and e.name not in ("age", "sex", "arm"):
                return e.name.replace("_", " ")  # an event's attribute
            return self.name(e.name)
        return self.subject(e)

    def formula(self, e: ex.Call, formula: Formula) -> str:
        """`creatinine clearance (Cockcroft–Gault; Cockcroft 1976) from serum creatinine
        within 28 days before randomization and body weight`."""
        given = []
        for arg in e.arguments:
            given.append(self.computed(arg.value))
        source = f"{formula.title} [{formula_reference(formula)}]"
        return f"{source} from {join_and(given)}" if given else source

    def compare(self, c: Compare) -> str:
        left, right, op = c.left, c.right, c.op
        if isinstance(left, ex.Panel):
            value = self.value(right, left.kinds[0])
            each = " each" if left.quantifier is ex.Quantifier.ALL else ""
            return (f"{self.panel(left)}{each} {op_symbol(op.value)} {value}"
                    f"{self.temporal(left.temporal)}")
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
        unit = r.unit or (self.terms.unit_of(kind) if kind else None)
        high_text = quantity_display(r.high, unit) if unit else high
        verb = " is" if isinstance(r.operand, (ex.Arithmetic, ex.Power, ex.Call)) else ""
        return f"{self.subject(r.operand)}{verb} {low} to {high_text}{self.when(r.operand)}"

    def test(self, t: Test) -> str:
        subj = self.subject(t.operand)
        when = self.when(t.operand)
        if t.test in (TestKind.NORMAL, TestKind.ABNORMAL):
            where = "within" if t.test is TestKind.NORMAL else "outside"
            if isinstance(t.operand, ex.Panel):
                each = " all" if t.operand.quantifier is ex.Quantifier.ALL else ""
                return f"{self.panel(t.operand)}{each} {where} the normal range{when}"
            return f"{subj}{when} {where} the normal range"
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
            if p.op is CompareOp.EQ and _says_yes(p.right):
                # a flag (SDTM AESER = "Y"): `adverse event that is serious`, not `with serious Y`
                return f"that is {attr.replace('_', ' ')}"
            if p.op is CompareOp.EQ:
                return f"with {attr.replace('_', ' ')} {self.value(p.right)}"
            return f"with {attr.replace('_', ' ')} {op_symbol(p.op.value)} {self.value(p.right)}"
        if isinstance(p, InSet) and isinstance(p.operand, Name):
            values = join_and([self.literal(v) for v in p.values], "or")
            return f"with {p.operand.name.replace('_', ' ')} {values}"
        return f"where {self.expr(p, nested=True)}"

    def data_length(self, x: ex.DataDuration | ex.TableDuration) -> str:
        """`5 × its recorded half life`; from a table, `5 × the elimination half-life for its
        drug` (the table's label)."""
        times = "" if x.factor == 1 else f"{num(x.factor)} × "
        if x.table is None:
            return f"{times}its recorded {x.attribute.replace('_', ' ')}"
        table = self.trial.table(x.table)
        label = lower_label(table.label) if table and table.label else x.table.replace("_", " ")
        return f"{times}the {label} for its {x.attribute.replace('_', ' ')}"

    def temporal(self, t: Temporal | None) -> str:
        if t is None:
            return ""
        if isinstance(t, Within):
            d = "before" if t.direction is Direction.BEFORE else "after"
            if t.strict:  # the far bound excluded: less than N days
                return f" less than {duration_text(t.duration)} {d} {self.terms.anchor(t.anchor)}"
            return f" within {duration_text(t.duration)} {d} {self.terms.anchor(t.anchor)}"
        if isinstance(t, WithinLongest):
            d = "before" if t.direction is Direction.BEFORE else "after"
            lengths = join_and([duration_text(x) if isinstance(x, Duration) else
                                self.data_length(x) for x in t.lengths], "or")
            longer = ", whichever is longer," if len(t.lengths) > 1 else ""
            return f" within {lengths}{longer} {d} {self.terms.anchor(t.anchor)}"
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
            return self.name(v.name)
        if isinstance(v, (ex.Arithmetic, ex.Power, ex.Call, ex.Lookup, ex.AgeAt)):
            return self.computed(v)
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

    def timepoints_reference(self, block: Timepoints) -> str:
        """`the dose of Study drug on Days 1 and 14`, `the first dose of Study drug`."""
        ref = block.reference
        if isinstance(ref, DoseOnDays):
            days = join_and([num(d.value) for d in ref.days])
            return (f"the dose of {self.terms.intervention(ref.intervention)} on "
                    f"{'Days' if len(ref.days) > 1 else 'Day'} {days}")
        return self.terms.anchor(ref)

    def timed_activity(self, act: TimedActivity, block: Timepoints) -> str:
        """`at 0.5, 1, 2 and 4 hours after the dose of Study drug on Days 1 and 14 (±5
        minutes up to 2 hours, ±15 minutes after)`; `before the dose ... (within 60 minutes)`."""
        ref = self.timepoints_reference(block)
        if act.predose is not None:
            return f"before {ref} (within {duration_text(act.predose)})"
        groups: list[list[Duration]] = []
        for d in act.offsets:
            if groups and groups[-1][-1].unit is d.unit:
                groups[-1].append(d)
            else:
                groups.append([d])
        times = ", ".join(
            join_and([num(d.amount) for d in g]) + " "
            + (g[0].unit.word(g[0].amount) if len(g) == 1 else g[0].unit.value + "s")
            for g in groups)
        text = f"at {times} after {ref}"
        bands = []
        for band in act.windows:
            w = window_text(band.window) or "to the minute"
            if band.up_to is not None:
                w += f" up to {duration_text(band.up_to)}"
            elif len(act.windows) > 1:
                w += " after"
            bands.append(w)
        return f"{text} ({', '.join(bands)})" if bands else text

    def visit_when(self, v: Visit) -> str:
        text = self.visit_timing(v.timing)
        w = window_text(v.window)
        return f"{text} ({w})" if w else text


def _says_yes(e: Expr) -> bool:
    """A literal that sets a yes/no flag: true, "Y", "yes"."""
    if isinstance(e, BoolLiteral):
        return e.value
    return isinstance(e, StringLiteral) and e.value.strip().casefold() in ("y", "yes")


_SUPERSCRIPTS = {"2": "²", "3": "³", "-1": "⁻¹", "-2": "⁻²"}


def formula_reference(formula: Formula) -> str:
    """The short reference of a built-in formula: `Cockcroft 1976`."""
    author = formula.citation.split(" ")[0].rstrip(",.")
    year = re.search(r"\b(1[89]\d\d|20\d\d)\b", formula.citation)
    return f"{author} {year.group(1)}" if year else author


def formulas_used(trial: Trial) -> list[Formula]:
    """The built-in formulas a protocol calls, in the order first used."""
    found: list[Formula] = []

    def visit(node: object) -> None:
        if isinstance(node, ex.Call) and node.function in FORMULAS:
            f = FORMULAS[node.function]
            if f not in found:
                found.append(f)
        if attrs.has(type(node)):
            for field in attrs.fields(type(node)):  # type: ignore[arg-type]
                if field.name != "span":
                    visit(getattr(node, field.name))
        elif isinstance(node, tuple):
            for x in node:
                visit(x)

    visit(trial.definitions)
    visit(trial.eligibility)
    visit(trial.stopping)
    return found


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
    return isinstance(e, (Aggregate, Count, LogReduction, Name, Statistic, CountDistinct,
                          ex.Arithmetic, ex.Power, ex.Call, ex.Lookup, ex.AgeAt, ex.Panel))


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
