"""The SDTM mapping file: SDTM codes to the protocol's names (arm codes, visit numbers, test
codes, treatments, dispositions, AE grading), read from TOML and checked against the protocol.
The format is documented in docs/patient-data.md; examples/cdiscpilot01/sdtm-map.toml is one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import attrs

from engine.io.dates import DateProblem, timepoint_code
from engine.io.sdtm_read import FINDINGS, SdtmError
from engine.io.sdtm_read import text as _text
from engine.io.vocabulary import Vocabulary, did_you_mean, one_of
from engine.patient import DISPOSITION_EFFECTS
from protocol.trial import Trial

__all__ = ["AnchorRule", "DerivedSum", "MapError", "SdtmMap", "TestRule", "load_map",
           "map_from_dict", "number_text"]


class MapError(SdtmError):
    """The mapping file is wrong: every problem is listed, each naming its key."""


@attrs.frozen
class DerivedSum:
    """An observation derived as the sum of item scores at one visit (MMSE = MMITM01..06)."""

    kind: str
    domain: str
    items: tuple[str, ...]


@attrs.frozen
class TestRule:
    """A test code's rows that become `item`: all of them, or those whose variables have the
    listed values (`when = { VSPOS = "SUPINE" }`)."""

    item: str
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def matches(self, row: dict[str, Any]) -> bool:
        return all(_text(row, var) in values for var, values in self.when)


@attrs.frozen
class AnchorRule:
    """Where an anchor's date comes from: a DM date variable, or the first DS record whose
    DSDECOD is in `ds_decod` (or, with `ds_decod_except`, any DSDECOD but those) in `ds_category`.
    With both, the date comes from DM and the DS condition says which subjects have the anchor
    (`dm = "RFXENDTC"` for the subjects whose disposition is not COMPLETED)."""

    name: str
    dm: str | None = None
    ds_decod: tuple[str, ...] = ()
    ds_decod_except: tuple[str, ...] = ()
    ds_category: str | None = None

    @property
    def ds_condition(self) -> bool:
        return bool(self.ds_decod or self.ds_decod_except)

    def matches(self, decod: str, category: str) -> bool:
        """Whether a DS record with this DSDECOD and DSCAT meets the rule's DS condition."""
        if self.ds_category is not None and category != self.ds_category:
            return False
        if self.ds_decod:
            return decod in self.ds_decod
        return bool(self.ds_decod_except) and decod not in self.ds_decod_except


@attrs.frozen
class SdtmMap:
    """SDTM codes to protocol names. Empty tables mean: use the SDTM code itself (lower-cased
    for test codes); see docs/patient-data.md."""

    source: str = "<default map>"
    arm_variable: str = "ARMCD"
    arms: dict[str, str | None] = attrs.field(factory=dict)
    visits: dict[float, str] = attrs.field(factory=dict)
    interventions: dict[str, str] = attrs.field(factory=dict)
    tests: dict[str, dict[str, tuple[TestRule, ...]]] = attrs.field(factory=dict)
    derived: tuple[DerivedSum, ...] = ()
    anchors: tuple[AnchorRule, ...] = (AnchorRule("randomization", dm="RFSTDTC"),)
    disposition: dict[str, str] = attrs.field(factory=dict)
    # DSDECOD -> the effect the map states for it (`withdraw`, `discontinue`, `none`)
    disposition_effects: dict[str, str] = attrs.field(factory=dict)
    ae_term: str = "AEDECOD"
    ae_grade: dict[str, int] = attrs.field(factory=dict)
    ae_related: dict[str, str] = attrs.field(factory=dict)
    units: dict[str, str] = attrs.field(factory=dict)
    # --TPT text or --TPTNUM -> the protocol's timepoint code (PREDOSE, PT30M)
    timepoints: dict[str, str] = attrs.field(factory=dict)

    def check(self, trial: Trial) -> None:
        """Raise MapError if the map names an arm, visit or intervention the protocol lacks."""
        vocab = Vocabulary.from_trial(trial)
        problems: list[str] = []

        def need(table: str, key: object, name: str | None, known: frozenset[str]) -> None:
            if name is not None and known and name not in known:
                problems.append(
                    f"[{table}] {key} = '{name}': the protocol has no {table[:-1]} '{name}'"
                    f"{did_you_mean(name, known)}; it has {one_of(known)}"
                )

        for code, arm in self.arms.items():
            need("arms", code, arm, vocab.arms)
        for num, visit in self.visits.items():
            need("visits", f"{num:g}", visit, vocab.visits)
        for trt, name in self.interventions.items():
            need("interventions", trt, name, vocab.interventions)
        if problems:
            raise MapError(
                f"{self.source}: " + "\n  ".join(["the map does not fit the protocol:"] + problems)
            )


