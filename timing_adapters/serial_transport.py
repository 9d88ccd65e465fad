"""Open a serial port as an asyncio byte stream, from a URL.

Strategy: the codecs never see a port. ``parse_serial_url`` turns
``serial:///dev/ttyUSB0?baud=9600&parity=N&bytesize=8&stopbits=1`` (any scheme ending in
``serial``, so ``p3+serial://`` and ``amb+serial://`` too) into a ``SerialConfig`` and is
pure, so a typo in the settings fails at start-up with a message that names it.
``open_serial`` opens the port with pyserial (which owns termios and the platform
quirks) and hands the file descriptor to ``serial_asyncio_fast``'s transport, which waits
on it with the event loop's ``add_reader``; the result is the same
``(StreamReader, StreamWriter)`` pair that ``transport.open_stream`` gives for TCP, so every
runner reads a serial decoder exactly as it reads a TCP one. An unplugged adapter shows
up as an ``OSError`` (pyserial's ``SerialException`` is one) from ``read`` or from the next
open, which the runners already count and retry. Only ports with a file descriptor are
supported: pyserial's ``loop://`` and other URL handlers have none to wait on, so tests
use real pseudo-terminals instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import serial
from serial_asyncio_fast import SerialTransport

__all__ = [
    "Opener",
    "SerialConfig",
    "open_serial",
    "parse_serial_url",
    "serial_opener",
]

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Opener = Callable[[], Awaitable[Streams]]
"""What a runner calls to (re)connect: no arguments, a fresh stream pair each time."""

_PARITIES = {"n": "N", "none": "N", "e": "E", "even": "E", "o": "O", "odd": "O"}
_PARITIES |= {"m": "M", "mark": "M", "s": "S", "space": "S"}
_STOPBITS = {"1": 1.0, "1.5": 1.5, "2": 2.0}
_ON_OFF = {"1": True, "on": True, "true": True, "0": False, "off": False, "false": False}
_MAX_BAUD = 4_000_000


@dataclass(frozen=True, slots=True)
class SerialConfig:
    """Where a serial decoder is and how to talk to it (8-N-1 at 9600 unless told)."""

    port: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1.0
    rts: bool | None = None  # None: pyserial's default (asserted); I-Lap wants it off


def parse_serial_url(url: str) -> SerialConfig:
    """Validate a serial decoder URL; raise ValueError saying what is wrong with it."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme.endswith("serial"):
        raise ValueError(f"{url!r} is not a serial URL; use serial:///dev/ttyUSB0?baud=9600")
    # serial:///dev/ttyUSB0 has the device in the path; serial://COM3 (Windows) in netloc.
    if parts.netloc and parts.path:
        raise ValueError(f"serial URL {url!r}: use {scheme}:///dev/NAME (three slashes)")
    port = unquote(parts.netloc or parts.path)
    if parts.fragment:
        raise ValueError(f"serial URL {url!r}: nothing may follow '#'")
    if not port or port == "/" or "://" in port:
        raise ValueError(f"serial URL {url!r} names no device; use {scheme}:///dev/ttyUSB0")
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ValueError(f"serial URL {url!r}: malformed query {parts.query!r}") from None
    for key, value in pairs:
        key = {"baudrate": "baud", "databits": "bytesize"}.get(key.lower(), key.lower())
        if key in options:
            raise ValueError(f"serial URL {url!r}: {key} given twice")
        options[key] = value.strip().lower()
    config = SerialConfig(port=port)
    return _apply_options(config, options, url)


def _apply_options(config: SerialConfig, options: dict[str, str], url: str) -> SerialConfig:
    baudrate, bytesize = config.baudrate, config.bytesize
    parity, stopbits, rts = config.parity, config.stopbits, config.rts
    for key, value in options.items():
        if key == "baud":
            if not value.isdigit() or not 50 <= int(value) <= _MAX_BAUD:
                raise ValueError(f"serial URL {url!r}: baud must be 50..{_MAX_BAUD}")
            baudrate = int(value)
        elif key == "bytesize":
            if value not in ("5", "6", "7", "8"):
                raise ValueError(f"serial URL {url!r}: bytesize must be 5, 6, 7 or 8")
            bytesize = int(value)
        elif key == "parity":
            if value not in _PARITIES:
                raise ValueError(f"serial URL {url!r}: parity must be N, E, O, M or S")
            parity = _PARITIES[value]
        elif key == "stopbits":
            if value not in _STOPBITS:
                raise ValueError(f"serial URL {url!r}: stopbits must be 1, 1.5 or 2")
            stopbits = _STOPBITS[value]
        elif key == "rts":
            if value not in _ON_OFF:
                raise ValueError(f"serial URL {url!r}: rts must be on or off")
            rts = _ON_OFF[value]
        else:
            known = "baud, bytesize, parity, stopbits, rts"
            raise ValueError(f"serial URL {url!r}: unknown option {key!r} (known: {known})")
    return SerialConfig(config.port, baudrate, bytesize, parity, stopbits, rts)


async def open_serial(target: str | SerialConfig) -> Streams:
    """Open the port; OSError if it is missing or busy, ValueError on a bad URL."""
    config = parse_serial_url(target) if isinstance(target, str) else target
    # Not "serial_for_url": a device path only, so no URL handler without a descriptor.
    port = serial.Serial(
        None,
        baudrate=config.baudrate,
        bytesize=config.bytesize,
        parity=config.parity,
        stopbits=config.stopbits,
        # A second process on the same port would steal bytes from the middle of records.
        exclusive=True if os.name == "posix" else None,
    )
    port.port = config.port
    if config.rts is not None:
        port.rts = config.rts  # set before open so that the line never glitches
    # pyserial opens with O_NONBLOCK and configures with TCSANOW: nothing here blocks.
    port.open()
    try:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        transport = SerialTransport(loop, protocol, port)
    except BaseException:
        port.close()
        raise
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


def serial_opener(target: str | SerialConfig) -> Opener:
    """An ``Opener`` for a runner; the URL is checked now, the port opened at each call."""
    config = parse_serial_url(target) if isinstance(target, str) else target

    async def opener() -> Streams:
        return await open_serial(config)

    return opener
