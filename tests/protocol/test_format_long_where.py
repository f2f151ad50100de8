"""`fmt` breaks a long `any ... where ...` before its `where`, a long compound condition at its
`and`/`or` (inside `not (...)` too), and a long list of values after its commas; the text it
writes reads back to the same protocol and formats to itself."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import expressions

import dsl
from dsl.exprfmt import split_lines
from dsl.formatter import format_source
from protocol import expr as ex

SOURCE = """trial T {
  data {
    event con_med "Concomitant medication" attributes drug, route, frequency
  }
  table washouts "Washout" {
    "haloperidol": 2 weeks
  }
  exclusion {
    E1: any con_med within washouts[drug] before randomization where (washouts[drug] is present and not (frequency == "as needed" and drug in ("clozapine", "haloperidol", "loxapine", "thioridazine", "molindone", "thiothixene", "pimozide")))
    E2: any con_med ongoing at randomization where drug in ("adenosine", "amiodarone", "moricizine", "mexiletine", "disopyramide", "procainamide")
    E3: any con_med within 24 hours before randomization where drug == "lorazepam"
  }
}
"""

EXPECTED = """  exclusion {
    E1:
      any con_med within washouts[drug] before randomization
        where (washouts[drug] is present
               and not (frequency == "as needed"
                        and drug in ("clozapine", "haloperidol", "loxapine", "thioridazine",
                                     "molindone", "thiothixene", "pimozide")))
    E2:
      any con_med ongoing at randomization
        where drug in ("adenosine", "amiodarone", "moricizine", "mexiletine", "disopyramide",
                       "procainamide")
    E3:
      any con_med within 24 hours before randomization where drug == "lorazepam"
  }
"""


def test_long_conditions_are_broken_where_the_language_continues_a_line() -> None:
    text = format_source(dsl.parse_source(SOURCE, "t.trial"))
    assert EXPECTED in text
    assert dsl.parse(text) == dsl.parse(SOURCE)
    assert format_source(dsl.parse_source(text, "t.trial")) == text
    assert max(len(line) for line in text.splitlines()) <= 100


# ---- a law: however narrow the line, the broken text reads back to the same expression ----------


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions, st.integers(8, 60))
def test_any_width_breaks_into_text_that_reads_back(expr: ex.Expr, width: int) -> None:
    lines = split_lines(expr, width)
    body = "\n".join("      " + line for line in lines)
    trial = dsl.parse(f"trial T {{\n  inclusion {{\n    I1:\n{body}\n  }}\n}}\n")
    assert trial.eligibility.inclusion[0].expr == expr
