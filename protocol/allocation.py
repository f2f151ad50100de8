"""Allocation arithmetic shared by the engine (monitoring) and the renderer (stopping tables):
how many planned patients a set of arms gets under the protocol's allocation ratio."""

from __future__ import annotations

from protocol.stopping import SafetyRule
from protocol.trial import Trial


def allocation_ratio(trial: Trial) -> tuple[int, ...] | None:
    """The stated allocation ratio, one part per arm in arm order (None when not stated)."""
    r = trial.allocation_ratio
    if not r or len(r) != len(trial.arms) or any(p < 1 for p in r):
        return None
    return r


def arm_share(trial: Trial, arms: tuple[str, ...] | list[str]) -> int | float:
    """The fraction of participants allocated to `arms`: from the stated ratio, else equal shares."""
    if not trial.arms:
        return 1.0
    r = allocation_ratio(trial) or tuple(1 for _ in trial.arms)
    parts = {a.name: p for a, p in zip(trial.arms, r, strict=True)}
    return sum(parts.get(a, 0) for a in arms) / sum(r)


def monitored_patients(trial: Trial, rule: SafetyRule) -> int | None:
    """Patients a safety rule monitors at most: the planned enrolment, or the covered arms' share
    of it under the allocation ratio (equal shares when none is stated), rounded down. None when
    the trial states no enrolment."""
    if trial.enrollment is None:
        return None
    if not rule.arms or not trial.arms:
        return trial.enrollment
    # The epsilon keeps an exact share (48.0) from rounding down through float error.
    return int(trial.enrollment * arm_share(trial, rule.arms) + 1e-9)
