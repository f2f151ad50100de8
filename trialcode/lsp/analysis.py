"""What the language server knows about one protocol text, independent of the protocol of
the wire: diagnostics (the same as `trialcode check`), hover text, definitions, references,
renames, quick fixes, completion and the outline, all in terms of Spans and offsets.

trialcode/lsp/server.py turns these into LSP messages; tests can call them directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

import trialcode
from dsl.keywords import keywords
from dsl.names import (
    ANCHOR,
    ARM,
    CRITERION,
    DATA,
    EPOCH,
    INTERVENTION,
    RULE,
    TIME_POINTS,
    VISIT,
    NameIndex,
    Occurrence,
    Statement,
)
from protocol.errors import Diagnostic
from protocol.trial import Trial

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DID_YOU_MEAN = re.compile(r"did you mean '([^']+)'\?")
_QUOTED = re.compile(r"'([^']+)'")


@attrs.frozen
class Edit:
    """Replace the text from `start` to `end` (offsets) with `text`."""

    start: int
    end: int
    text: str


@attrs.frozen
class Fix:
    """A quick fix for one diagnostic."""

    title: str
    diagnostic: Diagnostic
    edit: Edit


class Analysis:
    """One version of a document: its check report and, when it parses, its name index.

    `last_good` is the analysis of the last version that parsed: while the author is in the
    middle of an edit that breaks the syntax, hover and go to definition still work from it."""

    def __init__(self, text: str, filename: str, last_good: Analysis | None = None):
        self.text = text
        self.filename = filename
        self.report = trialcode.check_text(text, filename)
        reading = self.report.reading
        self.names_now: NameIndex | None = reading.names if reading is not None else None
        self.parsed = reading.parsed if reading is not None else None
        # the last analysis that parsed, when this one does not (never itself: no cycle, so
        # that an old analysis is freed as soon as it is dropped)
        self._earlier: Analysis | None = None
        if self.names_now is None and last_good is not None:
            self._earlier = last_good.last_good

    @property
    def last_good(self) -> Analysis | None:
        return self if self.names_now is not None else self._earlier

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.report.diagnostics

    @property
    def names(self) -> NameIndex | None:
        return self.names_now if self.names_now is not None else (
            self.last_good.names_now if self.last_good is not None else None)

    @property
    def trial(self) -> Trial | None:
        if self.report.trial is not None:
            return self.report.trial
        return self.last_good.report.trial if self.last_good is not None else None

    @property
    def current(self) -> bool:
        """Whether the names are of this very text (positions in it are exact)."""
        return self.names_now is not None

    # ---- names -----------------------------------------------------------------------------

    def occurrence_at(self, offset: int) -> Occurrence | None:
        names = self.names
        if names is None:
            return None
        if self.current:
            return names.at(offset)
        # an older text: find the word under the cursor and look its name up
        word = word_at(self.text, offset)
        if word is None:
            return None
        return next((o for o in names.declarations() if o.name == word[2]), None)

    def definition(self, offset: int) -> Occurrence | None:
        occurrence = self.occurrence_at(offset)
        names = self.names
        if occurrence is None or names is None:
            return None
        return names.resolve(occurrence)

    def references(self, offset: int, include_declaration: bool = True) -> list[Occurrence]:
        declaration = self.definition(offset)
        if declaration is None or self.names is None or not self.current:
            return []
        found = self.names.references(declaration)
        return found if include_declaration else found[1:]

    def rename(self, offset: int, new_name: str) -> list[Edit]:
        """Every edit that renames the thing at `offset`; raises ValueError for a name that
        cannot be used (not a name, a keyword, or already declared in the same namespace)."""
        if not self.current:
            raise ValueError("the protocol does not parse; fix the syntax error first")
        found = self.references(offset)
        if not found:
            raise ValueError("there is no declared name here")
        if not _IDENT.match(new_name):
            raise ValueError(f"'{new_name}' is not a name (letters, digits and _)")
        if new_name in keywords().all:
            raise ValueError(f"'{new_name}' is a reserved word")
        kind = found[0].kinds[0]
        namespace = TIME_POINTS if kind in TIME_POINTS else (kind,)
        assert self.names is not None
        if self.names.declaration(new_name, namespace) is not None:
            raise ValueError(f"a {kind} named '{new_name}' already exists")
        return [Edit(o.span.start, o.span.end, new_name) for o in found]

    # ---- hover -----------------------------------------------------------------------------

    def hover(self, offset: int) -> tuple[str, Occurrence] | None:
        """Markdown about the name at `offset`, and the occurrence it is about."""
        occurrence = self.occurrence_at(offset)
        trial = self.trial
        if occurrence is None or trial is None or self.names is None:
            return None
        declaration = self.names.resolve(occurrence)
        if declaration is None:
            return None
        from trialcode.lsp import describe

        text = describe.describe(trial, declaration, self.names, self._source_of(declaration))
        return (text, occurrence) if text else None

    def _source_of(self, declaration: Occurrence) -> str:
        span = declaration.statement
        text = self.text if self.current else (
            self.last_good.text if self.last_good is not None else self.text)
        if span is None:
            return declaration.name
        return text[span.start:span.end]

    # ---- fixes -----------------------------------------------------------------------------

    def fixes(self) -> list[Fix]:
        """A quick fix for every diagnostic whose hint is a did-you-mean: the misspelt word
        replaced by the suggestion."""
        out = []
        for d in self.diagnostics:
            if d.hint is None or d.span is None:
                continue
            suggestion = _DID_YOU_MEAN.search(d.hint)
            wrong = _QUOTED.search(d.message)
            if suggestion is None or wrong is None:
                continue
            edit = _replace_word(self.text, d.span.start, max(d.span.end, d.span.start + 1),
                                 wrong.group(1), suggestion.group(1))
            if edit is not None:
                out.append(Fix(f"Change '{wrong.group(1)}' to '{suggestion.group(1)}'", d, edit))
        return out

    # ---- formatting ------------------------------------------------------------------------

    def formatted(self) -> str | None:
        """The text in canonical layout (`trialcode fmt`), or None when it does not parse."""
        if self.parsed is None:
            return None
        from dsl.formatter import format_source

        return format_source(self.parsed)

    # ---- outline ---------------------------------------------------------------------------

    def outline(self) -> list[Symbol]:
        names = self.names if self.current else None
        if names is None:
            return []
        return outline(names, self.text)


def word_at(text: str, offset: int) -> tuple[int, int, str] | None:
    """The identifier around `offset` (start, end, word), if any."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    if start == end or not _IDENT.match(text[start:end]):
        return None
    return start, end, text[start:end]


