"""The engine's entry points: evaluate one patient, or stream many, against a protocol model.

    plan = compile_trial(trial)                        # once per protocol
    result = evaluate(plan, patient, as_of)            # -> PatientResult
    summary = Summary(trial)
    for item in evaluate_all(plan, patients, as_of, summary=summary):
        ...                                            # PatientResult or RejectedRecord

`evaluate`/`evaluate_all` also accept a Trial and compile it themselves (evaluate_all once for
the whole stream; evaluate caches the last few trials it compiled). The engine never imports the
protocol language's parser: it takes a `protocol.Trial`.

`as_of` is the data cut: planned occurrences whose window has not closed by then are `not_due`,
and no event after it is used. None means today's date; pass it explicitly for reproducible runs.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator

from engine.compiled import CompiledTrial, compile_trial
from engine.patient import Patient, RejectedRecord
from engine.results import PatientResult
from engine.summary import Summary
from protocol.trial import Trial

__all__ = ["CompiledTrial", "Summary", "compile_trial", "evaluate", "evaluate_all"]

_CACHE: dict[int, tuple[Trial, CompiledTrial]] = {}


def _compiled(trial: Trial | CompiledTrial) -> CompiledTrial:
    if isinstance(trial, CompiledTrial):
        return trial
    hit = _CACHE.get(id(trial))
    if hit is not None and hit[0] is trial:
        return hit[1]
    compiled = compile_trial(trial)
    if len(_CACHE) >= 8:
        _CACHE.clear()
    _CACHE[id(trial)] = (trial, compiled)
    return compiled


def evaluate(
    trial: Trial | CompiledTrial,
    patient: Patient,
    as_of: datetime.date | None = None,
) -> PatientResult:
    """Evaluate one patient: eligibility, schedule conformance, dosing and stopping rules."""
    compiled = _compiled(trial)
    return compiled.evaluate(patient, as_of or datetime.date.today())


def evaluate_all(
    trial: Trial | CompiledTrial,
    patients: Iterable[Patient | RejectedRecord],
    as_of: datetime.date | None = None,
    *,
    summary: Summary | None = None,
) -> Iterator[PatientResult | RejectedRecord]:
    """Stream results: a PatientResult per Patient; RejectedRecords are passed through as they
    come, so the report can list them. With `summary`, every item is also added to it.

    Holds one patient at a time: memory does not grow with the number of patients.
    """
    compiled = _compiled(trial)
    day = as_of or datetime.date.today()
    run = compiled.evaluate
    for item in patients:
        out: PatientResult | RejectedRecord = item if isinstance(item, RejectedRecord) else run(item, day)
        if summary is not None:
            summary.add(out)
        yield out
