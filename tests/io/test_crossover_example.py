"""The illustrative two-period crossover with pharmacokinetic sampling: its synthetic cohort
exercises every status in both periods, the sub-day timepoints of each period included, the
file is what make_cohort.py writes, and the validation's deviations (rows named P2D1,
`P2 Admission`, `P2D1 0.5 h post-dose`) are a reviewed golden file."""

from __future__ import annotations

import csv
import datetime
import io
import subprocess
import sys
from collections import Counter

from conftest import EXAMPLES, assert_golden

import trialcode
from engine.results import PatientResult, Status

FOLDER = EXAMPLES / "crossover_ab"
AS_OF = datetime.date(2024, 6, 4)


def _results() -> list[PatientResult]:
    trial = trialcode.load(FOLDER / "protocol.trial")
    out = [r for r in trialcode.validate(trial, FOLDER / "patients.jsonl", AS_OF)
           if isinstance(r, PatientResult)]
    assert len(out) == 24
    return out


RESULTS = _results()
# not_collected needs a kind of data the patient file says was never collected for a patient;
# this cohort collects every kind it plans (tests/io/test_collected.py covers the status)
STATUSES = set(Status) - {Status.NOT_COLLECTED}


def test_every_status_appears_in_both_periods() -> None:
    for epoch in ("treatment_1", "treatment_2"):
        statuses = Counter(x.status for r in RESULTS for x in r.schedule if x.epoch == epoch)
        assert set(statuses) == STATUSES, (epoch, statuses)
    labels = {x.label for r in RESULTS for x in r.schedule if x.activity_type == "dose"}
    assert labels == {"P1D1", "P2D1"}


def test_the_pk_timepoints_of_each_period_take_every_status() -> None:
    """Timed from the period's dose as given: minutes early or late, missed, time unknown,
    not due while the period is pending, not applicable when it did not start."""
    for k, epoch in ((1, "treatment_1"), (2, "treatment_2")):
        rows = [x for r in RESULTS for x in r.schedule
                if x.epoch == epoch and x.activity == "drug_conc"]
        assert rows and all(x.timing is not None for x in rows)
        assert {x.status for x in rows} == STATUSES, (epoch, Counter(x.status for x in rows))
        assert all(x.label.startswith(f"P{k}D1 ") and
                   x.label.endswith((" pre-dose", " h post-dose")) for x in rows), rows
        for x in rows:
            t = x.timing
            assert t is not None
            if x.status in (Status.EARLY, Status.LATE):
                assert t.deviation_minutes is not None and t.deviation_minutes != 0
                assert (t.deviation_minutes < 0) == (x.status is Status.EARLY)
            elif x.status is Status.ON_TIME:
                assert t.deviation_minutes == 0
            else:
                assert t.deviation_minutes is None
    late = [x.timing.deviation_minutes for r in RESULTS for x in r.schedule
            if x.activity == "drug_conc" and x.status is Status.LATE and x.timing is not None]
    assert 25 in late  # 24-hour samples drawn 85 minutes after their time (window ±60)


def test_a_period_dose_without_its_time_leaves_its_samples_time_unknown() -> None:
    r = next(r for r in RESULTS if r.id == "XO017")
    rows = [x for x in r.schedule if x.epoch == "treatment_2" and x.activity == "drug_conc"]
    assert rows and all(x.status is Status.TIME_UNKNOWN for x in rows
                        if x.actual_date is not None and x.actual_date.isoformat() < "2024-06-04")


def test_the_sequences_dose_test_and_reference_in_opposite_periods() -> None:
    for r in RESULTS:
        doses = {x.label: x.activity for x in r.schedule if x.activity_type == "dose"}
        expected = ({"P1D1": "test", "P2D1": "reference"} if r.arm == "tr"
                    else {"P1D1": "reference", "P2D1": "test"})
        assert doses == expected, r.id


