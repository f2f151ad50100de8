"""Units of measure, by UCUM code, through pint and ucumvert.

Lab results arrive with UCUM-ish unit strings (`U/L`, `umol/L`, `10*9/L`); thresholds in a
protocol carry units too. A comparison is only made after converting the threshold into the
unit of the record; a unit that cannot be converted is an error naming the record, never a pass.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

import attrs

from protocol.source import Span, span_field

# Spellings seen in EDC exports and in protocols that UCUM writes differently.
_ALIASES = {
    "µg": "ug",
    "μg": "ug",
    # Clinical labs write enzyme activity as IU/L; for enzymes it is the UCUM enzyme unit.
    "IU/L": "U/L",
    "iu/l": "U/L",
    "mIU/L": "m[IU]/L",
    "uIU/mL": "u[IU]/mL",
    "mcg": "ug",
    "x10^9/L": "10*9/L",
    "10^9/L": "10*9/L",
    "GI/L": "10*9/L",
    "x10^12/L": "10*12/L",
    "10^12/L": "10*12/L",
    "TI/L": "10*12/L",
}


class UnitError(ValueError):
    """A unit string is not UCUM, or two units cannot be converted into each other."""


@attrs.frozen
class Quantity:
    """A number with an optional unit code (None for a pure number, such as a score)."""

    value: int | float
    unit: str | None = None
    span: Span | None = span_field()

    def __str__(self) -> str:
        v = str(int(self.value)) if float(self.value).is_integer() else repr(float(self.value))
        return v if self.unit is None else f"{v} {self.unit}"


def normalize_code(code: str) -> str:
    """Map common non-UCUM spellings (`µg`, `IU/L`, `10^9/L`) to their UCUM code."""
    code = code.strip()
    return _ALIASES.get(code, code)


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    # Building the UCUM registry takes about a second; only pay for it when a unit is used.
    from pint import get_application_registry
    from ucumvert import PintUcumRegistry

    registry = PintUcumRegistry()
    # ucumvert maps UCUM's `[pH]` to a unit it leaves undefined (pH is logarithmic, so pint
    # cannot convert it to mol/L). Define it as a dimension of its own: a pH compares with a
    # pH and with nothing else. ucumvert's transformer builds units in pint's application
    # registry, so the definition goes there.
    application = get_application_registry()
    if "pH_value" not in application:
        application.define("pH_value = [acidity]")
    return registry


@functools.lru_cache(maxsize=4096)
def _parse(code: str) -> Any:
    reg = _registry()
    try:
        return reg.from_ucum(normalize_code(code))
    except Exception as exc:  # ucumvert raises lark and pint errors of many kinds
        raise UnitError(f"'{code}' is not a UCUM unit") from exc


def check_unit(code: str) -> None:
    """Raise UnitError if `code` is not a unit trialcode understands."""
    _dimensions(code)


def dimension(code: str) -> str:
    """The physical dimension of a unit, e.g. `[mass] / [length] ** 3`."""
    return str(_parse(code).dimensionality)


def compatible(a: str, b: str, molar_mass: int | float | None = None) -> bool:
    """Whether a quantity in unit `a` can be converted to unit `b` (mass and amount of
    substance convert into each other when the analyte's molar mass in g/mol is given).
    Raises UnitError when either is not a unit at all.

    Answered from each unit's dimensions (known units are read from the cache, so that
    checking a protocol does not build the UCUM registry, about a second)."""
    da, db = _dimensions(a), _dimensions(b)
    if normalize_code(a) == normalize_code(b):
        return True
    if _known()[a].get("offset") or _known()[b].get("offset"):
        return False  # degrees Celsius and Fahrenheit: not a factor (`convert` cannot)
    if da == db:
        return True
    if molar_mass:
        for sign in (-1, 1):  # divided by, or multiplied by, a molar mass (g/mol)
            candidate = dict(da)
            for dim, power in _MOLAR_MASS.items():
                candidate[dim] = candidate.get(dim, 0) + sign * power
            if {k: v for k, v in candidate.items() if v} == db:
                return True
    return False


_MOLAR_MASS = {"[mass]": 1, "[substance]": -1}

# code -> {"dims": {dimension: power}, "offset": bool} or {"error": message}; read from and written to the
# cache file (protocol/cache.py) named after the versions of pint and ucumvert and the aliases.
_facts: dict[str, dict[str, Any]] | None = None


def _facts_file() -> Any:
    from importlib.metadata import PackageNotFoundError, version

    from protocol.cache import cache_folder

    folder = cache_folder()
    if folder is None:
        return None
    try:
        versions = f"pint{version('pint')}-ucumvert{version('ucumvert')}"
    except PackageNotFoundError:
        return None
    aliases = hashlib.sha256(json.dumps(_ALIASES, sort_keys=True).encode()).hexdigest()[:12]
    return folder / f"units-{versions}-{aliases}.json"


def _known() -> dict[str, dict[str, Any]]:
    global _facts
    if _facts is None:
        _facts = {}
        path = _facts_file()
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                _facts = {code: entry for code, entry in data.items() if _valid_entry(entry)}
            except (OSError, ValueError, AttributeError):
                pass  # no file yet, or a damaged one: rebuilt as units are met
    return _facts


def _valid_entry(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    if "error" in entry:
        return len(entry) == 1 and isinstance(entry["error"], str)
    dims = entry.get("dims")
    return set(entry) == {"dims", "offset"} and isinstance(entry["offset"], bool) and \
        isinstance(dims, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) for k, v in dims.items())


def _is_offset(parsed: Any) -> bool:
    try:
        1.0 * parsed
    except Exception:  # pint's OffsetUnitCalculusError: not a multiple of a base unit
        return True
    return False


def _dimensions(code: str) -> dict[str, int | float]:
    """The dimensions of a unit ({"[mass]": 1, "[length]": -3}); raises UnitError."""
    known = _known()
    entry = known.get(code)
    if entry is None:
        try:
            parsed = _parse(code)
            measured = {str(k): v for k, v in parsed.dimensionality.items()}
            entry = {"dims": measured, "offset": _is_offset(parsed)}
        except UnitError as exc:
            entry = {"error": str(exc)}
        known[code] = entry
        path = _facts_file()
        if path is not None:
            from protocol.cache import write_atomically

            write_atomically(path, json.dumps(known, sort_keys=True))
    if "error" in entry:
        raise UnitError(entry["error"])
    dims: dict[str, int | float] = entry["dims"]
    return dims


@functools.lru_cache(maxsize=4096)
def _factor(from_code: str, to_code: str, molar_mass: int | float | None = None) -> int | float:
    src, dst = _parse(from_code), _parse(to_code)
    if src.dimensionality == dst.dimensionality:
        return float((1.0 * src).to(dst).magnitude)
    if molar_mass:
        # mg/dL <-> umol/L: divide a mass by the molar mass, or multiply an amount by it.
        # Build the molar mass in the registry the parsed units belong to.
        mm = src._REGISTRY.Quantity(molar_mass, "gram / mole")
        for candidate in ((1.0 * src) / mm, (1.0 * src) * mm):
            if candidate.dimensionality == dst.dimensionality:
                return float(candidate.to(dst).magnitude)
    hint = "" if molar_mass else " (a mass and an amount of substance need the molar mass)"
    raise UnitError(
        f"cannot convert {from_code} ({src.dimensionality}) to {to_code} ({dst.dimensionality})"
        + hint
    )


def convert(value: int | float, from_code: str, to_code: str, molar_mass: int | float | None = None) -> int | float:
    """Convert `value` from one unit to another (purely multiplicative units only); with the
    analyte's `molar_mass` in g/mol, also between mass and amount of substance."""
    if normalize_code(from_code) == normalize_code(to_code):
        return value
    return value * _factor(from_code, to_code, molar_mass)


