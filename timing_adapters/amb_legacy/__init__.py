"""AMB legacy ASCII decoder protocol (P98: AMBrc, Vostok) and I-Lap: sans-IO codec, runner.

Strategy: no I/O in the codec. ``AmbLegacyDecoder`` turns bytes into records (or counted
``BadRecord``s), ``encode`` turns records into wire lines for the emulator and the tests;
``AmbLegacyRunner`` is the asyncio driver over TCP or a serial port.
"""

from .codec import AmbLegacyDecoder
from .records import (
    MAX_RECORD_SIZE,
    SOH,
    BadRecord,
    BadRecordReason,
    DecodeResult,
    Init,
    Passing,
    Record,
    Status,
    UnknownRecord,
)
from .runner import AMB_LEGACY_SCHEMES, AmbLegacyRunner
from .wire import ILAP_INIT, encode, format_time, parse_record, parse_time_us

__all__ = [
    "AMB_LEGACY_SCHEMES",
    "ILAP_INIT",
    "MAX_RECORD_SIZE",
    "SOH",
    "AmbLegacyDecoder",
    "AmbLegacyRunner",
    "BadRecord",
    "BadRecordReason",
    "DecodeResult",
    "Init",
    "Passing",
    "Record",
    "Status",
    "UnknownRecord",
    "encode",
    "format_time",
    "parse_record",
    "parse_time_us",
]
