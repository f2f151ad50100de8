"""Section 10.9 of the HTML document plots the interim boundaries (issue 5)."""

from __future__ import annotations

import re

from conftest import EXAMPLES

import trialcode
from render.boundary_svg import boundary_svg


def test_seed_document_plots_its_obrien_fleming_bounds() -> None:
    trial = trialcode.load(EXAMPLES / "nct06802718" / "protocol.trial")
    html = trialcode.render(trial, "html")
    assert isinstance(html, str)
    plot = re.search(r'<svg[^>]*class="boundary-plot".*?</svg>', html, re.S)
    assert plot is not None
    # J&T Table 2.3: C_B(2) = 1.977; the interim bound is C_B * sqrt(2) = 2.797 (two-sided 0.05)
    assert "Z = 2.797 at 0.50" in plot.group(0) and "Z = 1.977 at 1.00" in plot.group(0)
    assert "Lower efficacy boundary: Z = -2.797 at 0.50" in plot.group(0)


def test_markdown_and_word_carry_the_table_not_the_plot() -> None:
    trial = trialcode.load(EXAMPLES / "nct06802718" / "protocol.trial")
    md = trialcode.render(trial, "md")
    assert isinstance(md, str) and "<svg" not in md.split("## 10", 1)[1]


def test_plot_escapes_its_title_and_draws_futility() -> None:
    svg = boundary_svg([0.5, 1.0], [2.8, 1.98], [0.2, 1.98], False, "<script>x</script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "Futility boundary: Z = 0.200 at 0.50" in svg
