"""`trialcode validate --jobs N`: the reports of N processes are byte for byte those of one, and
the same as one pass of the reader and the engine over the whole input; bad records and repeated
patient ids in any process's share are rejected and counted as in a one-process run.

The chunks are made small here (a few patients) so that every boundary case occurs: a repeated
id in another chunk, a bad line at a chunk's edge, chunks that finish out of order."""

from __future__ import annotations

import datetime
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialcode
from engine.api import Summary, compile_trial, evaluate_all
from engine.io.jsonl import read_lines
from engine.io.synthetic import cohort
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient, RecordRef, RejectedRecord
from engine.report_json import patient_json, rejected_json, summary_json
from engine.results import PatientResult
from render.report.collect import ReportCollector
from render.report.terminal import Progress
from tests.io.cohortkit import AS_OF, MINI, MINI_PATIENTS, PILOT, SDTM, SEED_TRIAL, bad_cohort
from trialcode.cli import main
from trialcode.parallel import chunks as chunking


def _outputs(tmp: Path, name: str, capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, bytes]:
    """Run validate with every report; return each output's bytes, the terminal's included
    (with this run's folder name taken out of it)."""
    out = tmp / name
    out.mkdir()  # trialcode does not create a missing folder (docs/cli.md)
    code = main(["validate", *map(str, args), "--json", str(out / "r.json"),
                 "--html", str(out / "r.html"), "--csv", str(out / "csv")])
    assert code == 0
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    files["terminal"] = capsys.readouterr().out.replace(str(out), "OUT").encode()
    return files


def _one_pass(protocol: Path, patients: Path, as_of: datetime.date) -> dict[str, object]:
    """The JSON report's patients, rejected records and summary from one pass of the reader and
    the engine over the file: what any number of processes must give."""
    trial = trialcode.load(protocol)
    summary = Summary(trial)
    items = evaluate_all(
        compile_trial(trial),
        read_lines(patients.open(encoding="utf-8", newline=""), patients.name,
                   Vocabulary.from_trial(trial)),
        as_of,
        summary=summary,
    )
    patients_out, rejected = [], []
    for item in items:
        if isinstance(item, PatientResult):
            patients_out.append(patient_json(item))
        else:
            rejected.append(rejected_json(item))
    return {"patients": patients_out, "rejected": rejected, "summary": summary_json(summary)}


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_synthetic_cohort_with_bad_records_same_in_n_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    monkeypatch.setattr(chunking, "CHUNK_LINES", 7)
    patients = tmp_path / "cohort.jsonl"
    bad_cohort(patients, 60)
    args = (SEED_TRIAL, "--patients", patients, "--as-of", AS_OF)
    one = _outputs(tmp_path, "one", capsys, *args, "--jobs", "1")
    many = _outputs(tmp_path, "many", capsys, *args, "--jobs", jobs)
    assert one.keys() == many.keys()
    for name in one:
        assert one[name] == many[name], f"{name} differs between --jobs 1 and --jobs {jobs}"

    report = json.loads(one["r.json"])
    expected = _one_pass(SEED_TRIAL, patients, datetime.date.fromisoformat(AS_OF))
    assert report["patients"] == expected["patients"]
    assert report["rejected"] == expected["rejected"]
    assert report["summary"] == expected["summary"]
    repeated = [r for r in report["rejected"] if "already appeared" in r["message"]]
    assert [r["source"] for r in repeated] == ["cohort.jsonl line 31", "cohort.jsonl line 32"]
    assert all("on line 6" in r["message"] for r in repeated)
    assert report["summary"]["rejected"] == len(report["rejected"]) == 5
    assert report["summary"]["patients"] == 60  # the broken line and the repeats are rejected whole


@pytest.mark.skipif(not SDTM.is_dir(), reason="CDISC pilot data not present")
def test_cdisc_pilot_same_in_two_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunking, "CHUNK_ITEMS", 11)
    args = (PILOT / "protocol.trial", "--sdtm", SDTM, "--map", PILOT / "sdtm-map.toml",
            "--as-of", "2015-03-31")
    one = _outputs(tmp_path, "one", capsys, *args)
    two = _outputs(tmp_path, "two", capsys, *args, "--jobs", "2")
    for name in one:
        assert one[name] == two[name], f"{name} differs between one process and two"
    report = json.loads(one["r.json"])
    assert report["summary"]["patients"] == 306
    assert report["summary"]["rejected"] == len(report["rejected"]) > 0


