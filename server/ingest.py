"""Decoder passings -> journal input events.

Strategy: the decoder's clock is taken as it comes (laps are differences of the same
decoder's times). A P3 decoder numbers its passings, and a RESEND after a reconnect
may deliver one we already journaled: (decoder, passing number) pairs already seen are
dropped here, before the journal, so a replayed journal never holds a passing twice.
Loop roles per decoder arrive with multi-loop tracks; for now every decoder is the
start/finish line.
"""

from __future__ import annotations

from server.engine.events import LoopRole, PassingDetected
from timing_adapters.p3 import Passing


class PassingMapper:
    def __init__(self) -> None:
        self._seen: set[tuple[str, int]] = set()

    def remember(self, event: PassingDetected) -> None:
        if event.passing_number is not None:
            self._seen.add((event.decoder_id, event.passing_number))

    def map(self, decoder_url: str, passing: Passing) -> PassingDetected | None:
        """The input event for ``passing``, or None when it was already journaled."""
        decoder_id = str(passing.decoder_id) if passing.decoder_id is not None else decoder_url
        if (decoder_id, passing.passing_number) in self._seen:
            return None
        return PassingDetected(
            at_us=passing.rtc_time_us,
            transponder=str(passing.transponder),
            decoder_id=decoder_id,
            passing_number=passing.passing_number,
            loop=LoopRole.START_FINISH,
        )
