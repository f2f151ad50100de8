"""`validate --parquet DIR`: the report as tables (docs/results-tables.md), the same for any
number of processes, complete or absent (never half written), and `trialcode report DIR`, which
makes from them the very HTML report, CSV listings and terminal summary that `validate` makes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from render.report import parquet as results_folder
from render.report.parquet import PARTIAL_PREFIX, open_results, read_table
from render.report.tables import SCHEMAS, TABLES
from tests.io.cohortkit import AS_OF, PILOT, SDTM, SEED_TRIAL, bad_cohort
from trialcode.cli import main
from trialcode.exits import EXIT_INTERNAL
from trialcode.parallel import chunks as chunking

ROOT = Path(__file__).resolve().parent.parent.parent


def _tables(folder: Path) -> dict[str, pa.Table]:
    _, files = open_results(folder)
    return {t: read_table(files[t], t) for t in TABLES}


def _terminal_without_outputs(text: str) -> str:
    return text.split("\nReports:")[0]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cohort") / "cohort.jsonl"
    bad_cohort(path, 40)
    return path


def test_tables_hold_every_patient_row_and_rejected_record(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", str(SEED_TRIAL), "--patients", str(cohort), "--as-of", AS_OF]
    assert main([*args, "--parquet", str(tmp_path / "t"), "--json", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    tables = _tables(tmp_path / "t")
    patients = report["patients"]
    assert tables["patients"].column("patient").to_pylist() == [p["id"] for p in patients]
    assert tables["schedule"].num_rows == sum(len(p["schedule"]) for p in patients)
    assert tables["criteria"].num_rows == sum(len(p["eligibility"]["criteria"]) for p in patients)
    assert tables["evidence"].num_rows == sum(
        len(c["evidence"]) for p in patients for c in p["eligibility"]["criteria"]
    ) + sum(len(s["evidence"]) for p in patients for s in p["stopping"])
    # every input event, with its role (the JSON report lists only some and counts all)
    assert tables["events"].num_rows == sum(sum(p["event_counts"].values()) for p in patients)
    rejected = tables["rejected"].to_pylist()
    assert [f"{r['source_file']} {r['source_record']}" for r in rejected] == [
        r["source"] for r in report["rejected"]
    ]
    assert [r["message"] for r in rejected] == [r["message"] for r in report["rejected"]]
    summary = {(r["section"], r["name"], r["metric"]): r for r in tables["summary"].to_pylist()}
    assert summary[("run", None, "patients")]["value"] == report["summary"]["patients"]
    assert summary[("run", None, "rejected")]["value"] == report["summary"]["rejected"] == 5
    assert summary[("info", "schema", "text")]["text"] == "trialcode.results/2"
    assert summary[("info", "protocol", "text")]["text"] == SEED_TRIAL.read_text(encoding="utf-8")
    for table in TABLES:
        assert tables[table].schema.equals(SCHEMAS[table]), table
    first = tables["schedule"].to_pylist()[0]
    row = patients[0]["schedule"][0]
    assert (first["activity"], first["status"], first["planned_day"]) == (
        row["activity"], row["status"], row["planned_day"])
    assert not list((tmp_path / "t").glob(PARTIAL_PREFIX + "*"))


def test_tables_are_the_same_in_two_processes(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunking, "CHUNK_LINES", 6)
    args = ["validate", str(SEED_TRIAL), "--patients", str(cohort), "--as-of", AS_OF, "-q"]
    assert main([*args, "--parquet", str(tmp_path / "one")]) == 0
    assert main([*args, "--parquet", str(tmp_path / "two"), "--jobs", "2"]) == 0
    one, two = _tables(tmp_path / "one"), _tables(tmp_path / "two")
    for table in TABLES:
        assert one[table].equals(two[table]), table
    # more: the very same files (one per chunk, written by whichever process evaluated it)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.parquet"))
    assert files == sorted(
        p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.parquet"))
    lines = len(cohort.read_text(encoding="utf-8").splitlines()) - 1  # the header aside
    chunks = (lines + 5) // 6
    assert chunks > 2
    assert len(list((tmp_path / "one" / "patients").glob("*.parquet"))) == chunks
    for file in files:
        assert (tmp_path / "one" / file).read_bytes() == (tmp_path / "two" / file).read_bytes()


def _report_equals_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> None:
    out = tmp_path / "validate"
    out.mkdir()
    assert main(["validate", *args, "--parquet", str(tmp_path / "t"), "--html",
                 str(out / "r.html"), "--csv", str(out / "csv")]) == 0
    said = capsys.readouterr().out
    again = tmp_path / "report"
    again.mkdir()
    assert main(["report", str(tmp_path / "t"), "--html", str(again / "r.html"), "--csv",
                 str(again / "csv")]) == 0
    told = capsys.readouterr().out
    assert _terminal_without_outputs(told) == _terminal_without_outputs(said)
    assert (again / "r.html").read_bytes() == (out / "r.html").read_bytes()
    for name in ("deviations", "ineligibility", "stopping", "rejected"):
        assert (again / "csv" / f"{name}.csv").read_bytes() == (
            out / "csv" / f"{name}.csv").read_bytes(), name


def test_report_from_the_tables_is_the_report_of_the_run(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report_equals_validate(tmp_path, capsys, str(SEED_TRIAL), "--patients", str(cohort),
                            "--as-of", AS_OF)


@pytest.mark.skipif(not SDTM.is_dir(), reason="CDISC pilot data not present")
def test_report_from_the_tables_of_the_cdisc_pilot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report_equals_validate(tmp_path, capsys, str(PILOT / "protocol.trial"), "--sdtm", str(SDTM),
                            "--map", str(PILOT / "sdtm-map.toml"), "--as-of", "2015-03-31")


EXAMPLES = ROOT / "examples"
TIMED_EXAMPLES = {  # the examples with sub-day timepoints, and the data cut make demo uses
    "phase1_pk": "2024-06-19",
    "crossover_ab": "2024-06-04",
}


@pytest.mark.parametrize("example", sorted(TIMED_EXAMPLES))
def test_report_from_the_tables_of_sub_day_timepoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], example: str
) -> None:
    """The timepoint columns (minutes early or late, the planned and actual date-times) come back
    from the tables: the CSV listing's timepoint columns and the HTML are those of the run."""
    folder = EXAMPLES / example
    _report_equals_validate(tmp_path, capsys, str(folder / "protocol.trial"), "--patients",
                            str(folder / "patients.jsonl"), "--as-of", TIMED_EXAMPLES[example])
    header = (tmp_path / "report" / "csv" / "deviations.csv").read_text(
        encoding="utf-8").splitlines()[0]
    assert header.endswith("deviation_minutes")


