"""What a protocol author reads in the schedule of activities of the cycle, crossover and PK
examples (issue 14): a repeating activity's bar ends on its last occurrence, a window range is
plural, a flag condition reads as a word, and a plain word of a label is no abbreviation."""

from __future__ import annotations

import math

from conftest import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st

import dsl
from protocol.schedule import Activity, Repeat, RepeatFor
from protocol.timing import DEFAULT_CALENDAR, DayPoint, Duration, TimeUnit, Window
from protocol.vocab import ActivityKind
from render.design import repeat_span
from render.soa import build_grid
from render.terms import Terms, window_text

PK = dsl.parse_file(EXAMPLES / "phase1_pk" / "protocol.trial")
ONCOLOGY = dsl.parse_file(EXAMPLES / "oncology_cycles" / "protocol.trial")


def test_daily_dosing_for_14_days_is_not_drawn_over_the_discharge_on_day_15() -> None:
    grid = build_grid(PK)
    assert grid is not None
    row = next(r for r in grid.rows if r.kind == "repeat" and r.interventions == ("drug_a",))
    assert row.span is not None
    covered = [grid.columns[i].label for i in range(row.span[0], row.span[1] + 1)]
    assert covered == ["Day 1", "Day 4", "Day 7", "Day 10", "Day 14"]


@given(st.integers(-30, 30), st.integers(1, 30), st.integers(1, 400))
def test_the_bar_of_a_repeat_ends_on_its_last_occurrence(start: int, every: int,
                                                         length: int) -> None:
    """`every E from day S for L`: occurrences strictly before S + L (protocol.schedule.Repeat)."""
    a = Activity(ActivityKind.ASSESS, ("x",), Repeat(Duration(every, TimeUnit.DAY),
                                                     DayPoint(TimeUnit.DAY, start),
                                                     RepeatFor(Duration(length, TimeUnit.DAY))))
    days = [start + k * every for k in range(math.ceil(length / every) + 1)
            if start + k * every < start + length]
    span = repeat_span(a, DEFAULT_CALENDAR, {})
    assert span == (days[0], days[-1])


def test_a_window_range_is_plural() -> None:
    assert window_text(Window(1, 0)) == "−1 to +0 days"
    assert window_text(Window(0, 1)) == "−0 to +1 days"
    assert window_text(Window(1, 1)) == "±1 day"
    assert window_text(Window(5, 10, TimeUnit.MINUTE)) == "−5 to +10 minutes"


def test_a_word_of_the_label_is_not_an_abbreviation() -> None:
    terms = Terms(PK)
    assert terms.abbreviation("pulse") is None  # "Pulse rate", not "Pulse rate (PULSE)"
    assert terms.term_full("pulse") == "Pulse rate"
    assert terms.abbreviation("alt") == "ALT"
    assert "PULSE" not in dict(terms.abbreviations())


def test_an_event_triggered_visit_on_a_flag_reads_as_protocols_write_it() -> None:
    grid = build_grid(ONCOLOGY)
    assert grid is not None
    notes = dict(grid.footnotes)
    column = next(c for c in grid.columns if c.label == "SAE follow-up")
    assert notes[column.footnotes[0]] == ("After each adverse event that is serious (−0 to +7 "
                                          "days): one visit per event; no planned day.")


def test_each_periods_first_dose_shows_the_window_the_protocol_allows() -> None:
    """`periods ... from day 1 window -0 to +1 days`: the window of each period's first dose."""
    grid = build_grid(dsl.parse_file(EXAMPLES / "crossover_ab" / "protocol.trial"))
    assert grid is not None
    windows = {(c.group, c.label): c.window_text for c in grid.columns if c.group}
    assert windows[("Period 1", "Day 1")] == windows[("Period 2", "Day 1")] == "−0 to +1 d"
    assert windows[("Period 1", "Admission")] == windows[("Period 2", "Day 2")] == ""


def test_an_item_for_some_patients_reads_as_a_protocol_footnote() -> None:
    grid = build_grid(ONCOLOGY)
    assert grid is not None
    notes = dict(grid.footnotes)
    row = next(r for r in grid.rows if r.label == "Pregnancy test")
    said = {notes[letter] for mark in row.marks for letter in mark.footnotes}
    assert said >= {"Female participants only.",
                    "Only if woman of childbearing potential (as last recorded)."}


def test_a_vital_sign_test_code_is_no_abbreviation_but_the_initials_are() -> None:
    """`sysbp` is the SDTM test code, which no protocol prints as "Systolic blood pressure
    (SYSBP)"; a name that is the label's initials (SBP, HR) is the abbreviation writers use."""
    terms = Terms(PK)
    assert terms.abbreviation("sysbp") is None
    assert terms.term_full("sysbp") == "Systolic blood pressure"
    assert terms.term("diabp") == "diastolic blood pressure"
    assert "SYSBP" not in dict(terms.abbreviations())
    trial = dsl.parse("""trial T {
  title "t"
  data {
    vital sbp "Systolic blood pressure" unit `mm[Hg]`
    vital hr "Heart rate" unit `/min`
    vital temp "Body temperature" unit Cel
  }
}
""")
    named = Terms(trial)
    assert named.term_full("sbp") == "Systolic blood pressure (SBP)"
    assert named.term("hr") == "HR"
    assert named.abbreviation("temp") is None


def test_a_protocol_without_epochs_has_no_epoch_row_and_no_unscheduled_visits() -> None:
    """t2dm_addon declares no epochs: its planned visits were shown under an "Unscheduled"
    epoch heading. "Unscheduled" is for visits without a planned day (as needed, on an event)."""
    from render import render_document
    from render.docx_writer import docx_text

    t2dm = dsl.parse_file(EXAMPLES / "t2dm_addon" / "protocol.trial")
    grid = build_grid(t2dm)
    assert grid is not None and grid.groups == []
    assert [c.label for c in grid.columns] == ["Screening", "Baseline", "Week 12", "Week 26"]
    html = render_document(t2dm, "html")
    assert isinstance(html, str)
    assert 'class="epochs"' not in html and "Unscheduled" not in html
    md = render_document(t2dm, "md")
    assert isinstance(md, str) and "*Epoch*" not in md and "| *Day* |" in md
    data = render_document(t2dm, "docx")
    assert isinstance(data, bytes)
    text = docx_text(data)
    assert "Unscheduled" not in text and "Week 12" in text
    # the seed trial's as-needed and event visits stay "Unscheduled", beside its epochs
    seed = build_grid(dsl.parse_file(EXAMPLES / "nct06802718" / "protocol.trial"))
    assert seed is not None
    assert [g.label for g in seed.groups][-1] == "Unscheduled"
    assert all(c.day is None for c in seed.columns if c.epoch_label == "Unscheduled")
