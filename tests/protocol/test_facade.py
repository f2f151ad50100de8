"""The public Python API: one import gives load, check, validate, render, export and monitor."""

from __future__ import annotations

import datetime

from conftest import EXAMPLES

import trialcode
from engine.patient import RejectedRecord
from engine.results import PatientResult

SEED = EXAMPLES / "nct06802718"


def test_the_seed_trial_through_the_facade() -> None:
    trial = trialcode.load(SEED / "protocol.trial")
    results = list(trialcode.validate(trial, SEED / "patients.jsonl", datetime.date(2025, 1, 31)))
    patients = [r for r in results if isinstance(r, PatientResult)]
    assert len(patients) == 96
    assert not [r for r in results if isinstance(r, RejectedRecord)]
    html = trialcode.render(trial, "html")
    assert isinstance(html, str) and "NCT06802718" in html
    usdm = trialcode.export(trial, "usdm")
    assert usdm["study"]["name"]
    assert "Inclusion Criteria:" in trialcode.export(trial, "ctgov")
    report = trialcode.monitor(trial, SEED / "interim.json")
    assert [r.name for r in report.rules] == ["rfs", "grade4"]


def test_unknown_export_format_is_a_clear_error() -> None:
    import pytest

    trial = trialcode.load(SEED / "protocol.trial")
    with pytest.raises(ValueError, match="unknown export format 'pdf'; expected one of usdm"):
        trialcode.export(trial, "pdf")
