"""The bundled examples: they check clean, and their dumps are reviewed golden files."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, assert_golden

import trialcode
from protocol.serialize import dump

EXAMPLE_NAMES = ["nct06802718", "cdiscpilot01", "oncology_cycles", "crossover_ab", "phase1_pk"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_checks_without_diagnostics(name: str) -> None:
    report = trialcode.check(EXAMPLES / name / "protocol.trial")
    assert report.ok, report.render()
    assert report.warnings == ()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_dump_golden(name: str) -> None:
    trial = trialcode.load(EXAMPLES / name / "protocol.trial")
    text = json.dumps(dump(trial), indent=2, ensure_ascii=False) + "\n"
    assert_golden(f"{name}.dump.json", text)


def test_seed_facts_in_dump() -> None:
    """The facts of the registry record, read back from the JSON contract."""
    trial = trialcode.load(EXAMPLES / "nct06802718" / "protocol.trial")
    data = dump(trial)["trial"]
    assert data["enrollment"] == 96
    assert len(data["eligibility"]["inclusion"]) == 6
    assert len(data["eligibility"]["exclusion"]) == 9
    pop = data["population"]
    assert (pop["age_min"]["amount"], pop["age_min"]["unit"]) == (18, "year")
    assert (pop["age_max"]["amount"], pop["age_max"]["unit"]) == (70, "year")
    assert pop["sex"] == "all" and pop["healthy_volunteers"] is False
    assert [a["name"] for a in data["arms"]] == ["ifn", "control"]
    assert [a["type"] for a in data["arms"]] == ["experimental", "no_intervention"]
    step = data["interventions"][0]["regimen"]["steps"][0]
    assert step["amount"] == {"node": "Quantity", "value": 135, "unit": "ug"}
    assert step["route"] == "subcutaneous"
    assert step["frequency"]["interval"] == {"node": "Duration", "amount": 1, "unit": "week"}
    assert step["duration"] == {"node": "Duration", "amount": 6, "unit": "month"}
    assert data["phase"]["value"] == "3"
    assert (data["start"], data["completion"]) == ("2023-01-01", "2026-12-31")
    ids = {i["scheme"]: i["value"] for i in data["identifiers"]}
    assert ids == {"nct": "NCT06802718", "org_study_id": "2023PHD001-001"}
    assert data["sponsor"] == {"node": "Organization",
                               "name": "Peking University People's Hospital",
                               "org_class": "other"}
    assert data["sites"][0]["city"] == "Beijing" and data["sites"][0]["country"] == "China"
    texts = [c["text"] for c in data["eligibility"]["exclusion"]]
    assert texts[-1] == "Participation in other clinical trials within one month."


def test_cdisc_pilot_matches_trial_design_tables() -> None:
    """Every TI criterion, every arm and every planned TV visit of the pilot is in the example."""
    import pandas as pd
    from conftest import SHARED

    sdtm = SHARED / "data" / "cdiscpilot01" / "sdtm"
    trial = trialcode.load(EXAMPLES / "cdiscpilot01" / "protocol.trial")
    ti = pd.read_sas(sdtm / "ti.xpt", encoding="latin1")
    ids = [c.id for c in trial.eligibility.criteria]
    assert ids == list(ti.IETESTCD)
    assert [c.text for c in trial.eligibility.criteria] == list(ti.IETEST)
    ta = pd.read_sas(sdtm / "ta.xpt", encoding="latin1")
    assert sorted(a.code for a in trial.arms) == sorted(set(ta.ARMCD))
    tv = pd.read_sas(sdtm / "tv.xpt", encoding="latin1")
    assert trial.schedule is not None
    numbers = sorted(v.number for v in trial.schedule.visits if v.number is not None)
    assert numbers == sorted(tv.VISITNUM)
    assert trial.allocation_ratio == (1, 1, 1)
