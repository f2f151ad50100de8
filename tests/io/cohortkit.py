"""Inputs shared by the tests of runs at scale (--jobs, --parquet, --spark): the protocols, the
CDISC pilot, and the synthetic cohort with bad records spread over it."""

from __future__ import annotations

import json
from pathlib import Path

from engine.io.jsonl import write_patients
from engine.io.synthetic import TRIAL, cohort

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED_TRIAL = ROOT / "examples" / "nct06802718" / "protocol.trial"
MINI = HERE / "data" / "mini.trial"
MINI_PATIENTS = HERE / "data" / "mini-patients.jsonl"
PILOT = ROOT / "examples" / "cdiscpilot01"
SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"
AS_OF = "2025-01-31"


def bad_cohort(path: Path, n: int) -> None:
    """The synthetic cohort of `n` >= 40 patients with bad records spread over it: a patient
    line repeated twice far from its first line (lines 31 and 32 repeat line 6), an unreadable
    line, a line without an id, a bad event, blank lines: 5 rejected records."""
    write_patients(path, cohort(n, 7), trial=TRIAL, generator="tests/io/cohortkit.py")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    third = json.loads(lines[3])
    lines[3] = json.dumps({**third, "events": third["events"] + [{"type": "observation"}]}) + "\n"
    lines.insert(9, "\n")
    lines.insert(17, '{"id": "P-broken", "events": [\n')
    lines.insert(30, lines[5])
    lines.insert(31, lines[30])
    lines.insert(40, '{"arm": "ifn"}\n')
    lines.append("   \n")
    path.write_text("".join(lines), encoding="utf-8")
