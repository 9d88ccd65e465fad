"""RMonitor (Orbits / "RMonitor timing protocol") feed: sans-IO codec and typed records.

Strategy: no I/O here. ``RMonitorDecoder`` turns bytes into records (or counted
``BadLine``s), ``encode`` turns records into CR LF lines. The input adapter
(``adapter.py``) and the output server (``server.py``) sit beside it.
"""

from .codec import ENCODING, MAX_LINE, RMonitorDecoder, decode_line, encode
from .fields import format_time, parse_time
from .records import (
    BadLine,
    BadLineReason,
    ClassInfo,
    Competitor,
    CompetitorExt,
    DecodeResult,
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
    UnknownRecord,
)

DEFAULT_PORT = 50000
"""The TCP port RMonitor feeds (Orbits, and scoreboards following them) use by default."""

__all__ = [
    "DEFAULT_PORT",
    "ENCODING",
    "MAX_LINE",
    "BadLine",
    "BadLineReason",
    "ClassInfo",
    "Competitor",
    "CompetitorExt",
    "DecodeResult",
    "Flag",
    "Heartbeat",
    "Init",
    "LineCrossing",
    "Passing",
    "PracticePosition",
    "RMonitorDecoder",
    "RacePosition",
    "Record",
    "Run",
    "Setting",
    "UnknownRecord",
    "decode_line",
    "encode",
    "format_time",
    "parse_time",
]
