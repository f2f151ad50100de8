"""Benchmark: reading and checking protocols of growing length.

    .venv/bin/python benchmarks/parse.py            # 250, 1,000, 4,000 and 16,000 lines
    .venv/bin/python benchmarks/parse.py --lines 1000 4000

A protocol of the wanted length is made from the seed trial: its data items, criteria and
visits are repeated under new names, so that every line is the kind of line a real protocol
has (multi-line criteria joined by `and`, visits with activity lists, data items with units).
Each size is measured in a child process of its own (so nothing is cached between sizes),
as CPU time: the parse alone (text to lark tree), then parse + transformer + semantic checks,
twice: the first run pays one-time costs (unit tables, lazily imported modules), as a command
does; the second is what an editor's language server pays on each re-check.

Printed per size: lines, parse lines/s, the two check times, and the second check's time per
line relative to the first size. Targets (issue 15): time per line at 16,000 lines within
1.5x of that at 250; a 1,000-line protocol parsed and checked in under 0.2 s of CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (250, 1_000, 4_000, 16_000)


def _head() -> str:
    return """trial scaled {
  title "A protocol made long for the parse benchmark"
  phase 3
  enrollment 96
  allocation randomized ratio 1:1
  intervention study_drug drug "Study drug" {
    dose 135 ug subcutaneous every 1 week for 6 months
  }
  arm active "Active" experimental { study_drug }
  arm control "Control" no_intervention
  population {
    age 18 years to 70 years
    sex all
    healthy_volunteers no
  }
"""


def _block(n: int) -> dict[str, list[str]]:
    """The lines that the n-th repetition adds to each part of the protocol (30 lines)."""
    return {
        "data": [
            f'    lab alt_{n} "Alanine aminotransferase {n}" unit U/L',
            f'    lab creat_{n} "Creatinine {n}" unit umol/L molar_mass 113.12',
            f'    score ecog_{n} "ECOG performance status {n}" range 0..5',
            f'    category remission_{n} "Remission status {n}" values "CR1", "CR2"',
            f'    event infection_{n} "Active infection {n}"',
            f'    event ae_{n} "Adverse event {n}" attributes grade, related',
        ],
        "inclusion": [
            f'    I{n}a "Liver function, set {n}.":',
            f"      latest alt_{n} within 14 days before randomization <= 2.5 x ULN",
            f"      and latest creat_{n} within 14 days before randomization <= 1.5 x ULN",
            f'    I{n}b "Performance status 0-2, set {n}.":',
            f"      latest ecog_{n} within 28 days before randomization in 0..2",
            f'      and first remission_{n} before randomization == "CR1"',
        ],
        "exclusion": [
            f'    E{n}a "Uncontrolled infection, set {n}.":',
            f"      any infection_{n} ongoing at randomization",
            f"      or (any ae_{n} before randomization where grade >= 3",
            f"          and count(infection_{n} before randomization) >= 2)",
        ],
        "schedule": [
            f'    visit v{n} "Visit {n}" at day {n} window +-2 days {{',
            f"      alt_{n}, creat_{n}, ecog_{n}",
            "    }",
            f"    assess remission_{n} at day {n + 1} window +-3 days",
        ],
        "stopping": [
            f"    patient discontinue study_drug when any ae_{n} where grade >= 4",
            f"    patient withdraw when latest alt_{n} > 5 x ULN",
        ],
    }


def protocol_of(lines: int) -> str:
    """A valid protocol of about `lines` lines."""
    fixed = _head().count("\n") + 15  # the head and the block openers and closers
    per_block = sum(len(part) for part in _block(1).values())
    blocks = max(1, (lines - fixed) // per_block)
    parts: dict[str, list[str]] = {name: [] for name in _block(1)}
    for n in range(1, blocks + 1):
        for name, part in _block(n).items():
            parts[name].extend(part)
    return "\n".join([
        _head().rstrip("\n"),
        "  data {", *parts["data"], "  }",
        "  eligibility assessed at randomization",
        "  inclusion {", *parts["inclusion"], "  }",
        "  exclusion {", *parts["exclusion"], "  }",
        "  schedule anchored at randomization {",
        '    anchor randomization "Randomization"',
        *parts["schedule"],
        "  }",
        "  stopping {", *parts["stopping"], "  }",
        "}",
        "",
    ])


def measure(lines: int) -> dict[str, float]:
    """CPU seconds to parse a protocol of about `lines` lines, and to parse and check it: the
    first time in the process (with the one-time costs: unit tables, lazily imported modules)
    and again (as in an editor's language server, where those are paid once)."""
    import dsl
    from dsl.parser import grammar, parse_tree
    from protocol.check import check

    grammar()  # built (or read from its cache) outside the timing
    text = protocol_of(lines)
    t0 = time.process_time()
    parse_tree(text, "scaled.trial")
    parse_s = time.process_time() - t0
    timings = []
    for _ in range(2):
        t0 = time.process_time()
        diagnostics = check(dsl.parse(text, "scaled.trial"))
        timings.append(time.process_time() - t0)
    errors = [d.message for d in diagnostics if d.is_error]
    if errors:
        raise SystemExit(f"the generated protocol does not check: {errors[:3]}")
    return {"lines": text.count("\n"), "parse_s": parse_s, "cold_s": timings[0],
            "warm_s": timings[1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    print(f"{'lines':>7} {'parse lines/s':>14} {'check s (first)':>16} {'check s (again)':>16} "
          f"{'lines/s (again)':>16} {'per line vs first size':>23}")
    first: float | None = None
    for lines in args.lines:
        out = subprocess.run([sys.executable, __file__, "--child", str(lines)],
                             check=True, capture_output=True, text=True).stdout
        row = json.loads(out)
        per_line = row["warm_s"] / row["lines"]
        first = first if first is not None else per_line
        print(f"{row['lines']:>7} {row['lines'] / row['parse_s']:>14,.0f} {row['cold_s']:>16.3f} "
              f"{row['warm_s']:>16.3f} {row['lines'] / row['warm_s']:>16,.0f} "
              f"{per_line / first:>22.2f}x")


if __name__ == "__main__":
    main()
