"""Times of day: where a dated record lies against a window counted in hours or minutes.

One rule (docs/engine-semantics.md, "Times of day"), used by the criteria's hour and minute
windows and meant for every comparison of times in the engine (sub-day schedule timepoints
too):

* A record's **stamp** is its date and, when the data give one, its time of day
  (`engine.patient.ClockTime`). A stamp stands for the instants it may denote: a time to the
  minute or the second is that instant; a time to the hour only, any instant of that hour; a
  date without a time, any instant of that day. So each stamp is a closed interval of instants
  [lo, hi], here in whole microseconds (a date-only stamp: [00:00, 23:59:59.999999]).
* **Time zones.** A time is the site's local clock, and its date the local date, whatever the
  offset (day-level rules never move a record across midnight). Two stamps are compared on the
  local clock when neither carries a UTC offset; when either does, on UTC: a stamp with an
  offset is converted, and one without may be at any offset in use (UTC-12:00 to UTC+14:00),
  so its interval widens by those 26 hours.
* A comparison is **true** when it holds for every pair of instants the stamps may denote,
  **false** when it holds for none, and **unknown** otherwise: a date-only record against an
  hours window is inside when its whole day is inside, outside when the whole day is outside,
  and unknown in between, never a silent pass.

The functions take and return plain values (dates, ClockTimes, integers) so that any engine
module can use them; `window_position` and `difference_bounds` are the two questions asked.
"""

from __future__ import annotations

import datetime
from typing import Final

from engine.patient import MICROS_PER_DAY, ClockTime

MICROS_PER_MINUTE: Final = 60_000_000
MICROS_PER_HOUR: Final = 3_600_000_000
# How far a time without an offset may be from UTC: UTC = local - offset, offsets -12h..+14h.
_EARLIER_UTC: Final = 14 * MICROS_PER_HOUR
_LATER_UTC: Final = 12 * MICROS_PER_HOUR

# window_position's answers
INSIDE: Final = 1
OUTSIDE: Final = 0
MAYBE: Final = -1

Stamp = tuple[datetime.date, ClockTime | None]


def has_offset(time: ClockTime | None) -> bool:
    return time is not None and time.offset is not None


def utc_frame(*times: ClockTime | None) -> bool:
    """Whether stamps with these times are compared on UTC (any of them has an offset)."""
    for t in times:
        if t is not None and t.offset is not None:
            return True
    return False


def bounds(date: datetime.date, time: ClockTime | None, utc: bool) -> tuple[int, int]:
    """The closed interval of instants [lo, hi] (microseconds) a stamp may denote, on the local
    clock or (utc=True) on UTC."""
    lo = date.toordinal() * MICROS_PER_DAY
    if time is None:
        hi = lo + MICROS_PER_DAY - 1
    else:
        lo += time.micros
        hi = lo + (MICROS_PER_HOUR - 1 if time.precision == "hour" else 0)
    if utc:
        offset = time.offset if time is not None else None
        if offset is None:
            lo -= _EARLIER_UTC
            hi += _LATER_UTC
        else:
            shift = offset * MICROS_PER_MINUTE
            lo -= shift
            hi -= shift
    return lo, hi


def window_position(start: Stamp, end: Stamp, anchor: Stamp, lo_offset: int, hi_offset: int,
                    strict_lo: bool = False, strict_hi: bool = False) -> int:
    """Whether a record from `start` to `end` (the same stamp for a one-time record) overlaps
    the window [anchor + lo_offset, anchor + hi_offset] (offsets in microseconds; `strict_*`
    excludes that bound): INSIDE (for every instant the stamps may denote), OUTSIDE (for none)
    or MAYBE.

    `within 48 hours before A` is (-48 h, 0); `within 2 hours after A` is (0, 2 h)."""
    utc = utc_frame(start[1], end[1], anchor[1])
    s_lo, s_hi = bounds(start[0], start[1], utc)
    if end is start:
        e_lo, e_hi = s_lo, s_hi
    else:
        e_lo, e_hi = bounds(end[0], end[1], utc)
    a_lo, a_hi = bounds(anchor[0], anchor[1], utc)
    # overlap: start <= anchor + hi_offset and end >= anchor + lo_offset
    if strict_hi:
        surely_before_hi = s_hi < a_lo + hi_offset
        never_before_hi = s_lo >= a_hi + hi_offset
    else:
        surely_before_hi = s_hi <= a_lo + hi_offset
        never_before_hi = s_lo > a_hi + hi_offset
    if strict_lo:
        surely_after_lo = e_lo > a_hi + lo_offset
        never_after_lo = e_hi <= a_lo + lo_offset
    else:
        surely_after_lo = e_lo >= a_hi + lo_offset
        never_after_lo = e_hi < a_lo + lo_offset
    if never_before_hi or never_after_lo:
        return OUTSIDE
    if surely_before_hi and surely_after_lo:
        return INSIDE
    return MAYBE


def difference_bounds(a: Stamp, b: Stamp) -> tuple[int, int]:
    """The least and the greatest value of b - a (microseconds) over the instants the two
    stamps may denote: (d, d) when both are instants on one clock."""
    utc = utc_frame(a[1], b[1])
    a_lo, a_hi = bounds(a[0], a[1], utc)
    b_lo, b_hi = bounds(b[0], b[1], utc)
    return b_lo - a_hi, b_hi - a_lo


def ends_before(start: ClockTime | None, end: ClockTime | None) -> bool:
    """Whether an end time is surely before a start time of the same date (a record that ends
    before it starts); False when either has no time or they may be in order."""
    if start is None or end is None:
        return False
    day = datetime.date(2000, 1, 1)
    return difference_bounds((day, start), (day, end))[1] < 0


def certainly_not_after(a: Stamp, b: Stamp) -> bool:
    """Whether stamp a is surely no later than stamp b (every instant of a <= every one of b)."""
    return difference_bounds(a, b)[0] >= 0


def micros(amount: int | float, unit_micros: int) -> int:
    """An amount of hours or minutes in whole microseconds."""
    return round(amount * unit_micros)


def precision_note(stamp: Stamp) -> str | None:
    """Why a stamp is not an instant, for messages: `has no time of day`, `has a time to the
    hour only`; None for an instant."""
    time = stamp[1]
    if time is None:
        return "has no time of day"
    if time.precision == "hour":
        return "has a time to the hour only"
    return None
