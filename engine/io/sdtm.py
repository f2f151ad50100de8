"""CDISC SDTM datasets (a folder of `.xpt` SAS transport files or `.csv` files) into Patients.

Domains read: DM (the patients), SV (visits), EX (doses), LB, VS, QS, PC, EG (observations, with
the planned sub-day timepoint of a timed item from --ELTM/--TPT/--TPTNUM, and derived
sums such as the MMSE total), DS (+SUPPDS) (disposition and anchors) and AE (adverse events).
A small TOML mapping file names things as the protocol does: arm codes, visit numbers, test
codes, treatments, disposition terms (see docs/patient-data.md and
examples/cdiscpilot01/sdtm-map.toml).

Every source row is accounted for: it becomes (or contributes to) an event, or it is rejected
with a reason naming the subject, the dataset row and the variable, or it is ignored with an
explicit reason (a test code the map does not ask for). `SdtmLoad.accounting` holds the counts
per dataset and `rows == used + rejected + ignored` always holds.

Conventions (documented in docs/patient-data.md):
* dates are ISO 8601; a time of day is dropped; a partial date (`2013-12`) is rejected, never
  imputed, because the protocol's windows are day-precise;
* study days: SDTM `--DY` has no day 0 (RFSTDTC is day 1); trialcode counts from dates, so the
  loader never reads `--DY` (see engine.io.dates for the conversions).
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from engine.io.dates import DateProblem, parse_elapsed, parse_iso_stamp, timepoint_code
from engine.io.sdtm_map import (
    DerivedSum,
    MapError,
    SdtmMap,
    load_map,
    map_from_dict,
    number_text,
)
from engine.io.sdtm_read import (
    DOMAINS,
    FINDINGS,
    BadRow,
    Need,
    Row,
    SdtmError,
    SdtmStructureError,
    column_problems,
    dataset_files,
    not_a_number,
    read_columns,
    read_dataset,
    twice,
)
from engine.io.sdtm_read import number as _num
from engine.io.sdtm_read import text as _text
from engine.io.vocabulary import (
    EMPTY,
    Vocabulary,
    did_you_mean,
    observation_problem,
)
from engine.patient import (
    AnchorEvent,
    AttrValue,
    ClockTime,
    Disposition,
    DoseEvent,
    Event,
    Observation,
    Occurrence,
    Patient,
    RecordRef,
    RejectedRecord,
    VisitEvent,
)
from protocol.safe_text import describe_char, unprintable
from protocol.timing import PREDOSE
from protocol.trial import Trial
from protocol.vocab import DataKind

__all__ = [
    "DOMAINS",
    "DomainCount",
    "MapError",
    "SdtmError",
    "SdtmStructureError",
    "SdtmLoad",
    "SdtmMap",
    "load_map",
    "load_sdtm",
    "map_from_dict",
    "read_sdtm",
]

# Data kinds whose results are numbers: a findings dataset they come from needs --STRESN.
_NUMERIC_KINDS = (DataKind.LAB, DataKind.VITAL, DataKind.SCORE)
_SEX = {"F": "female", "M": "male"}
_NOT_RECOVERED = ("NOT RECOVERED/NOT RESOLVED", "RECOVERING/RESOLVING", "UNKNOWN", "")
_DAILY = ("QD", "BID", "TID", "QID", "Q24H", "Q12H", "Q8H", "Q6H", "EVERY DAY", "DAILY")


# ---- the result ------------------------------------------------------------------------------


@attrs.define
class DomainCount:
    """What became of the rows of one dataset."""

    dataset: str
    rows: int = 0
    used: int = 0
    rejected: int = 0
    ignored: dict[str, int] = attrs.field(factory=dict)
    # Rejected records naming this dataset. Not `rejected` (rows): a value of a row that is
    # still used (DM.RFXENDTC empty, the patient evaluated without that date) is a rejected
    # record too, and the rows of one derived value (the six MMSE items) are rejected together.
    rejected_records: int = 0

    @property
    def ignored_total(self) -> int:
        return sum(self.ignored.values())

    @property
    def balanced(self) -> bool:
        return self.rows == self.used + self.rejected + self.ignored_total

    def ignore(self, reason: str, n: int = 1) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + n


@attrs.define
class SdtmLoad:
    """Everything loaded from a folder: patients, rejected records, and the row accounting."""

    patients: list[Patient]
    rejected: list[RejectedRecord]
    accounting: dict[str, DomainCount]
    not_read: list[str]
    events: int

    def __iter__(self) -> Iterator[Patient | RejectedRecord]:
        yield from self.patients
        yield from self.rejected


# ---- reading datasets ------------------------------------------------------------------------


class _RowError(Exception):
    def __init__(self, var: str, message: str):
        super().__init__(message)
        self.var = var
        self.message = message


def _date(row: Row, var: str, required: bool = True) -> datetime.date | None:
    stamp = _stamp(row, var, required)
    return None if stamp is None else stamp[0]


def _stamp(row: Row, var: str, required: bool = True
           ) -> tuple[datetime.date, ClockTime | None] | None:
    """The date and time of day of a `--DTC` variable (None when empty and not required)."""
    text = _text(row, var)
    if not text:
        if required:
            raise _RowError(var, f"{var} is empty: the record has no date")
        return None
    try:
        return parse_iso_stamp(text)
    except DateProblem as exc:
        raise _RowError(var, f"{var}: {exc}") from None


def _required(row: Row, var: str) -> tuple[datetime.date, ClockTime | None]:
    stamp = _stamp(row, var)
    assert stamp is not None
    return stamp


# ---- the loader ------------------------------------------------------------------------------


def read_sdtm(
    folder: str | Path, mapping: SdtmMap | None = None, trial: Trial | None = None
) -> Iterator[Patient | RejectedRecord]:
    """Patients and rejected records from an SDTM folder (same interface as read_patients)."""
    yield from load_sdtm(folder, mapping, trial)


def load_sdtm(
    folder: str | Path, mapping: SdtmMap | None = None, trial: Trial | None = None
) -> SdtmLoad:
    """Load an SDTM folder. With `trial`, the map is checked against the protocol (MapError) and
    observations against its data dictionary (rejected records)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SdtmError(f"{folder}: not a folder of SDTM datasets")
    mapping = mapping or SdtmMap()
    vocab = EMPTY
    if trial is not None:
        mapping.check(trial)
        vocab = Vocabulary.from_trial(trial)
        if not mapping.visits and trial.schedule is not None:
            # Visits that state their SDTM visit number in the protocol (`number 4`) need no map.
            numbers = {
                float(n): v.name
                for v in trial.schedule.visits
                if (n := getattr(v, "number", None)) is not None
            }
            if numbers:
                mapping = attrs.evolve(mapping, visits=numbers)
    return _Loader(folder, mapping, vocab).run()


