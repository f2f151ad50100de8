"""What the engine says about one patient: frozen result classes, the engine's public contract.

Renderers (HTML, CSV, JSON) and the CLI build on these classes and on `engine.report_json`.
Field names are stable; new fields are only ever added at the end with a default.

Days (`planned_day`, `actual_day`, windows) are trialcode protocol days: counted from the date of
the schedule's anchor (day 0 is the anchor's own day, the day before is day -1), never SDTM study
days (which skip day 0).
"""

from __future__ import annotations

import datetime
import enum
import inspect
from collections.abc import Callable

import attrs

from engine.logic import Truth
from engine.patient import ClockTime, RecordRef, fast_constructor

Scalar = int | float | str | bool


# ---- evidence ---------------------------------------------------------------------------------


@attrs.frozen(init=False, weakref_slot=False)  # no __weakref__: see new_evidence
class Evidence:
    """One fact a verdict rests on, with its source: a person can check it against the data.

    `explanation` is a one-line sentence (`latest alt within 14 days before randomization:
    52 U/L on 2023-02-20 <= 2.5 x ULN (100 U/L, range 7-40 U/L): true`). `value`/`unit`/`date`/
    `ref` describe the record used (None when there was none); `threshold`/`threshold_unit` the
    value it was compared with after unit conversion into the record's unit; `reference_range`
    the record's own (low, high) when `x ULN`/`x LLN` was used. `error` is set when the evidence
    is an evaluation error (an unconvertible unit, a non-numeric value compared with a number):
    the verdict is then unknown, never a silent pass. `inputs` is set when the value was
    computed from others (a formula, arithmetic): one Evidence per input, each with its value,
    unit, date and record.
    """

    explanation: str
    source: str | None = None  # criterion id or stopping-rule name the evidence belongs to
    subject: str | None = None  # what was looked at: `latest alt within 14 days before ...`
    truth: Truth | None = None  # the truth of the comparison this evidence documents
    value: Scalar | None = None
    unit: str | None = None
    date: datetime.date | None = None
    ref: RecordRef | None = None
    threshold: Scalar | None = None
    threshold_unit: str | None = None
    reference_range: tuple[int | float | None, int | float | None] | None = None
    error: str | None = None
    time: ClockTime | None = None  # the record's time of day on `date`, when the data give one
    inputs: tuple[Evidence, ...] = ()

    def __init__(
        self,
        explanation: str,
        source: str | None = None,
        subject: str | None = None,
        truth: Truth | None = None,
        value: Scalar | None = None,
        unit: str | None = None,
        date: datetime.date | None = None,
        ref: RecordRef | None = None,
        threshold: Scalar | None = None,
        threshold_unit: str | None = None,
        reference_range: tuple[int | float | None, int | float | None] | None = None,
        error: str | None = None,
        time: ClockTime | None = None,
        inputs: tuple[Evidence, ...] = (),
    ) -> None:
        # attrs' own __init__ for a frozen class sets each slot through object.__setattr__;
        # the slots' descriptors do the same write 40% faster (1.0 against 1.6 us), and the
        # engine builds dozens of Evidence per patient. Same parameters, order and defaults
        # as the fields (checked below, at import).
        _set_explanation(self, explanation)
        _set_source(self, source)
        _set_subject(self, subject)
        _set_truth(self, truth)
        _set_value(self, value)
        _set_unit(self, unit)
        _set_date(self, date)
        _set_ref(self, ref)
        _set_threshold(self, threshold)
        _set_threshold_unit(self, threshold_unit)
        _set_reference_range(self, reference_range)
        _set_error(self, error)
        _set_time(self, time)
        _set_inputs(self, inputs)


(_set_explanation, _set_source, _set_subject, _set_truth, _set_value, _set_unit, _set_date,
 _set_ref, _set_threshold, _set_threshold_unit, _set_reference_range, _set_error, _set_time,
 _set_inputs) = (
    getattr(Evidence, f.name).__set__ for f in attrs.fields(Evidence))
if [(p.name, p.default) for p in list(inspect.signature(Evidence.__init__).parameters.values())[1:]] \
        != [(f.name, f.default if f.default is not attrs.NOTHING else inspect.Parameter.empty)
            for f in attrs.fields(Evidence)]:
    raise TypeError("Evidence.__init__ must take exactly the fields of Evidence, in order")


# Every field positionally, for the engine's hot paths (a dozen per patient): the C builder of
# engine.patient.fast_constructor with the compiled engine, about ten times cheaper than the
# __init__ above.
new_evidence: Callable[..., Evidence] = fast_constructor(Evidence)


