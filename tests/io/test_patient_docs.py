"""The complete example of docs/patient-data.md loads against the seed protocol without a
rejected record, and the engine says about it what the document says."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import dsl
from engine.api import compile_trial
from engine.io.jsonl import read_lines
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient, RejectedRecord
from engine.results import EligibilityVerdict, Status

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "patient-data.md"


def example() -> tuple[str, list[str]]:
    """(protocol path, file lines) of the `<!-- example: PROTOCOL -->` JSON block: the header is
    its first line, the patient (pretty-printed over many lines in the document) the rest."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: (\S+) -->\s*```json\n(.*?)```", text, re.S)
    assert match, "the document has no marked example"
    lines = match.group(2).strip().splitlines()
    patient = json.loads(" ".join(lines[1:]))  # one JSON object, as the file's one line
    return match.group(1), [lines[0], json.dumps(patient)]


def test_the_documented_example_loads_and_evaluates_as_documented() -> None:
    protocol, lines = example()
    trial = dsl.parse_file(ROOT / protocol)
    items = list(read_lines(lines, "patients.jsonl", Vocabulary.from_trial(trial)))
    assert [str(r) for r in items if isinstance(r, RejectedRecord)] == []
    (patient,) = items
    assert isinstance(patient, Patient) and patient.id == "P001" and len(patient.events) == 29
    result = compile_trial(trial).evaluate(patient, datetime.date(2023, 6, 1))
    # "The patient had a hypothyroidism episode before randomization (exclusion E8)"
    assert result.eligibility.verdict is EligibilityVerdict.INELIGIBLE
    assert [c.id for c in result.eligibility.criteria if c.passes is False] == ["E8"]
    # "the third dose (planned 2023-03-16, window ±2 days) is a day late"
    third = [r for r in result.schedule if r.activity == "peg_ifn"][2]
    assert (third.planned_date, third.status, third.deviation_days) == (
        datetime.date(2023, 3, 16),
        Status.LATE,
        1,
    )
    # "the adverse event fires the protocol's discontinuation rule on the day it has lasted
    # more than 14 days"
    fired = [s for s in result.stopping if s.source == "rule"]
    assert [(s.action, s.date) for s in fired] == [("discontinue", datetime.date(2023, 4, 4))]