def test_reasons_of_the_period_statuses() -> None:
    reasons = {str(x.reason) for r in RESULTS for x in r.schedule if x.epoch == "treatment_2"}
    assert any(x.startswith("period 2 did not start: discontinuation (sae) on ") for x in reasons)
    assert any(x.startswith("after withdrawal (disposition: withdrew consent) on ")
               for x in reasons)
    assert "Period 2 has not started by the as-of date" in reasons
    early = [str(x.reason) for r in RESULTS for x in r.schedule
             if x.epoch == "treatment_2" and x.activity_type == "dose" and x.status is Status.EARLY]
    assert early and all("washout of 5 days after the last dose of period 1" in x and
                         "(7 to 14 days stated)" in x for x in early)


def test_the_cohort_file_is_what_the_generator_writes(tmp_path) -> None:
    out = tmp_path / "patients.jsonl"
    subprocess.run([sys.executable, str(FOLDER / "make_cohort.py"), "-o", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == (FOLDER / "patients.jsonl").read_bytes()


def test_deviation_rows_golden() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["patient", "arm", "activity", "label", "status", "planned_day", "window",
                "actual_day", "deviation_days", "reason"])
    for r in RESULTS:
        for x in r.schedule:
            if x.status in (Status.ON_TIME, Status.NOT_DUE):
                continue
            w.writerow([r.id, r.arm, x.activity, x.label, x.status.value, x.planned_day,
                        "" if x.window is None else f"{x.window[0]}..{x.window[1]}",
                        x.actual_day, x.deviation_days, x.reason or ""])
    assert_golden("crossover_ab.deviations.csv", buf.getvalue())


def test_the_timeline_places_protocol_days_by_their_distance_from_the_anchor() -> None:
    """Days counted from 1 (no day 0): XO004's reference tablet, given on the day of
    randomization (protocol day 1), is drawn on the randomization line, and the stop the next
    day one day after it, as the dates say. The rows' protocol days used to be drawn as
    distances, a day to the right of the line, the axis, stops and adverse events."""
    from render.report.timeline import timeline_data

    trial = trialcode.load(FOLDER / "protocol.trial")
    r = next(x for x in RESULTS if x.id == "XO004")
    assert r.anchor_date == datetime.date(2024, 3, 16)
    dose = next(x for x in r.schedule if x.activity == "reference" and x.label == "P1D1")
    assert (dose.actual_date, dose.actual_day) == (datetime.date(2024, 3, 16), 1)
    tl = timeline_data(r, None, AS_OF, "randomization", trial.calendar)
    assert isinstance(tl, dict)
    lane = tl["lanes"].index("reference (dose)")
    (mark,) = [m for m in tl["m"] if m[0] == "r" and m[1] == lane and "P1D1" in m[-1]]
    assert mark[3:6] == [0, 1, 0]  # window days 1 to 2 (-0 to +1), given on the anchor's day
    (stop,) = [m for m in tl["m"] if m[0] == "s"]
    assert stop[1] == 1 and "on 2024-03-17 (day 2)" in stop[-1]
    # the screening window, days -28 to -2, keeps its distances: no day 0 to skip below 1
    screening = next(m for m in tl["m"] if m[0] == "r" and "screening" in m[-1])
    assert screening[3:5] == [-28, -2]
    assert tl["d1"] == 1  # the script labels a tick at distance t >= 0 "day t + 1"


def test_a_deviation_in_a_period_not_yet_started_says_it_is_provisional() -> None:
    """XO023 was admitted for period 2 on the data cut (2024-06-04), four days after period
    1's dose: period 2's dose is not given yet, so its window (and the admission's, the day
    before it) counts from its planned start, 7 days after period 1's dose. The admission is
    early by 2 against that plan, but the verdict holds only if the dose comes within its
    window; the reason now says so instead of reading as settled."""
    r = next(x for x in RESULTS if x.id == "XO023")
    rows = [x for x in r.schedule if x.label in ("P2 Admission", "P2 admission")]
    assert rows and {(x.status, x.deviation_days) for x in rows} == {(Status.EARLY, -2)}
    assert {x.reason for x in rows} == {
        "2 day(s) before the window opened (provisional: Period 2 has not started by the as-of "
        "date, and the window counts from its planned start)"}
    dose = next(x for x in r.schedule if x.activity == "reference" and x.label == "P2D1")
    assert dose.status is Status.NOT_DUE
