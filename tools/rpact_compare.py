"""trialcode against rpact: every design and sample size of the reference fixture.

    .venv/bin/python tools/rpact_compare.py [FIXTURE.json]

prints the validation table of docs/statistics.md: for each quantity, how many values were
compared and the largest difference (absolute for Z bounds and probabilities, relative for
sample sizes, events, times and factors). tests/stats/test_rpact_reference.py runs the same
comparison and holds each difference under its tolerance. The fixture is written by
tools/rpact_reference.R, where R and rpact are installed; this script needs neither.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.stats import GroupSequentialDesign, group_sequential_design  # noqa: E402
from engine.stats.samplesize import (  # noqa: E402
    SampleSize,
    hazard_from_median,
    hazard_from_rate,
    means_sample_size,
    one_proportion_sample_size,
    survival_sample_size,
    two_proportions_sample_size,
)

FIXTURE = ROOT / "tests" / "stats" / "fixtures" / "rpact_reference.json"

#: rpact typeOfDesign / typeBetaSpending -> engine.stats family
EFFICACY = {"OF": "obf", "P": "pocock", "WT": "wang-tsiatis", "HP": "haybittle-peto",
            "asOF": "ld-obf", "asP": "ld-pocock", "asKD": "power", "asHSD": "hsd",
            "asUser": "user", "PT": "pampallona-tsiatis"}
FUTILITY = {"bsHSD": "hsd", "bsOF": "ld-obf", "bsKD": "power", "bsP": "ld-pocock",
            "bsUser": "user", "z": "z", "PT": "pampallona-tsiatis"}


@dataclass
class Difference:
    """The largest difference found for one quantity."""

    quantity: str
    relative: bool
    count: int = 0
    worst: float = 0.0
    where: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, ours: Iterable[float] | float, theirs: Any, where: str) -> None:
        if isinstance(theirs, tuple):  # a pair of scalars; rpact's [] is a value it did not give
            theirs = [None if v == [] else v for v in theirs]
        expected = _list(theirs)
        if not expected:  # rpact reports nothing (e.g. expected sample sizes when K = 1)
            return
        for a, b in zip(_list(ours), expected, strict=True):
            if math.isnan(b):  # rpact's NA: nothing to compare
                continue
            d = abs(a - b) / (abs(b) if self.relative else 1.0)
            self.count += 1
            if not d <= self.worst:  # also catches NaN
                self.worst, self.where = d, where


def _list(x: Any) -> list[float]:
    """Numbers as a flat list (jsonlite writes a vector of one as a bare number, NA as null)."""
    if isinstance(x, list | tuple):
        return [v for item in x for v in _list(item)]
    return [math.nan if x is None else float(x)]


def design_of(rec: dict[str, Any]) -> GroupSequentialDesign:
    kw: dict[str, Any] = dict(alpha=rec["alpha"], sides=rec["sided"], beta=rec["beta"],
                              efficacy=EFFICACY[rec["type"]], efficacy_param=rec["param"])
    if rec["type"] == "asUser":
        kw.update(efficacy_param=None, efficacy_spending=_list(rec["userAlpha"]))
    fut = rec["betaSpending"]
    if fut != "none":
        kw.update(futility=FUTILITY[fut], binding=rec["binding"])
        if fut == "z":
            kw["futility_bounds"] = _list(rec["futilityZ"])
        elif fut == "bsUser":
            kw["futility_spending"] = _list(rec["userBeta"])
        else:
            kw["futility_param"] = rec["gammaB"]
    return group_sequential_design(_list(rec["informationRates"]), **kw)


def _two_sided_futility(rec: dict[str, Any]) -> bool:
    return rec["sided"] == 2 and rec["betaSpending"] != "none"


def survival_of(design: GroupSequentialDesign, i: dict[str, Any]) -> SampleSize:
    def dropout(rate: float) -> float:
        return hazard_from_rate(rate, i["dropoutTime"]) if rate else 0.0

    return survival_sample_size(
        design, hazard_ratio=i["hazardRatio"], allocation=i["allocationRatioPlanned"],
        hazard_control=hazard_from_median(i["median2"]), accrual_time=i["accrualTime"],
        follow_up_time=i["followUpTime"], dropout_control=dropout(i["dropoutRate2"]),
        dropout_experimental=dropout(i["dropoutRate1"]))


def rates_of(design: GroupSequentialDesign, i: dict[str, Any]) -> SampleSize:
    if i["groups"] == 2:
        return two_proportions_sample_size(design, experimental=i["pi1"], control=i["pi2"],
                                           allocation=i["allocationRatioPlanned"])
    return one_proportion_sample_size(design, expected=i["pi1"], reference=i["thetaH0"])


def means_of(design: GroupSequentialDesign, i: dict[str, Any]) -> SampleSize:
    return means_sample_size(design, difference=i["alternative"], sd=i["stDev"],
                             allocation=i["allocationRatioPlanned"],
                             normal=i["normalApproximation"])


def _upper_only(values: Sequence[float], s: SampleSize) -> float:
    """rpact's expectation over the looks under H1 for a two-sided design: it counts upper
    crossings and futility stops, not lower crossings (left to the last look)."""
    p = [u + f for u, f in zip(s.h1.reject_upper, s.h1.futility, strict=True)]
    p[-1] = 1.0 - sum(p[:-1])
    return sum(a * b for a, b in zip(p, values, strict=True))


QUANTITIES = (
    ("efficacy bounds (Z)", False), ("futility bounds (Z)", False),
    ("cumulative power", False), ("inflation factor", True),
    ("expected information H0, H1 / fixed", True),
    ("survival: events, fixed and maximum", True), ("survival: events at each look", True),
    ("survival: expected events H0, H1", True), ("survival: patients", True),
    ("survival: expected time of each look", True), ("survival: patients at each look", True),
    ("survival: expected patients and duration H1", True),
    ("rates: patients, fixed and maximum", True), ("rates: expected patients H0, H1", True),
    ("means: patients, fixed and maximum", True), ("means: expected patients H0, H1", True),
)


def compare(fixture: Path = FIXTURE) -> tuple[dict[str, Any], dict[str, Difference]]:
    """Compare every record of the fixture; returns the fixture and the differences."""
    ref = json.loads(fixture.read_text(encoding="utf-8"))
    out = {name: Difference(name, rel) for name, rel in QUANTITIES}
    for rec in ref["designs"]:
        where = f"design {rec['id']}"
        d = design_of(rec)
        out["efficacy bounds (Z)"].add(d.efficacy, rec["criticalValues"], where)
        if rec["futilityBounds"]:
            # rpact leaves out (NA) a two-sided futility bound of 0: no futility stop there
            out["futility bounds (Z)"].add(d.futility[:-1], rec["futilityBounds"], where)
        out["cumulative power"].add(d.cumulative_power, rec["power"], where)
        out["inflation factor"].add(d.inflation_factor, rec["inflationFactor"], where)
        out["expected information H0, H1 / fixed"].add(
            (d.expected_information_h0, d.expected_information_h1),
            (rec["averageSampleNumber0"], rec["averageSampleNumber1"]), where)
        for n, c in enumerate(rec["survival"], start=1):
            w = f"{where}, survival case {n}"
            s = survival_of(d, c["input"])
            rec_ = s.recruitment
            assert rec_ is not None
            out["survival: events, fixed and maximum"].add(
                (s.fixed, s.maximum), (c["eventsFixed"], c["maxNumberOfEvents"]), w)
            out["survival: events at each look"].add(s.at_looks, c["eventsPerStage"], w)
            out["survival: expected events H0, H1"].add(
                (s.expected_h0, s.expected_h1), (c["expectedEventsH0"], c["expectedEventsH1"]), w)
            out["survival: patients"].add(rec_.patients, c["maxNumberOfSubjects"], w)
            out["survival: expected time of each look"].add(rec_.analysis_times,
                                                            c["analysisTime"], w)
            out["survival: patients at each look"].add(rec_.patients_at_looks,
                                                       c["numberOfSubjects"], w)
            if d.sides == 2:
                ours = (_upper_only(rec_.patients_at_looks, s),
                        _upper_only(rec_.analysis_times, s))
            else:
                ours = (rec_.expected_patients_h1, rec_.expected_duration_h1)
            out["survival: expected patients and duration H1"].add(
                ours, (c["expectedNumberOfSubjectsH1"], c["studyDuration"]), w)
        for kind, build in (("rates", rates_of), ("means", means_of)):
            for n, c in enumerate(rec[kind], start=1):
                w = f"{where}, {kind} case {n}"
                s = build(d, c["input"])
                out[f"{kind}: patients, fixed and maximum"].add(
                    (s.fixed, s.maximum), (c["nFixed"], c["maxNumberOfSubjects"]), w)
                out[f"{kind}: expected patients H0, H1"].add(
                    (s.expected_h0, s.expected_h1),
                    (c["expectedNumberOfSubjectsH0"], c["expectedNumberOfSubjectsH1"]), w)
    return ref, out


def grid(ref: dict[str, Any]) -> str:
    """The fixture's grid in one paragraph."""
    designs = ref["designs"]
    ks = sorted({r["kMax"] for r in designs})
    types = sorted({r["type"] for r in designs})
    fut = sorted({f"{'two-sided ' if r['sided'] == 2 else ''}{r['betaSpending']}"
                  f"{' binding' if r['binding'] else ''}"
                  for r in designs if r["betaSpending"] != "none"})
    cases = sum(len(r["survival"]) + len(r["rates"]) + len(r["means"]) for r in designs)
    return (f"{len(designs)} designs (K = {ks[0]}..{ks[-1]}, one- and two-sided, "
            f"{', '.join(types)}; futility {', '.join(fut)}), {cases} sample sizes; "
            f"rpact {ref['rpact_version']}, {ref['r_version']}")


def main(argv: Sequence[str]) -> int:
    fixture = Path(argv[0]) if argv else FIXTURE
    ref, diffs = compare(fixture)
    print(grid(ref))
    print()
    print("| Quantity | Values | Largest difference |")
    print("|---|---|---|")
    for d in diffs.values():
        kind = "relative" if d.relative else "absolute"
        print(f"| {d.quantity} | {d.count} | {d.worst:.1e} ({kind}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
