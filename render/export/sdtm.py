"""SDTM trial design datasets (TA, TE, TV, TI, TS) from a Trial, as CSV and SAS transport.

Conventions (SDTMIG 3.x): --TESTCD at most 8 characters, starting with a letter; text at most
200 characters (longer TS values continue in TSVAL1, TSVAL2, ...); VISITDY is the planned study
day, where day 1 is the day of the schedule's anchor (there is no study day 0); VISITNUM is the
protocol's visit number where it states one; text is ASCII so that the transport files hold
what the CSV files hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from protocol.design import DoseStep
from protocol.schedule import (
    AfterAnchor,
    AsNeeded,
    AtDay,
    AtTimes,
    Cycles,
    DayRange,
    OnEvent,
    Visit,
)
from protocol.timing import Duration, TimeUnit
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
from render.design import (
    EpochInfo,
    allocation_ratio,
    anchor_days,
    arm_regimen,
    build_matrix,
    iso_duration,
    period_bounds,
    washout_text,
)
from render.doseform import dose_form
from render.prose import Prose
from render.soa import Column, build_grid
from render.terms import duration_text, join_and, num, window_text

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
                            ascii_text(self.cycle_rule(arm.name, ep.name) or self.period_rule(ep)),
                            self.epoch_value(ep),
                        ]
                    )
        return Dataset(
            "TA",
            "Trial Arms",
            ["STUDYID", "DOMAIN", "ARMCD", "ARM", "TAETORD", "ETCD", "ELEMENT", "TABRANCH", "TATRANS", "EPOCH"],
            ["Study Identifier", "Domain Abbreviation", "Planned Arm Code", "Description of Planned Arm", "Planned Order of Element within Arm", "Element Code", "Description of Element", "Branch", "Transition Rule", "Epoch"],
            rows,
        )

    def epoch_value(self, ep: EpochInfo) -> str:
        """EPOCH: a crossover's periods and washouts are numbered (TREATMENT 1, WASHOUT 1,
        TREATMENT 2), as the SDTMIG's crossover example numbers them."""
        if ep.period is not None:
            return f"{'WASHOUT' if ep.washout else 'TREATMENT'} {ep.period}"
        return epoch_value(ep.name, ep.label)

    def period_rule(self, ep: EpochInfo) -> str:
        """TATRANS of a period's treatment element before the last period: a participant whose
        treatment stops does not start the next period (the engine has it not applicable)."""
        if ep.period is None or ep.washout or ep.period >= self.t.period_count:
            return ""
        epochs = self.matrix.epochs
        at = epochs.index(ep)
        after = next((e for e in epochs[at:] if e.period is None), None)
        if after is None:
            return ""
        return f"If study treatment is discontinued, go to the {after.label} epoch"

    def cycles_of(self, arm: str, epoch: str) -> Cycles | None:
        """The cycles block an arm goes through in an epoch (its element is one cycle)."""
        sched = self.t.schedule
        for block in sched.cycles if sched is not None else ():
            if block.epoch == epoch and (not block.arms or arm in block.arms):
                return block
        return None

    def cycle_rule(self, arm: str, epoch: str) -> str:
        """TATRANS of a cycle element: repeat it, until what, at most how often."""
        block = self.cycles_of(arm, epoch)
        if block is None:
            return ""
        text = f"Repeat this element every {duration_text(block.length)}"
        ends = [self.prose.terms.anchor_name(e) if self.prose.terms.item(e) is None
                else self.prose.terms.term(e) for e in block.until]
        if ends:
            text += " until " + join_and(ends, "or")
        if block.max_cycles is not None:
            text += f", at most {block.max_cycles} times"
        return text + "; then go to the next epoch"

    def cycle_lengths(self) -> dict[str, Duration]:
        """Element code -> the length of the cycle the element is (TEDUR)."""
        out: dict[str, Duration] = {}
        for arm in self.matrix.arms:
            for ep in self.matrix.epochs:
                block = self.cycles_of(arm.name, ep.name)
                cell = self.matrix.cell(arm.name, ep.name)
                if block is not None and cell is not None:
                    for el in cell.elements:
                        out.setdefault(el.code, block.length)
        return out

    def te(self) -> Dataset:
        rows: list[list[object]] = []
        lengths = self.cycle_lengths()
        for el in self.matrix.elements:
            duration = el.duration or lengths.get(el.code)
            rows.append(
                [
                    self.sid,
                    "TE",
                    el.code,
                    ascii_text(el.name),
                    ascii_text(el.start_rule),
                    ascii_text(el.end_rule),
                    iso_duration(duration) if duration else "",
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
            # (day, source order, label, start rule, arms, protocol's number)
            planned: list[tuple[float, int, str, str, tuple[str, ...], float | None]] = []
            other: list[tuple[str, str, tuple[str, ...], float | None, float | None]] = []
            for i, v in enumerate(sched.visits):
                if isinstance(v.timing, AsNeeded) and v.number is None:
                    continue  # unscheduled visits are not planned visits (unless numbered)
                day = self._nominal(v, days)
                entry = (v.label, self._start_rule(v), v.arms, v.number)
                if v.condition or day is None:
                    other.append((*entry, day))
                else:
                    planned.append((day, i, *entry))
            # the time points of `assess ... at month 3, 6` that no visit covers are visits too:
            # the schedule of activities and the USDM export show them as such
            grid = build_grid(self.t)
            # a study period's visits and days, one per period: VISITDY only where the day is
            # fixed (period 1, from the anchor); later periods follow the washouts kept
            unfixed: set[str] = set()
            for k, col in enumerate(grid.columns if grid else []):
                if col.study_period is not None and col.day is not None:
                    label, rule, fixed = self._period_visit(col)
                    if not fixed:
                        unfixed.add(label)
                    planned.append((col.day, len(sched.visits) + k, label, rule, (), None))
                elif col.visit is None and col.day is not None:
                    rule = col.label + (f" ({self._point_window(col.day)})" if self._point_window(col.day) else "")
                    planned.append((col.day, len(sched.visits) + k, col.label, rule, (), None))
            planned.sort(key=lambda x: (x[0], x[1]))
            # VISITNUM is the protocol's visit number; a visit without one is numbered here:
            # planned visits 1, 2, ... in time order, conditional and event visits from 101,
            # skipping the numbers the protocol gives other visits
            taken = {float(v.number) for v in sched.visits if v.number is not None}

            def free(start: float) -> float:
                n = start
                while n in taken:
                    n += 1
                taken.add(n)
                return n

            numbered: list[tuple[float, str, float | None, str, tuple[str, ...]]] = []
            for k, (d, _, label, rule, arms, number) in enumerate(planned):
                n = float(number) if number is not None else free(float(k + 1))
                numbered.append((n, label, None if label in unfixed else d, rule, arms))
            for label, rule, arms, number, event_day in other:
                n = float(number) if number is not None else free(101.0)
                numbered.append((n, label, event_day, rule, arms))
            numbered.sort(key=lambda x: x[0])
            for visitnum, label, day, rule, arm_names in numbered:
                for arm_name in arm_names or ("",):
                    arm = self.t.arm(arm_name) if arm_name else None
                    rows.append(
                        [
                            self.sid,
                            "TV",
                            visitnum,
                            ascii_text(label),
                            _study_day(day) if day is not None else None,
                            (arm.code or arm.name) if arm else "",
                            ascii_text(arm.label) if arm else "",
                            ascii_text(rule)[:MAX_TEXT],
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

    def _period_visit(self, col: Column) -> tuple[str, str, bool]:
        """VISIT, TVSTRL and whether VISITDY is fixed, for a study period's column."""
        sched = self.t.schedule
        block = sched.periods if sched is not None else None
        assert block is not None and col.study_period is not None and col.period_day is not None
        k = col.study_period
        period = block.period_label(k)
        offset = col.period_day - period_bounds(self.t)[0]
        if offset == 0:
            when = "the first dose of the period"
        else:
            n = abs(offset)
            when = (f"{num(n)} day{'s' if n != 1 else ''} "
                    f"{'before' if offset < 0 else 'after'} the first dose of the period")
        rule = f"{period}, day {col.day_text}: {when}"
        if col.window_text:
            rule += f" ({col.window_text})"
        if k > 1:
            rule += (f"; {period} starts {washout_text(block)} after the last dose of "
                     f"{block.period_label(k - 1)}")
        return f"{period} {col.label}", rule, k == 1

    def _point_window(self, day: float) -> str:
        """The window of the `at ...` activities planned at `day` (the widest, in words)."""
        sched = self.t.schedule
        cal = self.t.calendar
        best: tuple[float, str] = (-1.0, "")
        for a in sched.activities if sched else ():
            if isinstance(a.timing, AtTimes) and a.window is not None:
                if any(abs(p.days(cal) - day) < 1e-9 for p in a.timing.points):
                    width = sum(a.window.days(cal))
                    if width > best[0]:
                        best = (width, window_text(a.window))
        return best[1]

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
        quotient = _randomization_quotient(t)
        if quotient is not None:
            add("RANDQT", "Randomization Quotient", num(round(quotient, 2)))
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
                add("TINDTP", "Trial Intent Type", pu[0], pu[1], "CDISC CT")
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
        treated = [name for a in t.arms if a.type is ArmType.EXPERIMENTAL for name in a.given()]
        for name in dict.fromkeys(treated):
            add("TRT", "Investigational Therapy or Treatment", self.prose.terms.intervention(name))
        self._dosing(list(dict.fromkeys(treated)), add)
        comparators = [name for a in t.arms if a.type in (ArmType.PLACEBO_COMPARATOR, ArmType.ACTIVE_COMPARATOR) for name in a.given()]
        for name in dict.fromkeys(comparators):
            add("COMPTRT", "Comparative Treatment Name", self.prose.terms.intervention(name))
        for level, code, label in _OBJECTIVE_TS:
            for o in t.objectives:
                if o.level is level:
                    add(code, label, o.text)
        for level, code, label in _OUTCOME_TS:
            for o in t.objectives:
                if o.level is level:
                    for e in o.endpoints:
                        add(code, label, e)
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

    def _dosing(self, names: list[str], add: Callable[..., None]) -> None:
        """DOSE, DOSU, DOSFRQ, ROUTE and DOSFRM of the investigational therapy, as the protocol
        states them (each distinct value once; a titration gives several doses)."""
        t = self.t
        steps: list[DoseStep] = []
        for arm in t.arms:
            if arm.type is not ArmType.EXPERIMENTAL:
                continue
            for name in arm.given():
                if name in names:
                    reg = arm_regimen(t, arm, name)
                    steps.extend(reg.steps if reg else ())
        doses = list(dict.fromkeys(num(s.amount.value) for s in steps))
        for d in doses:
            add("DOSE", "Dose per Administration", d)
        for unit in dict.fromkeys(s.amount.unit for s in steps if s.amount.unit):
            value, code = _UNIT_CT.get(unit, (ascii_text(unit), ""))
            add("DOSU", "Dose Units", value, code, "CDISC CT" if code else "")
        for f in dict.fromkeys(s.frequency for s in steps if s.frequency is not None):
            freq = _frequency_ct(f.interval)
            if freq:
                add("DOSFRQ", "Dosing Frequency", freq[0], freq[1], "CDISC CT")
        for route in dict.fromkeys(s.route for s in steps if s.route is not None):
            rt = _ROUTE_CT.get(route.value)
            if rt:
                add("ROUTE", "Route of Administration", rt[0], rt[1], "CDISC CT")
        for name in names:
            iv = t.intervention(name)
            if iv is None or not iv.form:
                continue
            form = dose_form(iv.form)
            if form is not None:
                add("DOSFRM", "Dose Form", form.submission, form.code, "CDISC CT")
            else:
                add("DOSFRM", "Dose Form", ascii_text(iv.form.upper()))

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


_OBJECTIVE_TS = (
    (ObjectiveLevel.PRIMARY, "OBJPRIM", "Trial Primary Objective"),
    (ObjectiveLevel.SECONDARY, "OBJSEC", "Trial Secondary Objective"),
    (ObjectiveLevel.EXPLORATORY, "OBJEXP", "Trial Exploratory Objective"),
)
_OUTCOME_TS = (
    (ObjectiveLevel.PRIMARY, "OUTMSPRI", "Primary Outcome Measure"),
    (ObjectiveLevel.SECONDARY, "OUTMSSEC", "Secondary Outcome Measure"),
    (ObjectiveLevel.EXPLORATORY, "OUTMSEXP", "Exploratory Outcome Measure"),
)
# CDISC CT Unit (C71620) submission values of the dose units the language writes.
_UNIT_CT = {
    "ug": ("ug", "C48152"),
    "mg": ("mg", "C28253"),
    "g": ("g", "C48155"),
    "kg": ("kg", "C28252"),
    "mL": ("mL", "C28254"),
    "L": ("L", "C48505"),
    "U": ("U", "C44278"),
    "[iU]": ("IU", "C48579"),
    "[IU]": ("IU", "C48579"),
    "%": ("%", "C25613"),
    "mg/kg": ("mg/kg", "C67401"),
    "ug/kg": ("ug/kg", "C67396"),
    "mg/m2": ("mg/m2", "C67402"),
}
# CDISC CT Route of Administration (C66729).
_ROUTE_CT = {
    "oral": ("ORAL", "C38288"),
    "intravenous": ("INTRAVENOUS", "C38276"),
    "subcutaneous": ("SUBCUTANEOUS", "C38299"),
    "intramuscular": ("INTRAMUSCULAR", "C28161"),
    "transdermal": ("TRANSDERMAL", "C38305"),
    "topical": ("TOPICAL", "C38304"),
    "inhalation": ("RESPIRATORY (INHALATION)", "C38216"),
    "intrathecal": ("INTRATHECAL", "C38267"),
    "nasal": ("NASAL", "C38284"),
    "rectal": ("RECTAL", "C38295"),
    "sublingual": ("SUBLINGUAL", "C38300"),
}
# CDISC CT Frequency (C71113) by interval in days (hours as fractions).
_FREQ_CT = {
    0.5: ("Q12H", "C64502"),
    1.0: ("QD", "C25473"),
    2.0: ("QOD", "C64525"),
    3.0: ("Q3D", "C64533"),
    7.0: ("EVERY WEEK", "C67069"),
    14.0: ("EVERY 2 WEEKS", "C71127"),
    21.0: ("EVERY 3 WEEKS", "C64535"),
    28.0: ("EVERY 4 WEEKS", "C64529"),
    42.0: ("EVERY 6 WEEKS", "C89788"),
    56.0: ("EVERY 8 WEEKS", "C103389"),
}


def _frequency_ct(interval: Duration | None) -> tuple[str, str] | None:
    if interval is None:
        return ("ONCE", "C64576")
    if interval.unit is TimeUnit.MONTH:
        return {1.0: ("QM", "C64498"), 2.0: ("Q2M", "C64536"), 3.0: ("Q3M", "C64537")}.get(float(interval.amount))
    return _FREQ_CT.get(round(interval.days(), 6))


def _randomization_quotient(trial: Trial) -> float | None:
    """RANDQT: the share of randomized participants planned to receive the investigational
    therapy, from the stated allocation ratio (None when no ratio is stated)."""
    ratio = allocation_ratio(trial)
    if trial.allocation is not Allocation.RANDOMIZED or ratio is None:
        return None
    parts = sum(p for a, p in zip(trial.arms, ratio, strict=True) if a.type is ArmType.EXPERIMENTAL)
    return parts / sum(ratio)


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

