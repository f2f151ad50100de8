"""`trialcode check` solves every interim rule's design and says why one cannot be solved, and
the document never promises a boundary table it does not print (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

import dsl
import trialcode
from trialcode.cli import main

HAYBITTLE_PETO = """trial hp {
  stopping {
    trial interim os "Overall survival" at information 0.33, 0.67, 1
      efficacy haybittle_peto alpha 0.001 one_sided
  }
}
"""

# the example docs/language.md used to show: a two-sided classical bound with futility
TWO_SIDED_FUTILITY = """trial ts {
  stopping {
    trial interim rfs "Relapse-free survival" at information 0.5, 1 of 60 events
      efficacy obrien_fleming alpha 0.05 two_sided
      futility hwang_shih_decani(-2) beta 0.1 non_binding
  }
}
"""


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    path = tmp_path / "p.trial"
    path.write_text(text, encoding="utf-8")
    status = main(["check", str(path)])
    captured = capsys.readouterr()
    return status, captured.err.replace(str(path), "p.trial")


def test_haybittle_peto_spending_all_alpha_at_the_interims(tmp_path, capsys) -> None:
    status, err = _check(tmp_path, capsys, HAYBITTLE_PETO)
    assert status == 1
    # P(Z_1 >= 3 or Z_2 >= 3) with looks at 0.33, 0.67 is 0.002468 > alpha = 0.001
    assert err == (
        "p.trial:3:5: error: interim rule 'os': the design cannot be solved: Haybittle-Peto "
        "interim bounds of 3 already spend 0.002468 >= alpha = 0.001; use more alpha, fewer "
        "looks or a higher interim bound\n"
        '      trial interim os "Overall survival" at information 0.33, 0.67, 1\n'
        "      ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~^\n"
        "p.trial: 1 error\n"
    )


def test_two_sided_classical_bound_with_futility_is_now_a_design(tmp_path, capsys) -> None:
    # two-sided futility by beta spending (an inner region |Z| < a, rpact's algorithm) makes
    # the example docs/language.md once showed a design that can be solved
    status, err = _check(tmp_path, capsys, TWO_SIDED_FUTILITY)
    assert (status, err) == (0, "")


def test_binding_beta_spending_with_a_classical_bound(tmp_path, capsys) -> None:
    text = TWO_SIDED_FUTILITY.replace("non_binding", "binding")
    status, err = _check(tmp_path, capsys, text)
    assert status == 1
    assert err.splitlines()[0] == (
        "p.trial:3:5: error: interim rule 'rfs': the design cannot be solved: binding "
        "beta-spending futility needs an error-spending efficacy bound (ld-obf, ld-pocock, hsd, "
        "power, user)"
    )


def test_the_last_look_must_be_at_full_information(tmp_path, capsys) -> None:
    text = HAYBITTLE_PETO.replace("0.33, 0.67, 1", "0.5, 0.9").replace("0.001", "0.025")
    status, err = _check(tmp_path, capsys, text)
    assert status == 1
    assert err.splitlines()[0] == (
        "p.trial:3:5: error: the last look must be at information 1: the fractions are of the "
        "maximum information, which the final analysis reaches"
    )


def test_load_refuses_an_unsolvable_design() -> None:
    with pytest.raises(trialcode.ProtocolError, match="the design cannot be solved"):
        trialcode.load_source(HAYBITTLE_PETO, "hp.trial")


@pytest.mark.parametrize("text", [HAYBITTLE_PETO, TWO_SIDED_FUTILITY.replace("non_binding",
                                                                             "binding")])
def test_render_does_not_promise_a_table_it_does_not_print(text: str) -> None:
    # a model that never went through check (the Python API) can still carry such a design
    trial = dsl.parse(text, "p.trial")
    md = trialcode.render(trial, "md")
    assert isinstance(md, str)
    assert "Boundaries are tabulated" not in md
    assert "| Look |" not in md
    assert "The boundaries of this design cannot be computed: " in md


def test_render_promises_the_table_it_prints() -> None:
    trial = trialcode.load(ROOT / "examples" / "nct06802718" / "protocol.trial")
    md = trialcode.render(trial, "md")
    assert isinstance(md, str)
    assert "Boundaries are tabulated in Section 10.9." in md
    assert "*Boundaries for Relapse-free survival" in md


def test_check_solves_designs_without_scipy_stats_or_optimize() -> None:
    code = ("import sys; from trialcode.cli import main; "
            "s = main(['check', 'examples/nct06802718/protocol.trial']); "
            "print(s, 'scipy.stats' in sys.modules, 'scipy.optimize' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, capture_output=True,
                         check=False, env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-3:] == ["0", "False", "False"]
