"""The model as JSON: the stable contract read by `trialcode dump`, other tools and the tests.

Schema `trialcode.protocol/1`: every model object becomes a JSON object whose `"node"` member
is its class name and whose other members are its fields, in declaration order (spans are left
out unless asked for); enumerations become their protocol spelling, dates ISO 8601 strings,
tuples arrays. A field added to the model is added here; a field renamed bumps the version.
"""

from __future__ import annotations

import datetime
import enum
from typing import Any

import attrs

from protocol.source import Span
from protocol.trial import Trial

SCHEMA = "trialcode.protocol/1"


def to_data(value: Any, spans: bool = False) -> Any:
    """Convert a model value to plain JSON-able data."""
    if attrs.has(type(value)):
        if isinstance(value, Span):
            return f"{value.file}:{value.line}:{value.column}"
        out: dict[str, Any] = {"node": type(value).__name__}
        for field in attrs.fields(type(value)):
            if field.name == "span":
                if spans and value.span is not None:
                    out["span"] = to_data(value.span)
                continue
            out[field.name] = to_data(getattr(value, field.name), spans)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [to_data(v, spans) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def dump(trial: Trial, spans: bool = False) -> dict[str, Any]:
    """The whole model of `trial` under the versioned schema."""
    return {"schema": SCHEMA, "trial": to_data(trial, spans)}
