"""Statistics engine: group sequential boundaries and exact binomial stopping rules.

Modules (each usable on its own):

* :mod:`.errors` -- :class:`DesignError`, raised for every nonsensical input;
* :mod:`.recursion` -- crossing probabilities of sequential Z statistics
  (Armitage-McPherson-Rowe recursion on the Jennison-Turnbull grid);
* :mod:`.spending` -- Lan-DeMets, Hwang-Shih-DeCani and Kim-DeMets spending functions;
* :mod:`.boundaries` -- Pocock, O'Brien-Fleming, Wang-Tsiatis, Haybittle-Peto and
  error-spending efficacy bounds;
* :mod:`.design` -- complete designs with beta-spending futility, maximum
  information, power, expected sample size; bounds at observed information;
* :mod:`.simon` -- Simon optimal / minimax two-stage designs;
* :mod:`.binomial` -- exact binomial thresholds, Bayesian beta-binomial stopping
  tables, truncated SPRT, exact operating characteristics.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .boundaries import CLASSICAL_FAMILIES, classical_bounds, spending_bounds
from .conditional import conditional_power, trend_drift
from .design import (
    EFFICACY_FAMILIES,
    FUTILITY_FAMILIES,
    GroupSequentialDesign,
    bounds_at_observed_information,
    group_sequential_design,
)
from .errors import DesignError
from .pampallona import PAMPALLONA_TSIATIS
from .recursion import CrossingProbabilities, SequentialIntegrator, crossing_probabilities
from .spending import SPENDING_FAMILIES, SpendingFunction, spending_function, user_spending

if TYPE_CHECKING:
    from .binomial import (
        BinaryBoundary,
        BoundaryOperatingCharacteristics,
        SPRTOperatingCharacteristics,
        TruncatedSPRT,
        bayesian_stopping_boundary,
        exact_threshold,
        exact_threshold_boundary,
        truncated_sprt,
    )
    from .simon import SimonDesign, SimonDesigns, simon_two_stage

# The binomial modules need scipy.stats, which takes most of a second to import; they are
# loaded on first use, so that solving a group sequential design (as `trialcode check` does for
# every interim rule) needs only numpy and scipy.special.
_LAZY = {
    "BinaryBoundary": ".binomial",
    "BoundaryOperatingCharacteristics": ".binomial",
    "SPRTOperatingCharacteristics": ".binomial",
    "TruncatedSPRT": ".binomial",
    "bayesian_stopping_boundary": ".binomial",
    "exact_threshold": ".binomial",
    "exact_threshold_boundary": ".binomial",
    "truncated_sprt": ".binomial",
    "SimonDesign": ".simon",
    "SimonDesigns": ".simon",
    "simon_two_stage": ".simon",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "CLASSICAL_FAMILIES",
    "EFFICACY_FAMILIES",
    "FUTILITY_FAMILIES",
    "PAMPALLONA_TSIATIS",
    "SPENDING_FAMILIES",
    "BinaryBoundary",
    "BoundaryOperatingCharacteristics",
    "CrossingProbabilities",
    "DesignError",
    "GroupSequentialDesign",
    "SPRTOperatingCharacteristics",
    "SequentialIntegrator",
    "SimonDesign",
    "SimonDesigns",
    "SpendingFunction",
    "TruncatedSPRT",
    "bayesian_stopping_boundary",
    "bounds_at_observed_information",
    "classical_bounds",
    "conditional_power",
    "crossing_probabilities",
    "exact_threshold",
    "exact_threshold_boundary",
    "group_sequential_design",
    "simon_two_stage",
    "spending_bounds",
    "spending_function",
    "trend_drift",
    "truncated_sprt",
    "user_spending",
]
