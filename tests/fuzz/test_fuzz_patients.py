"""Fuzzing the patient file through `trialcode validate` (issue 16): whatever its lines hold
(bytes that are not UTF-8, JSON nested too deep, numbers of hundreds of digits, keys given
twice, controls and bidirectional overrides in any string, values of any JSON type in any
field), the run ends with a documented status, prints no traceback and nothing a terminal
would obey, and every line and every event is accounted for: each event is in its patient or
rejected, and each patient's events each have exactly one role in the result."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from fuzzkit import FUZZ, MINI, account_lines, assert_clean, run
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from engine.api import compile_trial, evaluate
from engine.io.jsonl import read_patients
from engine.patient import Patient
from trialcode import exits

TRIAL = dsl.parse_file(MINI)
COMPILED = compile_trial(TRIAL)
HEADER = json.dumps({"format": "trialcode.patients/1", "trial": TRIAL.name})

RECORDS: list[dict[str, Any]] = [
    {"type": "anchor", "name": "randomization", "date": "2024-01-10"},
    {"type": "visit", "visit": "screening", "date": "2024-01-03"},
    {"type": "visit", "visit": "baseline", "date": "2024-01-10"},
    {"type": "visit", "label": "Unscheduled", "date": "2024-02-01"},
    {"type": "observation", "kind": "alt", "date": "2024-01-05", "value": 30, "unit": "U/L",
     "low": 7, "high": 40, "visit": "screening"},
    {"type": "dose", "intervention": "drug_a", "start": "2024-01-11", "amount": 10, "unit": "mg"},
    {"id": "AE-1", "type": "adverse_event", "term": "Hepatitis", "grade": 3,
     "start": "2024-01-12", "end": "2024-01-25", "related": "drug_a", "serious": True},
    {"type": "disposition", "status": "completed", "date": "2024-03-01"},
]
PATIENT: dict[str, Any] = {"id": "P", "arm": "a", "sex": "female", "birth_date": "1970-05-04"}
KEYS = sorted({k for r in RECORDS for k in r} | set(PATIENT) | {"age", "collected", "bogus"})

HOSTILE_TEXT = ["\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "P1\u202e01", "\u2066x\u2069", "\r",
                "\x00", "=HYPERLINK(\"http://x\")", "\ud800", "a\nb", "\u200f", "é" * 3, ""]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30),
    st.sampled_from([0, -1, 2**63, 10**400, 1e308, -1e308, 0.1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["2024-02-30", "2024-01-15", "0001-01-01", "9999-12-31", "2024-01-15T25:00",
                     "U/L", "mg", "a", "b", "alt", "drug_a", "screening", "randomization"]),
    st.sampled_from(HOSTILE_TEXT), st.text(max_size=6),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
    max_leaves=6)


@st.composite
def patient_line(draw: st.DrawFn, n: int) -> str:
    patient = dict(PATIENT, id=f"P{n}")
    events = [dict(r) for r in draw(st.lists(st.sampled_from(RECORDS), max_size=8))]
    for target in draw(st.lists(st.integers(-1, max(len(events) - 1, 0)), max_size=3)):
        obj = patient if target < 0 or not events else events[target]
        obj[draw(st.sampled_from(KEYS))] = draw(values)
    patient["events"] = events
    text = json.dumps(patient)
    mangle = draw(st.integers(0, 11))
    if mangle == 0:  # a key given twice: the second would silently win in json.loads
        text = text.replace('{"id": ', '{"id": "X", "id": ', 1)
    elif mangle == 1:
        text = text[: draw(st.integers(0, len(text)))]  # cut short
    elif mangle == 2:
        text = "[" * 5000 + "]" * 5000  # nested too deep for a recursive parser
    return text


RAW_LINES = [b"\xff\xfe not utf-8", b'{"id": "P\xe9"}', b"null", b"[]", b"42", b'"text"',
             b'{"id": 12345678901234567890123, "events": []}', b"{}", b"\x1b[2J"]


@st.composite
def patient_files(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(1, 4))
    lines = [draw(patient_line(i)).encode("utf-8", "surrogatepass") for i in range(n)]
    for _ in range(draw(st.integers(0, 2))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(RAW_LINES)))
    return b"\n".join([HEADER.encode(), *lines]) + b"\n"


def _data_lines(content: bytes) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for number, raw in enumerate(content.split(b"\n")[1:], 2):
        if raw.strip():
            try:
                out[number] = json.loads(raw.decode("utf-8"))
            except (ValueError, RecursionError):
                out[number] = None
    return out


@settings(FUZZ, max_examples=200)
@given(patient_files())
def test_validate_takes_any_patient_file_and_accounts_for_every_record(tmp_path_factory,
                                                                       content: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "patients.jsonl"
    path.write_bytes(content)
    status, out, err = run("validate", MINI, "--patients", path, "--as-of", "2024-06-30",
                           "--json", folder / "r.json", "--csv", folder / "csv")
    assert_clean(status, out, err)
    assert status == exits.EXIT_OK
    report = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    items = list(read_patients(path, TRIAL))
    patients = [i for i in items if isinstance(i, Patient)]
    assert report["summary"]["patients"] == len(patients)
    assert report["summary"]["rejected"] == len(items) - len(patients)
    account_lines(items, _data_lines(content))
    for patient in patients:
        result = evaluate(COMPILED, patient, datetime.date(2024, 6, 30))
        assert [e.index for e in result.events] == list(range(len(patient.events)))
    for listing in (folder / "csv").iterdir():  # files made for Excel: no live formula
        for line in listing.read_text(encoding="utf-8-sig").splitlines()[1:]:
            assert not any(cell.startswith(("=", "+", "-", "@")) and not _number(cell)
                           for cell in line.split(",")), line


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_a_path_that_is_not_a_patient_file_exits_3(tmp_path: Path) -> None:
    for content in (b"", b"\xff\xfe", b"not json\n", b'{"format": "other/1"}\n'):
        path = tmp_path / "p.jsonl"
        path.write_bytes(content)
        status, out, err = run("validate", MINI, "--patients", path)
        assert_clean(status, out, err)
        assert status == exits.EXIT_DATA, err
