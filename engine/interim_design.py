"""The group sequential design a protocol's interim rule plans, solved by `engine.stats`.

One translation from the protocol's words (`obrien_fleming`, `hwang_shih_decani(-2)`, ...) to
the engine's design, used by everything that needs the numbers: `trialcode check` (a design
that cannot be solved is an error in the protocol, with the reason), the protocol document's
boundary table and `trialcode monitor`. Importing this module needs numpy and scipy.special
only (not scipy.stats), so that `check` stays quick.
"""

from __future__ import annotations

from typing import Any

from engine.stats.design import GroupSequentialDesign, group_sequential_design
from engine.stats.errors import DesignError
from protocol.errors import Diagnostic, Severity
from protocol.stopping import InterimRule
from protocol.trial import Trial

__all__ = [
    "ENGINE_FAMILIES",
    "FAMILY_TITLES",
    "design_diagnostic",
    "design_diagnostics",
    "design_error",
    "design_for_rule",
    "engine_family",
]

#: Boundary family names of the protocol language -> engine.stats names.
ENGINE_FAMILIES = {
    "obrien_fleming": "obf",
    "pocock": "pocock",
    "wang_tsiatis": "wang-tsiatis",
    "haybittle_peto": "haybittle-peto",
    "ld_obrien_fleming": "ld-obf",
    "ld_pocock": "ld-pocock",
    "hwang_shih_decani": "hsd",
    "kim_demets": "power",
}

#: engine.stats family names -> the names a statistician reads.
FAMILY_TITLES = {
    "obf": "O'Brien-Fleming",
    "pocock": "Pocock",
    "wang-tsiatis": "Wang-Tsiatis",
    "haybittle-peto": "Haybittle-Peto",
    "ld-obf": "Lan-DeMets O'Brien-Fleming",
    "ld-pocock": "Lan-DeMets Pocock",
    "hsd": "Hwang-Shih-DeCani",
    "power": "Kim-DeMets power",
}


def engine_family(name: str) -> str:
    """The engine's name of a protocol boundary family; DesignError for an unknown one."""
    family = ENGINE_FAMILIES.get(name)
    if family is None:
        raise DesignError(f"boundary family '{name}' is not one the statistics engine knows")
    return family


def design_for_rule(rule: InterimRule) -> GroupSequentialDesign:
    """Solve the design of ``rule`` as planned; :class:`DesignError` says why it cannot be."""
    eff = rule.efficacy
    kwargs: dict[str, Any] = {
        "alpha": eff.alpha,
        "sides": eff.sides,
        "efficacy": engine_family(eff.family.name),
        "efficacy_param": eff.family.parameter,
    }
    if rule.futility is not None:
        fut = rule.futility
        kwargs.update(
            futility=engine_family(fut.family.name),
            futility_param=fut.family.parameter,
            binding=fut.binding,
            beta=fut.beta,
        )
    return group_sequential_design(list(rule.information), **kwargs)


def design_diagnostics(trial: Trial) -> tuple[Diagnostic, ...]:
    """An error for every interim rule whose design cannot be solved, saying why.

    Meant for a protocol that has passed the semantic checks (family names, parameters,
    fractions, alpha and beta in range): what is left are designs that are well formed but
    impossible, such as Haybittle-Peto interim bounds that already spend all of alpha.
    """
    out: list[Diagnostic] = []
    for rule in trial.stopping.interim_rules:
        reason = design_error(rule)
        if reason is not None:
            out.append(design_diagnostic(rule, reason))
    return tuple(out)


def design_error(rule: InterimRule) -> str | None:
    """Why the design of ``rule`` cannot be solved, or None when it can."""
    try:
        design_for_rule(rule)
    except DesignError as exc:
        return str(exc)
    return None


def design_diagnostic(rule: InterimRule, reason: str) -> Diagnostic:
    """The error `check` reports for a rule whose design cannot be solved."""
    return Diagnostic(Severity.ERROR,
                      f"interim rule '{rule.name}': the design cannot be solved: {reason}",
                      rule.span)