def _replace_word(text: str, start: int, end: int, wrong: str, right: str) -> Edit | None:
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(wrong)}(?![A-Za-z0-9_])")
    found = pattern.search(text, start, max(end, start + len(wrong)))
    if found is None:  # a span that starts before the word and ends on it
        line_end = text.find("\n", start)
        found = pattern.search(text, start, len(text) if line_end < 0 else line_end)
    if found is None:
        return None
    return Edit(found.start(), found.end(), right)


# ---- the outline ------------------------------------------------------------------------------

_BLOCK_TITLES = {
    "population": "population", "data_block": "data", "inclusion": "inclusion",
    "exclusion": "exclusion", "schedule": "schedule", "stopping": "stopping",
    "eligibility_time": "eligibility",
}


@attrs.define
class Symbol:
    """One entry of the document outline."""

    name: str
    detail: str
    kind: str  # a kind of dsl.names, a block title, or "activity"/"rule"
    start: int
    end: int
    selection_start: int
    selection_end: int
    children: list[Symbol] = attrs.field(factory=list)


def outline(names: NameIndex, text: str) -> list[Symbol]:
    """The protocol's statements as a tree, nested as in the text."""
    roots: list[Symbol] = []
    open_: list[Symbol] = []
    for st in names.statements:
        symbol = _symbol(st, text)
        if symbol is None:
            continue
        while open_ and not (open_[-1].start <= symbol.start and symbol.end <= open_[-1].end):
            open_.pop()
        (open_[-1].children if open_ else roots).append(symbol)
        open_.append(symbol)
    return roots


