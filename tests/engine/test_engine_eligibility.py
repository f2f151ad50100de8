"""Eligibility: every criterion verdict on hand-built timelines, with the expected evidence."""

from __future__ import annotations

import datetime

import pytest
from enginekit import (
    D0,
    Timeline,
    and_,
    any_,
    cmp,
    count,
    exclusion,
    inclusion,
    latest,
    lln,
    name,
    ongoing_at,
    or_,
    q,
    s,
    sel,
    trial,
    uln,
    within,
)
from enginekit import before as before_

from engine import evaluate
from engine.eligibility import passes
from engine.logic import TRUE, UNKNOWN
from engine.patient import RecordRef
from engine.results import CriterionResult, CriterionVerdict, EligibilityVerdict
from protocol import expr as ex
from protocol.design import Population
from protocol.timing import Duration, TimeUnit
from protocol.vocab import Sex

AS_OF = datetime.date(2024, 6, 1)
ALT_OK = inclusion("I5", cmp(latest("alt", within(14)), "<=", uln(2.5)))


def crit(result, cid):
    c = result.eligibility.criterion(cid)
    assert c is not None
    return c


def test_uln_met_with_the_records_own_range():
    t = trial(inclusions=(ALT_OK,))
    p = Timeline().obs("alt", -3, 52, "U/L", low=7, high=40).patient()
    c = crit(evaluate(t, p, AS_OF), "I5")
    assert c.verdict is CriterionVerdict.MET
    (e,) = c.evidence
    assert e.value == 52 and e.unit == "U/L"
    assert e.threshold == 100 and e.threshold_unit == "U/L"
    assert e.reference_range == (7, 40)
    assert e.date == D0 - datetime.timedelta(days=3)
    assert e.ref == RecordRef("test", "row 2")
    assert "2.5 x ULN (100 U/L, range 7-40)" in e.explanation


def test_uln_not_met():
    t = trial(inclusions=(ALT_OK,))
    p = Timeline().obs("alt", -3, 120, "U/L", low=7, high=40).patient()
    r = evaluate(t, p, AS_OF)
    assert crit(r, "I5").verdict is CriterionVerdict.NOT_MET
    assert r.eligibility.verdict is EligibilityVerdict.INELIGIBLE


def test_uln_without_a_reference_range_is_unknown_and_says_so():
    t = trial(inclusions=(ALT_OK,))
    p = Timeline().obs("alt", -3, 20, "U/L").patient()
    r = evaluate(t, p, AS_OF)
    c = crit(r, "I5")
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "no upper reference limit" in c.evidence[0].explanation
    assert r.eligibility.verdict is EligibilityVerdict.INDETERMINATE
    assert r.eligibility.unresolved == ("I5",)


def test_lln_uses_the_low_end():
    t = trial(exclusions=(exclusion("E1", cmp(latest("alt"), "<", lln(1))),))
    p = Timeline().obs("alt", -3, 5, "U/L", low=7, high=40).patient()
    assert crit(evaluate(t, p, AS_OF), "E1").verdict is CriterionVerdict.MET


def test_missing_data_is_unknown_and_the_missing_policy_applies():
    t = trial(inclusions=(ALT_OK, inclusion("I6", cmp(latest("ecog", within(28)), "<=", q(2)),
                                                missing="not_met")))
    r = evaluate(t, Timeline().patient(), AS_OF)
    assert crit(r, "I5").verdict is CriterionVerdict.UNKNOWN
    assert "no alt within 14 days before randomization recorded" in crit(r, "I5").evidence[0].explanation
    i6 = crit(r, "I6")
    assert i6.truth is UNKNOWN and i6.verdict is CriterionVerdict.NOT_MET and i6.policy_applied
    assert r.eligibility.verdict is EligibilityVerdict.INELIGIBLE


def test_stale_data_outside_the_window_is_unknown_with_its_date():
    t = trial(inclusions=(ALT_OK,))
    p = Timeline().obs("alt", -30, 20, "U/L", low=7, high=40).patient()
    c = crit(evaluate(t, p, AS_OF), "I5")
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "the most recent alt is from 2023-12-11, outside the window" in c.evidence[0].explanation


def test_window_edges_are_inclusive():
    t = trial(inclusions=(ALT_OK,))
    p = Timeline().obs("alt", -14, 20, "U/L", low=7, high=40).patient()
    assert crit(evaluate(t, p, AS_OF), "I5").verdict is CriterionVerdict.MET


