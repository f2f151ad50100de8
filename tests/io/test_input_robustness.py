"""No patient file makes trialcode raise: whatever a line holds, the loader gives patients and
rejected records, and the engine, the summary and the JSON report take every patient it gives.

Hypothesis writes patients of the seed trial from well-formed records of every event type and
patient field, then puts arbitrary JSON (nulls, booleans, huge and negative numbers, strings
that look like dates, units or names, lists, objects) into random fields. This matters more
since the engine is compiled (engine/native.py): compiled code checks values against their
type annotations, so a value the annotations did not foresee would raise a TypeError instead
of passing through. The run is made with the engine as installed (compiled under `make`)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from engine.api import Summary, compile_trial, evaluate
from engine.io.jsonl import read_lines
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient, RejectedRecord
from engine.report_json import patient_json

ROOT = Path(__file__).resolve().parent.parent.parent
TRIAL = dsl.parse_file(ROOT / "examples" / "nct06802718" / "protocol.trial")
COMPILED = compile_trial(TRIAL)
VOCAB = Vocabulary.from_trial(TRIAL)
AS_OF = datetime.date(2024, 6, 30)
HEADER = json.dumps({"format": "trialcode.patients/1", "trial": TRIAL.name})

RECORDS: list[dict[str, Any]] = [
    {"type": "anchor", "name": "randomization", "date": "2024-01-10"},
    {"type": "visit", "visit": "screening", "label": "Screening", "date": "2024-01-03"},
    {"type": "visit", "visit": "baseline", "date": "2024-01-10"},
    {"type": "visit", "label": "Unscheduled", "date": "2024-02-01"},
    {"type": "observation", "kind": "alt", "date": "2024-01-05", "value": 30, "unit": "U/L",
     "low": 7, "high": 40, "visit": "screening"},
    {"type": "observation", "kind": "remission", "date": "2024-01-02", "value": "CR1"},
    {"type": "observation", "kind": "molecular_mrd", "date": "2024-01-03", "value": None,
     "unit": "%", "detected": False},
    {"type": "observation", "kind": "ecog", "date": "2024-01-02", "value": 1},
    {"type": "dose", "intervention": "peg_ifn", "start": "2024-01-11", "amount": 135,
     "unit": "ug", "route": "subcutaneous"},
    {"type": "dose", "intervention": "peg_ifn", "start": "2024-01-18", "end": "2024-01-20",
     "amount": 135, "unit": "ug"},
    {"type": "disposition", "status": "discontinued", "date": "2024-03-01",
     "reason": "adverse event"},
    {"type": "disposition", "status": "adverse event", "date": "2024-03-02", "effect": "withdraw"},
    {"type": "adverse_event", "term": "Neutropenia", "grade": 3, "start": "2024-02-01",
     "end": "2024-02-20", "related": "peg_ifn", "serious": False},
    {"type": "condition", "kind": "active_infection", "start": "2023-12-01", "ongoing": True},
    {"type": "occurrence", "kind": "consolidation_cycle", "start": "2023-06-01",
     "end": "2023-06-20", "attributes": {"regimen": "HDAC"}},
]
PATIENT: dict[str, Any] = {"id": "F1", "arm": "ifn", "sex": "female",
                           "birth_date": "1970-05-04"}
KEYS = sorted({k for r in RECORDS for k in r} | set(PATIENT) | {"age", "collected", "bogus"})

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(10**20), 10**20), st.sampled_from([0, 1, -1, 7, 135, 2**63]),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.5, -3.25, 1e308]),
    st.sampled_from(["", " ", "2024-02-30", "2024-1-5", "2024-01-15", "1900-01-01",
                     "9999-12-31", "U/L", "mg/dL", "10*9/L", "%", "ifn", "control", "screening",
                     "randomization", "peg_ifn", "alt", "CR1", "yes", "none", "withdrawn",
                     "withdraw", "discontinue", "complete"]),
    st.text(max_size=8),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS + ["regimen"]), inner,
                                                 max_size=3)), max_leaves=6)


@st.composite
def patient_lines(draw: st.DrawFn) -> str:
    patient = dict(PATIENT)
    events = [dict(r) for r in draw(st.lists(st.sampled_from(RECORDS), max_size=12))]
    for target in draw(st.lists(st.integers(-1, max(len(events) - 1, 0)), max_size=4)):
        obj = patient if target < 0 or not events else events[target]
        obj[draw(st.sampled_from(KEYS))] = draw(values)
    patient["events"] = events
    if draw(st.integers(0, 9)) == 0:
        patient["events"] = draw(values)  # not a list at all, sometimes
    return json.dumps(patient)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(patient_lines(), min_size=1, max_size=4))
def test_no_patient_file_makes_trialcode_raise(lines: list[str]) -> None:
    # distinct ids, so that the duplicate-id rule does not hide everything after the first line
    lines = [line.replace('"id": "F1"', f'"id": "F{n}"', 1) for n, line in enumerate(lines)]
    summary = Summary(TRIAL)
    items = list(read_lines([HEADER, *lines], "fuzz.jsonl", VOCAB))
    assert items, "every line gives a patient or a rejected record"
    for item in items:
        assert isinstance(item, Patient | RejectedRecord)
        if isinstance(item, Patient):
            result = evaluate(COMPILED, item, AS_OF)
            summary.add(result)
            json.dumps(patient_json(result), default=str)
        else:
            summary.add(item)
    summary.result()
