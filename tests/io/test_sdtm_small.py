"""The SDTM loader on small hand-written CSV datasets: map errors, each rejection, derived sums."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import dsl
from engine.io.sdtm import MapError, SdtmError, load_map, load_sdtm, map_from_dict
from engine.patient import AnchorEvent, ClockTime, Observation, Occurrence, VisitEvent

ROOT = Path(__file__).resolve().parents[2]
PILOT = ROOT / "examples" / "cdiscpilot01" / "protocol.trial"


def write(folder: Path, name: str, header: str, *rows: str) -> None:
    (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


@pytest.fixture
def study(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "dm.csv",
        "USUBJID,ARMCD,SEX,AGE,AGEU,RFSTDTC",
        "S1,A,F,70,YEARS,2020-01-10",
        "S2,B,M,60,YEARS,2020-02-01",
        "S3,Z,X,55,YEARS,",
        "S1,A,F,70,YEARS,2020-01-10",
    )
    write(
        tmp_path,
        "sv.csv",
        "USUBJID,VISITNUM,VISIT,SVSTDTC",
        "S1,1,SCREENING,2020-01-03",
        "S1,3,BASELINE,2020-01-10T08:00",
        "S1,3.1,UNSCHED 3.1,2020-01-12",
        "S9,1,SCREENING,2020-01-01",
    )
    write(
        tmp_path,
        "lb.csv",
        "USUBJID,LBSEQ,LBTESTCD,LBSTRESN,LBSTRESC,LBSTRESU,LBSTNRLO,LBSTNRHI,LBDTC,VISITNUM",
        "S1,1,ALT,30,30,U/L,6,34,2020-01-03T09:15,1",
        "S1,2,ALT,31,31,mg/dL,6,34,2020-01-04,1",
        "S1,3,ALB,40,40,g/L,33,49,2020-01-03,1",
        "S1,4,ALT,,,U/L,6,34,2020-01,1",
    )
    write(
        tmp_path,
        "qs.csv",
        "USUBJID,QSSEQ,QSTESTCD,QSSTRESN,QSDTC,VISITNUM,VISIT",
        "S1,1,IT1,3,2020-01-03,1,SCREENING",
        "S1,2,IT2,4,2020-01-03,1,SCREENING",
        "S2,1,IT1,3,2020-01-20,1,SCREENING",
    )
    write(
        tmp_path,
        "ae.csv",
        "USUBJID,AESEQ,AEDECOD,AESEV,AEREL,AESER,AESTDTC,AEENDTC,AEOUT",
        "S1,1,RASH,SEVERE,PROBABLE,N,2020-01-15,2020-02-01,RECOVERED/RESOLVED",
        "S1,2,COUGH,MILD,NONE,N,2020-01-20,,RECOVERED/RESOLVED",
        "S1,3,HEADACHE,EXTREME,NONE,N,2020-01-21,2020-01-22,RECOVERED/RESOLVED",
    )
    write(
        tmp_path,
        "ex.csv",
        "USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXDOSFRQ,EXSTDTC,EXENDTC",
        "S1,1,DRUG,54,mg,QD,2020-01-10,2020-01-20",
        "S1,2,OTHER,54,mg,QD,2020-01-21,2020-01-30",
    )
    write(
        tmp_path,
        "ds.csv",
        "USUBJID,DSSEQ,DSDECOD,DSTERM,DSCAT,DSSTDTC",
        "S1,1,ADVERSE EVENT,RASH,DISPOSITION EVENT,2020-02-01",
    )
    write(tmp_path, "ts.csv", "STUDYID,TSPARMCD", "X,Y")
    return tmp_path


MAP = {
    "arms": {"A": "pbo", "B": "xan_lo"},
    "visits": {"1": "screening_1", "3": "baseline"},
    "interventions": {"DRUG": "xanomeline"},
    "tests": {"LB": {"ALT": "alt"}, "QS": {}},
    "derived": {"mmse": {"domain": "QS", "sum": ["IT1", "IT2"]}},
    "anchors": {
        "randomization": {"dm": "RFSTDTC"},
        "discontinuation": {"ds_decod_except": ["COMPLETED"]},
    },
    "adverse_events": {
        "grade": {"MILD": 1, "MODERATE": 2, "SEVERE": 3},
        "related": {"PROBABLE": "study_drug", "NONE": "none"},
    },
}


def test_small_study(study: Path) -> None:
    trial = dsl.parse_file(PILOT)
    load = load_sdtm(study, map_from_dict(MAP), trial)
    assert {k: c.balanced for k, c in load.accounting.items()} == {
        "dm.csv": True,
        "sv.csv": True,
        "lb.csv": True,
        "qs.csv": True,
        "ae.csv": True,
        "ex.csv": True,
        "ds.csv": True,
    }
    assert load.not_read == ["ts.csv"]
    assert sorted(str(r) for r in load.rejected) == sorted(
        [
            "dm.csv row 4: patient S1: field USUBJID: USUBJID 'S1' appears twice in DM",
            "sv.csv row 4: patient S9: field USUBJID: USUBJID 'S9' is not in DM: the row belongs "
            "to no known subject",
            "lb.csv row 2 (LBSEQ 2): patient S1: field LBSTRESU: unit 'mg/dL' of alt cannot be "
            "converted to the protocol's unit 'U/L'",
            "lb.csv row 4 (LBSEQ 4): patient S1: field LBDTC: LBDTC: partial date '2020-01': a full "
            "date YYYY-MM-DD is needed to place it on the protocol's day-precise timeline "
            "(trialcode does not impute dates)",
            "qs.csv rows 3 (QSSEQ 1): mmse = sum of IT1, IT2: patient S2: field QSTESTCD: mmse at "
            "SCREENING cannot be derived: item IT2 is missing",
            "ae.csv row 2 (AESEQ 2): patient S1: field AEENDTC: AEENDTC is empty but AEOUT is "
            "'RECOVERED/RESOLVED': the end of the event is unknown",
            "ae.csv row 3 (AESEQ 3): patient S1: field AESEV: AESEV 'EXTREME' is not in "
            "[adverse_events.grade] of the map",
            "ex.csv row 2 (EXSEQ 2): patient S1: field EXTRT: EXTRT 'OTHER' is not in "
            "[interventions] of the map",
            "dm.csv row 3 (USUBJID S3): patient S3: field ARMCD: unknown arm code ARMCD 'Z': add it "
            "to [arms] in the map (the subject is kept without an arm)",
            "dm.csv row 3 (USUBJID S3): patient S3: field SEX: SEX 'X' is not M or F",
        ]
    )
    assert load.accounting["lb.csv"].ignored == {"LBTESTCD ALB is not mapped in [tests.LB]": 1}
    s1 = load.patients[0]
    mmse = next(e for e in s1.events if isinstance(e, Observation) and e.kind == "mmse")
    assert (mmse.value, mmse.date, mmse.visit) == (7, datetime.date(2020, 1, 3), "screening_1")
    alt = next(e for e in s1.events if isinstance(e, Observation) and e.kind == "alt")
    # LBDTC 2020-01-03T09:15: the date, and the time of day beside it
    assert (alt.date, alt.time) == (datetime.date(2020, 1, 3),
                                    ClockTime((9 * 60 + 15) * 60_000_000, "minute"))
    baseline = next(v for v in s1.events if isinstance(v, VisitEvent) and v.visit == "baseline")
    assert baseline.time is not None and baseline.time.iso() == "08:00"
    assert mmse.time is None  # its items have no time
    anchors = {e.name: e.date for e in s1.events if isinstance(e, AnchorEvent)}
    assert anchors == {
        "randomization": datetime.date(2020, 1, 10),
        "discontinuation": datetime.date(2020, 2, 1),
    }
    ae = next(e for e in s1.events if isinstance(e, Occurrence))
    assert (ae.attribute("grade"), ae.attribute("related"), ae.end) == (
        3,
        "study_drug",
        datetime.date(2020, 2, 1),
    )
    visits = [(v.visit, v.label) for v in s1.events if type(v).__name__ == "VisitEvent"]
    assert visits == [("screening_1", "SCREENING"), ("baseline", "BASELINE"), (None, "UNSCHED 3.1")]
    assert [p.id for p in load.patients] == ["S1", "S2", "S3"]


def test_map_names_checked_against_the_protocol(study: Path) -> None:
    bad = {**MAP, "arms": {"A": "placebo"}, "visits": {"1": "screening"}}
    with pytest.raises(MapError) as err:
        load_sdtm(study, map_from_dict(bad, "m.toml"), dsl.parse_file(PILOT))
    assert str(err.value) == (
        "m.toml: the map does not fit the protocol:\n"
        "  [arms] A = 'placebo': the protocol has no arm 'placebo' (did you mean 'pbo'?); it has pbo, xan_hi, xan_lo\n"
        "  [visits] 1 = 'screening': the protocol has no visit 'screening' (did you mean "
        "'screening_2'?); it has ae_follow_up, ambul_ecg_placement, ambul_ecg_removal, baseline, "
        "early_termination, rash_follow_up, retrieval, screening_1, screening_2, unscheduled, "
        "week_10_tel, week_12, ..."
    )


def test_map_file_problems(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[arm]\nA = "x"\n[visits]\nfirst = "screening_1"\n[tests.AE]\nX = "y"\n'
        '[anchors.randomization]\nfrom = "DM.RFSTDTC"\n'
    )
    with pytest.raises(MapError) as err:
        load_map(path)
    assert str(err.value) == (
        f"{path}: problems in the map:\n"
        "  unknown table [arm] (did you mean 'arms'?)\n"
        '  [visits] \'first\': keys are VISITNUM numbers such as "3" or "3.5"\n'
        "  [tests.AE]: tests can be mapped for LB, VS, QS, PC, EG\n"
        "  [anchors.randomization] unknown key 'from'\n"
        '  [anchors.randomization] needs a source: dm = "RFSTDTC", or ds_decod / ds_decod_except'
    )
    path.write_text("[arms\n")
    with pytest.raises(MapError, match="not valid TOML"):
        load_map(path)


def test_map_disposition_effects(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[disposition]\nCOMPLETED = "completed"\n'
        '"ADVERSE EVENT" = { status = "adverse event", effect = "withdraw" }\n'
        'DEATH = { status = "died" }\n'
    )
    m = load_map(path)
    assert m.disposition == {"COMPLETED": "completed", "ADVERSE EVENT": "adverse event",
                             "DEATH": "died"}
    assert m.disposition_effects == {"ADVERSE EVENT": "withdraw"}
    path.write_text(
        '[disposition]\nA = { status = "a", effect = "stop" }\nB = { effect = "none" }\n'
        'C = { status = "c", why = "x" }\nD = 3\n'
    )
    with pytest.raises(MapError) as err:
        load_map(path)
    assert str(err.value) == (
        f"{path}: problems in the map:\n"
        '  [disposition] A: effect must be one of "withdraw", "discontinue", "complete", "none", '
        "got 'stop'\n"
        "  [disposition] B: status must be a non-empty string, got None\n"
        "  [disposition] C: unknown key 'why' (status, effect)\n"
        '  [disposition] D: expected a status as a string, or { status = "...", effect = ... }, '
        "got 3"
    )


def test_folder_without_dm(tmp_path: Path) -> None:
    with pytest.raises(SdtmError, match="no DM dataset"):
        load_sdtm(tmp_path)
    with pytest.raises(SdtmError, match="not a folder"):
        load_sdtm(tmp_path / "nothing")


def test_without_a_map_codes_are_used_as_they_are(study: Path) -> None:
    load = load_sdtm(study)
    s1 = load.patients[0]
    assert s1.arm == "A"
    kinds = {e.kind for e in s1.events if isinstance(e, Observation)}
    assert kinds == {"alt", "alb", "it1", "it2"}
    assert all(c.balanced for c in load.accounting.values())


def test_test_rules_with_conditions_and_ds_conditioned_dm_anchor(tmp_path: Path) -> None:
    write(
        tmp_path,
        "dm.csv",
        "USUBJID,ARMCD,RFSTDTC,RFXENDTC",
        "S1,A,2020-01-10,2020-02-01",
        "S2,A,2020-01-12,2020-07-01",
    )
    write(
        tmp_path,
        "ds.csv",
        "USUBJID,DSSEQ,DSDECOD,DSTERM,DSCAT,DSSTDTC",
        "S1,1,ADVERSE EVENT,RASH,DISPOSITION EVENT,2020-03-01",
        "S2,1,COMPLETED,COMPLETED,DISPOSITION EVENT,2020-07-01",
    )
    write(
        tmp_path,
        "vs.csv",
        "USUBJID,VSSEQ,VSTESTCD,VSPOS,VSSTRESN,VSSTRESU,VSDTC",
        "S1,1,SYSBP,SUPINE,120,mmHg,2020-01-10",
        "S1,2,SYSBP,STANDING,110,mmHg,2020-01-10",
        "S1,3,SYSBP,SITTING,115,mmHg,2020-01-10",
    )
    mapping = map_from_dict(
        {
            "arms": {"A": "pbo"},
            "tests": {
                "VS": {
                    "SYSBP": [
                        {"item": "sysbp", "when": {"VSPOS": "SUPINE"}},
                        {"item": "sysbp_standing", "when": {"VSPOS": ["STANDING"]}},
                    ]
                }
            },
            "units": {"mmHg": "mm[Hg]"},
            "anchors": {
                "randomization": {"dm": "RFSTDTC"},
                "discontinuation": {
                    "dm": "RFXENDTC",
                    "ds_category": "DISPOSITION EVENT",
                    "ds_decod_except": ["COMPLETED"],
                },
            },
        }
    )
    load = load_sdtm(tmp_path, mapping, dsl.parse_file(PILOT))
    s1, s2 = load.patients
    obs = [(e.kind, e.value, e.unit) for e in s1.events if isinstance(e, Observation)]
    assert obs == [("sysbp", 120, "mm[Hg]"), ("sysbp_standing", 110, "mm[Hg]")]
    assert load.accounting["vs.csv"].ignored == {
        "VSTESTCD SYSBP with VSPOS 'SITTING': not selected by the map": 1
    }
    assert {e.name: e.date for e in s1.events if isinstance(e, AnchorEvent)} == {
        "randomization": datetime.date(2020, 1, 10),
        "discontinuation": datetime.date(2020, 2, 1),  # RFXENDTC, not the DS date
    }
    assert {e.name for e in s2.events if isinstance(e, AnchorEvent)} == {"randomization"}
    assert load.rejected == []
