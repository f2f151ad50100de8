"""SDTM folders a data manager can really be handed (issue 16).

Structural problems (a required variable missing, semicolons, lower-case names, an empty DM,
a dataset in two files) are one clear dataset-level error each, all listed together, and
`validate` exits with status 3; before, they were thousands of misleading row rejections and
exit 0, or a silent merge. A bad byte or a ragged row rejects that row alone. Values that
vanished (AGE 'old', EXDOSE 'fifty', LBSTNRHI 'high') or were quoted from the wrong variable
(LBSTRESN 'abc') are rejected, naming the right variable."""

from __future__ import annotations

from pathlib import Path

import pytest

import dsl
from engine.io.sdtm import SdtmStructureError, load_sdtm, map_from_dict
from engine.patient import DoseEvent, Observation, Patient
from trialcode import exits
from trialcode.cli import main

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "io" / "data" / "mini.trial"
TRIAL = dsl.parse_file(MINI)
MAP = {"arms": {"A": "a", "B": "b"}, "interventions": {"DRUGA": "drug_a"},
       "tests": {"LB": {"ALT": "alt"}}}

DM = ("USUBJID,ARMCD,SEX,AGE,AGEU,BRTHDTC,RFSTDTC",
      "S1,A,F,70,YEARS,1950-01-01,2020-01-10",
      "S2,B,M,60,YEARS,1960-01-01,2020-02-01")
LB = ("USUBJID,LBSEQ,LBTESTCD,LBSTRESN,LBSTRESC,LBSTRESU,LBSTNRLO,LBSTNRHI,LBDTC",
      "S1,1,ALT,30,30,U/L,6,34,2020-01-03",
      "S2,1,ALT,31,31,U/L,6,34,2020-01-20")
AE = ("USUBJID,AESEQ,AEDECOD,AESTDTC,AEENDTC,AEOUT",
      "S1,1,RASH,2020-01-15,2020-02-01,RECOVERED/RESOLVED")
EX = ("USUBJID,EXSEQ,EXTRT,EXDOSE,EXDOSU,EXSTDTC,EXENDTC",
      "S1,1,DRUGA,10,mg,2020-01-11,2020-01-11")


def folder(tmp_path: Path, **datasets: tuple[str, ...] | bytes) -> Path:
    """A study folder: the four good datasets above, with those given replaced or added
    (`dm=None`-like removal by passing ())."""
    files: dict[str, tuple[str, ...] | bytes] = {"dm.csv": DM, "lb.csv": LB, "ae.csv": AE,
                                                 "ex.csv": EX}
    files.update({name.replace("_", "."): rows for name, rows in datasets.items()})
    for name, rows in files.items():
        data = rows if isinstance(rows, bytes) else ("\n".join(rows) + "\n").encode()
        if data:
            (tmp_path / name).write_bytes(data)
    return tmp_path


def load(path: Path) -> tuple[list[Patient], list[str]]:
    result = load_sdtm(path, map_from_dict(MAP), TRIAL)
    for count in result.accounting.values():
        assert count.balanced, count
    return result.patients, [str(r) for r in result.rejected]


def structure_errors(path: Path) -> list[str]:
    with pytest.raises(SdtmStructureError) as caught:
        load_sdtm(path, map_from_dict(MAP), TRIAL)
    return caught.value.problems


def test_the_good_folder_loads(tmp_path: Path) -> None:
    patients, rejected = load(folder(tmp_path))
    assert [p.id for p in patients] == ["S1", "S2"] and rejected == []


@pytest.mark.parametrize(("dataset", "variable", "why"), [
    ("ae.csv", "USUBJID", "the subject of each row"),
    ("dm.csv", "RFSTDTC", "the randomization date, [anchors.randomization]"),
    ("ae.csv", "AESTDTC", "the start date"),
    ("lb.csv", "LBSTRESN", "the numeric results of alt"),
])
def test_a_missing_required_variable_is_one_dataset_error(
    tmp_path: Path, dataset: str, variable: str, why: str
) -> None:
    rows = {"dm.csv": DM, "lb.csv": LB, "ae.csv": AE}[dataset]
    header = rows[0].split(",")
    drop = header.index(variable)
    cut = tuple(",".join(v for i, v in enumerate(r.split(",")) if i != drop) for r in rows)
    problems = structure_errors(folder(tmp_path, **{dataset.replace(".", "_"): cut}))
    assert problems == [f"{dataset}: the variable {variable} is missing ({why})"]


