"""`trialcode validate` end to end on a small hand-made cohort: golden terminal summary, JSON
report and CSV listings (review the files in tests/io/golden/ by eye when they change), the HTML
report's escaping and self-containedness, and the SDTM path on the CDISC pilot."""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path

import pytest

import dsl
from engine.api import Summary, compile_trial
from engine.io.jsonl import read_lines
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient
from render.report.collect import ReportCollector
from render.report.html import render_html
from trialcode.cli import main

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
GOLDEN = HERE / "golden"
ROOT = HERE.parent.parent
MINI = DATA / "mini.trial"
PATIENTS = DATA / "mini-patients.jsonl"


def golden(name: str, actual: str) -> None:
    """Compare with tests/io/golden/NAME; TRIALCODE_REGEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("TRIALCODE_REGEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with TRIALCODE_REGEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def run(*args: str | Path) -> int:
    return main([str(a) for a in args])


def test_terminal_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    status = run(
        "validate",
        MINI.relative_to(ROOT),
        "--patients",
        PATIENTS.relative_to(ROOT),
        "--as-of",
        "2024-03-01",
    )
    assert status == 0
    out = capsys.readouterr()
    golden("mini-terminal.txt", out.out)
    assert out.err == ""  # no progress bar when stderr is not a terminal


def test_json_and_csv_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run(
        "validate",
        MINI,
        "--patients",
        PATIENTS,
        "--as-of",
        "2024-03-01",
        "-q",
        "--json",
        tmp_path / "report.json",
        "--csv",
        tmp_path / "csv",
    )
    assert status == 0
    assert capsys.readouterr().out == ""
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["schema"] == "trialcode.report/1"
    assert [p["id"] for p in report["patients"]] == ["M1", "M2", "M3"]
    assert len(report["rejected"]) == 2
    assert report["input"]["source"] == str(PATIENTS)
    report["input"]["source"] = "tests/io/data/mini-patients.jsonl"
    golden("mini-report.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    for name in ("deviations", "ineligibility", "stopping", "rejected"):
        golden(
            f"mini-{name}.csv", (tmp_path / "csv" / f"{name}.csv").read_text(encoding="utf-8-sig")
        )


def test_every_input_event_is_accounted_for() -> None:
    report_path = GOLDEN / "mini-report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    vocab = Vocabulary.from_trial(dsl.parse_file(MINI))
    with PATIENTS.open(encoding="utf-8") as handle:
        items = list(read_lines(handle, PATIENTS.name, vocab))
    events = {p.id: len(p.events) for p in items if isinstance(p, Patient)}
    for p in report["patients"]:
        assert sum(p["event_counts"].values()) == events[p["id"]]


def _html_for(lines: list[str]) -> str:
    trial = dsl.parse_file(MINI)
    compiled, summary, collector = compile_trial(trial), Summary(trial), ReportCollector()
    for item in read_lines(lines, "evil.jsonl"):
        if isinstance(item, Patient):
            result = compiled.evaluate(item, datetime.date(2024, 3, 1))
            summary.add(result)
            collector.add(result, item)
        else:
            summary.add(item)
            collector.add(item)
    data = collector.finish(
        trial,
        summary.result(),
        source="evil.jsonl <b>",
        as_of=datetime.date(2024, 3, 1),
        generated=datetime.date(2024, 3, 2),
    )
    return render_html(data)


def test_html_escapes_patient_data_and_is_self_contained() -> None:
    evil = "<script>alert('x')</script>"
    lines = [
        '{"format": "trialcode.patients/1"}',
        json.dumps(
            {
                "id": evil,
                "arm": "a",
                "events": [
                    {"type": "anchor", "name": "randomization", "date": "2024-01-10"},
                    {
                        "type": "adverse_event",
                        "term": "<img src=x onerror=alert(1)>",
                        "grade": 3,
                        "start": "2024-01-12",
                        "end": "2024-01-30",
                        "related": "drug_a",
                    },
                    {
                        "type": "visit",
                        "label": "</svg><script>bad()</script>",
                        "date": "2024-01-15",
                    },
                ],
            }
        ),
        '{"id": "<b>bold</b>", "events": [}',
    ]
    html = _html_for(lines)
    assert "<script" not in html.lower()
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the rejected line's guessed id
    assert "evil.jsonl &lt;b&gt;" in html
    # One file: no tag loads anything (stylesheet, script, image, font).
    tags = re.findall(r"<[^>]+>", html)
    assert not [t for t in tags if re.search(r"\b(src|href)=\"?(https?:|//)|<link|<script", t)]
    assert "@import" not in html and "url(" not in html


def test_html_report_of_the_mini_cohort(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert (
        run("validate", MINI, "--patients", PATIENTS, "--as-of", "2024-03-01", "-q", "--html", out)
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert html.count('<section class="patient"') == 3
    assert html.count("<svg") == 3
    assert "Deviation listing (8)" in html
    assert "Rejected records (2)" in html
    assert "latest alt within 14 days before randomization: 130 U/L on 2024-01-02" in html


def test_input_errors_are_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "P1"}\n')
    # data that cannot be used as a whole: exit status 3 (docs/cli.md)
    assert run("validate", MINI, "--patients", bad) == 3
    assert capsys.readouterr().err == (
        "trialcode validate: bad.jsonl line 1: not a trialcode patient file: the first line must "
        'be the header {"format": "trialcode.patients/1"}\n'
    )
    assert run("validate", MINI, "--patients", tmp_path / "none.jsonl") == 3
    assert "cannot read" in capsys.readouterr().err
    assert run("validate", MINI, "--sdtm", tmp_path) == 3
    assert "no DM dataset" in capsys.readouterr().err


SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"


@pytest.mark.skipif(not SDTM.is_dir(), reason="CDISC pilot data not present")
def test_validate_the_cdisc_pilot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = run(
        "validate",
        ROOT / "examples" / "cdiscpilot01" / "protocol.trial",
        "--sdtm",
        SDTM,
        "--map",
        ROOT / "examples" / "cdiscpilot01" / "sdtm-map.toml",
        "--as-of",
        "2015-03-31",
        "--csv",
        tmp_path / "csv",
        "--json",
        tmp_path / "r.json",
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "CDISCPILOT01: 306 patients" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    datasets = {d["dataset"]: d for d in report["input"]["datasets"]}
    for d in datasets.values():
        assert d["rows"] == d["used"] + d["rejected"] + sum(i["rows"] for i in d["ignored"])
    mmse = next(a for a in report["summary"]["attrition"] if a["id"] == "INCL03")
    assert (mmse["met"], mmse["not_met"], mmse["unknown"]) == (252, 2, 52)
    rows = (tmp_path / "csv" / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 1 + report["summary"]["rejected"] == 40


def test_json_report_layout_is_compact_utf8_and_survives_wide_integers(tmp_path: Path) -> None:
    # orjson writes the report; what it cannot write (an integer wider than 64 bits) falls back
    # to json.dumps with the same compact separators, so the file keeps one layout.
    from render.report.json_stream import JsonReportWriter

    writer = JsonReportWriter(tmp_path / "r.json", "Trial é", datetime.date(2025, 1, 31))
    assert writer._dump({"a": [1, 2.5, None], "b": "µg"}) == '{"a":[1,2.5,null],"b":"µg"}'
    assert writer._dump({"n": 2**70, "b": "µg"}) == '{"n":1180591620717411303424,"b":"µg"}'
    writer.close()
