"""CDISC USDM 4.0 JSON (the `Wrapper` of the DDF API) from a Trial.

The structure follows CDISC's own encodings (ids `Class_n`, NCI concept codes from the CDISC
controlled terminology the `usdm4` rules check against). The layout of arms, epochs, elements
and cells comes from `render.design`, and the encounters are the columns of the schedule of
activities grid (`render.soa`), so the export and the document agree. What the protocol states
computably and USDM has no attribute for travels in extension attributes:

- `urn:trialcode:usdm:criterion-expression` on each EligibilityCriterionItem: the criterion's
  expression tree as JSON (see `expression_json`);
- `urn:trialcode:usdm:repeat`: the frequency of an activity that repeats (`every 7 days ...`);
- `urn:trialcode:usdm:dose`: the dose of an administration whose intervention has no dosage
  form in CDISC CT (USDM takes a dose only together with an administrable product);
- `urn:trialcode:usdm:relative-timing`: the anchor of a visit timed from another event;
- `urn:trialcode:usdm:visit-number`: the protocol's number of a visit (SDTM VISITNUM), on its
  encounter;
- `urn:trialcode:usdm:allocation-ratio`: the allocation ratio (`1:1:1`, arms in order) on the
  study design, and each arm's part of it on the arm;
- `urn:trialcode:usdm:dose-form`: a dosage form that matches no CDISC CT term, as written;
- `urn:trialcode:usdm:definition` and `urn:trialcode:usdm:table` on the study design: each
  named definition (its expression as JSON, and its prose) and each lookup table (its rows),
  which criterion expressions refer to by name.
"""

from __future__ import annotations

import enum
import json
import uuid
from typing import Any

import attrs
from markupsafe import escape

from protocol.design import Intervention
from protocol.schedule import (
    AfterAnchor,
    AsNeeded,
    AtDay,
    DayRange,
    DoseOnDays,
    OnEvent,
    Periods,
    Visit,
)
from protocol.timing import PREDOSE, Duration, TimeUnit, Window, elapsed_code
from protocol.trial import Trial
from protocol.vocab import (
    Allocation,
    ArmType,
    DesignModel,
    InterventionType,
    MaskingLevel,
    ObjectiveLevel,
    Purpose,
    Route,
    Sex,
    SponsorClass,
    StudyType,
)
from render.design import (
    allocation_ratio,
    anchor_days,
    build_matrix,
    iso_duration,
    period_bounds,
    period_epoch,
    period_item_days,
    ratio_text,
    washout_text,
)
from render.doseform import dose_form
from render.prose import Prose
from render.soa import build_grid
from render.terms import duration_text, num, sentence_case, window_text

USDM_VERSION = "4.0.0"
CDISC = "http://www.cdisc.org"
CT_VERSION = "2026-03-27"  # the CDISC CT package the usdm4 0.29 rules check codes against
EXT = "urn:trialcode:usdm:"

_ARM_TYPE = {
    ArmType.EXPERIMENTAL: ("C174266", "Investigational Arm"),
    ArmType.ACTIVE_COMPARATOR: ("C174267", "Active Comparator Arm"),
    ArmType.PLACEBO_COMPARATOR: ("C174268", "Placebo Control Arm"),
    ArmType.SHAM_COMPARATOR: ("C174269", "Sham Comparator Arm"),
    ArmType.NO_INTERVENTION: ("C174270", "No Intervention Arm"),
    ArmType.OTHER: ("C15538", "Protocol Treatment Arm"),
}
_PHASE = {
    "1": ("C15600", "Phase I Trial"),
    "2": ("C15601", "Phase II Trial"),
    "3": ("C15602", "Phase III Trial"),
    "4": ("C15603", "Phase IV Trial"),
    "1/2": ("C15693", "Phase I/II Trial"),
    "2/3": ("C15694", "Phase II/III Trial"),
    "na": ("C48660", "Not Applicable"),
    "early_1": ("C54721", "Early Phase 1 Trial"),
}
_STUDY_TYPE = {
    StudyType.INTERVENTIONAL: ("C98388", "Interventional Study"),
    StudyType.OBSERVATIONAL: ("C16084", "Observational Study"),
    StudyType.EXPANDED_ACCESS: ("C98722", "Expanded Access Study"),
}
_MODEL = {
    DesignModel.PARALLEL: ("C82639", "Parallel Study"),
    DesignModel.CROSSOVER: ("C82637", "Crossover Study"),
    DesignModel.FACTORIAL: ("C82638", "Factorial Study"),
    DesignModel.SINGLE_GROUP: ("C82640", "Single Group Study"),
    DesignModel.SEQUENTIAL: ("C142568", "Group Sequential Design"),
}
_INTENT = {
    Purpose.TREATMENT: ("C49656", "Treatment Study"),
    Purpose.PREVENTION: ("C49657", "Prevention Study"),
    Purpose.DIAGNOSTIC: ("C49653", "Diagnosis Study"),
    Purpose.SUPPORTIVE_CARE: ("C71486", "Supportive Care Study"),
    Purpose.SCREENING: ("C71485", "Screening Study"),
    Purpose.HEALTH_SERVICES_RESEARCH: ("C15245", "Health Services Research"),
    Purpose.BASIC_SCIENCE: ("C15714", "Basic Research"),
    Purpose.DEVICE_FEASIBILITY: ("C139174", "Device Feasibility Study"),
}
_BLINDING = {
    MaskingLevel.NONE: ("C49659", "Open Label Study"),
    MaskingLevel.SINGLE: ("C28233", "Single Blind Study"),
    MaskingLevel.DOUBLE: ("C15228", "Double Blind Study"),
    MaskingLevel.TRIPLE: ("C15228", "Double Blind Study"),
    MaskingLevel.QUADRUPLE: ("C15228", "Double Blind Study"),
}
_INTERVENTION_TYPE = {
    InterventionType.DRUG: ("C1909", "Pharmacologic Substance"),
    InterventionType.BIOLOGICAL: ("C307", "Biological Agent"),
    InterventionType.DEVICE: ("C16830", "Medical Device"),
    InterventionType.PROCEDURE: ("C98769", "Physical Medical Procedure"),
    InterventionType.RADIATION: ("C15313", "Radiation Therapy"),
    InterventionType.BEHAVIORAL: ("C15184", "Behavioral Intervention"),
    InterventionType.GENETIC: ("C15238", "Gene Therapy"),
    InterventionType.DIETARY_SUPPLEMENT: ("C1505", "Dietary Supplement"),
    InterventionType.COMBINATION_PRODUCT: ("C54696", "Combination Product"),
    InterventionType.DIAGNOSTIC_TEST: ("C18020", "Diagnostic Procedure"),
    InterventionType.OTHER: ("C1909", "Pharmacologic Substance"),
}
_ROUTE = {
    Route.ORAL: ("C38288", "Oral Route of Administration"),
    Route.INTRAVENOUS: ("C38276", "Intravenous Route of Administration"),
    Route.SUBCUTANEOUS: ("C38299", "Subcutaneous Route of Administration"),
    Route.INTRAMUSCULAR: ("C28161", "Intramuscular Route of Administration"),
    Route.TRANSDERMAL: ("C38305", "Transdermal Route of Administration"),
    Route.TOPICAL: ("C38304", "Topical Route of Administration"),
    Route.INHALATION: ("C38216", "Inhalation Route of Administration"),
    Route.INTRATHECAL: ("C38267", "Intrathecal Route of Administration"),
    Route.NASAL: ("C38284", "Nasal Route of Administration"),
    Route.RECTAL: ("C38295", "Rectal Route of Administration"),
    Route.SUBLINGUAL: ("C38300", "Sublingual Route of Administration"),
}
_UNIT = {
    "ug": ("C48152", "Microgram"),
    "mg": ("C28253", "Milligram"),
    "g": ("C48155", "Gram"),
    "kg": ("C28252", "Kilogram"),
    "mL": ("C28254", "Milliliter"),
    "L": ("C48505", "Liter"),
    "U": ("C44278", "Unit"),
    "[iU]": ("C48579", "International Unit"),
    "[IU]": ("C48579", "International Unit"),
    "%": ("C25613", "Percentage"),
    "mg/kg": ("C67401", "Milligram per Kilogram"),
    "ug/kg": ("C67396", "Microgram per Kilogram"),
    "mg/m2": ("C67402", "Milligram per Square Meter"),
}
_TIME_UNIT = {
    TimeUnit.MINUTE: ("C48154", "Minute"),
    TimeUnit.HOUR: ("C25529", "Hour"),
    TimeUnit.DAY: ("C25301", "Day"),
    TimeUnit.WEEK: ("C29844", "Week"),
    TimeUnit.MONTH: ("C29846", "Month"),
    TimeUnit.YEAR: ("C29848", "Year"),
}
_FREQUENCY = {
    (1.0, TimeUnit.DAY): ("C25473", "Daily"),
    (1.0, TimeUnit.WEEK): ("C67069", "Weekly"),
    (7.0, TimeUnit.DAY): ("C67069", "Weekly"),
    (2.0, TimeUnit.WEEK): ("C71127", "Every Two Weeks"),
    (14.0, TimeUnit.DAY): ("C71127", "Every Two Weeks"),
    (1.0, TimeUnit.MONTH): ("C64498", "Monthly"),
    (3.0, TimeUnit.MONTH): ("C64537", "Every Three Months"),
    (12.0, TimeUnit.HOUR): ("C64502", "Every Twelve Hours"),
}
_OBJECTIVE = {
    ObjectiveLevel.PRIMARY: ("C85826", "Trial Primary Objective"),
    ObjectiveLevel.SECONDARY: ("C85827", "Trial Secondary Objective"),
    ObjectiveLevel.EXPLORATORY: ("C163559", "Trial Exploratory Objective"),
}
_ENDPOINT = {
    ObjectiveLevel.PRIMARY: ("C94496", "Primary Endpoint"),
    ObjectiveLevel.SECONDARY: ("C139173", "Secondary Endpoint"),
    ObjectiveLevel.EXPLORATORY: ("C170559", "Exploratory Endpoint"),
}
_ORG_TYPE = {
    SponsorClass.INDUSTRY: ("C54149", "Drug Company"),
    SponsorClass.NIH: ("C199144", "Governmental Agency or Group"),
    SponsorClass.FED: ("C199144", "Governmental Agency or Group"),
    SponsorClass.OTHER_GOV: ("C199144", "Governmental Agency or Group"),
    SponsorClass.NETWORK: ("C18240", "Academia"),
    SponsorClass.INDIV: ("C21541", "Healthcare Facility"),
    SponsorClass.OTHER: ("C21541", "Healthcare Facility"),
}
_SPONSOR_SCHEMES = ("sponsor_protocol", "org_study_id", "sponsor", "protocol")
_MASKED_ROLE = {
    "participant": ("C41189", "Study Subject"),
    "investigator": ("C25936", "Investigator"),
    "care_provider": ("C17445", "Caregiver"),
    "outcomes_assessor": ("C207599", "Outcomes Assessor"),
}
_REGISTRIES = {
    "nct": ("CT-GOV", "ClinicalTrials.gov", "USGOV"),
    "eudract": ("EMA", "EudraCT", "EU"),
    "euct": ("EMA-CTIS", "EU Clinical Trials Information System", "EU"),
    "ctis": ("EMA-CTIS", "EU Clinical Trials Information System", "EU"),
    "isrctn": ("ISRCTN", "ISRCTN registry", "ISRCTN"),
}