def test_every_structural_problem_is_listed_at_once(tmp_path: Path) -> None:
    problems = structure_errors(folder(
        tmp_path,
        lb_csv=tuple(r.replace(",", ";") for r in LB),
        ae_csv=tuple([AE[0].lower(), *AE[1:]]),
        ex_csv=("USUBJID,EXSEQ,EXTRT,EXTRT,EXSTDTC", "S1,1,DRUGA,DRUGA,2020-01-11"),
    ))
    assert problems == [
        "ae.csv: variable names in lower case (aedecod, aeendtc, aeout, aeseq, aestdtc, ...); "
        "SDTM variable names are upper case (USUBJID, not usubjid)",
        "ex.csv: the variable EXTRT is named twice in the header",
        "lb.csv: the header is separated by semicolons; an SDTM CSV file is comma-separated "
        "(save it as CSV with commas)",
    ]


def test_an_empty_dm_is_a_dataset_error(tmp_path: Path) -> None:
    problems = structure_errors(folder(tmp_path, dm_csv=DM[:1]))
    assert problems == ["dm.csv: DM has no rows: the patients come from DM"]


def test_a_dataset_in_two_files_is_a_dataset_error(tmp_path: Path) -> None:
    import pandas as pd
    import pyreadstat

    path = folder(tmp_path)
    frame = pd.DataFrame([r.split(",") for r in DM[1:]], columns=DM[0].split(","))
    pyreadstat.write_xport(frame, str(path / "dm.xpt"), table_name="DM")
    (path / "LB.CSV").write_text("\n".join(LB) + "\n")
    assert structure_errors(path) == [
        "LB.CSV and lb.csv: the dataset LB is given twice; keep one file (both would be read "
        "and every row counted twice)",
        "dm.csv and dm.xpt: the dataset DM is given twice; keep one file (both would be read "
        "and every row counted twice)",
    ]


def test_a_variable_missing_for_some_rows_is_reported_once(tmp_path: Path) -> None:
    ex = ("USUBJID,EXSEQ,EXTRT,EXDOSE,EXSTDTC,EXENDTC",
          *(f"S1,{n},DRUGA,10,2020-01-{10 + n},2020-01-{10 + n}" for n in range(1, 8)))
    problems = structure_errors(folder(tmp_path, ex_csv=ex))
    assert problems == ["ex.csv: the variable EXDOSU is missing (every row that needs it would "
                        "be rejected; the first: EXDOSE 10 has no unit)"]


def test_a_latin1_byte_rejects_its_row_alone(tmp_path: Path) -> None:
    ae = ("\n".join(AE) + "\nS2,2,ECZ\xc9MA,2020-02-15,2020-02-20,RECOVERED/RESOLVED\n"
          + "S2,3,COUGH,2020-02-15,2020-02-20,RECOVERED/RESOLVED\n").encode("latin-1")
    patients, rejected = load(folder(tmp_path, ae_csv=ae))
    assert rejected == ["ae.csv row 2 (AESEQ 2): patient S2: field AEDECOD: AEDECOD: byte 0xc9 "
                        "is not UTF-8 (a file in Latin-1 or Windows-1252? save it as UTF-8)"]
    assert len([e for e in patients[1].events if getattr(e, "kind", "") == "adverse_event"]) == 1


def test_a_ragged_row_rejects_its_row_alone(tmp_path: Path) -> None:
    lb = (*LB, "S2,2,ALT,31,31,U/L,6,34,2020-01-21,EXTRA", "S2,3,ALT")
    patients, rejected = load(folder(tmp_path, lb_csv=lb))
    assert rejected == [
        "lb.csv row 3 (LBSEQ 2): patient S2: the row has 10 values but the header has 9 "
        "variables (a separator or quote out of place?)",
        "lb.csv row 4 (LBSEQ 3): patient S2: the row has 3 values but the header has 9 "
        "variables (a separator or quote out of place?)",
    ]


