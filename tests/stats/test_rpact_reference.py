"""trialcode against rpact: boundaries, design characteristics and the sample sizes of
getSampleSizeSurvival, getSampleSizeRates and getSampleSizeMeans.

The reference values are in tests/stats/fixtures/rpact_reference.json, written by
tools/rpact_reference.R with the rpact version recorded in the file; this test needs no R.
tools/rpact_compare.py makes the comparison (and prints the table of docs/statistics.md).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _compare_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rpact_compare", ROOT / "tools" / "rpact_compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


COMPARE = _compare_module()


@pytest.fixture(scope="module")
def comparison() -> tuple[dict[str, Any], dict[str, Any]]:
    return COMPARE.compare()


def test_the_fixture_records_rpact_and_covers_the_grid() -> None:
    ref = json.loads(COMPARE.FIXTURE.read_text(encoding="utf-8"))
    assert ref["generated_by"] == "tools/rpact_reference.R"
    assert ref["rpact_version"] == "3.3.4"
    assert ref["skipped"] == []
    designs = ref["designs"]
    assert {d["kMax"] for d in designs} == {1, 2, 3, 4, 5}
    assert {d["sided"] for d in designs} == {1, 2}
    assert {d["type"] for d in designs} >= {"OF", "P", "WT", "HP", "PT", "asOF", "asP", "asKD",
                                            "asHSD", "asUser"}
    assert {d["betaSpending"] for d in designs} >= {"bsHSD", "bsOF", "bsKD", "bsP", "bsUser",
                                                    "z", "PT"}
    assert {d["binding"] for d in designs if d["betaSpending"] != "none"} == {True, False}
    # two-sided futility: beta spending and Pampallona-Tsiatis, binding and not
    two = {(d["betaSpending"], d["binding"]) for d in designs
           if d["sided"] == 2 and d["betaSpending"] != "none"}
    assert {("bsOF", False), ("bsOF", True), ("PT", False), ("PT", True)} <= two
    assert {d["param"] for d in designs if d["type"] == "HP"} == {3, 3.29, 3.5}
    cases = [c["input"] for d in designs for c in d["survival"]]
    assert {c["allocationRatioPlanned"] for c in cases} == {0.5, 1, 2}
    assert any(c["dropoutRate1"] > 0 for c in cases) and any(c["dropoutRate1"] == 0 for c in cases)
    assert {c["input"]["groups"] for d in designs for c in d["rates"]} == {1, 2}
    assert {c["input"]["normalApproximation"] for d in designs for c in d["means"]} == {True, False}


# Largest difference allowed per quantity: rpact solves with a tolerance of 1e-8 on its own
# Newton-Cotes grid, trialcode with Simpson's rule on J&T's grid (1e-7); both are far below
# what any table prints.
TOLERANCE = {
    "efficacy bounds (Z)": 5e-6,
    "futility bounds (Z)": 5e-6,
    "cumulative power": 2e-6,
}


def test_every_quantity_agrees_with_rpact(comparison) -> None:
    _, diffs = comparison
    report = {name: (d.count, d.worst, d.where) for name, d in diffs.items()}
    for name, (count, worst, where) in report.items():
        assert count > 0, name
        assert worst <= TOLERANCE.get(name, 5e-6), f"{name}: {worst:.2e} at {where}"


def test_docs_show_the_current_comparison(comparison) -> None:
    """docs/statistics.md's validation table is the output of tools/rpact_compare.py."""
    ref, diffs = comparison
    doc = (ROOT / "docs" / "statistics.md").read_text(encoding="utf-8")
    assert COMPARE.grid(ref) in doc.replace("\n", " ")
    for d in diffs.values():
        kind = "relative" if d.relative else "absolute"
        assert f"| {d.quantity} | {d.count} | {d.worst:.1e} ({kind}) |" in doc
