"""The whole protocol: the root of the model that the engine and renderer take."""

from __future__ import annotations

import datetime

import attrs

from protocol.definitions import Definition, Table
from protocol.design import (
    Arm,
    DataItem,
    Identifier,
    Illustrative,
    Intervention,
    Masking,
    Objective,
    Organization,
    Phase,
    Population,
    ResponsibleParty,
    Site,
)
from protocol.eligibility import Eligibility
from protocol.schedule import Schedule
from protocol.source import Span, span_field
from protocol.stopping import Stopping
from protocol.timing import Calendar
from protocol.vocab import (
    Allocation,
    DesignModel,
    IllustrativePart,
    Purpose,
    Status,
    StudyType,
)


@attrs.frozen
class Trial:
    """A clinical-trial protocol. Everything but `name` is optional so drafts can be checked."""

    name: str
    title: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    status: Status | None = None
    last_updated: datetime.date | None = None
    study_type: StudyType | None = None
    phase: Phase | None = None
    enrollment: int | None = None
    enrollment_kind: str | None = None
    start: datetime.date | None = None
    completion: datetime.date | None = None
    allocation: Allocation | None = None
    allocation_ratio: tuple[int, ...] = ()
    model: DesignModel | None = None
    purpose: Purpose | None = None
    masking: Masking | None = None
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    objectives: tuple[Objective, ...] = ()
    sponsor: Organization | None = None
    collaborators: tuple[Organization, ...] = ()
    responsible_party: ResponsibleParty | None = None
    sites: tuple[Site, ...] = ()
    calendar: Calendar = Calendar()
    interventions: tuple[Intervention, ...] = ()
    arms: tuple[Arm, ...] = ()
    population: Population | None = None
    data: tuple[DataItem, ...] = ()
    eligibility: Eligibility = Eligibility()
    schedule: Schedule | None = None
    stopping: Stopping = Stopping()
    definitions: tuple[Definition, ...] = ()
    tables: tuple[Table, ...] = ()
    # parts that are not from the trial's real protocol (an example's choices): say so visibly
    illustrative: tuple[Illustrative, ...] = ()
    span: Span | None = span_field()

    def intervention(self, name: str) -> Intervention | None:
        return next((i for i in self.interventions if i.name == name), None)

    def arm(self, name: str) -> Arm | None:
        return next((a for a in self.arms if a.name == name), None)

    def data_item(self, name: str) -> DataItem | None:
        return next((d for d in self.data if d.name == name), None)

    def definition(self, name: str) -> Definition | None:
        return next((d for d in self.definitions if d.name == name), None)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def illustrative_note(self, part: IllustrativePart) -> str | None:
        """The note of the `illustrative` statement that marks `part`, if one does."""
        return next((i.note for i in self.illustrative if part in i.parts), None)

    def identifier(self, scheme: str) -> str | None:
        return next((i.value for i in self.identifiers if i.scheme == scheme), None)

    @property
    def has_timepoints(self) -> bool:
        """Whether the schedule has sub-day timepoints (their reports have more columns)."""
        return self.schedule is not None and bool(self.schedule.timepoints)

    @property
    def period_count(self) -> int:
        """How many study periods the arms' sequences have (0 without sequences)."""
        return max((len(a.sequence) for a in self.arms), default=0)

    def period_treatment(self, arm: str | None, period: int) -> tuple[str, ...] | None:
        """The interventions an arm's sequence gives in a period (from 1); None when the arm
        has no sequence or the sequence no such period."""
        a = self.arm(arm) if arm is not None else None
        if a is None or not 1 <= period <= len(a.sequence):
            return None
        return a.sequence[period - 1].interventions

    @property
    def reference_anchor(self) -> str | None:
        """The anchor at which eligibility is judged: stated, or else the schedule's anchor."""
        if self.eligibility.assessed_at:
            return self.eligibility.assessed_at
        return self.schedule.anchor if self.schedule else None
