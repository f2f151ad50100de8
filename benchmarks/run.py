"""Benchmark: the seed trial's synthetic cohort, streamed end to end through the engine.

    .venv/bin/python benchmarks/run.py                  # 100,000 patients (make bench)
    .venv/bin/python benchmarks/run.py --patients 5000  # a quicker run

Steps, each in its own process (so that each peak memory is its own):

1. generate the cohort as a trialcode patient file (cached in the work folder; not timed);
2. bare parse: read the file and json.loads every line (the least any reader must do), and
   the same with orjson.loads (the decoder read_patients uses);
   the floor (benchmarks/floor.py): orjson and one typed object per record, nothing checked or
   evaluated, compiled like the engine: the most any engine with a Python object per event
   could reach;
3. load: read_patients (validation against the protocol, Patient objects), nothing else;
4. end to end: read_patients -> evaluate_all (eligibility, schedule, dosing, stopping rules)
   -> Summary, streamed, one patient in memory at a time. The time spent inside read_patients
   is measured on the way, so the engine alone (evaluate + Summary) is end to end minus that;
5. end to end again on a tenth of the patients: the peak memory of 4 and 5 should be about
   the same if memory does not grow with the number of patients;
6. end to end with the JSON report written as well (what `validate --json` does);
7. when the engine is compiled (engine/native.py): end to end on the tenth of the patients
   again with the pure-Python engine (TRIALCODE_PURE=1), for the gain of compiling.

Printed: patients/s, events/s, peak resident memory (ru_maxrss) and the ratios of each time to
the bare-parse time (json.loads, as issue 3 defines it; and orjson.loads). Targets (issue 3):
1,000,000 events/s end to end on one core, end to end <= 2 x bare parse. docs/performance.md
has figures and where the time goes.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROTOCOL = ROOT / "examples" / "nct06802718" / "protocol.trial"
AS_OF = datetime.date(2025, 1, 31)


def _peak_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# ---- phases, run in child processes ----------------------------------------------------------


def phase_generate(path: Path, patients: int, seed: int) -> dict:
    from engine.io.jsonl import write_patients
    from engine.io.synthetic import TRIAL, cohort

    t0 = time.perf_counter()
    write_patients(path, cohort(patients, seed), trial=TRIAL, generator="benchmarks/run.py")
    return {"seconds": time.perf_counter() - t0}


def _parse(path: Path, loads: Callable[[str], object]) -> dict:
    t0 = time.perf_counter()
    lines = 0
    with path.open("r", encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            loads(line)
            lines += 1
    return {"seconds": time.perf_counter() - t0, "patients": lines, "peak_mb": _peak_mb()}


def phase_parse(path: Path) -> dict:
    return _parse(path, json.loads)


def phase_orjson(path: Path) -> dict:
    import orjson

    return _parse(path, orjson.loads)


def _floor_dir(workdir: Path) -> Path:
    """Where the compiled floor module is built: one folder per version of its source."""
    import hashlib

    digest = hashlib.sha256((ROOT / "benchmarks" / "floor.py").read_bytes()).hexdigest()[:12]
    return workdir / f"floor-{digest}"


def build_floor(workdir: Path) -> str:
    """Compile benchmarks/floor.py with mypyc (once per version of it); say how it will run."""
    from engine import native

    if native.PURE_REASON:
        return "interpreted, as the engine is"
    target = _floor_dir(workdir)
    if any(target.glob("floor*.so")):
        return "compiled (mypyc), as the engine is"
    target.mkdir(parents=True, exist_ok=True)
    (target / "floor.py").write_bytes((ROOT / "benchmarks" / "floor.py").read_bytes())
    script = (
        "from setuptools import setup; from mypyc.build import mypycify; "
        "setup(name='floor', ext_modules=mypycify(['floor.py'], opt_level='3'), "
        "script_args=['build_ext', '--inplace'])"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), MYPYPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], cwd=target, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0 or not any(target.glob("floor*.so")):
        why = (done.stdout + done.stderr).strip().splitlines() or ["?"]
        return f"interpreted: compiling it failed ({why[-1]})"
    return "compiled (mypyc), as the engine is"


def phase_floor(path: Path) -> dict:
    built = _floor_dir(path.parent)
    if any(built.glob("floor*.so")):
        sys.path.insert(0, str(built))
    else:
        sys.path.insert(0, str(ROOT / "benchmarks"))
    import floor

    t0 = time.perf_counter()
    patients, events = floor.read_floor(str(path))
    return {
        "seconds": time.perf_counter() - t0,
        "patients": patients,
        "events": events,
        "peak_mb": _peak_mb(),
    }


def phase_load(path: Path) -> dict:
    import dsl
    from engine.io.jsonl import read_patients
    from engine.patient import Patient

    trial = dsl.parse_file(PROTOCOL)
    for _ in itertools.islice(read_patients(path, trial), 20):  # warm up: the units registry
        pass
    t0 = time.perf_counter()
    patients = events = rejected = 0
    for item in read_patients(path, trial):
        if isinstance(item, Patient):
            patients += 1
            events += len(item.events)
        else:
            rejected += 1
    return {
        "seconds": time.perf_counter() - t0,
        "patients": patients,
        "events": events,
        "rejected": rejected,
        "peak_mb": _peak_mb(),
    }


def phase_full(path: Path) -> dict:
    import dsl
    from engine.api import Summary, compile_trial, evaluate_all
    from engine.io.jsonl import read_patients
    from engine.patient import Patient, RejectedRecord

    trial = dsl.parse_file(PROTOCOL)
    compiled = compile_trial(trial)
    clock = time.perf_counter
    load_seconds = 0.0

    def timed(items: Iterator[Patient | RejectedRecord]) -> Iterator[Patient | RejectedRecord]:
        nonlocal load_seconds
        while True:
            t = clock()
            item = next(items, None)
            load_seconds += clock() - t
            if item is None:
                return
            yield item

    t0 = clock()
    summary = Summary(trial)
    for _ in evaluate_all(compiled, timed(read_patients(path, trial)), AS_OF, summary=summary):
        pass
    seconds = clock() - t0
    result = summary.result()
    return {
        "seconds": seconds,
        "engine_seconds": seconds - load_seconds,
        "patients": result.patients,
        "rejected": result.rejected,
        "eligible": result.eligible,
        "errors": result.errors,
        "peak_mb": _peak_mb(),
    }


def phase_report(path: Path) -> dict:
    """End to end as `trialcode validate --json` runs it: also every patient's JSON report."""
    import dsl
    from engine.api import Summary, compile_trial, evaluate_all
    from engine.io.jsonl import read_patients
    from render.report.json_stream import JsonReportWriter

    trial = dsl.parse_file(PROTOCOL)
    compiled = compile_trial(trial)
    t0 = time.perf_counter()
    summary = Summary(trial)
    with tempfile.TemporaryDirectory() as tmp:
        writer = JsonReportWriter(Path(tmp) / "report.json", trial.name, AS_OF)
        for out in evaluate_all(compiled, read_patients(path, trial), AS_OF, summary=summary):
            writer.add(out)
        writer.finish(summary.result(), source=str(path))
    return {"seconds": time.perf_counter() - t0, "peak_mb": _peak_mb()}


