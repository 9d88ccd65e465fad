"""Adapter URLs -> running adapters.

Strategy: a decoder is configured by one URL whose scheme names the protocol and the
transport (``tcp://`` and ``p3+tcp://`` are P3 over TCP, the decoder being the server).
The server only ever sees ``Detection`` and ``DecoderState``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from timing_adapters.adapter import Adapter, Detection, OnDetection, OnState
from timing_adapters.clock import Clock
from timing_adapters.p3.records import Passing
from timing_adapters.runner import DecoderRunner

P3_SCHEMES = ("tcp", "p3+tcp")


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
    if scheme in P3_SCHEMES:
        p3_url = "tcp://" + url.split("://", 1)[1]

        async def on_passing(passing: Passing) -> None:
            await on_detection(p3_detection(passing, url))

        return DecoderRunner(
            p3_url,
            on_passing,
            clock=clock,
            on_state=on_state,
            silence_timeout_s=silence_timeout_s,
            last_passing_number=last_passing_number,
        )
    raise ValueError(f"{url!r}: unsupported decoder URL scheme {scheme!r} (use tcp://HOST:PORT)")


def p3_detection(passing: Passing, url: str) -> Detection:
    decoder_id = str(passing.decoder_id) if passing.decoder_id is not None else url
    return Detection(
        decoder_id=decoder_id,
        transponder=str(passing.transponder),
        time_us=passing.rtc_time_us,
        passing_number=passing.passing_number,
    )