def test_spawned_workers_give_the_same_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # where fork is not available, each worker rebuilds the run from its RunSpec
    monkeypatch.setattr(chunking, "CHUNK_LINES", 2)
    args = (MINI, "--patients", MINI_PATIENTS, "--as-of", "2024-03-01")
    one = _outputs(tmp_path, "one", capsys, *args)
    monkeypatch.setenv("TRIALCODE_START_METHOD", "spawn")
    two = _outputs(tmp_path, "two", capsys, *args, "-j", "2")
    assert one == two


def test_jobs_zero_means_every_core_and_a_negative_count_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["validate", str(MINI), "--patients", str(MINI_PATIENTS), "--as-of", "2024-03-01"]
    assert main([*args, "--jobs", "0", "--json", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--jobs", "-1"])
    assert exit_.value.code == 2
    assert "'-1' is not a number of processes" in capsys.readouterr().err


def test_the_progress_bar_counts_the_patients_of_every_process() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = Progress(1000.0, "patients", stream, processes=2)
    progress.update(250, 500.0)
    progress.close()
    assert "50% 250 patients (" in stream.getvalue()
    assert "/s on 2 processes)" in stream.getvalue()


# ---- merging shares: a law ---------------------------------------------------------------------

_RESULTS: list[tuple[PatientResult | RejectedRecord, Patient | None]] = []


def _results() -> list[tuple[PatientResult | RejectedRecord, Patient | None]]:
    """Results of a small cohort with rejected records among them (computed once)."""
    if not _RESULTS:
        trial = trialcode.load(SEED_TRIAL)
        compiled = compile_trial(trial)
        rng = random.Random(3)
        for patient in cohort(40, 11):
            _RESULTS.append((compiled.evaluate(patient, datetime.date(2025, 1, 31)), patient))
            if rng.random() < 0.2:
                _RESULTS.append((RejectedRecord(RecordRef("x", "line 1"), "bad", patient.id), None))
    return _RESULTS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 60), max_size=6), st.integers(0, 12))
def test_merging_shares_in_order_is_one_pass(cuts: list[int], limit: int) -> None:
    trial = trialcode.load(SEED_TRIAL)
    results = _results()
    bounds = sorted({min(c, len(results)) for c in cuts} | {0, len(results)})
    whole_summary, whole = Summary(trial), ReportCollector(max_rows=limit, max_timelines=limit)
    for item, patient in results:
        whole_summary.add(item)
        whole.add(item, patient)
    merged_summary, merged = Summary(trial), ReportCollector(max_rows=limit, max_timelines=limit)
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        summary, share = Summary(trial), ReportCollector(max_rows=limit, max_timelines=limit)
        for item, patient in results[lo:hi]:
            summary.add(item)
            share.add(item, patient)
        merged_summary.merge(summary)
        merged.merge(share)
    assert merged_summary.result() == whole_summary.result()
    args = dict(source="s", as_of=datetime.date(2025, 1, 31), generated=datetime.date(2025, 2, 1))
    a = whole.finish(trial, whole_summary.result(), **args)
    b = merged.finish(trial, merged_summary.result(), **args)
    assert a == b  # and so are the HTML report and the terminal summary made from them


def test_a_line_cut_short_is_wrong_at_its_end_whatever_its_line_break() -> None:
    # the column is counted in the line without its break, as a reader that gets lines without
    # their breaks (Spark's) sees it
    from engine.io.jsonl import LineReader
    from engine.io.vocabulary import EMPTY

    header = '{"format": "trialcode.patients/1"}\n'
    messages = set()
    for end in ("\n", "\r\n", ""):
        (item,) = LineReader("p.jsonl", EMPTY, header, 1).read(['{"id": "P1", "events": [' + end], 2)
        messages.add(str(item))
    assert messages == {
        "p.jsonl line 2: patient P1: not valid JSON: Expecting value at column 25; the whole line "
        "is rejected"
    }
