"""The T2DM_ADDON example: a protocol of computed values, definitions, panels, a lookup table
and attribute units, whose synthetic cohort gives every criterion each verdict."""

from __future__ import annotations

import datetime
import importlib.util
import json
from collections import defaultdict

from conftest import EXAMPLES

import trialcode
from engine import compile_trial, evaluate
from engine.io.jsonl import read_patients
from engine.logic import FALSE, TRUE, UNKNOWN
from engine.patient import RejectedRecord

FOLDER = EXAMPLES / "t2dm_addon"
AS_OF = datetime.date(2025, 9, 30)


def _results() -> list:  # type: ignore[type-arg]
    trial = trialcode.load(FOLDER / "protocol.trial")
    plan = compile_trial(trial)
    out = []
    for item in read_patients(FOLDER / "patients.jsonl", trial):
        assert not isinstance(item, RejectedRecord), str(item)
        out.append(evaluate(plan, item, AS_OF))
    return out


def test_the_example_checks_clean_and_is_canonical() -> None:
    report = trialcode.check(FOLDER / "protocol.trial")
    assert report.ok and not report.diagnostics
    from dsl import read_file
    from dsl.formatter import format_source

    text = (FOLDER / "protocol.trial").read_text(encoding="utf-8")
    assert format_source(read_file(FOLDER / "protocol.trial")) == text


def test_every_criterion_gets_every_verdict() -> None:
    truths: dict[str, set[object]] = defaultdict(set)
    for r in _results():
        for c in r.eligibility.criteria:
            truths[c.id].add(c.truth)
    for cid in ("I1", "I2", "I3", "I4", "I5", "E2", "E3", "E4", "E5", "E6",
                # issue 13's second half: hours windows, aggregates, data windows, strictly
                "I6", "I7", "I8", "E7", "E8", "E9", "E10", "E11", "E12", "E13", "E14"):
        assert truths[cid] == {TRUE, FALSE, UNKNOWN}, cid
    # a condition's absence is a fact: E1 is never unknown
    assert truths["E1"] == {TRUE, FALSE}


def test_each_patient_shows_what_its_scenario_says() -> None:
    spec = importlib.util.spec_from_file_location("make_cohort", FOLDER / "make_cohort.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = {"met": TRUE, "not met": FALSE, "unknown": UNKNOWN}
    by_id = {r.id: r for r in _results()}
    import re

    checked = 0
    for p in module.cohort():
        # "(I2 not met; E6 met)", "(E2, E3, E5 not met)"
        for group in re.findall(r"\(([^()]*(?:met|unknown)[^()]*)\)", p.why):
            for part in group.split(";"):
                m = re.search(r"((?:[IE]\d+,? ?)+) (met|not met|unknown)", part)
                if m is None:
                    continue
                for cid in re.findall(r"[IE]\d+", m.group(1)):
                    c = by_id[p.pid].eligibility.criterion(cid)
                    assert c is not None and c.truth is names[m.group(2)], (p.pid, cid)
                    checked += 1
    assert checked >= 40


def test_the_stopping_rules_fire_for_their_patients() -> None:
    fired = {(r.id, s.rule) for r in _results() for s in r.stopping}
    assert fired == {("P08", "renal"), ("P17", "liver")}


def test_the_patient_file_is_what_the_generator_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_cohort", FOLDER / "make_cohort.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = (FOLDER / "patients.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines[1:]] == [p.pid for p in module.cohort()]
    assert [json.loads(line) for line in lines[1:]] == [p.json() for p in module.cohort()]


def test_the_usdm_export_carries_definitions_tables_and_expressions() -> None:
    from render.export import export_usdm
    from render.export.usdm import expression_json

    trial = trialcode.load(FOLDER / "protocol.trial")
    doc = export_usdm(trial)
    design = doc["study"]["versions"][0]["studyDesigns"][0]
    found: dict[str, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    for e in design["extensionAttributes"]:
        kind = e["url"].rsplit(":", 1)[1]
        if kind in ("definition", "table"):
            found[kind].append(json.loads(e["valueString"]))
    assert [d["name"] for d in found["definition"]] == [d.name for d in trial.definitions]
    assert found["definition"][0]["expression"] == expression_json(trial.definitions[0].expr)
    assert found["definition"][0]["prose"].startswith("ALT and AST each ≤ 2.5 × ULN")
    assert found["table"][0]["rows"][0] == {"key": "glimepiride", "value": {
        "type": "QuantityLiteral", "quantity": {"type": "Quantity", "value": 8, "unit": "mg"}}}
    # each criterion's expression travels as JSON, computed values included
    assert '\\"function\\": \\"qtcf\\"' in json.dumps(doc)
