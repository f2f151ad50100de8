"""The language server end to end: `python -m trialcode.cli lsp` in a child process, driven by
pygls's own LSP client over stdin/stdout, as an editor drives it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

import trialcode
from dsl import parse_source
from dsl.formatter import format_source

ROOT = Path(__file__).resolve().parents[2]
SEED = (ROOT / "examples" / "nct06802718" / "protocol.trial").read_text(encoding="utf-8")
URI = "file:///work/protocol.trial"
TIMEOUT = 60


class Session:
    """A running server and its client, with the diagnostics it has published."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = LanguageClient("trialcode-tests", "1")
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.published = asyncio.Queue[str]()
        self.version = 0

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.published.put_nowait(params.uri)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, TIMEOUT))

    def start(self) -> None:
        self.run(self.client.start_io(sys.executable, "-m", "trialcode.cli", "lsp", cwd=ROOT))
        self.run(self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri=ROOT.as_uri())))
        self.client.initialized(lsp.InitializedParams())

    def stop(self) -> None:
        self.run(self.client.shutdown_async(None))
        self.client.exit(None)
        self.run(self.client.stop())
        self.loop.close()

    def _drain(self) -> None:
        while not self.published.empty():
            self.published.get_nowait()

    def open(self, text: str, uri: str = URI) -> list[lsp.Diagnostic]:
        self._drain()
        self.version += 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="trialcode", version=self.version,
                                 text=text)))
        return self.wait(uri)

    def change(self, text: str, uri: str = URI) -> list[lsp.Diagnostic]:
        self._drain()
        self.version += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.wait(uri)

    def wait(self, uri: str) -> list[lsp.Diagnostic]:
        while self.run(self.published.get()) != uri:
            pass
        return self.diagnostics[uri]

    def at(self, text: str, needle: str, delta: int = 0) -> lsp.TextDocumentPositionParams:
        offset = text.index(needle) + delta
        line = text.count("\n", 0, offset)
        column = offset - (text.rfind("\n", 0, offset) + 1)
        return lsp.TextDocumentPositionParams(lsp.TextDocumentIdentifier(URI),
                                              lsp.Position(line, column))


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    s = Session()
    s.start()
    yield s
    s.stop()


def _text_of(text: str, rng: lsp.Range) -> str:
    lines = text.split("\n")
    assert rng.start.line == rng.end.line
    return lines[rng.start.line][rng.start.character:rng.end.character]


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    def offset(p: lsp.Position) -> int:
        lines = text.split("\n")
        return sum(len(line) + 1 for line in lines[:p.line]) + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def test_a_valid_protocol_has_no_diagnostics(session: Session) -> None:
    assert session.open(SEED) == []


def test_edits_that_break_and_repair_the_file(session: Session) -> None:
    session.open(SEED)
    broken = SEED.replace("allocation randomized", "allocatoin randomized", 1)
    diagnostics = session.change(broken)
    expected = trialcode.check_text(broken, "/work/protocol.trial").diagnostics
    assert [d.message.split("\nhint: ")[0] for d in diagnostics] == [e.message for e in expected]
    assert diagnostics[0].message == "unknown keyword 'allocatoin'\nhint: did you mean 'allocation'?"
    assert _text_of(broken, diagnostics[0].range) == "allocatoin"
    assert diagnostics[0].severity == lsp.DiagnosticSeverity.Error
    # an unclosed block, then the end of the file
    cut = SEED[:SEED.index("stopping {")]
    diagnostics = session.change(cut)
    assert diagnostics and "the file ends before this '{' is closed" in diagnostics[0].message
    assert session.change(SEED) == []  # repaired


def test_semantic_errors_are_those_of_check_with_their_ranges(session: Session) -> None:
    broken = SEED.replace("latest alt within", "latest alnt within", 1)
    diagnostics = session.open(broken)
    expected = trialcode.check_text(broken, "/work/protocol.trial").diagnostics
    assert [d.message for d in diagnostics] == [
        e.message + (f"\nhint: {e.hint}" if e.hint else "") for e in expected]
    (undefined,) = [d for d in diagnostics if d.message.startswith("undefined")]
    assert undefined.message == "undefined data item 'alnt'\nhint: did you mean 'alt'?"
    assert _text_of(broken, undefined.range).startswith("alnt within 14 days")


def test_the_quick_fix_applies_the_did_you_mean(session: Session) -> None:
    broken = SEED.replace("latest alt within", "latest alnt within", 1)
    diagnostics = session.open(broken)
    (undefined,) = [d for d in diagnostics if d.message.startswith("undefined")]
    params = lsp.CodeActionParams(
        lsp.TextDocumentIdentifier(URI), undefined.range,
        lsp.CodeActionContext(diagnostics=diagnostics))
    actions = session.run(session.client.text_document_code_action_async(params))
    assert [a.title for a in actions] == ["Change 'alnt' to 'alt'"]
    assert actions[0].edit is not None and actions[0].edit.changes is not None
    fixed = _apply(broken, actions[0].edit.changes[URI])
    assert fixed == SEED
    assert session.change(fixed) == []


