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
        # each process's own CPU time at its last sample: for Spark, whose JVM and Python
        # workers are not all waited for by the command (so not all in its rusage)
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.root_cpu = max(self.root_cpu, _cpu(self.root))
            for pid in _descendants(self.root):
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu(pid))
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
    parent = sampler.peaks.get(process.pid, (0.0, ""))[0]
    others = [mb for pid, (mb, _) in sampler.peaks.items() if pid != process.pid]
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "parent_cpu": sampler.root_cpu, "peak_mb": peaks[0][0] if peaks else 0.0,
            "parent_mb": parent, "worker_mb": max(others, default=0.0),
            "processes": len(peaks), "load_after": _load(),
            "sampled_cpu": sum(sampler.cpu.values())}


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
    """In this process: start the session (timed), then time the run alone, twice (the first
    run pays the JVM's warming up: its first jobs, the Python workers' start)."""
    from trialcode.parallel import RunSpec
    from trialcode.spark import DEFAULT_CONF, run_spark, start_session

    start = time.perf_counter()  # the session as the command starts it
    start_session("local[2]", {**DEFAULT_CONF, "spark.ui.enabled": "false"})
    session = time.perf_counter() - start
    import datetime

    spec = RunSpec(PROTOCOL, datetime.date.fromisoformat(AS_OF), patients=cohort,
                   protocol_text=PROTOCOL.read_text(encoding="utf-8"))
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        run_spark("local[2]", spec, str(out))
        seconds.append(time.perf_counter() - start)
    return {"session": session, "seconds": seconds[0], "warm": seconds[1]}


def _cohort_file(workdir: Path, patients: int, seed: int) -> Path:
    cohort = workdir / f"nct06802718-{patients}-{seed}.jsonl"
    if not cohort.exists():
        from engine.io.jsonl import write_patients
        from engine.io.synthetic import TRIAL
        from engine.io.synthetic import cohort as make_cohort

        print(f"generating {patients:,} synthetic patients -> {cohort} ...", flush=True)
        partial = cohort.with_name(cohort.name + ".partial")
        write_patients(partial, make_cohort(patients, seed), trial=TRIAL,
                       generator="benchmarks/scale.py")
        partial.rename(cohort)
    return cohort


