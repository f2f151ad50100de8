"""Golden files of every output of every example protocol (TRIALCODE_REGEN=1 rewrites them).

They are what users read: review a changed golden by eye before accepting it.
"""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES

import dsl
from render import render_document
from render.docx_writer import docx_text
from render.export import export_ctgov_eligibility, export_sdtm_design, export_usdm

EXAMPLE_NAMES = ["nct06802718", "cdiscpilot01", "oncology_cycles", "crossover_ab", "phase1_pk",
                 "t2dm_addon"]


@pytest.fixture(scope="module", params=EXAMPLE_NAMES)
def example(request):
    return request.param, dsl.parse_file(EXAMPLES / request.param / "protocol.trial")


def test_markdown(example, golden):
    name, trial = example
    golden(f"render/{name}.md", render_document(trial, "md"))


def test_html(example, golden):
    name, trial = example
    golden(f"render/{name}.html", render_document(trial, "html"))


def test_docx_text(example, golden):
    name, trial = example
    data = render_document(trial, "docx")
    assert isinstance(data, bytes) and data[:2] == b"PK"
    golden(f"render/{name}.docx.txt", docx_text(data))


def test_ctgov(example, golden):
    name, trial = example
    golden(f"render/{name}.ctgov.txt", export_ctgov_eligibility(trial))


def test_usdm(example, golden):
    name, trial = example
    golden(f"render/{name}.usdm.json", json.dumps(export_usdm(trial), indent=1, ensure_ascii=False) + "\n")


def test_sdtm_csv(example, golden):
    name, trial = example
    for ds_name, ds in export_sdtm_design(trial).items():
        golden(f"render/{name}.sdtm.{ds_name.lower()}.csv", ds.frame().to_csv(index=False))
