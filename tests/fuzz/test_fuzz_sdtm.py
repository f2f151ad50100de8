"""Fuzzing SDTM folders through `trialcode validate --sdtm` (issue 16): hostile cells (bytes
that are not UTF-8, controls, bidirectional overrides, formulas, numbers of hundreds of
digits, impossible dates) and broken structure (a column missing, lower-case names,
semicolons, ragged rows, an empty dataset, a byte-order mark, CR LF). Every run ends with a
documented status (0, or 3 for a dataset-level error), prints no traceback and nothing a
terminal would obey, and every row of every dataset is accounted for:
rows = used + rejected + ignored."""

from __future__ import annotations

from pathlib import Path

from fuzzkit import FUZZ, MINI, assert_clean, run
from hypothesis import given, settings
from hypothesis import strategies as st

import dsl
from engine.io.sdtm import load_sdtm, map_from_dict
from engine.io.sdtm_read import SdtmError
from trialcode import exits

TRIAL = dsl.parse_file(MINI)
MAP = {"arms": {"A": "a", "B": "b"}, "interventions": {"DRUGA": "drug_a"},
       "tests": {"LB": {"ALT": "alt"}}}
MAP_TOML = '[arms]\nA = "a"\nB = "b"\n[interventions]\nDRUGA = "drug_a"\n[tests.LB]\nALT = "alt"\n'

DATASETS: dict[str, list[list[str]]] = {
    "dm.csv": [["USUBJID", "ARMCD", "SEX", "AGE", "AGEU", "BRTHDTC", "RFSTDTC"],
               ["S1", "A", "F", "70", "YEARS", "1950-01-01", "2020-01-10"],
               ["S2", "B", "M", "60", "YEARS", "1960-01-01", "2020-02-01"],
               ["S3", "A", "M", "50", "YEARS", "1970-01-01", "2020-03-01"]],
    "lb.csv": [["USUBJID", "LBSEQ", "LBTESTCD", "LBSTRESN", "LBSTRESC", "LBSTRESU", "LBSTNRLO",
                "LBSTNRHI", "LBDTC"],
               ["S1", "1", "ALT", "30", "30", "U/L", "6", "34", "2020-01-03"],
               ["S2", "1", "ALT", "31", "31", "U/L", "6", "34", "2020-01-20"],
               ["S3", "1", "ALT", "90", "90", "U/L", "6", "34", "2020-02-25"]],
    "ae.csv": [["USUBJID", "AESEQ", "AEDECOD", "AESTDTC", "AEENDTC", "AEOUT"],
               ["S1", "1", "RASH", "2020-01-15", "2020-02-01", "RECOVERED/RESOLVED"]],
    "ex.csv": [["USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC", "EXENDTC"],
               ["S1", "1", "DRUGA", "10", "mg", "2020-01-11", "2020-01-11"],
               ["S3", "1", "DRUGA", "10", "mg", "2020-03-02", "2020-03-02"]],
}

HOSTILE_CELLS = ["", " ", "abc", "-1", "1e400", "9" * 400, "NaN", "inf", "2020-02-30",
                 "2020-13-01", "0000-00-00", "9999-12-31T23:59:60", "\x1b[31mS1\x1b[0m",
                 "S\u202e1", "=HYPERLINK(\"http://x\",\"y\")", "+1", "@SUM(A1)", '"', '""',
                 "a,b", "line\nbreak", "é", "\u00a0", "S1", "S2", "A", "DRUGA", "ALT"]
HOSTILE_BYTES = [b"\xe9", b"\xff\xfe", b"\x00", b"\x1b]0;x\x07"]


@st.composite
def folders(draw: st.DrawFn) -> dict[str, bytes]:
    data = {name: [list(row) for row in rows] for name, rows in DATASETS.items()}
    for _ in range(draw(st.integers(0, 4))):  # hostile cells
        name = draw(st.sampled_from(sorted(data)))
        rows = data[name]
        row = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        col = draw(st.integers(0, len(rows[row]) - 1))
        rows[row][col] = draw(st.sampled_from(HOSTILE_CELLS))
    structure = draw(st.sampled_from(["none"] * 6 + ["drop column", "lower case", "semicolons",
                                      "ragged", "empty", "only header", "bom", "crlf",
                                      "drop dataset", "duplicate row"]))
    target = draw(st.sampled_from(sorted(data)))
    rows = data[target]
    if structure == "drop column":
        col = draw(st.integers(0, len(rows[0]) - 1))
        data[target] = [r[:col] + r[col + 1:] for r in rows]
    elif structure == "ragged":
        row = draw(st.integers(1, len(rows) - 1))
        rows[row] = rows[row] + ["extra"] if draw(st.booleans()) else rows[row][:-2]
    elif structure == "only header":
        data[target] = rows[:1]
    elif structure == "duplicate row":
        rows.append(list(rows[-1]))
    out: dict[str, bytes] = {}
    for name, rows in data.items():
        if structure == "drop dataset" and name == target:
            continue
        sep = ";" if structure == "semicolons" and name == target else ","
        lines = [sep.join(_quote(c) for c in r) for r in rows]
        if structure == "lower case" and name == target:
            lines[0] = lines[0].lower()
        text = ("\r\n" if structure == "crlf" else "\n").join(lines) + "\n"
        raw = text.encode("utf-8", "surrogatepass")
        if structure == "empty" and name == target:
            raw = b""
        if structure == "bom" and name == target:
            raw = b"\xef\xbb\xbf" + raw
        out[name] = raw
    if draw(st.integers(0, 3)) == 0 and out:  # a byte that is not UTF-8 in some row
        name = draw(st.sampled_from(sorted(out)))
        lines = out[name].split(b"\n")
        where = draw(st.integers(0, max(len(lines) - 2, 0)))
        lines[where] += draw(st.sampled_from(HOSTILE_BYTES))
        out[name] = b"\n".join(lines)
    return out


def _quote(cell: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if any(c in cell for c in ',"\n') else cell


@settings(FUZZ, max_examples=200)
@given(folders())
def test_validate_takes_any_sdtm_folder_and_accounts_for_every_row(tmp_path_factory,
                                                                   files: dict[str, bytes]) -> None:
    folder = tmp_path_factory.mktemp("sdtm")
    study = folder / "study"
    study.mkdir()
    for name, raw in files.items():
        (study / name).write_bytes(raw)
    (folder / "map.toml").write_text(MAP_TOML, encoding="utf-8")
    status, out, err = run("validate", MINI, "--sdtm", study, "--map", folder / "map.toml",
                           "--as-of", "2020-12-31", "--json", folder / "r.json")
    assert_clean(status, out, err)
    assert status in (exits.EXIT_OK, exits.EXIT_DATA), err
    try:
        loaded = load_sdtm(study, map_from_dict(MAP), TRIAL)
    except SdtmError:  # no DM, or a dataset-level structural error
        assert status == exits.EXIT_DATA and not (folder / "r.json").exists()
        return
    assert status == exits.EXIT_OK, err
    for count in loaded.accounting.values():
        assert count.balanced, count


def test_the_unbroken_folder_is_read_whole(tmp_path: Path) -> None:
    for name, rows in DATASETS.items():
        (tmp_path / name).write_text("\n".join(",".join(r) for r in rows) + "\n")
    loaded = load_sdtm(tmp_path, map_from_dict(MAP), TRIAL)
    assert len(loaded.patients) == 3 and loaded.rejected == []
    assert {n: (c.rows, c.used) for n, c in loaded.accounting.items()} == {
        "dm.csv": (3, 3), "lb.csv": (3, 3), "ae.csv": (1, 1), "ex.csv": (2, 2)}
