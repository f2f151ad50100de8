"""Whether each interim rule's group sequential design can be solved, remembered between runs.

`trialcode check` reports a design that cannot be solved as an error (engine/interim_design.py),
which needs numpy and scipy and the solver: about 0.5 s of import and some solving at every
check of a protocol with interim rules. The verdicts depend only on the rule (the information
fractions, families, parameters, alpha, beta, sides, binding, sample-size assumptions), on the
enrolment, allocation, arms and calendar the sample size uses, and on the solver's code, so
they are kept in the user's cache folder (protocol/cache.py) in a file named after a digest of
the solver's sources: an edited solver starts a new file. A damaged file is ignored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from protocol.errors import Diagnostic, Severity
from protocol.serialize import to_data
from protocol.stopping import InterimRule
from protocol.trial import Trial


def design_errors(trial: Trial) -> tuple[Diagnostic, ...]:
    """engine.interim_design.design_diagnostics(trial), from the cache where it can be: an
    error for a design or sample size that cannot be computed, a warning for a sample size
    beyond the planned enrolment or events."""
    rules = trial.stopping.interim_rules
    if not rules:
        return ()
    path = _verdicts_file()
    known = _load(path)
    keys = [_key(trial, rule) for rule in rules]
    if any(key not in known for key in keys):
        from engine.interim_design import rule_verdicts

        for rule, key in zip(rules, keys, strict=True):
            if key not in known:
                known[key] = [list(v) for v in rule_verdicts(trial, rule)]
        if path is not None:
            from protocol.cache import write_atomically

            write_atomically(path, json.dumps(known, sort_keys=True))
    out = []
    for rule, key in zip(rules, keys, strict=True):
        for severity, message, hint, where in known[key]:
            span = rule.sample_size.span if where == "sample_size" and rule.sample_size \
                else rule.span
            out.append(Diagnostic(Severity.ERROR if severity == "error" else Severity.WARNING,
                                  message, span, hint))
    return tuple(out)


def _key(trial: Trial, rule: InterimRule) -> str:
    """Everything the verdicts depend on: the rule (families, numbers, sample-size
    assumptions) and, for the sample size, the enrolment, the allocation, the arms' types and
    the calendar."""
    cal = trial.calendar
    parts: list[Any] = [to_data(rule), trial.enrollment, list(trial.allocation_ratio),
                        [a.type.value for a in trial.arms],
                        [cal.days_per_week, cal.days_per_month, cal.days_per_year]]
    return json.dumps(parts, sort_keys=True)


def _verdicts_file() -> Path | None:
    from protocol.cache import cache_folder

    folder = cache_folder()
    spec = importlib.util.find_spec("engine")
    if folder is None or spec is None or not spec.submodule_search_locations:
        return None
    engine = Path(next(iter(spec.submodule_search_locations)))
    digest = hashlib.sha256()
    for source in [engine / "interim_design.py", *sorted((engine / "stats").glob("*.py"))]:
        try:
            digest.update(source.read_bytes())
        except OSError:
            return None
    return folder / f"designs-{digest.hexdigest()[:16]}.json"


def _load(path: Path | None) -> dict[str, list[list[Any]]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and _verdicts(v)}


def _verdicts(value: Any) -> bool:
    """A list of [severity, message, hint or null, where], as rule_verdicts writes them."""
    return isinstance(value, list) and all(
        isinstance(v, list) and len(v) == 4 and v[0] in ("error", "warning")
        and isinstance(v[1], str) and (v[2] is None or isinstance(v[2], str))
        and v[3] in ("rule", "sample_size")
        for v in value)


__all__ = ["design_errors"]
