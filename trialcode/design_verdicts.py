"""Whether each interim rule's group sequential design can be solved, remembered between runs.

`trialcode check` reports a design that cannot be solved as an error (engine/interim_design.py),
which needs numpy and scipy and the solver: about 0.5 s of import and some solving at every
check of a protocol with interim rules. The verdict depends only on the rule's numbers (the
information fractions, families, parameters, alpha, beta, sides, binding) and on the solver's
code, so it is kept in the user's cache folder (protocol/cache.py) in a file named after a
digest of the solver's sources: an edited solver starts a new file. A damaged file is ignored.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from protocol.errors import Diagnostic
from protocol.stopping import InterimRule
from protocol.trial import Trial


def design_errors(trial: Trial) -> tuple[Diagnostic, ...]:
    """engine.interim_design.design_diagnostics(trial), from the cache where it can be."""
    rules = trial.stopping.interim_rules
    if not rules:
        return ()
    path = _verdicts_file()
    known = _load(path)
    keys = [_key(rule) for rule in rules]
    if any(key not in known for key in keys):
        from engine.interim_design import design_error

        for rule, key in zip(rules, keys, strict=True):
            if key not in known:
                known[key] = design_error(rule)
        if path is not None:
            from protocol.cache import write_atomically

            write_atomically(path, json.dumps(known, sort_keys=True))
    out = []
    for rule, key in zip(rules, keys, strict=True):
        reason = known[key]
        if reason is not None:
            from engine.interim_design import design_diagnostic

            out.append(design_diagnostic(rule, reason))
    return tuple(out)


def _key(rule: InterimRule) -> str:
    eff, fut = rule.efficacy, rule.futility
    parts: list[Any] = [list(rule.information), eff.family.name, eff.family.parameter,
                        eff.alpha, eff.sides]
    if fut is not None:
        parts += [fut.family.name, fut.family.parameter, fut.beta, fut.binding]
    return json.dumps(parts)


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


def _load(path: Path | None) -> dict[str, str | None]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and (v is None or isinstance(v, str))}


__all__ = ["design_errors"]
