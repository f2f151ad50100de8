"""The engine takes a model, never the parser: importing it loads neither `dsl` nor `lark`."""

from __future__ import annotations

import subprocess
import sys

ENGINE_MODULES = [
    "engine", "engine.api", "engine.compiled", "engine.conformance", "engine.describe",
    "engine.dosing", "engine.eligibility", "engine.expressions", "engine.logic",
    "engine.report_json", "engine.results", "engine.rules", "engine.schedule", "engine.summary",
    "engine.timeline",
]


def test_engine_never_imports_the_parser():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in ENGINE_MODULES)
        + "import engine; engine.evaluate\n"
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dsl', 'lark'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
