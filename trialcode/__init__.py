"""trialcode: a clinical-trial protocol written once, as code, and checked, executed and rendered.

The public Python API. This facade is the only package that imports all four layers:

    import trialcode
    trial = trialcode.load("examples/nct06802718/protocol.trial")   # parse + check
    report = trialcode.check("protocol.trial")                       # diagnostics, no raise
"""

from __future__ import annotations

from pathlib import Path

import attrs

import dsl
from protocol import check as _semantic
from protocol.errors import Diagnostic, ProtocolError, ProtocolSemanticError
from protocol.trial import Trial

__all__ = ["CheckReport", "ProtocolError", "Trial", "check", "load", "load_source"]


@attrs.frozen
class CheckReport:
    """The outcome of checking one protocol file: the model (when it parsed) and diagnostics."""

    path: str
    text: str | None
    trial: Trial | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)

    def render(self) -> str:
        return "\n".join(d.render(self.text) for d in self.diagnostics)


def check(path: str | Path) -> CheckReport:
    """Parse and check a protocol file; never raises for a bad protocol."""
    try:
        parsed = dsl.read_file(path)
    except ProtocolError as exc:
        return CheckReport(str(path), exc.source, None, exc.diagnostics)
    return CheckReport(str(path), parsed.text, parsed.trial, _semantic.check(parsed.trial))


def load_source(text: str, filename: str = "<string>") -> Trial:
    """Parse and check protocol text; raise ProtocolError (with every error) if it is not valid."""
    trial = dsl.parse(text, filename)
    errors = [d for d in _semantic.check(trial) if d.is_error]
    if errors:
        raise ProtocolSemanticError(errors, text)
    return trial


def load(path: str | Path) -> Trial:
    """Parse and check a protocol file; raise ProtocolError (with every error) if it is not valid."""
    report = check(path)
    if not report.ok or report.trial is None:
        raise ProtocolSemanticError(report.errors, report.text)
    return report.trial
