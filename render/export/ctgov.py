"""Eligibility as ClinicalTrials.gov prints it: two bulleted lists under fixed headings."""

from __future__ import annotations

from protocol.trial import Trial
from render.prose import Prose


def export_ctgov_eligibility(trial: Trial) -> str:
    """`Inclusion Criteria:\\n\\n* ...\\n\\nExclusion Criteria:\\n\\n* ...` (the registry's format)."""
    prose = Prose(trial)
    parts: list[str] = []
    for heading, criteria in (
        ("Inclusion Criteria", trial.eligibility.inclusion),
        ("Exclusion Criteria", trial.eligibility.exclusion),
    ):
        if not criteria:
            continue
        lines = [f"* {' '.join(prose.criterion(c).split())}" for c in criteria]
        parts.append(f"{heading}:\n\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"
