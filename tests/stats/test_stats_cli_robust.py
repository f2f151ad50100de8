"""No statistics command prints a traceback: any value of any numeric option ends in a result
(exit 0) or one line on stderr (exit 2). Hypothesis tries odd values in every position."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialcode.cli import main

ODD = st.one_of(
    st.sampled_from(["0", "1", "2", "-1", "0.5", "1e-300", "1e300", "nan", "inf", "-inf", "",
                     " ", ",", "0.3,,1", "1,0.5", "²", "٤", "٠.٥", "1_0", "0x10", "1/2",
                     "0.025", "0.99999999", "3.5", "40", "-40", "1,2,3", "0.2,0.5,1", "z:0",
                     "hsd:-2", "user", "pampallona-tsiatis:0.25", "2:1", "1:0", "abc"]),
    st.text(max_size=6),
)

BASE = {
    "boundaries": ["--spending", "ld-obf", "--looks", "3", "--alpha", "0.025", "--sides", "1"],
    "design survival": ["--hazard-ratio", "0.7", "--alpha", "0.05", "--sides", "2", "--power",
                        "0.8"],
    "design rates": ["--experimental", "0.5", "--control", "0.3", "--alpha", "0.05", "--sides",
                     "2", "--power", "0.8"],
    "design means": ["--difference", "5", "--sd", "10", "--alpha", "0.05", "--sides", "2",
                     "--power", "0.8"],
    "simon": ["--p0", "0.2", "--p1", "0.4"],
}
OPTIONS = {
    "boundaries": ["--looks", "--alpha", "--sides", "--param", "--beta", "--futility",
                   "--observed", "--alpha-fractions", "--z", "--family", "--spending"],
    "design survival": ["--hazard-ratio", "--median-control", "--accrual", "--follow-up",
                        "--dropout", "--dropout-time", "--ratio", "--power", "--looks",
                        "--alpha", "--median-experimental"],
    "design rates": ["--experimental", "--control", "--ratio", "--power", "--expected"],
    "design means": ["--difference", "--sd", "--ratio", "--power"],
    "simon": ["--p0", "--p1", "--alpha", "--beta", "--n-max"],
}
EXTRA = {"boundaries": ["--spending", "user"], "design survival": ["--median-control", "12",
                                                                     "--accrual", "24"]}


@pytest.mark.parametrize("command", list(BASE))
@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data())
def test_no_traceback(command: str, data: st.DataObject) -> None:
    args = command.split() + list(BASE[command])
    for option in data.draw(st.lists(st.sampled_from(OPTIONS[command]), min_size=1, max_size=3,
                                     unique=True)):
        args += [option, data.draw(ODD)]
    if data.draw(st.booleans()) and command in EXTRA:
        args += EXTRA[command]
    if command == "boundaries" and "--observed" in args and data.draw(st.booleans()):
        args.append("--interim")
    out, err = io.StringIO(), io.StringIO()
    # any exception but SystemExit escapes main() and fails the test: that is the traceback
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse: an option that looks like a flag, a missing value
            code = int(exc.code or 0)
    assert code in (0, 2), (args, err.getvalue())
    if code == 2:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and ": error: " in lines[0], (args, err.getvalue())
        assert out.getvalue() == ""
