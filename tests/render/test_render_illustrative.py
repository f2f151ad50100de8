"""`illustrative` marks parts of a protocol that are not from the trial's real protocol; every
rendering of the document shows it where it matters (issue 16: the seed trial's schedule and
rules appeared under the real NCT number with no disclaimer)."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES

import dsl
from dsl.formatter import format_trial
from protocol.errors import ProtocolError
from protocol.vocab import IllustrativePart
from render import render_document
from render.docx_writer import docx_text

SEED = EXAMPLES / "nct06802718" / "protocol.trial"
PILOT = EXAMPLES / "cdiscpilot01" / "protocol.trial"


def test_the_seed_marks_what_the_registry_record_does_not_give() -> None:
    trial = dsl.parse_file(SEED)
    (mark,) = trial.illustrative
    assert set(mark.parts) == {IllustrativePart.DESIGN, IllustrativePart.OBJECTIVES,
                               IllustrativePart.DATA, IllustrativePart.SCHEDULE,
                               IllustrativePart.STOPPING, IllustrativePart.SAMPLE_SIZE}
    assert "not the sponsor's protocol" in mark.note
    assert trial.illustrative_note(IllustrativePart.SCHEDULE) == mark.note
    assert trial.illustrative_note(IllustrativePart.ELIGIBILITY) is None


def test_every_format_shows_the_notices_on_the_title_page_and_in_the_sections() -> None:
    trial = dsl.parse_file(SEED)
    md = render_document(trial, "md")
    assert isinstance(md, str)
    title_page = md.split("## 1 ")[0]
    assert "> **ILLUSTRATIVE CONTENT.** Not everything in this document is from the protocol of " \
        "NCT06802718: design details such as the allocation ratio, the objectives and " \
        "endpoints" in title_page
    soa = md.split("### 1.3 Schedule of Activities")[1].split("##")[0]
    assert soa.lstrip().startswith("> **ILLUSTRATIVE.** The schedule of activities in this "
                                   "section is not from the protocol of NCT06802718")
    # the criteria are the registry's: no notice in 5.2
    inclusion = md.split("### 5.2 Inclusion Criteria")[1].split("###")[0]
    assert "ILLUSTRATIVE" not in inclusion
    html = render_document(trial, "html")
    assert isinstance(html, str)
    assert html.count('<aside class="illustrative" role="note">') == md.count("> **ILLUSTRATIVE")
    assert 'data-running-head="NCT06802718 · Clinical Trial Protocol · CONTAINS ILLUSTRATIVE ' \
        'CONTENT"' in html
    docx = render_document(trial, "docx")
    assert isinstance(docx, bytes)
    text = docx_text(docx)
    assert text.count("ILLUSTRATIVE") == md.count("> **ILLUSTRATIVE")


def test_a_protocol_without_marks_has_no_notice() -> None:
    trial = dsl.parse_file(PILOT)
    assert trial.illustrative == ()
    html = render_document(trial, "html")
    assert isinstance(html, str) and "illustrative" not in html.lower().replace(
        "aside.illustrative", "")
    assert "CONTAINS ILLUSTRATIVE" not in html


def test_the_statement_formats_and_reads_back() -> None:
    source = ('trial T {\n  title "X"\n  illustrative schedule, data "No schedule given."\n'
              '  illustrative stopping "No rules given."\n}\n')
    trial = dsl.parse(source, "t.trial")
    text = format_trial(trial)
    assert 'illustrative schedule, data "No schedule given."' in text
    assert dsl.parse(text, "t.trial") == trial


@pytest.mark.parametrize(("line", "message"), [
    ('illustrative shedule "x"', "unknown illustrative part 'shedule'"),
    ('illustrative data, data "x"', "'data' is listed twice"),
])
def test_bad_parts_are_located_errors(line: str, message: str) -> None:
    with pytest.raises(ProtocolError) as err:
        dsl.parse(f"trial T {{\n  {line}\n}}\n", "t.trial")
    assert message in str(err.value) and "t.trial:2:" in str(err.value)
