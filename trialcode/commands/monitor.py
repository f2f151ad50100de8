"""`trialcode monitor`: what the trial-level stopping rules say about the interim data so far.

    trialcode monitor PROTOCOL --data FILE [--json]

For each interim rule, a decision table (look, information, observed Z, efficacy and futility
bounds recomputed at the observed information, nominal p, cumulative alpha, decision); for each
safety rule, the counts at each look against the stopping boundary, the boundary itself and its
exact operating characteristics. ``--json`` prints the same as JSON. The interim-data format is
described in ``docs/monitoring.md``.

Exit status: 0 when the report was produced (whatever the decisions), 1 when the protocol or the
data cannot be used (every problem on its own line on stderr, naming the file, the rule, the
look and the field), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import trialcode
from engine.monitor import (
    InterimDataError,
    InterimRuleReport,
    MonitorReport,
    SafetyRuleReport,
    load_interim_data,
    monitor,
)
from protocol.errors import ProtocolError

__all__ = ["format_report", "monitor_command", "register"]

PROG = "trialcode monitor"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the monitor subcommand."""
    p = subparsers.add_parser(
        "monitor",
        help="interim monitoring: continue or stop, per trial-level rule",
        description="Evaluate the protocol's trial-level stopping rules (group-sequential "
        "interim analyses and safety monitoring) on interim data, and say for each rule "
        "whether to continue or stop, and why. The data format is trialcode.interim/1 "
        "(docs/monitoring.md).",
    )
    p.add_argument("protocol", metavar="PROTOCOL", help="the protocol file (.trial)")
    p.add_argument(
        "--data",
        metavar="FILE",
        type=Path,
        required=True,
        help="interim data (JSON, trialcode.interim/1)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of the tables")
    p.set_defaults(func=monitor_command)


