"""How the names of a protocol read in a document: data items, interventions, anchors, units.

The protocol file names things with identifiers (`alt`, `peg_ifn`, `end_of_treatment`); a
document uses their labels, or the conventional abbreviation of a short laboratory name (ALT).
Everything here takes a `protocol.Trial` and nothing else.
"""

from __future__ import annotations

import re

from protocol.design import DataItem
from protocol.expr import (
    AggregateFn,
    AnchorRef,
    DoseAnchor,
    EventAnchor,
    NamedAnchor,
    PeriodDoseAnchor,
)
from protocol.timing import Calendar, DayPoint, Duration, TimeUnit, Window
from protocol.trial import Trial
from protocol.vocab import DataKind

# UCUM codes as a reader expects to see them printed.
_UNIT_DISPLAY = {
    "ug": "µg",
    "umol/L": "µmol/L",
    "10*9/L": "× 10⁹/L",
    "10*12/L": "× 10¹²/L",
    "10*6/L": "× 10⁶/L",
    "10*3/uL": "× 10³/µL",
    "m[iU]/L": "mIU/L",
    "m[IU]/L": "mIU/L",
    "u[IU]/mL": "µIU/mL",
    "[iU]/L": "IU/L",
    "[IU]/L": "IU/L",
    "uL": "µL",
    "ug/L": "µg/L",
    "ug/mL": "µg/mL",
    "mm[Hg]": "mmHg",
    "[lb_av]": "lb",
    "Cel": "°C",
    "/min": "/min",
    "1": "",
    "kg/m2": "kg/m²",
    "m2": "m²",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "mL/min/(1.73.m2)": "mL/min/1.73 m²",
}

# Time units are words in a document: `50 years`, never `50 a`.
_TIME_WORDS = {"a": "year", "mo": "month", "wk": "week", "d": "day", "h": "hour", "min": "minute"}

_OP_SYMBOL = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}

_WORDS = {
    0: "zero",
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
}


def num(x: float) -> str:
    """A number as a protocol prints it: `3`, `2.5`, `0.05` (never `3.0`)."""
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return f"{x:.6g}"


def op_symbol(op: str) -> str:
    return _OP_SYMBOL.get(op, op)


def unit_display(code: str | None) -> str:
    if not code:
        return ""
    return _UNIT_DISPLAY.get(code, code)


def quantity_display(value: float, unit: str | None) -> str:
    if unit in _TIME_WORDS:
        word = _TIME_WORDS[unit]
        return f"{num(value)} {word if float(value) == 1 else word + 's'}"
    shown = unit_display(unit)
    if not shown:
        return num(value)
    if shown.startswith("×") or shown == "%":
        return f"{num(value)}{'' if shown == '%' else ' '}{shown}"
    return f"{num(value)} {shown}"


def duration_text(d: Duration) -> str:
    return f"{num(d.amount)} {d.unit.word(d.amount)}"


def window_text(w: Window | None) -> str:
    """`±2 days`, `−2 to +3 days`; empty when there is no window."""
    if w is None:
        return ""
    if w.symmetric:
        if w.before == 0:
            return ""
        return f"±{num(w.before)} {w.unit.word(w.before)}"
    # a range is plural whatever its ends: `−1 to +0 days`
    return f"−{num(w.before)} to +{num(w.after)} {w.unit.word(2)}"


def daypoint_text(p: DayPoint) -> str:
    return f"{p.unit.value} {signed(p.value)}"


def signed(x: float) -> str:
    """Negative numbers with a true minus sign, as typeset documents print them."""
    return ("−" + num(-x)) if x < 0 else num(x)


def points_text(points: tuple[DayPoint, ...]) -> str:
    """`months 3, 6 and 12` when the unit is shared, else `day 1, week 2 and month 3`."""
    if not points:
        return ""
    units = {p.unit for p in points}
    if len(units) == 1:
        unit = points[0].unit
        values = [signed(p.value) for p in points]
        word = unit.value + ("s" if len(values) > 1 else "")
        return f"{word} {join_and(values)}"
    return join_and([daypoint_text(p) for p in points])


def join_and(parts: list[str], conj: str = "and") -> str:
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def plural(phrase: str) -> str:
    """Pluralise the head noun of a short noun phrase (the last word, or the word before `of`)."""
    words = phrase.split(" ")
    idx = len(words) - 1
    if "of" in words[1:]:
        idx = words.index("of", 1) - 1
    w = words[idx]
    if w.endswith(("s", "x", "ch", "sh")):
        w = w + "es" if not w.endswith("s") else w
    elif w.endswith("y") and len(w) > 1 and w[-2] not in "aeiou":
        w = w[:-1] + "ies"
    else:
        w = w + "s"
    words[idx] = w
    return " ".join(words)


def sentence_case(text: str) -> str:
    """The first letter upper-cased, after any opening parenthesis: `(The larger of ...`; a
    first word with a capital inside (`eGFR`, `pH`, `mRNA`) is written as its authors write it,
    even at the start of a sentence."""
    start = len(text) - len(text.lstrip("(["))
    first = text[start:].split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):
        return text
    return text[:start] + text[start:start + 1].upper() + text[start + 1:]


def lower_first(text: str) -> str:
    """Lower-case a label's first letter unless it starts an acronym or a proper name."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if len(first) > 1 and (first[1:2].isupper() or any(c.isdigit() for c in first)):
        return text
    return text[:1].lower() + text[1:]


def word_number(n: float) -> str:
    return _WORDS.get(int(n), num(n)) if float(n).is_integer() else num(n)


_ABBREV_KINDS = (DataKind.LAB, DataKind.VITAL, DataKind.SCORE, DataKind.MARKER)


def initials(label: str) -> str:
    """The first letters of a label's words, upper case: SBP for `Systolic blood pressure`."""
    return "".join(word[0] for word in re.split(r"[\s\-/]+", label) if word).upper()


