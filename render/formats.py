"""Markdown and HTML from the document tree, through jinja2 templates in render/templates/."""

from __future__ import annotations

import re
from importlib import resources

import jinja2

from render.document import GENERATED_MARK, Document

# Markdown syntax characters escaped in protocol text.
_MD_SPECIAL = re.compile(r"([\\`*_])")
# A `]` that would close a link's text (`[x](javascript:...)`, `![x](https://...)`: a remote
# image, fetched when the document is opened; `[x][ref]`; a definition `[ref]: url`):
# protocol strings are not the author's Markdown and must stay text, never a live link. A
# bracket followed by anything else (`[54 mg],`) is plain text in Markdown already.
_MD_LINK_CLOSE = re.compile(r"\](?=\s*[(\[:])")
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
# what makes a line a heading, a quote, a list item or a rule: the punctuation is escaped
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>])|([+-])(?=\s)|(\d+)([.)])(?=\s)|([=-])(?=[=-]*\s*$))",
                            re.M)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark, bullet, digits, dot, rule = match.groups()
    if digits is not None:
        return f"{indent}{digits}\\{dot}"
    return f"{indent}\\{mark or bullet or rule}"


def md_escape(text: object) -> str:
    """Escape Markdown syntax in protocol text: a `*`, a `[link](...)` or a `<b` in a
    criterion stays literal text, at the start of any of its lines too."""
    s = _MD_SPECIAL.sub(r"\\\1", str(text))
    s = _MD_TAG.sub(r"\\<", s)
    s = _MD_LINK_CLOSE.sub(r"\\]", s)
    return _MD_LINE_START.sub(_escape_line_start, s)


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
