"""Fingerprint every output of `trialcode validate`, to prove a speed change changed nothing.

    .venv/bin/python benchmarks/fingerprint.py                 # 2,000 synthetic + CDISC pilot
    .venv/bin/python benchmarks/fingerprint.py --patients 500
    .venv/bin/python benchmarks/fingerprint.py --jobs 2       # the same, in 2 processes

Runs `trialcode validate` with --json, --html and --csv on (1) the seed trial's synthetic cohort
(seeded, generated once into the work folder) and (2) the real CDISC pilot SDTM data, and prints
one SHA-256 per output file and one over all of them. Run it before and after an optimisation:
the last line must not change. The checkout's own path is replaced by `<root>` before hashing
(the pilot's reports name the mapping file they used), so any two checkouts can be compared,
and so can the compiled and the pure-Python engine (TRIALCODE_PURE=1). The goldens in tests/ cover the small examples; this covers
thousands of patients and every report format at once.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = ROOT / "examples" / "nct06802718" / "protocol.trial"
PILOT = ROOT / "examples" / "cdiscpilot01"
PILOT_SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"
JOBS: list[str] = []  # ["--jobs", "N"] with --jobs N


def _validate(out: Path, *args: str) -> None:
    from trialcode.cli import main as cli

    out.mkdir(parents=True, exist_ok=True)
    code = cli(["validate", *args, *JOBS, "--json", str(out / "report.json"),
                "--html", str(out / "report.html"), "--csv", str(out / "csv")])
    if code not in (0, 1):
        raise SystemExit(f"validate exited {code}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "trialcode-bench"
    )
    parser.add_argument("--jobs", type=int, help="validate --jobs N (the outputs must not change)")
    args = parser.parse_args(argv)
    if args.jobs is not None:
        JOBS[:] = ["--jobs", str(args.jobs)]

    from engine.io.jsonl import write_patients
    from engine.io.synthetic import TRIAL, cohort

    args.workdir.mkdir(parents=True, exist_ok=True)
    cohort_file = args.workdir / f"nct06802718-{args.patients}-{args.seed}.jsonl"
    if not cohort_file.exists():
        write_patients(cohort_file, cohort(args.patients, args.seed), trial=TRIAL,
                       generator="benchmarks/run.py")
    out = Path(tempfile.mkdtemp(prefix="trialcode-fingerprint-"))
    _validate(out / "synthetic", str(SEED), "--patients", str(cohort_file),
              "--as-of", "2025-01-31")
    if PILOT_SDTM.is_dir():
        _validate(out / "pilot", str(PILOT / "protocol.trial"), "--sdtm", str(PILOT_SDTM),
                  "--map", str(PILOT / "sdtm-map.toml"), "--as-of", "2015-03-31")
    total = hashlib.sha256()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes().replace(bytes(ROOT), b"<root>")).hexdigest()
        total.update(f"{path.relative_to(out)} {digest}\n".encode())
        print(f"{digest[:16]}  {path.relative_to(out)}")
    from engine import native

    print(f"engine: {native.describe()}")
    print(f"all: {total.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
