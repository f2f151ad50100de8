"""Hover text: what a named thing of the protocol is, in the protocol document's own words.

A criterion shows its plain-English rendering (the sentence the protocol document would print
for its expression) and the data items it reads; a data item its declaration and where it is
used; a visit its day, window and activities; the rest their declaration and their uses.
"""

from __future__ import annotations

from dsl.names import (
    ANCHOR,
    ARM,
    CRITERION,
    DATA,
    EPOCH,
    INTERVENTION,
    RULE,
    VISIT,
    NameIndex,
    Occurrence,
)
from protocol.eligibility import Criterion
from protocol.trial import Trial

_WHERE = {
    "criterion": "criterion", "visit": "visit", "activity": "activity",
    "patient_rule": "stopping rule", "interim_rule": "interim analysis",
    "safety_rule": "safety rule", "anchor_decl": "anchor", "arm": "arm",
    "eligibility_time": "eligibility", "schedule": "schedule",
}


def describe(trial: Trial, declaration: Occurrence, names: NameIndex, source: str) -> str:
    """Markdown for a hover over `declaration` (or any use of it)."""
    from render.prose import Prose

    prose = Prose(trial)
    kind = declaration.kinds[0]
    name = declaration.name
    head = f"```trialcode\n{_first_lines(source)}\n```"
    parts = [head]
    if kind == CRITERION:
        criterion = next((c for c in trial.eligibility.criteria if c.id == name), None)
        if criterion is not None:
            parts.extend(_criterion(prose, criterion, reads(names, declaration)))
    elif kind == DATA:
        item = next((d for d in trial.data if d.name == name), None)
        if item is not None:
            facts = [f"**{item.label}** ({item.kind.value})"]
            if item.unit:
                facts.append(f"unit {item.unit}")
            parts.append(", ".join(facts))
    elif kind == VISIT and trial.schedule is not None:
        visit = trial.schedule.visit(name)
        if visit is not None:
            parts.append(f"**{visit.label}**: {prose.visit_when(visit)}")
            if visit.activities:
                labels = [f"{a} ({_label(trial, a)})" for a in visit.activities]
                parts.append("Activities: " + ", ".join(labels))
            if visit.arms:
                parts.append("Arms: " + ", ".join(visit.arms))
    elif kind == INTERVENTION:
        iv = next((i for i in trial.interventions if i.name == name), None)
        if iv is not None:
            text = f"**{iv.label}** ({iv.type.value})"
            if iv.regimen is not None:
                text += f": {prose.regimen(iv.regimen)}"
            parts.append(text)
    elif kind == ARM:
        arm = next((a for a in trial.arms if a.name == name), None)
        if arm is not None:
            given = ", ".join(i.intervention for i in arm.interventions) or "no intervention"
            parts.append(f"**{arm.label}** ({arm.type.value.replace('_', ' ')}): {given}")
    elif kind == RULE:
        rule = next((r for r in trial.stopping.rules if getattr(r, "name", None) == name), None)
        if rule is not None:
            parts.append(prose.rule(rule))
    elif kind in (ANCHOR, EPOCH) and trial.schedule is not None:
        pass  # the declaration says it all
    used = [u for u in names.references(declaration) if not u.declares]
    if kind not in (CRITERION, RULE):
        parts.append(_uses(used, names) if used else "Not used anywhere.")
    return "\n\n".join(parts)


def _criterion(prose: object, criterion: Criterion, data: list[str]) -> list[str]:
    from render.prose import Prose

    assert isinstance(prose, Prose)
    out = []
    if criterion.text:
        out.append(f"*{criterion.text}*")
    out.append("Reads as: " + prose.generated(criterion))
    if data:
        out.append("Data read: " + ", ".join(f"`{d}` ({_label(prose.trial, d)})" for d in data))
    return out


def reads(names: NameIndex, declaration: Occurrence) -> list[str]:
    """The data items the statement that declares `declaration` reads (in order, once each)."""
    statement = declaration.statement
    if statement is None:
        return []
    found: dict[str, None] = {}
    for o in names.occurrences:
        if not o.declares and DATA in o.kinds and statement.start <= o.span.start < statement.end:
            found.setdefault(o.name)
    return list(found)


def _label(trial: Trial, name: str) -> str:
    item = next((d for d in trial.data if d.name == name), None)
    return item.label if item is not None else "undeclared"


def _uses(used: list[Occurrence], names: NameIndex) -> str:
    named = {st.span: st.name.name for st in names.statements if st.name is not None}
    lines = []
    for u in used[:20]:
        where = _WHERE.get(u.statement_rule or "", u.statement_rule or "statement")
        owner = named.get(u.statement) if u.statement is not None else None
        lines.append(f"- line {u.span.line}: {where}" + (f" `{owner}`" if owner else ""))
    more = f"\n- and {len(used) - 20} more" if len(used) > 20 else ""
    return f"Used {len(used)} time{'s' if len(used) != 1 else ''}:\n" + "\n".join(lines) + more


def _first_lines(source: str, limit: int = 6) -> str:
    lines = source.strip().splitlines()
    if len(lines) > limit:
        lines = lines[:limit] + ["  ..."]
    return "\n".join(lines)


__all__ = ["describe"]
