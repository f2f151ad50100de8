"""Every ```trial example in docs/ parses: the language reference cannot drift from the grammar."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

import dsl

DOCS = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"```trial\n(.*?)```", re.S)
EXAMPLES = [(doc.name, i, m.group(1)) for doc in DOCS
            for i, m in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8")))]


def test_the_reference_has_examples() -> None:
    assert sum(1 for name, _, _ in EXAMPLES if name == "language.md") >= 10


@pytest.mark.parametrize(("doc", "index", "text"), EXAMPLES,
                         ids=[f"{d}#{i}" for d, i, _ in EXAMPLES])
def test_doc_example_parses(doc: str, index: int, text: str) -> None:
    dsl.parse(text, f"{doc} example {index}")


def test_readme_example_checks_clean() -> None:
    """The README's protocol is a valid protocol, not just valid syntax."""
    import trialcode

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = BLOCK.search(text)
    assert block is not None
    trialcode.load_source(block.group(1), "README.md")


def test_model_json_doc_example_is_the_real_dump() -> None:
    """docs/model-json.md shows criterion I6 of the seed exactly as `dump` writes it."""
    import json

    from conftest import EXAMPLES

    import trialcode
    from protocol.serialize import to_data

    doc = (ROOT / "docs" / "model-json.md").read_text(encoding="utf-8")
    block = re.search(r"A criterion, for example:\n\n```json\n(.*?)```", doc, re.S)
    assert block is not None
    trial = trialcode.load(EXAMPLES / "nct06802718" / "protocol.trial")
    criterion = next(c for c in trial.eligibility.inclusion if c.id == "I6")
    assert json.loads(block.group(1)) == to_data(criterion)


@pytest.mark.parametrize(("doc", "index", "text"), EXAMPLES,
                         ids=[f"{d}#{i}" for d, i, _ in EXAMPLES])
def test_doc_example_designs_can_be_solved(doc: str, index: int, text: str) -> None:
    """An interim rule shown in the docs is one whose boundaries exist (issue 17: the language
    reference showed a two-sided classical bound with futility, which could not be solved)."""
    from engine.interim_design import design_diagnostics

    trial = dsl.parse(text, f"{doc} example {index}")
    assert [d.message for d in design_diagnostics(trial)] == []
