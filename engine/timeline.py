"""A patient's events indexed once: by kind, visit, intervention and anchor, each sorted by date.

Every evaluation step (criteria, stopping rules, schedule matching) reads these lists instead of
scanning the patient's events again, and cuts them at a date with `bisect` ("the data known by
then"). Sorting is stable: events on the same day keep their input order, so "latest" among
same-day records is the last one in the input.
"""

from __future__ import annotations

import datetime
from bisect import bisect_right
from collections.abc import Sequence
from typing import Final

from engine.patient import (
    AnchorEvent,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    Patient,
    VisitEvent,
)

EVENT_TYPE_NAMES: Final = {
    AnchorEvent: "anchor",
    VisitEvent: "visit",
    Observation: "observation",
    Occurrence: "occurrence",
    DoseEvent: "dose",
    Disposition: "disposition",
}

# Disposition statuses, normalised to what they do to the plan.
_WITHDRAW_WORDS: Final = ("withdr", "lost", "death", "died", "dead", "screen fail", "screen_fail")
_DISCONTINUE_WORDS: Final = ("discontinu", "stopped", "terminat")


def disposition_effect(ev: Disposition) -> str | None:
    """What a disposition record means for the schedule: `withdraw` (the patient left the
    study), `discontinue` (study treatment stopped, follow-up goes on) or None (no effect). The
    effect the record states wins; without one it is read from the status's wording."""
    if ev.effect is not None:
        return ev.effect if ev.effect in ("withdraw", "discontinue") else None
    return effect_from_wording(ev.status)


def completes(ev: Disposition) -> bool:
    """Whether the record says the patient completed the study (nothing is planned after its
    day): its stated effect `complete`, or, when it states none, a status saying completed."""
    if ev.effect is not None:
        return ev.effect == "complete"
    return ev.status.strip().lower().startswith("complet")


def effect_from_wording(status: str) -> str | None:
    """The effect of a disposition that does not state one, from its status: `withdraw` for a
    status saying withdrawn, lost (to follow-up), died, dead, death or screen failure;
    `discontinue` for discontinued, stopped or terminated; None for completed and anything
    else."""
    s = status.strip().lower().replace("_", " ")
    if s.startswith("complet"):
        return None
    if any(w in s for w in _WITHDRAW_WORDS):
        return "withdraw"
    if any(w in s for w in _DISCONTINUE_WORDS):
        return "discontinue"
    return None


def event_date(event: Event) -> datetime.date:
    """The (start) date of any event."""
    if isinstance(event, (Occurrence, DoseEvent)):
        return event.start
    return event.date


class Series:
    """Events of one kind sorted by date, with their input positions and a date list for bisect."""

    __slots__ = ("events", "dates", "positions")

    def __init__(
        self,
        events: list[Event] | None = None,
        dates: list[datetime.date] | None = None,
        positions: list[int] | None = None,
    ) -> None:
        self.events: list[Event] = [] if events is None else events
        self.dates: list[datetime.date] = [] if dates is None else dates
        self.positions: list[int] = [] if positions is None else positions

    def until(self, day: datetime.date) -> int:
        """How many events are dated on or before `day` (they are the first ones)."""
        return bisect_right(self.dates, day)

    def __len__(self) -> int:
        return len(self.events)


_Group = tuple[list[Event], list[int], list[datetime.date]]


def _series(events: list[Event], positions: list[int], dates: list[datetime.date]) -> Series:
    """The Series of one group, in (date, position) order. The groups are built in input order,
    so positions already increase: a stable sort by date gives (date, position) order, and the
    input is usually in date order already, which one comparison of lists (in C) tells."""
    if len(dates) > 1 and dates != sorted(dates):
        order = sorted(range(len(dates)), key=dates.__getitem__)  # stable
        events = [events[i] for i in order]
        positions = [positions[i] for i in order]
        dates = [dates[i] for i in order]
    return Series(events, dates, positions)


