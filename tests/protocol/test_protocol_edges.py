"""Protocol text at the edges (issue 16): a byte-order mark, unknown escapes, numbers out of
range, doses below zero, steps of no time, a dangling `and`, hidden characters. Each gives
one located message, asserted whole."""

from __future__ import annotations

from pathlib import Path

import pytest

import trialcode
from trialcode.cli import main

BASE = """\
trial EDGE01 {
  title "Edge cases"
  intervention drug_a drug "Drug A" {
    dose 10 mg oral every 1 week for 3 weeks
  }
  arm a "Arm A" experimental {
    drug_a
  }
  data {
    lab alt "Alanine aminotransferase" unit U/L
  }
  eligibility assessed at randomization
  inclusion {
    I1 "ALT at most 2.5 times the upper limit of normal.":
      latest alt within 14 days before randomization <= 2.5 x ULN
    I2: latest alt within 14 days before randomization >= 1 U/L
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    visit baseline "Baseline" at day 0
    visit end_of_study "End of study" at day 28 window -3 to +3 days { alt }
  }
}
"""


def _check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str],
           status: int = 1) -> str:
    path = tmp_path / "edge.trial"
    path.write_bytes(text.encode("utf-8"))
    assert main(["check", str(path)]) == status
    out, err = capsys.readouterr()
    return (out + err).replace(str(path), "edge.trial")


def test_the_base_protocol_is_valid(tmp_path, capsys):
    assert _check(tmp_path, BASE, capsys, status=0) == "edge.trial: ok\n"


def test_a_utf8_byte_order_mark_is_accepted_and_positions_stay_right(tmp_path, capsys):
    assert _check(tmp_path, "\ufeff" + BASE, capsys, status=0) == "edge.trial: ok\n"
    text = "\ufeff" + BASE.replace("  title", "  titel")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:2:3: error: unknown keyword 'titel'\n"
        '    titel "Edge cases"\n'
        "    ~~~~^\n"
        "  hint: did you mean 'title'?\n"
        "edge.trial: 1 error\n"
    )


def test_a_byte_order_mark_inside_the_text_is_still_an_error(tmp_path, capsys):
    err = _check(tmp_path, BASE.replace("  title", "\ufeff  title"), capsys)
    assert err.startswith("edge.trial:2:1: error: unexpected character '\\ufeff'\n")


def test_an_unknown_escape_is_a_located_error(tmp_path, capsys):
    text = BASE.replace('"Drug A"', '"Drug \\q A"')
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:3:34: error: unknown escape '\\q' in a string\n"
        '    intervention drug_a drug "Drug \\q A" {\n'
        "                                   ~^\n"
        '  hint: a string knows \\n, \\t, \\" and \\\\; write \\\\ for a backslash\n'
        "edge.trial: 1 error\n"
    )


def test_the_known_escapes_are_read(tmp_path):
    path = tmp_path / "edge.trial"
    path.write_text(BASE.replace('"Drug A"', '"Drug \\"A\\"\\tB\\\\C\\nD"'), encoding="utf-8")
    trial = trialcode.load(path)
    assert trial.interventions[0].label == 'Drug "A"\tB\\C\nD'


def test_every_problem_of_the_tokens_is_reported_with_the_syntax_error(tmp_path, capsys):
    text = BASE.replace('"Drug A"', '"Drug \\q \\w"').replace("  data {", "  data {{")
    err = _check(tmp_path, text, capsys)
    assert [line for line in err.splitlines() if "error" in line] == [
        "edge.trial:3:34: error: unknown escape '\\q' in a string",
        "edge.trial:3:37: error: unknown escape '\\w' in a string",
        "edge.trial:9:9: error: unexpected '{'; expected 'category', 'condition', 'event', "
        "'lab', 'marker', 'procedure', 'score', 'vital', '}' or a new line",
        "edge.trial: 3 errors",
    ]


def test_a_negative_dose_fails_check(tmp_path, capsys):
    text = BASE.replace("dose 10 mg", "dose -135 ug")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:4:10: error: a dose of -135 ug is below zero\n"
        "      dose -135 ug oral every 1 week for 3 weeks\n"
        "           ~~~~~~^\n"
        "  hint: a dose is a positive amount, or 0 for a placebo\n"
        "edge.trial: 1 error\n"
    )


