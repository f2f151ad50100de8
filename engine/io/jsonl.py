"""The trialcode patient file: JSON lines, one patient per line, typed dated events.

    {"format": "trialcode.patients/1", "trial": "NCT06802718"}
    {"id": "P001", "arm": "ifn", "sex": "female", "birth_date": "1971-03-02", "events": [
      {"type": "anchor", "name": "randomization", "date": "2023-03-01"},
      {"type": "observation", "kind": "alt", "date": "2023-02-20", "value": 31, "unit": "U/L",
       "low": 7, "high": 40}, ...]}

The format is specified in docs/patient-data.md. `read_patients` streams: it holds one line at a
time (plus the set of patient ids seen, to reject duplicates), so memory does not grow with the
number of patients. Every problem becomes a `RejectedRecord` naming the file, line, event,
patient and field; a bad event is rejected alone and the rest of its patient is kept; only a line
that cannot be read at all (bad JSON, no id) is rejected whole.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

import orjson

from engine.clock import ends_before
from engine.io.dates import DateProblem, parse_iso_date, parse_iso_stamp, timepoint_code
from engine.io.vocabulary import (
    EMPTY,
    OCCURRENCE_DATA_KINDS,
    Vocabulary,
    a_or_an,
    did_you_mean,
    observation_problem,
    one_of,
)
from engine.patient import (
    DISPOSITION_EFFECTS,
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
    fast_constructor,
    stamp_text,
)
from engine.timeline import event_date
from protocol.design import DataKind
from protocol.safe_text import BIDI_ESCAPE, bidi_control, describe_char, unprintable
from protocol.trial import Trial

__all__ = [
    "FORMAT",
    "PatientFileError",
    "patient_to_json",
    "LineReader",
    "TableReader",
    "accepted_id",
    "read_patients",
    "write_patients",
]

FORMAT = "trialcode.patients/1"
FORMAT_NAME = "trialcode.patients"
VERSION = 1

SEXES = ("female", "male")
_fromiso: Final = datetime.date.fromisoformat
PATIENT_FIELDS: Final = frozenset({"id", "arm", "sex", "birth_date", "age", "collected", "events"})
HEADER_FIELDS = frozenset({"format", "trial", "collected", "created", "generator", "note"})

_COMMON: Final = frozenset({"type", "id"})
EVENT_FIELDS: Final[dict[str, frozenset[str]]] = {
    "anchor": _COMMON | {"name", "date"},
    "visit": _COMMON | {"visit", "label", "date"},
    "observation": _COMMON
    | {"kind", "date", "value", "unit", "low", "high", "detected", "visit", "attributes",
       "timepoint"},
    "dose": _COMMON | {"intervention", "start", "end", "amount", "unit", "route"},
    "disposition": _COMMON | {"status", "date", "reason", "effect"},
    "adverse_event": _COMMON
    | {"term", "grade", "start", "end", "ongoing", "related", "serious", "attributes"},
    "condition": _COMMON | {"kind", "start", "end", "ongoing", "attributes"},
    "occurrence": _COMMON | {"kind", "start", "end", "ongoing", "attributes"},
}
EVENT_TYPES = tuple(EVENT_FIELDS)
_OBSERVATION_FIELDS: Final = EVENT_FIELDS["observation"]
_DOSE_FIELDS: Final = EVENT_FIELDS["dose"]
_ATTRIBUTE_CLASSES: Final = frozenset({str, int, float, bool})  # what `_attributes` accepts
_ID_PATTERN = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
# orjson reads an integer beyond 64 bits as a float (json keeps it exact): a line with a run of
# 19 or more digits anywhere is read by json instead. (str.translate, every ASCII character but
# a digit to a space, then a substring test: much faster than a regular expression here.)
_DIGIT_RUNS = str.maketrans({chr(c): "0" if chr(c).isdigit() else " " for c in range(128)})
_LONG_RUN = "0" * 19
_orjson_loads: Final = orjson.loads
_OrjsonError: Final = orjson.JSONDecodeError

# Every field positionally, about 3x faster than the attrs constructors (see fast_constructor):
# one RecordRef and one event are built for every record read.
_new_ref: Final = fast_constructor(RecordRef)
_new_anchor: Final = fast_constructor(AnchorEvent)
_new_visit: Final = fast_constructor(VisitEvent)
_new_observation: Final = fast_constructor(Observation)
_new_dose: Final = fast_constructor(DoseEvent)
_new_disposition: Final = fast_constructor(Disposition)
_new_occurrence: Final = fast_constructor(Occurrence)


def _loads(raw: str) -> Any:
    """json.loads, by orjson when it gives the same result. Anything orjson refuses (NaN,
    Infinity, huge numbers, lone surrogates, bad JSON) goes to json, which then returns the
    same value or raises the same error json.loads would; except that an integer too large
    for a float is read as infinity (refused later as not a finite number, like `1e400`),
    and that nesting too deep for json, or a lone UTF-16 surrogate (`"\\ud800"`, not a
    character: no output could hold it), raise ValueError with a message."""
    if _LONG_RUN not in raw.translate(_DIGIT_RUNS):
        try:
            return _orjson_loads(raw)
        except _OrjsonError:
            pass
    return _json_loads(raw)


def _json_loads(raw: str, pairs: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    try:
        obj = json.loads(raw, parse_int=_parse_int, object_pairs_hook=pairs)
    except RecursionError:
        raise ValueError("values are nested too deeply") from None
    if _SURROGATE_ESCAPE.search(raw) is not None:
        escape = _lone_surrogate(obj)
        if escape is not None:
            raise ValueError(f"{escape} is half of a UTF-16 surrogate pair, not a character")
    return obj


def _parse_int(text: str) -> int | float:
    # beyond 308 digits no float holds the number, and arithmetic on it would overflow
    return int(text) if len(text) <= 300 else float(text)


# (built with chr: mypyc, which compiles this module, refuses surrogates in string literals)
_SURROGATE_FIRST: Final = chr(0xD800)
_SURROGATE_LAST: Final = chr(0xDFFF)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(obj: Any) -> str | None:
    """The escape of the first lone surrogate in any string of `obj` (keys included), or
    None. Iterative: the value may be nested as deeply as json allows."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and not value.isascii():
            for char in value:
                if _SURROGATE_FIRST <= char <= _SURROGATE_LAST:
                    return f"\\u{ord(char):04x}"
    return None


