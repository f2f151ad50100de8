"""Dates in patient data: full ISO 8601 dates, date-times, partial dates, and study days.

A date-time keeps its time of day (`engine.patient.ClockTime`) beside its date; the date is
the date as written. docs/patient-data.md says which forms are accepted.

Two counting conventions meet here and must never be mixed up:

* **trialcode protocol days** count from the anchor's own day: the anchor day is day 0, the day
  before is day -1, the day after is day 1 (`visit baseline at day 0`).
* **CDISC SDTM study days** (`--DY`, `VISITDY`) have no day 0: the reference start date
  (`DM.RFSTDTC`) is day 1, the day before it is day -1.

So for a date on or after the reference date, SDTM day = protocol day + 1; before it, they are
equal. `sdtm_study_day` and `protocol_day_from_sdtm` convert exactly.
"""

from __future__ import annotations

import datetime
import re

from engine.patient import ClockTime
from protocol.timing import PREDOSE, elapsed_code

__all__ = [
    "DateProblem",
    "parse_iso_date",
    "parse_iso_stamp",
    "parse_sdtm_date",
    "parse_sdtm_stamp",
    "timepoint_code",
    "protocol_day",
    "protocol_day_from_sdtm",
    "sdtm_study_day",
]

_fromiso = datetime.date.fromisoformat

