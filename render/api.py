"""`render_document(trial, fmt)`: one entry point for every document format."""

from __future__ import annotations

from protocol.trial import Trial
from render.document import build_document
from render.formats import render_html, render_markdown

FORMATS = ("md", "html", "docx", "pdf")


def render_document(trial: Trial, fmt: str) -> str | bytes:
    """The protocol document: text for md and html, bytes for docx and pdf."""
    doc = build_document(trial)
    if fmt == "md":
        return render_markdown(doc)
    if fmt == "html":
        return render_html(doc)
    if fmt == "docx":
        from render.docx_writer import render_docx

        return render_docx(doc)
    if fmt == "pdf":
        from render.pdf import render_pdf

        return render_pdf(render_html(doc))
    raise ValueError(f"unknown document format {fmt!r}; choose one of {', '.join(FORMATS)}")