def test_a_result_that_is_not_a_number_quotes_the_variable_it_is_in(tmp_path: Path) -> None:
    lb = (*LB, "S2,2,ALT,abc,27,U/L,6,34,2020-01-21", "S2,3,ALT,,<3,U/L,6,34,2020-01-22")
    _patients, rejected = load(folder(tmp_path, lb_csv=lb))
    assert rejected == [
        "lb.csv row 3 (LBSEQ 2): patient S2: field LBSTRESN: LBSTRESN 'abc' is not a number",
        "lb.csv row 4 (LBSEQ 3): patient S2: field LBSTRESC: LBSTRESC: value '<3' of alt (lab) "
        "is not a number (LBSTRESN is empty)",
    ]


def test_values_that_are_not_numbers_no_longer_vanish(tmp_path: Path) -> None:
    dm = (DM[0], "S1,A,F,old,YEARS,1950-01-01,2020-01-10", DM[2])
    ex = (EX[0], "S1,1,DRUGA,fifty,mg,2020-01-11,2020-01-11")
    lb = (*LB, "S2,2,ALT,31,31,U/L,6,high,2020-01-21", "S2,3,ALT,31,31,U/L,40,6,2020-01-22")
    patients, rejected = load(folder(tmp_path, dm_csv=dm, ex_csv=ex, lb_csv=lb))
    assert rejected == [
        "ex.csv row 1 (EXSEQ 1): patient S1: field EXDOSE: EXDOSE 'fifty' is not a number",
        "lb.csv row 3 (LBSEQ 2): patient S2: field LBSTNRHI: LBSTNRHI 'high' is not a number",
        "lb.csv row 4 (LBSEQ 3): patient S2: field LBSTNRLO: LBSTNRLO 40 is above LBSTNRHI 6",
        "dm.csv row 1 (USUBJID S1): patient S1: field AGE: AGE 'old' is not a number: the age "
        "is not used",
    ]
    assert patients[0].age is None
    assert not [e for e in patients[0].events if isinstance(e, DoseEvent)]
    assert len([e for e in patients[1].events if isinstance(e, Observation)]) == 1


def test_a_birth_date_after_the_first_record_is_not_used(tmp_path: Path) -> None:
    dm = (DM[0], "S1,A,F,,,2047-01-01,2020-01-10", DM[2])
    patients, rejected = load(folder(tmp_path, dm_csv=dm))
    assert rejected == [
        "dm.csv row 1 (USUBJID S1): patient S1: field BRTHDTC: BRTHDTC 2047-01-01 is after the "
        "subject's first record (2020-01-03, lb.csv row 1 (LBSEQ 1)): the birth date is not used"
    ]
    assert patients[0].birth_date is None


@pytest.mark.parametrize(("cell", "char"), [
    ("RASH \u202eHSAR", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
])
def test_a_bidirectional_control_rejects_its_row(tmp_path: Path, cell: str, char: str) -> None:
    ae = (*AE, f"S2,2,{cell},2020-02-15,2020-02-20,RECOVERED/RESOLVED")
    _patients, rejected = load(folder(tmp_path, ae_csv=ae))
    assert rejected == [f"ae.csv row 2 (AESEQ 2): patient S2: field AEDECOD: AEDECOD contains "
                        f"{char}, an invisible control that makes text display differently "
                        "from what it is"]


def test_an_escape_sequence_in_a_subject_id_rejects_its_row(tmp_path: Path) -> None:
    dm = (*DM, "S3\x1b]0;owned\x07,A,F,70,YEARS,1950-01-01,2020-01-10")
    patients, rejected = load(folder(tmp_path, dm_csv=dm))
    assert [p.id for p in patients] == ["S1", "S2"]
    assert len(rejected) == 1 and "USUBJID contains U+001B (ESCAPE)" in rejected[0]


def test_validate_exits_3_on_a_structural_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sdtm").mkdir()
    path = folder(tmp_path / "sdtm", dm_csv=DM[:1])
    (tmp_path / "map.toml").write_text('[arms]\nA = "a"\nB = "b"\n')
    status = main(["validate", str(MINI), "--sdtm", str(path), "--map", str(tmp_path / "map.toml"),
                   "--json", str(tmp_path / "r.json")])
    assert status == exits.EXIT_DATA
    err = capsys.readouterr().err
    assert err == (f"trialcode validate: {path}: the SDTM datasets cannot be used as they are:\n"
                   "  dm.csv: DM has no rows: the patients come from DM\n")
    assert not (tmp_path / "r.json").exists()
