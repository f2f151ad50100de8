"""`trialcode validate` end to end on a small hand-made cohort: golden terminal summary, JSON
report and CSV listings (review the files in tests/io/golden/ by eye when they change), the HTML
report's escaping and self-containedness, and the SDTM path on the CDISC pilot."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import dsl
from engine.api import Summary, compile_trial
from engine.io.jsonl import read_lines
from engine.io.vocabulary import Vocabulary
from engine.patient import Patient
from render.report.collect import ReportCollector
from render.report.html import render_html, timelines_of
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
    assert report["schema"] == "trialcode.report/2"
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


class _VisibleText(HTMLParser):
    """The text a reader sees on the page, a line per block and ' | ' between table cells
    (no script, style or the timelines' data)."""

    BLOCKS = {"p", "div", "tr", "h1", "h2", "h3", "li", "section", "nav", "table", "ul"}

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = [""]
        self.hidden = 0

    HIDDEN = {"script", "style", "title", "noscript"}  # noscript: shown only without scripts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.lines.append("")
        elif tag in ("td", "th") and self.lines[-1].strip():
            self.lines[-1] += " | "
        elif tag == "a":
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden -= 1
        elif tag in self.BLOCKS:
            self.lines.append("")
        elif tag == "b":  # a card's figure is a block above its label
            self.lines[-1] += " "

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.lines[-1] += re.sub(r"\s+", " ", data)

    def text(self) -> str:
        lines = (re.sub(r" +", " ", line).replace(" ,", ",").replace(" .", ".").strip()
                 for line in self.lines)
        return "\n".join(line for line in lines if line) + "\n"


def test_html_report_text_of_the_mini_cohort() -> None:
    # what a monitor reads in the HTML report, as text: review tests/io/golden/mini-report.txt
    parser = _VisibleText()
    parser.feed(_html_for(PATIENTS.read_text(encoding="utf-8").splitlines()))
    golden("mini-report.txt", parser.text())


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
    # the page's own two scripts (the timeline data and the script that draws it) and no other;
    # the patient's data are in the data block as base64, which has no markup characters
    assert html.lower().count("<script") == 2
    assert '<script type="application/octet-stream" id="timeline-data">' in html
    assert html.count("<script>// Draws the patient timelines") == 1
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the rejected line's guessed id
    assert "evil.jsonl &lt;b&gt;" in html
    # One file: no tag loads anything (stylesheet, script, image, font).
    tags = re.findall(r"<[^>]+>", html)
    assert not [t for t in tags if re.search(r"\b(src|href)=\"?(https?:|//)|<link", t)]
    assert "@import" not in html and "url(" not in html
    # and the page lets nothing load and no other script run, whatever got in
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None and "default-src 'none'" in policy.group(1)
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy.group(1)
    # the timeline's text is data, drawn as text by the script (textContent)
    (timeline,) = timelines_of(html)
    titles = [m[-1] for m in timeline["m"]]
    assert any("<img src=x onerror=alert(1)>, grade 3" in t for t in titles)
    assert "textContent" in script and "innerHTML" not in script


def test_html_report_of_the_mini_cohort(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert (
        run("validate", MINI, "--patients", PATIENTS, "--as-of", "2024-03-01", "-q", "--html", out)
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert html.count('<section class="patient"') == 3
    timelines = timelines_of(html)
    assert len(timelines) == html.count('<div class="tl" data-tl=') == 3
    # every planned occurrence that has a day is drawn, with its source record in the tooltip
    marks = [m for t in timelines for m in t["m"] if m[0] == "r"]
    assert any("source: mini-patients.jsonl line" in m[-1] for m in marks)
    assert "Deviation listing (8)" in html
    assert "Rejected records (2)" in html
    assert "latest alt within 14 days before randomization: 130 U/L on 2024-01-02" in html


def test_patients_unknown_for_want_of_the_anchor_date_are_counted_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = PATIENTS.read_text(encoding="utf-8").splitlines()[:4]
    undated = {"id": "M5", "arm": "a", "sex": "female", "birth_date": "1960-05-01",
               "events": [{"type": "visit", "visit": "screening", "date": "2024-01-05"}]}
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join([*lines, json.dumps(undated)]) + "\n", encoding="utf-8")
    assert run("validate", MINI, "--patients", path, "--as-of", "2024-03-01",
               "--html", tmp_path / "r.html") == 0
    out = capsys.readouterr().out
    assert "Eligibility at randomization: 1 eligible / 1 not eligible / 2 unknown\n" \
           "  1 of the 2 unknown has no randomization date, at which eligibility is judged " \
           "(not randomized, or the date is missing)\n" in out
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    # M5's age is judged at randomization too
    assert "<b>AGE, I1</b>\n      <div>judged at randomization, which has no date for this " \
           "patient</div>" in html


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
        "--html",
        tmp_path / "r.html",
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "CDISCPILOT01: 306 patients" in out
    # One self-contained page that opens quickly: the timelines are compact data drawn as they
    # come into view (17.8 MB with every timeline as SVG; about 2 MB now).
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert len(html.encode("utf-8")) < 3_000_000
    assert len(timelines_of(html)) == html.count('<div class="tl" data-tl=') == 254
    assert html.count("No timeline: the patient has no randomization date") == 52
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    datasets = {d["dataset"]: d for d in report["input"]["datasets"]}
    for d in datasets.values():
        assert d["rows"] == d["used"] + d["rejected"] + sum(i["rows"] for i in d["ignored"])
    mmse = next(a for a in report["summary"]["attrition"] if a["id"] == "INCL03")
    assert (mmse["met"], mmse["not_met"], mmse["unknown"]) == (252, 2, 52)
    rows = (tmp_path / "csv" / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 1 + report["summary"]["rejected"] == 40
    # The datasets' rejected records add up to the total: 37 rejected rows (6 EX, 26 AE, 5 LB)
    # and 2 rejected values of DM rows that are still used (RFXENDTC empty for 01-705-1018
    # and 01-705-1382: the patients are evaluated without a discontinuation date).
    assert sum(d["rejected_records"] for d in datasets.values()) == 39
    assert sum(d["rejected"] for d in datasets.values()) == 37
    assert (datasets["dm.xpt"]["rejected"], datasets["dm.xpt"]["rejected_records"]) == (0, 2)
    assert "dm.xpt: 306 rows = 306 used + 0 rejected + 0 ignored; and 2 rejected values of rows " \
        "still used" in out
    # What the data decide: 24 criteria read data that the pilot's datasets do not hold (medical
    # history, Hachinski, CNS imaging, ECG, folate...), listed once for the site to verify; on
    # the others, 57 patients fail one (MMSE, labs) and the 52 screen failures lack the MMSE
    # and labs at a randomization they never had.
    eligibility = report["summary"]["eligibility"]
    assert (eligibility["ineligible"], eligibility["indeterminate"]) == (57, 249)
    assert eligibility["on_the_data"] == {"eligible": 197, "ineligible": 57, "unknown": 52}
    site = report["summary"]["site_verification"]
    assert len(site) == 24 and site[0]["id"] == "INCL02" and site[0]["patients"] == 306
    assert {s["id"]: s["not_collected"] for s in site}["EXCL28"] == ["folate"]
    assert ("Eligibility at randomization: 197 eligible / 57 not eligible / 52 unknown on the "
            "criteria the data can decide;\n  24 criteria need site verification") in out
    listed = (tmp_path / "csv" / "site_verification.csv").read_text(encoding="utf-8-sig")
    assert len(listed.splitlines()) == 1 + 24
    # the 24 are not repeated per patient in the ineligibility listing
    ineligible = (tmp_path / "csv" / "ineligibility.csv").read_text(encoding="utf-8-sig")
    assert ",INCL02," not in ineligible and ",EXCL27," in ineligible
    # not collected is its own status, not "not applicable": Hachinski at screening
    hachinski = next(a for a in report["summary"]["activities"] if a["activity"] == "hachinski")
    assert hachinski["statuses"] == {"not_collected": 254}
    # why the 52 are unknown, once: they are the 52 screen failures (DM.ARMCD Scrnfail, the
    # DS SCREEN FAILURE subjects), whose DM.RFSTDTC is empty
    note = ("the 52 unknown have no randomization date, at which eligibility is judged (not "
            "randomized, or the date is missing)")
    assert f"  {note}\n" in out and html.count(f"The{note[3:]}.") == 2
    # a screen failure's disposition is not a stop: 144 patients stopped early
    assert report["summary"]["patients_stopped"] == 144
    assert report["summary"]["patients_with_stopping"] == 197
    # The 52 screen failures are unknown for one reason, said once each, with their
    # disposition: no randomization date (INCL03 and EXCL27 are judged at randomization). Each
    # used to repeat "no date for randomization: ..." in six lines, 20,000 pixels in all.
    listing = html[html.index('id="not-eligible"'):html.index('id="schedule"')]
    assert listing.count("judged at randomization, which has no date for this patient") == 52
    assert listing.count("disposition: screen failure on ") == 52
    assert "no date for randomization" not in listing
    assert listing.count("<tr>") == 1 + 109  # 57 not eligible + 52 unknown
    # a patient's deviations in the order of the days, a visit before what was done at it
    deviations = html[html.index('id="deviations"'):html.index('id="stopping"')]
    first = re.findall(r'<td>(\w+) <span class="muted">(\w+)</span></td>\s*<td>([^<]*)</td>',
                       deviations)[:4]
    assert first == [("hba1c", "assess", "Screening 1"), ("screening_2", "visit", "Screening 2"),
                     ("week_8", "visit", "Week 8"), ("alt", "assess", "Week 8")]
    # unscheduled visits in the order of their numbers, after the planned visits
    visits = re.findall(r"^  (UNSCHEDULED [\d.]+|ae_follow_up) ", out, re.M)
    assert visits[:4] == ["ae_follow_up", "UNSCHEDULED 1.1", "UNSCHEDULED 1.2", "UNSCHEDULED 1.3"]
    assert visits[-2:] == ["UNSCHEDULED 12.1", "UNSCHEDULED 13.1"]
    # a placebo patient's timeline says nothing of the active drug's doses (0 of 0)
    assert "xanomeline: 0 of 0 due doses given" not in html


def test_json_report_layout_is_compact_utf8_and_survives_wide_integers(tmp_path: Path) -> None:
    # orjson writes the report; what it cannot write (an integer wider than 64 bits) falls back
    # to json.dumps with the same compact separators, so the file keeps one layout.
    from render.report.json_stream import JsonReportWriter

    writer = JsonReportWriter(tmp_path / "r.json", "Trial é", datetime.date(2025, 1, 31))
    assert writer._dump({"a": [1, 2.5, None], "b": "µg"}) == '{"a":[1,2.5,null],"b":"µg"}'
    assert writer._dump({"n": 2**70, "b": "µg"}) == '{"n":1180591620717411303424,"b":"µg"}'
    writer.close()
