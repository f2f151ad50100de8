"""Times of day: windows in hours and minutes, date-only records against them, time zones.

The rule (docs/engine-semantics.md, "Times of day"): a stamp stands for the instants it may
denote (a date alone: the whole day); a record is in an hours window when it is for every one
of them, out of it when for none, and otherwise the answer is unknown, with the reason.
"""

from __future__ import annotations

import datetime

import pytest
from enginekit import (
    D0,
    Timeline,
    any_,
    clock,
    cmp,
    count,
    day,
    exclusion,
    inclusion,
    latest,
    q,
    s,
    trial,
    within,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import clock as clk
from engine import evaluate
from engine.patient import ClockTime, Observation, Occurrence, Patient
from engine.results import CriterionVerdict
from protocol import expr as ex
from protocol.timing import Duration, TimeUnit

AS_OF = datetime.date(2024, 6, 1)
HOURS = TimeUnit.HOUR
FIRST_DOSE = ex.DoseAnchor(ex.AggregateFn.FIRST, "drug")
RANDO = ex.NamedAnchor("randomization")


def hours(n: float, anchor: ex.AnchorRef = RANDO, strict: bool = False,
          after: bool = False) -> ex.Within:
    return ex.Within(Duration(n, HOURS), ex.Direction.AFTER if after else ex.Direction.BEFORE,
                     anchor, strict)


ALCOHOL = exclusion("E1", any_("alcohol", hours(48)))
PREGNANCY = inclusion("I1", cmp(latest("pregnancy_test", hours(24)), "==", s("negative")))


def verdict(crit, tl: Timeline):
    result = evaluate(trial(inclusions=tuple(c for c in crit if c.category.value == "inclusion"),
                            exclusions=tuple(c for c in crit if c.category.value == "exclusion")),
                      tl.patient(), AS_OF)
    (c,) = [c for c in result.eligibility.criteria if c.id in {x.id for x in crit}]
    return c


# ---- the clock: one stamp against a window ---------------------------------------------------

H = clk.MICROS_PER_HOUR
T0 = (D0, clock("08:00"))


@pytest.mark.parametrize(("record", "expected"), [
    ((day(-2), clock("09:00")), clk.INSIDE),     # 47 h before
    ((day(-2), clock("08:00")), clk.INSIDE),     # exactly 48 h: the bound is included
    ((day(-2), clock("07:59")), clk.OUTSIDE),    # 48 h 1 min
    ((day(-1), None), clk.INSIDE),               # the whole day is 8 to 32 h before
    ((day(-2), None), clk.MAYBE),                # 00:00 is 56 h before, 23:59 32 h
    ((day(-3), None), clk.OUTSIDE),
    ((D0, None), clk.MAYBE),                     # before or after 08:00
    ((D0, clock("08:00")), clk.INSIDE),          # the anchor's own instant
    ((D0, clock("08:01")), clk.OUTSIDE),
    ((day(-2), clock("07")), clk.OUTSIDE),       # to the hour: 07:00-07:59, all too early
    ((day(-2), clock("08")), clk.INSIDE),        # 08:00-08:59, all within 48 h
])
def test_a_stamp_against_a_48_hour_window(record, expected) -> None:
    assert clk.window_position(record, record, T0, -48 * H, 0) == expected


def test_a_time_to_the_hour_is_any_instant_of_it() -> None:
    anchor = (D0, clock("08:30"))
    r = (day(-2), clock("08"))  # 08:00 is 48 h 30 min before, 08:59 47 h 31 min
    assert clk.window_position(r, r, anchor, -48 * H, 0) == clk.MAYBE


def test_a_strict_window_excludes_its_far_bound_only() -> None:
    exactly = (day(-2), clock("08:00"))
    assert clk.window_position(exactly, exactly, T0, -48 * H, 0, strict_lo=True) == clk.OUTSIDE
    assert clk.window_position(T0, T0, T0, -48 * H, 0, strict_lo=True) == clk.INSIDE


def test_an_anchor_without_a_time_is_its_whole_day() -> None:
    anchor = (D0, None)
    r = (day(-2), clock("09:00"))  # 39 to 63 h before some instant of D0
    assert clk.window_position(r, r, anchor, -48 * H, 0) == clk.MAYBE
    r = (day(-1), clock("23:00"))  # 1 to 25 h before
    assert clk.window_position(r, r, anchor, -48 * H, 0) == clk.INSIDE


def test_offsets_compare_instants_and_a_missing_offset_widens() -> None:
    # 06:00Z is 08:00+02:00: the same instant
    utc = (D0, clock("06:00Z"))
    local = (D0, clock("08:00+02:00"))
    assert clk.difference_bounds(utc, local) == (0, 0)
    # without offsets: one local clock
    assert clk.difference_bounds((D0, clock("06:00")), (D0, clock("08:00"))) == (2 * H, 2 * H)
    # one with and one without: the one without may be at any offset from -12:00 to +14:00
    lo, hi = clk.difference_bounds((D0, clock("06:00Z")), (D0, clock("08:00")))
    assert (lo, hi) == (2 * H - 14 * H, 2 * H + 12 * H)
    far = (day(-5), clock("08:00"))
    assert clk.window_position(far, far, utc, -48 * H, 0) == clk.OUTSIDE  # days apart: known


def test_ends_before_only_when_sure() -> None:
    assert clk.ends_before(clock("10:00"), clock("09:00"))
    assert not clk.ends_before(clock("09:00"), clock("09:00"))
    assert not clk.ends_before(clock("10"), clock("10:30"))  # the hour may be 10:00-10:59
    assert not clk.ends_before(None, clock("09:00"))


# ---- any KIND within N hours ------------------------------------------------------------------


def randomized_at(at: str | None) -> Timeline:
    return Timeline(randomized=None).anchor("randomization", 0, at=at)


@pytest.mark.parametrize(("d", "at", "expected"), [
    (-2, "09:00", CriterionVerdict.MET),        # 47 hours before: excluded
    (-2, "07:00", CriterionVerdict.NOT_MET),    # 49 hours before
    (-1, None, CriterionVerdict.MET),           # the whole day is within 48 hours
    (-3, None, CriterionVerdict.NOT_MET),       # the whole day is outside
    (-2, None, CriterionVerdict.UNKNOWN),       # part of the day is inside: unknown
])
def test_alcohol_within_48_hours_before_randomization(d, at, expected) -> None:
    c = verdict((ALCOHOL,), randomized_at("08:00").occ("alcohol", d, at=at))
    assert c.verdict is expected


def test_a_date_only_record_that_may_fall_inside_says_why() -> None:
    c = verdict((ALCOHOL,), randomized_at("08:00").occ("alcohol", -2))
    (e,) = c.evidence
    assert e.explanation == (
        "any alcohol within 48 hours before randomization: unknown (alcohol on 2024-01-08 may "
        "or may not be within 48 hours before randomization (randomization 2024-01-10T08:00): "
        "the record has no time of day)")
    assert e.ref is not None and e.date == day(-2)


def test_an_anchor_without_a_time_makes_a_timed_record_near_the_bound_unknown() -> None:
    c = verdict((ALCOHOL,), randomized_at(None).occ("alcohol", -2, at="09:00"))
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "randomization has no time of day" in c.evidence[0].explanation
    # far enough from the bound, the anchor's time does not matter
    c = verdict((ALCOHOL,), randomized_at(None).occ("alcohol", -1, at="09:00"))
    assert c.verdict is CriterionVerdict.MET


def test_a_timed_record_is_shown_with_its_time() -> None:
    c = verdict((ALCOHOL,), randomized_at("08:00").occ("alcohol", -2, at="09:00"))
    (e,) = c.evidence
    assert e.explanation == ("any alcohol within 48 hours before randomization: alcohol on "
                             "2024-01-08T09:00: true")
    assert e.time == clock("09:00")


def test_a_record_just_outside_is_named_not_called_absent() -> None:
    """Alcohol at 07:59 two days before a randomization at 08:00 is 48 h 01 min before: E1
    not met. The evidence names that record rather than saying none was recorded (it said
    `none recorded`, which sends a reviewer looking for a record that is there)."""
    c = verdict((ALCOHOL,), randomized_at("08:00").occ("alcohol", -2, at="07:59"))
    assert c.verdict is CriterionVerdict.NOT_MET
    assert c.evidence[0].explanation == (
        "any alcohol within 48 hours before randomization: none (alcohol on 2024-01-08T07:59 "
        "is outside the window): false")
    c = verdict((ALCOHOL,), randomized_at("08:00"))
    assert c.evidence[0].explanation == ("any alcohol within 48 hours before randomization: "
                                         "none recorded: false")


def test_strictly_within_excludes_the_record_exactly_48_hours_before() -> None:
    strict = exclusion("E1", any_("alcohol", hours(48, strict=True)))
    tl = randomized_at("08:00").occ("alcohol", -2, at="08:00")
    assert verdict((ALCOHOL,), tl).verdict is CriterionVerdict.MET
    assert verdict((strict,), tl).verdict is CriterionVerdict.NOT_MET


def test_an_occurrence_overlapping_the_window_by_its_times() -> None:
    # a binge from day -4 20:00 to day -2 07:00 ends 49 hours before: outside
    tl = randomized_at("08:00").occ("alcohol", -4, end=-2, at="20:00", end_at="07:00")
    assert verdict((ALCOHOL,), tl).verdict is CriterionVerdict.NOT_MET
    tl = randomized_at("08:00").occ("alcohol", -4, end=-2, at="20:00", end_at="09:00")
    assert verdict((ALCOHOL,), tl).verdict is CriterionVerdict.MET


def test_within_hours_after_an_anchor() -> None:
    crit = inclusion("I9", any_("alcohol", hours(2, after=True)))
    tl = randomized_at("08:00")
    assert verdict((crit,), tl.occ("alcohol", 0, at="09:30")).verdict is CriterionVerdict.MET
    tl = randomized_at("08:00")
    assert verdict((crit,), tl.occ("alcohol", 0, at="10:30")).verdict is CriterionVerdict.NOT_MET


def test_first_dose_with_its_time_as_the_anchor() -> None:
    crit = exclusion("E2", any_("alcohol", hours(24, anchor=FIRST_DOSE)))
    tl = randomized_at("07:00").dose("drug", 0, at="09:00").occ("alcohol", -1, at="10:00")
    assert verdict((crit,), tl).verdict is CriterionVerdict.MET  # 23 hours before the dose
    tl = randomized_at("07:00").dose("drug", 0, at="09:00").occ("alcohol", -1, at="08:00")
    assert verdict((crit,), tl).verdict is CriterionVerdict.NOT_MET


# ---- latest KIND within N hours -----------------------------------------------------------


def test_pregnancy_test_within_24_hours_met() -> None:
    tl = randomized_at("08:00").obs("pregnancy_test", 0, "negative", at="07:00")
    c = verdict((PREGNANCY,), tl)
    assert c.verdict is CriterionVerdict.MET
    assert c.evidence[0].explanation == (
        'latest pregnancy_test within 24 hours before randomization: "negative" on '
        '2024-01-10T07:00 == "negative": true')


def test_pregnancy_test_without_a_time_on_the_day_before_is_unknown() -> None:
    tl = randomized_at("08:00").obs("pregnancy_test", -1, "negative")
    c = verdict((PREGNANCY,), tl)
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "pregnancy_test on 2024-01-09 may or may not be within 24 hours" in (
        c.evidence[0].explanation)


def test_a_doubtful_record_that_may_be_the_latest_makes_latest_unknown() -> None:
    # the 07:00 test is in the window; a date-only positive test of the same day may be later
    tl = (randomized_at("08:00").obs("pregnancy_test", 0, "negative", at="07:00")
          .obs("pregnancy_test", 0, "positive"))
    assert verdict((PREGNANCY,), tl).verdict is CriterionVerdict.UNKNOWN


def test_a_doubtful_record_surely_earlier_does_not_matter_to_latest() -> None:
    # the date-only test of the day before may be in the window, but it is surely earlier
    tl = (randomized_at("08:00").obs("pregnancy_test", -1, "positive")
          .obs("pregnancy_test", 0, "negative", at="07:00"))
    assert verdict((PREGNANCY,), tl).verdict is CriterionVerdict.MET


def test_latest_in_a_window_in_hours_is_latest_by_time_not_by_input_order() -> None:
    tl = (randomized_at("08:00").obs("pregnancy_test", 0, "negative", at="07:30")
          .obs("pregnancy_test", 0, "positive", at="06:00"))
    assert verdict((PREGNANCY,), tl).verdict is CriterionVerdict.MET


def test_latest_is_unknown_when_the_times_cannot_order_two_different_results() -> None:
    tl = (randomized_at(None).obs("pregnancy_test", -1, "negative")
          .obs("pregnancy_test", -1, "positive"))
    strict = inclusion("I1", cmp(latest("pregnancy_test", hours(48)), "==", s("negative")))
    c = verdict((strict,), tl)
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "the times cannot tell which record of pregnancy_test is the latest" in (
        c.evidence[0].explanation)
    # the same result twice: whichever is the latest, the value is known
    tl = (randomized_at(None).obs("pregnancy_test", -1, "negative")
          .obs("pregnancy_test", -1, "negative"))
    assert verdict((strict,), tl).verdict is CriterionVerdict.MET


def test_count_with_doubtful_records_is_unknown_with_the_range() -> None:
    crit = inclusion("I3", cmp(count("alcohol", hours(48)), "<=", q(1)))
    tl = randomized_at("08:00").occ("alcohol", -1, at="10:00").occ("alcohol", -2)
    c = verdict((crit,), tl)
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "1 to 2: alcohol on 2024-01-08 may or may not be" in c.evidence[0].explanation


@pytest.mark.parametrize(("op", "n", "expected"), [
    ("<=", 3, CriterionVerdict.MET),      # 1 or 2, both <= 3
    (">=", 1, CriterionVerdict.MET),      # the sure record alone makes 1
    (">", 2, CriterionVerdict.NOT_MET),   # at most 2
    ("==", 5, CriterionVerdict.NOT_MET),  # 5 is not in 1..2
    ("!=", 0, CriterionVerdict.MET),
    ("==", 2, CriterionVerdict.UNKNOWN),  # 2 if the dateless record counts, else 1
    ("<", 2, CriterionVerdict.UNKNOWN),
])
def test_count_with_doubtful_records_is_decided_when_its_range_agrees(op, n, expected) -> None:
    """Alcohol at 10:00 the day before (surely within 48 hours of randomization at 08:00)
    and on day -2 without a time (maybe): the count is 1 or 2."""
    crit = inclusion("I3", cmp(count("alcohol", hours(48)), op, q(n)))
    tl = randomized_at("08:00").occ("alcohol", -1, at="10:00").occ("alcohol", -2)
    c = verdict((crit,), tl)
    assert c.verdict is expected, c.evidence[0].explanation
    if expected is not CriterionVerdict.UNKNOWN:
        assert "1 to 2 (alcohol on 2024-01-08 may or may not be" in c.evidence[0].explanation


def test_a_count_range_inside_or_outside_an_in_range() -> None:
    tl = randomized_at("08:00").occ("alcohol", -1, at="10:00").occ("alcohol", -2)
    for low, high, expected in ((1, 2, CriterionVerdict.MET), (0, 5, CriterionVerdict.MET),
                                (3, 4, CriterionVerdict.NOT_MET),
                                (2, 3, CriterionVerdict.UNKNOWN)):
        crit = inclusion("I3", ex.InRange(count("alcohol", hours(48)), low, high))
        assert verdict((crit,), tl).verdict is expected, (low, high)


# ---- day-level windows keep their meaning --------------------------------------------------


def test_a_window_in_days_compares_dates_even_with_times() -> None:
    # 2 days before randomization at 08:00 is the whole of day -2, whatever the time
    crit = exclusion("E3", any_("alcohol", within(2)))
    tl = randomized_at("08:00").occ("alcohol", -2, at="07:00")
    assert verdict((crit,), tl).verdict is CriterionVerdict.MET
    tl = randomized_at("08:00").occ("alcohol", -3, at="23:59")
    assert verdict((crit,), tl).verdict is CriterionVerdict.NOT_MET


def test_a_strict_window_in_days_excludes_its_far_day() -> None:
    strict = exclusion("E4", any_("alcohol", ex.Within(Duration(21, TimeUnit.DAY),
                                                       ex.Direction.BEFORE, RANDO, True)))
    plain = exclusion("E4", any_("alcohol", within(21)))
    for d, plain_v, strict_v in ((-21, "met", "not_met"), (-20, "met", "met"),
                                 (0, "met", "met"), (-22, "not_met", "not_met")):
        tl = randomized_at(None).occ("alcohol", d)
        assert verdict((plain,), tl).verdict.value == plain_v, d
        tl = randomized_at(None).occ("alcohol", d)
        assert verdict((strict,), tl).verdict.value == strict_v, d


# ---- lasting N hours ----------------------------------------------------------------------


@pytest.mark.parametrize(("end", "end_at", "expected"), [
    (-3, "21:00", CriterionVerdict.MET),        # 08:00 to 21:00: 13 hours
    (-3, "19:00", CriterionVerdict.NOT_MET),    # 11 hours
    (-3, None, CriterionVerdict.UNKNOWN),       # ended that day, at any time: 0 to 16 hours
    (-2, None, CriterionVerdict.MET),           # ended the next day: at least 16 hours
])
def test_lasting_more_than_12_hours_by_the_times(end, end_at, expected) -> None:
    crit = exclusion("E5", any_("infection", None, None, ex.Lasting(
        ex.CompareOp.GT, Duration(12, HOURS))))
    tl = randomized_at("08:00").occ("infection", -3, end=end, at="08:00", end_at=end_at)
    assert verdict((crit,), tl).verdict is expected


# ---- a law: shifting every date-time of a patient by the same amount changes no verdict ----


LAW_TRIAL = trial(
    inclusions=(PREGNANCY,
                inclusion("I2", cmp(count("alcohol", hours(12)), "<=", q(1)))),
    exclusions=(ALCOHOL,
                exclusion("E2", any_("alcohol", hours(36, strict=True))),
                exclusion("E3", any_("infection", hours(72), None, ex.Lasting(
                    ex.CompareOp.GT, Duration(6, HOURS))))),
)
MINUTES_PER_DAY = 1440


def _shift(date: datetime.date, time: ClockTime | None, minutes: int
           ) -> tuple[datetime.date, ClockTime | None]:
    if time is None:
        assert minutes % MINUTES_PER_DAY == 0
        return date + datetime.timedelta(days=minutes // MINUTES_PER_DAY), None
    total = date.toordinal() * MINUTES_PER_DAY + time.micros // 60_000_000 + minutes
    day_n, minute = divmod(total, MINUTES_PER_DAY)
    return (datetime.date.fromordinal(day_n),
            ClockTime(minute * 60_000_000, time.precision, time.offset))


def shifted(p: Patient, minutes: int) -> Patient:
    events = []
    for ev in p.events:
        if isinstance(ev, Occurrence):
            start, st_ = _shift(ev.start, ev.start_time, minutes)
            end, et = (_shift(ev.end, ev.end_time, minutes) if ev.end is not None
                       else (None, None))
            events.append(Occurrence(ev.kind, start, ev.ref, end, ev.ongoing, ev.attributes,
                                     st_, et))
        elif isinstance(ev, Observation):
            d, t = _shift(ev.date, ev.time, minutes)
            events.append(Observation(ev.kind, d, ev.ref, ev.value, time=t))
        else:
            d, t = _shift(ev.date, ev.time, minutes)  # type: ignore[union-attr]
            events.append(type(ev)(ev.name, d, ev.ref, t))  # type: ignore[union-attr,call-arg]
    return Patient(p.id, p.ref, p.arm, p.sex, None, 40, tuple(events))


@st.composite
def timed_patients(draw: st.DrawFn, all_timed: bool) -> Patient:
    """Randomization at a time on D0, and records before that instant (so that a shift keeps
    every one of them on or before the reference date), timed or (if not all_timed) not."""
    rand_minute = draw(st.integers(0, MINUTES_PER_DAY - 1))
    tl = Timeline(randomized=None).anchor("randomization", 0, at=f"{rand_minute // 60:02d}:"
                                                                 f"{rand_minute % 60:02d}")
    for _ in range(draw(st.integers(0, 5))):
        before = draw(st.integers(0, 5 * MINUTES_PER_DAY))  # minutes before randomization
        total = rand_minute - before
        d, minute = divmod(total, MINUTES_PER_DAY)
        timed = all_timed or draw(st.booleans())
        at = f"{minute // 60:02d}:{minute % 60:02d}" if timed else None
        kind = draw(st.sampled_from(["alcohol", "pregnancy_test", "infection"]))
        if kind == "pregnancy_test":
            tl.obs(kind, d, draw(st.sampled_from(["negative", "positive"])), at=at)
        elif kind == "infection":
            length = draw(st.integers(0, min(before, 2 * MINUTES_PER_DAY)))
            ed, em = divmod(total + length, MINUTES_PER_DAY)
            tl.occ(kind, d, end=ed, at=at,
                   end_at=f"{em // 60:02d}:{em % 60:02d}" if timed else None)
        else:
            tl.occ(kind, d, at=at)
    return tl.patient(birth=None, age=40)


def verdicts(p: Patient) -> list[tuple[str, str]]:
    result = evaluate(LAW_TRIAL, p, AS_OF + datetime.timedelta(days=30))
    return [(c.id, c.verdict.value) for c in result.eligibility.criteria]


@settings(max_examples=150, deadline=None)
@given(timed_patients(all_timed=True), st.integers(-3 * MINUTES_PER_DAY, 3 * MINUTES_PER_DAY))
def test_shifting_every_time_by_any_amount_changes_no_verdict(p: Patient, minutes: int) -> None:
    assert verdicts(shifted(p, minutes)) == verdicts(p)


@settings(max_examples=150, deadline=None)
@given(timed_patients(all_timed=False), st.integers(-40, 40))
def test_shifting_dates_and_times_by_whole_days_changes_no_verdict(p: Patient, days: int) -> None:
    assert verdicts(shifted(p, days * MINUTES_PER_DAY)) == verdicts(p)
