"""Patient data as the engine sees it: typed, dated events with their provenance.

Loaders (JSON lines, CDISC SDTM) build these; every event carries the `RecordRef` of the input
record it came from so that every verdict can cite its source and no input record is lost.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from typing import Any, TypeVar, Union

import attrs

_T = TypeVar("_T")


# RecordRef and the event classes have no `__weakref__` slot (`weakref_slot=False`): nothing
# takes weak references to them, and without it `fast_constructor` can build them (see there).
@attrs.frozen(weakref_slot=False)
class RecordRef:
    """Where an event came from: `patients.jsonl` line 12, or `lb.xpt` row 4031 (LBSEQ 41)."""

    source: str
    locator: str

    def __str__(self) -> str:
        return f"{self.source} {self.locator}"


AttrValue = Union[str, int | float, bool]

# The precisions of a written time of day (ClockTime.precision).
TIME_PRECISIONS = ("hour", "minute", "second")
MICROS_PER_DAY = 86_400_000_000


@attrs.frozen(weakref_slot=False)
class ClockTime:
    """The time of day of a date-time in the data (`2024-03-01T08:30`), kept beside its date.

    `micros` is the time since midnight in microseconds. `precision` says how much of it was
    written: `minute` (`08:30`) or `second` (`08:30:15`, with any fraction) give that instant;
    `hour` (`T08`) stands for any instant of that hour. `offset` is the UTC offset written with
    it, in minutes east of UTC (`+02:00` is 120, `Z` is 0), or None when none was written: the
    site's local clock. The date stays the date as written (the site's local date), whatever
    the offset. How times are compared: engine.clock and docs/engine-semantics.md.
    """

    micros: int = attrs.field(validator=attrs.validators.and_(
        attrs.validators.ge(0), attrs.validators.lt(MICROS_PER_DAY)))
    precision: str = attrs.field(validator=attrs.validators.in_(TIME_PRECISIONS))
    offset: int | None = attrs.field(default=None, validator=attrs.validators.optional(
        attrs.validators.and_(attrs.validators.ge(-18 * 60), attrs.validators.le(18 * 60))))

    def iso(self) -> str:
        """The time as ISO 8601 writes it after the `T`: `08`, `08:30`, `08:30:15.25+02:00`."""
        seconds, micro = divmod(self.micros, 1_000_000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        text = f"{hour:02d}"
        if self.precision != "hour":
            text += f":{minute:02d}"
            if self.precision == "second":
                text += f":{second:02d}"
                if micro:
                    text += f".{micro:06d}".rstrip("0")
        offset = self.offset
        if offset is not None:
            if offset == 0:
                text += "Z"
            else:
                sign = "+" if offset > 0 else "-"
                h, m = divmod(abs(offset), 60)
                text += f"{sign}{h:02d}:{m:02d}"
        return text


def stamp_text(date: datetime.date, time: ClockTime | None) -> str:
    """`2024-03-01` or `2024-03-01T08:30`: a date with its time of day when it has one."""
    return date.isoformat() if time is None else f"{date.isoformat()}T{time.iso()}"


@attrs.frozen(weakref_slot=False)
class AnchorEvent:
    """A dated event that times are counted from: randomization, consent, discontinuation."""

    name: str
    date: datetime.date
    ref: RecordRef
    time: ClockTime | None = None


@attrs.frozen(weakref_slot=False)
class VisitEvent:
    """A visit that took place. `visit` is the protocol's visit name when the loader mapped it."""

    visit: str | None
    label: str
    date: datetime.date
    ref: RecordRef
    time: ClockTime | None = None


@attrs.frozen(weakref_slot=False)
class Observation:
    """A measured value of a data item: lab, vital, score, category or marker.

    `value` is a number or a category string, None when not done. `low`/`high` are the record's
    own reference range (used by `x ULN`); `detected` is False for a marker below detection.
    `timepoint` names the planned sub-day timepoint the record was taken for, when the data
    say (SDTM --TPT/--ELTM): `PREDOSE` or its elapsed time from the reference, `PT30M`
    (protocol.timing.elapsed_code).
    """

    kind: str
    date: datetime.date
    ref: RecordRef
    value: int | float | str | None = None
    unit: str | None = None
    low: int | float | None = None
    high: int | float | None = None
    detected: bool | None = None
    visit: str | None = None
    attributes: tuple[tuple[str, AttrValue], ...] = ()
    time: ClockTime | None = None
    timepoint: str | None = None


@attrs.frozen(weakref_slot=False)
class Occurrence:
    """Something that happened, possibly over an interval: a chemotherapy cycle, a condition,
    an adverse event, another trial. `end` is None for a single-day event or while ongoing
    (`ongoing` says which)."""

    kind: str
    start: datetime.date
    ref: RecordRef
    end: datetime.date | None = None
    ongoing: bool = False
    attributes: tuple[tuple[str, AttrValue], ...] = ()
    start_time: ClockTime | None = None
    end_time: ClockTime | None = None

    def attribute(self, name: str) -> AttrValue | None:
        return next((v for k, v in self.attributes if k == name), None)


