"""Patient data that tries to act in the files and terminal it reaches (issue 16).

* CSV listings are opened in Excel: a cell that starts like a formula (`=HYPERLINK(...)`,
  `+`, `-`, `@`, tab, carriage return: OWASP's CSV injection list) is written with a leading
  apostrophe, so the spreadsheet shows it as text; the value after the apostrophe is intact.
* The terminal: an ANSI or OSC escape in a patient id or a message is shown as `\\x1b`, never
  sent raw (a patient id with one is rejected, and the rejection quotes it escaped).
* A right-to-left override in loaded data rejects its record, naming the character.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from protocol.safe_text import terminal_safe
from render.report.listings import neutral_cell
from trialcode.cli import main

DATA = Path(__file__).resolve().parent / "data"
MINI = DATA / "mini.trial"
PATIENTS = DATA / "mini-patients.jsonl"

FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A9)", "\tTAB", "\rCR"]


def _patients(tmp_path: Path, ids: list[str]) -> Path:
    """The report tests' patients M1-M3 under the given ids (M1 and M2 have deviations,
    M2 is not eligible)."""
    lines = PATIENTS.read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line, pid in zip(lines[1:4], ids, strict=True):
        patient = json.loads(line)
        patient["id"] = pid
        out.append(json.dumps(patient))
    path = tmp_path / "patients.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(value: str) -> None:
    cell = neutral_cell(value)
    assert cell.startswith("'")
    assert cell[1:] == terminal_safe(value)  # a carriage return shown as \\x0d


@pytest.mark.parametrize("value", [-2, 3.5, 0, "", "M1", "a=b", "1-2", "'quoted"])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert neutral_cell(value) == value


def test_formula_patient_ids_reach_no_csv_listing_live(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # M1 (all on time, eligible) is in no listing; M2 and M3 are in several
    ids = [FORMULAS[3], FORMULAS[0], FORMULAS[2]]
    patients = _patients(tmp_path, ids)
    status = main(["validate", str(MINI), "--patients", str(patients), "--as-of", "2024-03-01",
                   "--csv", str(tmp_path / "csv"), "-q"])
    assert status == 0
    seen: set[str] = set()
    for listing in sorted((tmp_path / "csv").glob("*.csv")):
        with listing.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        for row in rows[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or _number(cell), \
                    (listing.name, cell)
            seen.update(c[1:] for c in row if c[1:] in ids and c.startswith("'"))
    # the ids are there, whole, behind the apostrophe
    assert seen == {ids[1], ids[2]}


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_escape_sequences_never_reach_the_terminal(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    osc = "\x1b]0;owned\x07\x1b[2J"
    patients = _patients(tmp_path, [f"M1{osc}", "M2\u202e01", "M3"])
    status = main(["validate", str(MINI), "--patients", str(patients), "--as-of", "2024-03-01",
                   "--csv", str(tmp_path / "csv")])
    assert status == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    # both lines rejected, each naming the character, the id shown with visible escapes
    assert "patient id \"M1\\u001b]0;owned\\u0007\\u001b[2J\" contains U+001B (ESCAPE)" in out
    assert "patient id \"M2\\u202e01\" contains U+202E (RIGHT-TO-LEFT OVERRIDE)" in out
    assert "Rejected records: 2" in out
    listing = (tmp_path / "csv" / "rejected.csv").read_text(encoding="utf-8-sig")
    assert "\x1b" not in listing and "\u202e" not in listing
