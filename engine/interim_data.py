"""Interim data for trial-level monitoring: the `trialcode.interim/1` JSON format.

The file gives, per trial-level rule of the protocol, what has been observed so far:

* for an interim (group-sequential) rule, the looks taken, each with its observed information
  (a fraction of the planned maximum, or a number of events when the rule has ``of N events``)
  and its observed statistic (a Z value, positive when it favours the experimental arm, or a
  hazard ratio with the number of events);
* for a safety rule, the number of patients evaluated and the number with the event, once or
  at several looks, and optionally the maximum number of patients the rule monitors.

See ``docs/monitoring.md`` for the format with a full example. Reading checks only the shape of
the file (types, ranges, unknown or duplicated fields); :func:`engine.monitor.monitor` checks
it against the protocol. Every problem is reported, each naming the file, the rule, the look and
the field, in one :class:`InterimDataError`.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "FORMAT",
    "InterimData",
    "InterimDataError",
    "InterimLook",
    "InterimRuleData",
    "SafetyLook",
    "SafetyRuleData",
    "load_interim_data",
    "parse_interim_data",
]

#: The value of the file's ``format`` field: name and version.
FORMAT = "trialcode.interim/1"

_TOP_FIELDS = ("format", "trial", "data_cutoff", "note", "interim", "safety")
_INTERIM_FIELDS = ("looks", "note")
_INTERIM_LOOK_FIELDS = ("information", "events", "z", "hazard_ratio", "final", "date", "note")
_SAFETY_FIELDS = ("patients", "events", "looks", "max_patients", "note")
_SAFETY_LOOK_FIELDS = ("patients", "events", "date", "note")


class InterimDataError(ValueError):
    """The interim data cannot be used. ``problems`` holds one located message per problem."""

    def __init__(self, source: str, problems: list[str] | tuple[str, ...]):
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """Each problem as ``FILE: where: what``."""
        return [f"{self.source}: {p}" for p in self.problems]


@attrs.frozen
class InterimLook:
    """One look of an interim rule, as recorded in the data file (validated for shape only)."""

    number: int
    """1 for the first look in the file, 2 for the second, ..."""
    information: float | None = None
    """Observed information as a fraction of the planned maximum (rules without ``of N events``)."""
    events: int | None = None
    """Events observed at this look (information for rules with ``of N events``; needed with a
    hazard ratio)."""
    z: float | None = None
    """Observed standardised statistic; positive favours the experimental arm."""
    hazard_ratio: float | None = None
    """Experimental versus control; below 1 favours the experimental arm."""
    final: bool | None = None
    """True: this is the final analysis; False: it is not; None: decided from the protocol."""
    date: str | None = None


@attrs.frozen
class InterimRuleData:
    name: str
    looks: tuple[InterimLook, ...]


@attrs.frozen
class SafetyLook:
    """Cumulative counts at one safety look: patients evaluated, and how many had the event."""

    number: int
    patients: int
    events: int
    date: str | None = None


@attrs.frozen
class SafetyRuleData:
    name: str
    looks: tuple[SafetyLook, ...]
    max_patients: int | None = None


@attrs.frozen
class InterimData:
    """The content of one interim-data file."""

    source: str
    """The file name used in every message."""
    trial: str | None = None
    data_cutoff: str | None = None
    note: str | None = None
    interim: tuple[InterimRuleData, ...] = ()
    safety: tuple[SafetyRuleData, ...] = ()


def load_interim_data(path: str | Path) -> InterimData:
    """Read and shape-check an interim-data file; raise :class:`InterimDataError`."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InterimDataError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise InterimDataError(source, [f"the file is not UTF-8 text: {exc.reason}"]) from None
    return parse_interim_data(text, source)


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_interim_data(text: str, source: str = "<interim data>") -> InterimData:
    """Parse interim data from JSON text; raise :class:`InterimDataError` listing every problem."""
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as exc:
        raise InterimDataError(source, [f"field '{exc.args[0]}' appears twice in one object"]) from None
    except json.JSONDecodeError as exc:
        raise InterimDataError(
            source, [f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]
        ) from None
    except ValueError as exc:
        raise InterimDataError(source, [f"not valid JSON: {exc}"]) from None
    reader = _Reader()
    data = reader.top(obj, source)
    if reader.problems:
        raise InterimDataError(source, reader.problems)
    assert data is not None
    return data


