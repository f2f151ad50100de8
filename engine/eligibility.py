"""Eligibility: every criterion met / not_met / unknown with evidence, and the patient's verdict.

A criterion's expression is evaluated three-valued (engine.expressions) with only the data dated
on or before the reference date: the date of the anchor event named by
`trial.reference_anchor` (`eligibility assessed at randomization`, else the schedule's anchor).
TRUE is `met`, FALSE `not_met`, UNKNOWN `unknown` -- unless the criterion says
`assume met`/`assume not_met`, which only ever replaces an unknown (and says so in the
evidence). The population block is checked as the implicit inclusion criteria `AGE` and `SEX`.

The patient is `eligible` when every inclusion is met and no exclusion is, `ineligible` when an
inclusion is not met or an exclusion is met (whatever else is unknown), and `indeterminate`
otherwise; `unresolved` then lists the criteria whose data would decide it.
"""

from __future__ import annotations

import datetime
from typing import Final

import attrs

from engine.compile_expr import Cond, compile_condition
from engine.expressions import Scope
from engine.logic import FALSE, TRUE, UNKNOWN
from engine.patient import fast_constructor
from engine.results import (
    CriterionResult,
    CriterionVerdict,
    EligibilityResult,
    EligibilityVerdict,
    Evidence,
)
from protocol import expr as ex
from protocol.resolve import resolve
from protocol.timing import TimeUnit
from protocol.trial import Trial
from protocol.units import Quantity
from protocol.vocab import CriterionCategory, MissingPolicy, Sex


def criteria_order(trial: Trial) -> list[tuple[str, str, str | None]]:
    """(id, category, text) of every criterion in evaluation order: the population block's
    implicit AGE and SEX first, then inclusions, then exclusions."""
    return [(c.id, c.category, c.text) for c in compile_criteria(trial)]

_UCUM_TIME = {TimeUnit.YEAR: "a", TimeUnit.MONTH: "mo", TimeUnit.WEEK: "wk", TimeUnit.DAY: "d",
              TimeUnit.HOUR: "h", TimeUnit.MINUTE: "min"}


@attrs.frozen
class CompiledCriterion:
    """A criterion ready to evaluate: `cond` is its expression compiled once
    (engine.compile_expr), so no patient walks the expression tree."""

    id: str
    category: str
    expr: ex.Expr
    text: str | None = None
    missing: MissingPolicy | None = None
    implicit: bool = False
    cond: Cond = attrs.field(eq=False, repr=False, default=attrs.Factory(
        lambda self: compile_condition(self.expr), takes_self=True))


def compile_criteria(trial: Trial) -> tuple[CompiledCriterion, ...]:
    """The criteria in evaluation order, the population block's turned into expressions:
    `AGE` = age >= min and age <= max (completed units of the bounds, both inclusive),
    `SEX` = sex == "female"/"male" (absent when the population is `sex all`)."""
    out: list[CompiledCriterion] = []
    pop = trial.population
    if pop is not None:
        parts: list[ex.Expr] = []
        texts = []
        for op, bound in ((ex.CompareOp.GE, pop.age_min), (ex.CompareOp.LE, pop.age_max)):
            if bound is None:
                continue
            q = ex.QuantityLiteral(Quantity(bound.amount, _UCUM_TIME[bound.unit]))
            parts.append(ex.Compare(op, ex.Name("age"), q))
            texts.append(f"{op.value} {bound}")
        if parts:
            expr: ex.Expr = parts[0] if len(parts) == 1 else ex.And(tuple(parts))
            out.append(CompiledCriterion("AGE", "inclusion", expr, "Age " + " and ".join(texts),
                                         implicit=True))
        if pop.sex is not Sex.ALL:
            out.append(CompiledCriterion(
                "SEX", "inclusion",
                ex.Compare(ex.CompareOp.EQ, ex.Name("sex"), ex.StringLiteral(pop.sex.value)),
                f"Sex: {pop.sex.value}", implicit=True))
    for c in trial.eligibility.criteria:
        cat = "inclusion" if c.category is CriterionCategory.INCLUSION else "exclusion"
        # definitions, tables, panels and attribute units resolved (the same tree when it
        # has none)
        out.append(CompiledCriterion(c.id, cat, resolve(c.expr, trial), c.text, c.missing))
    return tuple(out)


