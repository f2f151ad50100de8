"""What every fuzzing test asserts of a run of the command line (issue 16): no traceback, an
exit status from the documented set and never the internal-error one, nothing on the terminal
that a terminal would obey (an ESC sequence, a bidirectional control), and for data runs every
input record accounted for."""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from engine.patient import Patient, RejectedRecord
from trialcode import exits
from trialcode.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"
MINI = ROOT / "tests" / "io" / "data" / "mini.trial"
MINI_PATIENTS = ROOT / "tests" / "io" / "data" / "mini-patients.jsonl"

# Deterministic (the same examples at every run) and bounded: the whole suite stays fast.
FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

# What a terminal would act on: C0 controls but tab and newline, DEL, C1 controls, and the
# bidirectional controls (protocol/safe_text.py).
_OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@functools.cache
def _scratch() -> str:
    folder = tempfile.mkdtemp(prefix="trialcode-fuzz-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def run(*argv: object) -> tuple[int, str, str]:
    """Run `trialcode ARGV...` in this process: (status, stdout, stderr), in a scratch working
    folder: a fuzzed value taken as a relative output path must not write into the checkout."""
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    with contextlib.chdir(_scratch()), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: a usage error
            status = exc.code if isinstance(exc.code, int) else 2
    out.flush()
    stdout = out.buffer.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]
    return status, stdout, err.getvalue()


def assert_clean(status: int, stdout: str, stderr: str, *, terminal_out: bool = True) -> None:
    """The run ended as documented: a known status that is not a bug's, no traceback, and no
    control a terminal would obey on stderr (and stdout, unless it is a file's content)."""
    assert status in exits.EXIT_STATUSES, (status, stderr[-2000:])
    assert status != exits.EXIT_INTERNAL, stderr[-2000:]
    assert "Traceback" not in stderr and "Traceback" not in stdout
    shown = stderr + (stdout if terminal_out else "")
    hit = _OBEYED.search(shown)
    assert hit is None, f"raw {hit.group()!r} reached the terminal: {shown[max(0, hit.start() - 200):hit.end() + 100]!r}" if hit else ""


def account_lines(items: list[Patient | RejectedRecord], data_lines: dict[int, Any]) -> None:
    """Every data line of a patient file gave a patient or a rejection of the whole line, and
    every event of a patient's line is in the patient or rejected, never both, never lost:
    read = used (events of patients) + rejected (events and lines)."""
    patients_by_line: dict[int, Patient] = {}
    line_rejections: set[int] = set()
    event_rejections: dict[int, set[int]] = {}
    for item in items:
        if isinstance(item, Patient):
            line = _line_and_event(item.ref.locator)[0]
            assert line not in patients_by_line, f"two patients from line {line}"
            assert {_line_and_event(e.ref.locator)[0] for e in item.events} <= {line}
            patients_by_line[line] = item
        else:
            line, event = _line_and_event(item.ref.locator)
            if event is None:
                line_rejections.add(line)
            else:
                event_rejections.setdefault(line, set()).add(event)
    for line, value in data_lines.items():
        events = value.get("events") if isinstance(value, dict) else None
        if line in patients_by_line:
            kept = [_line_and_event(e.ref.locator)[1] for e in patients_by_line[line].events]
            rejected = event_rejections.get(line, set())
            assert len(kept) == len(set(kept)), (line, kept)
            assert not set(kept) & rejected, (line, set(kept) & rejected)
            expected = set(range(1, len(events) + 1)) if isinstance(events, list) else set()
            assert set(kept) | rejected == expected, (line, kept, rejected)
        else:
            assert line in line_rejections, f"line {line} is neither a patient nor rejected"


def _line_and_event(locator: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"line (\d+)(?:, event (\d+)(?: \(id .*\))?)?", locator, re.S)
    assert match, locator
    return int(match.group(1)), int(match.group(2)) if match.group(2) else None
