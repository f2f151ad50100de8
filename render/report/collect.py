"""What a validation report shows, gathered from the engine's result stream in bounded memory.

    collector = ReportCollector(trial)
    for result, patient in ...:          # PatientResult + its Patient, or a RejectedRecord
        collector.add(result, patient)
    data = collector.finish(summary.result(), ...)

Listings keep at most `max_rows` rows each and timelines at most `max_timelines` patients; the
counts are always complete and the report says when a listing was cut (the CSV listings are
never cut).
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs

from engine.patient import Patient, RejectedRecord
from engine.results import (
    CriterionResult,
    EligibilityVerdict,
    PatientResult,
    ScheduleRow,
    StoppingEvent,
)
from engine.summary import SummaryResult
from protocol.trial import Trial


@attrs.frozen
class DeviationItem:
    patient: str
    arm: str | None
    row: ScheduleRow


@attrs.frozen
class IneligibleItem:
    """A patient not eligible, or unknown, on the criteria the data can decide."""

    patient: str
    arm: str | None
    verdict: EligibilityVerdict  # EligibilityResult.data_verdict
    # the criteria that keep the patient out or are unknown for a missing value
    criteria: tuple[CriterionResult, ...]
    # the anchor eligibility is judged at, and its date for this patient (None: no such record,
    # e.g. a screen failure has no randomization date)
    reference_anchor: str | None = None
    reference_date: datetime.date | None = None
    # dispositions and stops dated before the anchor, or of a patient who never reached it
    # (a screen failure): they say why the anchor has no date
    before_anchor: tuple[StoppingEvent, ...] = ()

    @property
    def failing(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.passes is False)

    @property
    def unknown(self) -> tuple[CriterionResult, ...]:
        return tuple(c for c in self.criteria if c.passes is None)

    @property
    def undated(self) -> bool:
        """Whether the anchor eligibility is judged at has no date for this patient: every
        criterion counted from it is unknown for that one reason, which the report says once
        rather than in every line of every criterion."""
        return self.reference_anchor is not None and self.reference_date is None

    def undecided(self) -> tuple[tuple[CriterionResult, tuple[str, ...]], ...]:
        """Each unknown criterion with the explanations of its evidence, repeats left out, and
        for an undated patient without the ones that only say the anchor has no date."""
        prefix = f"no date for {self.reference_anchor}:"
        out = []
        for c in self.unknown:
            lines: list[str] = []
            for e in c.evidence:
                if e.explanation in lines or (self.undated and e.explanation.startswith(prefix)):
                    continue
                lines.append(e.explanation)
            out.append((c, tuple(lines)))
        return tuple(out)


@attrs.frozen
class StoppingItem:
    patient: str
    arm: str | None
    event: StoppingEvent
    kind: str = "stop"  # StoppingEvent.kind for the patient's anchor date


@attrs.frozen
class Timeline:
    """One patient's result with the input patient (for adverse events and doses)."""

    index: int
    result: PatientResult
    patient: Patient | None


@attrs.frozen
class Listing:
    """A listing cut to its first `len(items)` of `total` rows."""

    items: tuple[Any, ...]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.items)


@attrs.frozen
class Accounting:
    """What became of the rows of one input dataset (SDTM)."""

    dataset: str
    rows: int
    used: int
    rejected: int
    ignored: tuple[tuple[str, int], ...]
    # the rejected records that name this dataset: rejected rows, and rejected values of rows
    # that are still used (sdtm.DomainCount.rejected_records); they add up to the run's total
    rejected_records: int = 0

    @property
    def ignored_total(self) -> int:
        return sum(n for _, n in self.ignored)


@attrs.frozen
class ReportData:
    trial: Trial
    source: str
    as_of: datetime.date
    generated: datetime.date
    summary: SummaryResult
    deviations: Listing
    ineligible: Listing
    stopping: Listing
    rejected: Listing
    timelines: Listing
    accounting: tuple[Accounting, ...] = ()
    not_read: tuple[str, ...] = ()
    version: str = ""
    # Data kinds in the input that the protocol does not declare: (kind, events, did-you-mean).
    undeclared: tuple[tuple[str, int, str], ...] = ()
    # Per criterion id: patients not ruled out by it or any criterion before it (unknown counts
    # as not ruled out), next to the attrition's strict `remaining`.
    not_ruled_out: dict[str, int] = attrs.field(factory=dict)
    # Patients unknown on the data whose eligibility anchor has no date (a screen failure
    # has no randomization date): why they are unknown, said once in the headline.
    undated_unknown: int = 0


def _chronological(row: ScheduleRow) -> tuple[datetime.date, bool]:
    """A patient's deviations as a monitor reads them: by the day the window opens (the
    planned day, else the day of the record), a visit before what was done at it. The sort
    is stable: rows of one day keep the engine's order. (The CSV listing keeps the engine's
    order, by activity.)"""
    day = (row.window_dates[0] if row.window_dates else row.planned_date or row.actual_date)
    return (day or datetime.date.max, row.activity_type != "visit")