# Partial ISO 8601 dates as SDTM allows them: `2013`, `2013-12`, `2013-12-0`... and the
# date-time forms with hours/minutes/seconds.
_PARTIAL = re.compile(r"^\d{4}(-\d{2})?$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
# The UTC offsets in use around the world: from UTC-12:00 to UTC+14:00 (in minutes).
OFFSET_MIN, OFFSET_MAX = -12 * 60, 14 * 60


class DateProblem(ValueError):
    """A date string that cannot give a calendar day; the message says why, for a person."""


_ELAPSED = re.compile(r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?"
                      r"(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_PREDOSE_WORDS = frozenset({"predose", "pre-dose", "pre dose"})


def parse_elapsed(text: str) -> float:
    """The minutes of an ISO 8601 duration as SDTM --ELTM writes a planned elapsed time
    (`PT30M`, `PT1H30M`, `PT0.5H`, `-PT15M`, `P1DT2H`); DateProblem for anything else."""
    m = _ELAPSED.match(text.strip().upper())
    if m is None or not any(m.group(i) for i in (2, 3, 4, 5)):
        raise DateProblem(f"'{text}' is not an ISO 8601 elapsed time such as PT30M or PT2H")
    days, hours, minutes, seconds = (float(m.group(i) or 0) for i in (2, 3, 4, 5))
    total = days * 1440 + hours * 60 + minutes + seconds / 60
    return -total if m.group(1) else total


def timepoint_code(text: str) -> str:
    """A planned timepoint as the engine names it (protocol.timing.elapsed_code): `PREDOSE`
    for `predose` / `pre-dose`, else the ISO 8601 elapsed time in canonical form (`PT0.5H` is
    `PT30M`). DateProblem for anything else."""
    if text.strip().casefold() in _PREDOSE_WORDS:
        return PREDOSE
    return elapsed_code(parse_elapsed(text))


def parse_iso_date(text: object) -> datetime.date:
    """The calendar day of `YYYY-MM-DD` or of an ISO date-time `YYYY-MM-DDThh[:mm[:ss]]` (for
    fields that are days by nature, such as a birth date: the time of day is not used). A
    partial date (`2013-12`, `2013`) or anything else raises DateProblem with a message naming
    the text."""
    return parse_iso_stamp(text)[0]


def parse_iso_stamp(text: object) -> tuple[datetime.date, ClockTime | None]:
    """The date and the time of day (None for a plain date) of `YYYY-MM-DD` or an ISO 8601
    date-time `YYYY-MM-DDThh[:mm[:ss[.f]]][Z|+hh:mm|-hh:mm]`.

    The date is the date as written (the site's local date, whatever the offset). A fraction
    of a second is kept to the microsecond. A partial date (`2013-12`, `2013`), a time that is
    not a time of day (`T25:00`), an offset outside UTC-12:00 to UTC+14:00, or anything else
    raises DateProblem with a message naming the text.
    """
    if not isinstance(text, str):
        raise DateProblem(f"expected a date as text YYYY-MM-DD, got {_describe(text)}")
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return _fromiso(text), None
        except ValueError:
            raise DateProblem(f"'{text}' is not a valid date") from None
    match = _DATETIME.match(text)
    if match:
        try:
            date = _fromiso(match.group(1))
        except ValueError:
            raise DateProblem(f"'{text}' is not a valid date") from None
        return date, _clock(text, match)
    if _PARTIAL.match(text):
        raise DateProblem(
            f"partial date '{text}': a full date YYYY-MM-DD is needed to place it on the "
            "protocol's day-precise timeline (trialcode does not impute dates)"
        )
    if not text.strip():
        raise DateProblem("the date is empty")
    raise DateProblem(f"'{text}' is not a date of the form YYYY-MM-DD")


def _clock(text: str, match: re.Match[str]) -> ClockTime:
    hour, minute, second, fraction, zone = match.group(2, 3, 4, 5, 6)
    h = int(hour)
    m = int(minute) if minute is not None else 0
    sec = int(second) if second is not None else 0
    if h > 23 or m > 59 or sec > 59:
        raise DateProblem(f"'{text}' has no valid time of day (hours 00-23, minutes and "
                          "seconds 00-59)")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    precision = "second" if second is not None else "minute" if minute is not None else "hour"
    offset: int | None = None
    if zone is not None:
        if zone == "Z":
            offset = 0
        else:
            digits = zone[1:].replace(":", "")
            oh, om = int(digits[:2]), int(digits[2:] or "0")
            if om > 59:
                raise DateProblem(f"'{text}' has no valid UTC offset")
            offset = (oh * 60 + om) * (1 if zone[0] == "+" else -1)
            if not OFFSET_MIN <= offset <= OFFSET_MAX:
                raise DateProblem(f"'{text}' has a UTC offset outside those in use "
                                  "(-12:00 to +14:00)")
    return ClockTime(((h * 60 + m) * 60 + sec) * 1_000_000 + micro, precision, offset)


def parse_sdtm_date(text: str) -> datetime.date | None:
    """An SDTM `--DTC` value's date: None when empty, else as `parse_iso_date` (partial dates
    raise)."""
    text = text.strip()
    if not text:
        return None
    return parse_iso_date(text)


def parse_sdtm_stamp(text: str) -> tuple[datetime.date, ClockTime | None] | None:
    """An SDTM `--DTC` value's date and time of day: None when empty, else as
    `parse_iso_stamp` (partial dates raise)."""
    text = text.strip()
    if not text:
        return None
    return parse_iso_stamp(text)


def protocol_day(date: datetime.date, anchor: datetime.date) -> int:
    """The protocol day of `date` counted from `anchor` (the anchor day is day 0)."""
    return (date - anchor).days


def sdtm_study_day(date: datetime.date, reference: datetime.date) -> int:
    """The SDTM study day (`--DY`) of `date` with `reference` = RFSTDTC: day 1, then 2...; the day
    before the reference is -1. There is no day 0 (SDTMIG 4.4.4)."""
    delta = (date - reference).days
    return delta + 1 if delta >= 0 else delta


def protocol_day_from_sdtm(study_day: int) -> int:
    """The protocol day (anchor day = 0) of an SDTM study day (reference day = 1, no day 0)."""
    if study_day == 0:
        raise ValueError("SDTM study day 0 does not exist: day 1 is the reference date")
    return study_day - 1 if study_day > 0 else study_day


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "an object"
    return repr(value)
