"""`trialcode boundaries` with the designs added for issue 17: Haybittle-Peto with any interim
bound, Pampallona-Tsiatis, user-defined spending, futility on the Z scale, two-sided futility,
and conditional power with --z. Values from rpact 3.3.4 (tools/rpact_reference.R)."""

from __future__ import annotations

import json

import pytest

from trialcode.cli import main


def run(capsys: pytest.CaptureFixture[str], command: str) -> tuple[int, str, str]:
    try:
        code = main(command.split())
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("command", "efficacy", "futility"), [
    # rpact: getDesignGroupSequential(kMax = 3, alpha = 0.025, beta = 0.2, typeOfDesign = "HP",
    # constantBoundsHP = 3.5)
    ("--family haybittle-peto --param 3.5 --looks 3 --alpha 0.025 --sides 1 --beta 0.2",
     [3.5, 3.5, 1.961693], []),
    # typeOfDesign = "PT", deltaPT1 = 0.25, deltaPT0 = 0.25, bindingFutility = FALSE
    ("--family pampallona-tsiatis --param 0.25 --futility pampallona-tsiatis:0.25 --looks 3 "
     "--alpha 0.025 --sides 1 --beta 0.2",
     [2.741137, 2.305012, 2.082813], [0.4126421, 1.3903331]),
    # asUser c(0.001, 0.01, 0.025), bsUser c(0.02, 0.08, 0.2)
    ("--spending user --alpha-fractions 0.04,0.4,1 --futility user --beta-fractions 0.1,0.4,1 "
     "--looks 3 --alpha 0.025 --sides 1 --beta 0.2",
     [3.090232, 2.344825, 2.039502], [-0.3789336, 0.9121763]),
    # typeOfDesign = "OF", futilityBounds = c(0, 0.5), bindingFutility = TRUE
    ("--family obf --futility z:0,0.5 --binding --looks 3 --alpha 0.025 --sides 1 --beta 0.2",
     [3.432691, 2.427279, 1.981865], [0.0, 0.5]),
    # sided = 2, asOF, bsOF (rpact: futility NA at look 1, i.e. none)
    ("--spending ld-obf --futility ld-obf --looks 3 --alpha 0.05 --sides 2 --beta 0.2",
     [3.710303, 2.511427, 1.993047], [0.0, 1.115016]),
])
def test_new_designs_against_rpact(capsys, command: str, efficacy: list[float],
                                    futility: list[float]) -> None:
    code, out, err = run(capsys, f"boundaries {command} --json")
    assert code == 0, err
    d = json.loads(out)
    assert d["efficacy"] == pytest.approx(efficacy, abs=2e-6)
    assert d["futility"][:-1] == pytest.approx(futility, abs=2e-6)


def test_tables_name_the_new_designs(capsys) -> None:
    code, out, _ = run(capsys, "boundaries --family pampallona-tsiatis --param 0.25 --futility "
                               "pampallona-tsiatis:0.1 --looks 3 --alpha 0.05 --sides 2")
    assert code == 0
    assert out.splitlines()[:2] == [
        "Efficacy: Pampallona-Tsiatis (Delta = 0.25) boundary, two-sided symmetric, alpha = 0.05",
        "Futility: Pampallona-Tsiatis (Delta = 0.1), non-binding, beta = 0.1 (stop if |Z_k| < "
        "futility Z)",
    ]


def test_conditional_power_option(capsys) -> None:
    code, out, _ = run(capsys, "boundaries --spending ld-obf --looks 2 --alpha 0.025 --sides 1 "
                               "--observed 0.5 --interim --z 1.2 --json")
    assert code == 0
    cp = json.loads(out)["conditional_power"]
    assert cp["z"] == 1.2 and 0 < cp["current_trend"] < cp["design_effect"] < 1
    code, out, _ = run(capsys, "boundaries --spending ld-obf --looks 2 --alpha 0.025 --sides 1 "
                               "--observed 0.5 --interim --z 1.2")
    assert out.splitlines()[-1].startswith("Conditional power at look 1 (Z = 1.2): ")


BAD = [
    ("boundaries --spending user --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: --spending user needs --alpha-fractions, e.g. 0.1,0.4,1"),
    ("boundaries --spending ld-obf --alpha-fractions 0.1,0.4,1 --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: --alpha-fractions go with --spending user"),
    ("boundaries --spending user --alpha-fractions 0.1,0.4 --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: efficacy spending fractions give 2 values but there are 3 "
     "looks"),
    ("boundaries --spending ld-obf --futility z --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: --futility z needs the bounds, e.g. z:0,0.5"),
    ("boundaries --spending ld-obf --futility z:0,٠.٥ --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: --futility z must be comma-separated numbers, "
     "got '0,٠.٥': item 2 is '٠.٥'"),
    ("boundaries --spending ld-obf --futility z:0,0.5 --looks 3 --alpha 0.05 --sides 2",
     "trialcode boundaries: error: futility bounds on the Z scale are for one-sided designs; a "
     "two-sided design takes a beta-spending futility bound"),
    ("boundaries --family pampallona-tsiatis --param 0.25 --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: a Pampallona-Tsiatis design has a futility bound of the same "
     "family (its Delta for the futility shape)"),
    ("boundaries --family haybittle-peto --param 0 --looks 3 --alpha 0.025 --sides 1",
     "trialcode boundaries: error: the Haybittle-Peto interim bound must be a positive Z value, "
     "got 0.0"),
    ("boundaries --spending ld-obf --looks 2 --alpha 0.025 --sides 1 --z 1",
     "trialcode boundaries: error: --z gives the conditional power at an interim look: it needs "
     "--observed and --interim"),
]


@pytest.mark.parametrize(("command", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(capsys, command: str, message: str) -> None:
    code, out, err = run(capsys, command)
    assert code == 2 and out == ""
    assert err == message + "\n"