@attrs.frozen
class EvaluationError:
    """A problem found while evaluating a patient (not a bad input record: those are rejected
    by the loaders). The record is named when one caused it."""

    message: str
    patient: str
    ref: RecordRef | None = None
    source: str | None = None  # criterion id, rule name or schedule activity

    def __str__(self) -> str:
        where = f"{self.ref}: " if self.ref else ""
        what = f" [{self.source}]" if self.source else ""
        return f"{where}patient {self.patient}{what}: {self.message}"


# ---- eligibility ------------------------------------------------------------------------------


class CriterionVerdict(enum.Enum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class EligibilityVerdict(enum.Enum):
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INDETERMINATE = "indeterminate"


@attrs.frozen(weakref_slot=False)  # no __weakref__: engine.patient.fast_constructor builds it
class CriterionResult:
    """One criterion for one patient.

    `truth` is what the data say; `verdict` is after the criterion's `missing` policy (only an
    unknown truth is ever changed by it, and `policy_applied` says so). `category` is
    `inclusion` or `exclusion`; the population block's implicit criteria (`AGE`, `SEX`) are
    inclusions with `implicit` set.
    """

    id: str
    category: str
    verdict: CriterionVerdict
    truth: Truth
    evidence: tuple[Evidence, ...] = ()
    text: str | None = None
    implicit: bool = False
    policy_applied: bool = False
    # The data kinds the criterion reads that were not collected for this patient at all, when
    # its verdict is unknown: the data cannot answer it, the site must (empty otherwise).
    not_collected: tuple[str, ...] = ()

    @property
    def no_source(self) -> bool:
        """Whether the verdict is unknown because the data do not hold what the criterion reads
        (site verification), rather than because this patient's value is missing."""
        return bool(self.not_collected)

    @property
    def passes(self) -> bool | None:
        """True if the criterion lets the patient in (inclusion met, exclusion not met), False if
        it keeps them out, None if unknown."""
        if self.verdict is CriterionVerdict.UNKNOWN:
            return None
        met = self.verdict is CriterionVerdict.MET
        return met if self.category == "inclusion" else not met


@attrs.frozen
class EligibilityResult:
    """The patient's verdict and every criterion's, in protocol order (population first).

    `unresolved` lists the ids of the criteria whose data would resolve an indeterminate verdict
    (empty unless the verdict is indeterminate). `reference_date` is the date of the anchor
    named by `trial.reference_anchor`; only data dated on or before it were used.

    `site_verification` lists the unknown criteria that the data cannot answer at all (their
    data were not collected: `CriterionResult.not_collected`); `data_verdict` is the verdict on
    the criteria the data can decide, leaving those out.
    """

    verdict: EligibilityVerdict
    criteria: tuple[CriterionResult, ...]
    reference_anchor: str | None = None
    reference_date: datetime.date | None = None
    unresolved: tuple[str, ...] = ()
    site_verification: tuple[str, ...] = ()

    @property
    def data_verdict(self) -> EligibilityVerdict:
        """The verdict on the criteria the data can decide: ineligible as `verdict`; eligible
        when every criterion that is not unknown for lack of collected data passes (those
        still need the site's verification); indeterminate when a value is missing."""
        if self.verdict is not EligibilityVerdict.INDETERMINATE:
            return self.verdict
        if all(u in self.site_verification for u in self.unresolved):
            return EligibilityVerdict.ELIGIBLE
        return EligibilityVerdict.INDETERMINATE

    def criterion(self, id: str) -> CriterionResult | None:
        return next((c for c in self.criteria if c.id == id), None)


# ---- schedule ---------------------------------------------------------------------------------


class Status(enum.Enum):
    """The one status of a planned occurrence."""

    ON_TIME = "on_time"
    EARLY = "early"
    LATE = "late"
    MISSED = "missed"
    NOT_DUE = "not_due"
    NOT_APPLICABLE = "not_applicable"
    # No record, and the data cannot say whether it was done: its kind was not collected for
    # the patient at all (Patient.collected). Neither missed nor not applicable.
    NOT_COLLECTED = "not_collected"
    # a sub-day timepoint done, but whether within its window the data cannot tell (a record
    # or a reference without a time of day: engine.clock's "maybe"); never a silent on_time
    TIME_UNKNOWN = "time_unknown"


DEVIATIONS = (Status.EARLY, Status.LATE, Status.MISSED)
_REVIEW = (Status.EARLY, Status.LATE, Status.MISSED, Status.TIME_UNKNOWN)


ClockStamp = tuple[datetime.date, ClockTime | None]


@attrs.frozen(weakref_slot=False)
class RowTiming:
    """The times of a sub-day timepoint's row (a `timepoints` block), beside its dates.

    `timepoint` is the planned elapsed time from the reference as ISO 8601 writes it (SDTM
    --ELTM: `PT30M`, `PT24H`), or `PREDOSE`; `reference` says what it is timed from, in words
    (`dose of study_drug on day 14`), and `reference_stamp` when that happened (None when it
    has not). `planned` is the nominal instant and `window` the first and last instants
    allowed (None when the reference has no time of day); `actual` the matched record's date
    and time. `deviation_minutes` is signed like deviation_days (negative when early): the
    least certain distance to the window, 0 when on time, None otherwise.
    """

    timepoint: str
    reference: str
    reference_stamp: ClockStamp | None = None
    planned: ClockStamp | None = None
    window: tuple[ClockStamp, ClockStamp] | None = None
    actual: ClockStamp | None = None
    deviation_minutes: int | float | None = None


# No weakref slot on the classes the engine builds by the hundred per patient: that lets
# engine.patient.fast_constructor build them (about three times faster than their __init__).
@attrs.frozen(weakref_slot=False)
class ScheduleRow:
    """One planned occurrence and what happened to it.

    `activity` is the visit name, the data item assessed or the intervention dosed;
    `activity_type` is `visit`, `assess`, `dose` or `procedure`. `occurrence` counts the
    planned occurrences of that activity from 1 in date order; `label` says which one in words
    (`screening`, `day 28`, `month 3`). `window` is (lo, hi) in protocol days, inclusive;
    `deviation_days` is signed: negative when early (days before the window opens), positive
    when late (days after it closed), 0 when on time, None otherwise. `reason` explains
    `not_applicable`, `missed` and out-of-window matches. `planned_amount` is the regimen's
    dose for dose rows (titration followed). `timing` is set on the rows of sub-day timepoints
    only: their times and their deviation in minutes (their `deviation_days` is 0 when on time
    and None otherwise: a few minutes late is not a day late).
    """

    activity: str
    activity_type: str
    occurrence: int
    label: str
    status: Status
    planned_day: int | None = None
    planned_date: datetime.date | None = None
    window: tuple[int, int] | None = None
    window_dates: tuple[datetime.date, datetime.date] | None = None
    actual_date: datetime.date | None = None
    actual_day: int | None = None
    deviation_days: int | None = None
    ref: RecordRef | None = None
    reason: str | None = None
    epoch: str | None = None
    planned_amount: int | float | None = None
    planned_unit: str | None = None
    actual_amount: int | float | None = None
    actual_unit: str | None = None
    timing: RowTiming | None = None


@attrs.frozen
class UnplannedEvent:
    """An actual visit, assessment or dose that no planned occurrence took."""

    activity: str
    activity_type: str
    date: datetime.date
    ref: RecordRef
    day: int | None = None
    reason: str | None = None


class EventRole(enum.Enum):
    """What became of an input event. Every event of a patient has exactly one role."""

    MATCHED = "matched"  # took a planned occurrence (a ScheduleRow cites it)
    UNPLANNED = "unplanned"  # a visit/assessment/dose no planned occurrence took
    ANCHOR = "anchor"  # dated an anchor (randomization, discontinuation...) or a disposition
    EVIDENCE = "evidence"  # not schedule-relevant, but cited by eligibility or a stopping rule
    NOT_SCHEDULE_RELEVANT = "not_schedule_relevant"  # a kind the schedule does not plan
    NOT_EVALUATED = "not_evaluated"  # the schedule could not be evaluated (no anchor date)


@attrs.frozen(weakref_slot=False)
class EventAccount:
    """The role of the input event `patient.events[index]`."""

    index: int
    ref: RecordRef
    event_type: str  # anchor, visit, observation, occurrence, dose, disposition
    role: EventRole
    detail: str | None = None


# ---- dosing -----------------------------------------------------------------------------------


@attrs.frozen
class DoseGap:
    """An interval without any administration longer than the protocol allows."""

    start: datetime.date  # last administration before the gap
    end: datetime.date  # next administration (or the as-of date for a trailing gap)
    days: int
    allowed_days: int
    trailing: bool = False


@attrs.frozen
class DoseMismatch:
    """An administration whose amount differs from the regimen's planned amount for that day."""

    date: datetime.date
    ref: RecordRef
    planned_amount: int | float
    planned_unit: str | None
    actual_amount: int | float
    actual_unit: str | None


@attrs.frozen
class DosingSummary:
    """Doses of one intervention for one patient.

    `planned` counts applicable planned administrations; `due` those whose window has opened
    and either closed or been used by the as-of date (statuses other than not_due and
    not_applicable); `given` the due ones that were given (on time, early or late); `extra`
    administrations matched to no planned one. `compliance` = given / due (None when nothing is
    due yet). A DoseEvent over a period (start..end) gives one administration per planned
    occurrence it covers.
    """

    intervention: str
    planned: int
    due: int
    given: int
    on_time: int
    early: int
    late: int
    missed: int
    not_applicable: int
    extra: int
    compliance: int | float | None
    longest_gap_days: int | None = None
    gaps: tuple[DoseGap, ...] = ()
    mismatches: tuple[DoseMismatch, ...] = ()
    first_date: datetime.date | None = None
    last_date: datetime.date | None = None


# ---- stopping rules ---------------------------------------------------------------------------


class StopStatus(enum.Enum):
    FIRED = "fired"  # the action took effect on `date`
    RESCINDED = "rescinded"  # an `unless retest ... falls` retest rescinded it
    PENDING = "pending"  # waiting for the rescinding retest's window to close


class RetestStatus(enum.Enum):
    DONE = "done"  # a retest within the allowed time
    LATE = "late"  # the first retest came after the allowed time
    MISSING = "missing"  # none, and the allowed time is over by the as-of date
    NOT_DUE = "not_due"  # none yet, still allowed


@attrs.frozen
class StoppingEvent:
    """A patient-level rule firing on a date, with the evidence that made it fire.

    `action` is `discontinue`, `withdraw`, `follow_up` or `retest`; `interventions` the ones
    discontinued. `source` is `rule` or `disposition` (a disposition record of the data).
    For retest actions, `retest_*` say whether the site did the owed retest; for rules with
    `unless retest ... falls`, they describe the rescinding retest.
    """

    rule: str
    date: datetime.date
    action: str
    status: StopStatus = StopStatus.FIRED
    interventions: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    source: str = "rule"
    retest_kind: str | None = None
    retest_due: datetime.date | None = None
    retest_status: RetestStatus | None = None
    retest_date: datetime.date | None = None
    retest_ref: RecordRef | None = None

    @property
    def effective(self) -> bool:
        """Whether the event changes what is due afterwards (a fired stop, not a retest)."""
        return self.status is StopStatus.FIRED and self.action in (
            "discontinue",
            "withdraw",
            "follow_up",
        )

    def kind(self, anchor_date: datetime.date | None) -> str:
        """What the event means for a reader of the report, given the patient's schedule
        anchor date: `stop` (treatment or participation stopped early: a fired discontinue,
        withdraw or follow_up on or after the anchor), `before_anchor` (a disposition before
        the anchor, or for a patient who never reached it: a screen failure stops nothing
        planned), `retest` (a retest owed, not a stop), `rescinded`, `pending`, or
        `no_effect` (any other action)."""
        if self.status is StopStatus.RESCINDED:
            return "rescinded"
        if self.status is StopStatus.PENDING:
            return "pending"
        if self.action == "retest":
            return "retest"
        if not self.effective:
            return "no_effect"
        if anchor_date is None or self.date < anchor_date:
            return "before_anchor"
        return "stop"


# ---- the whole patient ------------------------------------------------------------------------


@attrs.frozen
class PatientResult:
    """Everything the engine says about one patient, as of `as_of`."""

    id: str
    arm: str | None
    as_of: datetime.date
    eligibility: EligibilityResult
    schedule: tuple[ScheduleRow, ...]
    unplanned: tuple[UnplannedEvent, ...]
    dosing: tuple[DosingSummary, ...]
    stopping: tuple[StoppingEvent, ...]
    events: tuple[EventAccount, ...]
    errors: tuple[EvaluationError, ...] = ()
    notes: tuple[str, ...] = ()
    anchor_date: datetime.date | None = None
    ref: RecordRef | None = None

    @property
    def deviations(self) -> tuple[ScheduleRow, ...]:
        return tuple(r for r in self.schedule if r.status in DEVIATIONS)

    @property
    def review_rows(self) -> tuple[ScheduleRow, ...]:
        """The rows a data manager follows up, as the deviation listings show them: the
        deviations, and the timepoints whose timing the data cannot tell (time_unknown)."""
        return tuple(r for r in self.schedule if r.status in _REVIEW)