def test_a_dose_step_of_no_time_fails_check(tmp_path, capsys):
    text = BASE.replace("for 3 weeks", "for 0 months")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:4:38: error: a dose step for 0 months lasts no time\n"
        "      dose 10 mg oral every 1 week for 0 months\n"
        "                                       ~~~~~~~^\n"
        "  hint: give a positive duration, or leave 'for ...' out\n"
        "edge.trial: 1 error\n"
    )


def test_a_dose_repeated_every_zero_weeks_fails_check(tmp_path, capsys):
    text = BASE.replace("every 1 week", "every 0 weeks")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:4:21: error: a dose every 0 weeks is never repeated\n"
        "      dose 10 mg oral every 0 weeks for 3 weeks\n"
        "                      ~~~~~~~~~~~~^\n"
        "  hint: the interval between doses must be positive\n"
        "edge.trial: 1 error\n"
    )


@pytest.mark.parametrize(("end", "message", "hint"), [
    ("for 0 weeks", "a repeat for 0 weeks plans no occurrence", "give a positive duration"),
    ("for 0 days", "a repeat for 0 days plans no occurrence", "give a positive duration"),
    ("times 0", "a repeat 0 times plans no occurrence", "give a positive number of times"),
])
def test_a_scheduled_repeat_that_plans_nothing_fails_check(end, message, hint, tmp_path, capsys):
    # it passed check, and the doses it should have planned were all reported unplanned
    line = f"    dose drug_a every 7 days from day 1 {end} window +-1 days arms a\n"
    text = BASE.replace("    visit end_of_study", line + "    visit end_of_study")
    out = _check(tmp_path, text, capsys)
    column = line.index(end) + 1
    assert out == (
        f"edge.trial:21:{column}: error: {message}\n"
        f"  {line}"
        f"  {' ' * (column - 1)}{'~' * (len(end) - 1)}^\n"
        f"  hint: {hint}\n"
        "edge.trial: 1 error\n"
    )


def test_a_placebo_dose_of_zero_is_valid(tmp_path, capsys):
    assert _check(tmp_path, BASE.replace("dose 10 mg", "dose 0 mg"), capsys, status=0) == (
        "edge.trial: ok\n")


@pytest.mark.parametrize("number", ["1e400", "1E+309", "1" + "0" * 400])
def test_a_number_beyond_a_float_is_out_of_range_not_an_unknown_keyword(number, tmp_path, capsys):
    text = BASE.replace("<= 2.5 x ULN", f"<= {number} x ULN")
    shown = f"'{number}'" if len(number) <= 30 else (
        f"'{number[:12]}...{number[-12:]}' ({len(number)} characters)")
    err = _check(tmp_path, text, capsys)
    assert err.splitlines()[0] == f"edge.trial:15:57: error: the number {shown} is out of range"
    assert err.splitlines()[3:] == [
        "  hint: numbers must be below 1.8e308 in size; is a digit or an exponent too many?",
        "edge.trial: 1 error",
    ]


def test_a_number_with_an_exponent_is_read(tmp_path):
    path = tmp_path / "edge.trial"
    path.write_text(BASE.replace(">= 1 U/L", ">= 2.5e1 U/L"), encoding="utf-8")
    trial = trialcode.load(path)
    assert "25" in str(trial.eligibility.criteria[1].expr)


def test_a_time_beyond_two_hundred_years_fails_check(tmp_path, capsys):
    text = BASE.replace("for 3 weeks", "for 100000 weeks")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:4:38: error: '100000 weeks' is more than 200 years\n"
        "      dose 10 mg oral every 1 week for 100000 weeks\n"
        "                                       ~~~~~~~~~~~^\n"
        "  hint: times in a protocol are at most 200 years\n"
        "edge.trial: 1 error\n"
    )


def test_a_whole_number_beyond_a_billion_fails_check(tmp_path, capsys):
    text = BASE.replace("at day 28", "at day 100000000000")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:21:46: error: a day number must be at most 1,000,000,000, not 100000000000\n"
        '      visit end_of_study "End of study" at day 100000000000 window -3 to +3 days { alt }\n'
        "                                               ~~~~~~~~~~~^\n"
        "edge.trial: 1 error\n"
    )


