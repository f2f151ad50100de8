"""`trialcode lsp`: the Language Server Protocol over stdin/stdout, with pygls.

Every open document is analysed (trialcode/lsp/analysis.py) when it is opened and after each
change: the same parser and checker as `trialcode check`, so the same messages, sent as
diagnostics with their ranges. Requests (hover, definition, references, rename, completion,
outline, formatting, quick fixes) are answered from the latest analysis.
"""

from __future__ import annotations

import bisect
import gc
import re
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from protocol.errors import Diagnostic, Severity
from protocol.source import Span
from trialcode.lsp.analysis import Analysis, Edit, Symbol, complete

NAME = "trialcode"
_NEWLINE = re.compile("\n")

_SYMBOL_KINDS = {
    "trial": lsp.SymbolKind.Module, "block": lsp.SymbolKind.Namespace,
    "data item": lsp.SymbolKind.Field, "intervention": lsp.SymbolKind.Function,
    "arm": lsp.SymbolKind.Class, "anchor": lsp.SymbolKind.Event,
    "visit": lsp.SymbolKind.Event, "epoch": lsp.SymbolKind.Namespace,
    "criterion": lsp.SymbolKind.Boolean, "rule": lsp.SymbolKind.Operator,
    "activity": lsp.SymbolKind.Method, "definition": lsp.SymbolKind.Constant,
}
_COMPLETION_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "data item": lsp.CompletionItemKind.Field,
    "intervention": lsp.CompletionItemKind.Function, "arm": lsp.CompletionItemKind.Class,
    "anchor": lsp.CompletionItemKind.Event, "visit": lsp.CompletionItemKind.Event,
    "definition": lsp.CompletionItemKind.Constant,
}


class Positions:
    """Offsets of a text to LSP positions and back (lines from 0, characters in UTF-16 code
    units, as LSP counts them by default; spans count code points)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        prefix = self.text[self.starts[line]:offset]
        return lsp.Position(line, _utf16(prefix))

    def offset(self, position: lsp.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        end = self.starts[position.line + 1] - 1 if position.line + 1 < len(self.starts) \
            else len(self.text)
        line = self.text[start:end]
        if line.isascii():
            return start + min(position.character, len(line))
        units = 0
        for i, ch in enumerate(line):
            if units >= position.character:
                return start + i
            units += 2 if ord(ch) > 0xFFFF else 1
        return end

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(self.position(start), self.position(end))

    def span(self, span: Span) -> lsp.Range:
        return self.range(span.start, max(span.end, span.start))


def _utf16(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


class TrialServer(LanguageServer):
    """The server, with the latest analysis of every open document."""

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("trialcode")
        except PackageNotFoundError:
            number = "0"
        super().__init__(NAME, number, text_document_sync_kind=lsp.TextDocumentSyncKind.Full)
        self.analyses: dict[str, Analysis] = {}

    def analyse(self, uri: str, text: str) -> Analysis:
        analysis, diagnostics = recheck(text, filename_of(uri), self.analyses.get(uri))
        self.analyses[uri] = analysis
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))
        return analysis

    def analysis(self, uri: str) -> Analysis | None:
        return self.analyses.get(uri)


def recheck(text: str, filename: str, previous: Analysis | None
            ) -> tuple[Analysis, list[lsp.Diagnostic]]:
    """What the server does when a document changes: the analysis and its diagnostics.

    The objects of the new analysis are then frozen out of the cycle collector's reach
    (gc.freeze): a 1,000-line protocol is a few hundred thousand objects, which the collector
    would otherwise walk at its next full pass, doubling the time of some edits. They are
    still freed by reference counting when the next analysis replaces them (an analysis holds
    no reference cycle)."""
    analysis = Analysis(text, filename, previous)
    positions = Positions(text)
    diagnostics = [to_lsp(d, positions) for d in analysis.diagnostics]
    gc.freeze()
    return analysis, diagnostics


def filename_of(uri: str) -> str:
    """The path a `file:` URI names, as messages show it; other URIs as they are."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def to_lsp(d: Diagnostic, positions: Positions) -> lsp.Diagnostic:
    """A trialcode diagnostic as LSP has it: the same message, its hint on a line of its own."""
    rng = positions.span(d.span) if d.span is not None else positions.range(0, 0)
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    severity = lsp.DiagnosticSeverity.Error if d.severity is Severity.ERROR \
        else lsp.DiagnosticSeverity.Warning
    return lsp.Diagnostic(range=rng, message=message, severity=severity, source=NAME)


def _edits(edits: list[Edit], positions: Positions) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=positions.range(e.start, e.end), new_text=e.text) for e in edits]


