"""`trialcode.check()` and `check_text()` never raise (issue 16; docs/cli.md): a bad file, a
bad protocol and even a bug come back as errors in the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialcode
from protocol.errors import Severity

SEED = Path(__file__).resolve().parents[2] / "examples" / "nct06802718" / "protocol.trial"


def _bug(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("division by zero")


def test_a_bug_in_the_checker_is_an_error_of_the_report(monkeypatch):
    import protocol.check

    monkeypatch.setattr(protocol.check, "check", _bug)
    report = trialcode.check(SEED)
    assert not report.ok and report.trial is not None
    assert [d.render() for d in report.diagnostics] == [
        "error: internal error while checking: ZeroDivisionError: division by zero\n"
        "  hint: this is a bug in trialcode, not in the protocol; please report it"]
    text_report = trialcode.check_text(SEED.read_text(encoding="utf-8"))
    assert text_report.diagnostics == report.diagnostics


def test_a_bug_in_the_parser_is_an_error_of_the_report(monkeypatch):
    import dsl

    monkeypatch.setattr(dsl, "read_file", _bug)
    monkeypatch.setattr(dsl, "read_source", _bug)
    for report in (trialcode.check(SEED), trialcode.check_text("trial X {}")):
        assert not report.ok and report.trial is None
        assert report.errors[0].severity is Severity.ERROR
        assert report.errors[0].message == (
            "internal error while checking: ZeroDivisionError: division by zero")


@pytest.mark.parametrize("name", ["missing.trial", ".", "binary.trial"])
def test_a_file_that_cannot_be_read_is_an_error_of_the_report(name, tmp_path):
    (tmp_path / "binary.trial").write_bytes(b"\xff\xfe\x00trial")
    report = trialcode.check(tmp_path / name)
    assert not report.ok and report.trial is None
    assert report.errors[0].message.startswith(f"{tmp_path / name}: cannot read: ")


@settings(max_examples=60, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_check_text_never_raises_on_any_text(text):
    report = trialcode.check_text(text)
    assert report.ok == (not report.errors)
    assert all("internal error" not in d.message for d in report.diagnostics)


HOSTILE = [b"\xef\xbb\xbf", b"\xff", b"\xe9", b"\x00", "\u202e".encode(), "\u2066".encode(),
           b"\x1b[2J", b"\x1b]0;x\x07", b"\r", b"\x0c", b'"\\q"', b"1e400", b"9" * 400, b"and",
           b"or", b"{", b"}", b"(", b"\"", b"#", b"\n", "\ud800".encode("utf-8", "surrogatepass")]


@settings(max_examples=40, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=8)), max_size=8),
       st.integers(0, len(SEED.read_bytes())))
def test_check_of_a_file_never_raises_whatever_bytes_it_holds(tmp_path, pieces, at):
    # the seed protocol with bytes put anywhere: not UTF-8, controls, escapes, huge numbers
    content = SEED.read_bytes()
    path = tmp_path / "hostile.trial"
    path.write_bytes(content[:at] + b"".join(pieces) + content[at:])
    report = trialcode.check(path)
    assert report.ok == (not report.errors)
    assert all("internal error" not in d.message for d in report.diagnostics)
    shown = "\n".join(d.render() for d in report.diagnostics)
    assert not any(c in shown for c in "\x00\x1b\x07\r\u202e\u2066"), shown