PHASES = {
    "parse": phase_parse,
    "orjson": phase_orjson,
    "floor": phase_floor,
    "load": phase_load,
    "full": phase_full,
    "report": phase_report,
}


def child(phase: str, path: Path, *, pure: bool = False) -> dict:
    env = dict(os.environ)
    if pure:
        env["TRIALCODE_PURE"] = "1"
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- the report ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "trialcode-bench"
    )
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:
        print(json.dumps(PHASES[args.phase](args.file)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    n, small_n = args.patients, max(args.patients // 10, 1)
    files = {}
    for size in (n, small_n):
        path = args.workdir / f"nct06802718-{size}-{args.seed}.jsonl"
        if not path.exists():
            print(f"generating {size:,} synthetic patients -> {path} ...", flush=True)
            took = phase_generate(path, size, args.seed)["seconds"]
            print(f"  {took:.1f} s", flush=True)
        files[size] = path

    big = files[n]
    size_mb = big.stat().st_size / 1e6
    print(f"\ninput: {n:,} patients, {size_mb:,.0f} MB ({big})")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores (one used)",
        flush=True,
    )
    from engine import native

    print(f"engine: {native.describe()}\n", flush=True)

    parse = child("parse", big)
    fast_parse = child("orjson", big)
    floor_form = build_floor(args.workdir)
    floor = child("floor", big)
    load = child("load", big)
    print("running the engine end to end ...", flush=True)
    full = child("full", big)
    small = child("full", files[small_n])
    compiled = not native.PURE_REASON
    small_pure = child("full", files[small_n], pure=True) if compiled else None
    report = child("report", big)
    events = load["events"]

    engine = {"seconds": full["engine_seconds"], "peak_mb": full["peak_mb"]}
    rows = [
        ("bare parse (json.loads per line)", parse),
        ("bare parse (orjson.loads per line)", fast_parse),
        ("floor: orjson + a typed object per record", floor),
        ("load (read_patients, validated)", load),
        ("engine alone (evaluate + summary)", engine),
        ("end to end (load + engine + summary)", full),
        ("... and the JSON report (validate --json)", report),
    ]
    print(
        f"{'step':<40} {'seconds':>9} {'patients/s':>12} {'events/s':>12} {'peak MB':>9} "
        f"{'x json':>8} {'x orjson':>9}"
    )
    for name, r in rows:
        s = r["seconds"]
        print(
            f"{name:<40} {s:>9.2f} {n / s:>12,.0f} {events / s:>12,.0f} {r['peak_mb']:>9.0f} "
            f"{s / parse['seconds']:>8.2f} {s / fast_parse['seconds']:>9.2f}"
        )
    print("(engine alone: end to end minus the time spent inside read_patients, same process)")
    print(f"(floor: benchmarks/floor.py, {floor_form}; nothing checked or evaluated: the upper "
          "bound of any engine that keeps a Python object per event)")
    print(
        f"\nevents: {events:,} ({events / n:.1f} per patient); rejected records: {load['rejected']}; "
        f"evaluation errors: {full['errors']}; eligible: {full['eligible']:,}"
    )
    print(
        f"memory: end to end peaks at {full['peak_mb']:.0f} MB for {n:,} patients and "
        f"{small['peak_mb']:.0f} MB for {small_n:,} ({'flat' if full['peak_mb'] < small['peak_mb'] * 1.25 else 'GROWS'})"
    )
    if small_pure is not None:
        print(
            f"compiled engine against pure Python, end to end on {small_n:,} patients: "
            f"{small['seconds']:.2f} s against {small_pure['seconds']:.2f} s "
            f"({small_pure['seconds'] / small['seconds']:.2f}x)"
        )
    if floor["events"] != events:
        print(f"floor read {floor['events']:,} events, the loader {events:,}: the floor is wrong")
    eps = events / full["seconds"]
    ratio = full["seconds"] / parse["seconds"]
    print(
        f"targets: 1,000,000 events/s end to end -> {eps:,.0f} ({eps / 1e6:.1%} of target); "
        f"end to end <= 2 x bare parse -> {ratio:.1f} x "
        f"(engine alone {engine['seconds'] / parse['seconds']:.1f} x)"
    )
    print(
        f"the floor alone reaches {events / floor['seconds']:,.0f} events/s "
        f"({events / floor['seconds'] / 1e6:.1%} of the target) and "
        f"{floor['seconds'] / parse['seconds']:.2f} x the bare parse"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
