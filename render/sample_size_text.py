"""The sample-size justification of the protocol document (Section 10.11), written from the
numbers `engine.stats` computes for the interim rule's stated assumptions.

The sentences and the table come from one :class:`~engine.interim_design.PlannedSampleSize`,
so the document cannot say one number and the table another; `trialcode check` warns when the
justification asks for more participants than the planned enrolment.
"""

from __future__ import annotations

from typing import Any

from protocol.stopping import (
    InterimRule,
    MeansAssumptions,
    ProportionAssumptions,
    ProportionsAssumptions,
    SurvivalAssumptions,
)
from protocol.trial import Trial
from protocol.vocab import ArmType
from render.prose import family_text, lower_label, pct
from render.stats import NumberTable
from render.terms import duration_text, join_and, num

__all__ = ["planned_sample_size", "sample_size_blocks"]


def planned_sample_size(trial: Trial, rule: InterimRule) -> Any | None:
    """The engine's sample size for ``rule`` (None without assumptions, without the engine, or
    when it cannot be computed: `trialcode check` reports that case)."""
    if rule.sample_size is None:
        return None
    try:
        from engine.interim_design import sample_size_for_rule
        from engine.stats.errors import DesignError
    except ImportError:  # the engine is optional for rendering
        return None
    try:
        return sample_size_for_rule(trial, rule)
    except DesignError:
        return None


