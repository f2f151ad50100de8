"""The highlighters against the parser: the TextMate grammar of the VS Code extension (run by
vscode-textmate in node, as VS Code runs it) and the Pygments lexer give every keyword, string,
number, unit and comment of every example protocol the scope the parser says it has."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Number, Operator, String

import dsl
from dsl import textmate
from dsl.highlight import TrialcodeLexer
from dsl.keywords import keywords
from dsl.parser import _keywords, grammar

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
EXAMPLES = sorted(ROOT.glob("examples/*/protocol.trial"))


def test_the_keywords_read_from_the_grammar_file_are_lark_s() -> None:
    assert keywords().all == set(_keywords().values())


def test_the_textmate_grammar_is_the_one_made_from_the_grammar() -> None:
    written = textmate.OUTPUT.read_text(encoding="utf-8")
    assert written == textmate.text(), (
        "editors/vscode/syntaxes/trialcode.tmLanguage.json is out of date with "
        "dsl/protocol.lark: run `python -m dsl.textmate`")


def _tokens(path: Path) -> list[tuple[str, int, int, str]]:
    """The parser's tokens of a file: (kind, line, column, text); units by their place."""
    text = path.read_text(encoding="utf-8")
    units = dsl.read_source(text, str(path)).names
    assert units is not None
    unit_starts = {(s.line, s.column) for s in units.units}
    kw = keywords()
    lexicon = _keywords()
    out = []
    for token in grammar().lex(text, dont_ignore=True):
        where = (token.line or 0, token.column or 0)
        value = str(token)
        if token.type == "COMMENT":
            kind = "comment"
        elif token.type == "STRING":
            kind = "string"
        elif token.type == "DATE":
            kind = "date"
        elif token.type in ("NUMBER", "SIGNED_NUMBER"):
            kind = "number"
        elif token.type == "UCUM" or where in unit_starts:
            kind = "unit"
        elif token.type in lexicon:
            kind = ("unit" if value in kw.units else "constant" if value in kw.constants
                    else "operator" if value in kw.operators else "keyword")
        elif token.type == "IDENT":
            kind = "name"
        else:
            continue
        out.append((kind, where[0], where[1], value))
    return out


_SCOPES = {
    "comment": "comment.line.number-sign.trialcode",
    "string": "string.quoted.double.trialcode",
    "date": "constant.numeric.date.trialcode",
    "number": "constant.numeric.trialcode",
    "unit": "keyword.other.unit",
    "constant": "constant.language.trialcode",
    "operator": "keyword.operator.word.trialcode",
    "keyword": "keyword.control.trialcode",
}


@cache
def _node_tokens() -> dict[tuple[str, int, int], list[str]]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the TextMate grammar is not run")
    if not (EXTENSION / "node_modules" / "vscode-textmate").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True,
                       capture_output=True)
    out = subprocess.run(["node", "test/tokenize.js", *map(str, EXAMPLES)], cwd=EXTENSION,
                         check=True, capture_output=True, text=True).stdout
    found: dict[tuple[str, int, int], list[str]] = {}
    for line in out.splitlines():
        t = json.loads(line)
        for column in range(t["start"], t["end"]):
            found[(t["file"], t["line"], column)] = t["scopes"]
    return found


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_textmate_scopes_match_the_parser(path: Path) -> None:
    scopes = _node_tokens()
    wrong = []
    seen = set()
    for kind, line, column, value in _tokens(path):
        got = scopes.get((str(path), line, column), [])
        seen.add(kind)
        if kind == "name":
            if any("unit" in s or "keyword" in s for s in got):
                wrong.append((kind, line, column, value, got))
        elif not any(s.startswith(_SCOPES[kind]) for s in got):
            wrong.append((kind, line, column, value, got))
    assert wrong == []
    assert {"comment", "string", "number", "unit", "keyword", "name"} <= seen


def test_the_pygments_lexer_is_the_entry_point_trialcode() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    module, name = project["entry-points"]["pygments.lexers"]["trialcode"].split(":")
    assert getattr(importlib.import_module(module), name) is TrialcodeLexer
    assert TrialcodeLexer.aliases[0] == "trialcode" and "*.trial" in TrialcodeLexer.filenames


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.name)
def test_the_pygments_lexer_matches_the_parser(path: Path) -> None:
    lexer = TrialcodeLexer()
    text = path.read_text(encoding="utf-8")
    kinds: dict[tuple[int, int], object] = {}
    line, column = 1, 1
    for ttype, value in lexer.get_tokens(text):
        assert ttype is not Error, (line, column, value)
        for ch in value:
            kinds[(line, column)] = ttype
            line, column = (line + 1, 1) if ch == "\n" else (line, column + 1)
    expected = {"comment": Comment, "string": String, "date": Number, "number": Number,
                "unit": Keyword.Type, "constant": Keyword.Constant, "operator": Operator.Word,
                "keyword": Keyword}
    wrong = []
    for kind, tline, tcolumn, value in _tokens(path):
        got = kinds.get((tline, tcolumn))
        if kind == "name":
            if got in Keyword:
                wrong.append((kind, tline, tcolumn, value, got))
        elif got not in expected[kind] or (kind == "keyword" and got in Keyword.Type):
            wrong.append((kind, tline, tcolumn, value, got))
    assert wrong == []
