"""`trialcode report`: the usual reports made from a results folder of Parquet tables.

    trialcode report DIR [--html FILE] [--csv DIR] [-q]

DIR is what `trialcode validate --parquet DIR` (or a Spark run) wrote. The tables carry the
protocol's text, so nothing else is needed; the HTML report, the CSV listings and the terminal
summary are made by the code that makes them during `validate`, from the results read back in
input order.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from trialcode.commands.outputs import check_output_file, check_output_folder

DESCRIPTION = (
    "Make the HTML report, the CSV listings and the terminal summary from a results folder "
    "written by `trialcode validate --parquet DIR` (docs/results-tables.md)."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the report subcommand."""
    p = subparsers.add_parser(
        "report", help="the HTML and CSV reports from Parquet results", description=DESCRIPTION
    )
    p.add_argument("results", metavar="DIR", type=Path, help="a results folder (Parquet tables)")
    p.add_argument("--html", metavar="FILE", type=Path, help="write the HTML report")
    p.add_argument(
        "--csv",
        metavar="DIR",
        type=Path,
        help="write deviations.csv, ineligibility.csv, stopping.csv, rejected.csv",
    )
    p.add_argument(
        "--timelines",
        metavar="N",
        type=int,
        default=400,
        help="patient timelines in the HTML report (default 400)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no terminal summary")
    p.set_defaults(func=run_report)


def fail(message: str) -> int:
    print(f"trialcode report: {message}", file=sys.stderr)
    return 1


def run_report(args: argparse.Namespace) -> int:
    # as validate does: the output paths checked before the tables are read
    if args.html is not None:
        check_output_file(args.html, "--html")
    if args.csv is not None:
        check_output_folder(args.csv, "--csv")
    return report_from_tables(
        args.results, html=args.html, csv=args.csv, timelines=args.timelines, quiet=args.quiet
    )


def report_from_tables(
    folder: str | Path,
    *,
    html: Path | None = None,
    csv: Path | None = None,
    timelines: int = 400,
    quiet: bool = False,
    outputs: list[str] | None = None,
) -> int:
    """Read a results folder in input order and make the reports asked for."""
    import trialcode
    from engine.summary import Summary
    from render.report.collect import Accounting, ReportCollector
    from render.report.from_tables import results
    from render.report.html import write_html
    from render.report.listings import CsvListings
    from render.report.parquet import ResultsFolderError, open_results, rows
    from render.report.terminal import terminal_summary

    try:
        info, files = open_results(folder)
    except ResultsFolderError as exc:
        return fail(str(exc))
    trial = trialcode.load_source(info.protocol_text, info.protocol_path or "protocol.trial")
    summary = Summary(trial)
    collector = ReportCollector(max_timelines=max(timelines, 0))
    listings = CsvListings(csv, trial.has_timepoints) if csv else None
    try:
        for item, patient in results(files):
            summary.add(item)
            collector.add(item, patient)
            if listings is not None:
                listings.add(item)
    except BaseException:
        if listings is not None:
            listings.discard()
        raise
    result = summary.result()
    if listings is not None:
        listings.close(result)
    undeclared: list[tuple[str, int, str]] = []
    datasets: dict[str, tuple[dict[str, int], list[tuple[str, int]]]] = {}
    not_read: list[str] = []
    for row in rows(files["summary"]):
        section = row["section"]
        if section == "undeclared":
            undeclared.append((row["name"], row["value"], row["text"] or ""))
        elif section == "dataset":
            counts, ignored = datasets.setdefault(row["name"], ({}, []))
            if row["metric"] == "ignored":
                ignored.append((row["text"], row["value"]))
            else:
                counts[row["metric"]] = row["value"]
        elif section == "not_read":
            not_read.append(row["name"])
    accounting = tuple(
        Accounting(name, c["rows"], c["used"], c["rejected"], tuple(ignored),
                   c.get("rejected_records", 0))
        for name, (c, ignored) in datasets.items()
    )
    data = collector.finish(
        trial,
        result,
        source=info.source,
        as_of=info.as_of,
        generated=info.generated or datetime.date.today(),
        accounting=accounting,
        not_read=tuple(not_read),
        version=info.version,
        undeclared=tuple(undeclared),
    )
    outputs = list(outputs or [])
    if html:
        outputs.append(f"HTML  {write_html(data, html)}")
    if csv:
        outputs.append(
            f"CSV   {csv}/ (deviations, ineligibility, stopping, rejected, site_verification)")
    if not quiet:
        from protocol.safe_text import terminal_safe

        # patient ids and rejected values are quoted: shown, never obeyed by the terminal
        sys.stdout.write(terminal_safe(terminal_summary(data, outputs=outputs)))
    return 0
