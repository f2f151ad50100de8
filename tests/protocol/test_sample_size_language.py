"""The protocol language's `sample_size` clause and new boundary families: parsed, formatted
back, checked with located messages, and written into the document's sample-size section."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

import dsl
import trialcode
from dsl.formatter import format_source
from protocol.errors import ProtocolError
from protocol.stopping import (
    MeansAssumptions,
    ProportionAssumptions,
    ProportionsAssumptions,
    SurvivalAssumptions,
)
from protocol.timing import TimeUnit

HEAD = """trial sized {
  enrollment 96
  allocation randomized ratio 1:1
  intervention pill drug "Pill"
  arm drug "Drug" experimental { pill }
  arm control "Control" no_intervention
  stopping {
"""
TAIL = """
  }
}
"""

SURVIVAL = """    trial interim rfs "Relapse-free survival" at information 0.5, 1
      efficacy obrien_fleming alpha 0.05 two_sided
      sample_size power 0.8 assuming hazard_ratio 0.5, control_median 12 months,
        accrual 24 months, follow_up 24 months, dropout 8% per 12 months"""


def protocol(rule: str, head: str = HEAD) -> str:
    return head + rule + TAIL


def test_survival_assumptions_parse() -> None:
    trial = dsl.parse(protocol(SURVIVAL))
    (rule,) = trial.stopping.interim_rules
    plan = rule.sample_size
    assert plan is not None and plan.power == 0.8
    a = plan.assumptions
    assert isinstance(a, SurvivalAssumptions)
    assert a.hazard_ratio == 0.5 and a.experimental_median is None
    assert a.control_median is not None and (a.control_median.amount, a.control_median.unit) == (
        12, TimeUnit.MONTH)
    assert a.dropout is not None and a.dropout.percent == 8
    assert rule.beta == pytest.approx(0.2)


@pytest.mark.parametrize(("clause", "kind"), [
    ("proportions 0.45 vs 0.25", ProportionsAssumptions),
    ("proportion 0.40 vs 0.20", ProportionAssumptions),
    ("mean_difference 5, sd 10", MeansAssumptions),
])
def test_other_endpoints_parse(clause: str, kind: type) -> None:
    rule = f"""    trial interim main at information 0.5, 1
      efficacy ld_obrien_fleming alpha 0.025 one_sided
      sample_size power 0.9 assuming {clause}"""
    trial = dsl.parse(protocol(rule))
    plan = trial.stopping.interim_rules[0].sample_size
    assert plan is not None and isinstance(plan.assumptions, kind)


def test_format_round_trip_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "p.trial"
    path.write_text(protocol(SURVIVAL), encoding="utf-8")
    formatted = format_source(dsl.read_file(path))
    assert dsl.parse(formatted) == dsl.parse(protocol(SURVIVAL))
    assert ("      sample_size power 0.8 assuming hazard_ratio 0.5, control_median 12 months,\n"
            "        accrual 24 months, follow_up 24 months, dropout 8% per 12 months\n"
            ) in formatted
    assert all(len(line) <= 96 for line in formatted.splitlines())


def test_new_families_parse_and_format() -> None:
    rule = """    trial interim os "Overall survival" at information 0.33, 0.67, 1
      efficacy haybittle_peto(3.29) alpha 0.025 one_sided
      futility z_bounds(0, 0.5) non_binding
    trial interim pfs at information 0.3, 0.6, 1
      efficacy user_spending(0.1, 0.4, 1) alpha 0.05 two_sided
      futility hwang_shih_decani(-2) beta 0.2 non_binding
    trial interim ef at information 0.5, 1
      efficacy pampallona_tsiatis(0.25) alpha 0.025 one_sided
      futility pampallona_tsiatis(0.1) beta 0.1 binding"""
    trial = trialcode.load_source(protocol(rule))
    os_, pfs, ef = trial.stopping.interim_rules
    assert os_.efficacy.family.parameter == 3.29
    assert os_.futility is not None and os_.futility.family.values == (0, 0.5)
    assert os_.futility.beta is None
    assert pfs.efficacy.family.values == (0.1, 0.4, 1)
    assert ef.futility is not None and ef.futility.family.parameter == 0.1


def _errors(text: str) -> list[str]:
    with pytest.raises(ProtocolError) as info:
        trialcode.load_source(text, "p.trial")
    return [d.render(text) for d in info.value.diagnostics]


ERRORS = [
    ("sample_size power 0.8 assuming hazard_rate 0.5",
     "unknown assumption 'hazard_rate'", "did you mean 'hazard_ratio'?"),
    ("sample_size power 0.8 assuming hazard_ratio 12 months",
     "'hazard_ratio' takes a number", "e.g. 'hazard_ratio 0.7'"),
    ("sample_size power 0.8 assuming hazard_ratio 0.5, proportions 0.4 vs 0.2",
     "'proportions' is an assumption for two proportions, but 'hazard_ratio' is for time to "
     "event: one sample size is for one endpoint", None),
    ("sample_size power 0.8 assuming sd 10",
     "the sample size for means needs 'mean_difference'", "e.g. 'mean_difference 5'"),
    ("sample_size power 0.8 assuming hazard_ratio 0.5, accrual 24 months",
     "the number of patients needs 'control_median', 'accrual' and 'follow_up' together: "
     "'control_median' is missing", None),
    ("sample_size power 0.8 assuming proportions 0.3 vs 0.3",
     "the two proportions are equal: there is no difference to detect", None),
    ("sample_size power 1.2 assuming proportions 0.5 vs 0.3",
     "power must lie in (0, 1), not 1.2", None),
]


@pytest.mark.parametrize(("clause", "message", "hint"), ERRORS, ids=[e[1] for e in ERRORS])
def test_assumption_errors(clause: str, message: str, hint: str | None) -> None:
    rule = f"""    trial interim main at information 0.5, 1
      efficacy obrien_fleming alpha 0.05 two_sided
      {clause}"""
    rendered = "\n".join(_errors(protocol(rule)))
    assert f"error: {message}" in rendered
    if hint is not None:
        assert f"hint: {hint}" in rendered


FAMILY_ERRORS = [
    ("efficacy obrien_fleming alpha 0.025 one_sided\n      futility obrien_fleming beta 0.1 non_binding",
     "'obrien_fleming' is not a futility boundary"),
    ("efficacy user_spending(0.1, 1) alpha 0.025 one_sided",
     "'user_spending' needs the cumulative fraction spent by each look: 3 values, not 2"),
    ("efficacy user_spending(0.4, 0.2, 1) alpha 0.025 one_sided",
     "the fractions of 'user_spending' are cumulative: from 0 to 1, never falling"),
    ("efficacy ld_obrien_fleming alpha 0.025 one_sided\n      futility z_bounds(0) non_binding",
     "'z_bounds' needs one bound per interim look: 2 for 3 looks, not 1"),
    ("efficacy ld_obrien_fleming alpha 0.05 two_sided\n      futility z_bounds(0, 0.5) non_binding",
     "'z_bounds' futility is for a one-sided test; a two-sided design takes a beta-spending "
     "futility bound"),
    ("efficacy pampallona_tsiatis(0.25) alpha 0.025 one_sided",
     "a Pampallona-Tsiatis design gives both bounds: 'efficacy pampallona_tsiatis(D1)' with "
     "'futility pampallona_tsiatis(D0)'"),
    ("efficacy ld_obrien_fleming alpha 0.025 one_sided\n      futility hwang_shih_decani(-2) non_binding",
     "a beta-spending futility bound needs its beta, e.g. 'beta 0.1'"),
    ("efficacy ld_obrien_fleming alpha 0.025 one_sided\n      futility ld_pocock beta 0.1 non_binding\n"
     "      sample_size power 0.8 assuming proportions 0.5 vs 0.3",
     "the futility bound spends beta 0.1 but the sample size is for power 0.8: power is 1 - beta"),
]


@pytest.mark.parametrize(("clauses", "message"), FAMILY_ERRORS, ids=[e[1] for e in FAMILY_ERRORS])
def test_family_errors(clauses: str, message: str) -> None:
    rule = f"    trial interim main at information 0.3, 0.6, 1\n      {clauses}"
    assert f"error: {message}" in "\n".join(_errors(protocol(rule)))


def test_more_participants_than_the_enrolment_is_a_warning(tmp_path: Path) -> None:
    text = protocol(SURVIVAL).replace("enrollment 96", "enrollment 80")
    path = tmp_path / "p.trial"
    path.write_text(text, encoding="utf-8")
    report = trialcode.check(path)
    assert report.ok
    (warning,) = report.warnings
    assert warning.message == ("interim rule 'rfs': the sample size needs 96 participants, more "
                               "than the planned enrolment of 80")


def test_the_document_writes_the_justification_from_the_numbers() -> None:
    trial = trialcode.load_source(protocol(SURVIVAL))
    md = trialcode.render(trial, "md")
    assert isinstance(md, str)
    section = md.split("### 10.11 Sample Size Determination", 1)[1]
    assert ("The sample size is calculated for relapse-free survival: a two-sided log-rank test "
            "at an overall significance level α = 0.05") in section
    assert "65.3 events give 80% power in a fixed design (Schoenfeld 1983)" in section
    assert "the group sequential design needs 1.008 times as many, 66 events" in section
    assert "95.9 participants give 66 events, and 96 (48 and 48 in the two groups)" in section
    assert "This is the planned enrolment." in section
    assert "| Final | 1.00 | 65.9 | 48.0 | 95.9 |" in section


def test_the_seed_trial_reproduces_its_96_participants() -> None:
    trial = trialcode.load(ROOT / "examples" / "nct06802718" / "protocol.trial")
    from engine.interim_design import sample_size_for_rule

    (rule,) = trial.stopping.interim_rules
    planned = sample_size_for_rule(trial, rule)
    assert planned is not None
    assert planned.sample.rounded_patients() == (96, 48, 48) == (trial.enrollment, 48, 48)
    assert planned.sample.rounded_maximum() == 66