def _f(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def _groups(trial: Trial) -> tuple[str, str]:
    """The experimental and control groups as the document names them."""
    exp = next((a for a in trial.arms if a.type is ArmType.EXPERIMENTAL), None)
    ctl = next((a for a in trial.arms if a is not exp), None)
    return (
        f"the {exp.label}" if exp is not None else "the experimental group",
        f"the {ctl.label}" if ctl is not None else "the control group",
    )


def _test(rule: InterimRule, what: str) -> str:
    eff = rule.efficacy
    sided = "two-sided" if eff.sides == 2 else "one-sided"
    looks = len(rule.information)
    interims = looks - 1
    if interims == 0:
        plan = "at a single analysis"
    else:
        at = join_and([pct(t) for t in rule.information[:-1]])
        count = "one interim analysis" if interims == 1 else f"{interims} interim analyses"
        plan = (f"with the {family_text(eff.family)} boundaries of Section 10.9 ({count}, at "
                f"{at} of the information)")
    return f"a {sided} {what} at an overall significance level α = {num(eff.alpha)} {plan}"


def sample_size_blocks(trial: Trial, rule: InterimRule) -> tuple[list[str], NumberTable] | None:
    """Paragraphs and a table that justify the sample size of ``rule`` (None when it states no
    assumptions or they cannot be computed)."""
    planned = planned_sample_size(trial, rule)
    if planned is None:
        return None
    s = planned.sample
    a = rule.sample_size.assumptions if rule.sample_size is not None else None
    power = pct(1 - s.design.beta)
    endpoint = lower_label(rule.label or rule.name.replace("_", " "))
    exp, ctl = _groups(trial)
    paras: list[str] = []
    if isinstance(a, SurvivalAssumptions):
        paras.append(_survival(trial, rule, planned, a, endpoint, power, exp, ctl))
    elif isinstance(a, ProportionsAssumptions):
        paras.append(
            f"The sample size is calculated for {endpoint}: {_test(rule, 'test of two proportions')}. "
            f"Assuming proportions of {pct(a.experimental)} in {exp} and {pct(a.control)} in {ctl}, "
            f"{_f(s.fixed)} participants give {power} power in a fixed design"
            + _inflated(s, "participants") + _patients_sentence(s, trial)
        )
    elif isinstance(a, ProportionAssumptions):
        paras.append(
            f"The sample size is calculated for {endpoint}: "
            f"{_test(rule, 'test of one proportion against a reference')}. Assuming a proportion of "
            f"{pct(a.expected)} against the reference of {pct(a.reference)}, {_f(s.fixed)} "
            f"participants give {power} power in a fixed design"
            + _inflated(s, "participants") + _patients_sentence(s, trial)
        )
    else:
        assert isinstance(a, MeansAssumptions)
        paras.append(
            f"The sample size is calculated for {endpoint}: {_test(rule, 't test')}. Assuming a "
            f"difference in means of {num(a.difference)} ({exp} minus {ctl}) with a common "
            f"standard deviation of {num(a.sd)}, {_f(s.fixed)} participants give {power} power in "
            "a fixed design" + _inflated(s, "participants") + _patients_sentence(s, trial)
        )
    if s.design.k > 1:
        paras.append(_expectations(planned))
    return paras, _table(planned)


def _inflated(s: Any, unit: str) -> str:
    if s.design.k == 1:
        return "."
    return (f"; the group sequential design needs {s.inflation_factor:.3f} times as many, "
            f"{_f(s.maximum)} {unit}.")


def _patients_sentence(s: Any, trial: Trial) -> str:
    rounded = s.rounded_patients()
    if len(rounded) == 3:
        who = (f" {rounded[0]} participants ({rounded[1]} and {rounded[2]} in the two groups) "
               "are needed, rounding up in each group.")
    else:
        who = f" {rounded[0]} participants are needed."
    return who + _enrolment(rounded[0], trial)


def _enrolment(needed: int, trial: Trial) -> str:
    n = trial.enrollment
    if n is None:
        return ""
    if n == needed:
        return " This is the planned enrolment."
    if n > needed:
        return f" The planned enrolment of {n} participants exceeds this."
    return f" The planned enrolment of {n} participants is below this, so the power is lower."


def _survival(
    trial: Trial, rule: InterimRule, planned: Any, a: SurvivalAssumptions, endpoint: str,
    power: str, exp: str, ctl: str,
) -> str:
    s = planned.sample
    test = _test(rule, "log-rank test")
    if a.hazard_ratio is not None:
        effect = f"a hazard ratio of {num(a.hazard_ratio)} for {exp} against {ctl}"
        if a.control_median is not None:
            effect = (f"a median {endpoint} of {duration_text(a.control_median)} in {ctl} and "
                      + effect)
    else:
        assert a.control_median is not None and a.experimental_median is not None
        hr = dict(s.assumptions)["hazard_ratio"]
        effect = (f"a median {endpoint} of {duration_text(a.control_median)} in {ctl} and "
                  f"{duration_text(a.experimental_median)} in {exp} (a hazard ratio of "
                  f"{hr:.3g})")
    events = (f"{_f(s.fixed)} events give {power} power in a fixed design (Schoenfeld 1983)"
              + (f"; the group sequential design needs {s.inflation_factor:.3f} times as many, "
                 f"{s.rounded_maximum()} events" if s.design.k > 1
                 else f", rounded up to {s.rounded_maximum()}"))
    text = (f"The sample size is calculated for {endpoint}: {test}. Assuming exponentially "
            f"distributed times with {effect}, {events}.")
    rec = s.recruitment
    if rec is None:
        return text
    assert a.accrual is not None and a.follow_up is not None
    ratio = s.allocation
    allocation = "1:1" if ratio == 1 else f"{num(round(ratio, 6))}:1"
    dropout = ""
    if a.dropout is not None:
        percent = num(a.dropout.percent)
        article = "an" if percent.startswith(("8", "11", "18")) else "a"
        dropout = (f", and {article} {percent}% probability of dropping out within "
                   f"{duration_text(a.dropout.per)} in each group")
    rounded = s.rounded_patients()
    end = duration_text_of(planned, rec.study_duration)
    text += (
        f" With participants allocated {allocation}, recruited uniformly over "
        f"{duration_text(a.accrual)} and followed for a further {duration_text(a.follow_up)}"
        f"{dropout}, {pct(round(rec.event_probability, 3))} of participants are expected to "
        f"have an event by the final analysis at {end}; {_f(rec.patients)} participants give "
        f"{s.rounded_maximum()} events, and {rounded[0]} ({rounded[1]} and {rounded[2]} in the "
        "two groups) are needed, rounding up in each group." + _enrolment(rounded[0], trial)
    )
    return text


def duration_text_of(planned: Any, days: float) -> str:
    """A calendar time in days, in the unit of the accrual period: `48 months`."""
    unit = planned.time_unit
    amount = planned.in_units(days)
    shown = f"{amount:.1f}".rstrip("0").rstrip(".")
    if unit is None:
        return f"{shown} days"
    return f"{shown} {unit.word(float(shown))}"


def _expectations(planned: Any) -> str:
    s = planned.sample
    unit = s.unit
    early1 = 1 - s.h1.stop[-1]
    early0 = 1 - s.h0.stop[-1]
    text = (f"Under the alternative the expected number of {unit} is {_f(s.expected_h1)} (under "
            f"the null hypothesis {_f(s.expected_h0)}), and the trial stops at an interim "
            f"analysis with probability {early1:.3f} ({early0:.3f} under the null hypothesis)")
    rec = s.recruitment
    if rec is not None:
        text += (f"; the expected duration under the alternative is "
                 f"{duration_text_of(planned, rec.expected_duration_h1)}")
    return text + "."


def _table(planned: Any) -> NumberTable:
    s = planned.sample
    d = s.design
    rec = s.recruitment
    unit = s.unit.capitalize()
    header = ["Analysis", "Information fraction", unit]
    if rec is not None:
        when = planned.time_unit.value + "s" if planned.time_unit is not None else "days"
        header += [f"Expected time ({when})", "Participants recruited"]
    header += ["Cumulative power", "P(stop), H0", "P(stop), H1"]
    rows: list[list[str]] = []
    for k in range(d.k):
        final = k == d.k - 1
        row = ["Final" if final else f"Interim {k + 1}", f"{d.information_fractions[k]:.2f}",
               _f(s.at_looks[k])]
        if rec is not None:
            row += [_f(planned.in_units(rec.analysis_times[k])), _f(rec.patients_at_looks[k])]
        row += [f"{d.cumulative_power[k]:.3f}", f"{s.h0.stop[k]:.3f}", f"{s.h1.stop[k]:.3f}"]
        rows.append(row)
    label = planned.rule.label or planned.rule.name
    return NumberTable(
        caption=f"Sample size at each analysis of {label} (power {pct(1 - d.beta)})",
        header=header,
        rows=rows,
        note=(f"{unit} are the planned cumulative numbers at each analysis"
              + ("; times and participants recruited are expected under the alternative"
                 if rec is not None else "")
              + ". P(stop) is the probability that the trial ends at the analysis; cumulative "
              "power and P(stop) computed by recursive numerical integration (engine.stats)."),
    )
