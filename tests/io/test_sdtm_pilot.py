"""The SDTM loader on the real CDISC pilot (../shared/data/cdiscpilot01/sdtm): every row
accounted for, the MMSE derivation checked by hand, and the SDTM study-day convention."""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path

import pytest

import dsl
from engine.io.dates import protocol_day, protocol_day_from_sdtm, sdtm_study_day
from engine.io.sdtm import SdtmLoad, load_map, load_sdtm
from engine.io.sdtm_read import read_dataset
from engine.patient import (
    AnchorEvent,
    Disposition,
    DoseEvent,
    Observation,
    Occurrence,
    Patient,
    VisitEvent,
)

ROOT = Path(__file__).resolve().parents[2]
SDTM = ROOT.parent / "shared" / "data" / "cdiscpilot01" / "sdtm"
PROTOCOL = ROOT / "examples" / "cdiscpilot01" / "protocol.trial"
MAP = ROOT / "examples" / "cdiscpilot01" / "sdtm-map.toml"

pytestmark = pytest.mark.skipif(not SDTM.is_dir(), reason="CDISC pilot data not present")


@pytest.fixture(scope="module")
def pilot() -> SdtmLoad:
    return load_sdtm(SDTM, load_map(MAP), dsl.parse_file(PROTOCOL))


def patient(pilot: SdtmLoad, usubjid: str) -> Patient:
    return next(p for p in pilot.patients if p.id == usubjid)


def test_every_row_is_an_event_a_rejection_or_ignored_with_a_reason(pilot: SdtmLoad) -> None:
    rows = {
        name: (c.rows, c.used, c.rejected, c.ignored_total) for name, c in pilot.accounting.items()
    }
    assert rows == {
        "dm.xpt": (306, 306, 0, 0),
        "suppds.xpt": (3, 3, 0, 0),
        "sv.xpt": (3559, 3559, 0, 0),
        "ex.xpt": (591, 585, 6, 0),
        "ds.xpt": (596, 596, 0, 0),
        "ae.xpt": (1191, 1165, 26, 0),
        "lb.csv": (59580, 9640, 5, 49935),
        "vs.csv": (29643, 10258, 0, 19385),
        "qsmm.xpt": (1524, 1524, 0, 0),
    }
    assert all(c.balanced for c in pilot.accounting.values())
    # The rows of each dataset, counted independently of the loader.
    for name, count in pilot.accounting.items():
        assert count.rows == len(read_dataset(SDTM / name).rows), name
    # Every rejected row is one RejectedRecord (the MMSE derivation rejected nothing); the two
    # DM records are rejected fields (an empty RFXENDTC) of rows that are still used.
    assert Counter(r.ref.source for r in pilot.rejected) == {
        "ae.xpt": 26,
        "ex.xpt": 6,
        "lb.csv": 5,
        "dm.xpt": 2,
    }
    # Ignored rows carry their reason: test codes the map does not ask for.
    assert pilot.accounting["lb.csv"].ignored["LBTESTCD ALB is not mapped in [tests.LB]"] == 1814
    assert pilot.accounting["vs.csv"].ignored == {
        "VSTESTCD HEIGHT is not mapped in [tests.VS]": 254,
        "VSTESTCD TEMP is not mapped in [tests.VS]": 2720,
        # Standing blood pressure and pulse: the map takes the supine readings only.
        "VSTESTCD SYSBP with VSPOS 'STANDING': not selected by the map": 5471,
        "VSTESTCD DIABP with VSPOS 'STANDING': not selected by the map": 5471,
        "VSTESTCD PULSE with VSPOS 'STANDING': not selected by the map": 5469,
    }
    assert pilot.not_read == ["se.xpt", "ta.xpt", "te.xpt", "ti.xpt", "ts.xpt", "tv.xpt"]


def test_used_rows_match_the_events_they_became(pilot: SdtmLoad) -> None:
    by_source: Counter[str] = Counter()
    for p in pilot.patients:
        for e in p.events:
            if isinstance(e, AnchorEvent):
                continue  # anchors are derived from DM/DS rows that are counted as dispositions
            by_source[e.ref.source] += 1
    acc = pilot.accounting
    for name in ("sv.xpt", "ex.xpt", "ds.xpt", "ae.xpt", "lb.csv", "vs.csv"):
        assert by_source[name] == acc[name].used, name
    assert by_source["qsmm.xpt"] * 6 == acc["qsmm.xpt"].used == 1524  # one MMSE per 6 items
    assert len(pilot.patients) == acc["dm.xpt"].used == 306
    assert pilot.events == sum(len(p.events) for p in pilot.patients)