class Terms:
    """The reader's names for what a Trial's identifiers denote."""

    def __init__(self, trial: Trial):
        self.trial = trial
        self.calendar: Calendar = trial.calendar
        self._anchor_labels: dict[str, str] = {}
        self._visit_labels: dict[str, str] = {}
        if trial.schedule is not None:
            for decl in trial.schedule.anchors:
                if decl.label:
                    self._anchor_labels[decl.name] = decl.label
            for v in trial.schedule.visits + trial.schedule.period_visits:
                self._visit_labels[v.name] = v.label

    # ---- data items ------------------------------------------------------------------------

    def item(self, name: str) -> DataItem | None:
        return self.trial.data_item(name)

    def abbreviation(self, name: str) -> str | None:
        """ALT for `alt` (a short laboratory name), when the label does not already say it."""
        item = self.item(name)
        if item is None or item.kind not in _ABBREV_KINDS:
            return None
        if not (2 <= len(name) <= 5 and name.isalpha()):
            return None
        if re.search(rf"\b{re.escape(name.upper())}\b", item.label):
            return None
        if re.search(rf"\b{re.escape(name)}\b", item.label, re.IGNORECASE):
            return None  # a word of the label (`pulse`, Pulse rate), not an abbreviation
        if item.kind is DataKind.VITAL and name.upper() != initials(item.label):
            # Vital-sign names are usually SDTM test codes (`sysbp`, `diabp`, `temp`), which no
            # protocol prints; the abbreviations writers use for vitals are the label's
            # initials (SBP, DBP, HR), so only those are shown.
            return None
        return name.upper()

    def term(self, name: str) -> str:
        """How a data item is named in running text: `ALT`, `ECOG performance status`."""
        item = self.item(name)
        if item is None:
            return name.replace("_", " ")
        abbrev = self.abbreviation(name)
        if abbrev:
            return abbrev
        label = item.label
        # a long explanatory parenthesis belongs in the data table, not in every sentence
        if len(label) > 40 and label.endswith(")") and " (" in label:
            label = label[: label.index(" (")]
        return lower_first(label)

    def term_full(self, name: str) -> str:
        """The label with its abbreviation: `Alanine aminotransferase (ALT)`."""
        item = self.item(name)
        if item is None:
            return name.replace("_", " ")
        abbrev = self.abbreviation(name)
        if not abbrev:
            return item.label
        m = re.fullmatch(r"(.*\S)\s*\(([^()]+)\)", item.label)
        if m and abbrev not in m.group(2):
            # `Alanine aminotransferase (SGPT)` becomes `Alanine aminotransferase (ALT/SGPT)`
            return f"{m.group(1)} ({abbrev}/{m.group(2)})"
        return f"{item.label} ({abbrev})" if abbrev not in item.label else item.label

    def abbreviations(self) -> list[tuple[str, str]]:
        out = []
        for item in self.trial.data:
            abbrev = self.abbreviation(item.name)
            if abbrev:
                out.append((abbrev, item.label))
        return out

    def value(self, name: str | None, value: str) -> str:
        """A categorical value as written (`CR1`); the item's name is kept for context."""
        return value

    def unit_of(self, name: str) -> str | None:
        item = self.item(name)
        return item.unit if item else None

    # ---- interventions, arms, visits, anchors ----------------------------------------------

    def intervention(self, name: str) -> str:
        iv = self.trial.intervention(name)
        return iv.label if iv else name.replace("_", " ")

    def arm(self, name: str) -> str:
        arm = self.trial.arm(name)
        return arm.label if arm else name.replace("_", " ")

    def visit(self, name: str) -> str:
        return self._visit_labels.get(name, name.replace("_", " "))

    def anchor_name(self, name: str) -> str:
        """`randomization`, `the End of treatment visit`, `discontinuation of study treatment`."""
        if name in self._anchor_labels:
            return lower_first(self._anchor_labels[name])
        if name in self._visit_labels:
            return f"the {self._visit_labels[name]} visit"
        if self.trial.intervention(name) is not None:
            return self.intervention(name)
        return name.replace("_", " ")

    def anchor(self, ref: AnchorRef) -> str:
        if isinstance(ref, NamedAnchor):
            return self.anchor_name(ref.name)
        if isinstance(ref, DoseAnchor):
            which = "first" if ref.which is AggregateFn.FIRST else "last"
            return f"the {which} dose of {self.intervention(ref.intervention)}"
        if isinstance(ref, PeriodDoseAnchor):
            which = "first" if ref.which is AggregateFn.FIRST else "last"
            sched = self.trial.schedule
            block = sched.periods if sched is not None else None
            period = block.period_label(ref.period) if block is not None else f"period {ref.period}"
            return f"the {which} dose of {period}"
        assert isinstance(ref, EventAnchor)
        which = {
            AggregateFn.FIRST: "first",
            AggregateFn.LATEST: "most recent",
            AggregateFn.LOWEST: "lowest",
            AggregateFn.HIGHEST: "highest",
        }[ref.which]
        return f"the {which} {self.event_noun(ref.kind)}"

    def event_noun(self, kind: str) -> str:
        """A data item as a countable event: `remission status` -> `remission`."""
        term = self.term(kind)
        for suffix in (" status", " result", " value"):
            if term.endswith(suffix):
                return term[: -len(suffix)]
        return term

    def days(self, amount: float, unit: TimeUnit) -> float:
        return self.calendar.days(amount, unit)
