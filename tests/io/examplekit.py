"""The example cohorts the laws run on, loaded once, and how two outcomes differ, in words."""

from __future__ import annotations

import datetime
from functools import cache

import trialcode
from engine import compile_trial
from engine.compiled import CompiledTrial
from engine.io.jsonl import read_patients
from engine.io.sdtm import load_map, load_sdtm
from engine.patient import Patient
from tests.io.cohortkit import ROOT

# the data cuts make demo uses (trialcode/demo.py)
DEMO_AS_OF = {
    "nct06802718": datetime.date(2025, 1, 31),
    "oncology_cycles": datetime.date(2024, 12, 31),
    "crossover_ab": datetime.date(2024, 6, 4),
    "t2dm_addon": datetime.date(2025, 9, 30),
    "phase1_pk": datetime.date(2024, 6, 19),
    "cdiscpilot01": datetime.date(2015, 3, 31),
}
EXAMPLES = ROOT / "examples"
PILOT_SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"


@cache
def cohort(name: str) -> tuple[CompiledTrial, tuple[Patient, ...]]:
    """An example's compiled protocol and its patients (the CDISC pilot's from its SDTM)."""
    folder = EXAMPLES / name
    trial = trialcode.load(folder / "protocol.trial")
    if name == "cdiscpilot01":
        patients = tuple(load_sdtm(PILOT_SDTM, load_map(folder / "sdtm-map.toml"),
                                   trial).patients)
    else:
        patients = tuple(p for p in read_patients(folder / "patients.jsonl", trial)
                         if isinstance(p, Patient))
    return compile_trial(trial), patients


def differences(a: tuple[object, ...], b: tuple[object, ...], became: str = "became") -> str:
    """Where two outcomes (tuples of parts, each a tuple of rows) differ, row by row."""
    out = []
    for part_a, part_b in zip(a, b, strict=True):
        assert isinstance(part_a, tuple) and isinstance(part_b, tuple)
        out += [f"{x}\n  {became} {y}" for x, y in zip(part_a, part_b, strict=False) if x != y]
        if len(part_a) != len(part_b):
            out.append(f"{len(part_a)} rows {became} {len(part_b)}")
    return "\n".join(out[:12])
