"""`trialcode validate`: evaluate patient data against a protocol and report.

    trialcode validate PROTOCOL (--patients FILE.jsonl | --sdtm DIR [--map FILE])
                       [--as-of DATE] [--json FILE] [--html FILE] [--csv DIR] [--jobs N]

Patients are streamed from a JSON-lines file (a chunk at a time: memory does not grow with their
number) or loaded from an SDTM folder; each goes through the engine, in N processes with --jobs
(trialcode.parallel: the reports are the same for any N); the terminal gets a compact summary
(and a progress bar on stderr when it is a terminal); --json, --html and --csv write the
reports. Exit status: 0 when the run completed (findings are in the report), 1 when the protocol
or the mapping file is invalid, 2 for a usage error, 3 when the patient data cannot be used as
a whole, 69 when --spark cannot run here (no pyspark, no Java, no Spark master) (docs/cli.md).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import attrs

import trialcode
from engine.io.jsonl import PatientFileError
from engine.io.sdtm import MapError, SdtmError
from engine.io.vocabulary import did_you_mean
from protocol.safe_text import terminal_safe
from protocol.trial import Trial
from render.report.html import write_html
from render.report.listings import CsvListings
from render.report.terminal import Progress, terminal_summary
from trialcode.commands.outputs import check_output_file, check_output_folder
from trialcode.exits import EXIT_DATA, EXIT_PROBLEMS, EXIT_UNAVAILABLE, EXIT_USAGE
from trialcode.parallel import RunSpec, RunState, run_parts
from trialcode.parallel.parts import Reports
from trialcode.parallel.pool import check_start_method, cores

DESCRIPTION = (
    "Evaluate patients against a protocol: eligibility (met / not met / unknown per criterion), "
    "schedule conformance (on time, early, late, missed, not due), dosing and stopping rules. "
    "Patients come from a trialcode patient file (docs/patient-data.md) or a folder of CDISC "
    "SDTM datasets. Bad input records are rejected with the patient, record and field named, "
    "and the run continues."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the validate subcommand."""
    p = subparsers.add_parser(
        "validate", help="evaluate patient data against a protocol", description=DESCRIPTION
    )
    p.add_argument("protocol", metavar="PROTOCOL", help="the protocol file (.trial)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--patients",
        metavar="FILE",
        help="a trialcode patient file (JSON lines, trialcode.patients/1), or an event table "
        "(FILE.parquet: one row per event with a patient column)",
    )
    source.add_argument(
        "--sdtm",
        metavar="DIR",
        type=Path,
        help="a folder of SDTM datasets (.xpt or .csv): DM, SV, EX, LB, VS, QS, DS, AE",
    )
    p.add_argument(
        "--map",
        metavar="FILE",
        type=Path,
        help="SDTM mapping file (TOML): arm codes, visit numbers, test codes (with --sdtm)",
    )
    p.add_argument(
        "--as-of",
        metavar="DATE",
        type=_date,
        help="the data cut, YYYY-MM-DD (default: today): later windows are not due",
    )
    p.add_argument("--json", metavar="FILE", type=Path, help="write the JSON report")
    p.add_argument("--html", metavar="FILE", type=Path, help="write the HTML report")
    p.add_argument(
        "--csv",
        metavar="DIR",
        type=Path,
        help="write deviations.csv, ineligibility.csv, stopping.csv, rejected.csv, "
        "site_verification.csv",
    )
    p.add_argument(
        "--parquet",
        metavar="DIR",
        help="write the results as Parquet tables (docs/results-tables.md); "
        "`trialcode report DIR` makes the HTML and CSV reports from them",
    )
    p.add_argument(
        "--spark",
        metavar="MASTER",
        help="run on Spark (local[2], spark://HOST:7077, yarn...; needs pyspark and Java) and "
        "write the --parquet tables there (docs/spark.md)",
    )
    p.add_argument(
        "--timelines",
        metavar="N",
        type=int,
        default=400,
        help="patient timelines in the HTML report (default 400)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        metavar="N",
        type=_jobs,
        default=1,
        help="evaluate patients in N processes (default 1; 0: one per core; at most 4 per "
        "core); the reports are the same whatever N",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    p.set_defaults(func=run_validate)


MAX_JOBS_PER_CORE = 4


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of processes (0: one per core)")
    return n


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None


def fail(message: str, status: int = EXIT_PROBLEMS) -> int:
    print(terminal_safe(f"trialcode validate: {message}"), file=sys.stderr)
    return status


def run_validate(args: argparse.Namespace) -> int:
    if args.map and not args.sdtm:
        return fail("--map is for --sdtm input", EXIT_USAGE)
    if args.spark is not None:
        if args.parquet is None:
            return fail("--spark writes Parquet tables: give their folder with --parquet DIR",
                        EXIT_USAGE)
        if args.json is not None:
            return fail("a Spark run writes no JSON report: its results are the --parquet tables",
                        EXIT_USAGE)
        if args.jobs != 1:
            return fail("--jobs is for a run on this machine; Spark sets its own parallelism",
                        EXIT_USAGE)
        from trialcode.spark import SparkMasterError, check_master, log_level_problem

        try:
            check_master(args.spark)
        except SparkMasterError as exc:
            return fail(str(exc), EXIT_USAGE)
    # environment variables that choose how the run goes, checked before any work
    problem = log_level_problem() if args.spark is not None else (
        check_start_method() if args.jobs != 1 else None)
    if problem is not None:
        return fail(problem, EXIT_USAGE)
    if args.jobs > MAX_JOBS_PER_CORE * cores():
        # each process holds its own engine and share of the data: thousands of them exhaust the
        # memory long before they could share two cores (a fuzzed --jobs 99999 did exactly that)
        return fail(f"--jobs {args.jobs}: at most {MAX_JOBS_PER_CORE * cores()} processes on "
                    f"this machine's {cores()} cores (more than {MAX_JOBS_PER_CORE} a core only "
                    "costs memory); --jobs 0 runs one per core", EXIT_USAGE)
    # output paths first: a run of many minutes must not end on a folder that is not there
    if args.json is not None:
        check_output_file(args.json, "--json")
    if args.html is not None:
        check_output_file(args.html, "--html")
    if args.csv is not None:
        check_output_folder(args.csv, "--csv")
    if args.parquet is not None and args.spark is None:  # Spark's folder may be on HDFS, S3...
        check_output_folder(args.parquet, "--parquet")
    trial = trialcode.load(args.protocol)
    as_of = args.as_of or datetime.date.today()
    try:
        if args.spark is not None:
            return _run_spark(args, trial, as_of)
        return _run(args, trial, as_of)
    except MapError as exc:  # the user's specification, like the protocol
        return fail(str(exc), EXIT_PROBLEMS)
    except (PatientFileError, SdtmError) as exc:  # the data as a whole cannot be used
        return fail(str(exc), EXIT_DATA)
    except OSError as exc:
        return fail(f"{exc.filename or ''}: {exc.strerror or exc}", EXIT_DATA)


def _run(args: argparse.Namespace, trial: Trial, as_of: datetime.date) -> int:
    jobs = cores() if args.jobs == 0 else args.jobs
    spec = RunSpec(
        Path(args.protocol).resolve(),
        as_of,
        patients=Path(args.patients) if args.patients is not None else None,
        sdtm=args.sdtm,
        map=args.map,
        json=bool(args.json),
        csv=bool(args.csv),
        # timelines are for the HTML report only: none kept (or sent by workers) without it
        max_timelines=max(args.timelines, 0) if args.html else 0,
    )
    state = RunState(spec, trial)
    parquet = None
    if args.parquet:
        from render.report.parquet import ParquetResultsWriter

        parquet = ParquetResultsWriter(Path(args.parquet))
        # each chunk's tables are written by the process that evaluates it (any --jobs)
        state.spec = attrs.evolve(spec, parquet_dir=parquet.partial)
    source, accounting, not_read = state.source, state.accounting, state.not_read
    csv = CsvListings(args.csv, trial.has_timepoints) if args.csv else None
    json_writer = None
    if args.json:
        from render.report.json_stream import JsonReportWriter

        json_writer = JsonReportWriter(args.json, trial.name, as_of)
    reports = Reports(state, json_writer, csv)
    progress = Progress(state.total, "patients", processes=jobs)
    try:
        run_parts(
            state,
            reports,
            jobs,
            lambda r: progress.update(r.collector.patients, r.done),
        )
    except BaseException:
        # no report is left half written: the partial files are removed
        if json_writer is not None:
            json_writer.close()
        if csv is not None:
            csv.discard()
        if parquet is not None:
            parquet.abort()
        raise
    finally:
        progress.close()
        state.close()
    summary, collector, undeclared = reports.summary, reports.collector, reports.undeclared
    declared = set(state.vocab.items)
    result = summary.result()
    if csv is not None:
        csv.close(result)
    hints = tuple(
        (kind, n, did_you_mean(kind, declared).strip(" ()"))
        for kind, n in sorted(undeclared.items())
    )
    data = collector.finish(
        trial,
        result,
        source=source,
        as_of=as_of,
        generated=datetime.date.today(),
        accounting=accounting,
        not_read=not_read,
        version=_version(),
        undeclared=hints,
    )
    outputs: list[str] = []
    if json_writer is not None:
        outputs.append(
            f"JSON  {json_writer.finish(result, source=source, accounting=accounting, not_read=not_read)}"
        )
    if parquet is not None:
        from render.report.parquet import RunInfo, summary_rows

        info = RunInfo(trial.name, as_of, source, _protocol_text(args.protocol),
                       Path(args.protocol).name, _version(), datetime.date.today())
        rows = summary_rows(result, not_ruled_out=data.not_ruled_out, undeclared=hints,
                            accounting=accounting, not_read=not_read, info=info)
        outputs.append(f"Parquet {parquet.finish(rows)}/ (tables: docs/results-tables.md)")
    if args.html:
        outputs.append(f"HTML  {write_html(data, args.html)}")
    if csv is not None:
        outputs.append(
            f"CSV   {args.csv}/ (deviations, ineligibility, stopping, rejected, site_verification)")
    if not args.quiet:
        # patient ids and rejected values are quoted: shown, never obeyed by the terminal
        sys.stdout.write(terminal_safe(terminal_summary(data, outputs=outputs)))
    return 0


def _protocol_text(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def _run_spark(args: argparse.Namespace, trial: Trial, as_of: datetime.date) -> int:
    """The run on Spark: the tables are written there; the HTML and CSV reports and the
    terminal summary are then made from them, as `trialcode report` does."""
    if args.patients is not None and args.patients.lower().endswith(".parquet"):
        return fail("on Spark, patients come from a patient file (JSON lines) or an SDTM folder; "
                    "validate an event table with --jobs")
    from trialcode.spark import SparkUnavailable, run_spark

    spec = RunSpec(
        Path(args.protocol).resolve(),
        as_of,
        patients=Path(args.patients) if args.patients is not None else None,
        sdtm=args.sdtm,
        map=args.map,
        protocol_text=_protocol_text(args.protocol),
    )
    folder = args.parquet
    if "://" not in folder and not folder.startswith(("file:", "dbfs:")):
        # the executors' Python workers do not run in this folder: they get an absolute path
        folder = str(Path(folder).resolve())
    try:
        done = run_spark(args.spark, spec, folder, patients_uri=args.patients, version=_version(),
                         generated=datetime.date.today().isoformat())
    except SparkUnavailable as exc:
        return fail(str(exc), EXIT_UNAVAILABLE)
    outputs = [f"Parquet {args.parquet}/ (written on Spark {args.spark})"]
    if args.html or args.csv:
        from trialcode.commands.report import report_from_tables

        return report_from_tables(
            Path(args.parquet), html=args.html, csv=args.csv, timelines=args.timelines,
            quiet=args.quiet, outputs=outputs,
        )
    # the terminal summary from the chunks' counters: the tables are not read back
    if not args.quiet:
        sys.stdout.write(terminal_safe(terminal_summary(done["data"], outputs=outputs)))
    return 0


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("trialcode")
    except Exception:  # not installed: running from a checkout
        return ""
