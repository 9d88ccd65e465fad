"""AMB/MyLaps P3 decoder protocol: sans-IO codec and typed records.

Strategy: no I/O here. ``P3Decoder`` turns bytes into records (or counted ``BadFrame``s),
``encode`` turns records into wire frames; transports and the emulator sit beside it.
"""

from .codec import (
    MAX_PASSING_NUMBER,
    P3Decoder,
    decode_frame,
    encode,
    encode_get_time,
    encode_resend,
)
from .crc import crc16, frame_crc
from .framing import MAX_FRAME_SIZE, BadFrameReason, escape, unescape
from .records import (
    BadFrame,
    DecodeResult,
    Field,
    GetTime,
    Passing,
    Record,
    RecordType,
    Resend,
    Status,
    UnknownRecord,
    Version,
)

__all__ = [
    "MAX_FRAME_SIZE",
    "MAX_PASSING_NUMBER",
    "BadFrame",
    "BadFrameReason",
    "DecodeResult",
    "Field",
    "GetTime",
    "P3Decoder",
    "Passing",
    "Record",
    "RecordType",
    "Resend",
    "Status",
    "UnknownRecord",
    "Version",
    "crc16",
    "decode_frame",
    "encode",
    "encode_get_time",
    "encode_resend",
    "escape",
    "frame_crc",
    "unescape",
]