def test_only_data_up_to_the_reference_date_count():
    t = trial(inclusions=(ALT_OK,))
    p = (Timeline().obs("alt", -3, 20, "U/L", low=7, high=40)
         .obs("alt", 2, 500, "U/L", low=7, high=40).patient())
    c = crit(evaluate(t, p, AS_OF), "I5")
    assert c.verdict is CriterionVerdict.MET and c.evidence[0].value == 20


def test_unit_conversion_into_the_records_unit():
    # 1.26 g/L = 126 mg/dL; the record's 130 mg/dL is above it.
    t = trial(inclusions=(inclusion("G", cmp(latest("glucose"), "<=", q(1.26, "g/L"))),))
    p = Timeline().obs("glucose", -1, 130, "mg/dL").patient()
    c = crit(evaluate(t, p, AS_OF), "G")
    assert c.verdict is CriterionVerdict.NOT_MET
    e = c.evidence[0]
    assert e.threshold_unit == "mg/dL" and abs(e.threshold - 126) < 1e-9
    p2 = Timeline().obs("glucose", -1, 120, "mg/dL").patient()
    assert crit(evaluate(t, p2, AS_OF), "G").verdict is CriterionVerdict.MET


def test_mass_to_molar_is_an_error_with_the_record_never_a_pass():
    # mg/dL -> umol/L needs a molar mass: UCUM cannot convert it.
    t = trial(inclusions=(inclusion("I6", cmp(latest("creatinine"), "<=", q(100, "umol/L"))),))
    p = Timeline().obs("creatinine", -1, 1.2, "mg/dL").patient()
    r = evaluate(t, p, AS_OF)
    c = crit(r, "I6")
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert c.evidence[0].error and "cannot convert" in c.evidence[0].error
    assert c.evidence[0].ref == RecordRef("test", "row 2")
    (err,) = r.errors
    assert err.ref == RecordRef("test", "row 2") and err.source == "I6" and err.patient == "P1"
    assert r.eligibility.verdict is EligibilityVerdict.INDETERMINATE


def test_unknown_and_false_is_false_whatever_the_order():
    e = and_(cmp(latest("alt"), "<=", uln(2.5)), cmp(latest("ecog"), "<=", q(2)))
    t = trial(inclusions=(inclusion("I", e), inclusion("J", and_(*reversed(e.operands)))))
    p = Timeline().obs("ecog", -1, 4).patient()
    r = evaluate(t, p, AS_OF)
    assert crit(r, "I").verdict is CriterionVerdict.NOT_MET
    assert crit(r, "J").verdict is CriterionVerdict.NOT_MET
    assert r.eligibility.verdict is EligibilityVerdict.INELIGIBLE


def test_unknown_or_true_is_true():
    t = trial(inclusions=(inclusion("I", or_(cmp(latest("alt"), "<=", uln(2)),
                                               cmp(latest("ecog"), "<=", q(2)))),))
    p = Timeline().obs("ecog", -1, 1).patient()
    assert crit(evaluate(t, p, AS_OF), "I").verdict is CriterionVerdict.MET


def test_absence_of_a_condition_means_absent_but_not_collected_is_unknown():
    t = trial(exclusions=(exclusion("E8", any_("hypothyroidism", before_())),))
    r = evaluate(t, Timeline().patient(), AS_OF)
    assert crit(r, "E8").verdict is CriterionVerdict.NOT_MET
    assert r.eligibility.verdict is EligibilityVerdict.ELIGIBLE
    r2 = evaluate(t, Timeline().patient(collected=frozenset({"alt"})), AS_OF)
    assert crit(r2, "E8").verdict is CriterionVerdict.UNKNOWN
    r3 = evaluate(t, Timeline().occ("hypothyroidism", -400).patient(), AS_OF)
    assert crit(r3, "E8").verdict is CriterionVerdict.MET
    assert r3.eligibility.verdict is EligibilityVerdict.INELIGIBLE


def test_ongoing_at():
    t = trial(exclusions=(exclusion("E4", any_("infection", ongoing_at())),))

    def verdict(tl: Timeline) -> CriterionVerdict:
        return crit(evaluate(t, tl.patient(), AS_OF), "E4").verdict

    assert verdict(Timeline().occ("infection", -10, ongoing=True)) is CriterionVerdict.MET
    assert verdict(Timeline().occ("infection", -10, end=-5)) is CriterionVerdict.NOT_MET
    assert verdict(Timeline().occ("infection", -10, end=0)) is CriterionVerdict.MET
    assert verdict(Timeline().occ("infection", -10)) is CriterionVerdict.MET  # no end: not over
    assert verdict(Timeline().occ("infection", 1, ongoing=True)) is CriterionVerdict.NOT_MET


