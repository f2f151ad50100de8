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
    FUTILITY_FAMILIES,
    PAMPALLONA_TSIATIS,
    SPENDING_FAMILIES,
    DesignError,
    GroupSequentialDesign,
    SimonDesigns,
    bounds_at_observed_information,
    conditional_power,
    group_sequential_design,
    simon_two_stage,
    trend_drift,
)

from .numbers import UsageError, fractions, integer, number, number_list, one_of_ints

__all__ = ["boundaries_command", "register", "simon_command"]

_FAMILY_NAMES = {"pocock": "Pocock", "obf": "O'Brien-Fleming", "wang-tsiatis": "Wang-Tsiatis",
                 "haybittle-peto": "Haybittle-Peto",
                 "pampallona-tsiatis": "Pampallona-Tsiatis"}  # fmt: skip
_SPENDING_NAMES = {
    "ld-obf": "Lan-DeMets O'Brien-Fleming",
    "ld-pocock": "Lan-DeMets Pocock",
    "hsd": "Hwang-Shih-DeCani",
    "power": "Kim-DeMets power",
    "user": "user-defined",
}
#: Families whose bounds are fixed in advance (--family); the rest spend error (--spending).
_FAMILIES = tuple(CLASSICAL_FAMILIES) + (PAMPALLONA_TSIATIS,)


