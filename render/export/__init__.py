"""Machine exports of a Trial: CDISC USDM 4.0 JSON, SDTM trial-design tables, and
ClinicalTrials.gov-style eligibility text."""

from __future__ import annotations

from render.export.ctgov import export_ctgov_eligibility
from render.export.sdtm import Dataset, export_sdtm_design, write_sdtm_design
from render.export.usdm import export_usdm

__all__ = [
    "Dataset",
    "export_ctgov_eligibility",
    "export_sdtm_design",
    "export_usdm",
    "write_sdtm_design",
]
