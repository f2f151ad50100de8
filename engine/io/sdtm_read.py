"""Reading SDTM dataset files, and the checks of their structure (engine.io.sdtm loads them).

Two kinds of problem, kept apart:

* a **structural** problem concerns a whole dataset: a variable the loader needs is missing,
  the CSV is separated by semicolons or has lower-case variable names, a variable is named
  twice, DM has no rows, a domain comes in two files (`dm.xpt` and `dm.csv`), the file cannot
  be read at all. A run on such a folder would not mean what was asked (every row rejected
  for the same reason, or a dataset silently counted twice), so the loader lists every such
  problem and stops (`SdtmStructureError`; `validate` exits with status 3);
* a **row** problem concerns one row: a byte that is not UTF-8, a row with more or fewer
  values than the header, an invisible control character in a value. The row is rejected,
  named, and the rest is read (a `BadRow` in the dataset's rows).
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

from protocol.safe_text import bidi_control, describe_char

Row = dict[str, Any]

DOMAINS = ("DM", "SV", "EX", "LB", "VS", "QS", "PC", "EG", "DS", "SUPPDS", "AE")
FINDINGS = ("LB", "VS", "QS", "PC", "EG")


class SdtmError(Exception):
    """The folder cannot be read as SDTM (no DM dataset, an unreadable file)."""


class SdtmStructureError(SdtmError):
    """Datasets with structural problems: every one found, each naming its dataset."""

    def __init__(self, folder: Path, problems: list[str]):
        self.problems = problems
        lines = [f"{folder}: the SDTM datasets cannot be used as they are:"]
        lines += [f"  {p}" for p in problems]
        super().__init__("\n".join(lines))


@attrs.frozen
class BadRow:
    """A row that cannot be read: the problem, the variable concerned (if one), and what could
    be read of the row (to name its subject)."""

    problem: str
    variable: str | None
    values: Row


@attrs.define
class Dataset:
    """One dataset file: its variables in file order and its rows (a BadRow for each row that
    cannot be read, in its place, so that row numbers stay those of the file)."""

    path: Path
    columns: tuple[str, ...]
    rows: list[Row | BadRow]


def dataset_files(folder: Path) -> dict[str, list[Path]]:
    """Files per domain: `dm.xpt`, `DM.csv`, and split domains such as `qsmm.xpt` for QS.
    Files of no domain read are under `?name`."""
    found: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".xpt", ".csv") or not path.is_file():
            continue
        stem = path.stem.upper()
        if stem in DOMAINS:
            found[stem].append(path)
        elif stem[:2] in FINDINGS and re.fullmatch(r"[A-Z]{2}[A-Z0-9]{1,4}", stem):
            found[stem[:2]].append(path)  # a split findings domain: QSMM, LBCH, ...
        else:
            found["?" + path.name].append(path)
    return found


def twice(files: dict[str, list[Path]]) -> list[str]:
    """One problem per dataset given in two files (`dm.xpt` and `dm.csv`, `lb.csv` and
    `LB.csv`): reading both would count every row twice, and choosing one would be a guess."""
    problems = []
    for domain, paths in files.items():
        by_stem: dict[str, list[Path]] = defaultdict(list)
        for path in paths:
            by_stem[path.stem.upper()].append(path)
        for stem, same in sorted(by_stem.items()):
            if len(same) > 1 and not domain.startswith("?"):
                names = " and ".join(p.name for p in same)
                problems.append(
                    f"{names}: the dataset {stem} is given twice; keep one file (both would be "
                    "read and every row counted twice)"
                )
    return problems


# ---- reading ---------------------------------------------------------------------------------


def read_columns(path: Path) -> tuple[str, ...]:
    """The variables of a dataset file, without reading its rows. Raises SdtmError."""
    if path.suffix.lower() == ".xpt":
        try:
            import pyreadstat

            _frame, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        except Exception as exc:  # pyreadstat raises many kinds
            raise SdtmError(f"{path.name}: cannot read the SAS transport file: {exc}") from None
        return tuple(str(c) for c in meta.column_names)
    with _open_csv(path) as handle:
        header = next(csv.reader(handle), None)
    return _csv_header(path, header)


def read_dataset(path: Path) -> Dataset:
    """Every row of a dataset: a dict of variable -> str (character) or float/None (numeric;
    CSV values are all strings), or a BadRow. Raises SdtmError when the file as a whole
    cannot be read."""
    if path.suffix.lower() == ".xpt":
        return _read_xpt(path)
    return _read_csv(path)


def _open_csv(path: Path) -> Any:
    # A byte that is not UTF-8 is kept as a lone surrogate (surrogateescape) so that its row
    # alone is rejected; a byte-order mark at the start is not part of the first name.
    try:
        return path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as exc:
        raise SdtmError(f"{path.name}: cannot read: {exc.strerror or exc}") from None


def _csv_header(path: Path, header: list[str] | None) -> tuple[str, ...]:
    if not header:
        raise SdtmError(f"{path.name}: the file is empty: a CSV dataset starts with a header row")
    for name in header:
        if _not_utf8(name) is not None:
            raise SdtmError(f"{path.name}: the header row is not UTF-8 text")
    return tuple(name.strip() for name in header)


def _read_csv(path: Path) -> Dataset:
    with _open_csv(path) as handle:
        reader = csv.reader(handle)
        try:
            columns = _csv_header(path, next(reader, None))
            width = len(columns)
            rows: list[Row | BadRow] = []
            for values in reader:
                if not values:  # a blank line is no row
                    continue
                row = dict(zip(columns, values, strict=False))
                if len(values) != width:
                    # shown with any byte that is not UTF-8 replaced: the report is UTF-8
                    shown = {k: _replace_bad_bytes(v) for k, v in row.items()}
                    rows.append(BadRow(
                        f"the row has {len(values)} values but the header has {width} "
                        "variables (a separator or quote out of place?)", None, shown))
                elif not "".join(values).isascii():
                    bad = _row_problem(row)
                    rows.append(row if bad is None else bad)
                else:
                    rows.append(row)
        except csv.Error as exc:  # a NUL byte, a quote never closed
            raise SdtmError(f"{path.name} line {reader.line_num}: not a CSV file: {exc}") from None
    return Dataset(path, columns, rows)


def _read_xpt(path: Path) -> Dataset:
    try:
        import pyreadstat

        frame, _meta = pyreadstat.read_xport(str(path))
    except Exception as exc:  # pyreadstat raises many kinds
        raise SdtmError(f"{path.name}: cannot read the SAS transport file: {exc}") from None
    # Column lists, then zip: much faster than DataFrame.to_dict on string columns.
    columns = tuple(str(c) for c in frame.columns)
    values = [frame[c].tolist() for c in frame.columns]
    rows: list[Row | BadRow] = []
    for cells in zip(*values, strict=True):
        row = dict(zip(columns, cells, strict=True))
        if any(c.__class__ is str and not c.isascii() for c in cells):
            bad = _row_problem(row)
            rows.append(row if bad is None else bad)
        else:
            rows.append(row)
    return Dataset(path, columns, rows)


def _not_utf8(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
    return None


def _row_problem(row: Row) -> BadRow | None:
    """A BadRow for a row with a byte that is not UTF-8 or a bidirectional control in a
    value; None for a good row."""
    for var, value in row.items():
        if value.__class__ is not str:
            continue
        byte = _not_utf8(value)
        if byte is not None:
            shown = {k: _replace_bad_bytes(v) for k, v in row.items()}
            return BadRow(
                f"{var}: byte {byte} is not UTF-8 (a file in Latin-1 or Windows-1252? save it "
                "as UTF-8)", var, shown)
        char = bidi_control(value)
        if char is not None:
            return BadRow(
                f"{var} contains {describe_char(char)}, an invisible control that makes text "
                "display differently from what it is", var, row)
    return None


def _replace_bad_bytes(value: Any) -> Any:
    if value.__class__ is not str:
        return value
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in value)


# ---- values ----------------------------------------------------------------------------------


def text(row: Row, var: str) -> str:
    """A variable's value as text, stripped; "" when absent or missing (a SAS missing value)."""
    value = row.get(var)
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:g}"
    return str(value).strip()


