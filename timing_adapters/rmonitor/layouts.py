"""Which fields each RMonitor record carries, in wire order, and how each is written.

Strategy: one table drives both directions. A layout names the record's attributes in
wire order with a ``Kind`` that says how to parse and write the field, and how many fields
are mandatory (``$L``'s driver id and class are optional and often absent). Quoting on
output follows the published samples: numbers bare, text and times quoted, the ``$A``
transponder bare when it is a plain token. On input either form is accepted, because
feeds differ (Race Monitor quotes numbers, the IMSA samples do not).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

from .fields import format_time, parse_time
from .records import (
    ClassInfo,
    Competitor,
    CompetitorExt,
    Flag,
    Heartbeat,
    Init,
    LineCrossing,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    Run,
    Setting,
)

_INT = re.compile(r"[0-9]{1,10}")
_BARE_TOKEN = re.compile(r"[A-Za-z0-9._-]+")
_FLAGS = {flag.value.lower(): flag for flag in Flag}


class Kind(Enum):
    TEXT = auto()  # quoted text
    OPT_TEXT = auto()  # quoted text; an empty bare field (or a missing one) = None
    RAW = auto()  # bare text when it is a plain token (the $A transponder)
    INT = auto()
    OPT_INT = auto()  # empty = None
    TIME = auto()  # HH:MM:SS.sss
    OPT_TIME = auto()  # empty = None
    CLOCK = auto()  # HH:MM:SS, with .sss only when not a whole second ($F, $I)
    FLAG = auto()  # six characters, space padded


_OPTIONAL = frozenset({Kind.OPT_TEXT, Kind.OPT_INT, Kind.OPT_TIME})


class FieldError(ValueError):
    """A field that does not parse as its kind."""


@dataclass(frozen=True, slots=True)
class Layout:
    command: str
    factory: Callable[..., Record]
    fields: tuple[tuple[str, Kind], ...]
    required: int  # data fields that must be present; the rest may be missing at the end


LAYOUTS: dict[str, Layout] = {
    layout.command: layout
    for layout in (
        Layout(
            "$F",
            Heartbeat,
            (
                ("laps_to_go", Kind.INT),
                ("time_to_go_us", Kind.CLOCK),
                ("time_of_day_us", Kind.CLOCK),
                ("race_time_us", Kind.CLOCK),
                ("flag", Kind.FLAG),
            ),
            5,
        ),
        Layout(
            "$A",
            Competitor,
            (
                ("registration", Kind.TEXT),
                ("number", Kind.TEXT),
                ("transponder", Kind.RAW),
                ("first_name", Kind.TEXT),
                ("last_name", Kind.TEXT),
                ("nationality", Kind.TEXT),
                ("class_number", Kind.OPT_INT),
            ),
            7,
        ),
        Layout(
            "$COMP",
            CompetitorExt,
            (
                ("registration", Kind.TEXT),
                ("number", Kind.TEXT),
                ("class_number", Kind.OPT_INT),
                ("first_name", Kind.TEXT),
                ("last_name", Kind.TEXT),
                ("nationality", Kind.TEXT),
                ("additional_data", Kind.TEXT),
            ),
            7,
        ),
        Layout("$B", Run, (("number", Kind.INT), ("description", Kind.TEXT)), 2),
        Layout("$C", ClassInfo, (("number", Kind.INT), ("description", Kind.TEXT)), 2),
        Layout("$E", Setting, (("name", Kind.TEXT), ("value", Kind.TEXT)), 2),
        Layout(
            "$G",
            RacePosition,
            (
                ("position", Kind.INT),
                ("registration", Kind.TEXT),
                ("laps", Kind.OPT_INT),
                ("total_time_us", Kind.OPT_TIME),
            ),
            4,
        ),
        Layout(
            "$H",
            PracticePosition,
            (
                ("position", Kind.INT),
                ("registration", Kind.TEXT),
                ("best_lap", Kind.OPT_INT),
                ("best_lap_time_us", Kind.OPT_TIME),
            ),
            4,
        ),
        Layout("$I", Init, (("time_of_day_us", Kind.CLOCK), ("date", Kind.TEXT)), 2),
        Layout(
            "$J",
            Passing,
            (
                ("registration", Kind.TEXT),
                ("lap_time_us", Kind.TIME),
                ("total_time_us", Kind.TIME),
            ),
            3,
        ),
        Layout(
            "$L",
            LineCrossing,
            (
                ("number", Kind.TEXT),
                ("timeline_number", Kind.TEXT),
                ("timeline_name", Kind.TEXT),
                ("date", Kind.TEXT),
                ("time_of_day_us", Kind.TIME),
                ("driver_id", Kind.OPT_INT),  # optional from here on
                ("class_name", Kind.OPT_TEXT),
            ),
            5,
        ),
    )
}
BY_TYPE: dict[object, Layout] = {layout.factory: layout for layout in LAYOUTS.values()}
"""Record class -> its layout, for the encoder."""


def parse_value(kind: Kind, value: str, quoted: bool) -> object:
    """One field's value; FieldError when it does not parse as ``kind``."""
    if value == "" and not quoted and kind in _OPTIONAL:
        return None
    if kind in (Kind.TEXT, Kind.RAW, Kind.OPT_TEXT):
        return value
    if kind is Kind.FLAG:
        stripped = value.strip()
        return _FLAGS.get(stripped.lower(), stripped)
    if kind in (Kind.OPT_INT, Kind.OPT_TIME) and value == "":
        return None
    if kind in (Kind.INT, Kind.OPT_INT):
        if _INT.fullmatch(value) is None:
            raise FieldError(f"not a number: {value!r}")
        return int(value)
    us = parse_time(value)
    if us is None:
        raise FieldError(f"not a time: {value!r}")
    return us


def format_value(kind: Kind, value: object) -> tuple[str, bool]:
    """``(text, quoted)`` for one field; ValueError on a value the wire cannot carry."""
    if value is None and kind in _OPTIONAL:
        return "", False
    if kind in (Kind.TEXT, Kind.OPT_TEXT, Kind.RAW, Kind.FLAG):
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        if kind is Kind.FLAG:
            return value.ljust(6), True
        bare = kind is Kind.RAW and _BARE_TOKEN.fullmatch(value) is not None
        return value, not bare
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r}")
    if kind in (Kind.INT, Kind.OPT_INT):
        if value >= 10**10:
            raise ValueError(f"number {value} too large")
        return str(value), False
    return format_time(value, millis=kind is not Kind.CLOCK), True
