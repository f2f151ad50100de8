"""Visit numbers, allocation ratio, endpoints and dosage form reach every output that has a place
for them; the pilot's TV numbers match CDISC's own TV."""

from __future__ import annotations

import attrs
import pytest
from conftest import EXAMPLES, SHARED

import dsl
from protocol.allocation import monitored_patients
from render import render_document
from render.doseform import dose_form
from render.export import export_sdtm_design, export_usdm
from render.soa import build_grid
from render.stats import safety_table


@pytest.fixture(scope="module")
def pilot():
    return dsl.parse_file(EXAMPLES / "cdiscpilot01" / "protocol.trial")


@pytest.fixture(scope="module")
def seed():
    return dsl.parse_file(EXAMPLES / "nct06802718" / "protocol.trial")


def test_pilot_tv_visit_numbers_match_cdisc(pilot):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = SHARED / "data" / "cdiscpilot01" / "sdtm" / "tv.xpt"
    if not path.exists():
        pytest.skip("the CDISC pilot's SDTM data is not beside the repository")
    real, _ = pyreadstat.read_xport(str(path), encoding="latin1")
    ours = export_sdtm_design(pilot)["TV"].frame()
    # every pilot visit has its own number; the early termination visit (no number in the
    # protocol) is numbered in the free range after the event visits
    assert set(real["VISITNUM"]) == set(ours["VISITNUM"]) - {102.0}
    assert list(ours["VISITNUM"]) == sorted(ours["VISITNUM"])


def test_visit_number_row_and_usdm_extension(pilot):
    grid = build_grid(pilot)
    assert grid is not None and grid.numbered
    assert [c.number for c in grid.columns[:5]] == ["1", "2", "3", "3.5", "4"]
    md = render_document(pilot, "md")
    assert "| *Visit number* | 1 | 2 | 3 | 3.5 | 4 |" in md
    design = export_usdm(pilot)["study"]["versions"][0]["studyDesigns"][0]
    numbers = [
        x["valueString"]
        for e in design["encounters"]
        for x in e["extensionAttributes"]
        if x["url"].endswith("visit-number")
    ]
    assert numbers[:4] == ["1", "2", "3", "3.5"]


def test_allocation_ratio_in_prose_and_ts(pilot):
    md = render_document(pilot, "md")
    assert "randomized in a 1:1:1 ratio to three arms" in md
    ts = export_sdtm_design(pilot)["TS"].frame()
    assert ts[ts.TSPARMCD == "RANDQT"].TSVAL.tolist() == ["0.67"]


def test_safety_table_sized_by_the_ratio(seed):
    rule = seed.stopping.safety_rules[0]
    assert monitored_patients(seed, rule) == 48
    # 2:1 for the interferon group: two thirds of 96 are monitored
    unequal = attrs.evolve(seed, allocation_ratio=(2, 1))
    assert monitored_patients(unequal, rule) == 64
    table = safety_table(unequal, rule)
    if table is not None:  # engine.stats installed
        assert "2 of 3 parts under the 2:1 allocation" in table.note
        assert [r[1] for r in table.rows] == ["12", "24", "36", "48"]


def test_endpoints_beside_objectives(pilot):
    md = render_document(pilot, "md")
    assert "| Primary objectives | Endpoints |" in md
    assert "• Adverse events<br>• Vital signs" in md
    design = export_usdm(pilot)["study"]["versions"][0]["studyDesigns"][0]
    levels = [e["level"]["code"] for o in design["objectives"] for e in o["endpoints"]]
    assert levels.count("C94496") == 5 and levels.count("C139173") == 1


@pytest.mark.parametrize(
    "text, code",
    [
        ("Transdermal patch", "C42968"),
        ("PATCH", "C42968"),
        ("Injection", "C42946"),
        ("Solution for injection", "C42945"),
        ("Film-coated tablet", "C42931"),
        ("Tablet, 10 mg", "C42998"),
        ("Magic beans", None),
    ],
)
def test_dose_form_terms(text, code):
    form = dose_form(text)
    assert (form.code if form else None) == code


def test_dose_form_in_ts_and_usdm(seed):
    ts = export_sdtm_design(seed)["TS"].frame()
    row = ts[ts.TSPARMCD == "DOSFRM"]
    assert row.TSVAL.tolist() == ["INJECTION"] and row.TSVALCD.tolist() == ["C42946"]
    version = export_usdm(seed)["study"]["versions"][0]
    (product,) = version["administrableProducts"]
    admin = version["studyInterventions"][0]["administrations"][0]
    assert admin["administrableProductId"] == product["id"] and admin["dose"]["value"] == 135.0


def test_sex_restricted_assessment_inside_a_range_visit(seed):
    grid = build_grid(seed)
    assert grid is not None
    # the pregnancy test at day -4 (+-3) is done within the screening visit (days -28 to -1)
    assert not any(c.label.startswith("Day") for c in grid.columns)
    notes = dict(grid.footnotes)
    row = next(r for r in grid.rows if r.label == "Pregnancy test")
    (mark,) = [m for m in row.marks if m.text]
    assert sorted(notes[x] for x in mark.footnotes) == [
        "At day −4 (±3 days), within the Screening period.",
        "Female participants only.",
    ]
    # letters follow reading order: visit headers first, then rows
    assert [letter for letter, _ in grid.footnotes] == list("abcd")