def _symbol(s: Symbol, positions: Positions) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=s.name or "?", detail=s.detail, kind=_SYMBOL_KINDS.get(s.kind, lsp.SymbolKind.Object),
        range=positions.range(s.start, s.end),
        selection_range=positions.range(s.selection_start, s.selection_end),
        children=[_symbol(c, positions) for c in s.children])


def build_server() -> TrialServer:
    """The language server with every feature registered."""
    server = TrialServer()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TrialServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.analyse(params.text_document.uri, params.text_document.text)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TrialServer, params: lsp.DidChangeTextDocumentParams) -> None:
        document = ls.workspace.get_text_document(params.text_document.uri)
        ls.analyse(params.text_document.uri, document.source)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TrialServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.analyses.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    def located(ls: TrialServer, uri: str, position: lsp.Position
                ) -> tuple[Analysis, Positions, int] | None:
        analysis = ls.analysis(uri)
        if analysis is None:
            return None
        positions = Positions(analysis.text)
        return analysis, positions, positions.offset(position)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: TrialServer, params: lsp.HoverParams) -> lsp.Hover | None:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, positions, offset = found
        answer = analysis.hover(offset)
        if answer is None:
            return None
        text, occurrence = answer
        rng = positions.span(occurrence.span) if analysis.current else None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                         range=rng)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: TrialServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, positions, offset = found
        target = analysis.definition(offset)
        if target is None or not analysis.current:
            return None
        return lsp.Location(uri=params.text_document.uri, range=positions.span(target.span))

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: TrialServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return []
        analysis, positions, offset = found
        return [lsp.Location(uri=params.text_document.uri, range=positions.span(o.span))
                for o in analysis.references(offset, params.context.include_declaration)]

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls: TrialServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, positions, offset = found
        occurrence = analysis.occurrence_at(offset) if analysis.current else None
        if occurrence is None or analysis.definition(offset) is None:
            return None
        return positions.span(occurrence.span)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls: TrialServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return None
        analysis, positions, offset = found
        try:
            edits = analysis.rename(offset, params.new_name)
        except ValueError as exc:
            from pygls.exceptions import JsonRpcInvalidParams

            raise JsonRpcInvalidParams(str(exc)) from None
        return lsp.WorkspaceEdit(changes={params.text_document.uri: _edits(edits, positions)})

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=[" ", "("]))
    def completion(ls: TrialServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        found = located(ls, params.text_document.uri, params.position)
        if found is None:
            return lsp.CompletionList(is_incomplete=False, items=[])
        analysis, _, offset = found
        items = [lsp.CompletionItem(label=c.label, detail=c.detail,
                                    kind=_COMPLETION_KINDS.get(c.kind, lsp.CompletionItemKind.Text),
                                    sort_text=f"{i:05d}")
                 for i, c in enumerate(complete(analysis, offset))]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: TrialServer, params: lsp.DocumentSymbolParams
                        ) -> list[lsp.DocumentSymbol]:
        analysis = ls.analysis(params.text_document.uri)
        if analysis is None:
            return []
        positions = Positions(analysis.text)
        return [_symbol(s, positions) for s in analysis.outline()]

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: TrialServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
        analysis = ls.analysis(params.text_document.uri)
        if analysis is None:
            return []
        text = analysis.formatted()
        if text is None or text == analysis.text:
            return []
        positions = Positions(analysis.text)
        return [lsp.TextEdit(range=positions.range(0, len(analysis.text)), new_text=text)]

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: TrialServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        analysis = ls.analysis(params.text_document.uri)
        if analysis is None:
            return []
        positions = Positions(analysis.text)
        wanted = positions.offset(params.range.start), positions.offset(params.range.end)
        actions = []
        for fix in analysis.fixes():
            span = fix.diagnostic.span
            assert span is not None
            if span.end < wanted[0] or span.start > wanted[1]:
                continue
            actions.append(lsp.CodeAction(
                title=fix.title, kind=lsp.CodeActionKind.QuickFix, is_preferred=True,
                diagnostics=[to_lsp(fix.diagnostic, positions)],
                edit=lsp.WorkspaceEdit(changes={
                    params.text_document.uri: _edits([fix.edit], positions)})))
        return actions

    return server


def serve(**kwargs: Any) -> None:
    """Run the server on stdin/stdout until the client says exit."""
    build_server().start_io(**kwargs)


__all__ = ["Positions", "TrialServer", "build_server", "filename_of", "recheck", "serve",
           "to_lsp"]
