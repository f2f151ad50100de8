"""A Pygments lexer for protocol files, so that documentation tools (Sphinx, MkDocs, pandoc
via Pygments) highlight ```trial blocks. Installed as the Pygments plugin `trialcode`
(pyproject.toml, entry point `pygments.lexers`); the keywords come from the grammar
(dsl.keywords), as in the TextMate grammar of the editor extension.

    pygmentize -l trialcode examples/nct06802718/protocol.trial
"""

from __future__ import annotations

from typing import Any, ClassVar

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

from dsl.keywords import keywords

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def _tokens() -> dict[str, Any]:
    kw = keywords()
    not_keyword = rf"(?!(?:{'|'.join(sorted(kw.all))})\b)"
    return {
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"', String.Double, "string"),
            (r"`[^`\n]+`", Keyword.Type),  # a UCUM unit
            (r"\d{4}-\d{2}-\d{2}\b", Number.Other),  # a date
            (r"\b(enrollment)(\s+)(\d+)\b", bygroups(Keyword, Whitespace, Number)),
            (rf"\b(unit)(\s+){not_keyword}({_IDENT}(?:/{_IDENT})?)\b",
             bygroups(Keyword, Whitespace, Keyword.Type)),
            (rf"\b(in)(\s+){not_keyword}({_IDENT}(?:/{_IDENT})?)\b",
             bygroups(Operator.Word, Whitespace, Keyword.Type)),  # an attribute's unit
            (rf"([+-]?\d+(?:\.\d+)?)([ \t]+)(?!(?:{'|'.join(sorted(kw.all))})\b)"
             rf"({_IDENT}(?:/{_IDENT})?)\b",
             bygroups(Number, Whitespace, Keyword.Type)),  # a quantity with its unit
            (r"[+-]?\d+(?:\.\d+)?", Number),
            (words(sorted(kw.units), suffix=r"\b"), Keyword.Type),
            (words(sorted(kw.constants), suffix=r"\b"), Keyword.Constant),
            (words(sorted(kw.operators), suffix=r"\b"), Operator.Word),
            (words(sorted(kw.plain), suffix=r"\b"), Keyword),
            (_IDENT, Name),
            (r"<=|>=|==|!=|<|>|\+-|±|\.\.|%", Operator),
            (r"[{}(),;:/]", Punctuation),
            (r".", Text),
        ],
        "string": [
            (r'\\.', String.Escape),
            (r'"', String.Double, "#pop"),
            (r'[^"\\\n]+', String.Double),
            (r"\n", String.Double, "#pop"),  # an unclosed string ends at the line's end
        ],
    }


class TrialcodeLexer(RegexLexer):
    """Protocol files of trialcode (`.trial`)."""

    name = "trialcode"
    aliases: ClassVar[list[str]] = ["trialcode", "trial"]
    filenames: ClassVar[list[str]] = ["*.trial"]
    mimetypes: ClassVar[list[str]] = ["text/x-trialcode"]
    tokens = _tokens()


__all__ = ["TrialcodeLexer"]
