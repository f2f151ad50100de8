"""Rendering and exports: the protocol document and standard machine formats from a `Trial`.

    >>> text = render_document(trial, "md")
    >>> usdm = export_usdm(trial)

This package takes a `protocol.Trial`; it never imports the parser.
"""

from __future__ import annotations

from render.api import FORMATS, render_document
from render.prose import criterion_text, rule_text
from render.wording import Finding, check_text_vs_expr

__all__ = [
    "FORMATS",
    "Finding",
    "check_text_vs_expr",
    "criterion_text",
    "render_document",
    "rule_text",
]
