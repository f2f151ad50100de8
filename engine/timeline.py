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

EVENT_TYPE_NAMES = {
    AnchorEvent: "anchor",
    VisitEvent: "visit",
    Observation: "observation",
    Occurrence: "occurrence",
    DoseEvent: "dose",
    Disposition: "disposition",
}

# Disposition statuses, normalised to what they do to the plan.
_WITHDRAW_WORDS = ("withdr", "lost", "death", "died", "dead", "screen fail", "screen_fail")
_DISCONTINUE_WORDS = ("discontinu", "stopped", "terminat")


def disposition_effect(status: str) -> str | None:
    """What a disposition status means for the schedule: `withdraw` (the patient left the study:
    withdrawn, lost to follow-up, died), `discontinue` (study treatment stopped, follow-up goes
    on), or None (completed, or a status trialcode does not interpret)."""
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

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.dates: list[datetime.date] = []
        self.positions: list[int] = []

    def until(self, day: datetime.date) -> int:
        """How many events are dated on or before `day` (they are the first ones)."""
        return bisect_right(self.dates, day)

    def __len__(self) -> int:
        return len(self.events)


def _sorted_series(items: list[tuple[datetime.date, int, Event]]) -> Series:
    items.sort()  # by (date, position): positions are unique, so events are never compared
    s = Series()
    s.dates = [d for d, _, _ in items]
    s.positions = [i for _, i, _ in items]
    s.events = [e for _, _, e in items]
    return s


class PatientIndex:
    """The events of one patient by what they are, each list sorted by date (stable)."""

    def __init__(self, patient: Patient):
        self.patient = patient
        obs: dict[str, list[tuple[datetime.date, int, Event]]] = {}
        occ: dict[str, list[tuple[datetime.date, int, Event]]] = {}
        visits: dict[str | None, list[tuple[datetime.date, int, Event]]] = {}
        doses: dict[str, list[tuple[datetime.date, int, Event]]] = {}
        anchors: dict[str, list[tuple[datetime.date, int, Event]]] = {}
        dispositions: list[tuple[datetime.date, int, Event]] = []
        # exact type tests (the type decides the attributes; no per-event isinstance)
        for i, ev in enumerate(patient.events):
            t = type(ev)
            if t is Observation:
                obs.setdefault(ev.kind, []).append((ev.date, i, ev))  # type: ignore[union-attr]
            elif t is Occurrence:
                occ.setdefault(ev.kind, []).append((ev.start, i, ev))  # type: ignore[union-attr]
            elif t is VisitEvent:
                visits.setdefault(ev.visit, []).append((ev.date, i, ev))  # type: ignore[union-attr]
            elif t is DoseEvent:
                doses.setdefault(ev.intervention, []).append((ev.start, i, ev))  # type: ignore[union-attr]
            elif t is AnchorEvent:
                anchors.setdefault(ev.name, []).append((ev.date, i, ev))  # type: ignore[union-attr]
            elif t is Disposition:
                dispositions.append((ev.date, i, ev))  # type: ignore[union-attr]
        self.observations = {k: _sorted_series(v) for k, v in obs.items()}
        self.occurrences = {k: _sorted_series(v) for k, v in occ.items()}
        self.visits = {k: _sorted_series(v) for k, v in visits.items()}
        self.doses = {k: _sorted_series(v) for k, v in doses.items()}
        self.anchors = {k: _sorted_series(v) for k, v in anchors.items()}
        self.dispositions = _sorted_series(dispositions)
        self._empty = Series()
        self._records: dict[tuple[str, datetime.date | None], Sequence[tuple[Event, int]]] = {}

    # ---- lookups ------------------------------------------------------------------------------

    def obs(self, kind: str) -> Series:
        return self.observations.get(kind, self._empty)

    def occ(self, kind: str) -> Series:
        return self.occurrences.get(kind, self._empty)

    def has_kind(self, kind: str) -> bool:
        return kind in self.observations or kind in self.occurrences

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
