"""engine._construct (engine/_construct.c), the C builder behind engine.patient.fast_constructor
with the compiled engine: it builds exactly the instance the class's own constructor builds,
holds its references correctly, and refuses what it cannot build when the builder is made."""

from __future__ import annotations

import datetime
import gc
import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import native
from engine.logic import TRUE
from engine.patient import ClockTime, Observation, RecordRef, fast_constructor
from engine.results import CriterionResult, CriterionVerdict, Evidence, ScheduleRow, Status

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def construct() -> ModuleType:
    if native.PURE_REASON:
        pytest.skip(f"the engine is not compiled here ({native.PURE_REASON})")
    return importlib.import_module("engine._construct")


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(cls))  # type: ignore[misc]


def test_fast_constructor_uses_the_c_builder_with_the_compiled_engine(
        construct: ModuleType) -> None:
    assert type(fast_constructor(RecordRef)).__name__ == "Builder"
    assert repr(fast_constructor(RecordRef)) == "<builder of RecordRef (2 fields)>"


def test_the_pure_engine_builds_with_python() -> None:
    code = ("import engine.patient as p; b = p.fast_constructor(p.RecordRef); "
            "print(isinstance(b, type) and b.__name__, b('f', 'x') == p.RecordRef('f', 'x'))")
    env = dict(os.environ, TRIALCODE_PURE="1")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True)
    assert out.stdout.split() == ["_BuildRecordRef", "True"]


DAY = datetime.date(2024, 3, 1)
REF = RecordRef("patients.jsonl", "line 2, event 1")
EXAMPLES: list[tuple[type, tuple[Any, ...]]] = [
    (RecordRef, ("lb.xpt", "row 4 (LBSEQ 2)")),
    (Observation, ("alt", DAY, REF, 52, "U/L", 7, 40, None, "screening", (("fasting", True),),
                   ClockTime(30_600_000_000, "minute", 60), "PT30M")),
    (Evidence, ("alt: 52 U/L <= 100 U/L: true", "I3", "latest alt", TRUE, 52, "U/L", DAY, REF,
                100, "U/L", (7, 40), None, ClockTime(30_600_000_000, "minute"), ())),
    (CriterionResult, ("I3", "inclusion", CriterionVerdict.MET, TRUE, (), "ALT <= 2.5 x ULN",
                       False, False, ("lab",))),
    (ScheduleRow, ("dose", "dose", 3, "week 3", Status.LATE, 21, DAY, (20, 22), (DAY, DAY), DAY,
                   24, 2, REF, "2 day(s) after the window closed", "treatment", 135, "ug", 135,
                   "ug", None)),
]


@pytest.mark.parametrize(("cls", "values"), EXAMPLES, ids=lambda x: getattr(x, "__name__", ""))
def test_builds_what_the_class_builds(construct: ModuleType, cls: type,
                                      values: tuple[Any, ...]) -> None:
    built = construct.builder(cls, _names(cls))(*values)
    expected = cls(*values)
    assert type(built) is cls
    assert built == expected and hash(built) == hash(expected)
    assert attrs.astuple(built, recurse=False) == values
    assert gc.is_tracked(built)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.__setattr__(_names(cls)[0], "changed")


def test_holds_one_reference_per_slot_and_releases_them(construct: ModuleType) -> None:
    source, where = "x" * 50 + "unique", "y" * 50 + "unique"  # not interned, not shared
    before = sys.getrefcount(source), sys.getrefcount(where)
    ref = construct.builder(RecordRef, ("source", "locator"))(source, where)
    assert (sys.getrefcount(source), sys.getrefcount(where)) == (before[0] + 1, before[1] + 1)
    del ref
    assert (sys.getrefcount(source), sys.getrefcount(where)) == before


def test_slots_in_any_order(construct: ModuleType) -> None:
    ref = construct.builder(RecordRef, ("locator", "source"))("row 1", "dm.xpt")
    assert ref == RecordRef("dm.xpt", "row 1")


def test_a_call_must_give_every_value_positionally(construct: ModuleType) -> None:
    build = construct.builder(RecordRef, ("source", "locator"))
    with pytest.raises(TypeError, match=r"^building RecordRef takes 2 values \(1 given\)$"):
        build("only one")
    with pytest.raises(TypeError, match=r"^building RecordRef takes positional values only$"):
        build("f", locator="x")


class _Plain:
    def __init__(self) -> None:
        self.a = 1


class _Slotted:
    __slots__ = ("a", "b")
    c = 3


@pytest.mark.parametrize(("cls", "names", "message"), [
    (_Plain, ("a",), "builder cannot build _Plain: not a plain slotted class"),
    (_Slotted, ("a", "c"), "_Slotted.c is not a slot"),
    (_Slotted, ("a", "missing"), "type object '_Slotted' has no attribute 'missing'"),
    (_Slotted, ("a", "a"), "_Slotted: a slot is named twice"),
    (_Slotted, ("a", 1), "field names must be strings"),
    (RecordRef, ("source", "__class__"), "RecordRef.__class__ is not a slot"),
])
def test_refuses_what_it_cannot_build(construct: ModuleType, cls: type, names: tuple[Any, ...],
                                      message: str) -> None:
    with pytest.raises((TypeError, AttributeError)) as caught:
        construct.builder(cls, names)
    assert str(caught.value) == message


def test_refuses_a_slot_of_an_unrelated_class(construct: ModuleType) -> None:
    class Other:
        __slots__ = ("a",)

    class Host:
        __slots__ = ("b",)
        a = Other.a  # another class's descriptor: its offset means nothing in Host

    with pytest.raises(TypeError, match=r"Host\.a is a slot of another class"):
        construct.builder(Host, ("a", "b"))


@given(source=st.text(), locator=st.text(),
       value=st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.text()),
       unit=st.one_of(st.none(), st.text()))
def test_any_values_give_the_class_s_own_instance(source: str, locator: str, value: Any,
                                                   unit: str | None) -> None:
    """Whatever the values, the builder of fast_constructor (C or Python) and the class agree."""
    ref = fast_constructor(RecordRef)(source, locator)
    assert ref == RecordRef(source, locator)
    values = ("alt", DAY, ref, value, unit, None, None, None, None, (), None, None)
    built = fast_constructor(Observation)(*values)
    assert built == Observation(*values) and type(built) is Observation
