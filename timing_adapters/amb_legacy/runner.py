"""Run one AMB legacy (P98) or I-Lap decoder connection forever, over TCP or serial.

Strategy: the URL names protocol and transport: ``amb+tcp://host:port``,
``amb+serial:///dev/ttyS0?baud=9600``, ``ilap+tcp://host:port``, ``ilap+serial://...``.
``amb`` requires a CRC on every record; ``ilap`` sends none (and wants RTS off, so that is
the serial default for it). A fresh codec per connection, so half a record from a dead
link never glues onto the next one. There is nothing to ask again (no RESEND in these
protocols), so ordering is the decoder's; we only drop exact repeats (same decoder,
number, transponder and time), which a reconnect may replay; any other passing numbered
at or below the last one means the decoder numbers from scratch again (power cycle, swap):
a new numbering epoch, so the server keeps its passings. The silence watchdog counts
decodable records: AMB decoders send ``#`` status between passings, so 15 s of nothing
means a dead link; I-Lap sends only passings, so for it the watchdog is off unless asked
for. Every timer is a real monotonic one; the injected ``Clock`` only stamps the status.
Connecting, back-off, closing the link and the read loop with its watchdog are
``ReconnectingRunner``'s (reconnect.py).
Link errors are logged and counted, never raised; a bad record is counted (``bad_frames``)
and logged with its bytes in hex (``rejections.py``); an exception from ``on_detection`` is
a bug in the caller and propagates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from timing_adapters.adapter import Detection, OnDetection, OnState
from timing_adapters.clock import Clock
from timing_adapters.reconnect import ReconnectingRunner, Streams
from timing_adapters.rejections import RejectionLog
from timing_adapters.serial_transport import parse_serial_url, serial_opener
from timing_adapters.transport import open_stream, parse_url

from .codec import AmbLegacyDecoder
from .records import BadRecord, Init, Passing, Status
from .wire import ILAP_INIT

__all__ = ["AMB_LEGACY_SCHEMES", "AmbLegacyRunner"]

logger = logging.getLogger("racecontrol.decoder")

AMB_LEGACY_SCHEMES = ("amb+tcp", "amb+serial", "ilap+tcp", "ilap+serial")
_RECENT = 256  # passings remembered to recognise a replay


def _opener_for(url: str) -> tuple[bool, Callable[[], Awaitable[Streams]]]:
    """(CRC required, opener) for an adapter URL; ValueError names what is wrong."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in AMB_LEGACY_SCHEMES:
        raise ValueError(f"{url!r}: scheme must be one of {', '.join(AMB_LEGACY_SCHEMES)}")
    protocol, transport = scheme.split("+")
    rest = url.split("://", 1)[1]
    if transport == "serial":
        config = parse_serial_url(url)
        if protocol == "ilap" and config.rts is None:
            config = dataclasses.replace(config, rts=False)  # I-Lap: "keep RTS off"
        return protocol == "amb", serial_opener(config)
    tcp_url = "tcp://" + rest
    parse_url(tcp_url)
    if urlsplit(tcp_url).port is None:  # parse_url would default to P3's port
        raise ValueError(f"{url!r}: give the decoder's TCP port, {scheme}://HOST:PORT")

    async def open_tcp() -> Streams:
        return await open_stream(tcp_url)

    return protocol == "amb", open_tcp


class AmbLegacyRunner(ReconnectingRunner[AmbLegacyDecoder]):
    _record: ClassVar[str] = "record"
    _read_size: ClassVar[int] = 4096

    def __init__(
        self,
        url: str,
        on_detection: OnDetection,
        *,
        clock: Clock | None = None,
        on_state: OnState | None = None,
        silence_timeout_s: float | Literal["auto"] | None = "auto",
        backoff_initial_s: float = 0.5,
        backoff_cap_s: float = 10.0,
        jitter: float = 0.0,
        rng: random.Random | None = None,
        connect_timeout_s: float = 5.0,
        reset_clock: bool = False,
        opener: Callable[[], Awaitable[Streams]] | None = None,
        epoch: int = 0,
    ) -> None:
        """``epoch`` resumes the numbering epoch where the journal ends. ``reset_clock``
        (I-Lap only) sends the init command once, on the first connect:
        it also zeroes the decoder clock, so it is never repeated on a reconnect."""
        crc, default_opener = _opener_for(url)  # a bad URL fails now, not in the loop
        if reset_clock and crc:
            raise ValueError("reset_clock is an I-Lap command; AMB decoders do not take it")
        silence = (15.0 if crc else None) if silence_timeout_s == "auto" else silence_timeout_s
        super().__init__(
            url,
            opener if opener is not None else default_opener,
            clock=clock,
            on_state=on_state,
            backoff_initial_s=backoff_initial_s,
            backoff_cap_s=backoff_cap_s,
            jitter=jitter,
            rng=rng,
            connect_timeout_s=connect_timeout_s,
            silence_timeout_s=silence,
        )
        self._crc = crc
        self._on_detection = on_detection
        self._reset_pending = reset_clock
        self._s.numbering_epoch = epoch
        self._last_number: dict[str, int] = {}  # decoder id -> last passing number delivered
        self._recent: OrderedDict[tuple[str, int | None, str, int], None] = OrderedDict()
        self._rejections = RejectionLog(logger, f"decoder {url}")

    def _new_codec(self) -> AmbLegacyDecoder:
        return AmbLegacyDecoder(crc=self._crc)

    def _counts(self, codec: AmbLegacyDecoder) -> tuple[int, int, int]:
        return codec.records, codec.bad_records, codec.junk_bytes

    async def _connected(self, writer: asyncio.StreamWriter) -> None:
        if self._reset_pending:
            writer.write(ILAP_INIT)
            await writer.drain()
            self._reset_pending = False
            logger.info("decoder %s: sent I-Lap init (decoder clock reset)", self._url)

    async def _receive(
        self, codec: AmbLegacyDecoder, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        for record in codec.receive(data):
            if isinstance(record, Passing):
                await self._passing(record)
            elif isinstance(record, Status):
                self._s.last_status_at_us = self._clock.now_us()
                self._s.noise = record.noise
                self._s.decoder_id = record.decoder_id
            elif isinstance(record, Init):
                self._s.decoder_id = record.decoder_id
            elif isinstance(record, BadRecord):
                self._s.last_rejection = self._rejections.report(record.reason, record.data)

    async def _passing(self, passing: Passing) -> None:
        key = (passing.decoder_id, passing.passing_number, passing.transponder, passing.time_us)
        if key in self._recent:
            self._s.duplicates += 1
            return
        number, last = passing.passing_number, self._last_number.get(passing.decoder_id)
        if number is not None and last is not None and number <= last:
            # not a replay (that is in _recent): the decoder numbers from scratch again
            self._s.numbering_epoch += 1
            logger.warning(
                "decoder %s restarted its passing numbers at %d (last was %d); new epoch %d",
                self._url,
                number,
                last,
                self._s.numbering_epoch,
            )
        if number is not None:
            self._last_number[passing.decoder_id] = number
        self._recent[key] = None
        if len(self._recent) > _RECENT:
            self._recent.popitem(last=False)
        self._s.decoder_id = passing.decoder_id
        self._s.passings += 1
        if passing.passing_number is not None:
            self._s.last_passing_number = passing.passing_number
        await self._on_detection(
            Detection(
                decoder_id=passing.decoder_id,
                transponder=passing.transponder,
                time_us=passing.time_us,
                passing_number=passing.passing_number,
                relative_clock=True,  # seconds since the decoder was switched on
                epoch=self._s.numbering_epoch,
            )
        )