def big_run(args: argparse.Namespace, small: Path, tables_per_patient: float) -> None:
    """One --jobs 2 run on args.big patients, when the disk can hold the input and the tables
    (estimated from the smaller cohort's sizes per patient, with a margin)."""
    n = args.big
    input_per_patient = small.stat().st_size / args.patients
    cohort = args.workdir / f"nct06802718-{n}-{args.seed}.jsonl"
    need = (0 if cohort.exists() else n * input_per_patient) + 1.5 * n * tables_per_patient
    free = shutil.disk_usage(args.workdir).free
    print(f"\n{n:,} patients: input {n * input_per_patient / 1e9:.1f} GB, tables about "
          f"{n * tables_per_patient / 1e9:.1f} GB; free on {args.workdir}: {free / 1e9:.1f} GB")
    if need > free:
        print(f"not run: the disk lacks room ({need / 1e9:.1f} GB needed)")
        return
    cohort = _cohort_file(args.workdir, n, args.seed)
    folder = Path(tempfile.mkdtemp(prefix="trialcode-big-", dir=args.workdir))
    try:
        load = _load()
        r = timed(_validate(cohort, "--jobs", "2", "--parquet", str(folder / "t")))
        events = _events(folder / "t")
        size = _size(folder / "t")
        files = len(list((folder / "t" / "events").glob("*.parquet")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"--jobs 2 on {n:,} patients ({events:,} events): {r['seconds']:.0f} s, "
          f"{events / r['seconds']:,.0f} events/s elapsed; CPU {r['cpu']:.0f} s (parent "
          f"{r['parent_cpu']:.0f} s): {events / max(r['cpu'] / 2, r['parent_cpu']):,.0f} events/s "
          f"on two idle cores; peak MB parent {r['parent_mb']:.0f}, worker {r['worker_mb']:.0f}; "
          f"tables {size / 1e9:.2f} GB in {files} files per table; load average {load} before, "
          f"{r['load_after']} after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--big", type=int, default=0, metavar="N",
                        help="then one --jobs 2 run on N patients, if the disk has room")
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
    cohort = _cohort_file(args.workdir, args.patients, args.seed)
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
                  f"process {r['parent_cpu']:.1f} s; every process, sampled: "
                  f"{r['sampled_cpu']:.1f} s), peak {r['peak_mb']:.0f} MB "
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
          f"{args.runs} runs; load: the machine's 1-minute load average before each run (other "
          "work on it inflates elapsed time, CPU time far less)")
    print(f"{'run':<18} {'seconds':>8} {'events/s':>10} {'x --jobs 1':>10} {'CPU s':>7} "
          f"{'parent CPU s':>12} {'events/CPU s':>12} {'peak MB parent':>14} "
          f"{'peak MB worker':>14} {'load':>10}")
    base = statistics.median(r["seconds"] for r in runs["--jobs 1"])
    medians = {}
    cpu = {}
    for name, rs in runs.items():
        s = statistics.median(r["seconds"] for r in rs)
        medians[name] = s
        cpu[name] = (statistics.median(r["cpu"] for r in rs),
                     statistics.median(r["parent_cpu"] for r in rs))
        parent_mb = statistics.median(r["parent_mb"] for r in rs)
        worker_mb = statistics.median(r["worker_mb"] for r in rs)
        loads = sorted(float(r["load"].split()[0]) for r in rs)
        print(f"{name:<18} {s:>8.1f} {events / s:>10,.0f} {base / s:>10.2f} {cpu[name][0]:>7.1f} "
              f"{cpu[name][1]:>12.1f} {events / cpu[name][0]:>12,.0f} {parent_mb:>14.0f} "
              f"{worker_mb or float('nan'):>14.0f} {f'{loads[0]:.1f}-{loads[-1]:.1f}':>10}")
    # What two idle cores would give, from CPU time (which other processes on the machine
    # disturb far less than elapsed time): all the work spread over two cores, and never less
    # than the parent's own share.
    total, parent = cpu["--jobs 2"]
    idle = cpu["--jobs 1"][0] / max(total / 2, parent)
    print(f"from CPU time, --jobs 2 on two idle cores: {idle:.2f}x --jobs 1, "
          f"{events / max(total / 2, parent):,.0f} events/s (CPU {total:.1f} s against "
          f"{cpu['--jobs 1'][0]:.1f} s: {total / cpu['--jobs 1'][0] - 1:+.1%} for splitting and "
          "merging)")
    if spark:
        # every process of the command, sampled (the JVM is not always waited for)
        spark_cpu = statistics.median(r["sampled_cpu"] for r in runs["--spark local[2]"])
        jobs_cpu = statistics.median(r["sampled_cpu"] for r in runs["--jobs 2"])
        print(f"Spark local[2]: CPU of all its processes (JVM and Python workers, sampled) "
              f"{spark_cpu:.1f} s, {spark_cpu / jobs_cpu:.2f}x --jobs 2's ({jobs_cpu:.1f} s "
              f"sampled the same way): {events / (spark_cpu / 2):,.0f} events/s on two idle "
              "cores")
    if inside is not None:
        print(f"Spark session start alone: {inside['session']:.1f} s")
        for label, s in (("spark, run alone", inside["seconds"]),
                         ("spark, warm again", inside["warm"])):
            print(f"{label:<18} {s:>8.1f} {events / s:>10,.0f} {base / s:>10.2f}")
    print(f"trialcode report DIR --html --csv (one process, from the tables): "
          f"{report['seconds']:.1f} s, {args.patients / report['seconds']:,.0f} patients/s, "
          f"peak {report['peak_mb']:.0f} MB")
    files = len(list((out / "1-0" / "events").glob("*.parquet")))
    print(f"\nsizes: JSON report {json_size / 1e6:,.1f} MB ({json_run['seconds']:.1f} s), "
          f"Parquet tables {parquet_size / 1e6:,.1f} MB ({files} files per table): "
          f"{json_size / parquet_size:.1f}x smaller; per patient: input "
          f"{cohort.stat().st_size / args.patients / 1e3:.1f} kB, tables "
          f"{parquet_size / args.patients / 1e3:.2f} kB, JSON {json_size / args.patients / 1e3:.1f} kB")
    two = medians["--jobs 1"] / medians["--jobs 2"]
    print(f"targets: --jobs 2 >= 1.8x --jobs 1 -> {two:.2f}x elapsed, {idle:.2f}x from CPU time; "
          f"Parquet >= 10x smaller -> {json_size / parquet_size:.1f}x", end="")
    if spark:
        ratio = medians["--spark local[2]"] / medians["--jobs 2"]
        alone = inside["seconds"] / medians["--jobs 2"] if inside else float("nan")
        warm = inside["warm"] / medians["--jobs 2"] if inside else float("nan")
        print(f"; Spark local[2] within 2x of --jobs 2 -> {ratio:.2f}x the time "
              f"({alone:.2f}x without the session's start, {warm:.2f}x run again in a warm "
              "session)")
    else:
        print("; Spark not run (no Java or --no-spark)")
    if args.big:
        big_run(args, cohort, parquet_size / args.patients)
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
