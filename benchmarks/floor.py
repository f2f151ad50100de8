"""The floor: the least any reader must do that gives every input record a typed Python object.

Read a patient file, decode each line with orjson, and build one event object and one record
reference per record, and one `Patient` per line, with the engine's own classes and
`fast_constructor`. Nothing is checked, nothing is evaluated, nothing is reported. No engine
that keeps a Python object per event (as this one does, and as the model's frozen classes
assume) can run faster than this, so its rate is an upper bound for the whole design.

`benchmarks/run.py` compiles this module with mypyc when the engine is compiled (a fair floor
for compiled code) and runs it as it is otherwise. It is measurement code, not part of trialcode:
it trusts its input, which the benchmark generated.
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson

from engine.patient import (
    AnchorEvent,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    Patient,
    RecordRef,
    VisitEvent,
    fast_constructor,
)

_ref = fast_constructor(RecordRef)
_observation = fast_constructor(Observation)
_occurrence = fast_constructor(Occurrence)
_visit = fast_constructor(VisitEvent)
_anchor = fast_constructor(AnchorEvent)
_dose = fast_constructor(DoseEvent)
_disposition = fast_constructor(Disposition)
_dates: dict[Any, datetime.date] = {}
_AE_FIELDS = ("grade", "related", "serious", "term")


def _date(text: Any) -> datetime.date | None:
    if text is None:
        return None
    d = _dates.get(text)
    if d is None:
        d = _dates[text] = datetime.date.fromisoformat(text)
    return d


def _event(ev: dict[str, Any], ref: RecordRef) -> Event:
    t = ev["type"]
    get = ev.get
    if t == "observation":
        return _observation(get("kind"), _date(get("date")), ref, get("value"), get("unit"),
                            get("low"), get("high"), get("detected"), get("visit"), (), None)
    if t == "dose":
        return _dose(get("intervention"), _date(get("start")), ref, _date(get("end")),
                     get("amount"), get("unit"), get("route"), None, None)
    if t == "occurrence":
        attributes = get("attributes") or {}
        return _occurrence(get("kind"), _date(get("start")), ref, _date(get("end")),
                           bool(get("ongoing")), tuple(sorted(attributes.items())), None, None)
    if t == "adverse_event":
        return _occurrence("adverse_event", _date(get("start")), ref, _date(get("end")),
                           bool(get("ongoing")), tuple((k, get(k)) for k in _AE_FIELDS), None,
                           None)
    if t == "visit":
        return _visit(get("visit"), get("label"), _date(get("date")), ref, None)
    if t == "anchor":
        return _anchor(get("name"), _date(get("date")), ref, None)
    return _disposition(get("status"), _date(get("date")), ref, get("reason"), get("effect"),
                        None)


def read_floor(path: str) -> tuple[int, int]:
    """Read every patient of `path` the least costly way; return (patients, events)."""
    patients = events = 0
    with open(path, encoding="utf-8") as handle:
        next(handle)  # the header line
        for lineno, line in enumerate(handle, 2):
            obj: dict[str, Any] = orjson.loads(line)
            built: list[Event] = []
            prefix = f"line {lineno}, event "
            for n, ev in enumerate(obj["events"], 1):
                built.append(_event(ev, _ref(path, prefix + str(n))))
            Patient(obj["id"], _ref(path, f"line {lineno}"), obj.get("arm"), obj.get("sex"),
                    _date(obj.get("birth_date")), obj.get("age"), tuple(built), None)
            patients += 1
            events += len(built)
    return patients, events
