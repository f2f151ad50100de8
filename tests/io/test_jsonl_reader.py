"""The trialcode.patients/1 reader: every rejection kind with its exact message, streaming, and
a round trip through the writer."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import pytest

import dsl
from engine.io.jsonl import (
    FORMAT,
    PatientFileError,
    dumps_patients,
    event_to_json,
    read_lines,
    read_patients,
)
from engine.io.vocabulary import Vocabulary
from engine.patient import (
    AnchorEvent,
    ClockTime,
    Disposition,
    DoseEvent,
    Observation,
    Occurrence,
    Patient,
    RecordRef,
    RejectedRecord,
    VisitEvent,
)

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"
HEADER = json.dumps({"format": FORMAT})


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_trial(dsl.parse_file(SEED))


def load(lines: list[str], vocab: Vocabulary | None = None) -> list[Patient | RejectedRecord]:
    return list(read_lines([HEADER, *lines], "p.jsonl", vocab or Vocabulary()))


def patient_line(*events: dict, **fields: object) -> str:
    return json.dumps({"id": "P1", **fields, "events": list(events)})


def rejections(items: list[Patient | RejectedRecord]) -> list[str]:
    return [str(r) for r in items if isinstance(r, RejectedRecord)]


def only_rejection(event: dict, vocab: Vocabulary | None = None, **fields: object) -> str:
    out = rejections(load([patient_line(event, **fields)], vocab))
    assert len(out) == 1, out
    return out[0]


ALT = {"type": "observation", "kind": "alt", "date": "2023-02-20", "value": 31, "unit": "U/L"}


# ---- a good patient --------------------------------------------------------------------------


def test_every_event_type_is_read(vocab: Vocabulary) -> None:
    events = [
        {"type": "anchor", "name": "randomization", "date": "2023-03-01"},
        {"type": "visit", "visit": "baseline", "date": "2023-03-01T09:30"},
        {**ALT, "low": 7, "high": 40, "visit": "screening"},
        {
            "type": "observation",
            "kind": "molecular_mrd",
            "date": "2023-02-20",
            "value": None,
            "detected": False,
        },
        {
            "type": "dose",
            "intervention": "peg_ifn",
            "start": "2023-03-02",
            "amount": 135,
            "unit": "ug",
            "route": "subcutaneous",
        },
        {"type": "disposition", "status": "completed", "date": "2023-09-01"},
        {
            "id": "AE-1",
            "type": "adverse_event",
            "term": "Fatigue",
            "grade": 2,
            "start": "2023-03-05",
            "ongoing": True,
            "related": "peg_ifn",
            "serious": False,
        },
        {"type": "condition", "kind": "hypothyroidism", "start": "2015-01-01", "end": "2015-06-01"},
        {
            "type": "occurrence",
            "kind": "consolidation_cycle",
            "start": "2022-08-01",
            "attributes": {"regimen": "HDAC"},
        },
    ]
    items = load([patient_line(*events, arm="ifn", sex="female", birth_date="1971-03-02")], vocab)
    assert rejections(items) == []
    (p,) = items
    assert isinstance(p, Patient)
    assert (p.id, p.arm, p.sex, p.birth_date) == ("P1", "ifn", "female", datetime.date(1971, 3, 2))
    assert p.ref == RecordRef("p.jsonl", "line 2")
    e = p.events
    assert e[0] == AnchorEvent("randomization", datetime.date(2023, 3, 1), e[0].ref)
    # a date-time keeps its time of day beside its date
    assert e[1] == VisitEvent("baseline", "baseline", datetime.date(2023, 3, 1), e[1].ref,
                              ClockTime((9 * 60 + 30) * 60_000_000, "minute"))
    assert e[2] == Observation(
        "alt", datetime.date(2023, 2, 20), e[2].ref, 31, "U/L", 7, 40, None, "screening"
    )
    assert isinstance(e[3], Observation) and e[3].detected is False and e[3].value is None
    assert e[4] == DoseEvent(
        "peg_ifn", datetime.date(2023, 3, 2), e[4].ref, None, 135, "ug", "subcutaneous"
    )
    assert isinstance(e[5], Disposition)
    ae = e[6]
    assert isinstance(ae, Occurrence) and ae.kind == "adverse_event" and ae.ongoing
    assert dict(ae.attributes) == {
        "term": "Fatigue",
        "grade": 2,
        "related": "peg_ifn",
        "serious": False,
    }
    assert ae.ref == RecordRef("p.jsonl", "line 2, event 7 (id AE-1)")
    assert e[7] == Occurrence(
        "hypothyroidism", datetime.date(2015, 1, 1), e[7].ref, datetime.date(2015, 6, 1)
    )
    assert e[8].attribute("regimen") == "HDAC"  # type: ignore[union-attr]


# ---- whole-line rejections -------------------------------------------------------------------


def test_bad_json_rejects_the_line_and_names_the_patient_if_it_can() -> None:
    items = load(['{"id": "P2", "events": [}', json.dumps({"id": "P3"})])
    assert rejections(items) == [
        "p.jsonl line 2: patient P2: not valid JSON: Expecting value at column 25; "
        "the whole line is rejected"
    ]
    assert [p.id for p in items if isinstance(p, Patient)] == ["P3"]


def test_missing_id() -> None:
    assert rejections(load([json.dumps({"events": []})])) == [
        "p.jsonl line 2: field id: patient id missing; the whole line is rejected"
    ]


def test_id_not_a_string() -> None:
    assert rejections(load([json.dumps({"id": 12})])) == [
        "p.jsonl line 2: field id: patient id must be a non-empty string, not the number 12; "
        "the whole line is rejected"
    ]


def test_line_not_an_object() -> None:
    assert rejections(load(["[1, 2]"])) == [
        "p.jsonl line 2: a patient line must be a JSON object {...}; the whole line is rejected"
    ]


def test_duplicate_id() -> None:
    items = load([json.dumps({"id": "P1"}), "", json.dumps({"id": "P1"})])
    assert rejections(items) == [
        "p.jsonl line 4: patient P1: field id: patient id 'P1' already appeared on line 2; "
        "the whole line is rejected"
    ]


# ---- patient fields --------------------------------------------------------------------------


def test_unknown_arm_keeps_the_patient(vocab: Vocabulary) -> None:
    items = load([patient_line(ALT, arm="ifm")], vocab)
    assert rejections(items) == [
        "p.jsonl line 2: patient P1: field arm: unknown arm 'ifm' (did you mean 'ifn'?); the "
        "protocol's arms are control, ifn (the patient is kept without an arm)"
    ]
    (p,) = [p for p in items if isinstance(p, Patient)]
    assert p.arm is None and len(p.events) == 1


def test_patient_field_problems() -> None:
    line = json.dumps(
        {"id": "P1", "sex": "F", "age": -3, "birth_date": "1971-02", "brith_date": "x"}
    )
    assert rejections(load([line])) == [
        "p.jsonl line 2: patient P1: field brith_date: unknown patient field 'brith_date' "
        "(did you mean 'birth_date'?)",
        'p.jsonl line 2: patient P1: field sex: sex must be "female" or "male", not "F"',
        "p.jsonl line 2: patient P1: field birth_date: unparseable date: partial date '1971-02': "
        "a full date YYYY-MM-DD is needed to place it on the protocol's day-precise timeline "
        "(trialcode does not impute dates)",
        "p.jsonl line 2: patient P1: field age: age -3 is not a plausible age in years",
    ]


def test_collected_from_header_and_patient() -> None:
    head = json.dumps({"format": FORMAT, "collected": ["alt"]})
    lines = [head, json.dumps({"id": "A"}), json.dumps({"id": "B", "collected": ["ast"]})]
    a, b = read_lines(lines, "p.jsonl")
    assert isinstance(a, Patient) and a.collected == frozenset({"alt"})
    assert isinstance(b, Patient) and b.collected == frozenset({"ast"})


# ---- event rejections: each alone, the rest of the patient kept ------------------------------


def test_unparseable_date() -> None:
    assert only_rejection({**ALT, "date": "2023-02-30"}) == (
        "p.jsonl line 2, event 1: patient P1: field date: unparseable date: '2023-02-30' is "
        "not a valid date"
    )


def test_date_not_iso() -> None:
    assert only_rejection({**ALT, "date": "20/02/2023"}) == (
        "p.jsonl line 2, event 1: patient P1: field date: unparseable date: '20/02/2023' is not "
        "a date of the form YYYY-MM-DD"
    )


def test_partial_date() -> None:
    assert only_rejection({**ALT, "date": "2023-02"}) == (
        "p.jsonl line 2, event 1: patient P1: field date: unparseable date: partial date "
        "'2023-02': a full date YYYY-MM-DD is needed to place it on the protocol's day-precise "
        "timeline (trialcode does not impute dates)"
    )


def test_missing_date() -> None:
    ev = {k: v for k, v in ALT.items() if k != "date"}
    assert (
        only_rejection(ev) == "p.jsonl line 2, event 1: patient P1: field date: 'date' is missing"
    )


def test_lab_value_without_unit(vocab: Vocabulary) -> None:
    ev = {k: v for k, v in ALT.items() if k != "unit"}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field unit: value 31 of alt has no unit "
        "(the protocol's unit is 'U/L')"
    )


def test_lab_unit_that_does_not_convert(vocab: Vocabulary) -> None:
    assert only_rejection({**ALT, "unit": "mg/dL"}, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field unit: unit 'mg/dL' of alt cannot be "
        "converted to the protocol's unit 'U/L'"
    )


def test_lab_unit_not_ucum(vocab: Vocabulary) -> None:
    assert only_rejection({**ALT, "unit": "units per litre"}, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field unit: unit 'units per litre' of alt is not a "
        "UCUM unit (the protocol's unit is 'U/L')"
    )


def test_lab_value_not_a_number(vocab: Vocabulary) -> None:
    assert only_rejection({**ALT, "value": "<5"}, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field value: value '<5' of alt (lab) is not a number"
    )


def test_category_value_not_in_protocol(vocab: Vocabulary) -> None:
    ev = {"type": "observation", "kind": "remission", "date": "2023-02-01", "value": "CR 1"}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field value: 'CR 1' is not a value of remission "
        "(did you mean 'CR1'?); the protocol allows 'CR1', 'CR2', 'CR3'"
    )


def test_score_out_of_range(vocab: Vocabulary) -> None:
    ev = {"type": "observation", "kind": "ecog", "date": "2023-02-01", "value": 7}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field value: ecog 7 is outside its range 0..5"
    )


def test_condition_written_as_observation(vocab: Vocabulary) -> None:
    ev = {"type": "observation", "kind": "pregnancy", "date": "2023-02-01", "value": 1}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field kind: pregnancy is declared as a condition "
        "in the protocol: write it as a condition event, not an observation"
    )


def test_lab_written_as_condition(vocab: Vocabulary) -> None:
    ev = {"type": "condition", "kind": "alt", "start": "2023-02-01", "ongoing": True}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field kind: alt is declared as a lab in the "
        "protocol: write it as an observation event"
    )


def test_unknown_event_type() -> None:
    assert only_rejection({"type": "lab", "kind": "alt"}) == (
        "p.jsonl line 2, event 1: patient P1: field type: unknown event type 'lab'; known types "
        "are anchor, visit, observation, dose, disposition, adverse_event, condition, occurrence"
    )


def test_event_without_type() -> None:
    assert only_rejection({"kind": "alt"}) == (
        "p.jsonl line 2, event 1: patient P1: field type: the event has no type; it must be one "
        "of anchor, visit, observation, dose, disposition, adverse_event, condition, occurrence"
    )


def test_event_not_an_object() -> None:
    assert only_rejection("alt 31") == (  # type: ignore[arg-type]
        'p.jsonl line 2, event 1: patient P1: an event must be an object {...}, not "alt 31"'
    )


def test_unknown_event_field() -> None:
    ev = {
        "type": "dose",
        "intervention": "peg_ifn",
        "start": "2023-03-02",
        "amount": 135,
        "unti": "ug",
    }
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field unti: unknown field 'unti' for a dose event "
        "(did you mean 'unit'?)"
    )


def test_dose_amount_without_unit() -> None:
    ev = {"type": "dose", "intervention": "peg_ifn", "start": "2023-03-02", "amount": 135}
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field unit: dose amount 135 has no unit"
    )


def test_unknown_intervention(vocab: Vocabulary) -> None:
    ev = {"type": "dose", "intervention": "peg-ifn", "start": "2023-03-02"}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field intervention: unknown intervention 'peg-ifn' "
        "(did you mean 'peg_ifn'?); the protocol's interventions are peg_ifn"
    )


def test_unknown_visit(vocab: Vocabulary) -> None:
    ev = {"type": "visit", "visit": "baseline_visit", "date": "2023-03-01"}
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field visit: unknown visit 'baseline_visit' (did "
        "you mean 'baseline'?); the protocol's visits are baseline, early_termination, "
        "end_of_treatment, screening, unscheduled (leave 'visit' out and give a 'label' for an "
        "unplanned visit)"
    )


def test_end_before_start() -> None:
    ev = {"type": "dose", "intervention": "x", "start": "2023-03-02", "end": "2023-03-01"}
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field end: end 2023-03-01 is before start 2023-03-02"
    )


def test_disposition_effect() -> None:
    ev = {"type": "disposition", "status": "adverse event", "date": "2023-03-02",
          "effect": "stop"}
    assert only_rejection(ev) == (
        'p.jsonl line 2, event 1: patient P1: field effect: effect must be one of "withdraw", '
        '"discontinue", "complete", "none", not "stop"'
    )
    plain = {k: v for k, v in ev.items() if k != "effect"}
    (p,) = load([patient_line({**ev, "effect": "discontinue"}, {**plain, "status": "completed"})])
    assert isinstance(p, Patient)
    assert [(e.status, e.effect) for e in p.events if isinstance(e, Disposition)] == [
        ("adverse event", "discontinue"), ("completed", None)]


def test_adverse_event_without_end_or_ongoing() -> None:
    ev = {"type": "adverse_event", "term": "Rash", "grade": 1, "start": "2023-03-02"}
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field end: the adverse event has no end date: give "
        '"end" (the start date for a one-day adverse event) or "ongoing": true'
    )


def test_adverse_event_bad_grade() -> None:
    ev = {
        "type": "adverse_event",
        "term": "Rash",
        "grade": "3",
        "start": "2023-03-02",
        "ongoing": True,
    }
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field grade: grade must be a whole number 1 to 5, "
        'not "3"'
    )


def test_adverse_event_related_to_unknown_intervention(vocab: Vocabulary) -> None:
    ev = {
        "type": "adverse_event",
        "term": "Rash",
        "grade": 3,
        "start": "2023-03-02",
        "ongoing": True,
        "related": "interferon",
    }
    assert only_rejection(ev, vocab) == (
        "p.jsonl line 2, event 1: patient P1: field related: related names unknown intervention "
        "'interferon'; use one of peg_ifn, or \"none\""
    )


def test_bad_attribute_value() -> None:
    ev = {
        "type": "occurrence",
        "kind": "cycle",
        "start": "2023-03-02",
        "attributes": {"drugs": ["a", "b"]},
    }
    assert only_rejection(ev) == (
        "p.jsonl line 2, event 1: patient P1: field attributes: attribute 'drugs' must be a "
        "string, number or true/false, not a list"
    )


def test_bad_event_does_not_drop_the_others(vocab: Vocabulary) -> None:
    items = load([patient_line(ALT, {**ALT, "date": "x"}, ALT)], vocab)
    (p,) = [p for p in items if isinstance(p, Patient)]
    assert len(p.events) == 2
    assert [r.ref.locator for r in items if isinstance(r, RejectedRecord)] == ["line 2, event 2"]


# ---- the file as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, message",
    [
        (
            '{"id": "P1"}',
            "p.jsonl line 1: not a trialcode patient file: the first line must be "
            'the header {"format": "trialcode.patients/1"}',
        ),
        (
            '{"format": "trialcode.patients/2"}',
            "p.jsonl line 1: format version 2 is not "
            "supported by this trialcode (it reads 'trialcode.patients/1')",
        ),
        (
            '{"format": "other/1"}',
            "p.jsonl line 1: unknown format 'other/1': expected 'trialcode.patients/1'",
        ),
    ],
)
def test_bad_header(first: str, message: str) -> None:
    with pytest.raises(PatientFileError) as err:
        list(read_lines([first], "p.jsonl"))
    assert str(err.value) == message


def test_header_for_another_trial(vocab: Vocabulary) -> None:
    with pytest.raises(PatientFileError, match="patients of trial 'X', but the protocol is"):
        list(read_lines([json.dumps({"format": FORMAT, "trial": "X"})], "p.jsonl", vocab))


def test_empty_file() -> None:
    with pytest.raises(PatientFileError, match="the file is empty"):
        list(read_lines(["", "  "], "p.jsonl"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PatientFileError, match="cannot read"):
        list(read_patients(tmp_path / "nope.jsonl"))


# ---- streaming and round trip ----------------------------------------------------------------


def test_reader_is_lazy() -> None:
    def lines():
        yield HEADER
        yield json.dumps({"id": "P1"})
        raise AssertionError("read past the first patient")

    first = next(iter(read_lines(lines(), "p.jsonl")))
    assert isinstance(first, Patient) and first.id == "P1"


def test_write_then_read_gives_the_same_patients(tmp_path: Path, vocab: Vocabulary) -> None:
    events = [
        {"type": "anchor", "name": "randomization", "date": "2023-03-01"},
        {"type": "visit", "label": "Unscheduled", "date": "2023-03-04"},
        {**ALT, "low": 7, "high": 40, "attributes": {"fasting": True}},
        {
            "type": "dose",
            "intervention": "peg_ifn",
            "start": "2023-03-02",
            "end": "2023-03-05",
            "amount": 135,
            "unit": "ug",
        },
        {"type": "disposition", "status": "withdrawn", "date": "2023-05-01", "reason": "moved"},
        {"type": "disposition", "status": "adverse event", "date": "2023-05-02",
         "effect": "discontinue"},
        {
            "type": "adverse_event",
            "term": "Rash",
            "grade": 1,
            "start": "2023-03-02",
            "end": "2023-03-02",
            "related": "none",
        },
        {"type": "adverse_event", "term": "Fatigue", "start": "2023-03-02", "ongoing": True},
        {"type": "condition", "kind": "hypothyroidism", "start": "2015-01-01", "ongoing": True},
        {"type": "occurrence", "kind": "induction_cycle", "start": "2022-06-01"},
    ]
    src = tmp_path / "a.jsonl"
    src.write_text(HEADER + "\n" + patient_line(*events, arm="ifn", age=50) + "\n")
    (first,) = read_patients(src, vocabulary=vocab)
    text = dumps_patients([first], trial="NCT06802718")  # type: ignore[list-item]
    (again,) = read_lines(io.StringIO(text), "a.jsonl", vocab)
    assert isinstance(first, Patient) and isinstance(again, Patient)
    strip = lambda p: [type(e)(**{**_fields(e), "ref": None}) for e in p.events]  # noqa: E731
    assert strip(again) == strip(first)
    assert (again.id, again.arm, again.age) == ("P1", "ifn", 50)


def _fields(event: object) -> dict:
    import attrs

    return attrs.asdict(event, recurse=False)  # type: ignore[arg-type]


# ---- date-times: the time of day is kept -------------------------------------------------------


@pytest.mark.parametrize(("text", "iso", "precision", "offset"), [
    ("2023-02-20T14:45", "14:45", "minute", None),
    ("2023-02-20T14:45:30", "14:45:30", "second", None),
    ("2023-02-20T14:45:30.250", "14:45:30.25", "second", None),
    ("2023-02-20T14", "14", "hour", None),
    ("2023-02-20T14:45Z", "14:45Z", "minute", 0),
    ("2023-02-20T14:45+02:00", "14:45+02:00", "minute", 120),
    ("2023-02-20T14:45-0530", "14:45-05:30", "minute", -330),
    ("2023-02-20T14:45+14", "14:45+14:00", "minute", 840),
])
def test_a_date_time_keeps_its_time_of_day(text: str, iso: str, precision: str,
                                          offset: int | None) -> None:
    (p,) = load([patient_line({**ALT, "date": text})])
    assert isinstance(p, Patient)
    (e,) = p.events
    assert isinstance(e, Observation) and e.date == datetime.date(2023, 2, 20)
    assert e.time is not None
    assert (e.time.iso(), e.time.precision, e.time.offset) == (iso, precision, offset)
    # written back as read
    assert event_to_json(e)["date"] == f"2023-02-20T{iso}"


@pytest.mark.parametrize(("text", "why"), [
    ("2023-02-20T24:00", "'2023-02-20T24:00' has no valid time of day"),
    ("2023-02-20T14:60", "'2023-02-20T14:60' has no valid time of day"),
    ("2023-02-20T14:45+15:00", "has a UTC offset outside those in use (-12:00 to +14:00)"),
    ("2023-02-20T14:45-13:00", "has a UTC offset outside those in use (-12:00 to +14:00)"),
])
def test_a_time_that_is_not_a_time_of_day_is_rejected(text: str, why: str) -> None:
    assert why in only_rejection({**ALT, "date": text})


def test_an_end_time_before_the_start_time_of_the_same_day_is_rejected() -> None:
    ev = {"type": "occurrence", "kind": "infection", "start": "2023-02-20T10:00",
          "end": "2023-02-20T09:00"}
    assert only_rejection(ev).endswith(
        "field end: end 2023-02-20T09:00 is before start 2023-02-20T10:00")
    ok = {**ev, "end": "2023-02-20T10:30"}
    (p,) = load([patient_line(ok)])
    assert isinstance(p, Patient)
    (e,) = p.events
    assert isinstance(e, Occurrence) and e.start_time is not None and e.end_time is not None
    assert event_to_json(e)["end"] == "2023-02-20T10:30"
