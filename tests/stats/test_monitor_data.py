"""engine.interim_data: the trialcode.interim/1 format; every bad input gives a whole, located
message (file, rule, look, field), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.interim_data import (
    InterimDataError,
    InterimLook,
    SafetyLook,
    load_interim_data,
    parse_interim_data,
)

ROOT = Path(__file__).resolve().parents[2]


def bad(text: str) -> list[str]:
    with pytest.raises(InterimDataError) as info:
        parse_interim_data(text, "d.json")
    return list(info.value.lines())


def bad_obj(obj: dict[str, Any]) -> list[str]:
    return bad(json.dumps({"format": "trialcode.interim/1", **obj}))


def test_full_example_parses():
    text = json.dumps(
        {
            "format": "trialcode.interim/1",
            "trial": "NCT06802718",
            "data_cutoff": "2025-06-30",
            "note": "illustrative",
            "interim": {
                "rfs": {
                    "note": "first look",
                    "looks": [
                        {"information": 0.45, "events": 27, "hazard_ratio": 0.55, "date": "2025-06-30"},
                        {"information": 1.0, "z": 2.0, "final": True, "note": "final"},
                    ],
                }
            },
            "safety": {
                "grade4": {"looks": [{"patients": 12, "events": 1}, {"patients": 24.0, "events": 3}]},
                "sae": {"patients": 30, "events": 2, "max_patients": 60},
            },
        }
    )
    d = parse_interim_data(text, "d.json")
    assert d.source == "d.json" and d.trial == "NCT06802718" and d.data_cutoff == "2025-06-30"
    (rfs,) = d.interim
    assert rfs.looks == (
        InterimLook(1, 0.45, 27, None, 0.55, None, "2025-06-30"),
        InterimLook(2, 1.0, None, 2.0, None, True, None),
    )
    grade4, sae = d.safety
    assert grade4.looks == (SafetyLook(1, 12, 1), SafetyLook(2, 24, 3))
    assert sae.looks == (SafetyLook(1, 30, 2),) and sae.max_patients == 60


def test_the_seed_example_file_reads():
    d = load_interim_data(ROOT / "examples" / "nct06802718" / "interim.json")
    assert d.note is not None and d.note.startswith("ILLUSTRATIVE")
    assert [r.name for r in d.interim] == ["rfs"] and [r.name for r in d.safety] == ["grade4"]


def test_not_json():
    assert bad('{"format": "trialcode.interim/1",\n "interim": {') == [
        "d.json: not valid JSON: Expecting property name enclosed in double quotes at line 2, "
        "column 14"
    ]
    assert bad('{"format": "trialcode.interim/1", "safety": {"g": {"patients": NaN}}}') == [
        "d.json: not valid JSON: NaN is not a number JSON allows"
    ]


def test_overflowing_number():
    text = '{"format": "trialcode.interim/1", "interim": {"rfs": {"looks": [{"information": 0.5, "z": 1e400}]}}}'
    assert bad(text) == [
        "d.json: interim rule 'rfs', look 1, field 'z': must be a finite number, got inf"
    ]


def test_duplicate_field():
    assert bad('{"format": "trialcode.interim/1", "interim": {}, "interim": {}}') == [
        "d.json: field 'interim' appears twice in one object"
    ]


def test_top_level():
    assert bad("[1, 2]") == ["d.json: the file must hold a JSON object, got a list"]
    assert bad('{"interim": {}}') == [
        "d.json: field 'format': is missing; it must be \"trialcode.interim/1\""
    ]
    assert bad('{"format": "trialcode.interim/2", "interim": {}}') == [
        "d.json: field 'format': must be \"trialcode.interim/1\", got \"trialcode.interim/2\""
    ]
    assert bad_obj({"trail": "X", "interim": {}}) == [
        "d.json: unknown field 'trail'; did you mean 'trial'?"
    ]
    assert bad_obj({"interim": {}, "cutoff": "2025-01-01"}) == [
        "d.json: unknown field 'cutoff'; expected one of format, trial, data_cutoff, note, "
        "interim, safety"
    ]
    assert bad_obj({}) == ["d.json: the file has neither 'interim' nor 'safety' data"]
    assert bad_obj({"interim": [], "trial": 3}) == [
        "d.json: field 'interim': must be an object mapping rule names to their data, got a list",
        "d.json: field 'trial': must be text, got 3",
    ]


def test_interim_rule_shape():
    assert bad_obj({"interim": {"rfs": []}}) == [
        "d.json: interim rule 'rfs': must be an object, got a list"
    ]
    assert bad_obj({"interim": {"rfs": {"look": []}}}) == [
        "d.json: interim rule 'rfs': unknown field 'look'; did you mean 'looks'?",
        "d.json: interim rule 'rfs', field 'looks': must be a list of looks, got null",
    ]
    assert bad_obj({"interim": {"rfs": {"looks": []}}}) == [
        "d.json: interim rule 'rfs', field 'looks': is empty: give at least one look"
    ]
    assert bad_obj({"interim": {"rfs": {"looks": [3]}}}) == [
        "d.json: interim rule 'rfs', look 1: must be an object, got 3"
    ]


@pytest.mark.parametrize(
    ("look", "messages"),
    [
        (
            {"information": "0.5", "z": 2.0},
            ["d.json: interim rule 'rfs', look 1, field 'information': must be a number, got \"0.5\""],
        ),
        (
            {"information": 0, "z": 2.0},
            ["d.json: interim rule 'rfs', look 1, field 'information': must be positive, got 0"],
        ),
        (
            {"information": 0.5, "z": True},
            ["d.json: interim rule 'rfs', look 1, field 'z': must be a number, got true"],
        ),
        (
            {"events": 2.5, "z": 1.0},
            ["d.json: interim rule 'rfs', look 1, field 'events': must be a whole number, got 2.5"],
        ),
        (
            {"events": 0, "z": 1.0},
            ["d.json: interim rule 'rfs', look 1, field 'events': must be positive, got 0"],
        ),
        (
            {"information": 0.5, "z": 1.0, "final": "yes"},
            ["d.json: interim rule 'rfs', look 1, field 'final': must be true or false, got \"yes\""],
        ),
        (
            {"information": 0.5, "hazard_ratio": -0.7, "events": 20},
            ["d.json: interim rule 'rfs', look 1, field 'hazard_ratio': must be positive, got -0.7"],
        ),
        (
            {"z": 1.0},
            ["d.json: interim rule 'rfs', look 1: give the information observed: 'information' or 'events'"],
        ),
        (
            {"information": 0.5},
            ["d.json: interim rule 'rfs', look 1: give the observed statistic: 'z' or 'hazard_ratio' with 'events'"],
        ),
        (
            {"information": 0.5, "z": 1.0, "hazard_ratio": 0.7, "events": 3},
            ["d.json: interim rule 'rfs', look 1: give either 'z' or 'hazard_ratio', not both"],
        ),
        (
            {"information": 0.5, "hazard_ratio": 0.7},
            ["d.json: interim rule 'rfs', look 1: field 'hazard_ratio' needs 'events' to be converted to Z"],
        ),
        (
            {"information": 0.5, "Z": 1.0},
            [
                "d.json: interim rule 'rfs', look 1: unknown field 'Z'; expected one of information, "
                "events, z, hazard_ratio, final, date, note",
                "d.json: interim rule 'rfs', look 1: give the observed statistic: 'z' or "
                "'hazard_ratio' with 'events'",
            ],
        ),
    ],
)
def test_interim_look_fields(look: dict[str, Any], messages: list[str]):
    assert bad_obj({"interim": {"rfs": {"looks": [look]}}}) == messages


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        (
            {"patients": 10},
            ["d.json: safety rule 'grade4', field 'events': is missing"],
        ),
        (
            {"patients": 0, "events": 0},
            ["d.json: safety rule 'grade4', field 'patients': must be positive, got 0"],
        ),
        (
            {"patients": 10, "events": -1},
            ["d.json: safety rule 'grade4', field 'events': must be at least 0, got -1"],
        ),
        (
            {"patients": 10, "events": 11},
            ["d.json: safety rule 'grade4', field 'events': 11 events is more than the 10 patients evaluated"],
        ),
        (
            {"patients": 10, "events": 1, "max_patient": 48},
            ["d.json: safety rule 'grade4': unknown field 'max_patient'; did you mean 'max_patients'?"],
        ),
        (
            {"patients": 10, "events": 1, "max_patients": "48"},
            ["d.json: safety rule 'grade4', field 'max_patients': must be a whole number, got \"48\""],
        ),
        (
            {"patients": 10, "events": 1, "looks": [{"patients": 10, "events": 1}]},
            ["d.json: safety rule 'grade4': give either 'looks' or 'patients' and 'events', not both"],
        ),
        (
            {"looks": [{"patients": 10, "events": 1, "n": 3}, {"events": 2}]},
            [
                "d.json: safety rule 'grade4', look 1: unknown field 'n'; expected one of "
                "patients, events, date, note",
                "d.json: safety rule 'grade4', look 2, field 'patients': is missing",
            ],
        ),
    ],
)
def test_safety_fields(body: dict[str, Any], messages: list[str]):
    assert bad_obj({"safety": {"grade4": body}}) == messages


def test_unreadable_file(tmp_path: Path):
    missing = tmp_path / "none.json"
    with pytest.raises(InterimDataError) as info:
        load_interim_data(missing)
    assert info.value.lines() == [f"{missing}: cannot read the file: No such file or directory"]
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"note": "caf\xe9"}')
    with pytest.raises(InterimDataError) as info:
        load_interim_data(latin)
    assert info.value.lines() == [f"{latin}: the file is not UTF-8 text: invalid continuation byte"]
