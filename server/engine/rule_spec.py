"""A session's rule set as chosen and as stored.

Strategy: race control chooses ``{"preset": "img", <RuleSet field>: <JSON value>, ...}``
(a preset name plus the fields that differ). The database keeps the rule set RESOLVED:
``{"name": "img", <every RuleSet field>: <JSON value>}`` (``resolved_spec``), not a
preset name, so changing a preset in code never changes a past session, and not a
pickled RuleSet, so a stored session stays readable as the code grows. Values are the
RuleSet's own units (microseconds for times) in plain JSON: lists for tuples and sets,
enum values as strings, a penalty as ``{"kind": "laps", "value": 1}``. Every field is
checked against the RuleSet's type hints, so a typo or a wrong type is a ``ValueError``
that names the field, at the moment the session is created rather than when its race
starts. Pure code: no I/O.
"""

from __future__ import annotations

import types
from dataclasses import fields, replace
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from server.engine.rules import IMG, PRESETS, PenaltyKind, PenaltySpec, RuleSet

PRESET_KEY = "preset"
_HINTS = get_type_hints(RuleSet)
FIELDS = frozenset(f.name for f in fields(RuleSet)) - {"name"}  # the preset names it


NAME_KEY = "name"  # only a resolved spec has it (a chosen one names a preset instead)
# fields added after sessions were stored resolved: a stored spec without one gets the
# default, which is what those sessions ran under (the feature did not exist)
ADDED_LATER = frozenset({"drive_through_time_us", "stop_and_go_time_us"})


def rules_from_spec(spec: dict[str, Any] | None) -> RuleSet:
    """The RuleSet ``spec`` describes (None: the IMG default); ``ValueError`` if invalid.

    A resolved spec (with ``name``) is read field by field, without any preset.
    """
    if spec is None:
        return IMG
    if not isinstance(spec, dict):
        raise ValueError(f"rules must be an object, not {type(spec).__name__}")
    if NAME_KEY in spec and PRESET_KEY not in spec:
        return _resolved_rules(spec)
    name = spec.get(PRESET_KEY, IMG.name)
    if not isinstance(name, str) or name not in PRESETS:
        raise ValueError(f"unknown rules preset {name!r}; known: {sorted(PRESETS)}")
    overrides = {key: value for key, value in spec.items() if key != PRESET_KEY}
    unknown = sorted(set(overrides) - FIELDS)
    if unknown:
        raise ValueError(f"unknown rules fields {unknown}; known: {sorted(FIELDS)}")
    values = {key: _convert(key, _HINTS[key], value) for key, value in overrides.items()}
    return replace(PRESETS[name], **values)


def resolved_spec(rules: RuleSet) -> dict[str, Any]:
    """Every field of ``rules`` as JSON: what a session stores (``rules_from_spec`` reads
    it back equal to ``rules``)."""
    return {f.name: _json(getattr(rules, f.name)) for f in fields(RuleSet)}


def _resolved_rules(spec: dict[str, Any]) -> RuleSet:
    name = spec[NAME_KEY]
    if not isinstance(name, str):
        raise ValueError(f"rules name must be a string, not {name!r}")
    missing = sorted(FIELDS - set(spec) - ADDED_LATER)
    unknown = sorted(set(spec) - FIELDS - {NAME_KEY})
    if missing or unknown:
        raise ValueError(f"resolved rules: missing fields {missing}, unknown fields {unknown}")
    values = {key: _convert(key, _HINTS[key], spec[key]) for key in FIELDS if key in spec}
    return RuleSet(name=name, **values)


def _json(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PenaltySpec):
        return {"kind": value.kind.value, "value": value.value}
    if isinstance(value, frozenset):
        return sorted(_json(item) for item in value)
    if isinstance(value, tuple):
        return [_json(item) for item in value]
    return value


def _convert(key: str, hint: Any, value: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _convert(key, inner, value)
    if origin in (tuple, frozenset):
        if not isinstance(value, list):
            raise ValueError(f"rules field {key!r} must be a list, not {value!r}")
        items = [_convert(key, args[0], item) for item in value]
        return tuple(items) if origin is tuple else frozenset(items)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"rules field {key!r} must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"rules field {key!r} must be a non-negative integer, not {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            known = [member.value for member in hint]
            raise ValueError(f"rules field {key!r}: {value!r} is not one of {known}") from None
    if hint is PenaltySpec:
        if not isinstance(value, dict) or set(value) != {"kind", "value"}:
            raise ValueError(f"rules field {key!r} must be {{'kind': ..., 'value': ...}}")
        kind = _convert(key, PenaltyKind, value["kind"])
        return PenaltySpec(kind, _convert(key, int, value["value"]))
    raise ValueError(f"rules field {key!r} cannot be set")  # pragma: no cover - new field type
