"""The illustrative oncology cycle study: its synthetic cohort exercises every status of the new
schedule constructs, the file is what make_cohort.py writes, and the validation's deviations
(cycle rows named C3D1) are a reviewed golden file."""

from __future__ import annotations

import csv
import datetime
import io
import re
import subprocess
import sys
from collections import Counter

from conftest import EXAMPLES, assert_golden

import trialcode
from engine.results import PatientResult, Status

FOLDER = EXAMPLES / "oncology_cycles"
AS_OF = datetime.date(2024, 12, 31)
CYCLE_LABEL = re.compile(r"C\d+D\d+$")


def _results() -> list[PatientResult]:
    trial = trialcode.load(FOLDER / "protocol.trial")
    out = [r for r in trialcode.validate(trial, FOLDER / "patients.jsonl", AS_OF)
           if isinstance(r, PatientResult)]
    assert len(out) == 40
    return out


RESULTS = _results()


def test_every_status_appears_for_cycle_rows() -> None:
    statuses = Counter(x.status for r in RESULTS for x in r.schedule if CYCLE_LABEL.match(x.label))
    # every status a day-level occurrence can have (time_unknown is a sub-day timepoint's) but
    # not_collected: the cohort's data hold every kind the cycles plan
    assert set(statuses) == set(Status) - {Status.NOT_COLLECTED, Status.TIME_UNKNOWN}, statuses
    reasons = {x.reason for r in RESULTS for x in r.schedule
               if CYCLE_LABEL.match(x.label) and x.status is Status.NOT_APPLICABLE}
    assert any(str(reason).startswith("after progression on ") for reason in reasons)
    assert any(str(reason).startswith("after discontinuation (toxicity) on ") for reason in reasons)
    arm_rows = {(x.label, x.reason) for r in RESULTS for x in r.schedule if x.activity == "drug_y"
                and x.status is Status.NOT_APPLICABLE and r.arm == "x_alone"}
    assert arm_rows == {("all occurrences", "not planned for arm x_alone (only arms xy)")}


def test_event_triggered_and_restricted_items() -> None:
    follow_up = Counter(x.status for r in RESULTS for x in r.schedule
                        if x.activity == "sae_follow_up")
    assert {Status.ON_TIME, Status.LATE, Status.MISSED} <= set(follow_up)
    pregnancy = {x.reason for r in RESULTS for x in r.schedule
                 if x.activity == "pregnancy_test" and x.status is Status.NOT_APPLICABLE}
    assert pregnancy == {"not planned for this patient (only female patients)",
                         "not planned for this patient (only if childbearing potential)"}


def test_the_cohort_file_is_what_the_generator_writes(tmp_path) -> None:
    out = tmp_path / "patients.jsonl"
    subprocess.run([sys.executable, str(FOLDER / "make_cohort.py"), "-o", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == (FOLDER / "patients.jsonl").read_bytes()


def test_deviation_rows_golden() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["patient", "activity", "label", "status", "planned_day", "window", "actual_day",
                "deviation_days", "reason"])
    for r in RESULTS:
        for x in r.schedule:
            if x.status in (Status.ON_TIME, Status.NOT_DUE):
                continue
            w.writerow([r.id, x.activity, x.label, x.status.value, x.planned_day,
                        "" if x.window is None else f"{x.window[0]}..{x.window[1]}",
                        x.actual_day, x.deviation_days, x.reason or ""])
    assert_golden("oncology_cycles.deviations.csv", buf.getvalue())


def test_a_delayed_cycle_says_when_it_started_and_that_the_later_ones_moved() -> None:
    # ONC006's cycle 2 was planned on 2024-03-06 (window -0 to +3) and started on 03-12:
    # "3 day(s) after the window closed" alone left the monitor to work out the delay and
    # that cycle 3 is then planned 21 days after 03-12, not after 03-06
    r = next(x for x in RESULTS if x.id == "ONC006")
    c2 = next(x for x in r.schedule if x.activity == "drug_x" and x.label == "C2D1")
    assert (c2.status, c2.deviation_days, c2.actual_date) == (
        Status.LATE, 3, datetime.date(2024, 3, 12))
    assert c2.reason == (
        "3 day(s) after the window closed: cycle 2 started on 2024-03-12, 6 days after its "
        "planned start (2024-03-06): its other days and the later cycles count from that day")
    c3 = next(x for x in r.schedule if x.activity == "drug_x" and x.label == "C3D1")
    assert c3.planned_date == datetime.date(2024, 4, 2)  # 21 days after 03-12
