"""The streaming entry point, the Summary accumulator and the JSON report, on small cohorts and
on the two example trials (parsed with the language front end, which the engine never imports)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from enginekit import (
    Timeline,
    any_,
    at_day,
    before,
    cmp,
    day,
    dose,
    exclusion,
    for_,
    inclusion,
    latest,
    q,
    repeat,
    trial,
    uln,
    visit,
    window,
    within,
)

from engine import Summary, compile_trial, evaluate_all
from engine.patient import RecordRef, RejectedRecord
from engine.report_json import SCHEMA, patient_json, report, summary_json
from engine.results import EventRole, PatientResult

ROOT = Path(__file__).resolve().parents[2]
T = trial(
    inclusions=(inclusion("I1", cmp(latest("alt", within(14)), "<=", uln(2.5))),
                inclusion("I2", cmp(latest("ecog", within(28)), "<=", q(2)))),
    exclusions=(exclusion("E1", any_("infection", before())),),
    items=(visit("baseline", at_day(0)), visit("week2", at_day(14), window(3)),
           dose("drug", timing=repeat(7, 1, for_(28)), win=window(2), arms=("a",))),
)


def cohort():
    ok = Timeline().obs("alt", -2, 20, "U/L", 7, 40).obs("ecog", -2, 1).visit("baseline", 0)
    yield ok.visit("week2", 20).patient("P1")            # eligible, week 2 late
    yield Timeline().obs("ecog", -2, 1).patient("P2")     # I1 unknown -> indeterminate
    bad = Timeline().obs("alt", -2, 200, "U/L", 7, 40).obs("ecog", -2, 1).occ("infection", -50)
    yield bad.patient("P3")                               # I1 not met, E1 met -> ineligible
    yield RejectedRecord(RecordRef("p.jsonl", "line 4"), "bad date", "P4", "date")
    yield Timeline().obs("alt", -2, 20, "U/L", 7, 40).obs("ecog", -2, 4).patient("P5")


def test_evaluate_all_streams_results_and_passes_rejections_through():
    summary = Summary(T)
    out = list(evaluate_all(T, cohort(), day(60), summary=summary))
    assert [type(x).__name__ for x in out] == ["PatientResult"] * 3 + ["RejectedRecord",
                                                                        "PatientResult"]
    s = summary.result()
    assert (s.patients, s.rejected, s.eligible, s.ineligible, s.indeterminate) == (4, 1, 1, 2, 1)
    attrition = [(a.id, a.met, a.not_met, a.unknown, a.remaining) for a in s.attrition]
    assert attrition == [
        ("I1", 2, 1, 1, 2),   # P1, P5 met; P3 not; P2 unknown
        ("I2", 3, 1, 0, 1),   # P5's ECOG 4
        ("E1", 1, 3, 0, 1),   # P3's infection; exclusions pass when not met
    ]
    week2 = next(a for a in s.activities if a.activity == "week2")
    assert dict(week2.counts) == {"late": 1, "missed": 3} and week2.deviations == 4
    assert s.rejected_samples[0].patient == "P4"


def test_the_summary_memory_does_not_grow_with_patients():
    summary = Summary(T)
    p = next(iter(cohort()))
    for _ in evaluate_all(T, (p for _ in range(300)), day(60), summary=summary):
        pass
    assert summary.patients == 300
    assert len(summary._activities) == 3 and len(summary._criteria) == 3


def test_the_json_report_is_plain_json_with_the_documented_fields():
    plan = compile_trial(T)
    items = list(evaluate_all(plan, cohort(), day(60)))
    doc = report("TEST", day(60), items)
    text = json.dumps(doc)  # nothing that is not JSON
    assert json.loads(text)["schema"] == SCHEMA == "trialcode.report/2"
    p1 = doc["patients"][0]
    assert set(p1) >= {"id", "arm", "eligibility", "schedule", "unplanned", "dosing", "stopping",
                       "errors", "event_counts", "events"}
    assert p1["eligibility"]["verdict"] == "eligible"
    crit = p1["eligibility"]["criteria"][0]
    assert set(crit) >= {"id", "verdict", "evidence"}
    assert crit["evidence"][0]["reference_range"] == [7, 40]
    row = next(r for r in p1["schedule"] if r["activity"] == "week2")
    assert {k: row[k] for k in ("occurrence", "planned_day", "window", "actual_date",
                                "actual_day", "status", "deviation_days")} == {
        "occurrence": 1, "planned_day": 14, "window": [11, 17],
        "actual_date": day(20).isoformat(), "actual_day": 20, "status": "late",
        "deviation_days": 3}
    assert doc["rejected"] == [{"source": "p.jsonl line 4", "patient": "P4", "field": "date",
                                "message": "bad date"}]
    assert doc["summary"]["eligibility"] == {
        "eligible": 1, "ineligible": 2, "indeterminate": 1,
        # every kind collected: what the data decide is the verdict
        "on_the_data": {"eligible": 1, "ineligible": 2, "unknown": 1}}
    assert sum(p1["event_counts"].values()) == 5


@pytest.mark.parametrize("example,as_of", [("nct06802718", datetime.date(2025, 1, 31))])
def test_the_example_cohort_runs_clean(example: str, as_of: datetime.date):
    dsl = pytest.importorskip("dsl")
    io = pytest.importorskip("engine.io")
    folder = ROOT / "examples" / example
    if not (folder / "patients.jsonl").exists():
        pytest.skip("no synthetic cohort")
    trial_ = dsl.parse_file(folder / "protocol.trial")
    summary = Summary(trial_)
    results = [x for x in evaluate_all(trial_, io.read_patients(folder / "patients.jsonl", trial_),
                                       as_of, summary=summary)
               if isinstance(x, PatientResult)]
    assert results and summary.result().patients == len(results)
    for r in results:
        assert [a.index for a in r.events] == list(range(len(r.events)))
        assert not any(a.role is EventRole.NOT_EVALUATED for a in r.events if r.anchor_date)
        json.dumps(patient_json(r))
    s = summary_json(summary)
    assert s["patients"] == len(results)


def test_the_summary_counts_what_the_data_decide_and_lists_site_verification_once():
    # E1 reads infection, which only some patients' data hold (`collected`)
    no_history = frozenset({"alt", "ecog"})
    ok = Timeline().obs("alt", -2, 20, "U/L", 7, 40).obs("ecog", -2, 1)
    patients = [
        ok.patient("P1", collected=no_history),                     # eligible on the data
        Timeline().obs("ecog", -2, 1).patient("P2", collected=no_history),  # ALT missing
        Timeline().obs("alt", -2, 200, "U/L", 7, 40).obs("ecog", -2, 1)
        .patient("P3", collected=no_history),                       # I1 fails
        ok.patient("P4"),                                           # every kind collected
    ]
    whole = Summary(T)
    results = list(evaluate_all(T, patients, day(60), summary=whole))
    s = whole.result()
    assert [r.eligibility.verdict.value for r in results] == [
        "indeterminate", "indeterminate", "ineligible", "eligible"]
    assert (s.eligible, s.ineligible, s.indeterminate) == (1, 1, 2)
    assert (s.data_eligible, s.data_ineligible, s.data_unknown) == (2, 1, 1)
    e1 = next(a for a in s.attrition if a.id == "E1")
    assert (e1.unknown, e1.not_collected, e1.missing) == (3, 3, 0)
    assert e1.kinds_not_collected == ("infection",)
    i1 = next(a for a in s.attrition if a.id == "I1")
    assert (i1.unknown, i1.not_collected, i1.missing) == (1, 0, 1)
    # remaining: strict (unknown never passes) and on the data (E1's not-collected passes)
    assert [a.remaining for a in s.attrition] == [2, 2, 1]
    assert [a.remaining_on_data for a in s.attrition] == [2, 2, 2]
    assert [a.id for a in s.site_verification] == ["E1"]
    # split in two shares and merged: the same summary
    first, second = Summary(T), Summary(T)
    for r in results[:2]:
        first.add(r)
    for r in results[2:]:
        second.add(r)
    first.merge(second)
    assert first.result() == s
    doc = summary_json(s)
    assert doc["eligibility"]["on_the_data"] == {"eligible": 2, "ineligible": 1, "unknown": 1}
    assert doc["site_verification"] == [{"id": "E1", "category": "exclusion", "text": "E1 text",
                                         "not_collected": ["infection"], "patients": 3}]


def test_only_a_stop_counts_as_a_patient_who_stopped():
    t = trial(items=(visit("baseline", at_day(0)), visit("week2", at_day(14), window(3))))
    screen_failure = Timeline(randomized=None).disposition("screen failure", -5, "withdraw")
    withdrew = Timeline().visit("baseline", 0).disposition("withdrawn", 10, "withdraw")
    completed = Timeline().visit("baseline", 0).disposition("completed", 30, "complete")
    summary = Summary(t)
    results = list(evaluate_all(
        t, [screen_failure.patient("SF"), withdrew.patient("W"), completed.patient("C")],
        day(60), summary=summary))
    kinds = {r.id: [s.kind(r.anchor_date) for s in r.stopping] for r in results}
    # a screen failure stops nothing planned; a completed disposition is no stopping event
    assert kinds == {"SF": ["before_anchor"], "W": ["stop"], "C": []}
    s = summary.result()
    assert (s.patients_with_stopping, s.patients_stopped) == (2, 1)
