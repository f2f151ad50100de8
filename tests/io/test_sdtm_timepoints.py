"""Sub-day timepoints from SDTM: --ELTM, --TPT, --TPTNUM (through the map) and --TPTREF give a
sample its planned timepoint (docs/patient-data.md), in PC and in the other findings domains,
for the items the protocol times only."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import dsl
from engine import compile_trial, evaluate
from engine.io.sdtm import MapError, load_sdtm, map_from_dict
from engine.patient import Observation, Patient
from engine.results import Status

PROTOCOL = dsl.parse("""
trial PK {
  calendar { days counted from 1 }
  intervention study_drug drug "Study drug" { dose 100 mg oral }
  arm a "A" experimental { study_drug }
  data {
    lab pk_conc "Plasma concentration" unit ng/mL
    vital sysbp "Systolic blood pressure" unit `mm[Hg]`
  }
  schedule anchored at randomization {
    anchor randomization "Randomization"
    dose study_drug at day 1, 14 window +-1 days
    timepoints pk "PK sampling" after dose of study_drug on day 1, 14 {
      assess pk_conc predose within 60 minutes
      assess pk_conc at 0.5, 1, 2 hours window +-5 minutes
    }
  }
}
""")
MAP = {
    "arms": {"A": "a"},
    "interventions": {"STUDY DRUG": "study_drug"},
    "tests": {"PC": {"DRUGX": "pk_conc"}, "VS": {"SYSBP": "sysbp"}},
    "timepoints": {"0.5 H POST-DOSE": "PT30M", "3": "PT1H"},
}


def write(folder: Path, name: str, header: str, *rows: str) -> None:
    (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture
def study(tmp_path: Path) -> Path:
    write(tmp_path, "dm.csv", "USUBJID,ARMCD,SEX,RFSTDTC", "S1,A,M,2024-03-01")
    write(tmp_path, "ex.csv", "USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXSTDTC",
          "S1,1,STUDY DRUG,100,mg,2024-03-01T08:00")
    write(
        tmp_path,
        "pc.csv",
        "USUBJID,PCSEQ,PCTESTCD,PCSTRESN,PCSTRESU,PCDTC,PCTPT,PCTPTNUM,PCELTM,PCTPTREF",
        "S1,1,DRUGX,0,ng/mL,2024-03-01T07:40,PRE-DOSE,1,-PT1H,DAY 1 DOSE",   # ELTM < 0
        "S1,2,DRUGX,12.5,ng/mL,2024-03-01T08:50,0.5 H POST-DOSE,2,,DAY 1 DOSE",  # by the map
        "S1,3,DRUGX,20.1,ng/mL,2024-03-01T09:02,1 H POST-DOSE,3,,DAY 1 DOSE",  # TPTNUM 3
        "S1,4,DRUGX,18.0,ng/mL,2024-03-01T10:03,2 H POST-DOSE,4,PT2H,DAY 1 DOSE",
        "S1,5,DRUGX,17.0,ng/mL,2024-03-01T11:00,3 H POST-DOSE,5,PT3H,DAY 1 DOSE",  # not planned
        "S1,6,DRUGX,16.0,ng/mL,2024-03-01T12:00,4 H POST-DOSE,6,4 hours,DAY 1 DOSE",  # bad ELTM
    )
    write(tmp_path, "vs.csv", "USUBJID,VSSEQ,VSTESTCD,VSSTRESN,VSSTRESU,VSDTC,VSTPT,VSELTM",
          "S1,1,SYSBP,120,mm[Hg],2024-03-01T09:00,AFTER LYING DOWN FOR 5 MINUTES,PT5M")
    return tmp_path


def _load(study: Path) -> tuple[Patient, list[str]]:
    loaded = load_sdtm(study, map_from_dict(MAP), PROTOCOL)
    (patient,) = loaded.patients
    return patient, [f"{r.ref} {r.field}: {r.message}" for r in loaded.rejected]


def test_timepoints_come_from_eltm_tpt_tptnum_and_the_map(study: Path) -> None:
    patient, rejected = _load(study)
    samples = [e for e in patient.events if isinstance(e, Observation) and e.kind == "pk_conc"]
    assert [s.timepoint for s in samples] == ["PREDOSE", "PT30M", "PT1H", "PT2H"]
    assert ("timepoint_reference", "DAY 1 DOSE") in samples[0].attributes
    assert rejected == [
        "pc.csv row 5 (PCSEQ 5) PCELTM: PCELTM 'PT3H' is timepoint PT3H, which pk_conc does not "
        "have in the protocol; its timepoints are PREDOSE, PT30M, PT1H, PT2H",
        "pc.csv row 6 (PCSEQ 6) PCELTM: PCELTM: '4 hours' is not an ISO 8601 elapsed time such "
        "as PT30M or PT2H",
    ]
    # an item the protocol does not time keeps its --TPT as before, without a timepoint
    (bp,) = [e for e in patient.events if isinstance(e, Observation) and e.kind == "sysbp"]
    assert bp.timepoint is None and ("timepoint", "after lying down for 5 minutes") in bp.attributes


def test_a_sample_named_for_its_timepoint_is_judged_against_it(study: Path) -> None:
    patient, _ = _load(study)
    r = evaluate(compile_trial(PROTOCOL), patient, datetime.date(2024, 3, 2))
    got = {x.label: (x.status, x.timing.deviation_minutes if x.timing else None)
           for x in r.schedule if x.activity == "pk_conc"}
    # 08:50 is labelled 0.5 h: 15 minutes late, not the 1 h sample 5 minutes early
    assert got["day 1 0.5 h post-dose"] == (Status.LATE, 15)
    assert got["day 1 1 h post-dose"] == (Status.ON_TIME, 0)
    assert got["day 1 pre-dose"] == (Status.ON_TIME, 0)
    assert got["day 1 2 h post-dose"] == (Status.ON_TIME, 0)
    assert got["day 14 pre-dose"] == (Status.NOT_DUE, None)


def test_a_map_timepoint_must_be_a_timepoint() -> None:
    with pytest.raises(MapError, match=r'\[timepoints\] "PRE": \'pre\' is not an ISO 8601'):
        map_from_dict({"timepoints": {"PRE": "pre"}})
