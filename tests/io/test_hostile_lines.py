"""Patient lines that once stopped a run (issue 16): each is now one rejected record naming its
line and reason, and the run goes on to the next patient.

A byte that is not UTF-8, a lone surrogate escape, a 400-digit number, JSON nested 100,000
deep, a key given twice, an invisible control in an id or a value: the file is read from disk
as `validate` reads it, and the patient on the next line is still there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dsl
from engine.io.jsonl import FORMAT, read_patients
from engine.io.vocabulary import Vocabulary
from engine.patient import Observation, Occurrence, Patient, RejectedRecord

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"
HEADER = json.dumps({"format": FORMAT}).encode()
NEXT = json.dumps({"id": "NEXT", "events": []}).encode()


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_trial(dsl.parse_file(SEED))


def read(tmp_path: Path, line: bytes, vocab: Vocabulary | None = None) -> list[object]:
    """The items read from a file whose second line is `line`, followed by a good patient."""
    path = tmp_path / "p.jsonl"
    path.write_bytes(HEADER + b"\n" + line + b"\n" + NEXT + b"\n")
    items = list(read_patients(path, vocabulary=vocab or Vocabulary()))
    assert isinstance(items[-1], Patient) and items[-1].id == "NEXT"  # the run went on
    return items[:-1]


def one_rejection(items: list[object]) -> RejectedRecord:
    rejected = [i for i in items if isinstance(i, RejectedRecord)]
    assert len(rejected) == 1, items
    return rejected[0]


def test_a_byte_that_is_not_utf8_rejects_its_line_naming_the_byte(tmp_path: Path) -> None:
    items = read(tmp_path, b'{"id": "P\xe9", "events": []}')
    r = one_rejection(items)
    assert items == [r]
    assert str(r.ref) == "p.jsonl line 2"
    assert "byte 0xe9 at column 10 is not UTF-8" in r.message
    assert r.message.endswith("the whole line is rejected")
    assert r.patient == "P\ufffd"  # what could be read of the id, the byte replaced
    r.patient.encode("utf-8")  # and it can be written to any report


def test_a_lone_surrogate_escape_rejects_its_line(tmp_path: Path) -> None:
    r = one_rejection(read(tmp_path, b'{"id": "P\\ud800", "events": []}'))
    assert "\\ud800 is half of a UTF-16 surrogate pair, not a character" in r.message


def test_a_surrogate_pair_is_a_character(tmp_path: Path) -> None:
    (patient,) = read(tmp_path, b'{"id": "P\\ud83d\\ude00", "events": []}')
    assert isinstance(patient, Patient) and patient.id == "P\U0001F600"


def test_a_number_of_400_digits_rejects_the_field(tmp_path: Path) -> None:
    items = read(tmp_path, b'{"id": "P2", "age": ' + b"9" * 400 + b', "events": []}')
    r = one_rejection(items)
    assert r.field == "age" and r.patient == "P2"
    assert r.message == "age must be a finite number, not a number too large to hold"
    assert any(isinstance(i, Patient) and i.id == "P2" and i.age is None for i in items)


@pytest.mark.parametrize("field", ["value", "low", "high"])
def test_a_number_too_large_in_an_observation_rejects_the_event(
    tmp_path: Path, vocab: Vocabulary, field: str
) -> None:
    event = {"type": "observation", "kind": "alt", "date": "2024-01-02", "value": 30,
             "unit": "U/L", "low": 7, "high": 40}
    text = json.dumps({"id": "P2", "events": [event, event]})
    # the second event (after the first has taught the fast path its shape) has the big number
    cut = text.rindex(f'"{field}": ') + len(f'"{field}": ')
    end = text.index(",", cut) if field != "high" else text.index("}", cut)
    line = (text[:cut] + "9" * 400 + text[end:]).encode()
    items = read(tmp_path, line, vocab)
    r = one_rejection(items)
    assert (r.field, str(r.ref)) == (field, "p.jsonl line 2, event 2")
    assert "finite number" in r.message


def test_an_infinite_reference_range_is_not_read_by_the_fast_path(
    tmp_path: Path, vocab: Vocabulary
) -> None:
    event = {"type": "observation", "kind": "alt", "date": "2024-01-02", "value": 30.5,
             "unit": "U/L", "low": 7.5, "high": 40.5}
    line = json.dumps({"id": "P2", "events": [event, {**event, "high": 1e400}]})
    r = one_rejection(read(tmp_path, line.encode(), vocab))
    assert r.field == "high"


def test_an_infinite_attribute_is_rejected(tmp_path: Path) -> None:
    event = {"type": "occurrence", "kind": "cycle", "start": "2024-01-02",
             "attributes": {"n": 1.5}}
    line = json.dumps({"id": "P2", "events": [event, {**event, "attributes": {"n": 1e400}}]})
    r = one_rejection(read(tmp_path, line.encode()))
    assert (r.field, str(r.ref)) == ("attributes", "p.jsonl line 2, event 2")


def test_json_nested_too_deep_rejects_its_line(tmp_path: Path) -> None:
    line = b'{"id": "P2", "events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = one_rejection(read(tmp_path, line))
    assert r.message == "not valid JSON: values are nested too deeply; the whole line is rejected"


def test_a_repeated_patient_id_key_rejects_the_line_without_guessing_the_patient(
    tmp_path: Path,
) -> None:
    r = one_rejection(read(tmp_path, b'{"id": "P2", "id": "P9", "events": []}'))
    assert r.patient is None and r.field == "id"
    assert "key 'id' appears twice in the patient" in r.message


def test_a_repeated_key_in_an_event_rejects_that_event_alone(tmp_path: Path) -> None:
    events = ('[{"type": "occurrence", "kind": "cycle", "start": "2024-01-02"},'
              ' {"type": "occurrence", "kind": "cycle", "start": "2024-01-02",'
              ' "start": "2024-02-02"}]')
    items = read(tmp_path, b'{"id": "P2", "events": ' + events.encode() + b"}")
    r = one_rejection(items)
    assert (r.field, str(r.ref)) == ("start", "p.jsonl line 2, event 2")
    assert "field 'start' is given twice in the event" in r.message
    (patient,) = [i for i in items if isinstance(i, Patient)]
    assert len(patient.events) == 1


def test_a_repeated_key_inside_attributes_rejects_its_event(tmp_path: Path) -> None:
    line = ('{"id": "P2", "events": [{"type": "occurrence", "kind": "cycle", '
            '"start": "2024-01-02", "attributes": {"regimen": "HDAC", "regimen": "DA"}}]}')
    r = one_rejection(read(tmp_path, line.encode()))
    assert r.field == "attributes" and "'attributes.regimen' is given twice" in r.message


@pytest.mark.parametrize("text", [
    '{"id": "P2", "events": [{"type": "occurrence", "kind": "a:b", "start": "2024-01-02"}]}',
    '{"id": "P2" , "events" : [{"type" :"occurrence", "kind": "x\\":", "start": "2024-01-02"}]}',
    '{"id": "P2", "events": [{"type": "occurrence", "kind": "x\\\\", "start": "2024-01-02"}]}',
])
def test_colons_and_quotes_in_values_are_not_taken_for_repeated_keys(
    tmp_path: Path, text: str
) -> None:
    (patient,) = read(tmp_path, text.encode())
    assert isinstance(patient, Patient) and isinstance(patient.events[0], Occurrence)


@pytest.mark.parametrize("pid", ["P\x1b[31mRED", "P\x1b]8;;http://x\x07link", "P1\u202e01",
                                 "P\x00", "P\r2"])
def test_a_patient_id_with_an_invisible_control_is_rejected(tmp_path: Path, pid: str) -> None:
    r = one_rejection(read(tmp_path, json.dumps({"id": pid, "events": []}).encode()))
    assert r.field == "id" and r.patient is None
    assert "displays differently from what it is" in r.message


@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_a_right_to_left_override_in_a_value_rejects_its_event(
    tmp_path: Path, vocab: Vocabulary, ensure_ascii: bool
) -> None:
    events = [{"type": "observation", "kind": "remission", "date": "2024-01-02", "value": "CR1"},
              {"type": "adverse_event", "term": "Rash \u202eevil", "start": "2024-01-02",
               "end": "2024-01-03"}]
    line = json.dumps({"id": "P2", "events": events}, ensure_ascii=ensure_ascii)
    items = read(tmp_path, line.encode(), vocab)
    r = one_rejection(items)
    assert (r.field, str(r.ref)) == ("term", "p.jsonl line 2, event 2")
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in r.message
    (patient,) = [i for i in items if isinstance(i, Patient)]
    assert [type(e) for e in patient.events] == [Observation]


def test_a_right_to_left_override_in_a_patient_field_rejects_the_line(tmp_path: Path) -> None:
    line = json.dumps({"id": "P2", "arm": "i\u2066fn", "events": []})
    r = one_rejection(read(tmp_path, line.encode()))
    assert r.field == "arm" and "U+2066 (LEFT-TO-RIGHT ISOLATE)" in r.message


def test_a_header_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + b"\n" + NEXT + b"\n")
    (patient,) = read_patients(path)
    assert isinstance(patient, Patient) and patient.id == "NEXT"


def test_a_birth_date_after_the_first_record_is_not_used(tmp_path: Path) -> None:
    # A birth in 2051 for a patient randomized in 2024 made the age -27 and the patient
    # 'not eligible' on the age criterion: a verdict from a typo. The date is rejected (the
    # patient is kept, with the age unknown), as DM.BRTHDTC is for SDTM data.
    line = json.dumps({"id": "P1", "birth_date": "2051-05-01", "events": [
        {"type": "anchor", "name": "randomization", "date": "2024-01-10"},
        {"type": "visit", "visit": "screening", "date": "2024-01-03"}]})
    items = read(tmp_path, line.encode())
    patient = next(i for i in items if isinstance(i, Patient))
    assert patient.birth_date is None and len(patient.events) == 2
    r = one_rejection(items)
    assert (r.field, r.patient, r.ref.locator) == ("birth_date", "P1", "line 2")
    assert r.message == ("birth_date 2051-05-01 is after the patient's first record "
                         "(2024-01-03, line 2, event 2): the birth date is not used")
    # a birth on the day of the first record is kept
    line = json.dumps({"id": "P1", "birth_date": "2024-01-03", "events": [
        {"type": "visit", "visit": "screening", "date": "2024-01-03"}]})
    (patient,) = read(tmp_path, line.encode())
    assert isinstance(patient, Patient) and patient.birth_date is not None