_POLICY: Final = {MissingPolicy.MET: CriterionVerdict.MET,
                  MissingPolicy.NOT_MET: CriterionVerdict.NOT_MET,
                  MissingPolicy.UNKNOWN: CriterionVerdict.UNKNOWN}


def evaluate_criterion(c: CompiledCriterion, scope: Scope) -> CriterionResult:
    """One criterion: the truth of its expression, and its verdict after the `missing` policy."""
    scope.source = c.id
    truth, evidence = c.cond(scope, None)
    # `is` tests: a dict keyed by the enum would call Enum.__hash__ (Python code) each time
    verdict = (CriterionVerdict.MET if truth is TRUE else CriterionVerdict.NOT_MET
               if truth is FALSE else CriterionVerdict.UNKNOWN)
    applied = False
    if truth is UNKNOWN and c.missing is not None and c.missing is not MissingPolicy.UNKNOWN:
        verdict = _POLICY[c.missing]
        applied = True
        evidence = [*evidence, Evidence(
            f"{c.id}: the data are missing; the protocol says to assume {c.missing.value}",
            source=c.id, truth=UNKNOWN)]
    return _CRITERION_RESULT(c.id, c.category, verdict, truth, tuple(evidence), c.text,
                             c.implicit, applied)


# every field positionally, without attrs' per-field object.__setattr__ (one per criterion per
# patient)
_CRITERION_RESULT: Final = fast_constructor(CriterionResult)


def passes(r: CriterionResult) -> bool | None:
    """`CriterionResult.passes`, compiled: True if the criterion lets the patient in, False if
    it keeps them out, None if unknown."""
    verdict = r.verdict
    if verdict is CriterionVerdict.UNKNOWN:
        return None
    met = verdict is CriterionVerdict.MET
    return met if r.category == "inclusion" else not met


def evaluate_eligibility(
    criteria: tuple[CompiledCriterion, ...],
    scope: Scope,
    reference_anchor: str | None,
    reference_date: datetime.date | None,
) -> EligibilityResult:
    """Every criterion with `scope` cut at the reference date, and the patient's verdict:
    eligible if every inclusion is met and no exclusion is; ineligible if an inclusion is not
    met or an exclusion is; indeterminate otherwise, listing the unknown criteria."""
    results = []
    missing_anchor: Evidence | None = None
    if reference_date is None and reference_anchor is not None:
        missing_anchor = Evidence(
            f"no date for {reference_anchor}: eligibility is judged on the data up to the "
            f"as-of date, and anything counted from {reference_anchor} is unknown",
            subject=reference_anchor, truth=UNKNOWN)
    for c in criteria:
        r = evaluate_criterion(c, scope)
        if missing_anchor is not None and r.truth is UNKNOWN:
            r = attrs.evolve(r, evidence=r.evidence + (attrs.evolve(missing_anchor, source=c.id),))
        results.append(r)
    passing = [passes(r) for r in results]
    if False in passing:
        verdict = EligibilityVerdict.INELIGIBLE
        unresolved: tuple[str, ...] = ()
    elif None not in passing:
        verdict = EligibilityVerdict.ELIGIBLE
        unresolved = ()
    else:
        verdict = EligibilityVerdict.INDETERMINATE
        unresolved = tuple(r.id for r, p in zip(results, passing, strict=True) if p is None)
    return EligibilityResult(verdict, tuple(results), reference_anchor, reference_date, unresolved)


__all__ = ["CompiledCriterion", "compile_criteria", "criteria_order", "evaluate_criterion",
           "evaluate_eligibility", "passes"]
