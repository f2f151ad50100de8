"""trialcode: a clinical-trial protocol written once, as code, and checked, executed and rendered.

The public Python API. This facade is the only package that imports all four layers:

    import trialcode
    trial = trialcode.load("examples/nct06802718/protocol.trial")   # parse + check
    report = trialcode.check("protocol.trial")                       # diagnostics, no raise
    for result in trialcode.validate(trial, "patients.jsonl"):      # PatientResult | rejected
        ...
    html = trialcode.render(trial, "html")                           # the protocol document
    usdm = trialcode.export(trial, "usdm")                           # CDISC USDM 4.0 as a dict
    decisions = trialcode.monitor(trial, "interim.json")             # trial-level rules
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from protocol.errors import Diagnostic, ProtocolError, ProtocolSemanticError
from protocol.trial import Trial

# `dsl` (lark) and `protocol.check` are imported by the functions that use them, so that
# `trialcode --help` and the commands that need neither start without them.

if TYPE_CHECKING:
    from engine.monitor import MonitorReport
    from engine.patient import RejectedRecord
    from engine.results import PatientResult

__all__ = [
    "CheckReport",
    "ProtocolError",
    "Trial",
    "check",
    "check_text",
    "diagnostics",
    "export",
    "load",
    "load_source",
    "monitor",
    "render",
    "validate",
]


@attrs.frozen
class CheckReport:
    """The outcome of checking one protocol file: the model (when it parsed) and diagnostics."""

    path: str
    text: str | None
    trial: Trial | None
    diagnostics: tuple[Diagnostic, ...]
    # how the text was read (dsl.Reading): the language server's name index comes from it
    reading: Any = attrs.field(default=None, eq=False, repr=False)

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


def diagnostics(trial: Trial) -> tuple[Diagnostic, ...]:
    """Every problem of a parsed protocol: the semantic checks and, when they find no error,
    whether each interim rule's group sequential design can be solved (a design that cannot,
    such as Haybittle-Peto interim bounds that spend all of alpha, is an error with the reason)."""
    from protocol import check as _semantic

    found = _semantic.check(trial)
    if any(d.is_error for d in found) or not trial.stopping.interim_rules:
        return found
    try:
        from trialcode.design_verdicts import design_errors

        return design_errors(trial) + found
    except ImportError:  # a build without the statistics engine checks the language only
        return found


def check(path: str | Path) -> CheckReport:
    """Parse and check a protocol file; never raises for a bad protocol."""
    import dsl

    try:
        parsed = dsl.read_file(path)
    except ProtocolError as exc:
        return CheckReport(str(path), exc.source, None, exc.diagnostics)
    return CheckReport(str(path), parsed.text, parsed.trial, diagnostics(parsed.trial))


def check_text(text: str, filename: str = "<string>") -> CheckReport:
    """Parse and check protocol text; never raises for a bad protocol. The language server
    checks what the author types with it: the same parser and checker as `check`, so the same
    messages."""
    import dsl

    reading = dsl.read_source(text, filename)
    if reading.error is not None:
        return CheckReport(filename, text, None, reading.error.diagnostics, reading)
    trial = reading.parsed_or_raise().trial
    return CheckReport(filename, text, trial, diagnostics(trial), reading)


def load_source(text: str, filename: str = "<string>") -> Trial:
    """Parse and check protocol text; raise ProtocolError (with every error) if it is not valid."""
    import dsl

    trial = dsl.parse(text, filename)
    errors = [d for d in diagnostics(trial) if d.is_error]
    if errors:
        raise ProtocolSemanticError(errors, text)
    return trial


def load(path: str | Path) -> Trial:
    """Parse and check a protocol file; raise ProtocolError (with every error) if it is not valid."""
    report = check(path)
    if not report.ok or report.trial is None:
        raise ProtocolSemanticError(report.errors, report.text)
    return report.trial


def validate(
    trial: Trial, patients: str | Path, as_of: datetime.date | None = None
) -> Iterator[PatientResult | RejectedRecord]:
    """Evaluate every patient of a trialcode patient file (JSON lines) against `trial`, streaming.

    Yields a PatientResult per patient and a RejectedRecord for every input record that could
    not be used; `as_of` is the data cut (default: today).
    """
    from engine import evaluate_all
    from engine.io import read_patients

    return evaluate_all(trial, read_patients(patients, trial), as_of)


def render(trial: Trial, fmt: str) -> str | bytes:
    """The protocol document as `md`, `html` (text) or `docx`, `pdf` (bytes)."""
    from render import render_document

    return render_document(trial, fmt)


def export(trial: Trial, fmt: str) -> Any:
    """A machine export: `usdm` (a JSON-able dict), `sdtm` (the trial-design datasets) or
    `ctgov` (eligibility text)."""
    from render.export import export_ctgov_eligibility, export_sdtm_design, export_usdm

    exporters = {"usdm": export_usdm, "sdtm": export_sdtm_design,
                 "ctgov": export_ctgov_eligibility}
    if fmt not in exporters:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(exporters)}")
    return exporters[fmt](trial)


def monitor(trial: Trial, interim: str | Path) -> MonitorReport:
    """Decisions of the trial-level stopping rules on an interim-data file (trialcode.interim/1)."""
    from engine.interim_data import load_interim_data
    from engine.monitor import monitor as run_monitor

    return run_monitor(trial, load_interim_data(interim))