@attrs.frozen(weakref_slot=False)
class DoseEvent:
    """Study drug given: one administration, or daily administrations from start to end."""

    intervention: str
    start: datetime.date
    ref: RecordRef
    end: datetime.date | None = None
    amount: int | float | None = None
    unit: str | None = None
    route: str | None = None
    start_time: ClockTime | None = None
    end_time: ClockTime | None = None


@attrs.frozen(weakref_slot=False)
class Disposition:
    """A disposition record: completed, discontinued (with reason), withdrawn, died.

    `effect` is what it does to the patient's plan, when the data says so: `withdraw` (the
    patient left the study: scheduled visits stop), `discontinue` (study treatment stopped,
    follow-up goes on), `complete` (the patient completed the study: nothing is planned after
    it) or `none`. Without it the engine reads the effect from the status's wording
    (engine.timeline.disposition_effect and completes)."""

    status: str
    date: datetime.date
    ref: RecordRef
    reason: str | None = None
    effect: str | None = None
    time: ClockTime | None = None


# The values of Disposition.effect.
DISPOSITION_EFFECTS = ("withdraw", "discontinue", "complete", "none")


Event = Union[AnchorEvent, VisitEvent, Observation, Occurrence, DoseEvent, Disposition]


@attrs.frozen
class Patient:
    """One patient. `age` is used only when no birth date is known (age at the reference anchor).

    `collected` names the kinds of data that were collected for this patient at all (None: every
    kind). It separates "no hyperthyroidism recorded" (false) from "medical history was not
    collected" (unknown): `any`/`count` over a kind that was not collected is unknown.
    """

    id: str
    ref: RecordRef
    arm: str | None = None
    sex: str | None = None
    birth_date: datetime.date | None = None
    age: int | float | None = None
    events: tuple[Event, ...] = ()
    collected: frozenset[str] | None = None


@attrs.frozen
class RejectedRecord:
    """An input record that could not be used, with the patient, the record and the field."""

    ref: RecordRef
    message: str
    patient: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        who = f"patient {self.patient}: " if self.patient else ""
        what = f" field {self.field}:" if self.field else ""
        return f"{self.ref}: {who}{what} {self.message}".replace(":  ", ": ")


def fast_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of the frozen attrs class `cls` taking every field positionally (no
    defaults), about three times faster than `cls(...)`: for loaders, which build one event and
    one RecordRef per input record.

    A frozen attrs class has a `__setattr__` that raises, so its `__init__` sets each field by
    calling `object.__setattr__` (about 70 ns a field). Here a plain class with the same slots sets
    them by ordinary assignment, then turns the instance into a `cls` by assigning `__class__`,
    which CPython allows because the two layouts are identical (same slot names; `cls` has no
    `__weakref__` slot, which would make them differ). The result is a genuine `cls` instance,
    indistinguishable from one built by `cls(...)`: same type, fields, equality, hash and
    frozenness. `cls` must have no validators, converters or `__attrs_post_init__`, since they
    would not run.

    With the compiled engine, the builder is `engine._construct`'s (C, engine/_construct.c):
    it allocates the instance and stores each value in its slot directly, about five times
    faster again. Both builders make the same instances; the pure-Python one is used when the
    engine runs its Python sources (engine/native.py).
    """
    fields = attrs.fields(cls)  # type: ignore[arg-type]
    names = tuple(f.name for f in fields)
    if (
        set(cls.__slots__) != set(names)  # type: ignore[attr-defined]
        or any(f.validator or f.converter for f in fields)
        or hasattr(cls, "__attrs_post_init__")
    ):
        raise TypeError(f"fast_constructor cannot build {cls.__name__}")
    construct = _c_builder()
    if construct is not None:
        return construct(cls, names)
    # Generated like attrs' own __init__: one plain assignment per field.
    body = "".join(f"    self.{n} = {n}\n" for n in names)
    namespace: dict[str, Any] = {"cls": cls}
    exec(f"def __init__(self, {', '.join(names)}):\n{body}    self.__class__ = cls\n", namespace)
    builder = type(f"_Build{cls.__name__}", (), {"__slots__": names, "__init__": namespace["__init__"]})
    return builder


def _c_builder() -> Callable[[type, tuple[str, ...]], Any] | None:
    """engine._construct.builder when the compiled engine runs, else None."""
    from engine import native

    if native.PURE_REASON:
        return None
    builder: Callable[[type, tuple[str, ...]], Any] = importlib.import_module(
        "engine._construct").builder
    return builder