def load_map(path: str | Path) -> SdtmMap:
    """Read and check a mapping file. Raises MapError listing every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MapError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MapError(f"{path}: not valid TOML: {exc}") from None
    return map_from_dict(data, str(path))


_MAP_KEYS = {
    "study",
    "arms",
    "visits",
    "interventions",
    "tests",
    "derived",
    "anchors",
    "disposition",
    "adverse_events",
    "units",
    "timepoints",
}


def _test_rules(spec: Any, where: str, problems: list[str]) -> tuple[TestRule, ...]:
    """`"alt"`, `{ item = "sysbp", when = { VSPOS = "SUPINE" } }`, or a list of such tables."""
    if isinstance(spec, str) and spec:
        return (TestRule(spec),)
    specs = spec if isinstance(spec, list) else [spec]
    rules = []
    for one in specs:
        if not isinstance(one, dict) or not isinstance(one.get("item"), str):
            problems.append(
                f'{where}: expected a name, or {{ item = "name", when = {{ VAR = "value" }} }}'
            )
            return ()
        unknown = set(one) - {"item", "when"}
        when = one.get("when", {})
        if unknown or not isinstance(when, dict):
            problems.append(f"{where}: a test rule has only item and when = {{ VAR = value(s) }}")
            return ()
        conditions = []
        for var, values in when.items():
            vals = values if isinstance(values, list) else [values]
            conditions.append((str(var), tuple(str(v) for v in vals)))
        rules.append(TestRule(one["item"], tuple(conditions)))
    return tuple(rules)


def map_from_dict(data: dict[str, Any], source: str = "<map>") -> SdtmMap:
    problems: list[str] = []

    def table(key: str, parent: dict[str, Any] = data, where: str = "") -> dict[str, Any]:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            problems.append(f"[{where}{key}] must be a table")
            return {}
        return value

    def strings(tab: dict[str, Any], where: str, allow_empty: bool = False) -> dict[str, str]:
        out = {}
        for k, v in tab.items():
            if not isinstance(v, str) or (not v and not allow_empty):
                problems.append(f"[{where}] {k}: expected a name as a string, got {v!r}")
            else:
                out[str(k)] = v
        return out

    for key in sorted(set(data) - _MAP_KEYS):
        problems.append(f"unknown table [{key}]{did_you_mean(key, _MAP_KEYS)}")

    study = table("study")
    arm_variable = study.get("arm_variable", "ARMCD")
    if arm_variable not in ("ARMCD", "ACTARMCD"):
        problems.append(f"[study] arm_variable must be ARMCD or ACTARMCD, not {arm_variable!r}")

    arms = {k: (v or None) for k, v in strings(table("arms"), "arms", allow_empty=True).items()}

    visits: dict[float, str] = {}
    for k, v in strings(table("visits"), "visits").items():
        try:
            visits[float(k)] = v
        except ValueError:
            problems.append(f'[visits] \'{k}\': keys are VISITNUM numbers such as "3" or "3.5"')

    interventions = strings(table("interventions"), "interventions")

    tests: dict[str, dict[str, tuple[TestRule, ...]]] = {}
    for dom, tab in table("tests").items():
        if dom not in FINDINGS:
            problems.append(f"[tests.{dom}]: tests can be mapped for {', '.join(FINDINGS)}")
        elif not isinstance(tab, dict):
            problems.append(f"[tests.{dom}] must be a table")
        else:
            tests[dom] = {}
            for code, spec in tab.items():
                rules = _test_rules(spec, f"[tests.{dom}] {code}", problems)
                if rules:
                    tests[dom][str(code)] = rules

    derived: list[DerivedSum] = []
    for kind, spec in table("derived").items():
        if not isinstance(spec, dict) or not isinstance(spec.get("sum"), list):
            problems.append(f'[derived.{kind}] needs sum = ["ITEM1", ...] and domain = "QS"')
            continue
        dom = spec.get("domain", "QS")
        if dom not in FINDINGS:
            problems.append(f"[derived.{kind}] domain must be one of {', '.join(FINDINGS)}")
            continue
        derived.append(DerivedSum(kind, dom, tuple(str(x) for x in spec["sum"])))

    anchors: list[AnchorRule] = []
    raw_anchors = table("anchors") or {"randomization": {"dm": "RFSTDTC"}}
    for name, spec in raw_anchors.items():
        if not isinstance(spec, dict):
            problems.append(f"[anchors.{name}] must be a table")
            continue
        unknown = set(spec) - {"dm", "ds_decod", "ds_decod_except", "ds_category"}
        if unknown:
            problems.append(f"[anchors.{name}] unknown key '{sorted(unknown)[0]}'")
        rule = AnchorRule(
            name,
            dm=spec.get("dm"),
            ds_decod=tuple(spec.get("ds_decod", ())),
            ds_decod_except=tuple(spec.get("ds_decod_except", ())),
            ds_category=spec.get("ds_category"),
        )
        if rule.dm is None and not rule.ds_condition:
            problems.append(
                f'[anchors.{name}] needs a source: dm = "RFSTDTC", or ds_decod / ds_decod_except'
            )
        if rule.ds_decod and rule.ds_decod_except:
            problems.append(f"[anchors.{name}] has both ds_decod and ds_decod_except")
        anchors.append(rule)

    # DSDECOD -> status, or -> { status = "...", effect = "withdraw" | "discontinue" | "none" }
    disposition: dict[str, str] = {}
    disposition_effects: dict[str, str] = {}
    effects = ", ".join(f'"{e}"' for e in DISPOSITION_EFFECTS)
    for k, v in table("disposition").items():
        if isinstance(v, dict):
            extra = sorted(set(v) - {"status", "effect"})
            status, effect = v.get("status"), v.get("effect")
            if extra:
                problems.append(f"[disposition] {k}: unknown key '{extra[0]}' (status, effect)")
            elif not isinstance(status, str) or not status:
                problems.append(f"[disposition] {k}: status must be a non-empty string, "
                                f"got {status!r}")
            elif effect is not None and effect not in DISPOSITION_EFFECTS:
                problems.append(f"[disposition] {k}: effect must be one of {effects}, "
                                f"got {effect!r}")
            else:
                disposition[str(k)] = status
                if effect is not None:
                    disposition_effects[str(k)] = effect
        elif isinstance(v, str) and v:
            disposition[str(k)] = v
        else:
            problems.append(f"[disposition] {k}: expected a status as a string, or "
                            f'{{ status = "...", effect = ... }}, got {v!r}')
    units = strings(table("units"), "units")
    timepoints: dict[str, str] = {}
    for k, v in strings(table("timepoints"), "timepoints").items():
        try:
            timepoints[number_text(k)] = timepoint_code(v)
        except DateProblem as exc:
            problems.append(f'[timepoints] "{k}": {exc} (or "predose")')

    ae = table("adverse_events")
    grade: dict[str, int] = {}
    for k, v in table("grade", ae, "adverse_events.").items():
        if isinstance(v, int) and 1 <= v <= 5:
            grade[str(k)] = v
        else:
            problems.append(f"[adverse_events.grade] {k}: expected a grade 1 to 5, got {v!r}")
    related = strings(table("related", ae, "adverse_events."), "adverse_events.related")
    term = ae.get("term", "AEDECOD")
    if term not in ("AEDECOD", "AETERM"):
        problems.append(f"[adverse_events] term must be AEDECOD or AETERM, not {term!r}")

    if problems:
        raise MapError(f"{source}: " + "\n  ".join(["problems in the map:"] + problems))
    return SdtmMap(
        source=source,
        arm_variable=arm_variable,
        arms=arms,
        visits=visits,
        interventions=interventions,
        tests=tests,
        derived=tuple(derived),
        anchors=tuple(anchors),
        disposition=disposition,
        disposition_effects=disposition_effects,
        ae_term=term,
        ae_grade=grade,
        ae_related=related,
        units=units,
        timepoints=timepoints,
    )


def number_text(text: str) -> str:
    """`2` for a number written `2`, `2.0` or `2.00` (CSV numbers), else the text: the key of
    a --TPTNUM in the map's [timepoints]."""
    try:
        return f"{float(text):g}"
    except ValueError:
        return text