def one_line_error(prog: str) -> Callable[[str], NoReturn]:
    def error(message: str) -> NoReturn:
        print(f"{prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)

    return error


def add_design_arguments(parser: argparse.ArgumentParser, *, looks_default: str) -> None:
    """The options that choose a group sequential design (shared with ``trialcode design``)."""
    kind = parser.add_argument_group("efficacy boundary (exactly one)")
    kind.add_argument("--family", help=f"classical family: {', '.join(_FAMILIES)}")
    kind.add_argument("--spending", help=f"alpha-spending function: {', '.join(SPENDING_FAMILIES)}")
    parser.add_argument(
        "--param",
        help="family parameter: Wang-Tsiatis Delta (default 0.25), Haybittle-Peto interim bound "
        "(default 3), Pampallona-Tsiatis Delta1, hsd gamma (default -4), power rho (default 3)",
    )
    parser.add_argument("--alpha-fractions",
                        help="with --spending user: cumulative fractions of alpha spent by each "
                        "look, e.g. 0.1,0.4,1")
    parser.add_argument("--beta-fractions",
                        help="with --futility user: cumulative fractions of beta spent by each "
                        "look")
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
        help="futility bound: a beta-spending function FAMILY[:PARAM] (e.g. hsd:-2, ld-obf, "
        "user with --beta-fractions), z:Z1,Z2,... (bounds on the Z scale at the interim looks, "
        "one-sided), or pampallona-tsiatis:DELTA0 with --family pampallona-tsiatis",
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
    if args.family is not None and args.family not in _FAMILIES:
        raise UsageError(
            f"--family must be one of {', '.join(_FAMILIES)}, got {args.family!r}"
        )
    if args.spending is not None and args.spending not in SPENDING_FAMILIES:
        raise UsageError(
            f"--spending must be one of {', '.join(SPENDING_FAMILIES)}, got {args.spending!r}"
        )
    param = None if args.param is None else number("--param", args.param)
    kwargs: dict[str, Any] = {}
    if args.alpha_fractions is not None:
        if args.spending != "user":
            raise UsageError("--alpha-fractions go with --spending user")
        kwargs["efficacy_spending"] = number_list("--alpha-fractions", args.alpha_fractions)
    elif args.spending == "user":
        raise UsageError("--spending user needs --alpha-fractions, e.g. 0.1,0.4,1")
    futility, futility_param = None, None
    if args.futility is not None:
        futility, _, tail = args.futility.partition(":")
        futility = futility.strip()
        if futility == "z":
            values = number_list("--futility z", tail) if tail.strip() else []
            if not values:
                raise UsageError("--futility z needs the bounds, e.g. z:0,0.5")
            kwargs["futility_bounds"] = values
        elif futility not in FUTILITY_FAMILIES:
            raise UsageError(
                f"--futility must be a beta-spending function ({', '.join(SPENDING_FAMILIES)}) "
                f"with an optional :PARAM, z:BOUNDS or pampallona-tsiatis:DELTA0, got "
                f"{args.futility!r}"
            )
        elif tail:
            futility_param = number("--futility parameter", tail)
    if args.beta_fractions is not None:
        if futility != "user":
            raise UsageError("--beta-fractions go with --futility user")
        kwargs["futility_spending"] = number_list("--beta-fractions", args.beta_fractions)
    elif futility == "user":
        raise UsageError("--futility user needs --beta-fractions, e.g. 0.2,0.5,1")
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
        **kwargs,
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
    b.add_argument("--z", help="with --observed and --interim: the Z observed at the last look; "
                   "prints the conditional power")
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
    if args.z is not None and not args.interim:
        raise UsageError("--z gives the conditional power at an interim look: it needs "
                         "--observed and --interim")
    design = design_from_args(args, number("--beta", args.beta))
    planned = None
    cp: dict[str, float] | None = None
    if args.observed is not None:
        observed = fractions("--observed", args.observed, allow_count=False)
        assert not isinstance(observed, int)
        planned = design
        design = bounds_at_observed_information(design, observed, final=not args.interim)
        if args.z is not None:
            cp = _conditional(planned, observed, number("--z", args.z))
    if args.json:
        out = design.as_dict()
        if cp is not None:
            out["conditional_power"] = cp
        print(json.dumps(out, indent=2))
    else:
        print(format_design(design, planned))
        if cp is not None:
            print(f"Conditional power at look {len(design.efficacy)} (Z = {cp['z']:g}): "
                  f"{cp['design_effect']:.4f} under the design effect (drift "
                  f"{cp['design_drift']:.4f}), {cp['current_trend']:.4f} under the current trend "
                  f"(drift {cp['trend_drift']:.4f})")
    return 0


def _conditional(planned: GroupSequentialDesign, observed: list[float], z: float) -> dict[str, float]:
    """Conditional power at the last observed look, with the looks still to come at their
    planned information (as `trialcode monitor` does)."""
    rest = [t for t in planned.information_fractions if t > observed[-1]] or [1.0]
    full = bounds_at_observed_information(planned, observed + rest, final=True)
    k = len(observed) - 1
    binding = planned.binding and planned.sides == 1 and bool(full.futility)
    futility = full.futility if binding else None

    def cp(theta: float) -> float:
        return conditional_power(full.information_fractions, full.efficacy, k, z, theta,
                                 sides=planned.sides, futility=futility)

    trend = trend_drift(z, observed[-1])
    return {"z": z, "design_effect": cp(planned.drift), "design_drift": planned.drift,
            "current_trend": cp(trend), "trend_drift": trend}


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
    if fam in _FAMILY_NAMES:
        name = _FAMILY_NAMES[fam]
        if fam in ("wang-tsiatis", "pampallona-tsiatis"):
            name += f" (Delta = {design.efficacy_param:g})"
        elif fam == "haybittle-peto":
            name += f" (interim bound {design.efficacy_param:g})"
        lines = [f"Efficacy: {name} boundary, {sided}, alpha = {design.alpha:g}"]
    else:
        name = _SPENDING_NAMES[fam]
        if design.efficacy_spending is not None and design.efficacy_spending.family == "user":
            name += f" (fractions {', '.join(f'{x:g}' for x in design.efficacy_spending.fractions)})"
        elif design.efficacy_param is not None:
            name += f" (param = {design.efficacy_param:g})"
        per_tail = " (alpha/2 per tail)" if design.sides == 2 else ""
        lines = [f"Efficacy: {name} alpha spending, {sided}, alpha = {design.alpha:g}{per_tail}"]
    fut = design.futility_family
    if fut is not None:
        kind = "binding" if design.binding else "non-binding"
        where = " (stop if |Z_k| < futility Z)" if design.sides == 2 else ""
        if fut == "z":
            lines.append(f"Futility: bounds on the Z scale, {kind}{where}")
        elif fut == PAMPALLONA_TSIATIS:
            lines.append(f"Futility: Pampallona-Tsiatis (Delta = {design.futility_param:g}), "
                         f"{kind}, beta = {design.beta:g}{where}")
        else:
            fname = _SPENDING_NAMES[fut]
            sf = design.futility_spending
            if sf is not None and sf.family == "user":
                fname += f" (fractions {', '.join(f'{x:g}' for x in sf.fractions)})"
            elif design.futility_param is not None:
                fname += f" (param = {design.futility_param:g})"
            lines.append(f"Futility: {fname} beta spending, {kind}, beta = {design.beta:g}{where}")
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
