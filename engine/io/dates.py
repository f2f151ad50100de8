"""Dates in patient data: full ISO 8601 dates, date-times, partial dates, and study days.

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

__all__ = [
    "DateProblem",
    "parse_iso_date",
    "parse_sdtm_date",
    "protocol_day",
    "protocol_day_from_sdtm",
    "sdtm_study_day",
]

_fromiso = datetime.date.fromisoformat

# Partial ISO 8601 dates as SDTM allows them: `2013`, `2013-12`, `2013-12-0`... and the
# date-time forms with hours/minutes/seconds.
_PARTIAL = re.compile(r"^\d{4}(-\d{2})?$")
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}:?\d{2}|Z)?$"
)


class DateProblem(ValueError):
    """A date string that cannot give a calendar day; the message says why, for a person."""


def parse_iso_date(text: object) -> datetime.date:
    """A calendar day from `YYYY-MM-DD` or an ISO date-time `YYYY-MM-DDThh:mm[:ss]`.

    A time of day is dropped: the protocol language counts whole days. A partial date
    (`2013-12`, `2013`) or anything else raises DateProblem with a message naming the text.
    """
    if not isinstance(text, str):
        raise DateProblem(f"expected a date as text YYYY-MM-DD, got {_describe(text)}")
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return _fromiso(text)
        except ValueError:
            raise DateProblem(f"'{text}' is not a valid date") from None
    match = _DATETIME.match(text)
    if match:
        try:
            return _fromiso(match.group(1))
        except ValueError:
            raise DateProblem(f"'{text}' is not a valid date") from None
    if _PARTIAL.match(text):
        raise DateProblem(
            f"partial date '{text}': a full date YYYY-MM-DD is needed to place it on the "
            "protocol's day-precise timeline (trialcode does not impute dates)"
        )
    if not text.strip():
        raise DateProblem("the date is empty")
    raise DateProblem(f"'{text}' is not a date of the form YYYY-MM-DD")


def parse_sdtm_date(text: str) -> datetime.date | None:
    """An SDTM `--DTC` value: None when empty, else as `parse_iso_date` (partial dates raise)."""
    text = text.strip()
    if not text:
        return None
    return parse_iso_date(text)


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