def test_a_dangling_and_is_blamed_not_the_next_criterion(tmp_path, capsys):
    text = BASE.replace("<= 2.5 x ULN\n", "<= 2.5 x ULN and\n")
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:15:67: error: 'and' ends line 15 but the next line does not continue "
        "the condition\n"
        "        latest alt within 14 days before randomization <= 2.5 x ULN and\n"
        "                                                                    ~~^\n"
        "  hint: complete the condition after 'and', or delete the 'and'\n"
        "edge.trial: 1 error\n"
    )


def test_a_dangling_or_before_a_closing_brace_and_a_comment(tmp_path, capsys):
    text = BASE.replace(">= 1 U/L\n", ">= 1 U/L or  # more to come\n\n  # later\n")
    err = _check(tmp_path, text, capsys)
    assert err.splitlines()[0] == (
        "edge.trial:16:65: error: 'or' ends line 16 but the next line does not continue "
        "the condition")


def test_a_condition_continued_on_the_next_line_is_still_valid(tmp_path, capsys):
    text = BASE.replace("<= 2.5 x ULN\n", "<= 2.5 x ULN and\n        latest alt within 14 days "
                        "before randomization >= 1 U/L\n")
    assert _check(tmp_path, text, capsys, status=0) == "edge.trial: ok\n"


def test_an_error_later_in_a_continued_line_is_not_blamed_on_the_and(tmp_path, capsys):
    text = BASE.replace("<= 2.5 x ULN\n", "<= 2.5 x ULN and\n        latest alt within 14 days "
                        "before randomization >= 1 U/L U/L\n")
    err = _check(tmp_path, text, capsys)
    assert err.splitlines()[0].startswith("edge.trial:16:")
    assert "'and' ends line" not in err


@pytest.mark.parametrize(("char", "name"), [
    ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("\u2066", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
])
def test_a_bidirectional_control_in_a_string_fails_check(char, name, tmp_path, capsys):
    text = BASE.replace('"Drug A"', f'"Drug {char}A"')
    assert _check(tmp_path, text, capsys) == (
        f"edge.trial:3:34: error: {name} in a string: it reorders how the text around it "
        "is shown\n"
        '    intervention drug_a drug "Drug <U+' + f"{ord(char):04X}" + '>A" {\n'
        "                                   ~~~~~~~^\n"
        "  hint: delete it (right-to-left text needs no control characters; the marks U+200E "
        "and U+200F are allowed)\n"
        "edge.trial: 1 error\n"
    )


def test_a_right_to_left_override_in_a_comment_fails_check(tmp_path, capsys):
    text = BASE.replace("  data {", "  data {  # ok \u202e")
    err = _check(tmp_path, text, capsys)
    assert err.splitlines()[0] == (
        "edge.trial:9:16: error: U+202E (RIGHT-TO-LEFT OVERRIDE) in a comment: it reorders "
        "how the text around it is shown")


def test_an_escape_sequence_in_a_string_never_reaches_the_terminal(tmp_path, capsys):
    text = BASE.replace('"Edge cases"', '"Edge \x1b]0;pwned\x07 cases"')
    assert _check(tmp_path, text, capsys) == (
        "edge.trial:2:15: error: the control character U+001B (ESCAPE) in a string\n"
        '    title "Edge \\x1b]0;pwned\\x07 cases"\n'
        "                ~~~^\n"
        "  hint: delete it; a terminal would act on it and a document would not show it\n"
        "edge.trial:2:24: error: the control character U+0007 (BELL) in a string\n"
        '    title "Edge \\x1b]0;pwned\\x07 cases"\n'
        "                            ~~~^\n"
        "  hint: delete it; a terminal would act on it and a document would not show it\n"
        "edge.trial: 2 errors\n"
    )


def test_right_to_left_text_and_its_marks_are_valid(tmp_path, capsys):
    text = BASE.replace('"Drug A"', '"\u05ea\u05e8\u05d5\u05e4\u05d4 \u200fA"')
    assert _check(tmp_path, text, capsys, status=0) == "edge.trial: ok\n"


def test_crlf_line_endings_are_valid_with_comments(tmp_path, capsys):
    text = BASE.replace("  data {", "  data {  # labs").replace("\n", "\r\n")
    assert _check(tmp_path, text, capsys, status=0) == "edge.trial: ok\n"
