"""The printed protocol (PDF through WeasyPrint): every page but the title page carries the
trial's identifier and the current section at the top and "Page N of M" at the foot. Read back
with pdftotext (poppler-utils); skipped where WeasyPrint or pdftotext is missing."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES

import dsl
from render import render_document

pytest.importorskip("weasyprint")
PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not installed")
def test_every_page_but_the_title_page_has_a_running_header_and_its_number(tmp_path: Path):
    trial = dsl.parse_file(EXAMPLES / "nct06802718" / "protocol.trial")
    pdf = tmp_path / "protocol.pdf"
    data = render_document(trial, "pdf")
    assert isinstance(data, bytes)
    pdf.write_bytes(data)
    assert PDFTOTEXT is not None
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")
    if not pages[-1].strip():
        pages = pages[:-1]
    total = len(pages)
    assert total >= 5
    # the title page: neither header nor number
    assert "Page 1 of" not in pages[0] and "CLINICAL TRIAL PROTOCOL" in pages[0]
    assert not pages[0].lstrip().startswith("NCT06802718 ·")
    for n, page in enumerate(pages[1:], 2):
        lines = [line for line in page.splitlines() if line.strip()]
        # the seed's schedule and rules are illustrative: every page says so (its `illustrative`)
        assert lines[0].strip().startswith(
            "NCT06802718 · Clinical Trial Protocol · CONTAINS ILLUSTRATIVE CONTENT"), (n, lines[0])
        assert lines[-1].strip() == f"Page {n} of {total}", (n, lines[-1])
    # the right-hand header names the section the page is in
    headed = [p for p in pages if re.search(r"CONTENT\s+4 Trial Design$", p.splitlines()[0])]
    assert headed and "4.1 Description of Trial Design" in headed[0]
