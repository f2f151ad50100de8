"""Numbers for the statistics section, from `engine.stats` when it is installed.

This is the renderer's only contact with the engine, kept in one place: a boundary table for
each interim rule and a "stop if at least k events among the first n participants" table for
each binary safety rule. When `engine.stats` is absent, or a design cannot be solved, the
document states the rule in words only (the functions return None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from protocol.allocation import allocation_ratio, monitored_patients
from protocol.stopping import BayesianStop, BinomialStop, InterimRule, SafetyRule, SprtStop
from protocol.trial import Trial
from render.design import ratio_text
from render.terms import join_and, num


@dataclass
class NumberTable:
    caption: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""


def _engine() -> Any | None:
    try:
        import engine.stats as stats
    except ImportError:  # the engine is optional for rendering
        return None
    return stats


def _solve(rule: InterimRule) -> tuple[Any | None, str | None]:
    """The planned design of an interim rule and, when it cannot be computed, why (None, None
    without the engine: the document then states the rule in words only)."""
    try:
        from engine.interim_design import design_for_rule
        from engine.stats.errors import DesignError
    except ImportError:  # the engine is optional for rendering
        return None, None
    try:
        return design_for_rule(rule), None
    except DesignError as exc:
        return None, str(exc)


def _design(rule: InterimRule) -> Any | None:
    return _solve(rule)[0]


def design_problem(rule: InterimRule) -> str | None:
    """Why the boundaries of ``rule`` cannot be computed (None when they can, or without the
    engine). `trialcode check` rejects such a protocol; a model built in Python may still
    carry one, and the document then says so instead of printing a table."""
    return _solve(rule)[1]


def interim_table(rule: InterimRule) -> NumberTable | None:
    """Efficacy (and futility) boundaries at each look, on the Z and nominal p-value scales."""
    design = _design(rule)
    if design is None:
        return None
    eff = rule.efficacy
    two = eff.sides == 2
    header = ["Look", "Information fraction", "Efficacy boundary (Z)", "Nominal p-value", "Cumulative α spent"]
    if design.futility:
        header.insert(3, "Futility boundary (Z)")
    rows: list[list[str]] = []
    for k, t in enumerate(design.information_fractions):
        final = k == len(design.information_fractions) - 1
        z = design.efficacy[k]
        p = design.nominal_p[k] * (2 if two else 1)
        row = [
            "Final" if final else f"Interim {k + 1}",
            f"{t:.2f}",
            (f"|Z| ≥ {z:.3f}" if two else f"Z ≥ {z:.3f}"),
            f"{p:.4f}",
            f"{design.cumulative_alpha[k]:.4f}",
        ]
        if design.futility:
            row.insert(3, f"Z ≤ {design.futility[k]:.3f}")
        rows.append(row)
    sided = "two-sided" if two else "one-sided"
    return NumberTable(
        caption=f"Boundaries for {rule.label or rule.name} (overall {sided} α = {num(eff.alpha)})",
        header=header,
        rows=rows,
        note=(
            "Nominal p-values are "
            + ("two-sided" if two else "one-sided")
            + "; boundaries computed by recursive numerical integration (engine.stats)."
        ),
    )


def interim_plot(rule: InterimRule) -> str | None:
    """The boundaries of an interim rule as an SVG plot (None when they cannot be computed)."""
    design = _design(rule)
    if design is None:
        return None
    from render.boundary_svg import boundary_svg

    return boundary_svg(design.information_fractions, design.efficacy,
                        design.futility or None, rule.efficacy.sides == 2,
                        f"Boundaries for {rule.label or rule.name}")


def _looks_within(rule: SafetyRule, n_max: int) -> list[int] | None:
    """The rule's looks up to the monitored maximum (None: after every participant)."""
    if not rule.looks:
        return None
    kept = [n for n in rule.looks if n <= n_max]
    return kept or [n_max]


