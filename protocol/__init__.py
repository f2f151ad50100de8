"""The trialcode semantic model: frozen attrs classes, units and time, semantic validation.

Nothing here knows about the protocol language's syntax; `dsl` builds these objects and
`engine` and `render` consume them.
"""

from protocol.errors import (
    Diagnostic,
    ProtocolError,
    ProtocolSemanticError,
    ProtocolSyntaxError,
    Severity,
)
from protocol.source import Span
from protocol.trial import Trial

__all__ = [
    "Diagnostic",
    "ProtocolError",
    "ProtocolSemanticError",
    "ProtocolSyntaxError",
    "Severity",
    "Span",
    "Trial",
]
