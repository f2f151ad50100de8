"""Markdown and HTML from the document tree, through jinja2 templates in render/templates/."""

from __future__ import annotations

import re
from importlib import resources

import jinja2

from render.document import GENERATED_MARK, Document

_MD_SPECIAL = re.compile(r"([\\`*_])")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def md_escape(text: object) -> str:
    """Escape Markdown syntax in protocol text (a `*` or `<b` in a criterion stays literal)."""
    s = _MD_SPECIAL.sub(r"\\\1", str(text))
    s = _MD_TAG.sub(r"\\<", s)
    if s.startswith(("#", ">", "+ ", "- ")):
        s = "\\" + s
    return s


def md_cell(text: object) -> str:
    if isinstance(text, list):  # one item per line: bullets separated by <br>
        items = [md_cell(x) for x in text]
        return items[0] if len(items) == 1 else "<br>".join(f"• {x}" for x in items)
    return md_escape(text).replace("|", "\\|").replace("\n", " ")


def _template_text(name: str) -> str:
    return resources.files("render").joinpath("templates", name).read_text(encoding="utf-8")


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_text),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["cell"] = md_cell
    return env


def render_markdown(doc: Document) -> str:
    text = _env(False).get_template("document.md.j2").render(doc=doc, generated_mark=GENERATED_MARK)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def render_html(doc: Document) -> str:
    css = _template_text("document.css")
    return _env(True).get_template("document.html.j2").render(
        doc=doc, css=jinja2.utils.markupsafe.Markup(css), generated_mark=GENERATED_MARK
    )
