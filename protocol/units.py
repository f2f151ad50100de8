"""Units of measure, by UCUM code, through pint and ucumvert.

Lab results arrive with UCUM-ish unit strings (`U/L`, `umol/L`, `10*9/L`); thresholds in a
protocol carry units too. A comparison is only made after converting the threshold into the
unit of the record; a unit that cannot be converted is an error naming the record, never a pass.
"""

from __future__ import annotations

import functools
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
    _parse(code)


def dimension(code: str) -> str:
    """The physical dimension of a unit, e.g. `[mass] / [length] ** 3`."""
    return str(_parse(code).dimensionality)


def compatible(a: str, b: str, molar_mass: int | float | None = None) -> bool:
    """Whether a quantity in unit `a` can be converted to unit `b` (mass and amount of
    substance convert into each other when the analyte's molar mass in g/mol is given).
    Raises UnitError when either is not a unit at all."""
    _parse(a)
    _parse(b)
    try:
        _factor(a, b, molar_mass)
    except UnitError:
        return False
    return True


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