class _Duplicates:
    """Reading a line again to find keys that appear twice in one object (JSON keeps the last
    value silently, so the record says two things). `marks` maps the id of such an object to
    its first repeated key; an object holding one directly (an event whose attributes repeat
    a key) is marked too, with the path (`attributes.regimen`). The ids stay valid while the
    line is handled: its objects are alive."""

    def __init__(self) -> None:
        self.marks: dict[int, str] = {}

    def hook(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        repeated: str | None = None
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    repeated = key
                    break
                seen.add(key)
        else:
            for key, value in pairs:
                inner = self.marks.get(id(value)) if value.__class__ is dict else None
                if inner is not None:
                    repeated = f"{key}.{inner}"
                    break
        if repeated is not None:
            self.marks[id(out)] = repeated
        return out


def _key_count(obj: Any) -> int:
    """The number of keys of every object in `obj` (iteratively, like `_lone_surrogate`)."""
    n = 0
    stack = [obj]
    while stack:
        value = stack.pop()
        if value.__class__ is dict:
            n += len(value)
            for v in value.values():
                if v.__class__ is dict or v.__class__ is list:
                    stack.append(v)
        elif value.__class__ is list:
            for v in value:
                if v.__class__ is dict or v.__class__ is list:
                    stack.append(v)
    return n


def _keys_written(raw: str) -> int:
    """How many keys the text of a line holds when written as trialcode and orjson write
    JSON (a key's closing quote right before its colon): a `"` that ends a string and is
    followed by `:` ends a key, and a `"` inside a string is escaped (the `\\":` subtracted).
    Another layout (a space before the colon) counts fewer: `_key_count` then differs and the
    line is read again, slowly and exactly (see `_Reader.line`)."""
    return raw.count('":') - raw.count('\\":')


class PatientFileError(Exception):
    """The file as a whole cannot be read: missing, not a trialcode patient file, or of a format
    version this trialcode does not know. Individual bad records never raise this."""


class _Reject(Exception):
    """A field of one record is wrong; caught per record and turned into a RejectedRecord."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# ---- reading ---------------------------------------------------------------------------------


def read_patients(
    path: str | Path,
    trial: Trial | None = None,
    *,
    vocabulary: Vocabulary | None = None,
    source: str | None = None,
) -> Iterator[Patient | RejectedRecord]:
    """Stream the patients of a trialcode patient file, and a RejectedRecord for every record
    that cannot be used. With `trial`, records are also checked against the protocol: arm,
    intervention and visit names, and the data dictionary (units, categories, score ranges).

    Raises PatientFileError only when the file itself cannot be read or has no valid header.
    """
    path = Path(path)
    vocab = vocabulary or (Vocabulary.from_trial(trial) if trial is not None else EMPTY)
    try:
        handle = open_patient_file(path)
    except OSError as exc:
        raise PatientFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        yield from read_lines(handle, source or path.name, vocab)


def open_patient_file(path: Path) -> IO[str]:
    """A patient file opened for `read_lines`: UTF-8, a byte that is not UTF-8 kept (as a lone
    surrogate, errors="surrogateescape") so that its line alone is rejected, naming it."""
    return path.open("r", encoding="utf-8", errors="surrogateescape", newline="")


def read_lines(
    lines: Iterable[str], source: str, vocab: Vocabulary = EMPTY
) -> Iterator[Patient | RejectedRecord]:
    """As `read_patients`, from any iterable of lines (an open file, a list in tests)."""
    reader = _Reader(source, vocab)
    it = iter(lines)
    lineno = 0
    for raw in it:
        lineno += 1
        if raw.strip():
            reader.header(raw, lineno)
            break
    else:
        raise PatientFileError(f"{source}: the file is empty: expected a header line {_header()}")
    for raw in it:
        lineno += 1
        if not raw or raw.isspace():
            continue
        yield from reader.line(raw, lineno)


class LineReader:
    """The patient lines of a file read in pieces, for callers that split a file among
    processes (`trialcode validate --jobs`): the header is read once into each piece's reader,
    and `seen` may start with the ids of earlier pieces (id -> line), so that a piece gives
    exactly what `read_lines` gives for its lines in one pass over the file.

        reader = LineReader(source, vocab, header_line, header_lineno)  # PatientFileError
        for item in reader.read(lines, first_lineno): ...
        reader.seen   # the ids read (and those given), with their first line
    """

    def __init__(
        self,
        source: str,
        vocab: Vocabulary,
        header: str,
        header_lineno: int,
        seen: dict[str, int] | None = None,
    ):
        self._reader = _Reader(source, vocab)
        self._reader.header(header, header_lineno)
        if seen:
            self._reader.seen.update(seen)

    @property
    def seen(self) -> dict[str, int]:
        return self._reader.seen

    def read(self, lines: Iterable[str], first_lineno: int) -> Iterator[Patient | RejectedRecord]:
        """The items of consecutive lines of the file, the first of them `first_lineno`."""
        for _, item in self.read_numbered(lines, first_lineno):
            yield item

    def read_numbered(
        self, lines: Iterable[str], first_lineno: int
    ) -> Iterator[tuple[int, Patient | RejectedRecord]]:
        """As `read`, each item with the number of the line it came from."""
        line = self._reader.line
        for lineno, raw in enumerate(lines, first_lineno):
            if not raw or raw.isspace():
                continue
            for item in line(raw, lineno):
                yield lineno, item


class TableReader:
    """The reader of patients given as rows of a table (engine.io.event_table): the patient
    file's checks and messages, records cited by row. `header` is a header line's JSON (from
    the table's metadata); `seen` as for LineReader."""

    def __init__(
        self, source: str, vocab: Vocabulary, header: str, seen: dict[str, int] | None = None
    ):
        self._reader = _Reader(source, vocab)
        self._reader.header(header, 0)
        if seen:
            self._reader.seen.update(seen)

    @property
    def seen(self) -> dict[str, int]:
        return self._reader.seen

    def rows(
        self, obj: dict[str, Any], pid: str, ref: RecordRef, first_row: int, locators: list[str]
    ) -> Iterator[Patient | RejectedRecord]:
        return self._reader.rows(obj, pid, ref, first_row, locators)


def _header() -> str:
    return json.dumps({"format": FORMAT})


def _json_error(raw: str, error: ValueError) -> ValueError:
    """The error of a line without its line break: a line that ends too early is wrong at its
    end, not at "column 1" of a line after it (and a reader given lines without their breaks,
    as Spark's, words it the same)."""
    stripped = raw.rstrip("\r\n")
    if stripped != raw:
        try:
            _json_loads(stripped)
        except ValueError as exc:
            return exc
    return error


# A patient line read as a JSON object that names a patient: (the object, the patient id,
# the keys given twice (see _Duplicates), whether a bidirectional control may be in the line,
# so that its events are looked into).
_Opened = tuple[dict[str, Any], str, dict[int, str], bool]


def _open_line(raw: str, line_ref: RecordRef) -> _Opened | RejectedRecord:
    """A patient line's object and id, or the line's rejection (not UTF-8, bad JSON, no
    object, no usable id, a key of the patient given twice, a bidirectional control in a
    patient field)."""
    ascii_line = raw.isascii()
    if not ascii_line:
        undecodable = _undecodable(raw)
        if undecodable is not None:
            return RejectedRecord(
                line_ref, f"not UTF-8 text: {undecodable}; the whole line is rejected",
                _guess_id(_replace_surrogates(raw)),
            )
    try:
        obj = _loads(raw)
    except ValueError as error:
        exc = _json_error(raw, error)
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        col = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return RejectedRecord(
            line_ref, f"not valid JSON: {msg}{col}; the whole line is rejected", _guess_id(raw)
        )
    if not isinstance(obj, dict):
        return RejectedRecord(
            line_ref, "a patient line must be a JSON object {...}; the whole line is rejected"
        )
    # A key given twice in one object: JSON keeps the last value without a word. The keys
    # of the objects read are counted against the keys written in the text; only a line
    # where the two differ is read again, slowly, to find the repeated key.
    marks: dict[int, str] = {}
    if _keys_written(raw) != _key_count(obj):
        duplicates = _Duplicates()
        obj = _json_loads(raw, duplicates.hook)
        marks = duplicates.marks
    pid = obj.get("id")
    if not isinstance(pid, str) or not pid.strip():
        problem = "missing" if pid is None else f"must be a non-empty string, not {_show(pid)}"
        return RejectedRecord(
            line_ref, f"patient id {problem}; the whole line is rejected", None, "id"
        )
    odd = unprintable(pid)
    if odd is not None and odd != " ":
        return RejectedRecord(
            line_ref,
            f"patient id {_show(pid)} contains {describe_char(odd)}, which displays "
            "differently from what it is (or not at all); the whole line is rejected",
            None,
            "id",
        )
    repeated = marks.get(id(obj)) if marks else None
    if repeated is not None:
        return RejectedRecord(
            line_ref,
            f"key '{repeated}' appears twice in the patient: which value is meant is not "
            "known; the whole line is rejected",
            None if repeated == "id" else pid,
            repeated.split(".")[0],
        )
    # Bidirectional controls (U+202E...) in any value: cheap tests on the text first.
    bidi = ("\\u20" in raw and BIDI_ESCAPE.search(raw) is not None) or (
        not ascii_line and bidi_control(raw) is not None
    )
    if bidi:
        found = _bidi_in(obj, ("events",))
        if found is not None:
            return RejectedRecord(
                line_ref,
                f"{found[0]} contains {describe_char(found[1])}, an invisible control that "
                "makes text display differently from what it is; the whole line is rejected",
                pid,
                found[0],
            )
    return obj, pid, marks, bidi


_NO_REF: Final = RecordRef("", "")


def accepted_id(raw: str) -> str | None:
    """The patient id of a patient line, if the line is readable as one (the reader then keeps
    it unless the id appeared before): for callers that find repeated ids across pieces of a
    file before reading them (the Spark run)."""
    opened = _open_line(raw, _NO_REF)
    return None if isinstance(opened, RejectedRecord) else opened[1]


class _Reader:
    def __init__(self, source: str, vocab: Vocabulary):
        self.source = source
        self.vocab = vocab
        self.seen: dict[str, int] = {}
        self.collected: frozenset[str] | None = None
        self.fits: set[tuple[str, str | None, object]] = set()  # see `observation`
        # Shapes of records the careful handlers below accepted, for the fast paths: see
        # `fast_observation`. Bounded, like `fits`, in case a file has endless variety.
        # (observation and dose shapes: with their number of fields; see the fast paths)
        self.good_observations: dict[tuple[object, ...], int] = {}
        self.good_doses: dict[tuple[object, ...], int] = {}
        self.good_occurrence_kinds: set[str] = set()
        # the fast paths for observations, doses and occurrences (off only in tests, which
        # compare them with the careful handlers)
        self.fast = True
        self.events: dict[str, Callable[[dict[str, Any], RecordRef], Event]] = {
            "anchor": self.anchor,
            "visit": self.visit,
            "observation": self.observation,
            "dose": self.dose,
            "disposition": self.disposition,
            "adverse_event": self.adverse_event,
            "condition": self.condition,
            "occurrence": self.occurrence,
        }

    # -- header --

    def header(self, raw: str, lineno: int) -> None:
        where = f"{self.source} line {lineno}"
        undecodable = _undecodable(raw)
        if undecodable is not None:
            raise PatientFileError(f"{where}: the header is not UTF-8 text: {undecodable}")
        if raw.startswith("\ufeff"):  # a byte-order mark some editors write: not content
            raw = raw[1:]
        try:
            head = _loads(raw)
        except ValueError:
            head = None
        if not isinstance(head, dict) or "format" not in head:
            raise PatientFileError(
                f"{where}: not a trialcode patient file: the first line must be the header "
                f"{_header()}"
            )
        fmt = head["format"]
        if not isinstance(fmt, str) or "/" not in fmt or fmt.split("/")[0] != FORMAT_NAME:
            raise PatientFileError(f"{where}: unknown format {fmt!r}: expected '{FORMAT}'")
        version = fmt.split("/", 1)[1]
        if version != str(VERSION):
            raise PatientFileError(
                f"{where}: format version {version} is not supported by this trialcode "
                f"(it reads '{FORMAT}')"
            )
        unknown = set(head) - HEADER_FIELDS
        if unknown:
            raise PatientFileError(
                f"{where}: unknown header field '{sorted(unknown)[0]}' "
                f"(the header may have {one_of(HEADER_FIELDS)})"
            )
        if head.get("collected") is not None:
            try:
                self.collected = _collected(head["collected"])
            except _Reject as bad:
                raise PatientFileError(f"{where}: header field collected: {bad.message}") from None
        trial = head.get("trial")
        if trial is not None and self.vocab.trial is not None and trial != self.vocab.trial:
            raise PatientFileError(
                f"{where}: this file holds patients of trial '{trial}', "
                f"but the protocol is '{self.vocab.trial}'"
            )

    # -- a patient line --

    def line(self, raw: str, lineno: int) -> Iterator[Patient | RejectedRecord]:
        source = self.source
        line_ref = _new_ref(source, f"line {lineno}")
        opened = _open_line(raw, line_ref)
        if isinstance(opened, RejectedRecord):
            yield opened
            return
        obj, pid, marks, bidi = opened
        first = self.seen.get(pid)
        if first is not None:
            yield RejectedRecord(
                line_ref,
                f"patient id '{pid}' already appeared on line {first}; the whole line is rejected",
                pid,
                "id",
            )
            return
        self.seen[pid] = lineno
        yield from self.patient(obj, pid, line_ref, f"line {lineno}, event ", None, marks, bidi)

    def rows(
        self, obj: dict[str, Any], pid: str, ref: RecordRef, first_row: int, locators: list[str]
    ) -> Iterator[Patient | RejectedRecord]:
        """A patient given as rows of a table (engine.io.event_table): `obj` as a patient line
        would hold it, `locators` the row of each of its events."""
        first = self.seen.get(pid)
        if first is not None:
            yield RejectedRecord(
                ref,
                f"patient id '{pid}' already appeared at row {first}: a patient's rows must be "
                "next to each other; these rows are rejected",
                pid,
                "patient",
            )
            return
        self.seen[pid] = first_row
        # a table's strings are not text that was scanned for bidirectional controls: every
        # field and event is looked into
        found = _bidi_in(obj, ("events",))
        if found is not None:
            yield RejectedRecord(
                ref,
                f"{found[0]} contains {describe_char(found[1])}, an invisible control that "
                "makes text display differently from what it is; these rows are rejected",
                pid,
                found[0],
            )
            return
        yield from self.patient(obj, pid, ref, "", locators, {}, True)

    def patient(
        self,
        obj: dict[str, Any],
        pid: str,
        line_ref: RecordRef,
        prefix: str,
        locators: list[str] | None,
        marks: dict[int, str],
        bidi: bool,
    ) -> Iterator[Patient | RejectedRecord]:
        """The patient of a record read as a JSON object: its fields and events checked. An
        event's record is `prefix` and its number, or its entry of `locators`; `marks` and
        `bidi` as _open_line found them."""
        source = self.source
        rejected: list[RejectedRecord] = []
        for key in sorted(obj.keys() - PATIENT_FIELDS):
            rejected.append(
                RejectedRecord(
                    line_ref,
                    f"unknown patient field '{key}'{did_you_mean(key, PATIENT_FIELDS)}",
                    pid,
                    key,
                )
            )
        arm = self._patient_field(obj, "arm", self._arm, line_ref, pid, rejected)
        sex = self._patient_field(obj, "sex", _sex, line_ref, pid, rejected)
        birth = self._patient_field(obj, "birth_date", _date_value, line_ref, pid, rejected)
        age = self._patient_field(obj, "age", _age, line_ref, pid, rejected)
        collected = self.collected
        if "collected" in obj:
            collected = self._patient_field(obj, "collected", _collected, line_ref, pid, rejected)

        events: list[Event] = []
        raw_events = obj.get("events")
        if raw_events is None:
            raw_events = ()
        elif not isinstance(raw_events, list):
            rejected.append(
                RejectedRecord(
                    line_ref, f"events must be a list [...], not {_show(raw_events)}", pid, "events"
                )
            )
            raw_events = ()
        handlers = self.events
        fast = self.fast
        append = events.append
        new_ref = _new_ref
        for n, ev in enumerate(raw_events, 1):
            where = prefix + str(n) if locators is None else locators[n - 1]
            if isinstance(ev, dict):
                eid = ev.get("id")
                ref = new_ref(source, where if eid is None else f"{where} (id {eid})")
                if marks or bidi:
                    trouble = _event_problem(ev, marks, bidi)
                    if trouble is not None:
                        rejected.append(RejectedRecord(ref, trouble[1], pid, trouble[0]))
                        continue
                etype = ev.get("type")
                # A fast path first, for the usual well-formed records; when it is not sure
                # (None), the careful handler decides and words any rejection.
                # called directly, not through a dict of bound methods: compiled, that is a
                # plain C call
                event: Event | None = None
                if fast and etype.__class__ is str:
                    if etype == "observation":
                        event = self.fast_observation(ev, ref)
                    elif etype == "dose":
                        event = self.fast_dose(ev, ref)
                    elif etype == "occurrence":
                        event = self.fast_occurrence(ev, ref)
                if event is not None:
                    append(event)
                    continue
                handler = handlers.get(etype) if isinstance(etype, str) else None
                try:
                    if handler is None:
                        raise _Reject("type", _unknown_type(etype))
                    append(handler(ev, ref))
                except _Reject as bad:
                    rejected.append(RejectedRecord(ref, bad.message, pid, bad.field))
            else:
                ref = _new_ref(source, where)
                rejected.append(
                    RejectedRecord(ref, f"an event must be an object {{...}}, not {_show(ev)}", pid)
                )
        if birth is not None and events:
            # a birth after the first record (a typo in the year, a date of another field) would
            # give a negative age and a wrong verdict on an age criterion: not used, and said
            first = min(events, key=event_date)
            if event_date(first) < birth:
                rejected.append(RejectedRecord(
                    line_ref,
                    f"birth_date {birth.isoformat()} is after the patient's first record "
                    f"({event_date(first).isoformat()}, {first.ref.locator}): the birth date is "
                    "not used", pid, "birth_date"))
                birth = None
        yield Patient(pid, line_ref, arm, sex, birth, age, tuple(events), collected)
        yield from rejected

    def _patient_field(
        self,
        obj: dict[str, Any],
        name: str,
        convert: Callable[[Any], Any],
        ref: RecordRef,
        pid: str,
        rejected: list[RejectedRecord],
    ) -> Any:
        value = obj.get(name)
        if value is None:
            return None
        try:
            return convert(value)
        except _Reject as bad:
            rejected.append(RejectedRecord(ref, bad.message, pid, name))
            return None

    def _arm(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _Reject("arm", f"arm must be a string, not {_show(value)}")
        arms = self.vocab.arms
        if arms and value not in arms:
            raise _Reject(
                "arm",
                f"unknown arm '{value}'{did_you_mean(value, arms)}; the protocol's arms are "
                f"{one_of(arms)} (the patient is kept without an arm)",
            )
        return value

    # -- events --

    def anchor(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "anchor")
        date, time = _stamp(ev, "date")
        return _new_anchor(_name(ev, "name"), date, ref, time)

    def visit(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "visit")
        visit = _opt_str(ev, "visit")
        label = _opt_str(ev, "label")
        if visit is None and label is None:
            raise _Reject(
                "visit",
                "a visit needs 'visit' (the protocol's visit name) or, for a visit the protocol "
                "does not plan, a 'label'",
            )
        if visit is not None:
            self._check_visit(visit)
        date, time = _stamp(ev, "date")
        return _new_visit(visit, label or visit or "", date, ref, time)

    def _check_visit(self, visit: str) -> None:
        visits = self.vocab.visits
        if visits and visit not in visits:
            raise _Reject(
                "visit",
                f"unknown visit '{visit}'{did_you_mean(visit, visits)}; the protocol's visits are "
                f"{one_of(visits)} (leave 'visit' out and give a 'label' for an unplanned visit)",
            )

    # -- fast paths: accept only what the careful handler accepted before ---------------------
    #
    # Each careful handler remembers the shape of a record it accepted (the values its verdict
    # depends on, and the classes of the others); a fast path accepts a record only if it has a
    # remembered shape and passes the few checks that depend on the values themselves (a known
    # date, a finite number, low <= high, end >= start). It builds the very event the careful
    # handler would. Anything else returns None and goes to the careful handler. An unhashable
    # value (a list where a string belongs) raises TypeError at the shape lookup: also None.
    #
    # No unknown fields: instead of comparing the record's field names with the allowed ones
    # (the costliest check), a fast path counts the fields it read that are not null (type, id
    # and the required ones included) and requires the record to have exactly that many. Any
    # other field, allowed or not, or a field given as null, makes the count differ: then the
    # careful handler decides. For observations and doses the count is remembered with the shape.

    def fast_observation(self, ev: dict[str, Any], ref: RecordRef) -> Event | None:
        """The observation `observation` would build, or None when not sure."""
        get = ev.get
        kind = get("kind")
        value: Any = get("value")
        unit = get("unit")
        low = get("low")
        high = get("high")
        detected = get("detected")
        visit = get("visit")
        vclass = value.__class__
        shape = (kind, unit, visit, value if vclass is str else vclass, low.__class__,
                 high.__class__, detected.__class__)  # fmt: skip
        try:
            if self.good_observations.get(shape) != len(ev) - ("id" in ev):
                return None
            date = _DATES[get("date")]
        except (KeyError, TypeError):
            return None
        # x - x is 0.0 for every finite float, nan for nan and the infinities
        if (
            (vclass is float and value - value != 0.0)
            or (low.__class__ is float and low - low != 0.0)
            or (high.__class__ is float and high - high != 0.0)
            or (low is not None and high is not None and low > high)
        ):
            return None
        return _new_observation(kind, date, ref, value, unit, low, high, detected, visit, (),
                                None, None)

    def fast_dose(self, ev: dict[str, Any], ref: RecordRef) -> Event | None:
        """The dose `dose` would build, or None when not sure."""
        get = ev.get
        intervention = get("intervention")
        amount = get("amount")
        unit = get("unit")
        route = get("route")
        end = get("end")
        try:
            fields = self.good_doses.get((intervention, unit, route, amount.__class__))
            if fields != len(ev) - ("id" in ev) - (end is not None):
                return None
            start = _DATES[get("start")]
            if end is not None:
                end = _DATES[end]
        except (KeyError, TypeError):
            return None
        if (end is not None and end < start) or (
            amount is not None and (amount < 0 or amount - amount != 0.0)
        ):
            return None
        return _new_dose(intervention, start, ref, end, amount, unit, route, None, None)

    def fast_occurrence(self, ev: dict[str, Any], ref: RecordRef) -> Event | None:
        """The occurrence `occurrence` would build, or None when not sure."""
        get = ev.get
        kind = get("kind")
        end = get("end")
        ongoing = get("ongoing")
        raw_attributes = get("attributes")
        # type, kind, start (none of them null once the lookups below succeed), and the others
        fields = 3 + (end is not None) + (ongoing is not None) + (raw_attributes is not None)
        if fields != len(ev) - ("id" in ev):
            return None
        try:
            if kind not in self.good_occurrence_kinds:
                return None
            start = _DATES[get("start")]
            if end is not None:
                end = _DATES[end]
        except (KeyError, TypeError):
            return None
        if end is not None:
            if end < start or ongoing:
                return None
        if ongoing is not None and ongoing.__class__ is not bool:
            return None
        attributes: tuple[tuple[str, AttrValue], ...] = ()
        if raw_attributes is not None:
            if raw_attributes.__class__ is not dict:
                return None
            # checked before it is typed: compiled code enforces the annotation's types
            items = tuple(raw_attributes.items())
            for _, value in items:
                if value.__class__ not in _ATTRIBUTE_CLASSES or (
                    value.__class__ is float and value - value != 0.0
                ):
                    return None
            attributes = items
        return _new_occurrence(kind, start, ref, end, ongoing or False, attributes, None, None)

    # -- careful handlers ----------------------------------------------------------------------

    def observation(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        # The most frequent event: the common, valid case is checked with exact type tests
        # first; anything unusual goes through the general helpers, which raise the message.
        get = ev.get
        if not ev.keys() <= _OBSERVATION_FIELDS:
            _check_fields(ev, "observation")
        kind = get("kind")
        if kind.__class__ is not str or not kind:
            kind = _name(ev, "kind")
        date = get("date")
        date = _DATES.get(date) if date.__class__ is str else None  # the usual case: seen before
        time: ClockTime | None = None
        if date is None:
            date = _fast_date(get("date"))
            if date is None:
                date, time = _stamp(ev, "date")
        value = get("value")
        vclass = value.__class__
        if vclass is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                value = _number(value, "value")
        elif vclass is not int and vclass is not str and value is not None:
            value = _number(value, "value")
        unit = get("unit")
        if unit is not None and (unit.__class__ is not str or not unit.strip()):
            raise _Reject("unit", f"unit must be a non-empty string, not {_show(unit)}")
        low = get("low")
        if low is not None and low.__class__ is not int:
            low = _number(low, "low")
        high = get("high")
        if high is not None and high.__class__ is not int:
            high = _number(high, "high")
        if low is not None and high is not None and low > high:
            raise _Reject("low", f"reference range low {low:g} is above high {high:g}")
        detected = get("detected")
        if detected is not None and detected.__class__ is not bool:
            raise _Reject("detected", f"detected must be true or false, not {_show(detected)}")
        visit = get("visit")
        if visit is not None:
            if visit.__class__ is not str:
                raise _Reject("visit", f"visit must be a string, not {_show(visit)}")
            if visit not in self.vocab.visits:
                self._check_visit(visit)
        attributes = _attributes(ev) if "attributes" in ev else ()
        timepoint = get("timepoint")
        if timepoint is not None:
            timepoint = self._timepoint(kind, timepoint)
        item = self.vocab.items.get(kind)
        if item is not None:
            # Whether the value fits the data dictionary depends, but for scores, only on the
            # kind, the unit and the value's type (a category's: the value): remember what fits.
            key = (kind, unit, value if vclass is str else vclass)
            if key not in self.fits:
                problem = observation_problem(kind, item, value, unit)
                if problem is not None:
                    raise _Reject(*problem)
                if item.kind is not DataKind.SCORE and len(self.fits) < 10_000:
                    self.fits.add(key)
        # Accepted: remember the shape for `fast_observation`, with the number of fields a record
        # of this shape has when none is null (type, kind, date and the others given). Not for a
        # score (its range check depends on the value) nor with attributes (left to this path).
        if (
            not attributes
            and (item is None or item.kind is not DataKind.SCORE)
            and len(self.good_observations) < 10_000
        ):
            shape = (kind, unit, visit, value if vclass is str else vclass, low.__class__,
                     high.__class__, detected.__class__)  # fmt: skip
            given = (value, unit, low, high, detected, visit)
            self.good_observations[shape] = 3 + sum(v is not None for v in given)
        return _new_observation(kind, date, ref, value, unit, low, high, detected, visit, attributes,
                                time, timepoint)

    def _timepoint(self, kind: str, value: Any) -> str:
        """The code of a record's planned timepoint (`predose`, `PT30M`), checked against the
        protocol's timepoints of that item when it has any."""
        if value.__class__ is not str:
            raise _Reject("timepoint", f"timepoint must be a string such as \"PT30M\" or "
                          f"\"predose\", not {_show(value)}")
        try:
            code = timepoint_code(value)
        except DateProblem as exc:
            raise _Reject("timepoint", str(exc)) from None
        known = self.vocab.timepoints.get(kind)
        if known and code not in known:
            raise _Reject("timepoint", f"{kind} has no timepoint {code} in the protocol; its "
                          f"timepoints are {', '.join(known)}")
        return code

    def dose(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        if not ev.keys() <= _DOSE_FIELDS:
            _check_fields(ev, "dose")
        intervention = _name(ev, "intervention")
        known = self.vocab.interventions
        if known and intervention not in known:
            raise _Reject(
                "intervention",
                f"unknown intervention '{intervention}'{did_you_mean(intervention, known)}; the "
                f"protocol's interventions are {one_of(known)}",
            )
        start, start_time = _stamp(ev, "start")
        end, end_time = _end(ev, start, start_time)
        amount = _opt_number(ev, "amount")
        unit = _opt_str(ev, "unit")
        if amount is not None:
            if amount < 0:
                raise _Reject("amount", f"dose amount {amount:g} is negative")
            if unit is None:
                raise _Reject("unit", f"dose amount {amount:g} has no unit")
        route = _opt_str(ev, "route")
        if len(self.good_doses) < 10_000:
            # Accepted: remember the shape for `fast_dose`, with its number of fields when none is
            # null (type, intervention, start and the others given; `end` is counted there).
            given = 3 + sum(v is not None for v in (amount, unit, route))
            self.good_doses[(intervention, unit, route, amount.__class__)] = given
        return _new_dose(intervention, start, ref, end, amount, unit, route, start_time, end_time)

    def disposition(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "disposition")
        date, time = _stamp(ev, "date")
        return _new_disposition(_name(ev, "status"), date, ref, _opt_str(ev, "reason"),
                                _effect(ev.get("effect")), time)

    def adverse_event(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "adverse_event")
        term = _name(ev, "term")
        start, start_time = _stamp(ev, "start")
        end, end_time, ongoing = _interval_end(ev, start, start_time, "adverse event")
        attrs: list[tuple[str, AttrValue]] = [("term", term)]
        grade = ev.get("grade")
        if grade is not None:
            if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5:
                raise _Reject("grade", f"grade must be a whole number 1 to 5, not {_show(grade)}")
            attrs.append(("grade", grade))
        related = ev.get("related")
        if related is not None:
            if not isinstance(related, (str, bool)):
                raise _Reject(
                    "related",
                    f'related must name the intervention (or "none"), or be true/false, '
                    f"not {_show(related)}",
                )
            known = self.vocab.interventions
            if isinstance(related, str) and known and related not in known and related != "none":
                raise _Reject(
                    "related",
                    f"related names unknown intervention '{related}'"
                    f'{did_you_mean(related, known)}; use one of {one_of(known)}, or "none"',
                )
            attrs.append(("related", related))
        serious = ev.get("serious")
        if serious is not None:
            if not isinstance(serious, bool):
                raise _Reject("serious", f"serious must be true or false, not {_show(serious)}")
            attrs.append(("serious", serious))
        for key, value in _attributes(ev):
            if key in ("term", "grade", "related", "serious"):
                raise _Reject("attributes", f"'{key}' is a field of the adverse event itself")
            attrs.append((key, value))
        return _new_occurrence("adverse_event", start, ref, end, ongoing, tuple(attrs), start_time,
                               end_time)

    def condition(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "condition")
        kind = _name(ev, "kind")
        self._check_occurrence_kind(kind)
        start, start_time = _stamp(ev, "start")
        end, end_time, ongoing = _interval_end(ev, start, start_time, "condition")
        return _new_occurrence(kind, start, ref, end, ongoing, _attributes(ev), start_time,
                               end_time)

    def occurrence(self, ev: dict[str, Any], ref: RecordRef) -> Event:
        _check_fields(ev, "occurrence")
        kind = _name(ev, "kind")
        self._check_occurrence_kind(kind)
        start, start_time = _stamp(ev, "start")
        end, end_time = _end(ev, start, start_time)
        ongoing = _opt_bool(ev, "ongoing") or False
        if ongoing and end is not None:
            raise _Reject("ongoing", "an event cannot be ongoing and have an end date")
        attributes = _attributes(ev)
        if len(self.good_occurrence_kinds) < 10_000:  # accepted: for `fast_occurrence`
            self.good_occurrence_kinds.add(kind)
        return _new_occurrence(kind, start, ref, end, ongoing, attributes, start_time, end_time)

    def _check_occurrence_kind(self, kind: str) -> None:
        item = self.vocab.items.get(kind)
        if item is not None and item.kind not in OCCURRENCE_DATA_KINDS:
            raise _Reject(
                "kind",
                f"{kind} is declared as {a_or_an(item.kind.value)} in the protocol: write it as an "
                "observation event",
            )


# ---- field helpers ---------------------------------------------------------------------------


def _check_fields(ev: dict[str, Any], etype: str) -> None:
    allowed = EVENT_FIELDS[etype]
    extra = ev.keys() - allowed
    if extra:
        key = sorted(extra)[0]
        raise _Reject(
            key,
            f"unknown field '{key}' for a{'n' if etype[0] in 'aeiou' else ''} {etype} event"
            f"{did_you_mean(key, allowed)}",
        )


def _unknown_type(etype: Any) -> str:
    if etype is None:
        return f"the event has no type; it must be one of {', '.join(EVENT_TYPES)}"
    if not isinstance(etype, str):
        return f"event type must be a string, not {_show(etype)}"
    return f"unknown event type '{etype}'{did_you_mean(etype, EVENT_TYPES)}; known types are {', '.join(EVENT_TYPES)}"


def _name(ev: dict[str, Any], key: str) -> str:
    value = ev.get(key)
    if isinstance(value, str) and value.strip():
        return value
    if value is None:
        raise _Reject(key, f"'{key}' is missing")
    raise _Reject(key, f"{key} must be a non-empty string, not {_show(value)}")


def _opt_str(ev: dict[str, Any], key: str) -> str | None:
    value = ev.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _Reject(key, f"{key} must be a string, not {_show(value)}")


def _opt_bool(ev: dict[str, Any], key: str) -> bool | None:
    value = ev.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _Reject(key, f"{key} must be true or false, not {_show(value)}")


def _number(value: Any, key: str) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            what = "NaN" if math.isnan(value) else "a number too large to hold"
            raise _Reject(key, f"{key} must be a finite number, not {what}")
        return value
    raise _Reject(key, f"{key} must be a number, not {_show(value)}")


def _opt_number(ev: dict[str, Any], key: str) -> int | float | None:
    value = ev.get(key)
    return None if value is None else _number(value, key)


# Date-times read so far, with their dates and times of day (a cohort's times repeat too).
_STAMPS: Final[dict[Any, tuple[datetime.date, ClockTime | None]]] = {}

# Dates read so far (a trial's dates repeat a lot). Typed with Any keys: the fast paths look up
# whatever value a record has, and a non-string simply is not there.
_DATES: Final[dict[Any, datetime.date]] = {}


def _fast_date(text: Any) -> datetime.date | None:
    """The date of a plain `YYYY-MM-DD`, or None for anything else (then `_date` explains)."""
    if text.__class__ is str:
        hit = _DATES.get(text)
        if hit is not None:
            return hit
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                hit = _fromiso(text)
            except ValueError:
                return None
            if len(_DATES) >= 100_000:
                _DATES.clear()
            _DATES[text] = hit
            return hit
    return None


def _stamp(ev: dict[str, Any], key: str) -> tuple[datetime.date, ClockTime | None]:
    """The date and time of day (None for a plain date) of a date field."""
    value = ev.get(key)
    fast = _fast_date(value)
    if fast is not None:
        return fast, None
    if value is None:
        raise _Reject(key, f"'{key}' is missing")
    hit = _STAMPS.get(value) if value.__class__ is str else None
    if hit is not None:
        return hit
    try:
        stamp = parse_iso_stamp(value)
    except DateProblem as exc:
        raise _Reject(key, f"unparseable date: {exc}") from None
    if len(_STAMPS) >= 100_000:
        _STAMPS.clear()
    _STAMPS[value] = stamp
    return stamp


def _date_value(value: Any) -> datetime.date:
    try:
        return parse_iso_date(value)
    except DateProblem as exc:
        raise _Reject(None, f"unparseable date: {exc}") from None


def _end(ev: dict[str, Any], start: datetime.date, start_time: ClockTime | None
         ) -> tuple[datetime.date | None, ClockTime | None]:
    if ev.get("end") is None:
        return None, None
    end, end_time = _stamp(ev, "end")
    if end < start or (end == start and ends_before(start_time, end_time)):
        raise _Reject("end", f"end {stamp_text(end, end_time)} is before start "
                      f"{stamp_text(start, start_time)}")
    return end, end_time


def _interval_end(
    ev: dict[str, Any], start: datetime.date, start_time: ClockTime | None, what: str
) -> tuple[datetime.date | None, ClockTime | None, bool]:
    end, end_time = _end(ev, start, start_time)
    ongoing = _opt_bool(ev, "ongoing")
    if end is not None:
        if ongoing:
            raise _Reject("ongoing", f"the {what} is marked ongoing but has an end date")
        return end, end_time, False
    if ongoing is None:
        raise _Reject(
            "end",
            f'the {what} has no end date: give "end" (the start date for a one-day {what}) or '
            '"ongoing": true',
        )
    if not ongoing:
        return None, None, False
    return None, None, True


def _attributes(ev: dict[str, Any]) -> tuple[tuple[str, AttrValue], ...]:
    raw = ev.get("attributes")
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _Reject("attributes", f"attributes must be an object {{...}}, not {_show(raw)}")
    out: list[tuple[str, AttrValue]] = []
    for key, value in raw.items():
        if not isinstance(value, (str, int, float, bool)):
            raise _Reject(
                "attributes",
                f"attribute '{key}' must be a string, number or true/false, not {_show(value)}",
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise _Reject("attributes", f"attribute '{key}' must be a finite number")
        out.append((key, value))
    return tuple(out)


def _effect(value: Any) -> str | None:
    if value is None or value in DISPOSITION_EFFECTS:
        return value
    allowed = ", ".join(f'"{e}"' for e in DISPOSITION_EFFECTS)
    raise _Reject("effect", f"effect must be one of {allowed}, not {_show(value)}")


def _sex(value: Any) -> str:
    if value in SEXES:
        return str(value)
    raise _Reject("sex", f'sex must be "female" or "male", not {_show(value)}')


def _age(value: Any) -> int | float:
    age = _number(value, "age")
    if age < 0 or age > 130:
        raise _Reject("age", f"age {age:g} is not a plausible age in years")
    return age


def _collected(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Reject(
            "collected", f'collected must be a list of data kinds ["alt", ...], not {_show(value)}'
        )
    return frozenset(value)


def _event_problem(ev: dict[str, Any], marks: dict[int, str], bidi: bool) -> tuple[str, str] | None:
    """A key given twice in the event, or a bidirectional control in one of its values:
    (field, message), or None."""
    repeated = marks.get(id(ev))
    if repeated is not None:
        return (
            repeated.split(".")[0],
            f"field '{repeated}' is given twice in the event: which value is meant is not known",
        )
    if bidi:
        found = _bidi_in(ev, ())
        if found is not None:
            return (
                found[0],
                f"{found[0]} contains {describe_char(found[1])}, an invisible control that makes "
                "text display differently from what it is",
            )
    return None


def _bidi_in(obj: dict[str, Any], skip: tuple[str, ...]) -> tuple[str, str] | None:
    """(the key path, the character) of the first bidirectional control in a key or string
    of `obj` (its keys in `skip` not looked into), or None."""
    stack: list[tuple[str, Any]] = [(k, v) for k, v in obj.items() if k not in skip]
    stack.reverse()
    while stack:
        path, value = stack.pop()
        char = bidi_control(path)
        if char is None and isinstance(value, str):
            char = bidi_control(value)
        if char is not None:
            return path, char
        if isinstance(value, dict):
            stack.extend(reversed([(f"{path}.{k}", v) for k, v in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([(path, v) for v in value]))
    return None


def _undecodable(raw: str) -> str | None:
    """Where a line that was not UTF-8 has a byte that is not (the file is read with
    errors="surrogateescape", which keeps such a byte as a lone surrogate), or None."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(raw[exc.start])
        what = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        return (
            f"{what} at column {exc.start + 1} is not UTF-8 (a file in Latin-1 or Windows-1252? "
            "save it as UTF-8)"
        )
    return None


def _replace_surrogates(raw: str) -> str:
    return "".join("\ufffd" if _SURROGATE_FIRST <= c <= _SURROGATE_LAST else c for c in raw)


def _guess_id(raw: str) -> str | None:
    match = _ID_PATTERN.search(raw)
    return match.group(1) if match else None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "a list"
    return "an object"


# ---- writing ---------------------------------------------------------------------------------


def _iso(d: datetime.date | None, time: ClockTime | None = None) -> str | None:
    return None if d is None else stamp_text(d, time)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def event_to_json(event: Event) -> dict[str, Any]:
    """The JSON object of one event (the inverse of reading it; the record ref is not kept)."""
    if isinstance(event, AnchorEvent):
        return {"type": "anchor", "name": event.name, "date": stamp_text(event.date, event.time)}
    if isinstance(event, VisitEvent):
        out: dict[str, Any] = {"type": "visit"}
        if event.visit is not None:
            out["visit"] = event.visit
        if event.label and event.label != event.visit:
            out["label"] = event.label
        out["date"] = stamp_text(event.date, event.time)
        return out
    if isinstance(event, Observation):
        out = {"type": "observation", "kind": event.kind,
               "date": stamp_text(event.date, event.time)}
        out.update(
            _drop_none(
                {
                    "value": event.value,
                    "unit": event.unit,
                    "low": event.low,
                    "high": event.high,
                    "detected": event.detected,
                    "visit": event.visit,
                }
            )
        )
        if event.attributes:
            out["attributes"] = dict(event.attributes)
        if event.timepoint is not None:
            out["timepoint"] = event.timepoint
        return out
    if isinstance(event, DoseEvent):
        return {
            "type": "dose",
            **_drop_none(
                {
                    "intervention": event.intervention,
                    "start": stamp_text(event.start, event.start_time),
                    "end": _iso(event.end, event.end_time),
                    "amount": event.amount,
                    "unit": event.unit,
                    "route": event.route,
                }
            ),
        }
    if isinstance(event, Disposition):
        return {
            "type": "disposition",
            **_drop_none(
                {"status": event.status, "date": stamp_text(event.date, event.time),
                 "reason": event.reason,
                 "effect": event.effect}
            ),
        }
    assert isinstance(event, Occurrence)
    attrs = dict(event.attributes)
    if event.kind == "adverse_event":
        out = {"type": "adverse_event", "term": attrs.pop("term", "")}
        for key in ("grade", "related", "serious"):
            if key in attrs:
                out[key] = attrs.pop(key)
    else:
        # Written as the generic type: `condition` only adds the check that the end is stated.
        out = {"type": "occurrence", "kind": event.kind}
    out["start"] = stamp_text(event.start, event.start_time)
    if event.end is not None:
        out["end"] = stamp_text(event.end, event.end_time)
    elif out["type"] == "adverse_event" or event.ongoing:
        out["ongoing"] = event.ongoing
    if attrs:
        out["attributes"] = attrs
    return out


def patient_to_json(patient: Patient) -> dict[str, Any]:
    """The JSON object of one patient line."""
    out: dict[str, Any] = {"id": patient.id}
    if patient.arm is not None:
        out["arm"] = patient.arm
    if patient.sex is not None:
        out["sex"] = patient.sex
    if patient.birth_date is not None:
        out["birth_date"] = patient.birth_date.isoformat()
    if patient.age is not None:
        out["age"] = patient.age
    if patient.collected is not None:
        out["collected"] = sorted(patient.collected)
    out["events"] = [event_to_json(e) for e in patient.events]
    return out


def write_patients(
    target: str | Path | IO[str],
    patients: Iterable[Patient],
    *,
    trial: str | None = None,
    generator: str | None = None,
) -> int:
    """Write a trialcode patient file (header line, then one patient per line). Streams: takes
    any iterable. Returns the number of patients written."""
    if isinstance(target, (str, Path)):
        with Path(target).open("w", encoding="utf-8", newline="\n") as handle:
            return write_patients(handle, patients, trial=trial, generator=generator)
    header: dict[str, Any] = {"format": FORMAT}
    if trial:
        header["trial"] = trial
    if generator:
        header["generator"] = generator
    target.write(json.dumps(header) + "\n")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    n = 0
    for patient in patients:
        target.write(dumps(patient_to_json(patient)))
        target.write("\n")
        n += 1
    return n


def dumps_patients(patients: Iterable[Patient], **kwargs: Any) -> str:
    """The text of a patient file (for tests and small data)."""
    buffer = io.StringIO()
    write_patients(buffer, patients, **kwargs)
    return buffer.getvalue()
