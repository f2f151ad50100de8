"""Shared test helpers: paths, and golden-file comparison (TRIALCODE_REGEN=1 rewrites goldens)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
SHARED = ROOT.parent / "shared"


def assert_golden(name: str, actual: str) -> None:
    """Compare `actual` with tests/golden/NAME; regenerate with TRIALCODE_REGEN=1."""
    path = GOLDEN / name
    if os.environ.get("TRIALCODE_REGEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run with TRIALCODE_REGEN=1 to create it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs from its golden file (TRIALCODE_REGEN=1 to accept)"


@pytest.fixture
def golden():
    return assert_golden
