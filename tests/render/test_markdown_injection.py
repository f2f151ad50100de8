"""Protocol strings rendered as Markdown stay text (issue 16): no live link (a
`javascript:` one above all), no remote image fetched when the document is opened, no raw
HTML, no heading or list made by a string. Checked with a real CommonMark reader
(markdown-it-py) with link validation off, so that the escaping alone is tested."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EXAMPLES
from markdown_it import MarkdownIt

import trialcode
from render.formats import md_cell, md_escape

SEED = (EXAMPLES / "nct06802718" / "protocol.trial").read_text(encoding="utf-8")

HOSTILE = [
    "[click](javascript:alert(document.cookie))",
    "![pixel](https://tracker.example/p.png)",
    "[x] (javascript:alert(1))",
    "see [the label][ref]\\n[ref]: javascript:alert(1)",
    "<img src=https://tracker.example/q.png>",
    "<javascript:alert(1)>",
    "<a href='javascript:alert(1)'>x</a>",
    "line\\n# a heading\\n- a list\\n1. an item\\n> a quote\\n---",
    "**bold** _it_ `code`",
]


def _reader() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = lambda url: True  # test the escaping, not markdown-it's own filter
    return md


def _live(tokens: list[Any]) -> list[str]:
    """The tokens that make something other than text: links, images, raw HTML, code."""
    out = []
    for token in tokens:
        if token.type in ("link_open", "image", "html_inline", "html_block", "code_inline"):
            out.append(f"{token.type} {token.attrs or token.content!r}")
        if token.children:
            out.extend(_live(token.children))
    return out


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_reads_back_as_the_same_plain_text(text):
    text = text.replace("\\n", "\n")
    md = _reader()
    tokens = md.parse(md_escape(text))
    assert _live(tokens) == []
    assert [t.type for t in tokens if t.type.endswith("_open")] == ["paragraph_open"]
    words = "\n".join(t.content for t in tokens if t.type == "inline")
    shown = "".join(c.content if c.type == "text" else "\n"
                    for t in tokens if t.type == "inline" for c in t.children or [])
    assert shown.replace("\n", "") == text.replace("\n", ""), words
    assert _live(md.parse(f"| a |\n|---|\n| {md_cell(text)} |")) == []


def test_a_protocol_full_of_markdown_renders_no_link_image_or_html(tmp_path):
    strings = iter(HOSTILE * 3)
    text = SEED
    for original in ("Acute Myeloid Leukemia", "Relapse-free survival", "Interferon Group",
                     "Observational follow-up without receiving any maintenance treatment.",
                     "Polyethylene glycol interferon alpha-2b injection 135 μg/week was "
                     "subcutaneously given for 6 months.", "Injection", "Karyotype"):
        text = text.replace(f'"{original}"', '"' + next(strings).replace('"', "'") + '"')
    path = tmp_path / "hostile.trial"
    path.write_text(text, encoding="utf-8")
    document = trialcode.render(trialcode.load(path), "md")
    assert isinstance(document, str)
    live = _live(_reader().parse(document))
    # the document's own markup (superscript footnote marks and line breaks in tables) only
    assert {item.split(" ")[0] for item in live} <= {"html_inline"}
    assert all(item.split(" ", 1)[1].strip("'") in ("<sup>", "</sup>", "<br>") for item in live)
    assert "javascript" in document and "tracker.example" in document  # shown, as text