def test_the_timepoint_columns_are_the_json_reports_fields(tmp_path: Path) -> None:
    folder = EXAMPLES / "phase1_pk"
    assert main(["validate", str(folder / "protocol.trial"), "--patients",
                 str(folder / "patients.jsonl"), "--as-of", TIMED_EXAMPLES["phase1_pk"],
                 "--json", str(tmp_path / "r.json"), "--parquet", str(tmp_path / "t")]) in (0, 1)
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    expected = [
        (p["id"], r["activity"], r["label"], r.get("timepoint"), r.get("timepoint_reference"),
         r.get("reference_datetime"), r.get("planned_datetime"),
         *(r.get("window_datetimes") or (None, None)), r.get("actual_datetime"),
         r.get("deviation_minutes"))
        for p in report["patients"] for r in p["schedule"]
    ]
    schedule = _tables(tmp_path / "t")["schedule"].to_pylist()
    got = [
        (r["patient"], r["activity"], r["label"], r["timepoint"], r["timepoint_reference"],
         r["reference_datetime"], r["planned_datetime"], r["window_first_datetime"],
         r["window_last_datetime"], r["actual_datetime"], r["deviation_minutes"])
        for r in schedule
    ]
    assert got == expected
    timed = [r for r in schedule if r["timepoint"] is not None]
    assert len(timed) > 100
    assert {r["status"] for r in timed} >= {"on_time", "early", "late", "missed", "time_unknown"}
    assert any(r["deviation_minutes"] not in (None, 0) for r in timed)
    assert all(r["timepoint"] is None for r in schedule if r["activity_type"] == "visit")