def test_interval_events_overlapping_a_window_match():
    t = trial(exclusions=(exclusion("E9", any_("infection", within(30))),))
    tl = Timeline().occ("infection", -60, end=-20)
    assert crit(evaluate(t, tl.patient(), AS_OF), "E9").verdict is CriterionVerdict.MET
    tl = Timeline().occ("infection", -60, end=-31)
    assert crit(evaluate(t, tl.patient(), AS_OF), "E9").verdict is CriterionVerdict.NOT_MET


def test_strictly_before_excludes_the_anchor_day():
    t = trial(exclusions=(exclusion("A", any_("infection", before_())),
                          exclusion("B", any_("infection", before_(strict=True)))))
    r = evaluate(t, Timeline().occ("infection", 0).patient(), AS_OF)
    assert crit(r, "A").verdict is CriterionVerdict.MET
    assert crit(r, "B").verdict is CriterionVerdict.NOT_MET


def test_where_with_a_missing_attribute_is_unknown():
    where = cmp(name("grade"), ">=", q(3))
    t = trial(exclusions=(exclusion("E", any_("adverse_event", before_(), where)),))
    r = evaluate(t, Timeline().occ("adverse_event", -5).patient(), AS_OF)
    assert crit(r, "E").verdict is CriterionVerdict.UNKNOWN
    r = evaluate(t, Timeline().occ("adverse_event", -5, grade=2).patient(), AS_OF)
    assert crit(r, "E").verdict is CriterionVerdict.NOT_MET
    r = evaluate(t, Timeline().occ("adverse_event", -5, grade="3").patient(), AS_OF)
    assert crit(r, "E").verdict is CriterionVerdict.MET


def test_count_first_latest_and_categories():
    i1 = and_(cmp(ex.Aggregate(ex.AggregateFn.FIRST, sel("remission", before_())), "==", s("cr1")),
              ex.InRange(count("chemo_cycle", before_(ex.EventAnchor(ex.AggregateFn.FIRST,
                                                                     "remission"))), 1, 2))
    e2 = exclusion("E2", ex.InSet(latest("remission", before_()), (s("CR2"), s("CR3"))))
    t = trial(inclusions=(inclusion("I1", i1),), exclusions=(e2,))
    tl = (Timeline().occ("chemo_cycle", -200).occ("chemo_cycle", -170)
          .obs("remission", -150, "CR1").occ("chemo_cycle", -100).obs("remission", -20, "CR2"))
    r = evaluate(t, tl.patient(), AS_OF)
    assert crit(r, "I1").verdict is CriterionVerdict.MET  # text compares without case
    assert crit(r, "E2").verdict is CriterionVerdict.MET
    tl3 = Timeline().occ("chemo_cycle", -200).occ("chemo_cycle", -190).occ("chemo_cycle", -180)
    r3 = evaluate(t, tl3.obs("remission", -150, "CR1").patient(), AS_OF)
    assert crit(r3, "I1").verdict is CriterionVerdict.NOT_MET


def test_log_reduction_and_detectable():
    expr = and_(cmp(ex.LogReduction(sel("mrd", before_())), ">", q(3)),
                ex.Test(latest("mrd", before_()), ex.TestKind.DETECTABLE))
    t = trial(inclusions=(inclusion("I3", expr),))
    ok = Timeline().obs("mrd", -200, 10, "%").obs("mrd", -10, 0.005, "%")
    assert crit(evaluate(t, ok.patient(), AS_OF), "I3").verdict is CriterionVerdict.MET
    small = Timeline().obs("mrd", -200, 10, "%").obs("mrd", -10, 0.05, "%")
    assert crit(evaluate(t, small.patient(), AS_OF), "I3").verdict is CriterionVerdict.NOT_MET
    undetected = Timeline().obs("mrd", -200, 10, "%").obs("mrd", -10, 0.001, "%", detected=False)
    assert crit(evaluate(t, undetected.patient(), AS_OF), "I3").verdict is CriterionVerdict.NOT_MET
    one = Timeline().obs("mrd", -10, 0.005, "%")
    c = crit(evaluate(t, one.patient(), AS_OF), "I3")
    assert c.verdict is CriterionVerdict.UNKNOWN
    assert "needs two samples" in c.evidence[0].explanation


