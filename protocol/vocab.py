"""Controlled vocabularies (ClinicalTrials.gov / CDISC terms) written as identifiers.

They are identifiers in the language, not keywords, so that names like `screening` or `other`
stay free for visits and arms; the checker reports an unknown value with a suggestion.
"""

from __future__ import annotations

import enum


class Status(enum.Enum):
    NOT_YET_RECRUITING = "not_yet_recruiting"
    RECRUITING = "recruiting"
    ENROLLING_BY_INVITATION = "enrolling_by_invitation"
    ACTIVE_NOT_RECRUITING = "active_not_recruiting"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class StudyType(enum.Enum):
    INTERVENTIONAL = "interventional"
    OBSERVATIONAL = "observational"
    EXPANDED_ACCESS = "expanded_access"


class Allocation(enum.Enum):
    RANDOMIZED = "randomized"
    NON_RANDOMIZED = "non_randomized"
    NA = "na"


class DesignModel(enum.Enum):
    PARALLEL = "parallel"
    SINGLE_GROUP = "single_group"
    CROSSOVER = "crossover"
    FACTORIAL = "factorial"
    SEQUENTIAL = "sequential"


class Purpose(enum.Enum):
    TREATMENT = "treatment"
    PREVENTION = "prevention"
    DIAGNOSTIC = "diagnostic"
    SUPPORTIVE_CARE = "supportive_care"
    SCREENING = "screening"
    HEALTH_SERVICES_RESEARCH = "health_services_research"
    BASIC_SCIENCE = "basic_science"
    DEVICE_FEASIBILITY = "device_feasibility"
    OTHER = "other"


class MaskingLevel(enum.Enum):
    NONE = "none"
    SINGLE = "single"
    DOUBLE = "double"
    TRIPLE = "triple"
    QUADRUPLE = "quadruple"


class MaskedRole(enum.Enum):
    PARTICIPANT = "participant"
    CARE_PROVIDER = "care_provider"
    INVESTIGATOR = "investigator"
    OUTCOMES_ASSESSOR = "outcomes_assessor"


class SponsorClass(enum.Enum):
    INDUSTRY = "industry"
    NIH = "nih"
    FED = "fed"
    OTHER_GOV = "other_gov"
    INDIV = "indiv"
    NETWORK = "network"
    OTHER = "other"


class ResponsiblePartyKind(enum.Enum):
    SPONSOR = "sponsor"
    PRINCIPAL_INVESTIGATOR = "principal_investigator"
    SPONSOR_INVESTIGATOR = "sponsor_investigator"


class ArmType(enum.Enum):
    EXPERIMENTAL = "experimental"
    ACTIVE_COMPARATOR = "active_comparator"
    PLACEBO_COMPARATOR = "placebo_comparator"
    SHAM_COMPARATOR = "sham_comparator"
    NO_INTERVENTION = "no_intervention"
    OTHER = "other"

    @property
    def needs_intervention(self) -> bool:
        return self is not ArmType.NO_INTERVENTION and self is not ArmType.OTHER


class InterventionType(enum.Enum):
    DRUG = "drug"
    DEVICE = "device"
    BIOLOGICAL = "biological"
    PROCEDURE = "procedure"
    RADIATION = "radiation"
    BEHAVIORAL = "behavioral"
    GENETIC = "genetic"
    DIETARY_SUPPLEMENT = "dietary_supplement"
    COMBINATION_PRODUCT = "combination_product"
    DIAGNOSTIC_TEST = "diagnostic_test"
    OTHER = "other"


class Route(enum.Enum):
    ORAL = "oral"
    INTRAVENOUS = "intravenous"
    SUBCUTANEOUS = "subcutaneous"
    INTRAMUSCULAR = "intramuscular"
    TRANSDERMAL = "transdermal"
    TOPICAL = "topical"
    INHALATION = "inhalation"
    INTRATHECAL = "intrathecal"
    NASAL = "nasal"
    RECTAL = "rectal"
    SUBLINGUAL = "sublingual"


class Sex(enum.Enum):
    ALL = "all"
    FEMALE = "female"
    MALE = "male"


class DataKind(enum.Enum):
    """What a data item is; it decides which expressions make sense on it."""

    LAB = "lab"  # numeric with unit and reference range
    VITAL = "vital"  # numeric with unit
    SCORE = "score"  # numeric without unit, bounded
    CATEGORY = "category"  # one of a set of strings
    MARKER = "marker"  # numeric level that may be undetectable (MRD)
    EVENT = "event"  # dated occurrence, may have attributes
    CONDITION = "condition"  # interval: start, end or ongoing
    PROCEDURE = "procedure"  # dated occurrence of a procedure

    @property
    def numeric(self) -> bool:
        return self in (DataKind.LAB, DataKind.VITAL, DataKind.SCORE, DataKind.MARKER)


class ObjectiveLevel(enum.Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    EXPLORATORY = "exploratory"


class IllustrativePart(enum.Enum):
    """A part of a protocol that an `illustrative` statement marks as not from the real
    protocol (chosen for an example): each names the document sections it covers."""

    DESIGN = "design"  # allocation ratio, design details
    OBJECTIVES = "objectives"
    POPULATION = "population"
    ELIGIBILITY = "eligibility"
    INTERVENTIONS = "interventions"
    DATA = "data"  # the data items (assessments) the criteria and the schedule use
    SCHEDULE = "schedule"
    STOPPING = "stopping"
    SAMPLE_SIZE = "sample_size"


class CriterionCategory(enum.Enum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class MissingPolicy(enum.Enum):
    """What a criterion's verdict is when its data are missing (`assume not_met`)."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class ActivityKind(enum.Enum):
    ASSESS = "assess"
    DOSE = "dose"
    PROCEDURE = "procedure"


def values_of(enum_type: type[enum.Enum]) -> list[str]:
    """The spellings a protocol may use for an enumeration."""
    return [str(m.value) for m in enum_type]
