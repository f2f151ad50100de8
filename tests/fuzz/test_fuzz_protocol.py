"""Fuzzing protocol text (issue 16): the small trial of the report tests with its numbers
replaced by hostile ones (0, negative, huge, tiny, 1e400), lines dropped, doubled or swapped,
and characters, keywords and punctuation put anywhere. `trialcode.check_text` never raises and
never meets a bug; `trialcode check` ends with 0 or 1; and a protocol that checks clean
evaluates the patients of the report tests through `validate` without failing."""

from __future__ import annotations

import re

from fuzzkit import FUZZ, MINI, MINI_PATIENTS, assert_clean, run
from hypothesis import given, settings
from hypothesis import strategies as st

import trialcode
from trialcode import exits

TEXT = MINI.read_text(encoding="utf-8")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.-])")
NUMBERS = ["0", "1", "-1", "0.5", "2", "1000000000", "1000000001", "99999", "1e400", "1e-300",
           "4294967296", "18446744073709551616", "0.0000001", "73200", "+3", "-0"]
PIECES = ["and", "or", "not", "{", "}", "(", ")", ",", ":", "\"", "\\", "#", "\n", "\t",
          "\ufeff", "\u202e", "\x1b", "\x00", "day", "week", "every", "for", "window", "at",
          "visit", "dose", "alt", "drug_a", "randomization", "latest", "x ULN", "+-", "..",
          "1e400", "-", "é", "`mg/dL`", "`", "within", "before", "after", "lasting", "when"]


@st.composite
def protocols(draw: st.DrawFn) -> str:
    numbers = NUMBER.findall(TEXT)
    replacements = {i: draw(st.sampled_from(NUMBERS))
                    for i in draw(st.lists(st.integers(0, len(numbers) - 1), max_size=3))}
    counter = iter(range(len(numbers)))

    def number(match: re.Match[str]) -> str:
        i = next(counter)
        return replacements.get(i, match.group())

    text = NUMBER.sub(number, TEXT)
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.integers(0, 3))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        elif kind == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(PIECES)) + lines[i][at:]
    return "\n".join(lines)


@settings(FUZZ, max_examples=300)
@given(protocols())
def test_any_protocol_text_is_checked_without_a_bug(tmp_path_factory, text: str) -> None:
    report = trialcode.check_text(text, "fuzz.trial")
    assert all("internal error" not in d.message for d in report.diagnostics), report.render()
    assert all(d.span is None or d.span.line >= 1 for d in report.diagnostics)
    path = tmp_path_factory.mktemp("protocol") / "fuzz.trial"
    path.write_text(text, encoding="utf-8", newline="")
    status, out, err = run("check", path)
    assert_clean(status, out, err)
    assert status == (exits.EXIT_OK if report.ok else exits.EXIT_PROBLEMS), err
    if report.ok:
        status, out, err = run("validate", path, "--patients", MINI_PATIENTS,
                               "--as-of", "2024-06-30", "-q")
        assert_clean(status, out, err)
        assert status in (exits.EXIT_OK, exits.EXIT_DATA), err  # DATA: a changed trial name
