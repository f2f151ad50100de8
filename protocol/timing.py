"""Time in a protocol: units, durations, the protocol's calendar, and visit windows."""

from __future__ import annotations

import enum

import attrs

from protocol.source import Span, span_field


class TimeUnit(enum.Enum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    def word(self, amount: int | float) -> str:
        """The unit as written after `amount`: `1 day`, `2 days`."""
        return self.value if amount == 1 else self.value + "s"

    @property
    def sub_day(self) -> bool:
        """Hours and minutes: durations in them compare times of day, not only dates."""
        return self is TimeUnit.HOUR or self is TimeUnit.MINUTE


@attrs.frozen
class Calendar:
    """What the protocol means by a week, a month and a year, in days.

    The default month is 30 days and the default year 365 days; a protocol that means otherwise
    says so with `calendar { month 28 days }`. Ages are the exception: they are counted in
    calendar years from the date of birth, as a birth certificate would.
    """

    days_per_week: int = 7
    days_per_month: int = 30
    days_per_year: int = 365
    # How the protocol numbers its days: 0 (the default) when the anchor's day is day 0, 1 when
    # it is day 1 (`days counted from 1`: no day 0, day -1 is the day before day 1)
    first_day: int = attrs.field(default=0, validator=attrs.validators.in_((0, 1)))
    span: Span | None = span_field()

    def offset(self, day: int | float) -> int | float:
        """Days from the anchor of the protocol's `day N`: N - 1 for N >= 1 when days are
        counted from 1, else N."""
        return day - 1 if self.first_day == 1 and day >= 1 else day

    def protocol_day(self, offset: int) -> int:
        """The protocol's number for the day `offset` days from the anchor (the inverse of
        `offset`): offset + 1 for offset >= 0 when days are counted from 1."""
        return offset + 1 if self.first_day == 1 and offset >= 0 else offset

    def days(self, amount: int | float, unit: TimeUnit) -> int | float:
        """The number of days in `amount` `unit`s (hours give fractions of a day)."""
        # a chain of identity tests: the engine asks this per patient, and a dict keyed by
        # TimeUnit would hash Enum members in Python code
        factor: int | float
        if unit is TimeUnit.DAY:
            factor = 1
        elif unit is TimeUnit.WEEK:
            factor = self.days_per_week
        elif unit is TimeUnit.MONTH:
            factor = self.days_per_month
        elif unit is TimeUnit.YEAR:
            factor = self.days_per_year
        elif unit is TimeUnit.HOUR:
            factor = 1 / 24
        elif unit is TimeUnit.MINUTE:
            factor = 1 / 1440
        else:
            raise KeyError(unit)
        return amount * factor


DEFAULT_CALENDAR = Calendar()


@attrs.frozen
class Duration:
    """An amount of time as the protocol states it (`6 months`), converted through a Calendar."""

    amount: int | float
    unit: TimeUnit
    span: Span | None = span_field()

    def days(self, calendar: Calendar = DEFAULT_CALENDAR) -> int | float:
        return calendar.days(self.amount, self.unit)

    @property
    def sub_day(self) -> bool:
        """Whether the duration is in hours or minutes (then it compares times of day)."""
        return self.unit.sub_day

    def minutes(self, calendar: Calendar = DEFAULT_CALENDAR) -> int | float:
        """The duration in minutes (days, weeks, ... through the calendar)."""
        if self.unit is TimeUnit.MINUTE:
            return self.amount
        if self.unit is TimeUnit.HOUR:
            return self.amount * 60
        return self.days(calendar) * 1440

    def __str__(self) -> str:
        return f"{_num(self.amount)} {self.unit.word(self.amount)}"


@attrs.frozen
class DayPoint:
    """A nominal time relative to the schedule's anchor: `day -7`, `week 2`, `month 3`.

    Day 0 is the anchor's own day, unless the protocol counts its days from 1
    (Calendar.first_day): then day 1 is the anchor's day and there is no day 0.
    """

    unit: TimeUnit
    value: int | float
    span: Span | None = span_field()

    def days(self, calendar: Calendar = DEFAULT_CALENDAR) -> int | float:
        """Days from the anchor. `day N` follows the calendar's day numbering; a week, month
        or year point is a whole number of units from the anchor either way (`week 2` is 14
        days after it, Day 15 when days are counted from 1)."""
        if self.unit is TimeUnit.DAY:
            return calendar.offset(self.value)
        return calendar.days(self.value, self.unit)

    def __str__(self) -> str:
        return f"{self.unit.value} {_num(self.value)}"


@attrs.frozen
class Window:
    """An allowed deviation: the window is [nominal - before, nominal + after], both ends inclusive."""

    before: int | float = attrs.field(validator=attrs.validators.ge(0))
    after: int | float = attrs.field(validator=attrs.validators.ge(0))
    unit: TimeUnit = TimeUnit.DAY
    span: Span | None = span_field()

    def days(self, calendar: Calendar = DEFAULT_CALENDAR) -> tuple[int | float, int | float]:
        """(before, after) in days."""
        return calendar.days(self.before, self.unit), calendar.days(self.after, self.unit)

    def minutes(self, calendar: Calendar = DEFAULT_CALENDAR) -> tuple[int | float, int | float]:
        """(before, after) in minutes."""
        return (Duration(self.before, self.unit).minutes(calendar),
                Duration(self.after, self.unit).minutes(calendar))

    @property
    def symmetric(self) -> bool:
        return self.before == self.after

    def __str__(self) -> str:
        if self.symmetric:
            return f"±{_num(self.before)} {self.unit.word(self.before)}"
        return f"-{_num(self.before)} to +{_num(self.after)} {self.unit.value}s"


PREDOSE = "PREDOSE"  # the code of a pre-dose timepoint (elapsed_code gives the others)


def elapsed_code(minutes: int | float) -> str:
    """A timepoint's planned elapsed time from its reference as ISO 8601 writes it (SDTM
    --ELTM): `PT30M`, `PT1H`, `PT1H30M`, `PT24H`; seconds only when the time has them."""
    seconds = round(minutes * 60)
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    mins, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if mins:
        text += f"{mins}M"
    if secs or text == "PT":
        text += f"{secs}S" if secs or hours or mins else "0M"
    return sign + text


def _num(x: int | float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))