def _epoch_type(name: str, label: str) -> tuple[str, str]:
    key = f"{name} {label}".lower()
    if "screen" in key:
        return ("C202487", "Screening Epoch")
    if "follow" in key:
        return ("C202578", "Follow-Up Epoch")
    if "run" in key and "in" in key:
        return ("C98779", "Run-in Period")
    if "washout" in key:
        return ("C42872", "Washout Period")
    if "baseline" in key:
        return ("C125938", "Baseline Epoch")
    return ("C101526", "Treatment Epoch")


# ---- the computable form of a criterion -------------------------------------------------------


def expression_json(node: Any) -> Any:
    """An expression tree as plain JSON: `{"type": "Compare", "op": "<=", ...}`; spans dropped."""
    if isinstance(node, enum.Enum):
        return node.value
    if isinstance(node, tuple | list):
        return [expression_json(x) for x in node]
    if attrs.has(type(node)):
        out: dict[str, Any] = {"type": type(node).__name__}
        for f in attrs.fields(type(node)):
            if f.name == "span":
                continue
            value = getattr(node, f.name)
            if value is None or value == ():
                continue
            out[f.name] = expression_json(value)
        return out
    if isinstance(node, float) and node.is_integer():
        return int(node)
    return node


# ---- the builder ---------------------------------------------------------------------------------


class _Ids:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def __call__(self, klass: str) -> str:
        n = self.counts.get(klass, 0) + 1
        self.counts[klass] = n
        return f"{klass}_{n}"


