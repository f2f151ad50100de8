"""Sub-day timepoints in the document and the exports: a row of the schedule grid on the
reference days pointing to a timepoint table (times as columns, windows beneath), the prose of
section 8, and a USDM sub-timeline per block with `PT30M`-style timings."""

from __future__ import annotations

from conftest import EXAMPLES

import dsl
from render import render_document
from render.export import export_usdm
from render.soa import build_grid

TRIAL = dsl.parse_file(EXAMPLES / "phase1_pk" / "protocol.trial")


def test_the_grid_marks_the_reference_days_and_points_to_the_table() -> None:
    grid = build_grid(TRIAL)
    assert grid is not None
    row = next(r for r in grid.rows if r.timepoints == "pk")
    marked = [grid.columns[i].label for i, m in enumerate(row.marks) if m.text == "X"]
    assert marked == ["Day 1", "Day 14"]
    trough = next(r for r in grid.rows if r.timepoints == "trough")
    assert [grid.columns[i].label for i, m in enumerate(trough.marks) if m.text] == [
        "Day 4", "Day 7", "Day 10"]
    notes = dict(grid.footnotes)
    assert notes[row.footnotes[0]] == ("Times from the dose of Drug A on Days 1 and 14: the "
                                       "times and their windows are in Table 2.")


def test_the_timepoint_table() -> None:
    grid = build_grid(TRIAL)
    assert grid is not None
    table = grid.timepoints[0]
    assert table.caption == "Table 2. Pharmacokinetic sampling; post-dose vital signs and ECG"
    assert table.reference == "Times from the dose of Drug A on Days 1 and 14"
    assert [(c.label, c.window_text) for c in table.columns] == [
        ("Pre-dose", "≤60 min before"), ("0.5 h", "±5 min"), ("1 h", "±10 min"),
        ("2 h", "±5 min"), ("4 h", "±15 min"), ("8 h", "±15 min"), ("12 h", "±15 min"),
        ("24 h", "±15 min")]
    pk = table.rows[0]
    assert pk.label == "Plasma concentration of Drug A" and all(m.text for m in pk.marks)
    # the 1 h column shows the vital signs' window; the sample's own is footnoted
    notes = dict(table.footnotes)
    assert notes[pk.marks[2].footnotes[0]] == "Plasma concentration of Drug A: window ±5 min."
    assert [t.caption for t in grid.timepoints] == [
        "Table 2. Pharmacokinetic sampling; post-dose vital signs and ECG",
        "Table 3. Trough sampling"]


def test_the_document_says_when_each_item_is_collected() -> None:
    md = render_document(TRIAL, "md")
    assert isinstance(md, str)
    assert ("before the dose of Drug A on Days 1 and 14 (within 60 minutes); at 0.5, 1, 2, 4, "
            "8, 12 and 24 hours after the dose of Drug A on Days 1 and 14 (±5 minutes up to 2 "
            "hours, ±15 minutes after)") in md
    html = render_document(TRIAL, "html")
    assert isinstance(html, str) and 'id="table-2"' in html and "Times from the dose" in html


def test_usdm_sub_timelines_with_iso_timings() -> None:
    design = export_usdm(TRIAL)["study"]["versions"][0]["studyDesigns"][0]
    timelines = {t["name"]: t for t in design["scheduleTimelines"]}
    pk = timelines["Pharmacokinetic sampling Timeline"]
    assert pk["mainTimeline"] is False
    timings = {t["label"]: t for t in pk["timings"]}
    assert (timings["0.5 h"]["type"]["decode"], timings["0.5 h"]["value"],
            timings["0.5 h"]["windowLower"], timings["0.5 h"]["windowUpper"]) == (
        "After", "PT30M", "PT5M", "PT5M")
    assert (timings["24 h"]["value"], timings["24 h"]["windowLower"]) == ("PT24H", "PT15M")
    assert (timings["Pre-dose"]["type"]["decode"], timings["Pre-dose"]["windowLower"],
            timings["Pre-dose"]["windowUpper"]) == ("Before", "PT1H", "PT0M")
    anchor = pk["entryId"]
    assert all(t["relativeToScheduledInstanceId"] == anchor for t in pk["timings"])
    activities = {a["id"]: a for a in design["activities"]}
    row = next(a for a in design["activities"] if a["label"] == "Pharmacokinetic sampling")
    assert row["timelineId"] == pk["id"]
    samples = {activities[i]["label"] for inst in pk["instances"] for i in inst["activityIds"]}
    assert samples == {"Plasma concentration of Drug A", "Administer Drug A"}