# ---- units of computed values ------------------------------------------------------------------
#
# A value computed from others (`latest weight / latest height ^ 2`) carries a unit composed from
# its inputs' units in UCUM's own syntax: `(kg)/((cm).(cm))`. The composed code parses like any
# other, so converting it (to the `kg/m2` of a threshold) needs nothing new. None is a pure
# number.


def product_unit(a: str | None, b: str | None) -> str | None:
    """The unit of a product of values in units `a` and `b`."""
    if a is None or b is None:
        return b if a is None else a
    return f"({normalize_code(a)}).({normalize_code(b)})"


def quotient_unit(a: str | None, b: str | None) -> str | None:
    """The unit of `a`-valued divided by `b`-valued."""
    if b is None:
        return a
    if a is None:
        return f"/({normalize_code(b)})"
    return f"({normalize_code(a)})/({normalize_code(b)})"


def power_unit(a: str | None, exponent: int) -> str | None:
    """The unit of a value in `a` raised to a whole `exponent` (None for a pure number)."""
    if a is None or exponent == 0:
        return None
    body = ".".join([f"({normalize_code(a)})"] * abs(exponent))
    return body if exponent > 0 else f"/({body})"


def dimensionality(code: str | None) -> Any:
    """The physical dimension of a unit (pint's), dimensionless for None. Raises UnitError."""
    if code is None:
        return _parse("1").dimensionality
    return _parse(code).dimensionality


def is_dimensionless(code: str | None) -> bool:
    """Whether a unit is a pure number (`1`, `%`, `{ratio}`, `kg/kg`); True for None."""
    return code is None or not dimensionality(code)


def same_dimension(a: str | None, b: str | None) -> bool:
    """Whether values in units `a` and `b` measure the same thing (None: a pure number)."""
    return bool(dimensionality(a) == dimensionality(b))


def dimension_text(code: str | None) -> str:
    """`[mass] / [length] ** 2`, or `a pure number`."""
    dim = dimensionality(code)
    return str(dim) if dim else "a pure number"
