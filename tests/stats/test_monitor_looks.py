"""Safety rules with looks (`at 12, 24 patients`): checked there only, with the reason said."""

from __future__ import annotations

import json
from pathlib import Path

from trialcode.cli import main

PROTOCOL = """
trial looks {
  enrollment 40
  arm a "A" experimental { drug }
  intervention drug drug "Drug"
  data { event adverse_event "Adverse event" attributes grade }
  stopping {
    trial safety tox "Toxicity":
      patients with any adverse_event where grade >= 4
      stop when posterior P(rate > 0.2) > 0.9 prior beta(1, 1) at 10, 20, 40 patients
  }
}
"""


def _run(tmp_path: Path, capsys, patients: int, events: int) -> str:
    protocol = tmp_path / "p.trial"
    protocol.write_text(PROTOCOL, encoding="utf-8")
    data = tmp_path / "d.json"
    data.write_text(json.dumps({"format": "trialcode.interim/1", "safety": {
        "tox": {"patients": patients, "events": events}}}), encoding="utf-8")
    assert main(["monitor", str(protocol), "--data", str(data)]) == 0
    return capsys.readouterr().out


def test_the_table_and_operating_characteristics_are_at_the_looks(tmp_path, capsys) -> None:
    out = _run(tmp_path, capsys, 10, 1)
    assert "Operating characteristics (exact, checked at 10, 20, 40 patients, up to 40 patients)" \
        in out
    table = out.split("stop if at least k events among the first n patients\n", 1)[1]
    assert [line.split()[0] for line in table.splitlines()[2:5]] == ["10", "20", "40"]


def test_a_look_between_protocol_looks_is_not_acted_on(tmp_path, capsys) -> None:
    out = _run(tmp_path, capsys, 8, 5)
    assert ("the rule is checked only at 10, 20, 40 patients, not at 8: continue." in out)


def test_at_a_look_the_rule_stops(tmp_path, capsys) -> None:
    out = _run(tmp_path, capsys, 10, 5)
    assert "Decision at look 1: STOP: safety." in out
