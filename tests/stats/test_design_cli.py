"""`trialcode design`: sample sizes from the command line, and whole messages for bad input."""

from __future__ import annotations

import json

import pytest

from trialcode.cli import main


def run(capsys: pytest.CaptureFixture[str], command: str) -> tuple[int, str, str]:
    try:
        code = main(command.split())
    except SystemExit as exc:  # argparse-level errors exit directly
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


SURVIVAL = ("design survival --family obf --looks 0.5,1 --alpha 0.05 --sides 2 --power 0.8 "
            "--hazard-ratio 0.5 --median-control 12 --accrual 24 --follow-up 24 --dropout 0.05")


def test_survival_table(capsys) -> None:
    code, out, err = run(capsys, SURVIVAL)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Sample size: time to event, log-rank test (events by Schoenfeld 1983)"
    # rpact 3.3.4 getSampleSizeSurvival: events per stage 32.92723 65.85446, subjects 92.14687
    # 92.63246, analysis times 23.87419 48
    assert "   1     0.5000      32.93      92.15    23.87      2.7965" in out
    assert "   2     1.0000      65.85      92.63    48.00      1.9774" in out
    assert "Events: 65.85, rounded up to 66" in lines
    assert ("Patients: 92.63 (event probability 0.7109 by the end of follow-up at 48), rounded "
            "up to 94 (47 experimental, 47 control)") in lines


def test_survival_json(capsys) -> None:
    code, out, _ = run(capsys, SURVIVAL + " --json")
    assert code == 0
    data = json.loads(out)
    assert data["endpoint"] == "survival" and data["unit"] == "events"
    assert data["maximum"] == pytest.approx(65.85446, rel=1e-5)
    assert data["recruitment"]["patients"] == pytest.approx(92.63246, rel=1e-5)
    assert data["recruitment"]["expected_patients_h1"] == pytest.approx(92.53068, rel=1e-5)
    assert data["patients_rounded"] == [94, 47, 47]
    assert data["stop_efficacy_h1"] == pytest.approx([0.2096051, 0.5903949], abs=1e-6)


def test_medians_instead_of_the_hazard_ratio(capsys) -> None:
    code, out, _ = run(capsys, "design survival --median-control 12 --median-experimental 24 "
                               "--alpha 0.05 --sides 2 --power 0.8 --json")
    assert code == 0
    data = json.loads(out)
    assert data["assumptions"]["hazard_ratio"] == 0.5
    assert data["fixed"] == pytest.approx(65.34566, rel=1e-6)  # rpact eventsFixed


def test_fixed_two_proportions(capsys) -> None:
    code, out, _ = run(capsys, "design rates --experimental 0.5 --control 0.3 --alpha 0.05 "
                               "--sides 2 --power 0.8")
    assert code == 0
    assert out.splitlines()[1] == ("Fixed design, two-sided, alpha = 0.05: reject H0 if "
                                   "|Z| >= 1.9600")
    assert "Patients: 186.00; rounded up in each arm: 186 (93 experimental, 93 control)" in out


def test_one_group_rate_and_means(capsys) -> None:
    code, out, _ = run(capsys, "design rates --expected 0.4 --reference 0.2 --alpha 0.05 "
                               "--sides 1 --power 0.8 --json")
    assert code == 0
    # (z_0.95 sqrt(0.2 x 0.8) + z_0.8 sqrt(0.4 x 0.6))^2 / 0.2^2 = 28.6
    assert json.loads(out)["patients_rounded"] == [29]
    code, out, _ = run(capsys, "design means --difference 0.5 --sd 1 --alpha 0.05 --sides 2 "
                               "--power 0.8 --json")
    assert code == 0
    assert json.loads(out)["patients_rounded"] == [128, 64, 64]  # Cohen (1992): 64 per group


BAD = [
    ("design survival --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: give exactly one of --hazard-ratio or --median-experimental"),
    ("design survival --hazard-ratio 0.7 --alpha 0.05 --sides 2",
     "trialcode design: error: --power is required"),
    ("design survival --hazard-ratio 0.7 --alpha 0.05 --sides 2 --power 1.2",
     "trialcode design: error: --power must be strictly between 0 and 1, got '1.2'"),
    ("design survival --hazard-ratio 1 --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: the hazard ratio must differ from 1 (no difference has no "
     "sample size)"),
    ("design survival --hazard-ratio 0.7 --accrual 24 --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: patients need the control hazard (or median), the accrual time "
     "and the follow-up time together; give all three, or none for events only"),
    ("design survival --hazard-ratio ٠.٧ --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: --hazard-ratio must be a number, got '٠.٧'"),
    ("design survival --hazard-ratio 0.7 --alpha 0.05 --sides 2 --power 0.8 --sd 3",
     "trialcode design: error: --sd applies to 'means', not to 'survival'"),
    ("design survival --hazard-ratio 0.7 --looks 3 --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: more than one look needs a boundary: give --family or --spending"),
    ("design survival --hazard-ratio 0.7 --looks ³ --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: --looks must be K or comma-separated information fractions, "
     "got '³': item 1 is '³'"),
    ("design survival --hazard-ratio 0.7 --alpha 0.05 --sides 2.0 --power 0.8",
     "trialcode design: error: --sides must be 1 or 2, got '2.0'"),
    ("design survival --hazard-ratio 0.7 --median-control 12 --alpha 0.05 --sides 2 "
     "--power 0.8",
     "trialcode design: error: --median-control with --hazard-ratio serves the number of "
     "patients: give --accrual and --follow-up too (events alone need neither)"),
    ("design rates --experimental 0.5 --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: --control is required"),
    ("design rates --experimental 0.5 --control 0.3 --expected 0.4 --alpha 0.05 --sides 2 "
     "--power 0.8",
     "trialcode design: error: give --experimental and --control (two groups), or --expected "
     "and --reference (one group)"),
    ("design rates --experimental 0.5 --control 0.3 --ratio 2:0 --alpha 0.05 --sides 2 "
     "--power 0.8",
     "trialcode design: error: --ratio must be two positive numbers such as 2:1, got '2:0'"),
    ("design means --difference 0 --sd 1 --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: the difference in means must be a non-zero number, got 0.0"),
    ("design weight --alpha 0.05 --sides 2 --power 0.8",
     "trialcode design: error: ENDPOINT must be one of survival, rates, means, got 'weight'"),
    ("design", "trialcode design: error: the following arguments are required: ENDPOINT"),
]


@pytest.mark.parametrize(("command", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line(capsys, command: str, message: str) -> None:
    code, out, err = run(capsys, command)
    assert code == 2
    assert out == ""
    assert err == message + "\n"
