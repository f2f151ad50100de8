"""Patient data as an event table (Parquet, one row per event with a patient column): the same
event model, checks and verdicts as the patient file, records cited by row, bad rows rejected
alone, and the same reports in one process or several."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import trialcode
from engine.io.event_table import read_event_table, write_event_table
from engine.io.jsonl import PatientFileError, write_patients
from engine.io.synthetic import TRIAL, cohort
from engine.patient import RejectedRecord
from tests.io.cohortkit import AS_OF, SEED_TRIAL
from trialcode.cli import main
from trialcode.parallel import chunks as chunking


def _objects(n: int, seed: int = 5) -> list[dict[str, object]]:
    import io

    text = io.StringIO()
    write_patients(text, cohort(n, seed), trial=TRIAL)
    return [json.loads(line) for line in text.getvalue().splitlines()[1:]]


def _report(tmp_path: Path, name: str, patients: Path, *extra: str) -> dict[str, object]:
    out = tmp_path / f"{name}.json"
    assert main(["validate", str(SEED_TRIAL), "--patients", str(patients), "--as-of", AS_OF,
                 "-q", "--json", str(out), *extra]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_an_event_table_gives_the_verdicts_of_the_patient_file(tmp_path: Path) -> None:
    objects = _objects(30)
    lines = tmp_path / "p.jsonl"
    lines.write_text("\n".join([json.dumps({"format": "trialcode.patients/1"})]
                               + [json.dumps(o) for o in objects]) + "\n", encoding="utf-8")
    table = tmp_path / "p.parquet"
    write_event_table(table, objects, metadata={"trial": TRIAL})
    a, b = _report(tmp_path, "lines", lines), _report(tmp_path, "table", table)
    assert a["summary"] == b["summary"]
    for p, q in zip(a["patients"], b["patients"], strict=True):  # type: ignore[call-overload]
        assert p["eligibility"]["verdict"] == q["eligibility"]["verdict"]
        assert [(r["activity"], r["status"], r["actual_date"]) for r in p["schedule"]] == [
            (r["activity"], r["status"], r["actual_date"]) for r in q["schedule"]]
    first = b["patients"][0]["schedule"][0]["source"]  # type: ignore[index]
    assert first.startswith("p.parquet row ")


def _bad_table(path: Path) -> int:
    """Bad rows in the synthetic cohort's event table; returns the first row of the repeat."""
    objects = _objects(24)
    objects[2]["events"].append({"type": "observation", "kind": "alt"})  # type: ignore[union-attr]
    write_event_table(path, objects)
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows.insert(40, {**rows[41], "patient": None})  # a row without a patient, inside P001's
    again = [r for r in rows if r["patient"] == "P002"][:3]
    at = next(i for i, r in enumerate(rows) if i > 290 and r["patient"] != rows[i - 1]["patient"])
    rows[at:at] = again  # P002's rows again, after other patients'
    pq.write_table(pa.Table.from_pylist(rows, table.schema), path)
    return at + 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bad_rows_are_rejected_alone_in_any_number_of_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    table = tmp_path / "bad.parquet"
    at_row = _bad_table(table)
    monkeypatch.setattr(chunking, "CHUNK_ROWS", 20)  # chunk ends fall inside P001's rows too
    report = _report(tmp_path, f"j{jobs}", table, "--jobs", jobs)
    messages = [(r["source"], r["message"]) for r in report["rejected"]]  # type: ignore[union-attr]
    assert ("bad.parquet row 41", "patient id missing; the row is rejected") in messages
    repeated = [m for m in messages if "already appeared" in m[1]]
    assert len(repeated) == 1 and repeated[0][0] == f"bad.parquet rows {at_row}-{at_row + 2}"
    assert "a patient's rows must be next to each other" in repeated[0][1]
    assert any("'date' is missing" in m for _, m in messages)
    assert report["summary"]["patients"] == 24  # type: ignore[index]
    # the same as one pass over the whole table, whatever the chunks
    one_pass = [item for _, item in read_event_table(table, trialcode.load(SEED_TRIAL))
                if isinstance(item, RejectedRecord)]
    assert messages == [(str(r.ref), r.message) for r in one_pass]
    if jobs == "2":
        assert report == _report(tmp_path, "again", table, "--jobs", "1")


def test_a_table_that_is_not_an_event_table_is_refused(tmp_path: Path) -> None:
    trial = trialcode.load(SEED_TRIAL)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"patient": ["P1"], "type": ["anchor"], "nmae": ["x"]}), path)
    with pytest.raises(PatientFileError, match="unknown column 'nmae' \\(did you mean 'name'\\?\\)"):
        list(read_event_table(path, trial))
    pq.write_table(pa.table({"subject": ["P1"]}), path)
    with pytest.raises(PatientFileError, match="not an event table: no column 'patient'"):
        list(read_event_table(path, trial))
