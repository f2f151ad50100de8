"""`trialcode monitor` through the CLI: the seed trial's illustrative interim data, --json, and
bad input (one located line per problem on stderr, exit status 1, never a traceback)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from trialcode.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "nct06802718"
PROTOCOL = str(SEED / "protocol.trial")
INTERIM = str(SEED / "interim.json")


def write(tmp_path: Path, obj: object, name: str = "interim.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(obj), encoding="utf-8")
    return str(path)


def test_seed_trial_report(capsys: pytest.CaptureFixture[str]):
    assert main(["monitor", PROTOCOL, "--data", INTERIM]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Interim monitoring of NCT06802718: data {INTERIM}, cut-off 2025-06-30"
    assert lines[1].startswith("ILLUSTRATIVE")
    assert 'Interim analysis rfs "Relapse-free survival"' in lines
    header = next(x for x in lines if x.startswith("Look  Information"))
    assert header.split() == [
        "Look", "Information", "Events", "HR", "Z", "obs", "Efficacy", "Z", "Nominal", "p",
        "p", "obs", "Cum", "alpha", "Decision",
    ]
    look1 = lines[lines.index(header) + 2].split()
    assert look1[:5] == ["1", "0.4500", "27", "0.55", "1.5532"]
    assert look1[-1] == "continue"
    final = lines[lines.index(header) + 3]
    assert final.split()[:2] == ["2", "1.0000"] and final.endswith("(final, planned)")
    assert any(x.startswith("Decision at look 1: continue. Interim look 1") for x in lines)
    safety = next(x for x in lines if x.startswith("Look  Patients"))
    rows = [lines[lines.index(safety) + i].split() for i in (2, 3, 4)]
    assert [r[:3] for r in rows] == [["1", "12", "1"], ["2", "24", "3"], ["3", "36", "5"]]
    assert "Monitored patients: up to 48 (planned enrolment 96 allocated 1:1 to the 2 arms; " \
        "the rule covers ifn)." in lines
    assert lines[-5:] == [
        "Summary",
        "Rule    Kind     Look  Decision",
        "-------------------------------",
        "rfs     interim  1     continue",
        "grade4  safety   3     continue",
    ]


def test_seed_trial_json(capsys: pytest.CaptureFixture[str]):
    assert main(["monitor", PROTOCOL, "--data", INTERIM, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (rfs,) = out["interim"]
    (grade4,) = out["safety"]
    assert rfs["decision"] == "continue" and rfs["look"] == 1
    assert rfs["looks"][0]["z"] == pytest.approx(-math.log(0.55) * math.sqrt(27 / 4))
    assert rfs["looks"][0]["efficacy_bound"] > rfs["looks"][0]["planned_efficacy_bound"]
    assert grade4["decision"] == "continue" and grade4["max_patients"] == 48
    assert [x["stop_at_events"] for x in grade4["looks"]] == [4, 8, 11]


def test_stop_decisions_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(
        tmp_path,
        {
            "format": "trialcode.interim/1",
            "interim": {"rfs": {"looks": [{"information": 0.5, "z": 3.0}]}},
            "safety": {"grade4": {"patients": 12, "events": 4}},
        },
    )
    assert main(["monitor", PROTOCOL, "--data", path]) == 0
    out = capsys.readouterr().out
    assert "Decision at look 1: STOP: efficacy." in out
    assert "Decision at look 1: STOP: safety." in out


def test_bad_data_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(
        tmp_path,
        {
            "format": "trialcode.interim/1",
            "interim": {
                "rfs": {"looks": [{"information": 0.5, "z": 1.0}, {"information": 0.4, "z": 1.0}]},
                "os": {"looks": [{"information": 0.5, "z": 1.0}]},
            },
        },
    )
    assert main(["monitor", PROTOCOL, "--data", path]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"trialcode monitor: {path}: interim rule 'os': the protocol has no trial interim rule "
        "'os' (its interim rules: rfs)",
        f"trialcode monitor: {path}: interim rule 'rfs', look 2, field 'information': the "
        "information must grow from look to look, got 0.4 after 0.5 at look 1",
    ]


def test_shape_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = write(
        tmp_path,
        {"format": "trialcode.interim/1", "interim": {"rfs": {"looks": [{"information": 0.5, "z": "big"}]}}},
    )
    assert main(["monitor", PROTOCOL, "--data", path]) == 1
    assert capsys.readouterr().err == (
        f"trialcode monitor: {path}: interim rule 'rfs', look 1, field 'z': must be a number, "
        "got \"big\"\n"
    )


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = str(tmp_path / "nowhere.json")
    assert main(["monitor", PROTOCOL, "--data", path]) == 1
    assert capsys.readouterr().err == (
        f"trialcode monitor: {path}: cannot read the file: No such file or directory\n"
    )


def test_bad_protocol(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    broken = tmp_path / "broken.trial"
    broken.write_text("trial X {\n  enrollment\n}\n", encoding="utf-8")
    assert main(["monitor", str(broken), "--data", INTERIM]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{broken}:3:1: error: ")
    assert "Traceback" not in err


def test_data_is_required(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as info:
        main(["monitor", PROTOCOL])
    assert info.value.code == 2
    assert "--data" in capsys.readouterr().err


def _blocks(text: str, fence: str) -> list[str]:
    parts = text.split(fence + "\n")[1:]
    return [p.split("\n```", 1)[0] for p in parts]


def test_documented_example_and_output_are_real(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    doc = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    example = _blocks(doc, "```json")[0]
    assert json.loads(example) == json.loads(Path(INTERIM).read_text(encoding="utf-8"))
    monkeypatch.chdir(ROOT)
    assert main(["monitor", "examples/nct06802718/protocol.trial", "--data",
                 "examples/nct06802718/interim.json"]) == 0
    out = capsys.readouterr().out.rstrip("\n")
    seed_block = doc.split("## Output", 1)[1].split("```\n", 1)[1].split("\n```", 1)[0]
    assert seed_block == out
