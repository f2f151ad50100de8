"""Broken copies of the seed protocol: each gives one clear, located message (asserted whole)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES

import trialcode
from trialcode.cli import main

SEED = (EXAMPLES / "nct06802718" / "protocol.trial").read_text(encoding="utf-8")


CR_NEEDLE = '== "CR"\n'


def _line(text: str, needle: str) -> int:
    """The 1-based line of the first occurrence of `needle` (messages are asserted whole, but
    the example may grow above the broken line)."""
    return text[: text.index(needle)].count("\n") + 1


def _broken(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.trial"
    path.write_text(text, encoding="utf-8")
    return path


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    path = _broken(tmp_path, text)
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    return err.replace(str(path), "broken.trial")


def test_misspelt_keyword(tmp_path, capsys):
    text = SEED.replace("\n  phase 3\n", "\n  phse 3\n")
    err = _check(tmp_path, text, capsys)
    assert err == (
        f"broken.trial:{_line(text, 'phse')}:3: error: unknown keyword 'phse'\n"
        "    phse 3\n"
        "    ~~~^\n"
        "  hint: did you mean 'phase'?\n"
        "broken.trial: 1 error\n"
    )


def test_missing_brace(tmp_path, capsys):
    start = SEED.index("  population {")
    end = SEED.index("  }\n", start)
    text = SEED[:end] + SEED[end + 4:]
    err = _check(tmp_path, text, capsys)
    assert err == (
        f"broken.trial:{_line(text, '  data {')}:3: error: unexpected 'data'; expected 'age', "
        "'healthy_volunteers', 'sex' or '}'\n"
        "    data {\n"
        "    ~~~^\n"
        f"  hint: is the '{{' on line {_line(text, 'population {')} closed?\n"
        "broken.trial: 1 error\n"
    )


def test_truncated_file(tmp_path, capsys):
    cut = SEED.index("    I4 ")
    err = _check(tmp_path, SEED[:cut], capsys)
    assert err == (
        f"broken.trial:{_line(SEED, 'inclusion {')}:13: error: the file ends before this '{{' "
        "is closed\n"
        "    inclusion {\n"
        "              ^\n"
        "  hint: add the missing '}'\n"
        "broken.trial: 1 error\n"
    )


def test_undefined_anchor(tmp_path, capsys):
    text = SEED.replace("until end_of_treatment", "until end_of_treatmnt")
    err = _check(tmp_path, text, capsys)
    assert err == (
        f"broken.trial:{_line(text, 'until end_of_treatmnt')}:50: error: undefined anchor "
        "'end_of_treatmnt'\n"
        "        assess tsh every 3 months from day 0 until end_of_treatmnt window +-7 days\n"
        "                                                   ~~~~~~~~~~~~~~^\n"
        "  hint: did you mean 'end_of_treatment'?\n"
        "broken.trial: 1 error\n"
    )


def test_anchor_cycle_names_the_whole_cycle(tmp_path, capsys):
    text = SEED.replace('visit baseline "Baseline" at day 0',
                        'visit baseline "Baseline" at 1 day after end_of_treatment')
    text = text.replace("dose peg_ifn every 7 days from day 1 for 6 months",
                        "dose peg_ifn every 7 days from day 1 until baseline")
    err = _check(tmp_path, text, capsys)
    assert err.splitlines()[0] == (
        f"broken.trial:{_line(text, 'visit end_of_treatment')}:49: error: the schedule's "
        "anchors form a cycle: "
        "last dose of peg_ifn -> end_of_treatment -> baseline -> last dose of peg_ifn"
    )
    assert err.splitlines()[-2] == (
        "  hint: no date in a cycle can be computed; time one of them from another anchor")


def test_unit_mismatch_and_unknown_category_value_reported_together(tmp_path, capsys):
    text = SEED.replace("latest alt within 14 days before randomization <= 2.5 x ULN",
                        "latest alt within 14 days before randomization <= 5 mg")
    text = text.replace('first remission before randomization == "CR1"',
                        'first remission before randomization == "CR"')
    err = _check(tmp_path, text, capsys)
    assert err == (
        f"broken.trial:{_line(text, CR_NEEDLE)}:47: error: 'CR' is not a value of "
        "'remission'\n"
        '        first remission before randomization == "CR"\n'
        "                                                ~~~^\n"
        "  hint: did you mean 'CR3'? (its values are \"CR1\", \"CR2\", \"CR3\")\n"
        f"broken.trial:{_line(text, '<= 5 mg')}:57: error: cannot compare 'alt' (U/L) with mg: "
        "the units measure different things\n"
        "        latest alt within 14 days before randomization <= 5 mg\n"
        "                                                          ~~~^\n"
        "broken.trial: 2 errors\n"
    )


def test_duplicate_criterion_and_arm_without_intervention(tmp_path, capsys):
    text = SEED.replace('    E9 "Participation', '    E8 "Participation')
    text = text.replace("    description \"Polyethylene glycol interferon alpha-2b injection 135 "
                        "μg/week was subcutaneously given for 6 months.\"\n    peg_ifn\n",
                        "    description \"Polyethylene glycol interferon alpha-2b injection 135 "
                        "μg/week was subcutaneously given for 6 months.\"\n")
    err = _check(tmp_path, text, capsys)
    lines = err.splitlines()
    assert lines[0] == (f"broken.trial:{_line(text, 'arm ifn')}:3: error: arm 'ifn' is "
                        "experimental but gives no intervention")
    second = _line(text, 'E8 "Participation')
    assert f"broken.trial:{second}:5: error: duplicate criterion 'E8'" in lines
    assert f"  hint: the first is at line {_line(text, 'E8 ')}" in lines
    assert lines[-1] == "broken.trial: 2 errors"


def test_unreadable_file_is_a_clear_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.trial")]) == 1
    err = capsys.readouterr().err
    assert "missing.trial: cannot read: No such file or directory" in err


def test_warning_does_not_fail(tmp_path, capsys):
    text = SEED.replace('visit baseline "Baseline" at day 0',
                        'visit baseline "Baseline" at day -1 window +-3 days')
    path = _broken(tmp_path, text)
    assert main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "warning: the windows of visits 'screening' and 'baseline' overlap (day -4 <= day -1)" \
        in err
    assert out.endswith("ok (1 warning)\n")


def test_load_raises_protocol_error_with_every_error(tmp_path):
    text = SEED.replace("arms ifn", "arms ifm")
    with pytest.raises(trialcode.ProtocolError) as info:
        trialcode.load(_broken(tmp_path, text))
    messages = [d.message for d in info.value.diagnostics]
    assert messages == ["undefined arm 'ifm'"] * 3


def test_a_duplicate_visit_name_is_one_error_not_also_a_cycle(tmp_path, capsys):
    """A visit spelt like an anchor and timed from it shares the anchor's node in the anchor
    graph: the duplicate is the error, not a cycle `day_1 -> day_1`."""
    text = SEED.replace('    anchor randomization "Randomization"\n',
                        '    anchor randomization "Randomization"\n    anchor day_1 "Day 1"\n'
                        '    visit day_1 "Day 1 visit" at 1 day after day_1\n')
    err = _check(tmp_path, text, capsys)
    assert "cycle" not in err
    assert f"broken.trial:{_line(text, 'visit day_1')}:5: error: duplicate anchor or visit " \
        "'day_1'" in err
    assert err.splitlines()[-1] == "broken.trial: 1 error"