class PatientIndex:
    """The events of one patient by what they are, each list sorted by date (stable)."""

    def __init__(self, patient: Patient):
        self.patient = patient
        # Per group: its events, their positions in patient.events and their dates, appended
        # in input order (three parallel lists: cheaper than a tuple per event sorted later).
        obs: dict[str, _Group] = {}
        occ: dict[str, _Group] = {}
        visits: dict[str | None, _Group] = {}
        doses: dict[str, _Group] = {}
        anchors: dict[str, _Group] = {}
        dispositions: _Group = ([], [], [])
        # exact type tests (the type decides the attributes; no per-event isinstance)
        for i, ev in enumerate(patient.events):
            t = type(ev)
            if t is Observation:
                g = obs.get(ev.kind)  # type: ignore[union-attr]
                if g is None:
                    g = obs[ev.kind] = ([], [], [])  # type: ignore[union-attr]
                date = ev.date  # type: ignore[union-attr]
            elif t is Occurrence:
                g = occ.get(ev.kind)  # type: ignore[union-attr]
                if g is None:
                    g = occ[ev.kind] = ([], [], [])  # type: ignore[union-attr]
                date = ev.start  # type: ignore[union-attr]
            elif t is VisitEvent:
                g = visits.get(ev.visit)  # type: ignore[union-attr]
                if g is None:
                    g = visits[ev.visit] = ([], [], [])  # type: ignore[union-attr]
                date = ev.date  # type: ignore[union-attr]
            elif t is DoseEvent:
                g = doses.get(ev.intervention)  # type: ignore[union-attr]
                if g is None:
                    g = doses[ev.intervention] = ([], [], [])  # type: ignore[union-attr]
                date = ev.start  # type: ignore[union-attr]
            elif t is AnchorEvent:
                g = anchors.get(ev.name)  # type: ignore[union-attr]
                if g is None:
                    g = anchors[ev.name] = ([], [], [])  # type: ignore[union-attr]
                date = ev.date  # type: ignore[union-attr]
            elif t is Disposition:
                g = dispositions
                date = ev.date  # type: ignore[union-attr]
            else:
                continue
            g[0].append(ev)
            g[1].append(i)
            g[2].append(date)
        self.observations = {k: _series(*g) for k, g in obs.items()}
        self.occurrences = {k: _series(*g) for k, g in occ.items()}
        self.visits = {k: _series(*g) for k, g in visits.items()}
        self.doses = {k: _series(*g) for k, g in doses.items()}
        self.anchors = {k: _series(*g) for k, g in anchors.items()}
        self.dispositions = _series(*dispositions)
        self._empty = Series()
        self._records: dict[tuple[str, datetime.date | None], Sequence[tuple[Event, int]]] = {}

    # ---- lookups ------------------------------------------------------------------------------

    def obs(self, kind: str) -> Series:
        return self.observations.get(kind, self._empty)

    def occ(self, kind: str) -> Series:
        return self.occurrences.get(kind, self._empty)

    def collected(self, kind: str) -> bool:
        """Whether data of `kind` were collected for this patient at all (Patient.collected)."""
        c = self.patient.collected
        return c is None or kind in c

    def records(self, kind: str, cutoff: datetime.date | None) -> Sequence[tuple[Event, int]]:
        """Observations and occurrences of `kind` dated on or before `cutoff`, by date
        (memoized: criteria and rules ask for the same kinds at the same dates again)."""
        key = (kind, cutoff)
        hit = self._records.get(key)
        if hit is None:
            hit = self._records[key] = self._records_uncached(kind, cutoff)
        return hit

    def _records_uncached(self, kind: str, cutoff: datetime.date | None) -> Sequence[tuple[Event, int]]:
        o, c = self.obs(kind), self.occ(kind)
        if not len(o) and not len(c):
            return ()
        no = len(o) if cutoff is None else o.until(cutoff)
        nc = len(c) if cutoff is None else c.until(cutoff)
        if not nc:
            return list(zip(o.events[:no], o.positions[:no], strict=True))
        if not no:
            return list(zip(c.events[:nc], c.positions[:nc], strict=True))
        merged = [(o.dates[i], o.positions[i], o.events[i]) for i in range(no)]
        merged += [(c.dates[i], c.positions[i], c.events[i]) for i in range(nc)]
        merged.sort()  # by (date, position): positions are unique
        return [(e, p) for _, p, e in merged]

    def anchor_date(self, name: str, cutoff: datetime.date | None = None) -> tuple[datetime.date, int] | None:
        """The earliest AnchorEvent called `name` (on or before `cutoff`) and its position."""
        s = self.anchors.get(name)
        if not s or (cutoff is not None and s.dates[0] > cutoff):
            return None
        return s.dates[0], s.positions[0]

    def first_visit(self, name: str, cutoff: datetime.date | None = None) -> tuple[datetime.date, int] | None:
        s = self.visits.get(name)
        if not s or (cutoff is not None and s.dates[0] > cutoff):
            return None
        return s.dates[0], s.positions[0]

    def dose_bounds(
        self, intervention: str, cutoff: datetime.date | None = None
    ) -> tuple[datetime.date, datetime.date] | None:
        """(first administration, last administration) of `intervention`, on or before `cutoff`.

        A dose over a period counts to its end (capped at the cutoff)."""
        s = self.doses.get(intervention)
        if not s:
            return None
        n = len(s) if cutoff is None else s.until(cutoff)
        if not n:
            return None
        last = s.dates[0]
        for ev in s.events[:n]:
            assert isinstance(ev, DoseEvent)
            end = ev.end or ev.start
            if cutoff is not None and end > cutoff:
                end = cutoff
            if end > last:
                last = end
        return s.dates[0], last
