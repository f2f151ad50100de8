"""Laws of the formatter and the parser, over generated protocols and mangled text."""

from __future__ import annotations

from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import trials

import dsl
from dsl.formatter import format_source, format_trial
from protocol.errors import ProtocolError
from protocol.trial import Trial

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(trials())
def test_parse_of_format_is_identity(trial: Trial) -> None:
    text = format_trial(trial)
    assert dsl.parse(text) == trial


@SETTINGS
@given(trials())
def test_format_is_idempotent(trial: Trial) -> None:
    text = format_trial(trial)
    assert format_source(dsl.parse_source(text)) == text


SEED = (EXAMPLES / "nct06802718" / "protocol.trial").read_text(encoding="utf-8")
PILOT = (EXAMPLES / "cdiscpilot01" / "protocol.trial").read_text(encoding="utf-8")


def test_examples_are_canonical() -> None:
    # every bundled example: `make demo` runs `fmt --check` on each and fails on any
    paths = sorted(EXAMPLES.glob("*/protocol.trial"))
    assert len(paths) >= 6
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert format_source(dsl.parse_source(text)) == text, path.parent.name


def test_comments_survive_formatting() -> None:
    text = SEED.replace("  phase 3\n", "  phase 3   # a trailing note\n")
    text = text.replace("  inclusion {\n", "  inclusion {\n    # a note on the first criterion\n")
    out = format_source(dsl.parse_source(text))
    assert "  phase 3  # a trailing note\n" in out
    assert "  inclusion {\n    # a note on the first criterion\n    I1 " in out
    assert out.count("#") == text.count("#")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
def test_mangled_text_raises_only_protocol_errors(data: st.DataObject) -> None:
    """Cut, duplicate or insert anywhere: the parser answers with ProtocolError or a model."""
    text = data.draw(st.sampled_from([SEED, PILOT]))
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 40)))
    junk = data.draw(st.text(max_size=8))
    mangled = data.draw(st.sampled_from([text[:i] + text[j:], text[:i] + junk + text[i:],
                                         text[:i] + text[i:j] * 2 + text[j:]]))
    try:
        dsl.parse(mangled, "mangled.trial")
    except ProtocolError as exc:
        assert exc.diagnostics and all(d.span is None or d.span.line >= 1
                                       for d in exc.diagnostics)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_protocol_errors(text: str) -> None:
    try:
        dsl.parse(text)
    except ProtocolError:
        pass