def test_hover_on_a_criterion_shows_its_prose_and_the_data_it_reads(session: Session) -> None:
    session.open(SEED)
    hover = session.run(session.client.text_document_hover_async(
        lsp.HoverParams(**_pos(session.at(SEED, "I5 \"")))))
    text = hover.contents.value
    assert "Reads as: ALT ≤ 2.5 × ULN within 14 days before randomization" in text
    assert "`alt` (Alanine aminotransferase)" in text and "`bilirubin` (Total bilirubin)" in text


def test_hover_on_a_data_item_shows_its_declaration_and_uses(session: Session) -> None:
    session.open(SEED)
    hover = session.run(session.client.text_document_hover_async(
        lsp.HoverParams(**_pos(session.at(SEED, "latest alt", 8)))))
    text = hover.contents.value
    assert 'lab alt "Alanine aminotransferase" unit U/L' in text
    assert "criterion `I5`" in text and "visit `baseline`" in text


def test_hover_on_a_visit_shows_its_day_window_and_activities(session: Session) -> None:
    session.open(SEED)
    hover = session.run(session.client.text_document_hover_async(
        lsp.HoverParams(**_pos(session.at(SEED, "visit baseline", 7)))))
    text = hover.contents.value
    assert "**Baseline**: day 0" in text
    assert "alt (Alanine aminotransferase)" in text


def _pos(p: lsp.TextDocumentPositionParams) -> dict[str, Any]:
    return {"text_document": p.text_document, "position": p.position}


def test_definition_and_references(session: Session) -> None:
    session.open(SEED)
    location = session.run(session.client.text_document_definition_async(
        lsp.DefinitionParams(**_pos(session.at(SEED, "latest alt", 8)))))
    assert location.range.start.line == SEED[:SEED.index('lab alt "')].count("\n")
    refs = session.run(session.client.text_document_references_async(lsp.ReferenceParams(
        context=lsp.ReferenceContext(include_declaration=True),
        **_pos(session.at(SEED, "latest alt", 8)))))
    assert all(_text_of(SEED, r.range) == "alt" for r in refs)
    lines = [r.range.start.line + 1 for r in refs]
    assert len(lines) == len(set(lines)) >= 4


def test_rename_across_the_file(session: Session) -> None:
    session.open(SEED)
    edit = session.run(session.client.text_document_rename_async(lsp.RenameParams(
        new_name="alat", **_pos(session.at(SEED, "latest alt", 8)))))
    renamed = _apply(SEED, edit.changes[URI])
    assert "alt" not in {w for w in renamed.replace(",", " ").split()}
    assert session.change(renamed) == []
    assert trialcode.check_text(renamed).ok


def test_rename_to_a_keyword_is_refused(session: Session) -> None:
    session.open(SEED)
    with pytest.raises(Exception, match="reserved word"):
        session.run(session.client.text_document_rename_async(lsp.RenameParams(
            new_name="visit", **_pos(session.at(SEED, "latest alt", 8)))))


def test_completion_offers_what_the_grammar_expects_and_the_declared_names(
        session: Session) -> None:
    text = SEED.replace("latest alt within 14", "latest al", 1)
    session.open(text)
    result = session.run(session.client.text_document_completion_async(lsp.CompletionParams(
        **_pos(session.at(text, "latest al", 9)))))
    labels = [i.label for i in result.items]
    assert "alt" in labels and "ast" in labels
    assert labels.index("alt") < labels.index("randomization")  # data items first here
    assert "visit" not in labels  # a keyword the grammar does not accept here
    # at the start of a new line inside the inclusion block: a criterion or a continuation
    session.open(SEED)
    result = session.run(session.client.text_document_completion_async(lsp.CompletionParams(
        **_pos(session.at(SEED, "  I5 \"")))))
    labels = [i.label for i in result.items]
    assert "and" in labels and "or" in labels


def test_outline_lists_the_named_things_nested_in_their_blocks(session: Session) -> None:
    session.open(SEED)
    symbols = session.run(session.client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(URI))))
    (trial,) = symbols
    assert trial.name == "NCT06802718"
    blocks = {s.name: s for s in trial.children}
    assert {"data", "inclusion", "exclusion", "schedule", "stopping"} <= set(blocks)
    assert "alt" in [s.name for s in blocks["data"].children]
    assert "I5" in [s.name for s in blocks["inclusion"].children]


def test_formatting_gives_the_text_of_fmt(session: Session) -> None:
    messy = SEED.replace("  phase 3\n", "      phase    3\n", 1)
    session.open(messy)
    edits = session.run(session.client.text_document_formatting_async(
        lsp.DocumentFormattingParams(lsp.TextDocumentIdentifier(URI),
                                     lsp.FormattingOptions(tab_size=2, insert_spaces=True))))
    assert _apply(messy, edits) == format_source(parse_source(messy))
