"""The engine: evaluate patients against a protocol model (eligibility, schedule conformance,
dosing, patient stopping rules) and trial-level statistics (engine.stats).

    from engine import compile_trial, evaluate, evaluate_all, Summary

The entry points are loaded lazily so that `import engine.stats` does not pay for them.
"""

from typing import Any

from engine import native

# Before any engine module is imported: run the compiled modules only if they match their
# sources (engine/native.py).
native.activate()

__all__ = ["CompiledTrial", "PatientResult", "Summary", "compile_trial", "evaluate", "evaluate_all"]


def __getattr__(name: str) -> Any:
    if name in ("CompiledTrial", "Summary", "compile_trial", "evaluate", "evaluate_all"):
        from engine import api

        return getattr(api, name)
    if name == "PatientResult":
        from engine.results import PatientResult

        return PatientResult
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
