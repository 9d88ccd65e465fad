"""Decoder clocks -> the session clock.

Strategy: every decoder keeps its own clock (a P3 RTC in UTC, an AMB decoder's seconds
since power-on, a MyLaps computer's local time of day), while flags and the race clock
run on the server's clock. A passing reaches us a little after the decoder stamped it,
so ``received - decoder_time`` is the clock offset plus a latency that is never negative:
the smallest such sample is the best estimate. The offset is held fixed once learned, so
lap times (differences of one decoder's times) stay exact to the decoder's precision; it
is re-learned only when a sample proves it too large by more than ``tolerance_us`` (the
first sample was a late, resent passing) or when ``confirm`` samples in a row say the
decoder's clock jumped (a decoder reset), and each re-learn is counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class DecoderClock:
    offset_us: int
    samples: int = 0
    relearned: int = 0
    _jumps: int = 0


class ClockMap:
    def __init__(
        self, *, tolerance_us: int = 1_000_000, jump_us: int = 60_000_000, confirm: int = 3
    ) -> None:
        self.tolerance_us = tolerance_us
        self.jump_us = jump_us
        self.confirm = confirm
        self.decoders: dict[str, DecoderClock] = {}

    def to_session(
        self,
        decoder_id: str,
        decoder_time_us: int,
        received_at_us: int,
        decoder_now_us: int | None = None,
    ) -> int:
        """``decoder_time_us`` in the session clock, learning from this sample.

        ``decoder_now_us`` is the decoder's clock at ``received_at_us`` when the protocol
        says it (an RMonitor ``$F``): the offset is learned from it, not from the crossing's
        own time, so an old crossing repeated on connect is placed at its own time."""
        reference = decoder_time_us if decoder_now_us is None else decoder_now_us
        sample = received_at_us - reference
        clock = self.decoders.get(decoder_id)
        if clock is None:
            clock = self.decoders[decoder_id] = DecoderClock(offset_us=sample)
        elif sample < clock.offset_us - self.tolerance_us:
            clock.offset_us, clock._jumps = sample, 0
            clock.relearned += 1
        elif sample > clock.offset_us + self.jump_us:
            clock._jumps += 1
            if clock._jumps >= self.confirm:
                clock.offset_us, clock._jumps = sample, 0
                clock.relearned += 1
        else:
            clock._jumps = 0
        clock.samples += 1
        return decoder_time_us + clock.offset_us

    def offset(self, decoder_id: str) -> int | None:
        clock = self.decoders.get(decoder_id)
        return None if clock is None else clock.offset_us