class _Usdm:
    def __init__(self, trial: Trial):
        self.t = trial
        self.id = _Ids()
        self.prose = Prose(trial)
        self.terms = self.prose.terms

    # ---- primitive classes -------------------------------------------------------------------

    def code(self, pair: tuple[str, str], system: str = CDISC, version: str = CT_VERSION) -> dict[str, Any]:
        return {
            "id": self.id("Code"),
            "extensionAttributes": [],
            "code": pair[0],
            "codeSystem": system,
            "codeSystemVersion": version,
            "decode": pair[1],
            "instanceType": "Code",
        }

    def alias(self, pair: tuple[str, str]) -> dict[str, Any]:
        return {
            "id": self.id("AliasCode"),
            "extensionAttributes": [],
            "standardCode": self.code(pair),
            "standardCodeAliases": [],
            "instanceType": "AliasCode",
        }

    def quantity(self, value: float, unit: tuple[str, str] | None = None) -> dict[str, Any]:
        return {
            "id": self.id("Quantity"),
            "extensionAttributes": [],
            "value": float(value),
            "unit": self.alias(unit) if unit else None,
            "instanceType": "Quantity",
        }

    def duration(self, d: Duration | None, text: str = "") -> dict[str, Any]:
        return {
            "id": self.id("Duration"),
            "extensionAttributes": [],
            "text": text or (str(d) if d else None),
            "quantity": self.quantity(d.amount, _TIME_UNIT[d.unit]) if d else None,
            "durationWillVary": False,
            "reasonDurationWillVary": None,
            "instanceType": "Duration",
        }

    def ext_string(self, name: str, value: str) -> dict[str, Any]:
        return {
            "id": self.id("ExtensionAttribute"),
            "url": EXT + name,
            "valueString": value,
            "extensionAttributes": [],
            "instanceType": "ExtensionAttribute",
        }

    def definition_extensions(self) -> list[dict[str, Any]]:
        """The protocol's named definitions and tables, which criterion expressions refer to
        by name: each definition's expression and prose, each table's rows."""
        out: list[dict[str, Any]] = []
        for d in self.t.definitions:
            body = {"name": d.name, "label": d.label, "expression": expression_json(d.expr),
                    "prose": self.prose.expr(d.expr)}
            out.append(self.ext_string("definition", json.dumps(body, ensure_ascii=False,
                                                                sort_keys=True)))
        for table in self.t.tables:
            body = {"name": table.name, "label": table.label,
                    "rows": [{"key": r.key, "value": expression_json(r.value)} for r in table.rows]}
            out.append(self.ext_string("table", json.dumps(body, ensure_ascii=False,
                                                           sort_keys=True)))
        return out

    def ext_integer(self, name: str, value: int) -> dict[str, Any]:
        return {
            "id": self.id("ExtensionAttribute"),
            "url": EXT + name,
            "valueInteger": value,
            "extensionAttributes": [],
            "instanceType": "ExtensionAttribute",
        }

    def ext_quantity(self, name: str, q: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.id("ExtensionAttribute"),
            "url": EXT + name,
            "valueQuantity": q,
            "extensionAttributes": [],
            "instanceType": "ExtensionAttribute",
        }

    def rule(self, name: str, text: str) -> dict[str, Any]:
        return {
            "id": self.id("TransitionRule"),
            "extensionAttributes": [],
            "name": name,
            "label": None,
            "description": None,
            "text": text,
            "instanceType": "TransitionRule",
        }

    # ---- the study ---------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        t = self.t
        version_id = "StudyVersion_1"
        orgs, identifiers, sponsor_org = self.organizations()
        design = self.design()
        version = {
            "id": version_id,
            "extensionAttributes": [],
            "versionIdentifier": t.last_updated.isoformat() if t.last_updated else "1",
            "rationale": "Generated by trialcode from the computable protocol.",
            "documentVersionIds": [],
            "dateValues": self.dates(),
            "amendments": [],
            "businessTherapeuticAreas": [],
            "studyIdentifiers": identifiers,
            "referenceIdentifiers": [],
            "studyDesigns": [design],
            "titles": self.titles(),
            "eligibilityCriterionItems": self._criterion_items,
            "narrativeContentItems": [],
            "abbreviations": [],
            "roles": self.roles(version_id, sponsor_org),
            "organizations": orgs,
            "studyInterventions": self._interventions,
            "administrableProducts": self._products,
            "medicalDevices": [],
            "productOrganizationRoles": [],
            "biomedicalConcepts": [],
            "bcCategories": [],
            "bcSurrogates": [],
            "dictionaries": [],
            "conditions": [],
            "notes": [],
            "instanceType": "StudyVersion",
        }
        study = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:trialcode:study:{t.name}")),
            "extensionAttributes": [],
            "name": t.name,
            "description": t.title,
            "label": t.title,
            "versions": [version],
            "documentedBy": [],
            "instanceType": "Study",
        }
        return {
            "study": study,
            "usdmVersion": USDM_VERSION,
            "systemName": "trialcode",
            "systemVersion": _version(),
        }

    def titles(self) -> list[dict[str, Any]]:
        t = self.t
        out = [
            {
                "id": self.id("StudyTitle"),
                "extensionAttributes": [],
                "text": t.title or t.name,
                "type": self.code(("C207616", "Official Study Title")),
                "instanceType": "StudyTitle",
            }
        ]
        return out

    def dates(self) -> list[dict[str, Any]]:
        return []

    def organizations(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        t = self.t
        orgs: list[dict[str, Any]] = []
        identifiers: list[dict[str, Any]] = []

        def org(name: str, label: str, type_: tuple[str, str], scheme: str, ident: str) -> str:
            oid = self.id("Organization")
            orgs.append(
                {
                    "id": oid,
                    "extensionAttributes": [],
                    "name": name,
                    "label": label,
                    "type": self.code(type_),
                    "identifierScheme": scheme,
                    "identifier": ident,
                    "legalAddress": None,
                    "managedSites": [],
                    "instanceType": "Organization",
                }
            )
            return oid

        sponsor_name = t.sponsor.name if t.sponsor else "Sponsor not stated"
        sponsor_class = t.sponsor.org_class if t.sponsor and t.sponsor.org_class else SponsorClass.OTHER
        sponsor_org = org(sponsor_name, sponsor_name, _ORG_TYPE[sponsor_class], "Sponsor name", sponsor_name)
        registry_orgs: dict[str, str] = {}
        sponsor_ids = [i for i in t.identifiers if i.scheme.lower() not in _REGISTRIES]
        own = next((i for i in sponsor_ids if i.scheme.lower() in _SPONSOR_SCHEMES), None)
        own = own or (sponsor_ids[0] if sponsor_ids else None)
        for ident in t.identifiers:
            scheme = ident.scheme.lower()
            if ident is own:
                scope = sponsor_org
            else:
                # a registry, or another identifying body (a data-standards study id, say):
                # USDM allows one sponsor identifier, so each other scheme gets its own scope
                short, label, id_scheme = _REGISTRIES.get(
                    scheme, (scheme.upper(), scheme.replace("_", " "), scheme.upper())
                )
                if short not in registry_orgs:
                    registry_orgs[short] = org(short, label, ("C93453", "Study Registry"), id_scheme, short)
                scope = registry_orgs[short]
            identifiers.append(
                {
                    "id": self.id("StudyIdentifier"),
                    "extensionAttributes": [],
                    "text": ident.value,
                    "scopeId": scope,
                    "instanceType": "StudyIdentifier",
                }
            )
        if not sponsor_ids:
            # every study has a sponsor identifier: the protocol's own name stands in for it
            identifiers.insert(
                0,
                {
                    "id": self.id("StudyIdentifier"),
                    "extensionAttributes": [],
                    "text": t.name,
                    "scopeId": sponsor_org,
                    "instanceType": "StudyIdentifier",
                },
            )
        return orgs, identifiers, sponsor_org

    def roles(self, version_id: str, sponsor_org: str) -> list[dict[str, Any]]:
        masked = []
        m = self.t.masking
        if m is not None and m.level is not MaskingLevel.NONE:
            for r in m.roles:
                pair = _MASKED_ROLE[r.value]
                masked.append(
                    {
                        "id": self.id("StudyRole"),
                        "extensionAttributes": [],
                        "name": r.value.upper(),
                        "label": pair[1],
                        "description": f"{pair[1]}, masked to the assigned intervention",
                        "code": self.code(pair),
                        "appliesToIds": [self._design_id],
                        "assignedPersons": [],
                        "organizationIds": [],
                        "masking": {
                            "id": self.id("Masking"),
                            "extensionAttributes": [],
                            "text": "Masked to the assigned intervention",
                            "isMasked": True,
                            "instanceType": "Masking",
                        },
                        "notes": [],
                        "instanceType": "StudyRole",
                    }
                )
        return masked + [
            {
                "id": self.id("StudyRole"),
                "extensionAttributes": [],
                "name": "SPONSOR",
                "label": "Sponsor",
                "description": None,
                "code": self.code(("C70793", "Clinical Study Sponsor")),
                "appliesToIds": [version_id],
                "assignedPersons": [],
                "organizationIds": [sponsor_org],
                "masking": None,
                "notes": [],
                "instanceType": "StudyRole",
            }
        ]

    # ---- the design ------------------------------------------------------------------------

    def design(self) -> dict[str, Any]:
        t = self.t
        self._design_id = self.id("InterventionalStudyDesign")
        self._interventions = self.interventions()
        arms = self.arms()
        epochs, cells, elements = self.cells(arms)
        crits, items = self.criteria()
        self._criterion_items = items
        encounters, activities, timelines = self.schedule(epochs)
        design: dict[str, Any] = {
            "id": self._design_id,
            "extensionAttributes": (
                [self.ext_string("allocation-ratio", ratio_text(t))] if ratio_text(t) else []
            ) + self.definition_extensions(),
            "name": f"{t.name} design",
            "label": t.title,
            "description": "The study design, generated from the computable protocol",
            "studyType": self.code(_STUDY_TYPE[t.study_type or StudyType.INTERVENTIONAL]),
            "studyPhase": self.alias(_PHASE.get((t.phase.value if t.phase else "na").lower(), _PHASE["na"])),
            "therapeuticAreas": [],
            "characteristics": [self.code(("C46079", "Randomized Controlled Clinical Trial"))]
            if t.allocation is Allocation.RANDOMIZED
            else [],
            "encounters": encounters,
            "activities": activities,
            "arms": arms,
            "studyCells": cells,
            "rationale": "Not stated in the protocol file.",
            "epochs": epochs,
            "elements": elements,
            "estimands": [],
            "indications": self.indications(),
            "studyInterventionIds": [i["id"] for i in self._interventions],
            "objectives": self.objectives(),
            "population": self.population(crits),
            "scheduleTimelines": timelines,
            "biospecimenRetentions": [],
            "documentVersionIds": [],
            "eligibilityCriteria": crits,
            "analysisPopulations": [],
            "notes": [],
            "subTypes": [],
            "model": self.code(_MODEL[t.model or DesignModel.PARALLEL]),
            "intentTypes": [self.code(_INTENT[t.purpose])] if t.purpose in _INTENT else [],
            "blindingSchema": self.alias(_BLINDING[t.masking.level]) if t.masking else None,
            "instanceType": "InterventionalStudyDesign",
        }
        return design

    def indications(self) -> list[dict[str, Any]]:
        return [
            {
                "id": self.id("Indication"),
                "extensionAttributes": [],
                "name": f"IND{i + 1}",
                "label": c,
                "description": c,
                "codes": [],
                "isRareDisease": False,
                "notes": [],
                "instanceType": "Indication",
            }
            for i, c in enumerate(self.t.conditions)
        ]

    def objectives(self) -> list[dict[str, Any]]:
        """The protocol's objectives, each with the endpoints that measure it."""
        out: list[dict[str, Any]] = []
        n_end = 0
        for i, o in enumerate(self.t.objectives):
            endpoints: list[dict[str, Any]] = []
            for text in o.endpoints:
                n_end += 1
                endpoints.append(
                    {
                        "id": self.id("Endpoint"),
                        "extensionAttributes": [],
                        "name": f"END{n_end}",
                        "label": _short(text),
                        "description": None,
                        "text": _xhtml(text),
                        "dictionaryId": None,
                        "notes": [],
                        "purpose": "Not stated in the protocol",
                        "level": self.code(_ENDPOINT[o.level]),
                        "instanceType": "Endpoint",
                    }
                )
            out.append(
                {
                    "id": self.id("Objective"),
                    "extensionAttributes": [],
                    "name": f"OBJ{i + 1}",
                    "label": None,
                    "description": None,
                    "text": _xhtml(o.text),
                    "dictionaryId": None,
                    "notes": [],
                    "level": self.code(_OBJECTIVE[o.level]),
                    "endpoints": endpoints,
                    "instanceType": "Objective",
                }
            )
        return out

    def arms(self) -> list[dict[str, Any]]:
        self._arm_ids: dict[str, str] = {}
        out = []
        ratio = allocation_ratio(self.t)
        for k, a in enumerate(self.t.arms):
            aid = self.id("StudyArm")
            self._arm_ids[a.name] = aid
            out.append(
                {
                    "id": aid,
                    "extensionAttributes": (
                        [self.ext_integer("allocation-ratio", ratio[k])] if ratio else []
                    ),
                    "name": a.code or a.name,
                    "label": a.label,
                    "description": a.description or a.label,
                    "type": self.code(_ARM_TYPE[a.type]),
                    "dataOriginDescription": "Data collected from participants in this trial",
                    "dataOriginType": self.code(("C188866", "Data Generated Within Study")),
                    "populationIds": [],
                    "notes": [],
                    "instanceType": "StudyArm",
                }
            )
        return out

    def cells(self, arms: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        m = build_matrix(self.t)
        self._epoch_ids: dict[str, str] = {}
        epochs: list[dict[str, Any]] = []
        for e in m.epochs:
            self._epoch_ids[e.name] = self.id("StudyEpoch")
        names = [e.name for e in m.epochs]
        for i, e in enumerate(m.epochs):
            epochs.append(
                {
                    "id": self._epoch_ids[e.name],
                    "extensionAttributes": [],
                    "name": e.name,
                    "label": e.label,
                    "description": f"{e.label} epoch",
                    "type": self.code(_epoch_type(e.name, e.label)),
                    "previousId": self._epoch_ids[names[i - 1]] if i > 0 else None,
                    "nextId": self._epoch_ids[names[i + 1]] if i + 1 < len(names) else None,
                    "notes": [],
                    "instanceType": "StudyEpoch",
                }
            )
        el_ids: dict[str, str] = {}
        elements: list[dict[str, Any]] = []
        for el in m.elements:
            eid = self.id("StudyElement")
            el_ids[el.code] = eid
            elements.append(
                {
                    "id": eid,
                    "extensionAttributes": [],
                    "name": el.code,
                    "label": el.name,
                    "description": el.description,
                    "transitionStartRule": self.rule(f"ELEMENT_START_{el.code}", el.start_rule),
                    "transitionEndRule": self.rule(f"ELEMENT_END_{el.code}", el.end_rule) if el.end_rule else None,
                    "studyInterventionIds": [self._iv_ids[i] for i in el.interventions if i in self._iv_ids],
                    "notes": [],
                    "instanceType": "StudyElement",
                }
            )
        cells = []
        for c in m.cells:
            cells.append(
                {
                    "id": self.id("StudyCell"),
                    "extensionAttributes": [],
                    "armId": self._arm_ids[c.arm],
                    "epochId": self._epoch_ids[c.epoch],
                    "elementIds": [el_ids[e.code] for e in c.elements],
                    "instanceType": "StudyCell",
                }
            )
        return epochs, cells, elements

    def products(self) -> dict[str, dict[str, Any]]:
        """One administrable product per intervention whose dosage form is a CDISC CT term."""
        out: dict[str, dict[str, Any]] = {}
        for iv in self.t.interventions:
            form = dose_form(iv.form)
            if form is None:
                continue
            out[iv.name] = {
                "id": self.id("AdministrableProduct"),
                "extensionAttributes": [],
                "name": iv.name.upper(),
                "label": iv.label,
                "description": f"{iv.label}, {iv.form.lower() if iv.form else ''}".rstrip(", "),
                "pharmacologicClass": None,
                "administrableDoseForm": self.alias((form.code, form.preferred)),
                # a placebo given to compare is an investigational medicinal product too
                "productDesignation": self.code(("C202579", "Investigational Medicinal Product")),
                "sourcing": None,
                "properties": [],
                "identifiers": [],
                "ingredients": [],
                "notes": [],
                "instanceType": "AdministrableProduct",
            }
        return out

    def interventions(self) -> list[dict[str, Any]]:
        t = self.t
        self._iv_ids: dict[str, str] = {}
        self._product_of = self.products()
        self._products = list(self._product_of.values())
        out = []
        for iv in t.interventions:
            iid = self.id("StudyIntervention")
            self._iv_ids[iv.name] = iid
            exts = []
            if iv.form and iv.name not in self._product_of:
                exts.append(self.ext_string("dose-form", iv.form))
            out.append(
                {
                    "id": iid,
                    "extensionAttributes": exts,
                    "name": iv.name,
                    "label": iv.label,
                    "description": iv.description or iv.label,
                    "role": self.code(self._role(iv)),
                    "type": self.code(_INTERVENTION_TYPE[iv.type]),
                    "minimumResponseDuration": None,
                    "codes": [],
                    "administrations": self.administrations(iv),
                    "notes": [],
                    "instanceType": "StudyIntervention",
                }
            )
        return out

    def _role(self, iv: Intervention) -> tuple[str, str]:
        types = {a.type for a in self.t.arms if iv.name in a.given()}
        if types and types <= {ArmType.PLACEBO_COMPARATOR, ArmType.SHAM_COMPARATOR}:
            return ("C753", "Placebo")
        if types and types <= {ArmType.ACTIVE_COMPARATOR}:
            return ("C68609", "Active Comparator")
        return ("C41161", "Protocol Agent")

    def administrations(self, iv: Intervention) -> list[dict[str, Any]]:
        regimens = []
        if iv.regimen is not None:
            regimens.append((iv.name, iv.regimen))
        for arm in self.t.arms:
            for ai in arm.interventions:
                if ai.intervention == iv.name and ai.regimen is not None and ai.regimen != iv.regimen:
                    regimens.append((f"{iv.name}_{arm.name}", ai.regimen))
        out = []
        for base, reg in regimens:
            for k, step in enumerate(reg.steps):
                name = base if len(reg.steps) == 1 else f"{base}_step{k + 1}"
                route = _ROUTE.get(step.route) if step.route else None
                freq = None
                if step.frequency is not None:
                    if step.frequency.interval is None:
                        freq = ("C64576", "Once")
                    else:
                        freq = _FREQUENCY.get((float(step.frequency.interval.amount), step.frequency.interval.unit))
                unit = _UNIT.get(step.amount.unit or "")
                product = self._product_of.get(iv.name)
                dose_q = self.quantity(step.amount.value, unit) if unit else None
                ext: list[dict[str, Any]] = []
                dose = None
                if product is not None and dose_q is not None:
                    dose = dose_q  # USDM takes a dose together with its administrable product
                elif dose_q is not None:
                    ext.append(self.ext_quantity("dose", dose_q))
                else:
                    ext.append(self.ext_string("dose", f"{num(step.amount.value)} {step.amount.unit or ''}".strip()))
                out.append(
                    {
                        "id": self.id("Administration"),
                        "extensionAttributes": ext,
                        "name": name,
                        "label": step.label,
                        "description": self.prose.dose_step(step),
                        "duration": self.duration(step.duration, str(step.duration) if step.duration else "as long as the protocol's schedule states"),
                        "dose": dose,
                        "route": self.alias(route) if route else None,
                        "frequency": self.alias(freq) if freq else None,
                        "administrableProductId": product["id"] if product is not None and dose is not None else None,
                        "medicalDeviceId": None,
                        "notes": [],
                        "instanceType": "Administration",
                    }
                )
        return out

    def population(self, crits: list[dict[str, Any]]) -> dict[str, Any]:
        t = self.t
        p = t.population
        sexes: list[tuple[str, str]] = []
        if p is None or p.sex is Sex.ALL:
            sexes = [("C16576", "Female"), ("C20197", "Male")]
        elif p.sex is Sex.FEMALE:
            sexes = [("C16576", "Female")]
        else:
            sexes = [("C20197", "Male")]
        age = None
        if p is not None and (p.age_min or p.age_max):
            lo = p.age_min
            hi = p.age_max
            unit = (lo or hi).unit  # type: ignore[union-attr]
            age = {
                "id": self.id("Range"),
                "extensionAttributes": [],
                "minValue": self.quantity(lo.amount if lo else 0, _TIME_UNIT[unit]),
                "maxValue": self.quantity(hi.amount if hi else 120, _TIME_UNIT[hi.unit if hi else unit]),
                "isApproximate": hi is None or lo is None,
                "instanceType": "Range",
            }
        return {
            "id": self.id("StudyDesignPopulation"),
            "extensionAttributes": [],
            "name": "POP1",
            "label": "Trial population",
            "description": "; ".join(t.conditions) or "Trial population",
            "includesHealthySubjects": bool(p.healthy_volunteers) if p else False,
            "plannedEnrollmentNumber": self.quantity(t.enrollment) if t.enrollment is not None else None,
            "plannedCompletionNumber": None,
            "plannedSex": [self.code(s) for s in sexes],
            "criterionIds": [c["id"] for c in crits],
            "plannedAge": age,
            "notes": [],
            "cohorts": [],
            "instanceType": "StudyDesignPopulation",
        }

    def criteria(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        crits: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        all_c = self.t.eligibility.criteria
        ids = [self.id("EligibilityCriterion") for _ in all_c]
        for i, c in enumerate(all_c):
            item_id = self.id("EligibilityCriterionItem")
            text = self.prose.criterion(c)
            items.append(
                {
                    "id": item_id,
                    "extensionAttributes": [
                        self.ext_string("criterion-expression", json.dumps(expression_json(c.expr), ensure_ascii=False, sort_keys=True)),
                        self.ext_string("criterion-prose", self.prose.generated(c)),
                    ],
                    "name": c.id,
                    "label": c.id,
                    "description": None,
                    "text": _xhtml(text),
                    "dictionaryId": None,
                    "notes": [],
                    "instanceType": "EligibilityCriterionItem",
                }
            )
            inclusion = c.category.value == "inclusion"
            crits.append(
                {
                    "id": ids[i],
                    "extensionAttributes": [],
                    "name": c.id,
                    "label": _short(text),
                    "description": None,
                    "category": self.code(("C25532", "Inclusion Criteria") if inclusion else ("C25370", "Exclusion Criteria")),
                    "identifier": c.id,
                    "criterionItemId": item_id,
                    "nextId": ids[i + 1] if i + 1 < len(ids) else None,
                    "previousId": ids[i - 1] if i > 0 else None,
                    "notes": [],
                    "instanceType": "EligibilityCriterion",
                }
            )
        return crits, items

    # ---- encounters, activities and the schedule ------------------------------------------------

    def schedule(self, epochs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        grid = build_grid(self.t)
        if grid is None:
            return [], [], []
        sched = self.t.schedule
        assert sched is not None
        visits = {v.name: v for v in sched.visits}
        enc_ids = [self.id("Encounter") for _ in grid.columns]
        encounters: list[dict[str, Any]] = []
        for i, col in enumerate(grid.columns):
            v = visits.get(col.visit or "")
            if col.study_period is not None:
                start = (f"{col.group} {col.label}: day {col.day_text} of the period"
                         + (f" ({col.window_text})" if col.window_text else ""))
            elif v is not None and not isinstance(v.timing, (AtDay, DayRange)):
                start = f"{col.label}: {self.prose.visit_when(v)}"  # relative or event-driven
            else:
                start = (f"{col.label} of each {col.group}" if col.group
                         else f"{col.label}: day {col.day_text}") + (
                    f" ({col.window_text})" if col.window_text else "")
            encounters.append(
                {
                    "id": enc_ids[i],
                    "extensionAttributes": (
                        [self.ext_string("visit-number", col.number)] if col.number else []
                    ),
                    "name": _encounter_name(col),
                    "label": col.label if col.study_period is None else f"{col.group} {col.label}",
                    "description": self._visit_description(v, col.label, col.day_text)
                    if col.study_period is None else start,
                    "type": self.code(("C25716", "Visit")),
                    "previousId": enc_ids[i - 1] if i > 0 else None,
                    "nextId": enc_ids[i + 1] if i + 1 < len(enc_ids) else None,
                    "scheduledAtId": None,
                    "environmentalSettings": [],
                    "contactModes": [],
                    "transitionStartRule": self.rule(f"ENCOUNTER_START_{i + 1}", start),
                    "transitionEndRule": None,
                    "notes": [],
                    "instanceType": "Encounter",
                }
            )
        act_ids = [self.id("Activity") for _ in grid.rows]
        activities = []
        for i, row in enumerate(grid.rows):
            exts = [self.ext_string("repeat", row.timing)] if row.kind == "repeat" else []
            procedures = [
                {
                    "id": self.id("Procedure"),
                    "extensionAttributes": [],
                    "name": f"ADMIN_{name.upper()}",
                    "label": f"Administration of {self.terms.intervention(name)}",
                    "description": row.label + (f": {row.timing}" if row.timing else ""),
                    "procedureType": "Study intervention administration",
                    "code": self.code(("C70962", "Agent Administration")),
                    "studyInterventionId": self._iv_ids[name],
                    "notes": [],
                    "instanceType": "Procedure",
                }
                for name in row.interventions
                if name in self._iv_ids
            ]
            activities.append(
                {
                    "id": act_ids[i],
                    "extensionAttributes": exts,
                    "name": f"ACT{i + 1}",
                    "label": row.label,
                    "description": row.label + (f": {row.timing}" if row.timing else ""),
                    "previousId": act_ids[i - 1] if i > 0 else None,
                    "nextId": act_ids[i + 1] if i + 1 < len(act_ids) else None,
                    "childIds": [],
                    "definedProcedures": procedures,
                    "biomedicalConceptIds": [],
                    "bcCategoryIds": [],
                    "bcSurrogateIds": [],
                    "timelineId": None,
                    "notes": [],
                    "instanceType": "Activity",
                }
            )

        # a timepoints block's row details into its sub-timeline (added below)
        sub_ids = {row.timepoints: self.id("ScheduleTimeline") for row in grid.rows
                   if row.timepoints is not None}
        for i, row in enumerate(grid.rows):
            if row.timepoints is not None:
                activities[i]["timelineId"] = sub_ids[row.timepoints]

        def acts_at(ci: int) -> list[str]:
            out = []
            for ri, row in enumerate(grid.rows):
                if row.kind == "item" and row.marks[ci].text:
                    out.append(act_ids[ri])
                elif row.kind == "repeat" and row.span and row.span[0] <= ci <= row.span[1]:
                    out.append(act_ids[ri])
            return out

        # The main timeline's entries: the scheduled columns, and one entry (keyed -k) per study
        # period, whose own timeline holds the period's visits timed from its first dose
        period_cols: dict[int, list[int]] = {}
        scheduled: list[int] = []
        for i, c in enumerate(grid.columns):
            if c.day is None:
                continue
            if c.study_period is None:
                scheduled.append(i)
                continue
            if c.study_period not in period_cols:
                if c.study_period > 1:
                    scheduled.append(-WASHOUT - (c.study_period - 1))  # the washout before it
                scheduled.append(-c.study_period)
            period_cols.setdefault(c.study_period, []).append(i)
        period_day = anchor_days(self.t)

        def day_of(entry: int) -> float:
            if entry <= -WASHOUT:
                return period_day.get(f"last dose of period {-entry - WASHOUT}", 0.0)
            if entry < 0:
                return period_day.get(f"first dose of period {-entry}", 0.0)
            return grid.columns[entry].day or 0.0

        event_driven = [i for i, c in enumerate(grid.columns) if c.day is None]
        timelines = []
        # main timeline: scheduled visits in time order, each timed from the anchor visit
        main_id = self.id("ScheduleTimeline")
        inst_ids = {ci: self.id("ScheduledActivityInstance") for ci in scheduled}
        period_tl_ids = {k: self.id("ScheduleTimeline") for k in sorted(period_cols)}
        anchor_ci = min(scheduled, key=lambda ci: abs(day_of(ci))) if scheduled else None
        instances: list[dict[str, Any]] = []
        timings: list[dict[str, Any]] = []
        exit_id = self.id("ScheduleTimelineExit")
        for k, ci in enumerate(scheduled):
            nxt = scheduled[k + 1] if k + 1 < len(scheduled) else None
            if ci <= -WASHOUT:
                assert anchor_ci is not None
                instances.append(self._washout_entry(-ci - WASHOUT, inst_ids[ci],
                                                     inst_ids[nxt] if nxt is not None else None))
                timings.append(self._period_entry_timing(-ci - WASHOUT, False, day_of(ci),
                                                         inst_ids[ci], inst_ids[anchor_ci],
                                                         washout=True))
                continue
            if ci < 0:
                assert anchor_ci is not None
                instances.append(self._period_entry(-ci, inst_ids[ci], period_tl_ids[-ci],
                                                    inst_ids[nxt] if nxt is not None else None,
                                                    exit_id if nxt is None else None))
                timings.append(self._period_entry_timing(-ci, ci == anchor_ci, day_of(ci),
                                                         inst_ids[ci], inst_ids[anchor_ci]))
                continue
            col = grid.columns[ci]
            instances.append(
                {
                    "id": inst_ids[ci],
                    "extensionAttributes": [],
                    "name": (col.visit or col.key).upper(),
                    "label": col.label,
                    "description": (f"{col.label} of each {col.group}" if col.group
                                    else f"{col.label} (day {col.day_text})"),
                    "defaultConditionId": inst_ids[nxt] if nxt is not None else None,
                    "epochId": self._epoch_ids.get(col.epoch or "") or _first_epoch(epochs),
                    "timelineId": None,
                    "timelineExitId": exit_id if nxt is None else None,
                    "activityIds": acts_at(ci),
                    "encounterId": enc_ids[ci],
                    "instanceType": "ScheduledActivityInstance",
                }
            )
            assert anchor_ci is not None
            timings.append(self.timing(ci, anchor_ci, grid.columns[ci], inst_ids, visits.get(col.visit or "")))
        if scheduled:
            assert anchor_ci is not None
            timelines.append(
                {
                    "id": main_id,
                    "extensionAttributes": [],
                    "name": "Main Timeline",
                    "label": "Main timeline",
                    "description": f"Scheduled visits, timed in days from {self.terms.anchor_name(sched.anchor)}",
                    "mainTimeline": True,
                    "entryCondition": "Participant consented and screened",
                    "entryId": inst_ids[scheduled[0]],
                    "exits": [{"id": exit_id, "extensionAttributes": [], "instanceType": "ScheduleTimelineExit"}],
                    "timings": timings,
                    "instances": instances,
                    "plannedDuration": self._planned_duration(grid),
                    "instanceType": "ScheduleTimeline",
                }
            )
        for k, cols in sorted(period_cols.items()):
            timelines.append(self._period_timeline(k, period_tl_ids[k], cols, grid, enc_ids, acts_at))
        # one timeline per event-driven visit (early termination, unscheduled)
        for ci in event_driven:
            col = grid.columns[ci]
            v = visits.get(col.visit or "")
            tl_id = self.id("ScheduleTimeline")
            inst_id = self.id("ScheduledActivityInstance")
            ex_id = self.id("ScheduleTimelineExit")
            timing_id = self.id("Timing")
            condition = self.prose.visit_timing(v.timing) if v is not None else col.day_text
            timelines.append(
                {
                    "id": tl_id,
                    "extensionAttributes": [],
                    "name": f"{col.label} Timeline",
                    "label": col.label,
                    "description": f"{col.label} visit, {condition}",
                    "mainTimeline": False,
                    "entryCondition": condition,
                    "entryId": inst_id,
                    "exits": [{"id": ex_id, "extensionAttributes": [], "instanceType": "ScheduleTimelineExit"}],
                    "timings": [
                        {
                            "id": timing_id,
                            "extensionAttributes": [],
                            "name": f"TIM_{(col.visit or col.key).upper()}",
                            "label": col.label,
                            "description": condition,
                            "type": self.code(("C201358", "Fixed Reference")),
                            "value": "P0D",
                            "valueLabel": condition,
                            "relativeToFrom": self.code(("C201355", "Start to Start")),
                            "relativeFromScheduledInstanceId": inst_id,
                            "relativeToScheduledInstanceId": inst_id,  # the anchor: from = to
                            "windowLower": None,
                            "windowUpper": None,
                            "windowLabel": None,
                            "instanceType": "Timing",
                        }
                    ],
                    "instances": [
                        {
                            "id": inst_id,
                            "extensionAttributes": [],
                            "name": (col.visit or col.key).upper(),
                            "label": col.label,
                            "description": condition,
                            "defaultConditionId": None,
                            "epochId": self._epoch_ids.get(col.epoch or "") or _last_epoch(epochs),
                            "timelineId": None,
                            "timelineExitId": ex_id,
                            "activityIds": acts_at(ci),
                            "encounterId": enc_ids[ci],
                            "instanceType": "ScheduledActivityInstance",
                        }
                    ],
                    "plannedDuration": None,
                    "instanceType": "ScheduleTimeline",
                }
            )
        if sub_ids:
            timelines += self.timepoint_timelines(grid, sub_ids, activities, act_ids)
        return encounters, activities, timelines

    def timepoint_timelines(self, grid: Any, sub_ids: dict[str, str],
                            activities: list[dict[str, Any]],
                            act_ids: list[str]) -> list[dict[str, Any]]:
        """One sub-timeline per timepoints block: the reference (the dose) as its anchor, and
        one instance per time after it, timed `PT30M` from the anchor with the time's window.
        The items done at the times are activities of their own where the grid has no row for
        them (`Plasma concentration of Drug A`)."""
        sched = self.t.schedule
        assert sched is not None
        cal = self.t.calendar
        by_label = {row.label: act_ids[i] for i, row in enumerate(grid.rows)
                    if row.kind == "item" and row.timepoints is None}

        def item_activity(item: str) -> str:
            label = self.terms.term_full(item) if self.terms.item(item) else item
            if label in by_label:
                return by_label[label]
            act_id = self.id("Activity")
            if activities:
                activities[-1]["nextId"] = act_id
            activities.append({
                "id": act_id, "extensionAttributes": [], "name": f"ACT{len(activities) + 1}",
                "label": label, "description": f"{label}, at timed points after a dose",
                "previousId": activities[-1]["id"] if activities else None, "nextId": None,
                "childIds": [], "definedProcedures": [], "biomedicalConceptIds": [],
                "bcCategoryIds": [], "bcSurrogateIds": [], "timelineId": None, "notes": [],
                "instanceType": "Activity"})
            by_label[label] = act_id
            return act_id

        out = []
        for block in sched.timepoints:
            reference = self.prose.timepoints_reference(block)
            anchor_id = self.id("ScheduledActivityInstance")
            exit_id = self.id("ScheduleTimelineExit")
            dose_acts = [act_ids[i] for i, row in enumerate(grid.rows)
                         if isinstance(block.reference, DoseOnDays)
                         and block.reference.intervention in row.interventions]
            epoch = self._epoch_ids.get(block.epoch or "")
            times: dict[str, tuple[float, str, str, Window | None, Duration | None]] = {}
            acts: dict[str, list[str]] = {}
            for act in block.items:
                for code in act.timepoint_codes():
                    acts.setdefault(code, [])
                    for item in act.items:
                        a_id = item_activity(item)
                        if a_id not in acts[code]:
                            acts[code].append(a_id)
                if act.predose is not None:
                    times.setdefault(PREDOSE, (-1.0, "Pre-dose", "before", None, act.predose))
                for d in act.offsets:
                    times.setdefault(elapsed_code(d.minutes(cal)),
                                     (float(d.minutes(cal)), f"{num(d.amount)} "
                                      f"{'h' if d.unit is TimeUnit.HOUR else 'min'}",
                                      "after", act.window_for(d), None))
            order = sorted(times, key=lambda c: times[c][0])
            inst_ids = {code: self.id("ScheduledActivityInstance") for code in order}
            instances = [{
                "id": anchor_id, "extensionAttributes": [], "name": f"{block.name.upper()}_REF",
                "label": "Reference", "description": sentence_case(reference),
                "defaultConditionId": inst_ids[order[0]] if order else None, "epochId": epoch,
                "timelineId": None, "timelineExitId": None if order else exit_id,
                "activityIds": dose_acts, "encounterId": None,
                "instanceType": "ScheduledActivityInstance"}]
            timings: list[dict[str, Any]] = [{
                "id": self.id("Timing"), "extensionAttributes": [],
                "name": f"TIM_{block.name.upper()}_REF", "label": "Reference",
                "description": sentence_case(reference),
                "type": self.code(("C201358", "Fixed Reference")), "value": "PT0M",
                "valueLabel": sentence_case(reference),
                "relativeToFrom": self.code(("C201355", "Start to Start")),
                "relativeFromScheduledInstanceId": anchor_id,
                "relativeToScheduledInstanceId": anchor_id,
                "windowLower": None, "windowUpper": None, "windowLabel": None,
                "instanceType": "Timing"}]
            for k, code in enumerate(order):
                minutes, label, side, window, predose = times[code]
                wlabel: str | None
                nxt = order[k + 1] if k + 1 < len(order) else None
                instances.append({
                    "id": inst_ids[code], "extensionAttributes": [],
                    "name": f"{block.name.upper()}_{code}", "label": label,
                    "description": f"{label} ({code})",
                    "defaultConditionId": inst_ids[nxt] if nxt is not None else None,
                    "epochId": epoch, "timelineId": None,
                    "timelineExitId": exit_id if nxt is None else None,
                    "activityIds": acts[code], "encounterId": None,
                    "instanceType": "ScheduledActivityInstance"})
                if predose is not None:
                    lower, upper = elapsed_code(predose.minutes(cal)), "PT0M"
                    value, wlabel = "PT0M", f"within {duration_text(predose)} before"
                    type_ = ("C201357", "Before")
                else:
                    before, after = window.minutes(cal) if window is not None else (0, 0)
                    lower, upper = elapsed_code(before), elapsed_code(after)
                    value, wlabel = elapsed_code(minutes), window_text(window) or None
                    type_ = ("C201356", "After")
                timings.append({
                    "id": self.id("Timing"), "extensionAttributes": [],
                    "name": f"TIM_{block.name.upper()}_{code}", "label": label,
                    "description": f"{label} {side} {reference}",
                    "type": self.code(type_), "value": value,
                    "valueLabel": f"{label} {side} the reference",
                    "relativeToFrom": self.code(("C201355", "Start to Start")),
                    "relativeFromScheduledInstanceId": inst_ids[code],
                    "relativeToScheduledInstanceId": anchor_id,
                    "windowLower": lower, "windowUpper": upper, "windowLabel": wlabel,
                    "instanceType": "Timing"})
            last = max((times[c][0] for c in order), default=0.0)
            out.append({
                "id": sub_ids[block.name], "extensionAttributes": [],
                "name": f"{block.label} Timeline", "label": block.label,
                "description": f"{block.label}: {sentence_case(reference)}",
                "mainTimeline": False, "entryCondition": sentence_case(reference),
                "entryId": anchor_id,
                "exits": [{"id": exit_id, "extensionAttributes": [],
                           "instanceType": "ScheduleTimelineExit"}],
                "timings": timings, "instances": instances,
                "plannedDuration": self.duration(
                    Duration(max(last, 0.0) / 60, TimeUnit.HOUR),
                    f"{num(max(last, 0.0) / 60)} hours from the reference to the last time"),
                "instanceType": "ScheduleTimeline"})
        return out

    # ---- study periods: one timeline each -------------------------------------------------

    def _period_entry(self, k: int, inst_id: str, sub_id: str, next_id: str | None,
                      exit_id: str | None) -> dict[str, Any]:
        """The main timeline's instance of study period k: it runs the period's timeline."""
        block = self._periods()
        label = block.period_label(k)
        return {
            "id": inst_id,
            "extensionAttributes": [],
            "name": f"PERIOD_{k}",
            "label": label,
            "description": f"{label}: its visits are on the {label} timeline, timed from the "
                           "period's first dose",
            "defaultConditionId": next_id,
            "epochId": self._epoch_ids.get(period_epoch(block, k)),
            "timelineId": sub_id,
            "timelineExitId": exit_id,
            "activityIds": [],
            "encounterId": None,
            "instanceType": "ScheduledActivityInstance",
        }

    def _washout_entry(self, k: int, inst_id: str, next_id: str | None) -> dict[str, Any]:
        """The main timeline's instance of the washout after study period k (no encounter)."""
        block = self._periods()
        name = f"washout_{k}"
        return {
            "id": inst_id,
            "extensionAttributes": [],
            "name": name.upper(),
            "label": "Washout",
            "description": f"Washout after {block.period_label(k)}: {washout_text(block)} from "
                           "its last dose to the next period's first dose",
            "defaultConditionId": next_id,
            "epochId": self._epoch_ids.get(name),
            "timelineId": None,
            "timelineExitId": None,
            "activityIds": [],
            "encounterId": None,
            "instanceType": "ScheduledActivityInstance",
        }

    def _period_entry_timing(self, k: int, is_anchor: bool, day: float, inst_id: str,
                             anchor_id: str, washout: bool = False) -> dict[str, Any]:
        """When study period k starts on the main timeline: period 1 from the anchor, a later
        one after the washout (its day is nominal: the washout may be longer). `washout`: when
        the washout after period k starts (the period's last dose)."""
        block = self._periods()
        label = block.period_label(k)
        shown = day + 1 if self.t.calendar.first_day == 1 and day >= 0 else day
        if washout:
            text = f"last dose of {label} (nominally day {num(shown)})"
        elif k == 1:
            text = f"first dose of {label} on day {num(shown)}"
        else:
            text = (f"first dose of {label} {washout_text(block)} after the last dose of "
                    f"{block.period_label(k - 1)} (nominally day {num(shown)})")
        if is_anchor:
            type_, value = ("C201358", "Fixed Reference"), "P0D"
        elif day < 0:
            type_, value = ("C201357", "Before"), f"P{num(-day)}D"
        else:
            type_, value = ("C201356", "After"), f"P{num(day)}D"
        lower = upper = None
        window_label = None
        cal = self.t.calendar
        w = block.washout
        if is_anchor or washout:
            pass  # the fixed reference has no window (USDM DDF00025)
        elif k == 1 and block.window is not None:
            b, a = block.window.days(cal)
            lower, upper, window_label = f"P{num(b)}D", f"P{num(a)}D", window_text(block.window)
        elif k > 1 and w.maximum is not None:
            # an open washout (`at least`) has no upper bound, and USDM no half window
            lower = "P0D"
            upper = f"P{num(w.maximum.days(cal) - w.minimum.days(cal))}D"
            window_label = f"washout {washout_text(block)}"
        return {
            "id": self.id("Timing"),
            "extensionAttributes": [],
            "name": f"TIM_WASHOUT_{k}" if washout else f"TIM_PERIOD_{k}",
            "label": "Washout" if washout else label,
            "description": text,
            "type": self.code(type_),
            "value": value,
            "valueLabel": text,
            "relativeToFrom": self.code(("C201355", "Start to Start")),
            "relativeFromScheduledInstanceId": inst_id,
            "relativeToScheduledInstanceId": inst_id if is_anchor else anchor_id,
            "windowLower": lower,
            "windowUpper": upper,
            "windowLabel": window_label,
            "instanceType": "Timing",
        }

    def _period_timeline(self, k: int, tl_id: str, cols: list[int], grid: Any,
                         enc_ids: list[str], acts_at: Any) -> dict[str, Any]:
        """Study period k's own timeline: its visits and days, timed in days from the period's
        first dose (the fixed reference)."""
        block = self._periods()
        label = block.period_label(k)
        first, _ = period_bounds(self.t)
        inst = {ci: self.id("ScheduledActivityInstance") for ci in cols}
        ex_id = self.id("ScheduleTimelineExit")
        ref = next((ci for ci in cols if grid.columns[ci].period_day == first), cols[0])
        windows = self._period_windows()
        instances: list[dict[str, Any]] = []
        timings: list[dict[str, Any]] = []
        for j, ci in enumerate(cols):
            col = grid.columns[ci]
            nxt = cols[j + 1] if j + 1 < len(cols) else None
            instances.append({
                "id": inst[ci],
                "extensionAttributes": [],
                "name": f"{_encounter_name(col)}",
                "label": f"{label} {col.label}",
                "description": f"{label} {col.label} (day {col.day_text} of the period)",
                "defaultConditionId": inst[nxt] if nxt is not None else None,
                "epochId": self._epoch_ids.get(col.epoch or ""),
                "timelineId": None,
                "timelineExitId": ex_id if nxt is None else None,
                "activityIds": acts_at(ci),
                "encounterId": enc_ids[ci],
                "instanceType": "ScheduledActivityInstance",
            })
            offset = (col.period_day or 0.0) - first
            if ci == ref:
                type_, value = ("C201358", "Fixed Reference"), "P0D"
            elif offset < 0:
                type_, value = ("C201357", "Before"), f"P{num(-offset)}D"
            else:
                type_, value = ("C201356", "After"), f"P{num(offset)}D"
            win = windows.get((col.visit or "", col.period_day or 0.0))
            lower = upper = None
            if win is not None:
                b, a = win.days(self.t.calendar)
                lower, upper = f"P{num(b)}D", f"P{num(a)}D"
            text = f"day {col.day_text} of {label}"
            timings.append({
                "id": self.id("Timing"),
                "extensionAttributes": [],
                "name": f"TIM_{_encounter_name(col)}",
                "label": f"{label} {col.label}",
                "description": text,
                "type": self.code(type_),
                "value": value,
                "valueLabel": text,
                "relativeToFrom": self.code(("C201355", "Start to Start")),
                "relativeFromScheduledInstanceId": inst[ci],
                "relativeToScheduledInstanceId": inst[ref],
                "windowLower": lower,
                "windowUpper": upper,
                "windowLabel": window_text(win) if win is not None else None,
                "instanceType": "Timing",
            })
        return {
            "id": tl_id,
            "extensionAttributes": [],
            "name": f"{label} Timeline",
            "label": label,
            "description": f"{label}: visits and assessments timed in days from the period's "
                           "first dose",
            "mainTimeline": False,
            "entryCondition": (f"{label} starts" if k == 1 else
                               f"{label} starts {washout_text(block)} after the last dose of "
                               f"{block.period_label(k - 1)}"),
            "entryId": inst[cols[0]],
            "exits": [{"id": ex_id, "extensionAttributes": [], "instanceType": "ScheduleTimelineExit"}],
            "timings": timings,
            "instances": instances,
            "plannedDuration": None,
            "instanceType": "ScheduleTimeline",
        }

    def _periods(self) -> Periods:
        sched = self.t.schedule
        assert sched is not None and sched.periods is not None
        return sched.periods

    def _period_windows(self) -> dict[tuple[str, float], Window]:
        """The window of each period column: its visit's, else its activity's on that day."""
        out: dict[tuple[str, float], Window] = {}
        cal = self.t.calendar
        block = self._periods()
        for v in block.visits:
            if v.window is not None:
                for d in period_item_days(v, cal)[-1:]:
                    out[(v.name, d)] = v.window
        for a in block.activities:
            if a.window is not None:
                for d in period_item_days(a, cal):
                    out.setdefault(("", d), a.window)
        return out

    def _visit_description(self, v: Visit | None, label: str, day_text: str) -> str:
        if v is None:
            return f"{label} (day {day_text})"
        text = f"{label}: {self.prose.visit_when(v)}"
        if v.arms:
            text += f"; {', '.join(self.terms.arm(a) for a in v.arms)} only"
        return text

    def _planned_duration(self, grid: Any) -> dict[str, Any] | None:
        days = [c.day for c in grid.columns if c.day is not None]
        if not days:
            return None
        span = max(days) - min(days)
        return self.duration(Duration(span, TimeUnit.DAY), f"about {num(span)} days from the first to the last scheduled visit")

    def timing(self, ci: int, anchor_ci: int, col: Any, inst_ids: dict[int, str], v: Visit | None) -> dict[str, Any]:
        day = col.day or 0.0
        anchor_day = 0.0
        exts: list[dict[str, Any]] = []
        window: Window | None = v.window if v is not None else None
        if v is None:
            window = self._activity_window(col)
        lower = upper = None
        if isinstance(v.timing if v else None, DayRange):
            assert v is not None and isinstance(v.timing, DayRange)
            start = v.timing.start.days(self.t.calendar)
            lower = f"P{num(day - start)}D"
            upper = "P0D"
            label = f"day {col.day_text}"
        elif window is not None:
            b, a = window.days(self.t.calendar)
            lower, upper = f"P{num(b)}D", f"P{num(a)}D"
            label = window_text(window)
        else:
            label = None
        if v is not None and isinstance(v.timing, AfterAnchor):
            exts.append(self.ext_string("relative-timing", self.prose.visit_timing(v.timing)))
        if ci == anchor_ci:
            type_ = ("C201358", "Fixed Reference")
            value = "P0D"
            rel_to = inst_ids[ci]
        elif day < anchor_day:
            type_ = ("C201357", "Before")
            value = f"P{num(anchor_day - day)}D"
            rel_to = inst_ids[anchor_ci]
        else:
            type_ = ("C201356", "After")
            value = f"P{num(day - anchor_day)}D"
            rel_to = inst_ids[anchor_ci]
        # the protocol's own day number (`days counted from 1`: no day 0)
        shown = day + 1 if self.t.calendar.first_day == 1 and day >= 0 else day
        value_label = f"day {num(shown)}"
        if col.group:
            value_label = f"{col.day_text} of each {col.group} (first cycle: day {num(shown)})"
        if v is not None and isinstance(v.timing, AfterAnchor):
            value_label = f"{self.prose.visit_timing(v.timing)} (nominally day {num(shown)})"
        return {
            "id": self.id("Timing"),
            "extensionAttributes": exts,
            "name": f"TIM_{(col.visit or col.key).upper()}",
            "label": col.label,
            "description": value_label,
            "type": self.code(type_),
            "value": value,
            "valueLabel": value_label,
            "relativeToFrom": self.code(("C201355", "Start to Start")),
            "relativeFromScheduledInstanceId": inst_ids[ci],
            "relativeToScheduledInstanceId": rel_to,
            "windowLower": lower,
            "windowUpper": upper,
            "windowLabel": label,
            "instanceType": "Timing",
        }

    def _activity_window(self, col: Any) -> Window | None:
        sched = self.t.schedule
        if sched is None:
            return None
        for a in sched.activities:
            if a.window is not None and hasattr(a.timing, "points"):
                for p in a.timing.points:
                    if abs(p.days(self.t.calendar) - (col.day or 0.0)) < 1e-9:
                        return a.window
        return None


# Keys of the main timeline's entries: a column's index, -k for study period k, and
# -(WASHOUT + k) for the washout after period k.
WASHOUT = 1000


def _encounter_name(col: Any) -> str:
    """An encounter's name: the visit's (or the time point's key); a study period's columns
    are named per period (`ADMISSION_P2`)."""
    base = (col.visit or col.key).upper()
    if col.study_period is None:
        return base
    if col.visit is None:
        base = f"DAY_{col.day_text.replace('−', 'M').replace('-', 'M')}"
    return f"{base}_P{col.study_period}"


def _first_epoch(epochs: list[dict[str, Any]]) -> str | None:
    return epochs[0]["id"] if epochs else None


def _last_epoch(epochs: list[dict[str, Any]]) -> str | None:
    return epochs[-1]["id"] if epochs else None


def _xhtml(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _short(text: str, n: int = 80) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("trialcode")
    except Exception:
        return "0"


def export_usdm(trial: Trial) -> dict[str, Any]:
    """The trial as a CDISC USDM 4.0 JSON document (a dict ready for json.dump)."""
    return _Usdm(trial).build()


_ = (AsNeeded, OnEvent, iso_duration)
