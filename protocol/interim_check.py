"""Checks of a trial interim rule: its boundary families, and the assumptions of its sample size.

Whether the design can actually be solved (Haybittle-Peto bounds that spend all of alpha, a
sample size whose allocation cannot be read from the arms) is the statistics engine's to say;
`trialcode check` asks it after these checks pass (engine/interim_design.py).
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.source import Span
from protocol.stopping import (
    BoundaryFamily,
    InterimRule,
    MeansAssumptions,
    ProportionAssumptions,
    ProportionsAssumptions,
    SampleSizePlan,
    SurvivalAssumptions,
)

__all__ = ["BOUNDARY_FAMILIES", "check_interim_rule"]

Report = Callable[[str, Span | None, str | None], None]

#: Boundary family -> (where it may stand: efficacy, futility or both; what it takes: none, one
#: parameter, an optional one, or a list of numbers, one per look).
BOUNDARY_FAMILIES: dict[str, tuple[str, str]] = {
    "pocock": ("efficacy", "none"),
    "obrien_fleming": ("efficacy", "none"),
    "wang_tsiatis": ("efficacy", "one"),
    "haybittle_peto": ("efficacy", "optional"),
    "ld_obrien_fleming": ("both", "none"),
    "ld_pocock": ("both", "none"),
    "hwang_shih_decani": ("both", "one"),
    "kim_demets": ("both", "one"),
    "user_spending": ("both", "list"),
    "pampallona_tsiatis": ("both", "one"),
    "z_bounds": ("futility", "list"),
}
_EXAMPLE = {"wang_tsiatis": "wang_tsiatis(0.25)", "hwang_shih_decani": "hwang_shih_decani(-4)",
            "kim_demets": "kim_demets(3)", "pampallona_tsiatis": "pampallona_tsiatis(0.25)",
            "user_spending": "user_spending(0.1, 0.4, 1)", "z_bounds": "z_bounds(0, 0.5)"}


def _suggest(name: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, list(BOUNDARY_FAMILIES), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _family(f: BoundaryFamily, where: str, looks: int, error: Report) -> bool:
    """Check one family in its position; True when it is usable."""
    known = BOUNDARY_FAMILIES.get(f.name)
    if known is None:
        error(f"unknown boundary family '{f.name}'", f.span,
              _suggest(f.name) or "known: " + ", ".join(BOUNDARY_FAMILIES))
        return False
    allowed, takes = known
    if allowed != "both" and allowed != where:
        hint = ("a futility bound is a beta-spending function (ld_obrien_fleming, ld_pocock, "
                "hwang_shih_decani, kim_demets, user_spending) or z_bounds(...)"
                if where == "futility" else None)
        error(f"'{f.name}' is not a{'n' if where == 'efficacy' else ''} {where} boundary",
              f.span, hint)
        return False
    example = _EXAMPLE.get(f.name, f.name)
    if takes == "one" and f.parameter is None:
        error(f"'{f.name}' needs its parameter, e.g. '{example}'", f.span, None)
        return False
    if takes == "none" and f.parameter is not None:
        error(f"'{f.name}' takes no parameter", f.span, None)
        return False
    if takes != "list":
        return True
    values = f.values
    if f.name == "z_bounds":
        if len(values) != looks - 1:
            error(f"'z_bounds' needs one bound per interim look: {looks - 1} for {looks} looks, "
                  f"not {len(values)}", f.span, None)
            return False
        return True
    if len(values) != looks:
        error(f"'user_spending' needs the cumulative fraction spent by each look: {looks} "
              f"values, not {len(values)}", f.span, f"e.g. '{example}'")
        return False
    if any(not 0 <= v <= 1 for v in values) or any(b < a for a, b in zip(values, values[1:],
                                                                        strict=False)):
        error("the fractions of 'user_spending' are cumulative: from 0 to 1, never falling",
              f.span, None)
        return False
    if values[-1] != 1:
        error("the last fraction of 'user_spending' must be 1: everything is spent by the final "
              "look", f.span, None)
        return False
    return True


def check_interim_rule(rule: InterimRule, arms: int, error: Report) -> None:
    """Report every problem of ``rule``'s boundary families and sample size through ``error``.

    ``arms`` is the number of arms of the trial (0 when it names none).
    """
    looks = len(rule.information)
    eff, fut = rule.efficacy, rule.futility
    _family(eff.family, "efficacy", looks, error)
    if fut is not None:
        _family(fut.family, "futility", looks, error)
        z = fut.family.name == "z_bounds"
        if fut.beta is None and not z:
            error("a beta-spending futility bound needs its beta, e.g. 'beta 0.1'", fut.span,
                  None)
        elif fut.beta is not None and not 0 < fut.beta < 1:
            error(f"beta must lie in (0, 1), not {fut.beta:g}", fut.span, None)
        if z and eff.sides == 2:
            error("'z_bounds' futility is for a one-sided test; a two-sided design takes a "
                  "beta-spending futility bound", fut.family.span, None)
    pt_eff = eff.family.name == "pampallona_tsiatis"
    pt_fut = fut is not None and fut.family.name == "pampallona_tsiatis"
    if pt_eff != pt_fut:
        error("a Pampallona-Tsiatis design gives both bounds: 'efficacy pampallona_tsiatis(D1)' "
              "with 'futility pampallona_tsiatis(D0)'", (fut or eff).span, None)
    if rule.sample_size is not None:
        _sample_size(rule, rule.sample_size, arms, error)


def _sample_size(rule: InterimRule, plan: SampleSizePlan, arms: int, error: Report) -> None:
    if not 0 < plan.power < 1:
        error(f"power must lie in (0, 1), not {plan.power:g}", plan.span, None)
    fut = rule.futility
    if fut is not None and fut.beta is not None and abs(1 - fut.beta - plan.power) > 1e-9:
        error(f"the futility bound spends beta {fut.beta:g} but the sample size is for power "
              f"{plan.power:g}: power is 1 - beta", plan.span, None)
    a = plan.assumptions
    if isinstance(a, SurvivalAssumptions):
        _survival(a, error)
    elif isinstance(a, ProportionsAssumptions | ProportionAssumptions):
        pair = (a.experimental, a.control) if isinstance(a, ProportionsAssumptions) else (
            a.expected, a.reference)
        if any(not 0 < p < 1 for p in pair):
            error("proportions must lie strictly between 0 and 1", a.span, None)
        elif pair[0] == pair[1]:
            error("the two proportions are equal: there is no difference to detect", a.span,
                  None)
    elif isinstance(a, MeansAssumptions):
        if a.sd <= 0:
            error("the standard deviation must be positive", a.span, None)
        if a.difference == 0:
            error("the difference in means is 0: there is no difference to detect", a.span, None)
    two_groups = not isinstance(a, ProportionAssumptions)
    if two_groups and arms == 1:
        error("this sample size compares two groups, but the trial has one arm", plan.span,
              "for one group against a reference rate: 'proportion 0.40 vs 0.20'")


def _survival(a: SurvivalAssumptions, error: Report) -> None:
    if (a.hazard_ratio is None) == (a.experimental_median is None):
        error("the effect is a 'hazard_ratio', or an 'experimental_median' with the "
              "'control_median': give one of them", a.span, None)
    if a.hazard_ratio is not None and (a.hazard_ratio <= 0 or a.hazard_ratio == 1):
        error(f"the hazard ratio must be positive and differ from 1, not {a.hazard_ratio:g}",
              a.span, None)
    if a.experimental_median is not None and a.control_median is None:
        error("'experimental_median' needs the 'control_median' to give the hazard ratio",
              a.span, None)
    patients = {"control_median": a.control_median, "accrual": a.accrual,
                "follow_up": a.follow_up}
    given = [n for n, v in patients.items() if v is not None]
    if a.hazard_ratio is not None and 0 < len(given) < 3:
        missing = [n for n in patients if n not in given]
        error(f"the number of patients needs 'control_median', 'accrual' and 'follow_up' "
              f"together: '{missing[0]}' is missing", a.span, None)
    elif a.experimental_median is not None and given and (a.accrual is None) != (
            a.follow_up is None):
        error("the number of patients needs 'accrual' and 'follow_up' together", a.span, None)
    if a.dropout is not None:
        if not 0 < a.dropout.percent < 100:
            error("a dropout percentage lies strictly between 0 and 100", a.dropout.span, None)
        if a.accrual is None:
            error("'dropout' changes the number of patients, which needs 'accrual' and "
                  "'follow_up'", a.dropout.span, None)
    for name, d in (("control_median", a.control_median),
                    ("experimental_median", a.experimental_median), ("accrual", a.accrual)):
        if d is not None and d.amount <= 0:
            error(f"'{name}' must be a positive duration", d.span, None)
    if a.dropout is not None and a.dropout.per.amount <= 0:
        error("a dropout rate is per a positive duration", a.dropout.span, None)
