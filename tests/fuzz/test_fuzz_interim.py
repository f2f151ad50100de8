"""Fuzzing the interim-data file through `trialcode monitor` (issue 16): any JSON value in any
field, fields missing or unknown, looks out of order, numbers out of range, text that is not
JSON or not UTF-8, controls in notes. Every run ends with status 0 (the decisions) or 1 (the
file's problems, each located), without a traceback or anything a terminal would obey."""

from __future__ import annotations

import copy
import json
from typing import Any

from fuzzkit import FUZZ, SEED, assert_clean, run
from hypothesis import given, settings
from hypothesis import strategies as st

from trialcode import exits

GOOD: dict[str, Any] = {
    "format": "trialcode.interim/1",
    "trial": "NCT06802718",
    "data_cutoff": "2025-06-30",
    "note": "fuzz",
    "interim": {"rfs": {"looks": [
        {"information": 0.45, "events": 27, "hazard_ratio": 0.55, "date": "2025-06-30"},
        {"information": 1.0, "z": 2.1}]}},
    "safety": {"grade4": {"looks": [
        {"patients": 12, "events": 1, "date": "2024-06-30"},
        {"patients": 24, "events": 3, "date": "2024-12-31"}]}},
}
FIELDS = ["format", "trial", "data_cutoff", "note", "interim", "safety", "rfs", "grade4",
          "looks", "information", "events", "z", "hazard_ratio", "final", "date", "patients",
          "max_patients", "bogus"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.sampled_from([0, -1, 1, 2, 10**400, 1e308, -1e308, 1e-320, 0.5, 1.0000001]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "2025-02-30", "x\x1b[2Jy", "R\u202eL", "rfs", "grade4", "NaN",
                     "Infinity"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3)),
    max_leaves=5)


def _objects(node: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(node, dict):
        out.append(node)
        for value in node.values():
            out.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_objects(value))
    return out


@st.composite
def interim_files(draw: st.DrawFn) -> bytes:
    data = copy.deepcopy(GOOD)
    for _ in range(draw(st.integers(0, 4))):
        target = draw(st.sampled_from(_objects(data)))
        if draw(st.integers(0, 3)) == 0 and target:
            del target[draw(st.sampled_from(sorted(target)))]
        else:
            target[draw(st.sampled_from(FIELDS))] = draw(values)
    text = json.dumps(data)
    kind = draw(st.integers(0, 9))
    if kind == 0:
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == 1:
        text = text.replace('"z": 2.1', '"z": NaN')  # Python's json writes and reads NaN
    elif kind == 2:
        return text.encode() + b"\xff"
    elif kind == 3:
        text = text.replace('{"format"', '{"format": "x", "format"', 1)
    return text.encode()


@settings(FUZZ, max_examples=200)
@given(interim_files(), st.booleans())
def test_monitor_takes_any_interim_file(tmp_path_factory, content: bytes, as_json: bool) -> None:
    path = tmp_path_factory.mktemp("interim") / "interim.json"
    path.write_bytes(content)
    status, out, err = run("monitor", SEED, "--data", path, *(["--json"] if as_json else []))
    assert_clean(status, out, err)
    assert status in (exits.EXIT_OK, exits.EXIT_PROBLEMS), err
    if status == exits.EXIT_OK and as_json:
        json.loads(out)  # valid JSON whatever the input held


def test_the_good_file_gives_decisions(tmp_path) -> None:
    path = tmp_path / "interim.json"
    path.write_text(json.dumps(GOOD))
    status, out, err = run("monitor", SEED, "--data", path)
    assert_clean(status, out, err)
    assert status == exits.EXIT_OK and "rfs" in out and "grade4" in out
