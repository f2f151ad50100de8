"""A streaming summary of many patients whose memory does not grow with their number.

    summary = Summary(trial)
    for item in evaluate_all(trial, patients, as_of):
        summary.add(item)           # a PatientResult or a RejectedRecord
    table = summary.result()        # frozen SummaryResult

Attrition follows OHDSI's cohort-attrition tables: criteria in protocol order (the population
block's AGE and SEX first, then inclusions, then exclusions); for each, how many patients met it,
did not, or were unknown, and how many `remaining` patients pass it and every criterion before
it (an inclusion passes when met, an exclusion when not met; unknown never passes).

`not_collected` counts, among a criterion's unknowns, those the data cannot answer at all (the
kinds it reads were not collected: site verification); the others are missing values. The
verdicts on the criteria the data can decide (`EligibilityResult.data_verdict`) are counted
next to the patients' verdicts.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import attrs

from engine.eligibility import passes
from engine.patient import RejectedRecord
from engine.results import (
    CriterionVerdict,
    EligibilityVerdict,
    PatientResult,
    Status,
    StopStatus,
)
from protocol.trial import Trial

MAX_SAMPLES = 100  # rejected records and errors kept verbatim; the rest are only counted
_DEVIATIONS: Final = (Status.EARLY, Status.LATE, Status.MISSED)


@attrs.frozen
class AttritionRow:
    id: str
    category: str
    text: str | None
    met: int
    not_met: int
    unknown: int
    remaining: int
    not_collected: int = 0  # of `unknown`: the data cannot answer it (site verification)
    # `remaining` with the criteria the data cannot answer left out: patients who pass this
    # criterion and every one before it, or are unknown on it only for lack of collected data
    remaining_on_data: int = 0
    kinds_not_collected: tuple[str, ...] = ()  # what it reads that the data do not hold

    @property
    def missing(self) -> int:
        """Unknown because this patient's value is missing (not for lack of a data source)."""
        return self.unknown - self.not_collected


@attrs.frozen
class ActivityStatusRow:
    """How the planned occurrences of one activity went, over all patients."""

    activity: str
    activity_type: str
    counts: tuple[tuple[str, int], ...]  # (status value, count) in Status order
    unplanned: int = 0

    def count(self, status: Status) -> int:
        return dict(self.counts).get(status.value, 0)

    @property
    def deviations(self) -> int:
        return self.count(Status.EARLY) + self.count(Status.LATE) + self.count(Status.MISSED)


@attrs.frozen
class RuleRow:
    """A patient stopping rule over all patients: how many patients it fired for."""

    rule: str
    action: str
    patients: int
    fired: int
    rescinded: int
    pending: int
    retests_done: int = 0
    retests_late: int = 0
    retests_missing: int = 0


@attrs.frozen
class SummaryResult:
    patients: int
    rejected: int
    eligible: int
    ineligible: int
    indeterminate: int
    attrition: tuple[AttritionRow, ...]
    activities: tuple[ActivityStatusRow, ...]
    rules: tuple[RuleRow, ...]
    patients_with_stopping: int
    patients_with_deviations: int
    errors: int
    rejected_samples: tuple[RejectedRecord, ...] = ()
    error_samples: tuple[str, ...] = ()
    # verdicts on the criteria the data can decide (EligibilityResult.data_verdict)
    data_eligible: int = 0
    data_ineligible: int = 0
    data_unknown: int = 0
    # patients with a stop that means one (StoppingEvent.kind: `stop`), of those with any
    # fired event (`patients_with_stopping` also counts screen failures and retests owed)
    patients_stopped: int = 0

    @property
    def site_verification(self) -> tuple[AttritionRow, ...]:
        """The criteria the data cannot answer for some patient (their data were not
        collected), in protocol order: for the site to verify, listed once."""
        return tuple(a for a in self.attrition if a.not_collected)