def test_mmse_is_the_sum_of_the_six_items(pilot: SdtmLoad) -> None:
    # qsmm.xpt rows 37-42 of 01-701-1097 at SCREENING 1 (2013-12-23): MMITM01..06 = 1, 0, 3,
    # 0, 0, 6 -> 10 (ADSL.MMSETOT is 10 too).
    p = patient(pilot, "01-701-1097")
    (mmse,) = [e for e in p.events if isinstance(e, Observation) and e.kind == "mmse"]
    assert mmse.value == 10
    assert mmse.date == datetime.date(2013, 12, 23)
    assert mmse.visit == "screening_1"
    assert str(mmse.ref) == (
        "qsmm.xpt rows 37-42 (QSSEQ 2001-2006): mmse = sum of MMITM01, MMITM02, MMITM03, "
        "MMITM04, MMITM05, MMITM06"
    )


def test_a_subject_in_full(pilot: SdtmLoad) -> None:
    p = patient(pilot, "01-701-1015")
    assert (p.arm, p.sex, p.age) == ("pbo", "female", 63)
    anchors = [e for e in p.events if isinstance(e, AnchorEvent)]
    assert [(a.name, a.date) for a in anchors] == [("randomization", datetime.date(2014, 1, 2))]
    assert str(anchors[0].ref) == "dm.xpt row 1 (USUBJID 01-701-1015) RFSTDTC"
    visits = [e for e in p.events if isinstance(e, VisitEvent)]
    assert [v.visit for v in visits[:5]] == [
        "screening_1",
        "screening_2",
        "baseline",
        "ambul_ecg_placement",
        "week_2",
    ]
    doses = [e for e in p.events if isinstance(e, DoseEvent)]
    assert [(d.intervention, d.start, d.end, d.amount) for d in doses] == [
        ("placebo", datetime.date(2014, 1, 2), datetime.date(2014, 1, 16), 0),
        ("placebo", datetime.date(2014, 1, 17), datetime.date(2014, 6, 18), 0),
        ("placebo", datetime.date(2014, 6, 19), datetime.date(2014, 7, 2), 0),
    ]
    alt = next(e for e in p.events if isinstance(e, Observation) and e.kind == "alt")
    assert (alt.value, alt.unit, alt.low, alt.high, alt.date) == (
        27,
        "U/L",
        6,
        34,
        datetime.date(2013, 12, 26),
    )
    assert str(alt.ref) == "lb.csv row 21 (LBSEQ 3)"
    pulse = next(e for e in p.events if isinstance(e, Observation) and e.kind == "pulse")
    assert pulse.unit == "/min"  # BEATS/MIN through the map's [units]
    assert p.collected is not None and "mmse" in p.collected
    assert "probable_ad" not in p.collected  # no MH domain: unknown, not absent
    first_ae = next(e for e in p.events if isinstance(e, Occurrence))
    assert dict(first_ae.attributes) == {
        "term": "APPLICATION SITE ERYTHEMA",
        "grade": 1,
        "severity": "mild",
        "related": "study_drug",
        "causality": "probable",
        "serious": False,
        "outcome": "not recovered/not resolved",
    }
    assert first_ae.ongoing and first_ae.end is None


def test_screen_failure_and_discontinuation(pilot: SdtmLoad) -> None:
    failures = [p for p in pilot.patients if p.arm is None]
    assert len(failures) == 52
    assert not any(isinstance(e, AnchorEvent) for p in failures for e in p.events)
    # 01-701-1023 stopped for an adverse event at week 4: last patch 2012-09-01 (DM.RFXENDTC),
    # disposition recorded 2012-09-02.
    p = patient(pilot, "01-701-1023")
    anchors = {e.name: (e.date, str(e.ref)) for e in p.events if isinstance(e, AnchorEvent)}
    assert anchors == {
        "randomization": (datetime.date(2012, 8, 5), "dm.xpt row 2 (USUBJID 01-701-1023) RFSTDTC"),
        "discontinuation": (
            datetime.date(2012, 9, 1),
            "dm.xpt row 2 (USUBJID 01-701-1023) RFXENDTC",
        ),
    }
    disp = [e for e in p.events if isinstance(e, Disposition)]
    assert (disp[0].status, disp[0].date, disp[0].reason, disp[0].effect) == (
        "adverse event",
        datetime.date(2012, 9, 2),
        "ADVERSE EVENT",
        "withdraw",  # stated by the map, not read from the wording
    )
    # Completers have no discontinuation anchor.
    assert not any(
        isinstance(e, AnchorEvent) and e.name == "discontinuation"
        for e in patient(pilot, "01-701-1015").events
    )


