"""Eligibility: every criterion met / not_met / unknown with evidence, and the patient's verdict."""

from __future__ import annotations

from protocol.trial import Trial


def criteria_order(trial: Trial) -> list[tuple[str, str, str | None]]:
    """(id, category, text) of every criterion in evaluation order: the population block's
    implicit AGE and SEX first, then inclusions, then exclusions."""
    out: list[tuple[str, str, str | None]] = []
    pop = trial.population
    if pop is not None:
        if pop.age_min is not None or pop.age_max is not None:
            out.append(("AGE", "inclusion", "Age within the population's range"))
        if pop.sex.value != "all":
            out.append(("SEX", "inclusion", f"Sex: {pop.sex.value}"))
    for c in trial.eligibility.inclusion:
        out.append((c.id, "inclusion", c.text))
    for c in trial.eligibility.exclusion:
        out.append((c.id, "exclusion", c.text))
    return out
