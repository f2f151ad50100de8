"""Write the seed trial's synthetic cohort as a trialcode patient file.

    .venv/bin/python examples/nct06802718/make_cohort.py                  # the 96-patient demo
    .venv/bin/python examples/nct06802718/make_cohort.py --patients 100000 -o /tmp/big.jsonl

The cohort is seeded: the same command always writes the same file, and patient i is the same
whatever the number of patients. See engine/io/synthetic.py for what it contains.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from engine.io.jsonl import write_patients  # noqa: E402
from engine.io.synthetic import AS_OF, SEED, TRIAL, cohort  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=96, help="number of patients (96)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed ({SEED})")
    parser.add_argument("-o", "--output", type=Path, default=HERE / "patients.jsonl")
    args = parser.parse_args(argv)
    n = write_patients(
        args.output,
        cohort(args.patients, args.seed),
        trial=TRIAL,
        generator=f"examples/nct06802718/make_cohort.py --patients {args.patients} "
        f"--seed {args.seed} (synthetic, data cut {AS_OF.isoformat()})",
    )
    print(f"wrote {n} synthetic patients to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
