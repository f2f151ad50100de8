"""The illustrative phase 1 PK study: its synthetic cohort exercises every status of sub-day
timepoints, the file is what make_cohort.py writes, and the validation's timepoint rows that are
not on time (deviations in minutes) are a reviewed golden file."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from conftest import EXAMPLES, assert_golden

import trialcode
from engine.results import EventRole, PatientResult, Status

FOLDER = EXAMPLES / "phase1_pk"
AS_OF = datetime.date(2024, 6, 19)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(path: Path) -> str:
    """The words of an HTML report, white space collapsed."""
    page = _Text()
    page.feed(path.read_text(encoding="utf-8"))
    return " ".join(" ".join(page.parts).split())



def _results() -> list[PatientResult]:
    trial = trialcode.load(FOLDER / "protocol.trial")
    out = [r for r in trialcode.validate(trial, FOLDER / "patients.jsonl", AS_OF)
           if isinstance(r, PatientResult)]
    assert len(out) == 24
    return out


RESULTS = _results()
TIMED = [(r, x) for r in RESULTS for x in r.schedule if x.timing is not None]


def test_every_status_appears_for_timepoints() -> None:
    statuses = Counter(x.status for _, x in TIMED)
    # not_collected aside: the cohort collects every kind it plans
    assert set(statuses) == set(Status) - {Status.NOT_COLLECTED}, statuses
    reasons = {x.reason for _, x in TIMED if x.status is Status.NOT_APPLICABLE}
    assert reasons == {"the dose of drug_a on day 14 was not given",
                       "after withdrawal on 2024-05-27",
                       "after withdrawal (severe_ae) on 2024-06-14"}
    unknown = {x.reason for _, x in TIMED if x.status is Status.TIME_UNKNOWN}
    assert unknown == {
        "done, but whether within its window cannot be told: the record has no time of day",
        "done, but whether within its window cannot be told: the dose of drug_a on day 14 has "
        "no time of day"}


def test_deviations_are_in_minutes() -> None:
    got = {(r.id, x.label): (x.status, x.timing.deviation_minutes)  # type: ignore[union-attr]
           for r, x in TIMED if x.status in (Status.EARLY, Status.LATE)}
    # counted from the dose as given (08:00 planned; PK013 dosed at 08:02 on day 1, PK015 at
    # 08:12 on day 7)
    assert got == {("PK009", "day 1 1 h post-dose"): (Status.EARLY, -3),
                   ("PK013", "day 1 24 h post-dose"): (Status.LATE, 23),
                   ("PK015", "day 7 pre-dose"): (Status.LATE, 8)}


def test_triplicates_and_named_timepoints_are_used_once() -> None:
    replicates = [a for r in RESULTS for a in r.events
                  if a.role is EventRole.MATCHED and str(a.detail).endswith("(replicate)")]
    assert len(replicates) >= 2 * 2 * 18  # two more ECGs on Days 1 and 14 for most
    for r in RESULTS:
        cited = [x.ref for x in r.schedule if x.ref is not None]
        assert len(cited) == len(set(cited)), r.id
        assert not r.unplanned, (r.id, r.unplanned)


def test_the_cohort_file_is_what_the_generator_writes(tmp_path) -> None:
    out = tmp_path / "patients.jsonl"
    subprocess.run([sys.executable, str(FOLDER / "make_cohort.py"), "-o", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == (FOLDER / "patients.jsonl").read_bytes()


def test_timepoint_deviation_rows_golden() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["patient", "activity", "label", "status", "planned_datetime", "window",
                "actual_datetime", "deviation_minutes", "reason"])
    for r, x in TIMED:
        t = x.timing
        assert t is not None
        if x.status in (Status.ON_TIME, Status.NOT_DUE):
            continue
        window = "" if t.window is None else (f"{t.window[0][1].iso()}..{t.window[1][1].iso()}"  # type: ignore[union-attr]
                                              f" {t.window[0][0]}")
        w.writerow([r.id, x.activity, x.label, x.status.value,
                    "" if t.planned is None else f"{t.planned[0]}T{t.planned[1].iso()}",  # type: ignore[union-attr]
                    window,
                    "" if t.actual is None else (f"{t.actual[0]}" + (
                        f"T{t.actual[1].iso()}" if t.actual[1] is not None else "")),
                    "" if t.deviation_minutes is None else t.deviation_minutes, x.reason or ""])
    assert_golden("phase1_pk.timepoints.csv", buf.getvalue())


def test_a_pre_dose_sample_taken_after_the_dose_says_so() -> None:
    # PK015's day-7 trough at 08:20, the dose at 08:12: "8 minutes after the window closed"
    # alone did not say that the window closes at the dose, so the sample is post-dose
    (row,) = [x for r, x in TIMED if r.id == "PK015" and x.label == "day 7 pre-dose"]
    assert row.status is Status.LATE
    assert row.reason == ("8 minutes after the window closed: taken after the dose of drug_a "
                          "on day 7, not before it")


def test_the_reports_count_time_unknown_apart_from_the_deviations(tmp_path, capsys) -> None:
    # The deviation listing holds the deviations and the timepoints whose timing is unknown;
    # its heading gave one total (28) beside "6 patients with deviations" and a schedule table
    # whose deviations add up to 15, and the guide did not say what "time unknown" is.
    from trialcode.cli import main

    deviations = sum(len(r.deviations) for r in RESULTS)
    unknown = sum(x.status is Status.TIME_UNKNOWN for r in RESULTS for x in r.schedule)
    assert deviations and unknown
    out = tmp_path / "r.html"
    assert main(["validate", str(FOLDER / "protocol.trial"), "--patients",
                 str(FOLDER / "patients.jsonl"), "--as-of", AS_OF.isoformat(),
                 "--html", str(out)]) in (0, 1)
    terminal = capsys.readouterr().out
    assert (f"  and {unknown} timepoints with time unknown (done; the recorded times cannot "
            "tell whether on time): not deviations, listed with them") in terminal

    text = page_text(out)
    assert (f"Deviation listing ({deviations + unknown}: {deviations} deviations, {unknown} "
            "time unknown)") in text
    assert f"{unknown} timepoints with time unknown" in text  # the summary's card
    assert ("is time unknown : neither on time nor a deviation, it is listed with the "
            "deviations for the site to complete the time") in text
    assert "by the minutes outside its window, with the planned and actual date and time" in text
    assert "✕ missed time unknown not due yet" in text  # the timelines' legend
    # and each patient's line above the timeline: PK010's dose of day 14 has no time of day
    pk010 = next(r for r in RESULTS if r.id == "PK010")
    n = sum(x.status is Status.TIME_UNKNOWN for x in pk010.schedule)
    assert not pk010.deviations and n > 1
    assert f"· 0 deviations · {n} timepoints with time unknown ·" in text


def test_a_window_past_midnight_shows_both_dates(tmp_path) -> None:
    # A dose at 23:30: the 0.5-hour sample's window is 23:55 to 00:05 the next day, which the
    # listing showed as '2024-05-06 23:55 – 00:05', an end before its start
    import json

    from trialcode.cli import main

    events = [
        {"type": "anchor", "name": "first_dose", "date": "2024-05-06T23:30"},
        {"type": "dose", "intervention": "drug_a", "start": "2024-05-06T23:30", "amount": 100,
         "unit": "mg", "route": "oral"},
        {"type": "observation", "kind": "pk_conc", "date": "2024-05-07T00:20", "value": 50.0,
         "unit": "ng/mL", "timepoint": "PT30M"},
    ]
    data = tmp_path / "patients.jsonl"
    data.write_text('{"format": "trialcode.patients/1"}\n' + json.dumps(
        {"id": "N001", "arm": "active", "sex": "male", "birth_date": "1990-01-01",
         "events": events}) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    main(["validate", str(FOLDER / "protocol.trial"), "--patients", str(data), "--as-of",
          "2024-05-08", "-q", "--html", str(out)])

    text = page_text(out)
    assert ("late 15 min 2024-05-06 23:55 – 2024-05-07 00:05 day 1 to 2, PT30M from the dose "
            "of drug_a on day 1 2024-05-07 00:20") in text