def test_suppds_qualifier_is_kept_on_the_disposition(pilot: SdtmLoad) -> None:
    p = patient(pilot, "01-703-1175")
    d = next(e for e in p.events if isinstance(e, Disposition) and e.effect == "withdraw")
    assert d.reason == "PROTOCOL ENTRY CRITERIA NOT MET (PROTOCOL ENTRY CRITERIA NOT MET: 16)"


def test_rejections_name_subject_row_and_variable(pilot: SdtmLoad) -> None:
    messages = [str(r) for r in pilot.rejected]
    assert (
        "ae.xpt row 72 (AESEQ 8): patient 01-701-1148: field AESTDTC: AESTDTC: partial date "
        "'2012-02': a full date YYYY-MM-DD is needed to place it on the protocol's day-precise "
        "timeline (trialcode does not impute dates)"
    ) in messages
    assert (
        "ex.xpt row 197 (EXSEQ 1): patient 01-705-1018: field EXENDTC: EXENDTC is empty: the end "
        "of this QD dosing period from 2013-07-05 is not known (trialcode does not impute it)"
    ) in messages
    assert (
        "dm.xpt row 98 (USUBJID 01-705-1018): patient 01-705-1018: field RFXENDTC: RFXENDTC is "
        "empty: the subject's disposition is 'WITHDRAWAL BY SUBJECT' but there is no "
        "discontinuation date"
    ) in messages
    bili = [m for m in messages if "LBSTRESC" in m]
    assert len(bili) == 5
    # the value quoted is LBSTRESC's, and the message says so (issue 16)
    assert all(m.endswith("field LBSTRESC: LBSTRESC: value '<3.42' of bilirubin (lab) is not a "
                          "number (LBSTRESN is empty)") for m in bili)


# ---- study days ------------------------------------------------------------------------------


def test_sdtm_study_day_has_no_day_zero() -> None:
    ref = datetime.date(2014, 1, 2)
    assert sdtm_study_day(ref, ref) == 1
    assert sdtm_study_day(datetime.date(2014, 1, 1), ref) == -1
    assert sdtm_study_day(datetime.date(2014, 1, 16), ref) == 15
    assert protocol_day(datetime.date(2014, 1, 16), ref) == 14
    assert protocol_day_from_sdtm(15) == 14
    assert protocol_day_from_sdtm(1) == 0
    assert protocol_day_from_sdtm(-1) == -1
    with pytest.raises(ValueError, match="day 0 does not exist"):
        protocol_day_from_sdtm(0)


@pytest.mark.parametrize(
    "dataset, dtc, dy, mismatches",
    [
        ("lb.csv", "LBDTC", "LBDY", []),
        ("ex.xpt", "EXSTDTC", "EXSTDY", []),
        ("ds.xpt", "DSSTDTC", "DSSTDY", []),
        ("qsmm.xpt", "QSDTC", "QSDY", []),
        # The pilot's one inconsistent study day: AESTDTC 2013-05-09 is RFSTDTC (day 1), but
        # AESTDY says 366. trialcode uses the date.
        ("ae.xpt", "AESTDTC", "AESTDY", [("01-716-1063", "2013-05-09", 366)]),
    ],
)
def test_our_study_day_reproduces_every_dy_of_the_pilot(
    dataset: str, dtc: str, dy: str, mismatches: list
) -> None:
    reference = {r["USUBJID"]: r["RFSTDTC"] for r in read_dataset(SDTM / "dm.xpt").rows
                 if isinstance(r, dict)}
    found = []
    checked = 0
    for row in read_dataset(SDTM / dataset).rows:
        assert isinstance(row, dict)  # the pilot has no unreadable row
        day, date, ref = row[dy], str(row[dtc]), reference[row["USUBJID"]]
        if day in ("", None) or day != day or len(date) < 10 or not ref:
            continue
        checked += 1
        ours = sdtm_study_day(
            datetime.date.fromisoformat(date[:10]), datetime.date.fromisoformat(ref)
        )
        if ours != int(float(day)):
            found.append((row["USUBJID"], date[:10], int(float(day))))
    assert checked > 500
    assert found == mismatches