class _Loader:
    def __init__(self, folder: Path, mapping: SdtmMap, vocab: Vocabulary):
        self.folder = folder
        self.map = mapping
        self.vocab = vocab
        self.files = dataset_files(folder)
        self.columns: dict[str, frozenset[str]] = {}  # file name -> its variables
        # (file name, variable) -> the first row message caused by the variable's absence
        self.missing: dict[tuple[str, str], str] = {}
        self.events: dict[str, list[Event]] = defaultdict(list)
        self.rejected: list[RejectedRecord] = []
        self.accounting: dict[str, DomainCount] = {}
        self.subjects: dict[str, Row] = {}
        self.ds_reasons: dict[tuple[str, str], str] = {}
        self.seen_kinds: set[str] = set()
        self.ds_matched: dict[tuple[str, str], str] = {}
        self.collected: frozenset[str] = frozenset()

    def run(self) -> SdtmLoad:
        if not self.files.get("DM"):
            raise SdtmError(
                f"{self.folder}: no DM dataset (dm.xpt or dm.csv): the patients come from DM"
            )
        self._structure()
        patients_rows = self._dm()
        if not any(self._count(path).rows for path in self.files["DM"]):
            names = " and ".join(p.name for p in self.files["DM"])
            raise SdtmStructureError(
                self.folder, [f"{names}: DM has no rows: the patients come from DM"])
        self._suppds()
        for dom, handler in (
            ("SV", self._sv),
            ("EX", self._ex),
            ("DS", self._ds),
            ("AE", self._ae),
        ):
            for path in self.files.get(dom, ()):
                self._each_row(path, dom, handler)
        for dom in FINDINGS:
            for path in self.files.get(dom, ()):
                self._findings(path, dom)
        self.collected = frozenset(self._collected())
        patients = [self._patient(row, ref) for row, ref in patients_rows]
        if self.missing:
            # rows rejected for a variable the dataset does not have: one problem per dataset
            # and variable, not one rejected record per row
            raise SdtmStructureError(self.folder, [
                f"{name}: the variable {var} is missing (every row that needs it would be "
                f"rejected; the first: {message})"
                for (name, var), message in sorted(self.missing.items())])
        not_read = sorted(p.name for k, v in self.files.items() if k.startswith("?") for p in v)
        for r in self.rejected:
            count = self.accounting.get(r.ref.source)
            if count is not None:
                count.rejected_records += 1
        n_events = sum(len(p.events) for p in patients)
        return SdtmLoad(patients, self.rejected, self.accounting, not_read, n_events)

    def _collected(self) -> set[str]:
        """The data kinds these datasets can hold at all: a kind not among them was not
        collected, so `any`/`latest` over it is unknown rather than false."""
        kinds: set[str] = set(self.seen_kinds)
        for dom in FINDINGS:
            if self.files.get(dom):
                for rules in self.map.tests.get(dom, {}).values():
                    kinds.update(r.item for r in rules)
                kinds.update(d.kind for d in self.map.derived if d.domain == dom)
        if self.files.get("AE"):
            kinds.add("adverse_event")
        return kinds

    # -- bookkeeping --

    def _count(self, path: Path) -> DomainCount:
        if path.name not in self.accounting:
            self.accounting[path.name] = DomainCount(path.name)
        return self.accounting[path.name]

    def _reject(self, ref: RecordRef, message: str, subject: str | None, var: str | None) -> None:
        columns = self.columns.get(ref.source)
        if var is not None and columns is not None and var not in columns:
            self.missing.setdefault((ref.source, var), message)
        self.rejected.append(RejectedRecord(ref, message, subject or None, var))

    def _rows(self, path: Path, count: DomainCount, seq: str | None) -> Iterator[
            tuple[int, Row, RecordRef]]:
        """The readable rows of a dataset, numbered as in the file, each with its reference;
        every row is counted, and a row that cannot be read is rejected here."""
        dataset = read_dataset(path)
        self.columns[path.name] = frozenset(dataset.columns)
        for n, row in enumerate(dataset.rows, 1):
            count.rows += 1
            if isinstance(row, BadRow):
                count.rejected += 1
                self.rejected.append(RejectedRecord(
                    self._ref(path, n, row.values, seq), row.problem,
                    _text(row.values, "USUBJID") or None, row.variable))
                continue
            yield n, row, self._ref(path, n, row, seq)

    def _structure(self) -> None:
        """Every structural problem of the folder's datasets, from their headers, before a
        row is read: SdtmStructureError listing them all."""
        problems = twice(self.files)
        for dom, paths in self.files.items():
            if dom.startswith("?"):
                continue
            for path in paths:
                try:
                    columns = read_columns(path)
                except SdtmError as exc:
                    problems.append(str(exc))
                    continue
                problems += column_problems(path.name, columns, self._needs(dom))
        if problems:
            raise SdtmStructureError(self.folder, problems)

    def _needs(self, dom: str) -> list[Need]:
        """The variables a dataset of domain `dom` must have for the loader and the map."""
        needs = [Need(("USUBJID",), "the subject of each row")]
        if dom == "DM":
            for rule in self.map.anchors:
                if rule.dm is not None:
                    needs.append(Need((rule.dm,), f"the {rule.name} date, [anchors.{rule.name}]"))
            if self.map.arms:
                needs.append(Need((self.map.arm_variable,), "the arm code, [arms] of the map"))
        elif dom == "SV":
            needs += [Need(("VISITNUM",), "the visit number"), Need(("SVSTDTC",), "the date")]
        elif dom == "EX":
            needs += [Need(("EXTRT",), "the treatment"), Need(("EXSTDTC",), "the date")]
        elif dom == "DS":
            needs += [Need(("DSDECOD", "DSTERM"), "the disposition"),
                      Need(("DSSTDTC",), "the date")]
        elif dom == "AE":
            needs += [Need((self.map.ae_term, "AETERM"), "the term"),
                      Need(("AESTDTC",), "the start date")]
        elif dom == "SUPPDS":
            needs += [Need((var,), "the qualifier") for var in ("IDVAR", "IDVARVAL", "QVAL")]
        elif dom in FINDINGS:
            needs += [Need((f"{dom}TESTCD",), "the test code"),
                      Need((f"{dom}DTC",), "the date of the result"),
                      Need((f"{dom}STRESN", f"{dom}STRESC"), "the standardized result")]
            numeric = self._numeric_items(dom)
            if numeric:
                needs.append(Need((f"{dom}STRESN",), f"the numeric results of {numeric}"))
        return needs

    def _numeric_items(self, dom: str) -> str:
        """The protocol's numeric items that the map reads from `dom`, as text ("" if none)."""
        names = {d.kind for d in self.map.derived if d.domain == dom}
        for rules in self.map.tests.get(dom, {}).values():
            for rule in rules:
                item = self.vocab.item(rule.item)
                if item is not None and item.kind in _NUMERIC_KINDS:
                    names.add(rule.item)
        shown = sorted(names)
        return ", ".join(shown[:4]) + (", ..." if len(shown) > 4 else "")

    @staticmethod
    def _ref(path: Path, n: int, row: Row, seq: str | None) -> RecordRef:
        if seq:
            value = _text(row, seq)
            if value.endswith(".0") and value[:-2].isdigit():
                value = value[:-2]  # CSV numbers: LBSEQ 41.0 is LBSEQ 41
            if value:
                return RecordRef(path.name, f"row {n} ({seq} {value})")
        return RecordRef(path.name, f"row {n}")

    def _each_row(self, path: Path, dom: str, handler: Any) -> None:
        count = self._count(path)
        seq = f"{dom}SEQ"
        for _n, row, ref in self._rows(path, count, seq):
            subject = _text(row, "USUBJID")
            if subject not in self.subjects:
                count.rejected += 1
                self._reject(
                    ref,
                    f"USUBJID '{subject}' is not in DM: the row belongs to no known subject",
                    subject,
                    "USUBJID",
                )
                continue
            try:
                result = handler(row, ref, subject)
            except _RowError as err:
                count.rejected += 1
                self._reject(ref, err.message, subject, err.var)
                continue
            if isinstance(result, str):
                count.ignore(result)
            else:
                count.used += 1
                self.events[subject].extend(result)

    # -- DM --

    def _dm(self) -> list[tuple[Row, RecordRef]]:
        out: list[tuple[Row, RecordRef]] = []
        for path in self.files["DM"]:
            count = self._count(path)
            for n, row, ref in self._rows(path, count, None):
                subject = _text(row, "USUBJID")
                if not subject:
                    count.rejected += 1
                    self._reject(
                        ref, "USUBJID is empty: the subject cannot be named", None, "USUBJID"
                    )
                    continue
                if subject in self.subjects:
                    count.rejected += 1
                    self._reject(
                        ref, f"USUBJID '{subject}' appears twice in DM", subject, "USUBJID"
                    )
                    continue
                odd = unprintable(subject)
                if odd is not None and odd != " ":
                    count.rejected += 1
                    self._reject(
                        ref, f"USUBJID contains {describe_char(odd)}, which displays differently "
                        "from what it is (or not at all): the subject is not read", None, "USUBJID"
                    )
                    continue
                count.used += 1
                self.subjects[subject] = row
                out.append((row, RecordRef(path.name, f"row {n} (USUBJID {subject})")))
        return out

    def _patient(self, row: Row, ref: RecordRef) -> Patient:
        subject = _text(row, "USUBJID")
        events = self.events.get(subject, [])
        arm = self._arm(row, ref, subject)
        sex = _SEX.get(_text(row, "SEX"))
        if sex is None and _text(row, "SEX") not in ("", "U", "UNDIFFERENTIATED"):
            self._reject(ref, f"SEX '{_text(row, 'SEX')}' is not M or F", subject, "SEX")
        age = _num(row, "AGE")
        unit = _text(row, "AGEU").upper()
        shown = not_a_number(row, "AGE")
        if shown is not None:
            self._reject(ref, f"AGE '{shown}' is not a number: the age is not used", subject,
                         "AGE")
        elif age is not None and not 0 <= age <= 130:
            self._reject(ref, f"AGE {age:g} is not a plausible age in years: the age is not used",
                         subject, "AGE")
            age = None
        if age is not None and unit not in ("", "YEARS", "YEAR"):
            self._reject(ref, f"AGE is in {unit}, not YEARS: the age is not used", subject, "AGEU")
            age = None
        birth: datetime.date | None = None
        if _text(row, "BRTHDTC") and len(_text(row, "BRTHDTC")) >= 10:
            try:
                birth = _date(row, "BRTHDTC")
            except _RowError as err:
                self._reject(ref, err.message, subject, err.var)
        anchors: list[Event] = []
        for rule in self.map.anchors:
            if rule.dm is None:
                continue
            if rule.ds_condition and (subject, rule.name) not in self.ds_matched:
                continue
            try:
                stamp = _stamp(row, rule.dm, required=False)
            except _RowError as err:
                self._reject(ref, f"{err.message} (the {rule.name} date)", subject, err.var)
                continue
            if stamp is not None:
                anchors.append(AnchorEvent(
                    rule.name, stamp[0], RecordRef(ref.source, f"{ref.locator} {rule.dm}"),
                    stamp[1]))
            elif rule.ds_condition:
                why = self.ds_matched[(subject, rule.name)]
                self._reject(
                    ref,
                    f"{rule.dm} is empty: the subject's disposition is {why} but there is no "
                    f"{rule.name} date",
                    subject,
                    rule.dm,
                )
            elif arm is not None:
                self._reject(
                    ref,
                    f"{rule.dm} is empty: subject has arm '{arm}' but no {rule.name} date",
                    subject,
                    rule.dm,
                )
        all_events = anchors + _first_anchor_only(events)
        all_events.sort(key=_event_date)
        if birth is not None and all_events and _event_date(all_events[0]) < birth:
            first = all_events[0]
            self._reject(
                ref,
                f"BRTHDTC {birth.isoformat()} is after the subject's first record "
                f"({_event_date(first).isoformat()}, {first.ref}): the birth date is not used",
                subject,
                "BRTHDTC",
            )
            birth = None
        return Patient(subject, ref, arm, sex, birth, age, tuple(all_events), self.collected)

    def _arm(self, row: Row, ref: RecordRef, subject: str) -> str | None:
        var = self.map.arm_variable
        code = _text(row, var)
        if not self.map.arms:
            return code or None
        if code in self.map.arms:
            return self.map.arms[code]
        self._reject(
            ref,
            f"unknown arm code {var} '{code}'{did_you_mean(code, self.map.arms)}: add it to "
            f"[arms] in the map (the subject is kept without an arm)",
            subject,
            var,
        )
        return None

    # -- SUPPDS: qualifiers of disposition records --

    def _suppds(self) -> None:
        for path in self.files.get("SUPPDS", ()):
            count = self._count(path)
            for _n, row, _ref in self._rows(path, count, None):
                if _text(row, "IDVAR") != "DSSEQ":
                    count.ignore(f"IDVAR {_text(row, 'IDVAR')!r} (only DSSEQ qualifiers are read)")
                    continue
                key = (_text(row, "USUBJID"), _text(row, "IDVARVAL"))
                label = _text(row, "QLABEL") or _text(row, "QNAM")
                self.ds_reasons[key] = f"{label}: {_text(row, 'QVAL')}"
                count.used += 1

    # -- SV, EX, DS, AE --

    def _visit(self, row: Row) -> str | None:
        num = _num(row, "VISITNUM")
        return None if num is None else self.map.visits.get(num)

    def _sv(self, row: Row, ref: RecordRef, subject: str) -> list[Event] | str:
        _check_number(row, "VISITNUM")
        date, time = _required(row, "SVSTDTC")
        label = _text(row, "VISIT") or f"VISITNUM {_text(row, 'VISITNUM')}"
        return [VisitEvent(self._visit(row), label, date, ref, time)]

    def _ex(self, row: Row, ref: RecordRef, subject: str) -> list[Event] | str:
        trt = _text(row, "EXTRT")
        if self.map.interventions:
            if trt not in self.map.interventions:
                raise _RowError(
                    "EXTRT",
                    f"EXTRT '{trt}' is not in [interventions] of the map"
                    f"{did_you_mean(trt, self.map.interventions)}",
                )
            intervention = self.map.interventions[trt]
        else:
            intervention = trt.lower()
        start, start_time = _required(row, "EXSTDTC")
        end_stamp = _stamp(row, "EXENDTC", required=False)
        end, end_time = end_stamp if end_stamp is not None else (None, None)
        freq = _text(row, "EXDOSFRQ").upper()
        if end is None and freq in _DAILY:
            raise _RowError(
                "EXENDTC",
                f"EXENDTC is empty: the end of this {freq} dosing period from {start.isoformat()} "
                "is not known (trialcode does not impute it)",
            )
        if end is not None and end < start:
            raise _RowError(
                "EXENDTC", f"EXENDTC {end.isoformat()} is before EXSTDTC {start.isoformat()}"
            )
        _check_number(row, "EXDOSE")
        amount = _num(row, "EXDOSE")
        if amount is not None and amount < 0:
            raise _RowError("EXDOSE", f"EXDOSE {amount:g} is negative")
        unit = _text(row, "EXDOSU") or None
        if amount is not None and unit is None:
            raise _RowError("EXDOSU", f"EXDOSE {amount:g} has no unit")
        route = _text(row, "EXROUTE").lower() or None
        return [DoseEvent(intervention, start, ref, end, amount, unit, route, start_time,
                          end_time)]

    def _ds(self, row: Row, ref: RecordRef, subject: str) -> list[Event] | str:
        decod = _text(row, "DSDECOD")
        category = _text(row, "DSCAT")
        date, time = _required(row, "DSSTDTC")
        status = self.map.disposition.get(decod) or _snake(decod or _text(row, "DSTERM"))
        if not status:
            raise _RowError("DSDECOD", "DSDECOD and DSTERM are empty: the disposition is unknown")
        reason = _text(row, "DSTERM") or None
        extra = self.ds_reasons.get((subject, _text(row, "DSSEQ")))
        if extra:
            reason = f"{reason} ({extra})" if reason else extra
        out: list[Event] = [
            Disposition(status, date, ref, reason, self.map.disposition_effects.get(decod), time)]
        for rule in self.map.anchors:
            if rule.ds_condition and rule.matches(decod, category):
                if rule.dm is None:
                    out.append(AnchorEvent(rule.name, date, ref, time))
                else:
                    self.ds_matched.setdefault((subject, rule.name), f"'{decod}'")
        return out

    def _ae(self, row: Row, ref: RecordRef, subject: str) -> list[Event] | str:
        term = _text(row, self.map.ae_term) or _text(row, "AETERM")
        if not term:
            raise _RowError(self.map.ae_term, "the adverse event has no term")
        start, start_time = _required(row, "AESTDTC")
        end_stamp = _stamp(row, "AEENDTC", required=False)
        end, end_time = end_stamp if end_stamp is not None else (None, None)
        outcome = _text(row, "AEOUT")
        ongoing = False
        if end is None:
            if outcome.upper() not in _NOT_RECOVERED:
                raise _RowError(
                    "AEENDTC",
                    f"AEENDTC is empty but AEOUT is '{outcome}': the end of the event is unknown",
                )
            ongoing = True
        elif end < start:
            raise _RowError(
                "AEENDTC", f"AEENDTC {end.isoformat()} is before AESTDTC {start.isoformat()}"
            )
        attrs_: list[tuple[str, AttrValue]] = [("term", term)]
        _check_number(row, "AETOXGR")
        toxgr = _num(row, "AETOXGR")
        severity = _text(row, "AESEV")
        if toxgr is not None:
            if toxgr not in (1, 2, 3, 4, 5):
                raise _RowError("AETOXGR", f"AETOXGR {toxgr:g} is not a grade 1 to 5")
            attrs_.append(("grade", int(toxgr)))
        elif severity and self.map.ae_grade:
            if severity not in self.map.ae_grade:
                raise _RowError(
                    "AESEV", f"AESEV '{severity}' is not in [adverse_events.grade] of the map"
                )
            attrs_.append(("grade", self.map.ae_grade[severity]))
        if severity:
            attrs_.append(("severity", severity.lower()))
        rel = _text(row, "AEREL")
        if rel and self.map.ae_related:
            if rel not in self.map.ae_related:
                raise _RowError(
                    "AEREL", f"AEREL '{rel}' is not in [adverse_events.related] of the map"
                )
            attrs_.append(("related", self.map.ae_related[rel]))
        elif rel:
            attrs_.append(("related", rel.lower()))
        if rel:
            attrs_.append(("causality", rel.lower()))
        ser = _text(row, "AESER")
        if ser in ("Y", "N"):
            attrs_.append(("serious", ser == "Y"))
        if outcome:
            attrs_.append(("outcome", outcome.lower()))
        return [Occurrence("adverse_event", start, ref, end, ongoing, tuple(attrs_), start_time,
                           end_time)]

    # -- LB, VS, QS --

    def _findings(self, path: Path, dom: str) -> None:
        count = self._count(path)
        codes = self.map.tests.get(dom)
        derived = [d for d in self.map.derived if d.domain == dom]
        derived_items = {item: d for d in derived for item in d.items}
        groups: dict[tuple[str, str, float | None], list[tuple[int, Row, RecordRef]]] = defaultdict(
            list
        )
        seq = f"{dom}SEQ"
        for n, row, ref in self._rows(path, count, seq):
            subject = _text(row, "USUBJID")
            if subject not in self.subjects:
                count.rejected += 1
                self._reject(ref, f"USUBJID '{subject}' is not in DM", subject, "USUBJID")
                continue
            code = _text(row, f"{dom}TESTCD")
            used = False
            if code in derived_items:
                d = derived_items[code]
                groups[(subject, d.kind, _num(row, "VISITNUM"))].append((n, row, ref))
                used = True
            kind: str | None = None
            if codes is None:
                kind = code.lower()
                self.seen_kinds.add(kind)
            elif code not in codes:
                if not used:
                    count.ignore(f"{dom}TESTCD {code} is not mapped in [tests.{dom}]")
                continue
            else:
                rules = codes[code]
                kind = next((r.item for r in rules if r.matches(row)), None)
                if kind is None:
                    if not used:
                        shown = ", ".join(f"{var} {_text(row, var)!r}" for var, _ in rules[0].when)
                        count.ignore(f"{dom}TESTCD {code} with {shown}: not selected by the map")
                    continue
            try:
                self.events[subject].append(self._observation(row, ref, dom, kind))
            except _RowError as err:
                self._reject(ref, err.message, subject, err.var)
                if not used:  # a row that also feeds a derived sum is counted there
                    count.rejected += 1
                continue
            if not used:
                count.used += 1
        for (subject, kind, _visitnum), rows in groups.items():
            spec = next(d for d in derived if d.kind == kind)
            self._derive(path, dom, spec, subject, rows, count)

    def _observation(self, row: Row, ref: RecordRef, dom: str, kind: str) -> Observation:
        date, time = _required(row, f"{dom}DTC")
        # the numeric result; when it is empty, the character result (a category, a "<3.42")
        result = f"{dom}STRESN"
        _check_number(row, result)
        value: float | str | None = _num(row, result)
        if value is None:
            result = f"{dom}STRESC"
            value = _text(row, result) or None
        unit = _text(row, f"{dom}STRESU") or None
        if unit is not None:
            unit = self.map.units.get(unit, unit)
        status = _text(row, f"{dom}STAT")
        if status and value is not None:
            raise _RowError(f"{dom}STAT", f"{dom}STAT is '{status}' but a result is given")
        low = _check_number(row, f"{dom}STNRLO")
        high = _check_number(row, f"{dom}STNRHI")
        if low is not None and high is not None and low > high:
            raise _RowError(f"{dom}STNRLO",
                            f"{dom}STNRLO {low:g} is above {dom}STNRHI {high:g}")
        item = self.vocab.item(kind)
        if item is not None:
            problem = observation_problem(kind, item, value, unit)
            if problem is not None:
                field, message = problem
                var = {"value": result, "unit": f"{dom}STRESU"}.get(field, f"{dom}TESTCD")
                if field == "value":  # say which variable held the value
                    empty = f" ({dom}STRESN is empty)" if result.endswith("STRESC") else ""
                    message = f"{var}: {message}{empty}"
                raise _RowError(var, message)
        attrs_: list[tuple[str, AttrValue]] = []
        for var, name in (("VSPOS", "position"), ("VSTPT", "timepoint"), ("VSLOC", "location")):
            text = _text(row, var) if dom == "VS" else ""
            if text:
                attrs_.append((name, text.lower()))
        timepoint = None
        known = self.vocab.timepoints.get(kind)
        if known:  # an item the protocol times: the record's planned timepoint, if it says
            timepoint = self._timepoint(row, dom, kind, known)
            reference = _text(row, f"{dom}TPTREF")
            if reference:
                attrs_.append(("timepoint_reference", reference))
        return Observation(
            kind, date, ref, value, unit, low, high, None, self._visit(row), tuple(attrs_), time,
            timepoint,
        )

    def _timepoint(self, row: Row, dom: str, kind: str, known: tuple[str, ...]) -> str | None:
        """The protocol timepoint a record was taken for: the map's entry for its --TPTNUM or
        --TPT, else its --ELTM (a negative one is the pre-dose sample), else a --TPT saying
        pre-dose; None when the record names none. A named timepoint the protocol does not
        have for the item is an error."""
        tpt, num = _text(row, f"{dom}TPT"), number_text(_text(row, f"{dom}TPTNUM"))
        eltm = _text(row, f"{dom}ELTM")
        var, code = "", None
        if num and num in self.map.timepoints:
            var, code = f"{dom}TPTNUM", self.map.timepoints[num]
        elif tpt and tpt in self.map.timepoints:
            var, code = f"{dom}TPT", self.map.timepoints[tpt]
        elif eltm:
            var = f"{dom}ELTM"
            try:
                minutes = parse_elapsed(eltm)
            except DateProblem as exc:
                raise _RowError(var, f"{var}: {exc}") from None
            code = timepoint_code(eltm)
            if minutes < 0 and code not in known and PREDOSE in known:
                code = PREDOSE  # planned before the dose: the pre-dose sample
        elif tpt:
            var = f"{dom}TPT"
            try:
                code = timepoint_code(tpt)
            except DateProblem:
                raise _RowError(var, f"{var} '{tpt}' names no timepoint: give {dom}ELTM, or "
                                "map it in [timepoints] of the map") from None
        if code is not None and code not in known:
            shown = "'" + {f"{dom}TPTNUM": num, f"{dom}ELTM": eltm}.get(var, tpt) + "'"
            raise _RowError(var, f"{var} {shown} is timepoint {code}, which {kind} does not have "
                            f"in the protocol; its timepoints are {', '.join(known)}")
        return code

    def _derive(
        self,
        path: Path,
        dom: str,
        spec: DerivedSum,
        subject: str,
        rows: list[tuple[int, Row, RecordRef]],
        count: DomainCount,
    ) -> None:
        seqs = [_text(r, f"{dom}SEQ") for _, r, _ in rows]
        nums = [n for n, _, _ in rows]
        locator = f"rows {_ranges(nums)} ({dom}SEQ {_ranges_text(seqs)}): {spec.kind} = sum of {', '.join(spec.items)}"
        ref = RecordRef(path.name, locator)
        visit_label = _text(rows[0][1], "VISIT") or _text(rows[0][1], "VISITNUM")

        def fail(var: str, message: str) -> None:
            count.rejected += len(rows)
            self._reject(
                ref, f"{spec.kind} at {visit_label} cannot be derived: {message}", subject, var
            )

        by_code: dict[str, list[Row]] = defaultdict(list)
        for _, row, _ in rows:
            by_code[_text(row, f"{dom}TESTCD")].append(row)
        missing = [c for c in spec.items if c not in by_code]
        if missing:
            fail(
                f"{dom}TESTCD",
                f"item {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
            )
            return
        twice = [c for c in spec.items if len(by_code[c]) > 1]
        if twice:
            fail(f"{dom}TESTCD", f"item {twice[0]} is recorded {len(by_code[twice[0]])} times")
            return
        total = 0.0
        dates = set()
        times = set()
        for code in spec.items:
            row = by_code[code][0]
            value = _num(row, f"{dom}STRESN")
            if value is None:
                fail(f"{dom}STRESN", f"item {code} has no numeric result")
                return
            total += value
            try:
                day, time = _required(row, f"{dom}DTC")
                dates.add(day)
                times.add(time)
            except _RowError as err:
                fail(err.var, f"item {code}: {err.message}")
                return
        if len(dates) != 1:
            shown = ", ".join(sorted(d.isoformat() for d in dates if d))
            fail(f"{dom}DTC", f"the items are dated differently ({shown})")
            return
        date = dates.pop()
        assert date is not None
        item = self.vocab.item(spec.kind)
        if item is not None:
            problem = observation_problem(spec.kind, item, total, None)
            if problem is not None:
                fail(f"{dom}STRESN", problem[1])
                return
        # the items' time of day when they share one (a sum of items taken at different
        # times of the day has only their common date)
        self.events[subject].append(
            Observation(spec.kind, date, ref, total, None, visit=self._visit(rows[0][1]),
                        time=times.pop() if len(times) == 1 else None)
        )
        count.used += len(rows)


