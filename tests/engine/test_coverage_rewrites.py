"""docs/coverage.md: the faithful rewrites of the criteria the examples approximate.

They are the evidence behind the page's count (every data criterion of the seed, the pilot and
t2dm_addon written faithfully), so each is checked here as a protocol is: it parses, checks
clean, formats back to itself, draws no text-versus-expression warning, and gives met, not met
and unknown on hand-built timelines that follow the protocol's words.
"""

from __future__ import annotations

import datetime
import re
from functools import cache

import pytest
from conftest import ROOT
from enginekit import Timeline

import dsl
from dsl.formatter import format_source
from engine import evaluate
from engine.results import CriterionVerdict
from protocol.check import check
from protocol.trial import Trial
from render.wording import check_text_vs_expr

DOC = ROOT / "docs" / "coverage.md"
AS_OF = datetime.date(2024, 6, 1)
MET, NOT_MET, UNKNOWN = CriterionVerdict.MET, CriterionVerdict.NOT_MET, CriterionVerdict.UNKNOWN


@cache
def source() -> str:
    blocks = re.findall(r"```trial\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return blocks[0]


@cache
def rewrites() -> Trial:
    return dsl.parse(source(), "coverage.md")


def verdict(cid: str, tl: Timeline, sex: str = "F", age_years: int = 60) -> CriterionVerdict:
    birth = datetime.date(2024 - age_years, 1, 1)
    result = evaluate(rewrites(), tl.patient(sex=sex, birth=birth), AS_OF)
    (c,) = [c for c in result.eligibility.criteria if c.id == cid]
    return c.verdict


def test_the_rewrites_check_clean_and_format_back() -> None:
    t = rewrites()
    assert [d.message for d in check(t) if d.is_error] == []
    assert [str(f) for c in t.eligibility.criteria
            for f in check_text_vs_expr(c, t.calendar, t)] == []
    # the page shows the rewrites as `fmt` writes them
    assert format_source(dsl.parse_source(source(), "coverage.md")) == source()


def test_the_page_lists_exactly_the_rewritten_criteria() -> None:
    """The table of approximations names each criterion the rewrites give faithfully."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("| criterion | as written |"):text.index("## As the language")]
    listed = set(re.findall(r"^\| pilot (\w+) \|", table, re.M))
    assert {f"PILOT_{cid}" for cid in listed} == {c.id for c in rewrites().eligibility.criteria}


# ---- each rewrite on hand-built timelines ------------------------------------------------------


def test_postmenopausal_women_and_men_of_50() -> None:
    assert verdict("PILOT_IN01", Timeline(), sex="M") is MET
    assert verdict("PILOT_IN01", Timeline(), sex="M", age_years=45) is NOT_MET
    status = Timeline().obs("menopausal_status", -5, "postmenopausal")
    assert verdict("PILOT_IN01", status) is MET
    assert verdict("PILOT_IN01", Timeline().obs("menopausal_status", -5, "premenopausal")) \
        is NOT_MET
    assert verdict("PILOT_IN01", Timeline()) is UNKNOWN  # a woman whose status is not recorded


def test_neurological_conditions_and_head_trauma() -> None:
    cid = "PILOT_EX04"
    assert verdict(cid, Timeline().occ("neurological_condition", -900,
                                       term="Parkinson's disease", ongoing=True)) is MET
    assert verdict(cid, Timeline().occ("neurological_condition", -20000, end=-19990,
                                       term="Simple childhood febrile seizures")) is NOT_MET
    assert verdict(cid, Timeline().occ("head_trauma", -700, loss_of_consciousness="protracted")) \
        is MET
    assert verdict(cid, Timeline().occ("head_trauma", -4000).occ("head_trauma", -3000)) is MET
    assert verdict(cid, Timeline().occ("head_trauma", -4000, loss_of_consciousness="none")) \
        is NOT_MET
    assert verdict(cid, Timeline().occ("head_trauma", -700)) is UNKNOWN  # how long unconscious?


def test_the_ecg_findings() -> None:
    cid = "PILOT_EX08"

    def ecg(rate: float = 70) -> Timeline:
        return Timeline().obs("ecg_heart_rate", -5, rate, "/min")

    assert verdict(cid, ecg()) is NOT_MET
    assert verdict(cid, ecg(48)) is MET
    assert verdict(cid, Timeline()) is UNKNOWN  # no screening ECG
    vt = "ventricular tachycardia"
    assert verdict(cid, ecg().occ("ecg_finding", -5, term=vt, ventricular_rate=130,
                                  episode_length=12)) is MET
    assert verdict(cid, ecg().occ("ecg_finding", -5, term=vt, ventricular_rate=110,
                                  episode_length=12)) is NOT_MET
    # attributes recorded in other units convert: 2.2 Hz = 132 /min, 12000 ms = 12 s
    assert verdict(cid, ecg().occ("ecg_finding", -5, term=vt, ventricular_rate="2.2 Hz",
                                  episode_length="12000 ms")) is MET
    assert verdict(cid, ecg().occ("ecg_finding", -5, term=vt, episode_length=12)) is UNKNOWN
    block = ecg().occ("ecg_finding", -5, term="third degree heart block")
    assert verdict(cid, block) is MET
    assert verdict(cid, block.occ("pacemaker", -400)) is NOT_MET


def test_cardiovascular_history_and_resting_pulse() -> None:
    cid = "PILOT_EX09"
    assert verdict(cid, Timeline().obs("pulse", -5, 70, "/min")) is NOT_MET
    assert verdict(cid, Timeline().obs("pulse", -5, 104, "/min")) is MET
    assert verdict(cid, Timeline().obs("pulse", -5, 70, "/min")
                   .occ("cardiovascular_disorder", -1000, end=-900)) is MET
    assert verdict(cid, Timeline()) is UNKNOWN  # no pulse at screening


def test_malignancy_with_its_exceptions() -> None:
    cid = "PILOT_EX17"
    assert verdict(cid, Timeline().occ("malignancy", -800, end=-700,
                                       term="basal cell carcinoma")) is NOT_MET
    assert verdict(cid, Timeline().occ("malignancy", -800, end=-700,
                                       term="colon cancer")) is MET
    prostate = Timeline().occ("malignancy", -800, end=-700, term="prostate cancer in situ") \
        .occ("prostatectomy", -700)
    assert verdict(cid, prostate.obs("psa", -300, 0.1, "ug/L", low=0, high=4)) is NOT_MET
    prostate = Timeline().occ("malignancy", -800, end=-700, term="prostate cancer in situ") \
        .occ("prostatectomy", -700)
    assert verdict(cid, prostate.obs("psa", -300, 6.5, "ug/L", low=0, high=4)) is MET
    prostate = Timeline().occ("malignancy", -800, end=-700, term="prostate cancer in situ") \
        .occ("prostatectomy", -700)
    assert verdict(cid, prostate) is UNKNOWN  # no PSA after the resection


LABS = ("creatinine", "bilirubin", "ast", "alt", "alp", "ggt", "hemoglobin", "wbc",
        "platelets", "sodium", "potassium", "calcium")


def normal_labs(skip: str = "", **values: float) -> Timeline:
    tl = Timeline()
    for lab in LABS:
        if lab != skip:
            tl.obs(lab, -5, values.get(lab, 50), None, low=10, high=100)
    return tl


def test_lab_values_against_their_ranges_with_the_monitors_waiver() -> None:
    cid = "PILOT_EX19"
    assert verdict(cid, normal_labs()) is NOT_MET
    assert verdict(cid, normal_labs(alt=150)) is MET        # high SGPT
    assert verdict(cid, normal_labs(alt=5)) is NOT_MET      # low SGPT does not count
    assert verdict(cid, normal_labs(sodium=5)) is MET       # low sodium does
    assert verdict(cid, normal_labs(skip="calcium")) is UNKNOWN
    waived = normal_labs(alt=150).occ("monitor_waiver", -2, criterion="PILOT_EX19")
    assert verdict(cid, waived) is NOT_MET


def thyroid(**values: float) -> Timeline:
    normal = {"folate": (10, "ng/mL"), "vitb12": (500, "pg/mL"), "thyroid_uptake": (30, "%"),
              "tsh": (2, "m[IU]/L"), "t4": (8, "ug/dL"), "fti": (2, "1")}
    tl = Timeline()
    for lab, (value, unit) in normal.items():
        if values.get(lab, value) is not None:
            tl.obs(lab, -5, values.get(lab, value), unit)
    return tl


def test_folate_b12_and_thyroid_with_their_allowances() -> None:
    cid = "PILOT_EX20"
    assert verdict(cid, thyroid()) is NOT_MET
    assert verdict(cid, thyroid(folate=1.5)) is MET
    assert verdict(cid, thyroid(folate=30)) is MET  # above the range, no supplement
    assert verdict(cid, thyroid(folate=30).occ("vitamin_supplement", -100, ongoing=True)) \
        is NOT_MET
    # TSH 5.5: inside 0.03-6.2 only on a stable dose of thyroid hormone with no signs
    assert verdict(cid, thyroid(tsh=5.5)) is MET
    stable = thyroid(tsh=5.5).occ("thyroid_hormone", -200, ongoing=True, daily_dose=100)
    assert verdict(cid, stable) is NOT_MET
    changed = (thyroid(tsh=5.5).occ("thyroid_hormone", -200, end=-41, daily_dose=75)
               .occ("thyroid_hormone", -40, ongoing=True, daily_dose=100))
    assert verdict(cid, changed) is MET
    assert verdict(cid, thyroid(tsh=7)) is MET  # outside even the allowance
    # thyroid uptake 24%: allowed with the rest of the profile normal and no signs
    assert verdict(cid, thyroid(thyroid_uptake=24)) is NOT_MET
    assert verdict(cid, thyroid(thyroid_uptake=24).occ("thyroid_symptoms", -30, ongoing=True)) \
        is MET
    assert verdict(cid, thyroid(fti=None)) is UNKNOWN  # no free thyroid index


def test_syphilis_confirmed_and_its_exception() -> None:
    cid = "PILOT_EX21"
    screened = Timeline().obs("rpr", -10, "positive")
    assert verdict(cid, screened) is UNKNOWN  # not yet confirmed
    confirmed = Timeline().obs("rpr", -10, "positive").obs("fta_abs", -5, "positive")
    assert verdict(cid, confirmed) is MET
    assert verdict(cid, Timeline().obs("rpr", -10, "positive").obs("fta_abs", -5, "negative")) \
        is NOT_MET
    assert verdict(cid, confirmed.occ("treponemal_alternative", -3000, term="yaws")) is NOT_MET


def test_a1c_in_known_diabetes_or_high_random_glucose() -> None:
    cid = "PILOT_EX22"
    diabetic = Timeline().occ("diabetes", -3000, ongoing=True)
    assert verdict(cid, diabetic.obs("hba1c", -5, 10.2, "%")) is MET
    assert verdict(cid, Timeline().occ("diabetes", -3000, ongoing=True)
                   .obs("hba1c", -5, 8.1, "%")) is NOT_MET
    assert verdict(cid, Timeline().obs("glucose", -5, 250, "mg/dL").obs("hba1c", -5, 10, "%")) \
        is MET
    assert verdict(cid, Timeline().obs("glucose", -5, 120, "mg/dL").obs("hba1c", -5, 10, "%")) \
        is NOT_MET
    assert verdict(cid, Timeline().occ("diabetes", -3000, ongoing=True)) is UNKNOWN  # no A1C


def test_medications_within_their_washouts() -> None:
    cid = "PILOT_EX23"

    def med(drug: str, stopped: int, **attributes: str) -> Timeline:
        return Timeline().occ("con_med", stopped - 30, end=stopped, drug=drug, **attributes)

    assert verdict(cid, med("Felbamate", -20, route="oral")) is MET     # its 1 month
    assert verdict(cid, med("felbamate", -40, route="oral")) is NOT_MET
    assert verdict(cid, med("meclizine", -5, route="oral")) is NOT_MET  # its 3 days
    assert verdict(cid, med("aspirin", -1, route="oral")) is NOT_MET    # not on the list
    assert verdict(cid, med("albuterol", -5, route="oral")) is MET
    assert verdict(cid, med("albuterol", -5, route="inhaled")) is NOT_MET
    assert verdict(cid, med("albuterol", -5)) is UNKNOWN  # inhaled or not?
    # neuroleptics used as needed: 7 days, not their table washout
    assert verdict(cid, med("haloperidol", -10, route="oral", frequency="as needed")) is NOT_MET
    assert verdict(cid, med("haloperidol", -5, route="oral", frequency="as needed")) is MET
    assert verdict(cid, med("haloperidol", -10, route="oral", frequency="daily")) is MET
    # lorazepam as needed: allowed, but not within 24 hours of randomization (at 08:00)
    lorazepam = Timeline(randomized=None).anchor("randomization", 0, at="08:00")
    assert verdict(cid, lorazepam.occ("con_med", -1, end=-1, at="20:00", end_at="20:00",
                                      drug="lorazepam", frequency="as needed")) is MET
    lorazepam = Timeline(randomized=None).anchor("randomization", 0, at="08:00")
    assert verdict(cid, lorazepam.occ("con_med", -2, end=-2, at="06:00", end_at="06:00",
                                      drug="lorazepam", frequency="as needed")) is NOT_MET
    assert verdict(cid, Timeline().occ("con_med", -300, ongoing=True, drug="amiodarone")) is MET
    # estrogen: allowed at a dose unchanged for 3 months
    assert verdict(cid, Timeline().occ("estrogen", -200, ongoing=True, daily_dose=0.625)) \
        is NOT_MET
    assert verdict(cid, Timeline().occ("estrogen", -30, ongoing=True, daily_dose=0.625)) is MET
    waived = med("felbamate", -20, route="oral").occ("monitor_waiver", -2,
                                                      criterion="PILOT_EX23")
    assert verdict(cid, waived) is NOT_MET


@pytest.mark.parametrize("cid", ["PILOT_EX04", "PILOT_EX23"])
def test_nothing_recorded_excludes_no_one(cid: str) -> None:
    assert verdict(cid, Timeline()) is NOT_MET