def test_a_folder_written_before_the_timepoint_columns_is_still_read(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Columns added within /2 come at the end of a table: a schedule file without them (as
    written before they were added) reads as nulls, and the report is the same."""
    _report_equals_validate(tmp_path, capsys, str(SEED_TRIAL), "--patients", str(cohort),
                            "--as-of", AS_OF)
    old = SCHEMAS["schedule"].names.index("timepoint")
    for path in (tmp_path / "t" / "schedule").glob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.select(table.column_names[:old]), path, compression="zstd")
    again = tmp_path / "older"
    again.mkdir()
    assert main(["report", str(tmp_path / "t"), "--html", str(again / "r.html"), "--csv",
                 str(again / "csv")]) == 0
    assert (again / "r.html").read_bytes() == (tmp_path / "validate" / "r.html").read_bytes()
    assert (again / "csv" / "deviations.csv").read_bytes() == (
        tmp_path / "validate" / "csv" / "deviations.csv").read_bytes()
    schedule = _tables(tmp_path / "t")["schedule"]
    assert schedule.schema.equals(SCHEMAS["schedule"])
    assert schedule.column("deviation_minutes").null_count == schedule.num_rows


def test_a_table_with_other_columns_is_refused(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report_equals_validate(tmp_path, capsys, str(SEED_TRIAL), "--patients", str(cohort),
                            "--as-of", AS_OF)
    path = sorted((tmp_path / "t" / "schedule").glob("*.parquet"))[0]
    table = pq.read_table(path)
    pq.write_table(table.drop_columns(["label"]), path)
    assert main(["report", str(tmp_path / "t")]) == 1
    assert "not a schedule table of trialcode.results/2" in capsys.readouterr().err
    # fewer columns than the table had when the version began: not a table of it either
    pq.write_table(table.select(table.column_names[:10]), path)
    assert main(["report", str(tmp_path / "t")]) == 1
    assert "not a schedule table of trialcode.results/2" in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failed_run_leaves_the_folder_as_it_was(
    tmp_path: Path, cohort: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    args = ["validate", str(SEED_TRIAL), "--patients", str(cohort), "--as-of", AS_OF, "-q",
            "--parquet", str(tmp_path / "t"), "--jobs", jobs]
    assert main(args) == 0
    before = {p: p.read_bytes() for p in (tmp_path / "t").rglob("*") if p.is_file()}
    assert before
    monkeypatch.setattr(chunking, "CHUNK_LINES", 5)
    real = results_folder.ChunkFiles.add

    # the third chunk's files fail to be written (in whichever process evaluates it: the
    # workers are forked with this patch)
    def failing(self: results_folder.ChunkFiles, batches: dict[str, pa.RecordBatch]) -> None:
        if self.name == results_folder.chunk_file(2):
            raise RuntimeError("disk full")
        real(self, batches)

    monkeypatch.setattr(results_folder.ChunkFiles, "add", failing)
    assert main(args) == EXIT_INTERNAL
    assert "internal error: RuntimeError: disk full" in capsys.readouterr().err
    after = {p: p.read_bytes() for p in (tmp_path / "t").rglob("*") if p.is_file()}
    assert after == before
    assert not list((tmp_path / "t").glob(PARTIAL_PREFIX + "*"))


def test_report_refuses_a_folder_that_is_not_complete_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 1
    assert "no summary table: not a trialcode results folder, or a run that did not finish" in (
        capsys.readouterr().err)
    assert main(["report", str(tmp_path / "none")]) == 1
    assert "not a folder" in capsys.readouterr().err


def test_the_docs_describe_every_column() -> None:
    text = (ROOT / "docs" / "results-tables.md").read_text(encoding="utf-8")
    for table in TABLES:
        section = re.search(rf"^### `{table}`\n(.*?)(?=^### |\Z)", text, re.M | re.S)
        assert section, f"docs/results-tables.md has no section for {table}"
        documented = re.findall(r"^\| `([a-z_]+)` \|", section.group(1), re.M)
        assert documented == SCHEMAS[table].names, table