def _show(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else type(value).__name__


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return _show(value)


class _Reader:
    """Collects every problem, each located as `where, field 'x': what`."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def fields(self, obj: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else f"expected one of {', '.join(allowed)}"
                )
                self.problem(where, f"unknown field '{key}'; {hint}")

    # ---- typed field readers (return None and record a problem when the value is wrong) ----

    def text(self, obj: dict[str, Any], key: str, where: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(_at(where, key), f"must be text, got {_kind(value)}")
            return None
        return value

    def number(
        self, obj: dict[str, Any], key: str, where: str, *, positive: bool = False
    ) -> float | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(_at(where, key), f"must be a number, got {_kind(value)}")
            return None
        if not math.isfinite(value):
            self.problem(_at(where, key), f"must be a finite number, got {value!r}")
            return None
        if positive and value <= 0:
            self.problem(_at(where, key), f"must be positive, got {_show(value)}")
            return None
        return float(value)

    def count(
        self, obj: dict[str, Any], key: str, where: str, *, minimum: int = 0
    ) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_at(where, key), f"must be a whole number, got {_kind(value)}")
            return None
        if value < minimum:
            what = "positive" if minimum == 1 else f"at least {minimum}"
            self.problem(_at(where, key), f"must be {what}, got {value}")
            return None
        return value

    def flag(self, obj: dict[str, Any], key: str, where: str) -> bool | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(_at(where, key), f"must be true or false, got {_kind(value)}")
            return None
        return value

    def rules(self, obj: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
        value = obj.get(key)
        if value is None:
            return
        if not isinstance(value, dict):
            self.problem(
                f"field '{key}'",
                f"must be an object mapping rule names to their data, got {_kind(value)}",
            )
            return
        kind = "interim" if key == "interim" else "safety"
        for name, body in value.items():
            where = f"{kind} rule '{name}'"
            if not isinstance(body, dict):
                self.problem(where, f"must be an object, got {_kind(body)}")
                continue
            yield name, body

    def look_list(self, body: dict[str, Any], where: str) -> list[tuple[int, dict[str, Any]]]:
        looks = body.get("looks")
        if not isinstance(looks, list):
            self.problem(_at(where, "looks"), f"must be a list of looks, got {_kind(looks)}")
            return []
        if not looks:
            self.problem(_at(where, "looks"), "is empty: give at least one look")
            return []
        out = []
        for i, look in enumerate(looks, start=1):
            if not isinstance(look, dict):
                self.problem(f"{where}, look {i}", f"must be an object, got {_kind(look)}")
                continue
            out.append((i, look))
        return out

    # ---- the file --------------------------------------------------------------------------

    def top(self, obj: Any, source: str) -> InterimData | None:
        if not isinstance(obj, dict):
            self.problem("", f"the file must hold a JSON object, got {_kind(obj)}")
            return None
        fmt = obj.get("format")
        if fmt != FORMAT:
            if fmt is None:
                self.problem("field 'format'", f"is missing; it must be \"{FORMAT}\"")
            else:
                self.problem("field 'format'", f"must be \"{FORMAT}\", got {_kind(fmt)}")
        self.fields(obj, _TOP_FIELDS, "")
        if "interim" not in obj and "safety" not in obj:
            self.problem("", "the file has neither 'interim' nor 'safety' data")
        interim = tuple(self.interim_rule(name, body) for name, body in self.rules(obj, "interim"))
        safety = tuple(self.safety_rule(name, body) for name, body in self.rules(obj, "safety"))
        return InterimData(
            source=source,
            trial=self.text(obj, "trial", ""),
            data_cutoff=self.text(obj, "data_cutoff", ""),
            note=self.text(obj, "note", ""),
            interim=interim,
            safety=safety,
        )

    def interim_rule(self, name: str, body: dict[str, Any]) -> InterimRuleData:
        where = f"interim rule '{name}'"
        self.fields(body, _INTERIM_FIELDS, where)
        looks = []
        for i, look in self.look_list(body, where):
            lw = f"{where}, look {i}"
            self.fields(look, _INTERIM_LOOK_FIELDS, lw)
            information = self.number(look, "information", lw, positive=True)
            events = self.count(look, "events", lw, minimum=1)
            z = self.number(look, "z", lw)
            hr = self.number(look, "hazard_ratio", lw, positive=True)
            if not _has(look, "information") and not _has(look, "events"):
                self.problem(lw, "give the information observed: 'information' or 'events'")
            if _has(look, "z") and _has(look, "hazard_ratio"):
                self.problem(lw, "give either 'z' or 'hazard_ratio', not both")
            elif not _has(look, "z") and not _has(look, "hazard_ratio"):
                self.problem(lw, "give the observed statistic: 'z' or 'hazard_ratio' with 'events'")
            elif _has(look, "hazard_ratio") and not _has(look, "events"):
                self.problem(lw, "field 'hazard_ratio' needs 'events' to be converted to Z")
            looks.append(
                InterimLook(
                    number=i,
                    information=information,
                    events=events,
                    z=z,
                    hazard_ratio=hr,
                    final=self.flag(look, "final", lw),
                    date=self.text(look, "date", lw),
                )
            )
            self.text(look, "note", lw)
        self.text(body, "note", where)
        return InterimRuleData(name, tuple(looks))

    def safety_rule(self, name: str, body: dict[str, Any]) -> SafetyRuleData:
        where = f"safety rule '{name}'"
        self.fields(body, _SAFETY_FIELDS, where)
        max_patients = self.count(body, "max_patients", where, minimum=1)
        self.text(body, "note", where)
        looks: list[SafetyLook] = []
        if _has(body, "looks"):
            if _has(body, "patients") or _has(body, "events"):
                self.problem(
                    where, "give either 'looks' or 'patients' and 'events', not both"
                )
            for i, look in self.look_list(body, where):
                lw = f"{where}, look {i}"
                self.fields(look, _SAFETY_LOOK_FIELDS, lw)
                made = self.safety_counts(look, lw, i)
                self.text(look, "note", lw)
                if made is not None:
                    looks.append(made)
        else:
            made = self.safety_counts(body, where, 1)
            if made is not None:
                looks.append(made)
        return SafetyRuleData(name, tuple(looks), max_patients)

    def safety_counts(self, obj: dict[str, Any], where: str, number: int) -> SafetyLook | None:
        for key in ("patients", "events"):
            if not _has(obj, key):
                self.problem(_at(where, key), "is missing")
        patients = self.count(obj, "patients", where, minimum=1)
        events = self.count(obj, "events", where)
        date = self.text(obj, "date", where)
        if patients is None or events is None:
            return None
        if events > patients:
            self.problem(
                _at(where, "events"),
                f"{events} events is more than the {patients} patients evaluated",
            )
            return None
        return SafetyLook(number, patients, events, date)


def _has(obj: dict[str, Any], key: str) -> bool:
    return obj.get(key) is not None


def _at(where: str, key: str) -> str:
    return f"{where}, field '{key}'" if where else f"field '{key}'"
