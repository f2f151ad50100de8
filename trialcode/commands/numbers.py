"""Numbers on the statistics commands' command lines, read strictly.

Python's ``float`` and ``int`` accept more than a statistician types: digits of any script
(``int("٤") == 4``), superscripts that ``str.isdigit`` calls digits but ``int`` refuses
(``"²"``), underscores (``1_000``), ``inf`` and ``nan``. An option that reads ``٤`` as four
looks, or crashes on ``²``, is wrong either way, so every number here must be written with the
ASCII digits 0-9, an optional sign, decimal point and exponent; anything else is a
:class:`UsageError` naming the option and the text.
"""

from __future__ import annotations

import math
import re

__all__ = ["UsageError", "fractions", "integer", "number", "number_list", "one_of_ints"]

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INTEGER = re.compile(r"[0-9]+", re.ASCII)


class UsageError(Exception):
    """A bad command-line argument; reported on one line, exit code 2."""


def number(flag: str, text: str | None) -> float:
    """The finite decimal number ``text`` given to ``flag``."""
    if text is None:
        raise UsageError(f"{flag} is required")
    stripped = text.strip()
    if not _DECIMAL.fullmatch(stripped):
        raise UsageError(f"{flag} must be a number, got {text!r}")
    value = float(stripped)
    if not math.isfinite(value):
        raise UsageError(f"{flag} must be a finite number, got {text!r}")
    return value


def integer(flag: str, text: str | None, *, minimum: int) -> int:
    """The whole number ``text`` (ASCII digits only) given to ``flag``, at least ``minimum``."""
    if text is None:
        raise UsageError(f"{flag} is required")
    stripped = text.strip()
    if not _INTEGER.fullmatch(stripped) or int(stripped) < minimum:
        raise UsageError(f"{flag} must be a whole number of at least {minimum}, got {text!r}")
    return int(stripped)


def one_of_ints(flag: str, text: str | None, choices: tuple[int, ...]) -> int:
    """``text`` must be written exactly as one of ``choices`` (``2.0`` is not ``2``)."""
    if text is None:
        raise UsageError(f"{flag} is required")
    allowed = {str(c): c for c in choices}
    if text.strip() not in allowed:
        shown = " or ".join(str(c) for c in choices)
        raise UsageError(f"{flag} must be {shown}, got {text!r}")
    return allowed[text.strip()]


def fractions(flag: str, text: str, *, allow_count: bool = True) -> int | list[float]:
    """A number of looks ``K`` (when ``allow_count``) or comma-separated information fractions.

    Every item must be a number: ``0.3,,1`` is an error, not the two fractions 0.3 and 1.
    """
    stripped = text.strip()
    if allow_count and _INTEGER.fullmatch(stripped):
        return int(stripped)
    what = "K or comma-separated information fractions" if allow_count else (
        "comma-separated information fractions")
    return number_list(flag, text, what=what)


def number_list(flag: str, text: str, *, what: str = "comma-separated numbers") -> list[float]:
    """Comma-separated numbers, none of them empty."""
    stripped = text.strip()
    items = stripped.split(",")
    values: list[float] = []
    for i, item in enumerate(items, start=1):
        if item.strip() == "":
            raise UsageError(f"{flag} must be {what}, got {text!r}: item {i} is empty")
        if not _DECIMAL.fullmatch(item.strip()):
            raise UsageError(f"{flag} must be {what}, got {text!r}: item {i} is {item.strip()!r}")
        values.append(float(item))
    if any(not math.isfinite(v) for v in values):
        raise UsageError(f"{flag} must be {what}, got {text!r}")
    return values
