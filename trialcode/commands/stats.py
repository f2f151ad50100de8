"""`trialcode boundaries` and `trialcode simon`: trial-level stopping-rule numerics.

Both commands print a table a statistician recognises, or JSON with ``--json``.
Bad arguments give one line on stderr, ``trialcode <command>: error: ...``, and
exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from engine.stats import (
    CLASSICAL_FAMILIES,
    SPENDING_FAMILIES,
    DesignError,
    GroupSequentialDesign,
    SimonDesigns,
    bounds_at_observed_information,
    group_sequential_design,
    simon_two_stage,
)

from .numbers import UsageError, fractions, integer, number, one_of_ints

__all__ = ["boundaries_command", "register", "simon_command"]

_FAMILY_NAMES = {"pocock": "Pocock", "obf": "O'Brien-Fleming", "wang-tsiatis": "Wang-Tsiatis",
                 "haybittle-peto": "Haybittle-Peto"}  # fmt: skip
_SPENDING_NAMES = {
    "ld-obf": "Lan-DeMets O'Brien-Fleming",
    "ld-pocock": "Lan-DeMets Pocock",
    "hsd": "Hwang-Shih-DeCani",
    "power": "Kim-DeMets power",
}


def one_line_error(prog: str) -> Callable[[str], NoReturn]:
    def error(message: str) -> NoReturn:
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)

    return error


def add_design_arguments(parser: argparse.ArgumentParser, *, looks_default: str) -> None:
    """The options that choose a group sequential design (shared with ``trialcode design``)."""
    kind = parser.add_argument_group("efficacy boundary (exactly one)")
    kind.add_argument("--family", help=f"classical family: {', '.join(CLASSICAL_FAMILIES)}")
    kind.add_argument("--spending", help=f"alpha-spending function: {', '.join(SPENDING_FAMILIES)}")
    parser.add_argument(
        "--param",
        help="family parameter: Wang-Tsiatis Delta (default 0.25), hsd gamma (default -4), "
        "power rho (default 3)",
    )
    parser.add_argument(
        "--looks",
        default=looks_default,
        help="number of equally spaced looks K, or information fractions such as "
        f"0.25,0.5,0.75,1 (default {looks_default})",
    )
    parser.add_argument("--alpha", help="one-sided alpha, or total two-sided alpha with --sides 2")
    parser.add_argument("--sides", help="1 (one-sided) or 2 (two-sided symmetric)")
    parser.add_argument(
        "--futility",
        help="beta-spending futility bound FAMILY[:PARAM], e.g. hsd:-2 or ld-obf (one-sided only)",
    )
    parser.add_argument("--binding", action="store_true",
                        help="binding futility (default non-binding)")


def design_from_args(
    args: argparse.Namespace, beta: float, *, boundary_required: bool = True
) -> GroupSequentialDesign:
    """Solve the design the options of :func:`add_design_arguments` ask for. Without a boundary
    (when ``boundary_required`` is false) a single look is the fixed-sample design."""
    looks = fractions("--looks", args.looks)
    alpha = number("--alpha", args.alpha)
    sides = one_of_ints("--sides", args.sides, (1, 2))
    if args.family is None and args.spending is None and not boundary_required:
        if looks not in (1, [1.0]):
            raise UsageError("more than one look needs a boundary: give --family or --spending")
        if args.futility is not None or args.binding or args.param is not None:
            raise UsageError("--param, --futility and --binding need --family or --spending")
        return group_sequential_design(1, alpha=alpha, sides=sides, efficacy="obf", beta=beta)
    if (args.family is None) == (args.spending is None):
        raise UsageError("give exactly one of --family or --spending")
    efficacy = args.family if args.family is not None else args.spending
    if args.family is not None and args.family not in CLASSICAL_FAMILIES:
        raise UsageError(
            f"--family must be one of {', '.join(CLASSICAL_FAMILIES)}, got {args.family!r}"
        )
    if args.spending is not None and args.spending not in SPENDING_FAMILIES:
        raise UsageError(
            f"--spending must be one of {', '.join(SPENDING_FAMILIES)}, got {args.spending!r}"
        )
    param = None if args.param is None else number("--param", args.param)
    futility, futility_param = (None, None) if args.futility is None else _spec(args.futility)
    if futility is not None and futility not in SPENDING_FAMILIES:
        raise UsageError(
            f"--futility must be a beta-spending function ({', '.join(SPENDING_FAMILIES)}) "
            f"with an optional :PARAM, got {args.futility!r}"
        )
    return group_sequential_design(
        looks,
        alpha=alpha,
        sides=sides,
        efficacy=efficacy,
        efficacy_param=param,
        futility=futility,
        futility_param=futility_param,
        binding=args.binding,
        beta=beta,
    )


def register(subparsers: Any) -> None:
    """Add the ``boundaries`` and ``simon`` subcommands to an argparse subparsers object."""
    b = subparsers.add_parser(
        "boundaries",
        help="group sequential efficacy / futility boundaries",
        description="Group sequential boundaries: a classical family (--family) or an "
        "alpha-spending function (--spending), optional beta-spending futility.",
    )
    b.error = one_line_error("trialcode boundaries")
    add_design_arguments(b, looks_default="4")
    b.add_argument("--beta", default="0.1", help="type II error for the power (default 0.1)")
    b.add_argument(
        "--observed",
        help="recompute the bounds at the information observed, as fractions of the planned "
        "maximum, e.g. 0.3,0.62,1.04 (the last is the final look unless --interim)",
    )
    b.add_argument(
        "--interim", action="store_true", help="with --observed: the last look is not the final one"
    )
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.set_defaults(func=boundaries_command)

    s = subparsers.add_parser(
        "simon",
        help="Simon optimal and minimax two-stage designs",
        description="Simon (1989) two-stage designs for H0: p <= p0 against H1: p >= p1.",
    )
    s.error = one_line_error("trialcode simon")
    s.add_argument("--p0", help="uninteresting response rate")
    s.add_argument("--p1", help="desirable response rate")
    s.add_argument("--alpha", default="0.05", help="one-sided type I error (default 0.05)")
    s.add_argument("--beta", default="0.2", help="type II error (default 0.2)")
    s.add_argument("--n-max", default="500", help="largest total sample size searched")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=simon_command)


# --- argument parsing helpers -------------------------------------------------------------


def _spec(text: str) -> tuple[str, float | None]:
    name, _, param = text.partition(":")
    if not param:
        return name.strip(), None
    return name.strip(), number("--futility parameter", param)


def run(prog: str, body: Callable[[], int]) -> int:
    """Run a command's body; a bad argument or design is one line on stderr, exit status 2."""
    try:
        return body()
    except (UsageError, DesignError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2


# --- boundaries ---------------------------------------------------------------------------


def boundaries_command(args: argparse.Namespace) -> int:
    """Handler of ``trialcode boundaries``; returns the exit code."""
    return run("trialcode boundaries", lambda: _boundaries(args))


def _boundaries(args: argparse.Namespace) -> int:
    if args.interim and args.observed is None:
        raise UsageError("--interim only applies with --observed")
    design = design_from_args(args, number("--beta", args.beta))
    planned = None
    if args.observed is not None:
        observed = fractions("--observed", args.observed, allow_count=False)
        assert not isinstance(observed, int)
        planned = design
        design = bounds_at_observed_information(design, observed, final=not args.interim)
    if args.json:
        print(json.dumps(design.as_dict(), indent=2))
    else:
        print(format_design(design, planned))
    return 0


def _p(value: float) -> str:
    if value < 1e-4:
        return f"{value:.2e}"
    return f"{value:.5f}"


def _z(value: float) -> str:
    return f"{value:.4f}" if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def describe(design: GroupSequentialDesign) -> list[str]:
    """The design in words: efficacy family, sidedness, alpha; futility."""
    sided = "one-sided" if design.sides == 1 else "two-sided symmetric"
    fam = design.efficacy_family
    if fam in CLASSICAL_FAMILIES:
        name = _FAMILY_NAMES[fam]
        if fam == "wang-tsiatis":
            name += f" (Delta = {design.efficacy_param:g})"
        lines = [f"Efficacy: {name} boundary, {sided}, alpha = {design.alpha:g}"]
    else:
        name = _SPENDING_NAMES[fam]
        if design.efficacy_param is not None:
            name += f" (param = {design.efficacy_param:g})"
        per_tail = " (alpha/2 per tail)" if design.sides == 2 else ""
        lines = [f"Efficacy: {name} alpha spending, {sided}, alpha = {design.alpha:g}{per_tail}"]
    if design.futility_family is not None:
        fname = _SPENDING_NAMES[design.futility_family]
        if design.futility_param is not None:
            fname += f" (param = {design.futility_param:g})"
        kind = "binding" if design.binding else "non-binding"
        lines.append(f"Futility: {fname} beta spending, {kind}, beta = {design.beta:g}")
    if design.sides == 2:
        lines.append("Reject H0 at look k if |Z_k| >= efficacy Z; nominal p is one-sided.")
    return lines


def format_design(
    design: GroupSequentialDesign, planned: GroupSequentialDesign | None = None
) -> str:
    """The readable table printed by ``trialcode boundaries``."""
    lines = describe(design)
    if planned is not None:
        lines.append(
            "Bounds recomputed at the observed information (fractions of the planned maximum)."
        )
    has_fut = bool(design.futility)
    header = (
        f"{'Look':>4}  {'Info frac':>9}  {'Efficacy Z':>10}  {'Nominal p':>9}  {'Cum alpha':>9}"
    )
    if has_fut:
        header += f"  {'Futility Z':>10}  {'Futility p':>10}"
    lines += ["", header, "-" * len(header)]
    for k in range(design.k):
        row = (
            f"{k + 1:>4}  {design.information_fractions[k]:>9.4f}  {_z(design.efficacy[k]):>10}"
            f"  {_p(design.nominal_p[k]):>9}  {_p(design.cumulative_alpha[k]):>9}"
        )
        if has_fut:
            row += f"  {_z(design.futility[k]):>10}  {_p(design.futility_nominal_p[k]):>10}"
        lines.append(row)
    lines.append("")
    if planned is None:
        lines.append(
            f"Maximum information / fixed design (inflation factor): {design.inflation_factor:.4f}"
        )
    else:
        lines.append(
            f"Planned maximum information / fixed design: {design.inflation_factor:.4f}; "
            f"last look at {design.information_fractions[-1]:.4f} of the planned maximum"
        )
    lines.append(
        f"Expected information / fixed design: {design.expected_information_h0:.4f} under H0, "
        f"{design.expected_information_h1:.4f} under H1"
    )
    lines.append(f"Power: {design.power:.4f} (planned 1 - beta = {1 - design.beta:g})")
    if has_fut and not design.binding:
        lines.append(f"Type I error if every futility stop is obeyed: {design.type_i_error:.5f}")
    return "\n".join(lines)


# --- simon --------------------------------------------------------------------------------


def simon_command(args: argparse.Namespace) -> int:
    """Handler of ``trialcode simon``; returns the exit code."""
    return run("trialcode simon", lambda: _simon(args))


def _simon(args: argparse.Namespace) -> int:
    n_max = integer("--n-max", args.n_max, minimum=2)
    result = simon_two_stage(
        number("--p0", args.p0),
        number("--p1", args.p1),
        number("--alpha", args.alpha),
        number("--beta", args.beta),
        n_max=n_max,
    )
    if args.json:
        print(
            json.dumps(
                {"optimal": result.optimal.as_dict(), "minimax": result.minimax.as_dict()}, indent=2
            )
        )
    else:
        print(format_simon(result))
    return 0


def format_simon(result: SimonDesigns) -> str:
    """The readable table printed by ``trialcode simon``."""
    o = result.optimal
    lines = [
        f"Simon two-stage designs: p0 = {o.p0:g}, p1 = {o.p1:g}, "
        f"alpha = {result.alpha:g}, beta = {result.beta:g}",
        "",
        f"{'Design':<8}  {'r1/n1':>6}  {'r/n':>6}  {'EN0':>6}  {'PET0':>6}  {'alpha':>6}  {'power':>6}",
    ]
    lines.append("-" * len(lines[-1]))
    for d in (result.optimal, result.minimax):
        lines.append(
            f"{d.kind.capitalize():<8}  {f'{d.r1}/{d.n1}':>6}  {f'{d.r}/{d.n}':>6}  {d.en0:>6.2f}"
            f"  {d.pet0:>6.3f}  {d.type_i_error:>6.4f}  {d.power:>6.4f}"
        )
    lines += [
        "",
        "Stop after stage 1 if at most r1 of n1 respond; declare the drug",
        "inactive if at most r of all n respond (exact binomial, Simon 1989).",
    ]
    return "\n".join(lines)