def test_population_age_and_sex_are_implicit_criteria():
    pop = Population(Duration(18, TimeUnit.YEAR), Duration(70, TimeUnit.YEAR), Sex.FEMALE)
    t = trial(population=pop)
    # born 2006-01-11: 18 only the day after randomization (2024-01-10)
    r = evaluate(t, Timeline().patient(birth=datetime.date(2006, 1, 11), sex="f"), AS_OF)
    assert [c.id for c in r.eligibility.criteria] == ["AGE", "SEX"]
    assert crit(r, "AGE").verdict is CriterionVerdict.NOT_MET and crit(r, "AGE").implicit
    assert crit(r, "SEX").verdict is CriterionVerdict.MET
    r = evaluate(t, Timeline().patient(birth=datetime.date(2006, 1, 10), sex="M"), AS_OF)
    assert crit(r, "AGE").verdict is CriterionVerdict.MET
    assert crit(r, "SEX").verdict is CriterionVerdict.NOT_MET
    # 70 and a half is still 70 in completed years
    r = evaluate(t, Timeline().patient(birth=datetime.date(1953, 6, 1), sex="female"), AS_OF)
    assert crit(r, "AGE").verdict is CriterionVerdict.MET
    r = evaluate(t, Timeline().patient(birth=None, age=None, sex=None), AS_OF)
    assert crit(r, "AGE").verdict is CriterionVerdict.UNKNOWN
    assert crit(r, "SEX").verdict is CriterionVerdict.UNKNOWN
    r = evaluate(t, Timeline().patient(birth=None, age=45.0), AS_OF)
    assert crit(r, "AGE").verdict is CriterionVerdict.MET


def test_no_reference_anchor_makes_what_needs_it_unknown():
    t = trial(inclusions=(ALT_OK,),
              exclusions=(exclusion("E8", any_("hypothyroidism", before_())),),
              population=Population(Duration(18, TimeUnit.YEAR), None))
    p = Timeline(randomized=None).obs("alt", -3, 20, "U/L", low=7, high=40).patient()
    r = evaluate(t, p, AS_OF)
    assert r.eligibility.reference_date is None
    assert r.eligibility.verdict is EligibilityVerdict.INDETERMINATE
    assert set(r.eligibility.unresolved) == {"AGE", "I5", "E8"}
    for cid in ("AGE", "I5", "E8"):
        assert any("no date for randomization" in e.explanation for e in crit(r, cid).evidence)
    assert r.schedule == () and "no date for randomization" in r.notes[0]


def test_attested_unless_an_exception_is_recorded():
    t = trial(inclusions=(inclusion("INCL06", ex.Attested()),),
              exclusions=(exclusion("EXCL20", ex.Not(ex.Attested())),))
    r = evaluate(t, Timeline().patient(), AS_OF)
    assert crit(r, "INCL06").verdict is CriterionVerdict.MET
    assert crit(r, "EXCL20").verdict is CriterionVerdict.NOT_MET
    tl = Timeline().occ("eligibility_exception", -5, criterion="INCL06") \
        .occ("eligibility_exception", -5, criterion="EXCL20")
    r = evaluate(t, tl.patient(), AS_OF)
    assert crit(r, "INCL06").verdict is CriterionVerdict.NOT_MET
    assert crit(r, "EXCL20").verdict is CriterionVerdict.MET


def test_eligible_needs_every_inclusion_met_and_no_exclusion():
    t = trial(inclusions=(ALT_OK,), exclusions=(exclusion("E4", any_("infection", ongoing_at())),))
    p = Timeline().obs("alt", -3, 20, "U/L", low=7, high=40).patient()
    r = evaluate(t, p, AS_OF)
    assert r.eligibility.verdict is EligibilityVerdict.ELIGIBLE
    assert all(c.truth in (TRUE,) or c.category == "exclusion" for c in r.eligibility.criteria)


def test_a_protocol_without_reference_anchor_is_judged_as_of_the_data_cut():
    from protocol.eligibility import Eligibility
    from protocol.trial import Trial

    t = Trial("X", population=Population(Duration(18, TimeUnit.YEAR), None),
              eligibility=Eligibility(None, (ALT_OK,)))
    r = evaluate(t, Timeline(randomized=None).obs("alt", 170, 20, "U/L", 7, 40).patient(), AS_OF)
    assert r.eligibility.reference_date == AS_OF
    assert r.eligibility.verdict is EligibilityVerdict.INDETERMINATE  # alt window needs randomization
    assert crit(r, "AGE").verdict is CriterionVerdict.MET
    assert r.schedule == () and r.notes == ()


