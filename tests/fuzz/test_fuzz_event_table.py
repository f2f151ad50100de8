"""Fuzzing the Parquet event table through `trialcode validate --patients FILE.parquet` (issue
16; the table is the patient file's other form, docs/patient-data.md): columns of any Parquet
type (text, integers, floats with inf and NaN, bytes, all null), hostile text (controls,
bidirectional overrides, formulas, dates that do not exist), rows without a patient or a type,
a patient's rows split by another's. Every run ends with status 0, or 3 when the file cannot be
used as a whole, prints no traceback and nothing a terminal would obey, and every row is
accounted for: an event of its patient, the patient's own row, or rejected."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
from fuzzkit import FUZZ, MINI, assert_clean, run
from hypothesis import event, given, settings
from hypothesis import strategies as st

import dsl
from engine.io.event_table import read_event_table
from engine.io.jsonl import PatientFileError
from engine.patient import Patient
from trialcode import exits

TRIAL = dsl.parse_file(MINI)
TYPES = ["patient", "anchor", "visit", "observation", "dose", "disposition", "adverse_event",
         None, "bogus", ""]
PATIENTS = ["P1", "P2", "P3", None, "", " ", "P\u202e4", "\x1b[2JP5", '=HYPERLINK("x")', "é"]
TEXT = ["2024-01-10", "2024-02-30", "0000-00-00", "2024-01-05T25:00", "randomization",
        "screening", "alt", "U/L", "mg", "a", "b", "female", "drug_a", "completed", "abc", "",
        "\x1b]0;t\x07", "R\u202eL", "\u2066x", "\x00", '{"grade": 3}', '{"a": 1, "a": 2}',
        "[1, 2", "-1", "1e400", "9" * 400]
INTEGERS = [0, 1, -1, 3, 30, 2**62, -(2**63), 20240110]
FLOATS = [0.0, 30.5, -1.0, float("inf"), float("-inf"), float("nan"), 1e308, 5e-324]
BYTES = [b"\xff", b"alt", b"\x1b[31m", b""]
COLUMNS = ["arm", "sex", "birth_date", "age", "name", "date", "visit", "label", "kind", "value",
           "unit", "low", "high", "intervention", "start", "end", "amount", "status", "term",
           "grade", "related", "serious", "attributes", "value_text", "id"]
FLAVOURS = {
    "text": (pa.string(), st.sampled_from(TEXT)),
    "int": (pa.int64(), st.sampled_from(INTEGERS)),
    "float": (pa.float64(), st.sampled_from(FLOATS)),
    "bytes": (pa.binary(), st.sampled_from(BYTES)),
    "bool": (pa.bool_(), st.booleans()),
}


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(1, 8))
    data = {
        "patient": pa.array([draw(st.sampled_from(PATIENTS[:3])) if draw(st.integers(0, 5))
                             else draw(st.sampled_from(PATIENTS)) for _ in range(n)], pa.string()),
        "type": pa.array([draw(st.sampled_from(TYPES)) for _ in range(n)], pa.string()),
    }
    for column in draw(st.lists(st.sampled_from(COLUMNS), max_size=6, unique=True)):
        kind, values = FLAVOURS[draw(st.sampled_from(sorted(FLAVOURS)))]
        data[column] = pa.array([draw(values) if draw(st.booleans()) else None
                                 for _ in range(n)], kind)
    return pa.table(data)


@settings(FUZZ, max_examples=80)
@given(tables())
def test_validate_takes_any_event_table_and_accounts_for_every_row(tmp_path_factory,
                                                                   table: pa.Table) -> None:
    folder = tmp_path_factory.mktemp("table")
    path = folder / "events.parquet"
    pq.write_table(table, path)
    status, out, err = run("validate", MINI, "--patients", path, "--as-of", "2024-06-30",
                           "--json", folder / "r.json")
    assert_clean(status, out, err)
    event(f'status {status}')
    try:
        items = [item for _, item in read_event_table(path, TRIAL)]
    except PatientFileError:
        assert status == exits.EXIT_DATA and not (folder / "r.json").exists()
        return
    assert status == exits.EXIT_OK, err
    report = json.loads((folder / "r.json").read_text(encoding="utf-8"))
    patients = [i for i in items if isinstance(i, Patient)]
    assert report["summary"]["patients"] == len(patients)
    assert report["summary"]["rejected"] == len(items) - len(patients)
    types = table.column("type").to_pylist()
    covered: set[int] = set()
    for item in items:
        rows = _rows(item.ref.locator)
        if isinstance(item, Patient):
            used = {_rows(e.ref.locator)[0] for e in item.events}
            assert used <= set(rows)
            assert not used & covered, "an event row used twice, or used and rejected"
            # the patient's own row is in the patient; its other rows are events or rejected
            covered |= used | {r for r in rows if types[r - 1] == "patient"}
        else:
            covered |= set(rows)
    assert covered == set(range(1, table.num_rows + 1))


def _rows(locator: str) -> list[int]:
    match = re.fullmatch(r"rows? (\d+)(?:-(\d+))?(?: \(id .*\))?", locator, re.S)
    assert match, locator
    first = int(match.group(1))
    return list(range(first, int(match.group(2) or first) + 1))
