"""Machine exports of a Trial: CDISC USDM 4.0 JSON, SDTM trial-design tables, and
ClinicalTrials.gov-style eligibility text."""

from __future__ import annotations

from render.export.usdm import export_usdm

__all__ = ["export_usdm"]
