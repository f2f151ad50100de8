"""Hours windows, strict windows and aggregates over records in every output: the document's
plain English, the USDM computable extension, the `dump` model JSON and `fmt`."""

from __future__ import annotations

import json

import pytest

import dsl
import trialcode
from dsl.formatter import format_source
from protocol.serialize import to_data
from render.export import export_usdm
from render.prose import Prose

SOURCE = """trial t {
  data {
    event blood_donation "Blood donation" attributes volume
    vital qtcf "QTcF interval" unit ms
    event antidiabetic "Oral antidiabetic drug" attributes drug
    event metformin "Metformin" attributes daily_dose
    event alcohol "Alcohol intake"
    event zinc "Zinc supplement"
    category pregnancy_test "Urine pregnancy test" values "negative", "positive"
  }
  intervention study_drug drug "Study drug"
  schedule anchored at randomization {
    anchor randomization "Randomization"
  }
  inclusion {
    I6: count(distinct drug of antidiabetic ongoing at randomization) <= 3
    I7: continuous metformin where daily_dose >= 1500 for 3 months before randomization
      with unchanged daily_dose allowing gaps of 7 days
    I9: latest pregnancy_test within 24 hours before first dose of study_drug == "negative"
  }
  exclusion {
    E12: sum(volume of blood_donation within 12 months before randomization) >= 800
    E13: mean(qtcf within 1 day before randomization) > 450 ms
    E10: any alcohol within 48 hours before first dose of study_drug
    E5: any zinc strictly within 21 days before randomization
    E6: any alcohol strictly within 30 minutes after randomization
  }
}
"""


@pytest.fixture(scope="module")
def trial():
    return trialcode.load_source(SOURCE, "t.trial")


def criteria(trial):
    return {c.id: c for c in (*trial.eligibility.inclusion, *trial.eligibility.exclusion)}


@pytest.mark.parametrize(("cid", "sentence"), [
    ("I6", "Number of different drug values among oral antidiabetic drugs ≤ 3 ongoing at "
           "randomization."),
    ("I7", "Metformin with daily dose ≥ 1500 taken without interruption for at least 3 months "
           "before randomization, at a stable daily dose (interruptions of up to 7 days "
           "allowed)."),
    ("I9", "Most recent urine pregnancy test within 24 hours before the first dose of Study "
           "drug is negative."),
    ("E12", "Total volume of blood donations ≥ 800 within 12 months before randomization."),
    ("E5", "At least one recorded zinc supplement less than 21 days before randomization."),
    ("E6", "At least one recorded alcohol intake less than 30 minutes after randomization."),
])
def test_plain_english(trial, cid: str, sentence: str) -> None:
    assert Prose(trial).generated(criteria(trial)[cid]) == sentence


def test_usdm_computable_extension_carries_the_new_expressions(trial) -> None:
    usdm = export_usdm(trial)
    design = usdm["study"]["versions"][0]["studyDesigns"][0]
    items = usdm["study"]["versions"][0]["eligibilityCriterionItems"]
    exprs = {i["name"]: json.loads(x["valueString"]) for i in items
             for x in i["extensionAttributes"] if x["url"].endswith("criterion-expression")}
    assert design is not None
    assert exprs["I7"] == {
        "type": "Continuous",
        "selection": {"type": "Selection", "kind": "metformin", "where": {
            "type": "Compare", "op": ">=", "left": {"type": "Name", "name": "daily_dose"},
            "right": {"type": "QuantityLiteral", "quantity": {"type": "Quantity",
                                                              "value": 1500}}}},
        "duration": {"type": "Duration", "amount": 3, "unit": "month"},
        "anchor": {"type": "NamedAnchor", "name": "randomization"},
        "unchanged": "daily_dose",
        "gap": {"type": "Duration", "amount": 7, "unit": "day"},
    }
    assert exprs["E12"]["left"]["type"] == "Statistic"
    assert exprs["E12"]["left"]["fn"] == "sum" and exprs["E12"]["left"]["attribute"] == "volume"
    assert exprs["I6"]["left"] == {
        "type": "CountDistinct", "attribute": "drug",
        "selection": {"type": "Selection", "kind": "antidiabetic", "temporal": {
            "type": "OngoingAt", "anchor": {"type": "NamedAnchor", "name": "randomization"}}}}
    within = exprs["E6"]["selection"]["temporal"]
    assert (within["strict"], within["direction"], within["duration"]["unit"]) == (
        True, "after", "minute")


def test_dump_carries_them(trial) -> None:
    data = to_data(criteria(trial)["E13"])
    assert data["expr"]["left"] == {
        "node": "Statistic", "fn": "mean",
        "selection": {"node": "Selection", "kind": "qtcf", "temporal": {
            "node": "Within", "duration": {"node": "Duration", "amount": 1, "unit": "day"},
            "direction": "before", "anchor": {"node": "NamedAnchor", "name": "randomization"},
            "strict": False}, "where": None},
        "attribute": None}


def test_fmt_round_trips(trial) -> None:
    text = format_source(dsl.parse_source(SOURCE, "t.trial"))
    assert dsl.parse(text, "t.trial") == dsl.parse(SOURCE, "t.trial")
    assert "any zinc strictly within 21 days before randomization" in text
    assert "any alcohol strictly within 30 minutes after randomization" in text