class _Bounded:
    def __init__(self, limit: int):
        self.limit = limit
        self.items: list[Any] = []
        self.total = 0

    def add(self, item: Any) -> None:
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(item)

    def listing(self) -> Listing:
        return Listing(tuple(self.items), self.total)

    @property
    def full(self) -> bool:
        return len(self.items) >= self.limit

    def merge(self, later: _Bounded) -> None:
        self.total += later.total
        self.items.extend(later.items[: max(self.limit - len(self.items), 0)])


class ReportCollector:
    """Bounded listings and timelines from a stream of results."""

    def __init__(self, *, max_rows: int = 2000, max_timelines: int = 400):
        self.deviations = _Bounded(max_rows)
        self.ineligible = _Bounded(max_rows)
        self.stopping = _Bounded(max_rows)
        self.rejected = _Bounded(max_rows)
        self.timelines = _Bounded(max_timelines)
        self.patients = 0
        self.not_ruled_out: dict[str, int] = {}
        self.undated_unknown = 0

    def add(self, item: PatientResult | RejectedRecord, patient: Patient | None = None) -> None:
        if isinstance(item, RejectedRecord):
            self.rejected.add(item)
            return
        self.patients += 1
        for row in sorted(item.review_rows, key=_chronological):
            self.deviations.add(DeviationItem(item.id, item.arm, row))
        open_ = True
        for c in item.eligibility.criteria:
            open_ = open_ and c.passes is not False
            if open_:
                self.not_ruled_out[c.id] = self.not_ruled_out.get(c.id, 0) + 1
            elif c.id not in self.not_ruled_out:
                self.not_ruled_out[c.id] = 0
        # the listing is of what the data decide: a patient unknown only on criteria the data
        # cannot answer (listed once, for site verification) is not listed here
        verdict = item.eligibility.data_verdict
        if verdict is not EligibilityVerdict.ELIGIBLE:
            keeping_out = tuple(
                c for c in item.eligibility.criteria if c.passes is not True and not c.not_collected
            )
            eligibility = item.eligibility
            before = tuple(e for e in item.stopping if e.kind(item.anchor_date) == "before_anchor")
            listed = IneligibleItem(item.id, item.arm, verdict, keeping_out,
                                    eligibility.reference_anchor, eligibility.reference_date, before)
            self.ineligible.add(listed)
            if listed.undated and verdict is EligibilityVerdict.INDETERMINATE:
                self.undated_unknown += 1
        for event in item.stopping:
            self.stopping.add(
                StoppingItem(item.id, item.arm, event, event.kind(item.anchor_date)))
        self.timelines.add(Timeline(self.patients, item, patient))

    LISTINGS = ("deviations", "ineligible", "stopping", "rejected", "timelines")

    def listings(self) -> tuple[_Bounded, ...]:
        """The bounded listings, in the order of LISTINGS."""
        return (self.deviations, self.ineligible, self.stopping, self.rejected, self.timelines)

    def merge(self, later: ReportCollector) -> None:
        """Add `later`, the collector of the items that came after this one's in input order
        (a worker's share of a run): the same as one collector over all of them. A share
        need not keep the items of a listing that is already full here (its limit 0)."""
        offset = self.patients
        self.patients += later.patients
        self.undated_unknown += later.undated_unknown
        for mine, theirs in zip(self.listings()[:4], later.listings()[:4], strict=True):
            mine.merge(theirs)
        self.timelines.total += later.timelines.total
        room = max(self.timelines.limit - len(self.timelines.items), 0)
        self.timelines.items.extend(
            Timeline(t.index + offset, t.result, t.patient) for t in later.timelines.items[:room]
        )
        for cid, n in later.not_ruled_out.items():
            self.not_ruled_out[cid] = self.not_ruled_out.get(cid, 0) + n

    def finish(
        self,
        trial: Trial,
        summary: SummaryResult,
        *,
        source: str,
        as_of: datetime.date,
        generated: datetime.date,
        accounting: tuple[Accounting, ...] = (),
        not_read: tuple[str, ...] = (),
        version: str = "",
        undeclared: tuple[tuple[str, int, str], ...] = (),
    ) -> ReportData:
        return ReportData(
            trial=trial,
            source=source,
            as_of=as_of,
            generated=generated,
            summary=summary,
            deviations=self.deviations.listing(),
            ineligible=self.ineligible.listing(),
            stopping=self.stopping.listing(),
            rejected=self.rejected.listing(),
            timelines=self.timelines.listing(),
            accounting=accounting,
            not_read=not_read,
            version=version,
            undeclared=undeclared,
            not_ruled_out=dict(self.not_ruled_out),
            undated_unknown=self.undated_unknown,
        )
