"""Small builders for the monitoring tests: protocol models made by hand (no parser) and
interim data written as JSON text, the way a user writes it."""

from __future__ import annotations

import json
from typing import Any

from engine.interim_data import InterimData, parse_interim_data
from protocol.design import Arm
from protocol.expr import BoolLiteral
from protocol.stopping import (
    BayesianStop,
    BinomialStop,
    BoundaryFamily,
    EfficacyBound,
    FutilityBound,
    InterimRule,
    SafetyMethod,
    SafetyRule,
    SprtStop,
    Stopping,
    StoppingRule,
)
from protocol.trial import Trial
from protocol.vocab import ArmType

SOURCE = "interim.json"


def trial(
    *rules: StoppingRule,
    enrollment: int | None = 96,
    arms: tuple[str, ...] = ("ifn", "control"),
    ratio: tuple[int, ...] = (),
) -> Trial:
    arm_models = tuple(
        Arm(name, name.capitalize(), ArmType.EXPERIMENTAL if i == 0 else ArmType.NO_INTERVENTION)
        for i, name in enumerate(arms)
    )
    return Trial(
        name="T1",
        enrollment=enrollment,
        arms=arm_models,
        allocation_ratio=ratio,
        stopping=Stopping(rules=rules),
    )


def interim(
    name: str = "rfs",
    family: str = "obrien_fleming",
    *,
    param: float | None = None,
    alpha: float = 0.05,
    sides: int = 2,
    information: tuple[float, ...] = (0.5, 1.0),
    events: int | None = None,
    futility: str | None = None,
    futility_param: float | None = None,
    beta: float = 0.1,
    binding: bool = False,
) -> InterimRule:
    fut = None
    if futility is not None:
        fut = FutilityBound(BoundaryFamily(futility, futility_param), beta, binding)
    return InterimRule(
        name=name,
        efficacy=EfficacyBound(BoundaryFamily(family, param), alpha, sides),
        information=information,
        label="Relapse-free survival",
        planned_events=events,
        futility=fut,
    )


def safety(
    name: str = "grade4", method: SafetyMethod | None = None, arms: tuple[str, ...] = ("ifn",)
) -> SafetyRule:
    return SafetyRule(
        name=name,
        event=BoolLiteral(True),
        method=method if method is not None else BayesianStop(0.2, 0.9, 1.0, 1.0),
        label="Grade 4 toxicity",
        arms=arms,
    )


BAYES = BayesianStop(0.2, 0.9, 1.0, 1.0)
BINOMIAL = BinomialStop(0.1, 0.05)
SPRT = SprtStop(0.1, 0.3, 0.05, 0.2, 40)


def data(obj: dict[str, Any] | None = None, **sections: Any) -> InterimData:
    body: dict[str, Any] = {"format": "trialcode.interim/1"}
    body.update(obj or {})
    body.update(sections)
    return parse_interim_data(json.dumps(body), SOURCE)


def looks(*pairs: tuple[float, float], key: str = "information") -> dict[str, Any]:
    """``{"looks": [{"information": t, "z": z}, ...]}``."""
    return {"looks": [{key: t, "z": z} for t, z in pairs]}
