"""The loader's fast paths (engine/io/jsonl.py) accept exactly what its careful handlers accept,
build the same events, and leave every rejection to the careful handlers' words.

Hypothesis writes patient files mixing well-formed observations, doses and occurrences with
mutated ones (nulls, unknown fields, wrong types, NaN, bad dates, low > high, end before start);
the same lines are read twice, with and without the fast paths, and must give the same output."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

import dsl
from engine.io.jsonl import _Reader
from engine.io.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent.parent
VOCAB = Vocabulary.from_trial(dsl.parse_file(ROOT / "examples" / "nct06802718" / "protocol.trial"))

GOOD: list[dict[str, Any]] = [
    {"type": "observation", "kind": "alt", "date": "2024-01-05", "value": 30, "unit": "U/L",
     "low": 7, "high": 40, "visit": "screening"},
    {"type": "observation", "kind": "alt", "date": "2024-02-05", "value": 31.5, "unit": "U/L",
     "low": 7, "high": 40},
    {"type": "observation", "kind": "remission", "date": "2024-01-02", "value": "CR1"},
    {"type": "observation", "kind": "ecog", "date": "2024-01-02", "value": 1},
    {"type": "dose", "intervention": "peg_ifn", "start": "2024-01-11", "amount": 135,
     "unit": "ug", "route": "subcutaneous"},
    {"type": "dose", "intervention": "peg_ifn", "start": "2024-01-18", "end": "2024-01-19",
     "amount": 135, "unit": "ug"},
    {"type": "occurrence", "kind": "consolidation_cycle", "start": "2023-06-01",
     "end": "2023-06-20", "attributes": {"regimen": "HDAC"}},
    {"type": "occurrence", "kind": "active_infection", "start": "2023-12-01", "ongoing": True},
]

MUTATIONS: list[tuple[str, Any]] = [
    ("value", None), ("value", "30"), ("value", math.nan), ("value", math.inf),
    ("value", [1]), ("value", True), ("unit", "mg/dL"), ("unit", None), ("unit", 5),
    ("low", 50), ("high", None), ("low", "7"), ("date", "2024-02-30"), ("date", "2024-1-5"),
    ("date", None), ("start", "2024-13-01"), ("end", "2023-01-01"), ("amount", -1),
    ("amount", "135"), ("amount", 10**30), ("route", 3), ("kind", "alt_"), ("kind", None),
    ("intervention", "peg"), ("ongoing", "yes"), ("attributes", {"regimen": [1]}),
    ("attributes", "HDAC"), ("visit", "screnning"), ("visit", 4), ("extra", 1), ("id", "E1"),
    ("detected", "no"), ("detected", False),
]


def _event(base: int, mutation: int | None) -> dict[str, Any]:
    ev = dict(GOOD[base])
    if mutation is not None:
        key, value = MUTATIONS[mutation]
        ev[key] = value
    return ev


events = st.tuples(st.integers(0, len(GOOD) - 1),
                   st.one_of(st.none(), st.none(), st.integers(0, len(MUTATIONS) - 1)))


def _read(lines: list[str], fast: bool) -> list[Any]:
    reader = _Reader("p.jsonl", VOCAB)
    if not fast:
        reader.fast = False
    out: list[Any] = []
    for n, line in enumerate(lines, 2):
        out.extend(reader.line(line, n))
    return out


def _m(key: str, value: Any) -> int:
    return next(i for i, (k, v) in enumerate(MUTATIONS) if k == key and (v is value or v == value))


# Each mutation after a well-formed record of the same shape, so that the fast path meets it.
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(events, max_size=12), min_size=1, max_size=6))
@example([[(b, None) for b in range(len(GOOD))]
          + [(b, m) for b in range(len(GOOD)) for m in range(len(MUTATIONS))]])
@example([[(0, None), (0, _m("value", math.nan)), (0, _m("low", 50)), (5, None),
           (5, _m("end", "2023-01-01")), (4, _m("amount", -1))]])
def test_fast_paths_change_nothing(patients: list[list[tuple[int, int | None]]]) -> None:
    lines = [
        json.dumps({"id": f"P{i}", "arm": "ifn", "events": [_event(b, m) for b, m in evs]})
        for i, evs in enumerate(patients)
    ]
    assert _read(lines, fast=True) == _read(lines, fast=False)