def number(row: Row, var: str) -> float | None:
    """A variable's numeric value; None when absent, empty, or not a number (see `numeric`,
    which says which)."""
    value = row.get(var)
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return float(value)
    try:
        result = float(str(value))
    except ValueError:
        return None
    return None if not math.isfinite(result) else result


def not_a_number(row: Row, var: str) -> str | None:
    """The text of a numeric variable whose value is given but is not a finite number
    (`AGE 'old'`, `LBSTRESN 'abc'`, `inf`), or None when it is a number or empty."""
    value = row.get(var)
    if value is None or isinstance(value, (int, float)):
        return None
    shown = str(value).strip()
    if not shown:
        return None
    try:
        result = float(shown)
    except ValueError:
        return shown
    return None if math.isfinite(result) else shown


# ---- structure -------------------------------------------------------------------------------


@attrs.frozen
class Need:
    """Variables a dataset must have (one of `names`), and what for."""

    names: tuple[str, ...]
    why: str


def column_problems(name: str, columns: tuple[str, ...], needs: list[Need]) -> list[str]:
    """The structural problems of a dataset's variables, each naming the dataset."""
    if len(columns) == 1 and (";" in columns[0] or "\t" in columns[0]):
        separator = "semicolons" if ";" in columns[0] else "tabs"
        return [f"{name}: the header is separated by {separator}; an SDTM CSV file is "
                "comma-separated (save it as CSV with commas)"]
    problems = []
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            problems.append(f"{name}: the variable {column} is named twice in the header")
        seen.add(column)
    present = set(columns)
    lower = sorted(c for c in columns if c != c.upper() and c.upper() not in present)
    if lower and any(c.upper() in n.names for c in lower for n in needs):
        shown = ", ".join(lower[:5]) + (", ..." if len(lower) > 5 else "")
        problems.append(f"{name}: variable names in lower case ({shown}); SDTM variable names "
                        "are upper case (USUBJID, not usubjid)")
        return problems
    for need in needs:
        if not present.intersection(need.names):
            names = " or ".join(need.names)
            problems.append(f"{name}: the variable {names} is missing ({need.why})")
    return problems