@pytest.mark.parametrize("category", ["inclusion", "exclusion"])
@pytest.mark.parametrize("verdict", list(CriterionVerdict))
def test_the_compiled_passes_agrees_with_the_property(category: str,
                                                      verdict: CriterionVerdict) -> None:
    """engine.eligibility.passes (what the engine and the summary call) is
    CriterionResult.passes (what renderers read), for every verdict and category."""
    r = CriterionResult("X1", category, verdict, UNKNOWN)
    assert passes(r) is r.passes
    expected = {CriterionVerdict.MET: category == "inclusion",
                CriterionVerdict.NOT_MET: category == "exclusion",
                CriterionVerdict.UNKNOWN: None}[verdict]
    assert passes(r) is expected


# ---- what the data cannot answer (site verification) against a missing value ----------------


def test_a_criterion_over_data_not_collected_is_for_the_site_not_a_missing_value():
    e8 = exclusion("E8", any_("hypothyroidism", before_()))
    t = trial(inclusions=(ALT_OK,), exclusions=(e8,))
    alt_ok = Timeline().obs("alt", -3, 20, "U/L", 7, 40)
    r = evaluate(t, alt_ok.patient(collected=frozenset({"alt"})), AS_OF)
    e = crit(r, "E8")
    assert e.verdict is CriterionVerdict.UNKNOWN and e.not_collected == ("hypothyroidism",)
    assert e.no_source and not crit(r, "I5").no_source
    assert r.eligibility.verdict is EligibilityVerdict.INDETERMINATE
    assert r.eligibility.site_verification == ("E8",)
    # every other criterion passes: eligible on what the data can decide
    assert r.eligibility.data_verdict is EligibilityVerdict.ELIGIBLE
    # a missing ALT is a missing value, which the data could hold: unknown, not for the site
    r2 = evaluate(t, Timeline().patient(collected=frozenset({"alt"})), AS_OF)
    assert crit(r2, "I5").verdict is CriterionVerdict.UNKNOWN and not crit(r2, "I5").not_collected
    assert r2.eligibility.data_verdict is EligibilityVerdict.INDETERMINATE
    # a failed criterion decides, whatever the site would say about the others
    bad = Timeline().obs("alt", -3, 500, "U/L", 7, 40)
    r3 = evaluate(t, bad.patient(collected=frozenset({"alt"})), AS_OF)
    assert r3.eligibility.data_verdict is EligibilityVerdict.INELIGIBLE
    assert r3.eligibility.site_verification == ("E8",)
    # every kind collected (None): nothing is for the site
    r4 = evaluate(t, alt_ok.patient(), AS_OF)
    assert crit(r4, "E8").not_collected == () and r4.eligibility.site_verification == ()


def test_a_criterion_the_collected_data_decide_is_decided_even_if_it_reads_other_kinds():
    # 'alt high and any hypothyroidism': a normal ALT makes it false without the history
    e = exclusion("E", and_(cmp(latest("alt", within(14)), ">", uln(1)),
                             any_("hypothyroidism", before_())))
    t = trial(exclusions=(e,))
    normal = Timeline().obs("alt", -3, 20, "U/L", 7, 40)
    r = evaluate(t, normal.patient(collected=frozenset({"alt"})), AS_OF)
    assert crit(r, "E").verdict is CriterionVerdict.NOT_MET and crit(r, "E").not_collected == ()
    assert r.eligibility.verdict is r.eligibility.data_verdict is EligibilityVerdict.ELIGIBLE
    high = Timeline().obs("alt", -3, 90, "U/L", 7, 40)
    r2 = evaluate(t, high.patient(collected=frozenset({"alt"})), AS_OF)
    assert crit(r2, "E").not_collected == ("hypothyroidism",)


def test_a_missing_policy_decides_and_leaves_nothing_for_the_site():
    t = trial(exclusions=(exclusion("E8", any_("hypothyroidism", before_()), missing="not_met"),))
    r = evaluate(t, Timeline().patient(collected=frozenset({"alt"})), AS_OF)
    assert crit(r, "E8").policy_applied and crit(r, "E8").not_collected == ()
    assert r.eligibility.verdict is EligibilityVerdict.ELIGIBLE