def _symbol(st: Statement, text: str) -> Symbol | None:
    span = st.span
    if st.rule == "trial":
        word = re.search(r"trial\s+([A-Za-z_][A-Za-z0-9_]*)", text[span.start:span.end])
        name = word.group(1) if word else "trial"
        sel = span.start + (word.start(1) if word else 0)
        return Symbol(name, "trial", "trial", span.start, span.end, sel, sel + len(name))
    if st.name is not None:
        occ = st.name
        return Symbol(occ.name, occ.kinds[0], occ.kinds[0], span.start, span.end,
                      occ.span.start, occ.span.end)
    if st.rule in _BLOCK_TITLES:
        title = _BLOCK_TITLES[st.rule]
        return Symbol(title, "", "block", span.start, span.end, span.start,
                      span.start + len(text[span.start:span.end].split(None, 1)[0]))
    if st.rule in ("activity", "patient_rule"):
        first_line = text[span.start:span.end].split("\n", 1)[0].strip()
        kind = "activity" if st.rule == "activity" else RULE
        return Symbol(first_line[:60], "", kind, span.start, span.end, span.start,
                      span.start + len(first_line.split(None, 1)[0]))
    return None


# ---- completion --------------------------------------------------------------------------------

# The kinds of name a keyword is followed by: what to offer first after it.
_NEXT_NAME = {
    "latest": (DATA,), "first": (DATA,), "lowest": (DATA,), "highest": (DATA,),
    "any": (DATA,), "count": (DATA,), "log_reduction": (DATA,), "retest": (DATA,),
    "before": TIME_POINTS, "after": TIME_POINTS, "until": TIME_POINTS, "at": TIME_POINTS,
    "on": TIME_POINTS, "if": (ANCHOR, VISIT, DATA), "of": (INTERVENTION, DATA),
    "discontinue": (INTERVENTION,), "dose": (INTERVENTION,), "arms": (ARM,),
    "assess": (DATA,), "procedure": (DATA,),
}


@attrs.frozen
class Completion:
    label: str
    kind: str  # "keyword" or a kind of dsl.names
    detail: str


def complete(analysis: Analysis, offset: int) -> list[Completion]:
    """What may be typed at `offset`: the keywords the grammar accepts there and, where it
    accepts a name, the declared names (those the previous keyword calls for first)."""
    from dsl.complete import expected_at

    text = analysis.text
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    expected = expected_at(text, start)
    kw = keywords()
    out: list[Completion] = []
    if expected is None:  # a syntax error before the cursor: offer everything
        words: Iterable[str] = sorted(kw.all)
        want_names = True
    else:
        words = sorted(w for w in expected.keywords)
        want_names = expected.name
    out.extend(Completion(w, "keyword", "keyword") for w in words)
    names = analysis.names
    if want_names and names is not None:
        previous = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text[max(0, start - 80):start])
        kinds = _NEXT_NAME.get(previous[-1], ()) if previous else ()
        seen: set[str] = set()
        declared = sorted(names.declarations(),
                          key=lambda o: (o.kinds[0] not in kinds, o.kinds[0], o.name))
        for o in declared:
            if o.name in seen or o.kinds[0] in (CRITERION, RULE, EPOCH):
                continue
            seen.add(o.name)
            out.append(Completion(o.name, o.kinds[0], o.kinds[0]))
    return out


__all__ = ["Analysis", "Completion", "Edit", "Fix", "Symbol", "complete", "outline", "word_at"]
