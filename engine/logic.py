"""Three-valued (Kleene) logic: TRUE, FALSE and UNKNOWN.

Missing data and evaluation errors are values, not exceptions (as in CEL): an unknown operand
does not stop `and`/`or` from looking at the others, so `unknown and false` is FALSE and
`unknown or true` is TRUE, whatever the order of the operands.

    and     | T  F  U        or      | T  F  U        not T = F
    --------+---------       --------+---------       not F = T
    T       | T  F  U        T       | T  T  T        not U = U
    F       | F  F  F        F       | T  F  U
    U       | U  F  U        U       | T  U  U
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Truth(enum.Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    @staticmethod
    def of(value: bool | None) -> Truth:
        """TRUE/FALSE for a bool, UNKNOWN for None."""
        if value is None:
            return Truth.UNKNOWN
        return Truth.TRUE if value else Truth.FALSE

    def __invert__(self) -> Truth:
        return NOT[self]

    def __and__(self, other: Truth) -> Truth:
        if self is Truth.FALSE or other is Truth.FALSE:
            return Truth.FALSE
        if self is Truth.UNKNOWN or other is Truth.UNKNOWN:
            return Truth.UNKNOWN
        return Truth.TRUE

    def __or__(self, other: Truth) -> Truth:
        if self is Truth.TRUE or other is Truth.TRUE:
            return Truth.TRUE
        if self is Truth.UNKNOWN or other is Truth.UNKNOWN:
            return Truth.UNKNOWN
        return Truth.FALSE

    def __bool__(self) -> bool:
        raise TypeError("a Truth is three-valued: compare it with Truth.TRUE explicitly")


TRUE, FALSE, UNKNOWN = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN
NOT = {TRUE: FALSE, FALSE: TRUE, UNKNOWN: UNKNOWN}


def all_of(values: Iterable[Truth]) -> Truth:
    """Kleene conjunction; stops at the first FALSE (no later operand can change it)."""
    result = TRUE
    for v in values:
        if v is FALSE:
            return FALSE
        if v is UNKNOWN:
            result = UNKNOWN
    return result


def any_of(values: Iterable[Truth]) -> Truth:
    """Kleene disjunction; stops at the first TRUE."""
    result = FALSE
    for v in values:
        if v is TRUE:
            return TRUE
        if v is UNKNOWN:
            result = UNKNOWN
    return result