class Summary:
    """The accumulator. `add` is O(criteria + rows of one patient); memory is bounded."""

    def __init__(self, trial: Trial | None = None):
        self.patients = 0
        self.rejected = 0
        self.verdicts: Counter[EligibilityVerdict] = Counter()
        self.data_verdicts: Counter[EligibilityVerdict] = Counter()
        # id -> [met, not_met, unknown, remaining, not_collected, remaining_on_data]
        self._criteria: dict[str, list[int]] = {}
        self._kinds: dict[str, set[str]] = {}  # id -> kinds not collected (for some patient)
        self._criterion_info: dict[str, tuple[str, str | None]] = {}
        self._activities: dict[tuple[str, str], Counter[str]] = {}
        self._unplanned: Counter[tuple[str, str]] = Counter()
        self._rules: dict[str, list[int]] = {}
        self._rule_action: dict[str, str] = {}
        self.patients_with_stopping = 0
        self.patients_stopped = 0
        self.patients_with_deviations = 0
        self.errors = 0
        self._rejected_samples: list[RejectedRecord] = []
        self._error_samples: list[str] = []
        if trial is not None:
            from engine.eligibility import criteria_order

            for cid, category, text in criteria_order(trial):
                self._criteria[cid] = [0, 0, 0, 0, 0, 0]
                self._criterion_info[cid] = (category, text)

    def add(self, item: PatientResult | RejectedRecord) -> None:
        if isinstance(item, RejectedRecord):
            self.rejected += 1
            if len(self._rejected_samples) < MAX_SAMPLES:
                self._rejected_samples.append(item)
            return
        self.patients += 1
        eligibility = item.eligibility
        self.verdicts[eligibility.verdict] += 1
        self.data_verdicts[eligibility.data_verdict] += 1
        passing = True
        on_data = True  # passing, but with the criteria the data cannot answer left out
        for c in eligibility.criteria:
            row = self._criteria.get(c.id)
            if row is None:
                row = self._criteria[c.id] = [0, 0, 0, 0, 0, 0]
                self._criterion_info[c.id] = (c.category, c.text)
            if c.verdict is CriterionVerdict.MET:
                row[0] += 1
            elif c.verdict is CriterionVerdict.NOT_MET:
                row[1] += 1
            else:
                row[2] += 1
                if c.not_collected:
                    row[4] += 1
                    kinds = self._kinds.get(c.id)
                    if kinds is None:
                        kinds = self._kinds[c.id] = set()
                    kinds.update(c.not_collected)
            passed = passes(c)
            passing = passing and passed is True
            if passing:
                row[3] += 1
            on_data = on_data and (passed is True or (passed is None and bool(c.not_collected)))
            if on_data:
                row[5] += 1
        deviated = False
        activities = self._activities
        deviations = _DEVIATIONS
        # rows come grouped by activity: look the counter up only when the activity changes
        last_type: str | None = None
        last_activity: str | None = None
        counter: Counter[str] = Counter()
        for r in item.schedule:
            if r.activity != last_activity or r.activity_type != last_type:
                last_type, last_activity = r.activity_type, r.activity
                key = (r.activity_type, r.activity)
                found = activities.get(key)
                if found is None:
                    found = activities[key] = Counter()
                counter = found
            status = r.status
            counter[status._value_] += 1  # the value (not the slower .value property)
            if status in deviations:
                deviated = True
        for u in item.unplanned:
            key = (u.activity_type, u.activity)
            if key not in self._activities:
                self._activities[key] = Counter()
            self._unplanned[key] += 1
        if deviated:
            self.patients_with_deviations += 1
        fired_any = False
        stopped = False
        seen: set[str] = set()
        for s in item.stopping:
            row = self._rules.get(s.rule)
            if row is None:
                row = self._rules[s.rule] = [0, 0, 0, 0, 0, 0, 0]
                self._rule_action[s.rule] = s.action
            if s.rule not in seen:
                row[0] += 1
                seen.add(s.rule)
            row[1 + [StopStatus.FIRED, StopStatus.RESCINDED, StopStatus.PENDING].index(s.status)] += 1
            if s.retest_status is not None:
                name = s.retest_status.value
                if name in ("done", "late", "missing"):
                    row[4 + ("done", "late", "missing").index(name)] += 1
            if s.status is StopStatus.FIRED:
                fired_any = True
                if not stopped and s.kind(item.anchor_date) == "stop":
                    stopped = True
        if fired_any:
            self.patients_with_stopping += 1
        if stopped:
            self.patients_stopped += 1
        self.errors += len(item.errors)
        for e in item.errors:
            if len(self._error_samples) >= MAX_SAMPLES:
                break
            self._error_samples.append(str(e))

    def merge(self, later: Summary) -> None:
        """Add the counts of `later`, an accumulator of the items that came after this one's
        in input order (a worker's share of a run). Merging the shares in input order gives
        exactly the accumulator of one pass over all items: counts add up, and rows keep the
        order in which the stream first met them (an earlier share's first)."""
        self.patients += later.patients
        self.rejected += later.rejected
        self.verdicts.update(later.verdicts)
        self.data_verdicts.update(later.data_verdicts)
        for cid, counts in later._criteria.items():
            row = self._criteria.get(cid)
            if row is None:
                row = self._criteria[cid] = [0, 0, 0, 0, 0, 0]
                self._criterion_info[cid] = later._criterion_info[cid]
            for i, n in enumerate(counts):
                row[i] += n
        for cid, kinds in later._kinds.items():
            self._kinds.setdefault(cid, set()).update(kinds)
        for key, counter in later._activities.items():
            mine = self._activities.get(key)
            if mine is None:
                mine = self._activities[key] = Counter()
            mine.update(counter)
        self._unplanned.update(later._unplanned)
        for rule, counts in later._rules.items():
            row = self._rules.get(rule)
            if row is None:
                row = self._rules[rule] = [0] * len(counts)
                self._rule_action[rule] = later._rule_action[rule]
            for i, n in enumerate(counts):
                row[i] += n
        self.patients_with_stopping += later.patients_with_stopping
        self.patients_stopped += later.patients_stopped
        self.patients_with_deviations += later.patients_with_deviations
        self.errors += later.errors
        room = MAX_SAMPLES - len(self._rejected_samples)
        self._rejected_samples.extend(later._rejected_samples[: max(room, 0)])
        room = MAX_SAMPLES - len(self._error_samples)
        self._error_samples.extend(later._error_samples[: max(room, 0)])

    def result(self) -> SummaryResult:
        order = [s.value for s in Status]
        activities = tuple(
            ActivityStatusRow(
                activity,
                kind,
                tuple((s, counter[s]) for s in order if counter[s]),
                self._unplanned[(kind, activity)],
            )
            for (kind, activity), counter in self._activities.items()
        )
        return SummaryResult(
            patients=self.patients,
            rejected=self.rejected,
            eligible=self.verdicts[EligibilityVerdict.ELIGIBLE],
            ineligible=self.verdicts[EligibilityVerdict.INELIGIBLE],
            indeterminate=self.verdicts[EligibilityVerdict.INDETERMINATE],
            attrition=tuple(
                AttritionRow(cid, self._criterion_info[cid][0], self._criterion_info[cid][1],
                             counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
                             tuple(sorted(self._kinds.get(cid, ()))))
                for cid, counts in self._criteria.items()
            ),
            activities=activities,
            rules=tuple(
                RuleRow(rule, self._rule_action[rule], *counts)
                for rule, counts in self._rules.items()
            ),
            patients_with_stopping=self.patients_with_stopping,
            patients_with_deviations=self.patients_with_deviations,
            errors=self.errors,
            rejected_samples=tuple(self._rejected_samples),
            error_samples=tuple(self._error_samples),
            data_eligible=self.data_verdicts[EligibilityVerdict.ELIGIBLE],
            data_ineligible=self.data_verdicts[EligibilityVerdict.INELIGIBLE],
            data_unknown=self.data_verdicts[EligibilityVerdict.INDETERMINATE],
            patients_stopped=self.patients_stopped,
        )
