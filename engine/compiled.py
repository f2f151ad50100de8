"""A protocol compiled once for fast evaluation of many patients."""

from __future__ import annotations

import datetime

from engine.patient import Patient
from engine.results import PatientResult
from protocol.trial import Trial


class CompiledTrial:
    """Everything about a trial that does not depend on the patient, computed once."""

    def __init__(self, trial: Trial):
        self.trial = trial

    def evaluate(self, patient: Patient, as_of: datetime.date) -> PatientResult:
        raise NotImplementedError("the engine core is being written (issue 3)")


def compile_trial(trial: Trial) -> CompiledTrial:
    """Compile `trial` once; pass the result to `evaluate`/`evaluate_all`."""
    return CompiledTrial(trial)
