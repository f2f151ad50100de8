"""Benchmark: `trialcode validate` at scale: 1 and 2 processes, Spark local[2], and the size of
the Parquet results against the JSON report.

    .venv/bin/python benchmarks/scale.py                   # 10,000 patients (make bench)
    .venv/bin/python benchmarks/scale.py --patients 2000   # a quicker run
    .venv/bin/python benchmarks/scale.py --no-spark        # without Spark (no Java here)

Each run is `trialcode validate` in its own process writing the Parquet tables (--parquet: the
output meant for scale), repeated 3 times; printed: the median time, events/s, and the median of
each run's peak resident memory of the largest process (the parent, a worker, Spark's JVM or a
Spark Python worker), sampled from /proc (VmHWM) every 0.2 s. Spark's time is the whole command
(session start included) and also the run alone, measured in the same process after the session
started. Then the same cohort once with --json and once with --parquet, for the sizes.

Targets on a 2-core machine (issue 18): --jobs 2 >= 1.8x --jobs 1; Parquet >= 10x smaller than
the JSON report; Spark local[2] within 2x of --jobs 2. The load average is printed before each
measurement: other processes on the machine disturb the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROTOCOL = ROOT / "examples" / "nct06802718" / "protocol.trial"
AS_OF = "2025-01-31"


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Sampler(threading.Thread):
    """The peak resident memory (VmHWM) of every process under `root`, sampled."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[int, tuple[float, str]] = {}
        self.root_cpu = 0.0  # the CPU time of the root process alone, at the last sample
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.root_cpu = max(self.root_cpu, _cpu(self.root))
            for pid in _descendants(self.root):
                mb = _hwm_mb(pid)
                if mb is not None and mb > self.peaks.get(pid, (0.0, ""))[0]:
                    self.peaks[pid] = (mb, self.peaks.get(pid, (0.0, ""))[1] or _command(pid))
            self.stop.wait(0.2)


