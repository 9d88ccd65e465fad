"""Adapter URLs -> running adapters.

Strategy: a decoder is configured by one URL whose scheme names the protocol and the
transport (``tcp://`` and ``p3+tcp://`` are P3 over TCP, the decoder being the server;
``serial:///dev/ttyUSB0?baud=19200`` P3 over serial; ``amb+tcp``, ``amb+serial``,
``ilap+tcp`` and ``ilap+serial`` the AMB legacy ASCII protocols;
``rmonitor+tcp://HOST:50000`` another scoring system's RMonitor feed;
``mylaps+listen://0.0.0.0:3097`` a listener MyLaps Timing & Scoring pushes to).
The server only ever sees ``Detection`` and ``DecoderState``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from timing_adapters.adapter import Adapter, Detection, OnDetection, OnState
from timing_adapters.amb_legacy.runner import AmbLegacyRunner
from timing_adapters.clock import Clock
from timing_adapters.mylaps_ts.server import SCHEME as MYLAPS_SCHEME
from timing_adapters.mylaps_ts.server import MyLapsExchangeServer
from timing_adapters.p3.records import Passing
from timing_adapters.rmonitor.adapter import RMonitorAdapter
from timing_adapters.runner import DecoderRunner
from timing_adapters.serial_transport import serial_opener

P3_TCP = ("tcp", "p3+tcp")
P3_SERIAL = ("serial", "p3+serial")
AMB_LEGACY = ("amb+tcp", "amb+serial", "ilap+tcp", "ilap+serial")
RMONITOR = ("rmonitor+tcp",)
SCHEMES = (*P3_TCP, *P3_SERIAL, *AMB_LEGACY, *RMONITOR, MYLAPS_SCHEME)


def scheme_of(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise ValueError(f"{url!r}: a decoder URL needs a scheme, e.g. tcp://HOST:5403")
    return scheme


def open_adapter(
    url: str,
    on_detection: OnDetection,
    *,
    clock: Clock | None = None,
    on_state: OnState | None = None,
    silence_timeout_s: float = 15.0,
    last_passing_number: int | None = None,
) -> Adapter:
    """The adapter for ``url``; ``ValueError`` names the supported schemes otherwise."""
    scheme = scheme_of(url)
    if scheme in P3_TCP or scheme in P3_SERIAL:

        async def on_passing(passing: Passing) -> None:
            await on_detection(p3_detection(passing, url, runner.clock_offset_us))

        serial = scheme in P3_SERIAL
        runner = DecoderRunner(
            url if serial else "tcp://" + url.split("://", 1)[1],
            on_passing,
            clock=clock,
            on_state=on_state,
            silence_timeout_s=silence_timeout_s,
            last_passing_number=last_passing_number,
            opener=serial_opener(url) if serial else None,
        )
        return runner
    if scheme in AMB_LEGACY:
        # "auto": an I-Lap is silent between passings, so it has no silence watchdog
        return AmbLegacyRunner(url, on_detection, clock=clock, on_state=on_state)
    if scheme in RMONITOR:
        # another scoring system's feed: its $J passings (race time) feed our engine
        return RMonitorAdapter(
            url, on_detection, clock=clock, on_state=on_state, silence_timeout_s=silence_timeout_s
        )
    if scheme == MYLAPS_SCHEME:
        # we listen; MyLaps Timing & Scoring pushes its passings to us
        return MyLapsExchangeServer(url, on_detection, clock=clock, on_state=on_state)
    raise ValueError(
        f"{url!r}: unsupported decoder URL scheme {scheme!r}; use one of {', '.join(SCHEMES)}"
    )


def p3_detection(passing: Passing, url: str, offset_us: int | None = None) -> Detection:
    """A P3 passing; its RTC is taken as it comes unless GET_TIME measured an offset."""
    decoder_id = str(passing.decoder_id) if passing.decoder_id is not None else url
    return Detection(
        decoder_id=decoder_id,
        transponder=str(passing.transponder),
        time_us=passing.rtc_time_us,
        passing_number=passing.passing_number,
        offset_us=offset_us,
    )
