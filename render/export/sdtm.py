"""SDTM trial design datasets (TA, TE, TV, TI, TS) from a Trial, as CSV and SAS transport.

Conventions (SDTMIG 3.x): --TESTCD at most 8 characters, starting with a letter; text at most
200 characters (longer TS values continue in TSVAL1, TSVAL2, ...); VISITDY is the planned study
day, where day 1 is the day of the schedule's anchor (there is no study day 0); text is ASCII so
that the transport files hold what the CSV files hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from protocol.schedule import AfterAnchor, AsNeeded, AtDay, DayRange, OnEvent, Visit
from protocol.trial import Trial
from protocol.vocab import (
    Allocation,
    ArmType,
    DesignModel,
    MaskingLevel,
    ObjectiveLevel,
    Purpose,
    Sex,
    StudyType,
)
from render.design import anchor_days, build_matrix, iso_duration
from render.prose import Prose
from render.terms import num

MAX_TEXT = 200
MAX_TESTCD = 8

_ASCII = {
    "≤": "<=",
    "≥": ">=",
    "×": "x",
    "µ": "u",
    "μ": "u",
    "…": "...",
    "–": "-",
    "—": "-",
    "−": "-",
    "±": "+/-",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
    "⁹": "9",
    "₁₀": "10",
    "≠": "!=",
}


def ascii_text(text: str) -> str:
    for k, v in _ASCII.items():
        text = text.replace(k, v)
    return text.encode("ascii", "replace").decode("ascii")


@dataclass
class Dataset:
    """One SDTM dataset: name, column names and labels, rows of values."""

    name: str
    label: str
    columns: list[str]
    labels: list[str]
    rows: list[list[object]]

    def frame(self) -> object:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


def _testcd(raw: str, prefix: str, n: int) -> str:
    code = re.sub(r"[^A-Z0-9_]", "", raw.upper())
    if not code or len(code) > MAX_TESTCD or not code[0].isalpha():
        code = f"{prefix}{n:02d}"
    return code


def study_id(trial: Trial) -> str:
    for scheme in ("study_id", "studyid"):
        v = trial.identifier(scheme)
        if v:
            return v
    return trial.name


_EPOCH_CT = (
    ("screen", "SCREENING"),
    ("follow", "FOLLOW-UP"),
    ("run", "RUN-IN"),
    ("washout", "WASHOUT"),
    ("baseline", "BASELINE"),
)


def epoch_value(name: str, label: str) -> str:
    """The EPOCH value from CDISC CT (C99079) where one fits, else the label in capitals."""
    key = f"{name} {label}".lower()
    for word, value in _EPOCH_CT:
        if word in key:
            return value
    if "treat" in key or "maintenance" in key or "intervention" in key:
        return "TREATMENT"
    return ascii_text(label.upper())


def _split(text: str) -> list[str]:
    text = ascii_text(text)
    parts = []
    while len(text) > MAX_TEXT:
        cut = text.rfind(" ", 0, MAX_TEXT)
        cut = cut if cut > 0 else MAX_TEXT
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


def _study_day(day: float) -> int:
    d = int(round(day))
    return d + 1 if d >= 0 else d


class _Sdtm:
    def __init__(self, trial: Trial):
        self.t = trial
        self.prose = Prose(trial)
        self.sid = study_id(trial)
        self.matrix = build_matrix(trial)

    def ta(self) -> Dataset:
        m = self.matrix
        rows: list[list[object]] = []
        branch_epoch = next((i for i, e in enumerate(m.epochs) if e.randomized_before), None)
        for arm in m.arms:
            order = 0
            armcd = (arm.code or arm.name)[:20]
            for i, ep in enumerate(m.epochs):
                cell = m.cell(arm.name, ep.name)
                for j, el in enumerate(cell.elements if cell else []):
                    order += 1
                    last_before_branch = (
                        branch_epoch is not None
                        and i == branch_epoch - 1
                        and cell is not None
                        and j == len(cell.elements) - 1
                    )
                    rows.append(
                        [
                            self.sid,
                            "TA",
                            armcd,
                            ascii_text(arm.label),
                            order,
                            el.code,
                            ascii_text(el.name),
                            ascii_text(f"Randomized to {arm.label}") if last_before_branch else "",
                            "",
                            epoch_value(ep.name, ep.label),
                        ]
                    )
        return Dataset(
            "TA",
            "Trial Arms",
            ["STUDYID", "DOMAIN", "ARMCD", "ARM", "TAETORD", "ETCD", "ELEMENT", "TABRANCH", "TATRANS", "EPOCH"],
            ["Study Identifier", "Domain Abbreviation", "Planned Arm Code", "Description of Planned Arm", "Planned Order of Element within Arm", "Element Code", "Description of Element", "Branch", "Transition Rule", "Epoch"],
            rows,
        )

    def te(self) -> Dataset:
        rows: list[list[object]] = []
        for el in self.matrix.elements:
            rows.append(
                [
                    self.sid,
                    "TE",
                    el.code,
                    ascii_text(el.name),
                    ascii_text(el.start_rule),
                    ascii_text(el.end_rule),
                    iso_duration(el.duration) if el.duration else "",
                ]
            )
        return Dataset(
            "TE",
            "Trial Elements",
            ["STUDYID", "DOMAIN", "ETCD", "ELEMENT", "TESTRL", "TEENRL", "TEDUR"],
            ["Study Identifier", "Domain Abbreviation", "Element Code", "Description of Element", "Rule for Start of Element", "Rule for End of Element", "Planned Duration of Element"],
            rows,
        )

    def tv(self) -> Dataset:
        sched = self.t.schedule
        rows: list[list[object]] = []
        if sched is not None:
            days = anchor_days(self.t)
            planned: list[tuple[float, int, Visit]] = []
            other: list[Visit] = []
            for i, v in enumerate(sched.visits):
                if isinstance(v.timing, AsNeeded):
                    continue  # unscheduled visits are not planned visits
                day = self._nominal(v, days)
                if v.condition or day is None:
                    other.append(v)
                else:
                    planned.append((day, i, v))
            planned.sort(key=lambda x: (x[0], x[1]))
            numbered: list[tuple[float, Visit, float | None]] = [
                (float(k + 1), v, d) for k, (d, _, v) in enumerate(planned)
            ]
            numbered += [(float(101 + k), v, self._nominal(v, days)) for k, v in enumerate(other)]
            for visitnum, v, day in numbered:
                arms = v.arms or ("",)
                for arm_name in arms:
                    arm = self.t.arm(arm_name) if arm_name else None
                    rows.append(
                        [
                            self.sid,
                            "TV",
                            visitnum,
                            ascii_text(v.label),
                            _study_day(day) if day is not None else None,
                            (arm.code or arm.name) if arm else "",
                            ascii_text(arm.label) if arm else "",
                            ascii_text(self._start_rule(v))[:MAX_TEXT],
                            "",
                        ]
                    )
        return Dataset(
            "TV",
            "Trial Visits",
            ["STUDYID", "DOMAIN", "VISITNUM", "VISIT", "VISITDY", "ARMCD", "ARM", "TVSTRL", "TVENRL"],
            ["Study Identifier", "Domain Abbreviation", "Visit Number", "Visit Name", "Planned Study Day of Visit", "Planned Arm Code", "Description of Planned Arm", "Visit Start Rule", "Visit End Rule"],
            rows,
        )

    def _nominal(self, v: Visit, days: dict[str, float]) -> float | None:
        t = v.timing
        cal = self.t.calendar
        if isinstance(t, AtDay):
            return t.point.days(cal)
        if isinstance(t, DayRange):
            return t.start.days(cal)
        if isinstance(t, AfterAnchor):
            return days.get(v.name)
        return None

    def _start_rule(self, v: Visit) -> str:
        text = self.prose.visit_when(v)
        if isinstance(v.timing, OnEvent):
            text = self.prose.visit_timing(v.timing)
        text = text[0].upper() + text[1:]
        if v.condition:
            if self.t.data_item(v.condition) is not None:
                text = f"If {self.prose.terms.term(v.condition)} is recorded: {text}"
            else:
                text = f"If {self.prose.terms.anchor_name(v.condition)}: {text}"
        return text

    def ti(self) -> Dataset:
        rows: list[list[object]] = []
        n_in = n_ex = 0
        for c in self.t.eligibility.criteria:
            inclusion = c.category.value == "inclusion"
            if inclusion:
                n_in += 1
            else:
                n_ex += 1
            code = _testcd(c.id, "INCL" if inclusion else "EXCL", n_in if inclusion else n_ex)
            text = ascii_text(self.prose.criterion(c))
            if len(text) > MAX_TEXT:
                cut = text.rfind(" ", 0, MAX_TEXT - 3)
                text = text[: cut if cut > 0 else MAX_TEXT - 3] + "..."
            rows.append([self.sid, "TI", code, text, "INCLUSION" if inclusion else "EXCLUSION", "", "", "1"])
        return Dataset(
            "TI",
            "Trial Inclusion/Exclusion Criteria",
            ["STUDYID", "DOMAIN", "IETESTCD", "IETEST", "IECAT", "IESCAT", "TIRL", "TIVERS"],
            ["Study Identifier", "Domain Abbreviation", "Incl/Excl Criterion Short Name", "Inclusion/Exclusion Criterion", "Inclusion/Exclusion Category", "Inclusion/Exclusion Subcategory", "Inclusion/Exclusion Criterion Rule", "Protocol Criteria Versions"],
            rows,
        )

    def ts(self) -> Dataset:
        t = self.t
        params: list[tuple[str, str, str, str, str]] = []  # code, label, value, value code, code ref

        def add(code: str, label: str, value: str, vcode: str = "", ref: str = "") -> None:
            params.append((code, label, value, vcode, ref))

        if t.title:
            add("TITLE", "Trial Title", t.title)
        if t.phase:
            ph = {
                "1": ("PHASE I TRIAL", "C15600"),
                "2": ("PHASE II TRIAL", "C15601"),
                "3": ("PHASE III TRIAL", "C15602"),
                "4": ("PHASE IV TRIAL", "C15603"),
                "1/2": ("PHASE I/II TRIAL", "C15693"),
                "2/3": ("PHASE II/III TRIAL", "C15694"),
                "na": ("NOT APPLICABLE", "C48660"),
            }.get(t.phase.value.lower())
            if ph:
                add("TPHASE", "Trial Phase Classification", ph[0], ph[1], "CDISC CT")
        if t.study_type:
            st = {
                StudyType.INTERVENTIONAL: ("INTERVENTIONAL", "C98388"),
                StudyType.OBSERVATIONAL: ("OBSERVATIONAL", "C16084"),
                StudyType.EXPANDED_ACCESS: ("EXPANDED ACCESS", "C98722"),
            }[t.study_type]
            add("STYPE", "Study Type", st[0], st[1], "CDISC CT")
        if t.masking:
            bl = {
                MaskingLevel.NONE: ("OPEN LABEL", "C49659"),
                MaskingLevel.SINGLE: ("SINGLE BLIND", "C28233"),
                MaskingLevel.DOUBLE: ("DOUBLE BLIND", "C15228"),
                MaskingLevel.TRIPLE: ("DOUBLE BLIND", "C15228"),
                MaskingLevel.QUADRUPLE: ("DOUBLE BLIND", "C15228"),
            }[t.masking.level]
            add("TBLIND", "Trial Blinding Schema", bl[0], bl[1], "CDISC CT")
        if t.allocation and t.allocation is not Allocation.NA:
            add("RANDOM", "Trial is Randomized", "Y" if t.allocation is Allocation.RANDOMIZED else "N", "C49488" if t.allocation is Allocation.RANDOMIZED else "C49487", "CDISC CT")
        if t.model:
            mo = {
                DesignModel.PARALLEL: ("PARALLEL", "C82639"),
                DesignModel.CROSSOVER: ("CROSS-OVER", "C82637"),
                DesignModel.FACTORIAL: ("FACTORIAL", "C82638"),
                DesignModel.SINGLE_GROUP: ("SINGLE GROUP", "C82640"),
                DesignModel.SEQUENTIAL: ("SEQUENTIAL", "C142568"),
            }[t.model]
            add("INTMODEL", "Intervention Model", mo[0], mo[1], "CDISC CT")
        if t.purpose:
            pu = {
                Purpose.TREATMENT: ("TREATMENT", "C49656"),
                Purpose.PREVENTION: ("PREVENTION", "C49657"),
                Purpose.DIAGNOSTIC: ("DIAGNOSIS", "C49653"),
                Purpose.SUPPORTIVE_CARE: ("SUPPORTIVE CARE", "C71486"),
                Purpose.SCREENING: ("SCREENING", "C71485"),
                Purpose.HEALTH_SERVICES_RESEARCH: ("HEALTH SERVICES RESEARCH", "C15245"),
                Purpose.BASIC_SCIENCE: ("BASIC SCIENCE", "C15714"),
                Purpose.DEVICE_FEASIBILITY: ("DEVICE FEASIBILITY", "C139174"),
            }.get(t.purpose)
            if pu:
                add("TINDTP", "Trial Intended Purpose", pu[0], pu[1], "CDISC CT")
        if t.arms:
            add("NARMS", "Planned Number of Arms", str(len(t.arms)))
            types = {a.type for a in t.arms}
            if ArmType.PLACEBO_COMPARATOR in types:
                add("TCNTRL", "Control Type", "PLACEBO", "C49648", "CDISC CT")
            elif ArmType.ACTIVE_COMPARATOR in types:
                add("TCNTRL", "Control Type", "ACTIVE", "C49649", "CDISC CT")
            elif ArmType.NO_INTERVENTION in types:
                add("TCNTRL", "Control Type", "NONE", "C41132", "CDISC CT")
        if t.enrollment is not None:
            add("PLANSUB", "Planned Number of Subjects", str(t.enrollment))
        p = t.population
        if p is not None:
            if p.age_min:
                add("AGEMIN", "Planned Minimum Age of Subjects", _iso_age(p.age_min))
            if p.age_max:
                add("AGEMAX", "Planned Maximum Age of Subjects", _iso_age(p.age_max))
            sex = {Sex.ALL: ("BOTH", "C49636"), Sex.FEMALE: ("F", "C16576"), Sex.MALE: ("M", "C20197")}[p.sex]
            add("SEXPOP", "Sex of Participants", sex[0], sex[1], "CDISC CT")
            if p.healthy_volunteers is not None:
                add("HLTSUBJI", "Healthy Subject Indicator", "Y" if p.healthy_volunteers else "N", "C49488" if p.healthy_volunteers else "C49487", "CDISC CT")
        for c in t.conditions:
            add("INDIC", "Trial Disease/Condition Indication", c)
        treated = [ai.intervention for a in t.arms if a.type is ArmType.EXPERIMENTAL for ai in a.interventions]
        for name in dict.fromkeys(treated):
            add("TRT", "Investigational Therapy or Treatment", self.prose.terms.intervention(name))
        comparators = [ai.intervention for a in t.arms if a.type in (ArmType.PLACEBO_COMPARATOR, ArmType.ACTIVE_COMPARATOR) for ai in a.interventions]
        for name in dict.fromkeys(comparators):
            add("COMPTRT", "Comparative Treatment Name", self.prose.terms.intervention(name))
        for o in t.objectives:
            if o.level is ObjectiveLevel.PRIMARY:
                add("OBJPRIM", "Trial Primary Objective", o.text)
            elif o.level is ObjectiveLevel.SECONDARY:
                add("OBJSEC", "Trial Secondary Objective", o.text)
        if t.sponsor:
            add("SPONSOR", "Clinical Study Sponsor", t.sponsor.name)
        if t.start:
            add("SSTDTC", "Study Start Date", t.start.isoformat())
        nct = t.identifier("nct")
        if nct:
            add("REGID", "Registry Identifier", nct)
        length = self._length()
        if length:
            add("LENGTH", "Trial Length", length)

        rows: list[list[object]] = []
        seq: dict[str, int] = {}
        extra = 0
        for code, label, value, vcode, ref in params:
            seq[code] = seq.get(code, 0) + 1
            parts = _split(value)
            extra = max(extra, len(parts) - 1)
            rows.append([self.sid, "TS", seq[code], "", code, label, parts, "", vcode, ref, ""])
        cols = ["STUDYID", "DOMAIN", "TSSEQ", "TSGRPID", "TSPARMCD", "TSPARM", "TSVAL"]
        labels = ["Study Identifier", "Domain Abbreviation", "Sequence Number", "Group ID", "Trial Summary Parameter Short Name", "Trial Summary Parameter", "Parameter Value"]
        cols += [f"TSVAL{i}" for i in range(1, extra + 1)]
        labels += [f"Parameter Value {i}" for i in range(1, extra + 1)]
        cols += ["TSVALNF", "TSVALCD", "TSVCDREF", "TSVCDVER"]
        labels += ["Parameter Null Flavor", "Parameter Value Code", "Name of the Reference Terminology", "Version of the Reference Terminology"]
        flat: list[list[object]] = []
        for r in rows:
            value_parts = r[6]
            assert isinstance(value_parts, list)
            vals: list[object] = list(value_parts) + [""] * (extra + 1 - len(value_parts))
            flat.append(r[:6] + vals + [r[7], r[8], r[9], r[10]])
        return Dataset("TS", "Trial Summary", cols, labels, flat)

    def _length(self) -> str:
        sched = self.t.schedule
        if sched is None:
            return ""
        days = anchor_days(self.t)
        planned = [days[v.name] for v in sched.visits if v.name in days and not v.condition]
        if not planned:
            return ""
        span = max(planned)  # from the anchor (day 0) to the last planned visit
        weeks = span / 7
        if float(weeks).is_integer():
            return f"P{int(weeks)}W"
        return f"P{num(span)}D"


def _iso_age(d: object) -> str:
    from protocol.timing import Duration

    assert isinstance(d, Duration)
    return iso_duration(d)


def export_sdtm_design(trial: Trial) -> dict[str, Dataset]:
    """The trial design datasets by name: TA, TE, TV, TI, TS."""
    s = _Sdtm(trial)
    return {"TA": s.ta(), "TE": s.te(), "TV": s.tv(), "TI": s.ti(), "TS": s.ts()}


def write_sdtm_design(trial: Trial, directory: str | Path, xpt: bool = True) -> list[Path]:
    """Write ta.csv ... ts.csv (and ta.xpt ... ts.xpt) into `directory`; return the paths."""
    import pyreadstat

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, ds in export_sdtm_design(trial).items():
        df = ds.frame()
        csv_path = out / f"{name.lower()}.csv"
        df.to_csv(csv_path, index=False)  # type: ignore[attr-defined]
        written.append(csv_path)
        if xpt:
            xpt_path = out / f"{name.lower()}.xpt"
            pyreadstat.write_xport(
                df,
                str(xpt_path),
                file_label=ds.label,
                column_labels=list[str | None](ds.labels),
                table_name=name,
                file_format_version=5,
            )
            written.append(xpt_path)
    return written