def _load() -> str:
    with open("/proc/loadavg", encoding="utf-8") as handle:
        return " ".join(handle.read().split()[:3])


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(args: list[str]) -> dict:
    """Run a command; its time, the CPU time of all its processes and of the first one alone,
    the peak memory of its largest process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, text=True)
        sampler = Sampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        if process.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()[-3000:]}")
    peaks = sorted(sampler.peaks.values(), reverse=True)
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "parent_cpu": sampler.root_cpu, "peak_mb": peaks[0][0] if peaks else 0.0,
            "processes": len(peaks)}


def _validate(cohort: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "trialcode.cli", "validate", str(PROTOCOL), "--patients",
            str(cohort), "--as-of", AS_OF, "-q", *extra]


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(
        p.stat().st_size for p in path.rglob("*") if p.is_file())


def _events(folder: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in (folder / "events").glob("*.parquet"))


def phase_spark_inside(cohort: Path, out: Path) -> dict:
    """In this process: start the session, then time the run alone."""
    from pyspark.sql import SparkSession

    from trialcode.parallel import RunSpec
    from trialcode.spark import run_spark

    SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    import datetime

    spec = RunSpec(PROTOCOL, datetime.date.fromisoformat(AS_OF), patients=cohort, parquet=True,
                   protocol_text=PROTOCOL.read_text(encoding="utf-8"))
    start = time.perf_counter()
    run_spark("local[2]", spec, str(out))
    return {"seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "trialcode-bench"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "spark-inside":
        print(json.dumps(phase_spark_inside(args.file, args.out)))
        return 0

    args.workdir.mkdir(parents=True, exist_ok=True)
    cohort = args.workdir / f"nct06802718-{args.patients}-{args.seed}.jsonl"
    if not cohort.exists():
        from engine.io.jsonl import write_patients
        from engine.io.synthetic import TRIAL
        from engine.io.synthetic import cohort as make_cohort

        print(f"generating {args.patients:,} synthetic patients -> {cohort} ...", flush=True)
        write_patients(cohort, make_cohort(args.patients, args.seed), trial=TRIAL,
                       generator="benchmarks/scale.py")
    out = Path(tempfile.mkdtemp(prefix="trialcode-scale-", dir=args.workdir))
    from engine import native

    print(f"\ninput: {args.patients:,} patients, {cohort.stat().st_size / 1e6:,.0f} MB ({cohort})")
    print(f"machine: {os.cpu_count()} cores; engine: {native.describe()}", flush=True)

    runs: dict[str, list[dict]] = {}
    setups = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])]
    spark = not args.no_spark and shutil.which("java") is not None
    if spark:
        setups.append(("--spark local[2]", ["--spark", "local[2]"]))
    for name, extra in setups:
        runs[name] = []
        for i in range(args.runs):
            # no brackets in the folder's name: Spark reads paths as glob patterns
            folder = out / f"{name.split()[-1].replace('[', '').replace(']', '')}-{i}"
            load = _load()
            r = timed(_validate(cohort, *extra, "--parquet", str(folder)))
            r["load"] = load
            runs[name].append(r)
            print(f"  {name} run {i + 1}: {r['seconds']:.1f} s, CPU {r['cpu']:.1f} s (first "
                  f"process {r['parent_cpu']:.1f} s), peak {r['peak_mb']:.0f} MB "
                  f"({r['processes']} processes; load average before: {load})", flush=True)
            if i:
                shutil.rmtree(folder)
    events = _events(out / "1-0")
    inside = None
    if spark:
        env_args = [sys.executable, __file__, "--phase", "spark-inside", "--file", str(cohort),
                    "--out", str(out / "spark-inside")]
        inside = json.loads(subprocess.run(env_args, check=True, capture_output=True,
                                           text=True).stdout.strip().splitlines()[-1])
    report = timed([sys.executable, "-m", "trialcode.cli", "report", str(out / "1-0"), "-q",
                    "--html", str(out / "report.html"), "--csv", str(out / "csv")])
    json_run = timed(_validate(cohort, "--json", str(out / "report.json")))
    json_size, parquet_size = _size(out / "report.json"), _size(out / "1-0")

    print(f"\nevents: {events:,} ({events / args.patients:.1f} per patient); medians of "
          f"{args.runs} runs")
    print(f"{'run':<22} {'seconds':>8} {'patients/s':>11} {'events/s':>11} {'x --jobs 1':>11} "
          f"{'peak MB/process':>16} {'CPU s':>7} {'first process CPU s':>20}")
    base = statistics.median(r["seconds"] for r in runs["--jobs 1"])
    medians = {}
    cpu = {}
    for name, rs in runs.items():
        s = statistics.median(r["seconds"] for r in rs)
        medians[name] = s
        cpu[name] = (statistics.median(r["cpu"] for r in rs),
                     statistics.median(r["parent_cpu"] for r in rs))
        peak = statistics.median(r["peak_mb"] for r in rs)
        print(f"{name:<22} {s:>8.1f} {args.patients / s:>11,.0f} {events / s:>11,.0f} "
              f"{base / s:>11.2f} {peak:>16.0f} {cpu[name][0]:>7.1f} {cpu[name][1]:>20.1f}")
    # What two idle cores would give, from CPU time (which other processes on the machine
    # disturb far less than elapsed time): all the work spread over two cores, and never less
    # than the parent's own share.
    total, parent = cpu["--jobs 2"]
    idle = cpu["--jobs 1"][0] / max(total / 2, parent)
    print(f"from CPU time, --jobs 2 on two idle cores: {idle:.2f}x --jobs 1 (CPU {total:.1f} s "
          f"against {cpu['--jobs 1'][0]:.1f} s: {total / cpu['--jobs 1'][0] - 1:+.1%} for "
          f"splitting and merging)")
    if inside is not None:
        s = inside["seconds"]
        print(f"{'spark, run alone':<22} {s:>8.1f} {args.patients / s:>11,.0f} "
              f"{events / s:>11,.0f} {base / s:>11.2f} {'':>16}")
    print(f"trialcode report DIR --html --csv (one process, from the tables): "
          f"{report['seconds']:.1f} s, {args.patients / report['seconds']:,.0f} patients/s, "
          f"peak {report['peak_mb']:.0f} MB")
    print(f"\nsizes: JSON report {json_size / 1e6:,.1f} MB ({json_run['seconds']:.1f} s), "
          f"Parquet tables {parquet_size / 1e6:,.1f} MB: {json_size / parquet_size:.1f}x smaller")
    two = medians["--jobs 1"] / medians["--jobs 2"]
    print(f"targets: --jobs 2 >= 1.8x --jobs 1 -> {two:.2f}x; Parquet >= 10x smaller -> "
          f"{json_size / parquet_size:.1f}x", end="")
    if spark:
        ratio = medians["--spark local[2]"] / medians["--jobs 2"]
        alone = inside["seconds"] / medians["--jobs 2"] if inside else float("nan")
        print(f"; Spark local[2] within 2x of --jobs 2 -> {ratio:.2f}x the time "
              f"({alone:.2f}x without the session's start)")
    else:
        print("; Spark not run (no Java or --no-spark)")
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
