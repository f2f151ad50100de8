"""No recursion limit is reachable from a protocol's text (issue 15): very deep or very long
input gives a result or a located error, in the parser, the model builder, the checker, the
formatter, the engine and the renderers, never a RecursionError."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import dsl
import trialcode
from dsl.formatter import format_source
from dsl.walk import MAX_NESTING
from protocol.errors import ProtocolSyntaxError
from render.prose import criterion_text

HEAD = """trial deep {
  data {
    lab alt "Alanine aminotransferase" unit U/L
    event ae "Adverse event" attributes grade
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    visit baseline "Baseline" at day 0 { alt }
  }
  inclusion {
    I1 "Deep.": %s
  }
}
"""

ATOM = "latest alt before randomization <= 3 x ULN"


def _alternating(levels: int) -> str:
    """`(a and (a or (a and ...)))`: every level a group of the other operator."""
    text = ATOM
    for i in range(levels - 1):
        word = "and" if i % 2 else "or"
        text = f"{ATOM} {word} ({text})"
    return text


def _patients(tmp_path: Path) -> Path:
    path = tmp_path / "patients.jsonl"
    lines = [{"format": "trialcode.patients/1", "trial": "deep"},
             {"id": "P1", "arm": "a", "sex": "female", "birth_date": "1970-01-01", "events": [
                 {"type": "anchor", "anchor": "randomization", "date": "2024-01-10"},
                 {"type": "observation", "kind": "alt", "date": "2024-01-05", "value": 30,
                  "unit": "U/L", "reference_range": [5, 40]}]}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def _everything(text: str, tmp_path: Path) -> Iterator[object]:
    """Every consumer of the model, on one protocol text."""
    parsed = dsl.parse_source(text, "deep.trial")
    trial = trialcode.load_source(text, "deep.trial")
    yield trialcode.check_text(text, "deep.trial").ok
    formatted = format_source(parsed)
    yield dsl.parse(formatted) == parsed.trial  # the formatter's law, on the deep model
    yield trial.eligibility.criteria[0].expr == parsed.trial.eligibility.criteria[0].expr
    from render.prose import Prose

    yield Prose(trial).generated(trial.eligibility.criteria[0])
    yield criterion_text(trial, trial.eligibility.criteria[0])
    yield trialcode.render(trial, "html")
    yield trialcode.export(trial, "usdm")
    from protocol.serialize import dump

    yield json.dumps(dump(trial))
    results = list(trialcode.validate(trial, _patients(tmp_path), datetime.date(2024, 2, 1)))
    yield results


def _with_small_stack(limit: int = 600) -> object:
    """A recursion limit well below the default (1,000), so that a consumer that recursed
    a few frames per level would fail here rather than in a deeper caller's stack."""
    class Guard:
        def __enter__(self) -> None:
            self.old = sys.getrecursionlimit()
            sys.setrecursionlimit(len(_frames()) + limit)

        def __exit__(self, *exc: object) -> None:
            sys.setrecursionlimit(self.old)

    return Guard()


def _frames() -> list[object]:
    frame = sys._getframe()
    out = []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back  # type: ignore[assignment]
    return out


@pytest.mark.parametrize("expression", [
    pytest.param(_alternating(MAX_NESTING + 1), id="and-or-groups"),
    pytest.param("not " * MAX_NESTING + ATOM, id="not"),
    pytest.param("any ae where " * MAX_NESTING + "grade >= 3", id="where"),
    pytest.param("(" * 10_000 + ATOM + ")" * 10_000, id="10000-parentheses"),
    pytest.param(" and ".join([ATOM] * 10_000), id="10000-term-and"),
    pytest.param("\n      or ".join([ATOM] * 2_000), id="2000-line-or"),
    pytest.param(" + ".join(["latest alt before randomization"] * (MAX_NESTING - 1))
                 + " > 3 U/L", id="arithmetic"),
    pytest.param("abs(" * (MAX_NESTING - 1) + "latest alt" + ")" * (MAX_NESTING - 1)
                 + " > 3 U/L", id="calls"),
])
def test_every_consumer_takes_the_deepest_allowed_input(expression: str, tmp_path: Path) -> None:
    text = HEAD % expression
    with _with_small_stack():
        outputs = list(_everything(text, tmp_path))
    assert outputs[1] is True and outputs[2] is True


@pytest.mark.parametrize("expression, column", [
    pytest.param(_alternating(MAX_NESTING + 2), None, id="and-or-groups"),
    pytest.param("any ae where " * (MAX_NESTING + 1) + "grade >= 3", None, id="where"),
    pytest.param("not " * 10_000 + ATOM, len('    I1 "Deep.": ') + 1 + 4 * MAX_NESTING,
                 id="10000-not"),
    pytest.param("any ae where " * 10_000 + "grade >= 3", None, id="10000-where"),
    pytest.param("(" * 10_000 + _alternating(5_000) + ")" * 10_000, None, id="deep-groups"),
    pytest.param(" + ".join(["latest alt"] * 10_000) + " > 3 U/L", None, id="10000-term-sum"),
    pytest.param("abs(" * 10_000 + "latest alt" + ")" * 10_000 + " > 3 U/L", None,
                 id="10000-calls"),
])
def test_deeper_is_a_located_error(expression: str, column: int | None) -> None:
    text = HEAD % expression
    with pytest.raises(ProtocolSyntaxError) as caught:
        dsl.parse_source(text, "deep.trial")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == f"expression nested deeper than {MAX_NESTING} levels"
    assert diagnostic.span is not None and diagnostic.span.line == 11
    if column is not None:
        assert diagnostic.span.column == column
    report = trialcode.check_text(text, "deep.trial")  # and `check` says so, located
    assert report.render().startswith(f"deep.trial:11:{diagnostic.span.column}: error: "
                                      "expression nested deeper than")


def test_a_five_megabyte_protocol_is_read(tmp_path: Path) -> None:
    """5 MB of protocol text: comments, long labels and a thousand criteria."""
    criteria = "\n".join(f'    C{i} "{"x" * 4_000}": {ATOM}  # {"c" * 1_000}' for i in range(1_000))
    text = HEAD.replace('    I1 "Deep.": %s\n', criteria + "\n")
    assert len(text.encode()) > 5_000_000
    report = trialcode.check_text(text, "big.trial")
    assert report.ok and report.trial is not None
    assert len(report.trial.eligibility.criteria) == 1_000
