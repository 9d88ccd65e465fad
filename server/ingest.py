"""Decoder detections -> journal input events.

Strategy: the decoder's clock is taken as it comes (laps are differences of the same
decoder's times). A P3 decoder numbers its passings, and a RESEND after a reconnect
may deliver one we already journaled: (decoder, passing number) pairs already seen are
dropped here, before the journal, so a replayed journal never holds a passing twice.
The highest number journaled per decoder tells a restarted runner where to resume.
Loop roles per decoder arrive with multi-loop tracks; for now every decoder is the
start/finish line.
"""

from __future__ import annotations

from server.engine.events import LoopRole, PassingDetected
from timing_adapters.adapter import Detection


class PassingMapper:
    def __init__(self) -> None:
        self._seen: set[tuple[str, int]] = set()
        self.last_number: dict[str, int] = {}  # decoder id -> highest passing number seen

    def remember(self, event: PassingDetected) -> None:
        number = event.passing_number
        if number is not None:
            self._seen.add((event.decoder_id, number))
            self.last_number[event.decoder_id] = max(
                number, self.last_number.get(event.decoder_id, number)
            )

    def map(self, detection: Detection) -> PassingDetected | None:
        """The input event for ``detection``, or None when it was already journaled."""
        number = detection.passing_number
        if number is not None and (detection.decoder_id, number) in self._seen:
            return None
        return PassingDetected(
            at_us=detection.time_us,
            transponder=detection.transponder,
            decoder_id=detection.decoder_id,
            passing_number=number,
            loop=LoopRole.START_FINISH,
        )

    def resume_number(self, url: str, decoder_urls: int) -> int | None:
        """Where a restarted runner for ``url`` resumes, so it asks for what it missed.

        Decoders are known by their own id, not their URL; with a single decoder
        configured and a single one in the journal the two must be the same.
        """
        if url in self.last_number:
            return self.last_number[url]
        if decoder_urls == 1 and len(self.last_number) == 1:
            return next(iter(self.last_number.values()))
        return None
