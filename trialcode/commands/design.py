"""`trialcode design`: sample size of a fixed or group sequential design.

    trialcode design survival --hazard-ratio 0.7 --median-control 12 --accrual 24 --follow-up 12
        --alpha 0.025 --sides 1 --power 0.9 [--spending ld-obf --looks 3] [--json]
    trialcode design rates --experimental 0.5 --control 0.3 ...
    trialcode design rates --expected 0.4 --reference 0.2 ...       (one group)
    trialcode design means --difference 5 --sd 10 [--normal] ...

The boundary options are those of ``trialcode boundaries``; without ``--family`` or
``--spending`` the design is the fixed-sample one. The numbers are those of
:mod:`engine.stats.samplesize` (checked against rpact, docs/statistics.md).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from engine.stats import GroupSequentialDesign
from engine.stats.samplesize import (
    SampleSize,
    hazard_from_median,
    hazard_from_rate,
    means_sample_size,
    one_proportion_sample_size,
    survival_sample_size,
    two_proportions_sample_size,
)

from .numbers import UsageError, number
from .stats import add_design_arguments, describe, design_from_args, one_line_error, run

__all__ = ["design_command", "format_sample_size", "register"]

ENDPOINTS = ("survival", "rates", "means")


def register(subparsers: Any) -> None:
    """Add the ``design`` subcommand."""
    p = subparsers.add_parser(
        "design",
        help="sample size and power of a fixed or group sequential design",
        description="Events and patients for a time-to-event endpoint (Schoenfeld; accrual, "
        "follow-up and dropout), patients for two proportions or one against a reference rate, "
        "and for a difference in means; fixed or group sequential (the boundary options of "
        "`trialcode boundaries`).",
    )
    p.error = one_line_error("trialcode design")
    p.add_argument("endpoint", metavar="ENDPOINT", help="survival, rates or means")
    add_design_arguments(p, looks_default="1")
    p.add_argument("--power", help="the power to size for, e.g. 0.8 (required)")
    p.add_argument("--ratio", default="1",
                   help="allocation, experimental:control, e.g. 2:1 or 2 (default 1:1)")
    s = p.add_argument_group("survival")
    s.add_argument("--hazard-ratio", help="hazard ratio, experimental over control")
    s.add_argument("--median-control", help="median survival time of the control arm")
    s.add_argument("--median-experimental",
                   help="median of the experimental arm (instead of --hazard-ratio)")
    s.add_argument("--accrual", help="accrual period (uniform accrual), same time unit")
    s.add_argument("--follow-up", help="follow-up after the end of accrual, same time unit")
    s.add_argument("--dropout", help="probability of dropping out by --dropout-time (both arms)")
    s.add_argument("--dropout-time", default="12", help="time of --dropout (default 12)")
    r = p.add_argument_group("rates")
    r.add_argument("--experimental", help="proportion in the experimental arm")
    r.add_argument("--control", help="proportion in the control arm")
    r.add_argument("--expected", help="one group: the proportion expected")
    r.add_argument("--reference", help="one group: the reference proportion it is tested against")
    m = p.add_argument_group("means")
    m.add_argument("--difference", help="difference in means, experimental minus control")
    m.add_argument("--sd", help="common standard deviation")
    m.add_argument("--normal", action="store_true",
                   help="normal approximation instead of the t test for the fixed size")
    p.add_argument("--n", help="also give the power with this maximum sample size (events for "
                   "survival, patients otherwise)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=design_command)


def design_command(args: argparse.Namespace) -> int:
    """Handler of ``trialcode design``; returns the exit code."""
    return run("trialcode design", lambda: _design(args))


_OPTIONS = {
    "survival": ("hazard_ratio", "median_control", "median_experimental", "accrual",
                 "follow_up", "dropout"),
    "rates": ("experimental", "control", "expected", "reference"),
    "means": ("difference", "sd", "normal"),
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _design(args: argparse.Namespace) -> int:
    if args.endpoint not in ENDPOINTS:
        raise UsageError(f"ENDPOINT must be one of {', '.join(ENDPOINTS)}, got {args.endpoint!r}")
    for endpoint, names in _OPTIONS.items():
        if endpoint == args.endpoint:
            continue
        for name in names:
            if getattr(args, name) not in (None, False):
                raise UsageError(f"{_flag(name)} applies to '{endpoint}', not to "
                                 f"'{args.endpoint}'")
    power = number("--power", args.power)
    if not 0 < power < 1:
        raise UsageError(f"--power must be strictly between 0 and 1, got {args.power!r}")
    design = design_from_args(args, 1.0 - power, boundary_required=False)
    if args.endpoint == "survival":
        sample = _survival(args, design)
    elif args.endpoint == "rates":
        sample = _rates(args, design)
    else:
        sample = means_sample_size(design, difference=number("--difference", args.difference),
                                   sd=number("--sd", args.sd), allocation=_ratio(args.ratio),
                                   normal=args.normal)
    power_at = None
    if args.n is not None:
        power_at = sample.power_at(number("--n", args.n))
    if args.json:
        out = sample.as_dict()
        if power_at is not None:
            out["power_at"] = power_at.as_dict()
        print(json.dumps(out, indent=2))
    else:
        print(format_sample_size(sample))
        if power_at is not None:
            looks = ", ".join(f"{p:.4f}" for p in power_at.cumulative_power)
            print(f"Power with {power_at.n:g} {sample.unit}: {power_at.power:.4f} (cumulative by "
                  f"look: {looks}; expected {sample.unit} under H1 {power_at.expected_h1:.2f})")
    return 0


def _ratio(text: str) -> float:
    """``2:1``, ``1:2`` or ``2``: experimental over control."""
    if ":" in text:
        left, _, right = text.partition(":")
        e, c = number("--ratio", left), number("--ratio", right)
        if e <= 0 or c <= 0:
            raise UsageError(f"--ratio must be two positive numbers such as 2:1, got {text!r}")
        return e / c
    value = number("--ratio", text)
    if value <= 0:
        raise UsageError(f"--ratio must be positive, got {text!r}")
    return value


def _survival(args: argparse.Namespace, design: GroupSequentialDesign) -> SampleSize:
    hr_given = args.hazard_ratio is not None
    if hr_given == (args.median_experimental is not None):
        raise UsageError("give exactly one of --hazard-ratio or --median-experimental")
    control = None if args.median_control is None else number("--median-control",
                                                              args.median_control)
    if hr_given:
        hr = number("--hazard-ratio", args.hazard_ratio)
    else:
        if control is None:
            raise UsageError("--median-experimental needs --median-control")
        # exponential times: the hazard ratio is the inverse ratio of the medians
        hr = control / number("--median-experimental", args.median_experimental)
    dropout = 0.0
    if args.dropout is not None:
        rate = number("--dropout", args.dropout)
        dropout = 0.0 if rate == 0 else hazard_from_rate(rate, number("--dropout-time",
                                                                       args.dropout_time))
    recruitment = args.accrual is not None or args.follow_up is not None
    if hr_given and control is not None and not recruitment:
        raise UsageError("--median-control with --hazard-ratio serves the number of patients: "
                         "give --accrual and --follow-up too (events alone need neither)")
    return survival_sample_size(
        design,
        hazard_ratio=hr,
        allocation=_ratio(args.ratio),
        hazard_control=None if control is None or not recruitment else hazard_from_median(control),
        accrual_time=None if args.accrual is None else number("--accrual", args.accrual),
        follow_up_time=None if args.follow_up is None else number("--follow-up", args.follow_up),
        dropout_control=dropout,
    )


def _rates(args: argparse.Namespace, design: GroupSequentialDesign) -> SampleSize:
    two = args.experimental is not None or args.control is not None
    one = args.expected is not None or args.reference is not None
    if two == one:
        raise UsageError("give --experimental and --control (two groups), or --expected and "
                         "--reference (one group)")
    if one:
        if args.ratio != "1":
            raise UsageError("--ratio applies to two groups, not to --expected/--reference")
        return one_proportion_sample_size(design, expected=number("--expected", args.expected),
                                          reference=number("--reference", args.reference))
    return two_proportions_sample_size(design,
                                       experimental=number("--experimental", args.experimental),
                                       control=number("--control", args.control),
                                       allocation=_ratio(args.ratio))


# ---- the table ----------------------------------------------------------------------------

_TITLES = {
    "survival": "time to event, log-rank test (events by Schoenfeld 1983)",
    "two proportions": "two proportions (normal approximation, pooled variance under H0)",
    "one proportion": "one proportion against a reference rate (normal approximation)",
    "means": "difference in means",
}


def _assumptions(sample: SampleSize) -> str:
    a = dict(sample.assumptions)
    if sample.endpoint == "survival":
        parts = [f"hazard ratio {a['hazard_ratio']:g} (experimental over control)"]
        rec = sample.recruitment
        if rec is not None:
            median = math.log(2) / rec.hazard_control
            parts.append(f"control median {median:.4g} (hazard {rec.hazard_control:.4g})")
            parts.append(f"accrual {rec.accrual_time:g}, follow-up {rec.follow_up_time:g}")
            if rec.dropout_control > 0:
                parts.append(f"dropout hazard {rec.dropout_control:.4g}")
    elif sample.endpoint == "two proportions":
        parts = [f"proportions {a['experimental']:g} (experimental) and {a['control']:g} "
                 "(control)"]
    elif sample.endpoint == "one proportion":
        parts = [f"proportion {a['expected']:g} against the reference {a['reference']:g}"]
    else:
        test = "t test" if a["t_test"] else "normal approximation"
        parts = [f"difference {a['difference']:g}, standard deviation {a['sd']:g} ({test})"]
    if sample.allocation is not None:
        parts.append(f"allocation {sample.allocation:g}:1 (experimental:control)")
    return "; ".join(parts)


def format_sample_size(sample: SampleSize) -> str:
    """The readable table printed by ``trialcode design``."""
    d = sample.design
    lines = [f"Sample size: {_TITLES[sample.endpoint]}"]
    if d.k > 1:
        lines += describe(d)
    else:
        sided = "one-sided" if d.sides == 1 else "two-sided"
        test = f"Z >= {d.efficacy[0]:.4f}" if d.sides == 1 else f"|Z| >= {d.efficacy[0]:.4f}"
        lines.append(f"Fixed design, {sided}, alpha = {d.alpha:g}: reject H0 if {test}")
    lines.append(f"Power {1 - d.beta:g}; assuming {_assumptions(sample)}")
    what = sample.unit
    rec = sample.recruitment
    if d.k > 1:
        lines += _looks_table(sample)
        lines.append(f"Fixed design: {sample.fixed:.2f} {what}; inflation factor "
                     f"{sample.inflation_factor:.4f}")
    else:
        lines.append("")
    patients = sample.rounded_patients()
    if sample.unit == "events":
        lines.append(f"Events: {sample.maximum:.2f}, rounded up to {sample.rounded_maximum()}")
        if rec is not None:
            lines.append(f"Patients: {rec.patients:.2f} (event probability "
                         f"{rec.event_probability:.4f} by the end of follow-up at "
                         f"{rec.study_duration:g}), rounded up to {_patients(patients)}")
    else:
        how = "rounded up in each arm" if len(patients) == 3 else "rounded up"
        lines.append(f"Patients: {sample.maximum:.2f}; {how}: {_patients(patients)}")
    if d.k > 1:
        lines.append(f"Expected {what}: {sample.expected_h0:.2f} under H0, "
                     f"{sample.expected_h1:.2f} under H1")
        if rec is not None:
            lines.append(f"Expected under H1: {rec.expected_patients_h1:.2f} patients, study "
                         f"duration {rec.expected_duration_h1:.2f}")
    return "\n".join(lines)


def _looks_table(sample: SampleSize) -> list[str]:
    d = sample.design
    rec = sample.recruitment
    header = f"{'Look':>4}  {'Info frac':>9}  {sample.unit.capitalize():>9}"
    if rec is not None:
        header += f"  {'Patients':>9}  {'Time':>7}"
    header += f"  {'Efficacy Z':>10}"
    if d.futility:
        header += f"  {'Futility Z':>10}"
    header += f"  {'Cum power':>9}  {'Stop H0':>7}  {'Stop H1':>7}"
    lines = ["", header, "-" * len(header)]
    stop0, stop1 = sample.h0.stop, sample.h1.stop
    for k in range(d.k):
        row = f"{k + 1:>4}  {d.information_fractions[k]:>9.4f}  {sample.at_looks[k]:>9.2f}"
        if rec is not None:
            row += f"  {rec.patients_at_looks[k]:>9.2f}  {rec.analysis_times[k]:>7.2f}"
        row += f"  {_z(d.efficacy[k]):>10}"
        if d.futility:
            row += f"  {_z(d.futility[k]):>10}"
        row += f"  {d.cumulative_power[k]:>9.4f}  {stop0[k]:>7.4f}  {stop1[k]:>7.4f}"
        lines.append(row)
    lines += [
        "Numbers are cumulative; Time is the expected calendar time of the look"
        if rec is not None else "Numbers are cumulative",
        "Stop H0, H1: probability that the trial ends at the look (futility stops obeyed)",
        "",
    ]
    return lines


def _patients(rounded: tuple[int, ...]) -> str:
    if len(rounded) == 3:
        return f"{rounded[0]} ({rounded[1]} experimental, {rounded[2]} control)"
    return str(rounded[0])


def _z(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else ("inf" if value > 0 else "-inf")