def monitor_command(args: argparse.Namespace) -> int:
    """Handler of ``trialcode monitor``; returns the exit status."""
    try:
        trial = trialcode.load(args.protocol)
    except ProtocolError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    try:
        report = monitor(trial, load_interim_data(args.data))
    except InterimDataError as exc:
        for line in exc.lines():
            print(f"{PROG}: {line}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(format_report(report))
    return 0


# ---- the terminal report ---------------------------------------------------------------------

_DECISION_WORDS = {
    "continue": "continue",
    "stop_efficacy": "STOP: efficacy",
    "stop_harm": "STOP: harm",
    "stop_futility": "STOP: futility",
    "final_not_rejected": "final: H0 not rejected",
    "stop_safety": "STOP: safety",
    "no_data": "no data",
}


def _decision(code: str | None, final: bool = False) -> str:
    if code is None:
        return ""
    if code == "stop_efficacy" and final:
        return "final: H0 rejected"
    if code == "stop_harm" and final:
        return "final: harm"
    return _DECISION_WORDS.get(code, code)


def _p(value: float | None) -> str:
    if value is None:
        return "--"
    return f"{value:.2e}" if value < 1e-4 else f"{value:.5f}"


def _z(value: float | None, two_sided: bool = False) -> str:
    if value is None:
        return "--"
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    return f"+-{value:.4f}" if two_sided else f"{value:.4f}"


def _table(header: list[str], rows: list[list[str]], left: int = 0) -> list[str]:
    """Right-aligned columns, except the last ``left`` columns (left-aligned)."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    n = len(header)

    def line(cells: list[str]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.ljust(widths[i]) if i >= n - left else cell.rjust(widths[i]))
        return "  ".join(out).rstrip()

    head = line(header)
    return [head, "-" * len(head), *(line(r) for r in rows)]


def _title(kind: str, name: str, label: str | None) -> str:
    return f"{kind} {name}" + (f' "{label}"' if label else "")


def _interim_section(rule: InterimRuleReport) -> list[str]:
    lines = [_title("Interim analysis", rule.name, rule.label), f"Design: {rule.design}"]
    if rule.planned_events is not None:
        lines.append(f"Information: events / {rule.planned_events} planned events.")
    lines.append(
        "Z > 0 favours the experimental arm; p-values are one-sided (nominal p: of the "
        "efficacy bound)."
    )
    two = rule.sides == 2
    has_fut = any(x.futility_bound is not None for x in rule.looks)
    has_events = any(x.events is not None for x in rule.looks)
    has_hr = any(x.hazard_ratio is not None for x in rule.looks)
    header = ["Look", "Information"]
    if has_events:
        header.append("Events")
    if has_hr:
        header.append("HR")
    header += ["Z obs", "Efficacy Z"]
    if has_fut:
        header.append("Futility Z")
    header += ["Nominal p", "p obs", "Cum alpha", "Decision"]
    rows = []
    for x in rule.looks:
        info = f"{x.information:.4f}"
        row = [str(x.look), info]
        if has_events:
            row.append("--" if x.events is None else str(x.events))
        if has_hr:
            row.append("--" if x.hazard_ratio is None else f"{x.hazard_ratio:g}")
        row += [_z(x.z), _z(x.efficacy_bound, two)]
        if has_fut:
            row.append(_z(x.futility_bound, two))
        if x.projected:
            decision = "(final, planned)" if x.final else "(planned)"
        else:
            decision = _decision(x.decision, x.final)
        row += [_p(x.nominal_p), _p(x.observed_p), _p(x.cumulative_alpha), decision]
        rows.append(row)
    lines += ["", *_table(header, rows, left=1), ""]
    where = f" at look {rule.look}" if rule.look is not None else ""
    lines.append(f"Decision{where}: {_decision(rule.decision, _final(rule))}. {rule.reason}")
    cp = rule.conditional_power
    if cp is not None:
        design = (
            f"{cp.design_effect:.3f} under the effect the design is powered for (power "
            f"{cp.power:g}; drift {cp.design_drift:.3f})"
            if cp.design_effect is not None and cp.power is not None and cp.design_drift
            is not None else "none under a design effect (the rule states no power)"
        )
        lines.append(
            f"Conditional power at look {cp.look} (probability of rejecting H0 at a later look): "
            f"{design}; {cp.current_trend:.3f} under the current trend (drift "
            f"{cp.trend_drift:.3f})."
        )
    lines += [f"Note: {n}." for n in rule.notes]
    return lines


def _final(rule: InterimRuleReport) -> bool:
    observed = rule.observed
    return bool(observed) and observed[-1].final


def _safety_section(rule: SafetyRuleReport) -> list[str]:
    title = _title("Safety monitoring", rule.name, rule.label)
    if rule.arms:
        title += f" (arm{'s' if len(rule.arms) > 1 else ''} {', '.join(rule.arms)})"
    lines = [
        title,
        f"Rule: {rule.design}.",
        f"Monitored patients: up to {rule.max_patients} ({rule.max_patients_source}).",
    ]
    if rule.looks:
        stat = {"bayesian": "Posterior", "binomial": "Exact p", "sprt": "LLR"}[rule.method]
        header = ["Look", "Patients", "Events", "Rate", stat, "Stop at", "Decision"]
        rows = []
        for x in rule.looks:
            if rule.method == "bayesian":
                value = f"{x.posterior:.4f}" if x.posterior is not None else "--"
            elif rule.method == "binomial":
                value = _p(x.p_value)
            else:
                value = f"{x.llr:.3f}" if x.llr is not None else "--"
            stop_at = f">= {x.threshold}" if x.threshold is not None else "never"
            rows.append([str(x.look), str(x.patients), str(x.events),
                         f"{x.events / x.patients:.3f}", value, stop_at,
                         _decision(x.decision)])
        lines += ["", *_table(header, rows, left=1), ""]
    else:
        lines.append("")
    where = f" at look {rule.look}" if rule.look is not None else ""
    lines.append(f"Decision{where}: {_decision(rule.decision)}. {rule.reason}")
    lines += [f"Note: {n}." for n in rule.notes]
    if rule.stopping_table:
        lines += ["", "Stopping boundary: stop if at least k events among the first n patients"]
        rows = [[f"{a}" if a == b else f"{a}-{b}", str(k)] for a, b, k in rule.stopping_table]
        lines += _table(["n", "k"], rows)
    if rule.operating_characteristics:
        checked = [n for a, b, _ in rule.stopping_table for n in range(a, b + 1)]
        if rule.method == "sprt":
            how = "exact, truncated SPRT"
        elif checked and len(checked) < rule.max_patients:
            how = "exact, checked at " + ", ".join(str(n) for n in checked) + " patients"
        else:
            how = "exact, checked after every patient"
        lines += ["", f"Operating characteristics ({how}, up to {rule.max_patients} patients)"]
        rows = [
            [f"{o.rate:g}", f"{o.probability_stop:.4f}", f"{o.expected_patients:.1f}"]
            for o in rule.operating_characteristics
        ]
        lines += _table(["True rate", "P(stop)", "E[patients]"], rows)
    return lines


def format_report(report: MonitorReport) -> str:
    """The readable report printed by ``trialcode monitor``."""
    head = f"Interim monitoring of {report.trial}: data {report.source}"
    if report.data_cutoff:
        head += f", cut-off {report.data_cutoff}"
    lines = [head]
    if report.note:
        lines.append(report.note)
    for rule in report.interim:
        lines += ["", "", *_interim_section(rule)]
    for srule in report.safety:
        lines += ["", "", *_safety_section(srule)]
    if report.rules:
        lines += ["", "", "Summary"]
        rows: list[list[str]] = []
        for r in report.rules:
            final = isinstance(r, InterimRuleReport) and _final(r)
            look = "--" if r.look is None else str(r.look)
            kind = "interim" if isinstance(r, InterimRuleReport) else "safety"
            rows.append([r.name, kind, look, _decision(r.decision, final)])
        lines += _table(["Rule", "Kind", "Look", "Decision"], rows, left=4)
    if report.notes:
        lines.append("")
        lines += [f"Note: {n}." for n in report.notes]
    return "\n".join(lines)