def _share_note(trial: Trial, rule: SafetyRule, n_max: int) -> str:
    arms = join_and([a.label for a in trial.arms if a.name in rule.arms])
    ratio = allocation_ratio(trial)
    if ratio is None:
        how = f"shared equally between the {len(trial.arms)} arms"
    else:
        parts = sum(p for a, p in zip(trial.arms, ratio, strict=True) if a.name in rule.arms)
        how = f"{parts} of {sum(ratio)} parts under the {ratio_text(trial)} allocation"
    return (
        f"Computed for up to {n_max} participants of the {arms}: its share of the planned "
        f"enrolment of {trial.enrollment} ({how})."
    )


def safety_table(trial: Trial, rule: SafetyRule) -> NumberTable | None:
    """`Stop if at least k events among the first n participants`, compressed by k; at the
    rule's looks when it states them."""
    stats = _engine()
    n_max = monitored_patients(trial, rule)
    if stats is None or n_max is None or n_max < 1:
        return None
    m = rule.method
    looks = _looks_within(rule, n_max)
    try:
        if isinstance(m, BayesianStop):
            boundary = stats.bayesian_stopping_boundary(
                n_max, m.threshold, m.probability, m.prior_a, m.prior_b, looks=looks
            )
        elif isinstance(m, BinomialStop):
            boundary = stats.exact_threshold_boundary(n_max, m.threshold, m.alpha, looks=looks)
        else:
            assert isinstance(m, SprtStop)
            sprt = stats.truncated_sprt(m.p0, m.p1, m.alpha, m.beta, m.max_patients)
            return _sprt_table(sprt, rule)
    except Exception:
        return None
    pairs = [(n, k) for n, k in boundary.table()]
    if not pairs:
        return None
    who = "participants"
    if rule.arms:
        who = "participants of the " + join_and([a.label for a in trial.arms if a.name in rule.arms])
    rows: list[list[str]] = []
    if looks is not None:
        header = ["Look", f"{who[:1].upper()}{who[1:]} evaluated", "Stop if the number with the event is"]
        for i, (n, k) in enumerate(pairs, start=1):
            rows.append([str(i), str(n), f"≥ {k}"])
    else:
        header = ["Stop if the number of events is", f"among the first n {who}, n ="]
        start_n, cur_k = pairs[0]
        prev_n = start_n
        for n2, k2 in pairs[1:] + [(None, None)]:
            if k2 != cur_k or n2 is None or n2 != prev_n + 1:
                rows.append([f"≥ {cur_k}", _n_range(start_n, prev_n)])
                if n2 is None or k2 is None:
                    break
                start_n, cur_k = n2, k2
            prev_n = n2
    if rule.arms and trial.arms and len(rule.arms) < len(trial.arms):
        note = _share_note(trial, rule, n_max)
    else:
        note = f"Computed for up to {n_max} participants (the planned enrolment)."
    try:
        oc = boundary.operating_characteristics(_null_rate(m))
        note += (
            f" If the true rate is {num(round(_null_rate(m) * 100, 4))}%, the rule stops the trial "
            f"with probability {oc.probability_stop:.3f}."
        )
    except Exception:
        pass
    return NumberTable(
        caption=f"Stopping boundary for {rule.label or rule.name}",
        header=header,
        rows=rows,
        note=note,
    )


def _null_rate(m: BayesianStop | BinomialStop | SprtStop) -> float:
    if isinstance(m, SprtStop):
        return m.p0
    return m.threshold


def _n_range(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}–{b}"


def _sprt_table(sprt: Any, rule: SafetyRule) -> NumberTable | None:
    rows = []
    for n in range(1, sprt.n_max + 1):
        r = sprt.reject[n - 1]
        a = sprt.accept[n - 1]
        if r is None and a is None:
            continue
        rows.append([str(n), "—" if r is None else f"≥ {r}", "—" if a is None else f"≤ {a}"])
    if not rows:
        return None
    return NumberTable(
        caption=f"Sequential probability ratio test for {rule.label or rule.name}",
        header=["n", "Stop (rate too high) if events", "Conclude acceptable if events"],
        rows=rows,
        note=f"After {sprt.n_max} participants: conclude the rate is too high if events ≥ {sprt.final_reject}.",
    )