def _check_number(row: Row, var: str) -> float | None:
    """A numeric variable's value (None when empty); _RowError when it is given but is not a
    finite number (`EXDOSE 'fifty'`), instead of the value vanishing."""
    shown = not_a_number(row, var)
    if shown is not None:
        raise _RowError(var, f"{var} '{shown}' is not a number")
    return _num(row, var)


def _first_anchor_only(events: list[Event]) -> list[Event]:
    """Anchors taken from DS: one per name, the earliest (the DS records themselves all stay)."""
    first: dict[str, AnchorEvent] = {}
    for e in events:
        if isinstance(e, AnchorEvent) and (e.name not in first or e.date < first[e.name].date):
            first[e.name] = e
    return [e for e in events if not isinstance(e, AnchorEvent) or first[e.name] is e]


def _event_date(event: Event) -> datetime.date:
    return event.start if isinstance(event, (Occurrence, DoseEvent)) else event.date


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _ranges(nums: list[int]) -> str:
    """`1-6` for consecutive numbers, else `1, 3, 5`."""
    nums = sorted(nums)
    if nums and nums == list(range(nums[0], nums[0] + len(nums))):
        return f"{nums[0]}-{nums[-1]}" if len(nums) > 1 else str(nums[0])
    return ", ".join(str(n) for n in nums)


def _ranges_text(values: list[str]) -> str:
    try:
        return _ranges([int(float(v)) for v in values])
    except ValueError:
        return ", ".join(values)
