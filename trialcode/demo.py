"""`make demo`: the whole job on the bundled examples, through the same CLI a user runs.

Checks and formats the example protocols, validates the synthetic cohorts of the seed trial, the
oncology cycle study, the T2DM add-on study, the two-period crossover and the phase 1 PK study,
and the real CDISC pilot SDTM data, renders the protocol documents and exports, and says where
everything is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialcode.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out"
SEED = ROOT / "examples" / "nct06802718"
PILOT = ROOT / "examples" / "cdiscpilot01"
ONCOLOGY = ROOT / "examples" / "oncology_cycles"
CROSSOVER = ROOT / "examples" / "crossover_ab"
T2DM = ROOT / "examples" / "t2dm_addon"
PHASE1 = ROOT / "examples" / "phase1_pk"
PILOT_SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"


def _step(title: str, *args: str, ok: tuple[int, ...] = (0,)) -> bool:
    print(f"\n=== {title}\n$ trialcode {' '.join(args)}", flush=True)
    status = cli(list(args))
    sys.stdout.flush()
    if status not in ok:
        print(f"(exit status {status})")
    return status in ok


def main() -> int:
    failures = 0
    for name, folder in (("nct06802718", SEED), ("cdiscpilot01", PILOT),
                         ("oncology_cycles", ONCOLOGY), ("t2dm_addon", T2DM),
                         ("crossover_ab", CROSSOVER), ("phase1_pk", PHASE1)):
        out = OUT / name
        out.mkdir(parents=True, exist_ok=True)
        protocol = str(folder / "protocol.trial")
        failures += not _step(f"{name}: check the protocol", "check", protocol)
        failures += not _step(f"{name}: is it in canonical layout?", "fmt", "--check", protocol)
        for fmt in ("html", "md", "docx"):
            failures += not _step(f"{name}: protocol document ({fmt})", "render", protocol,
                                  "--to", fmt, "-o", str(out / f"protocol.{fmt}"))
        failures += not _step(f"{name}: CDISC USDM 4.0", "export", protocol, "--to", "usdm",
                              "-o", str(out / "usdm.json"))
        failures += not _step(f"{name}: SDTM trial design", "export", protocol, "--to", "sdtm",
                              "-o", str(out / "sdtm"))
    seed_out = OUT / "nct06802718"
    failures += not _step(
        "nct06802718: validate the synthetic cohort (96 patients)", "validate",
        str(SEED / "protocol.trial"), "--patients", str(SEED / "patients.jsonl"),
        "--as-of", "2025-01-31", "--json", str(seed_out / "report.json"),
        "--html", str(seed_out / "report.html"), "--csv", str(seed_out / "csv"), ok=(0, 1))
    if (SEED / "interim.json").exists():
        failures += not _step("nct06802718: interim monitoring", "monitor",
                              str(SEED / "protocol.trial"), "--data",
                              str(SEED / "interim.json"), ok=(0, 1))
    onc_out = OUT / "oncology_cycles"
    failures += not _step(
        "oncology_cycles: validate the synthetic cycle cohort (40 patients, illustrative)",
        "validate", str(ONCOLOGY / "protocol.trial"), "--patients",
        str(ONCOLOGY / "patients.jsonl"), "--as-of", "2024-12-31",
        "--json", str(onc_out / "report.json"), "--html", str(onc_out / "report.html"),
        "--csv", str(onc_out / "csv"), ok=(0, 1))
    xo_out = OUT / "crossover_ab"
    failures += not _step(
        "crossover_ab: validate the synthetic two-period crossover cohort (24 volunteers, "
        "illustrative)",
        "validate", str(CROSSOVER / "protocol.trial"), "--patients",
        str(CROSSOVER / "patients.jsonl"), "--as-of", "2024-06-04",
        "--json", str(xo_out / "report.json"), "--html", str(xo_out / "report.html"),
        "--csv", str(xo_out / "csv"), ok=(0, 1))
    t2dm_out = OUT / "t2dm_addon"
    failures += not _step(
        "t2dm_addon: validate the synthetic cohort (46 patients, one per scenario)", "validate",
        str(T2DM / "protocol.trial"), "--patients", str(T2DM / "patients.jsonl"),
        "--as-of", "2025-09-30", "--json", str(t2dm_out / "report.json"),
        "--html", str(t2dm_out / "report.html"), "--csv", str(t2dm_out / "csv"), ok=(0, 1))
    pk_out = OUT / "phase1_pk"
    failures += not _step(
        "phase1_pk: validate the synthetic PK cohort (24 participants, illustrative; sub-day "
        "timepoints, deviations in minutes)", "validate", str(PHASE1 / "protocol.trial"),
        "--patients", str(PHASE1 / "patients.jsonl"), "--as-of", "2024-06-19",
        "--json", str(pk_out / "report.json"), "--html", str(pk_out / "report.html"),
        "--csv", str(pk_out / "csv"), ok=(0, 1))
    pilot_out = OUT / "cdiscpilot01"
    if PILOT_SDTM.is_dir():
        failures += not _step(
            "cdiscpilot01: validate the real CDISC pilot SDTM data", "validate",
            str(PILOT / "protocol.trial"), "--sdtm", str(PILOT_SDTM),
            "--map", str(PILOT / "sdtm-map.toml"), "--as-of", "2015-03-31",
            "--json", str(pilot_out / "report.json"), "--html", str(pilot_out / "report.html"),
            "--csv", str(pilot_out / "csv"), ok=(0, 1))
    else:
        print(f"\n(the CDISC pilot data are not at {PILOT_SDTM}; skipped)")
    print("\n=== Where to look")
    for path in sorted(OUT.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".docx", ".md", ".json"):
            print(f"  {path.relative_to(ROOT)}")
    if failures:
        print(f"\n{failures} step(s) did not succeed; see above.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
