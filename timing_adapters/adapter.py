"""What every decoder adapter gives the server, whatever its protocol.

Strategy: each protocol has its own sans-IO codec and its own runner (the I/O), but
they all report the same two things: a ``Detection`` per transponder crossing, in the
decoder's own clock (integer microseconds), and a ``DecoderState`` snapshot that race
control sees (connected, last status, noise, counters). The server depends on this
module only, never on a protocol's records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Detection:
    """A transponder crossed a loop, as a decoder reported it."""

    decoder_id: str  # the decoder's own id when it has one, else the adapter URL
    transponder: str
    time_us: int  # decoder clock
    passing_number: int | None = None  # decoders that number their passings (P3)
    loop: str | None = None  # loop/location name when the protocol carries one
    # decoder clock -> server clock, when the adapter measured it (P3 GET_TIME)
    offset_us: int | None = None
    # the decoder's clock is not wall time (seconds since power-on, a feed's race time,
    # a local time of day): the server learns its offset from arrival times
    relative_clock: bool = False
    # the decoder's numbering epoch: one more each time it restarted its passing numbers
    # (power cycle, swap), so (decoder, epoch, number) names one passing for good
    epoch: int = 0
    # a crossing of another timeline of a feed (RMonitor ``$L``), by its name: never the
    # finish line, only what the event's track maps that timeline (or ``loop``) to
    timeline: str | None = None
    # the decoder's clock at the moment this detection was handed over, when the protocol
    # says it (an RMonitor feed's race time from its latest ``$F``): a repeated, old
    # crossing is then placed at its own time, not at its arrival
    decoder_now_us: int | None = None
    # the lap this crossing completed, as the other scoring system counted it: set on an
    # RMonitor feed's first ``$J`` of a competitor when its ``$G`` row is that crossing
    lap: int | None = None


@dataclass(slots=True)
class DecoderState:
    """What race control sees about one decoder connection (runners hand out copies)."""

    url: str
    connected: bool = False
    connects: int = 0
    disconnects: int = 0
    last_status_at_us: int | None = None
    noise: int | None = None
    decoder_id: int | str | None = None
    last_passing_number: int | None = None
    numbering_epoch: int = 0  # one more each time the decoder restarted its passing numbers
    passings: int = 0  # delivered to on_passing
    duplicates: int = 0  # dropped: number already delivered or already held
    lost_passings: int = 0  # given up on after unanswered RESENDs; if they come later: duplicates
    frames: int = 0
    bad_frames: int = 0  # rejected: corrupt, malformed, or a field out of range
    last_rejection: str | None = None  # why the latest bad frame was rejected
    junk_bytes: int = 0
    resend_requests: int = 0
    clock_offset_us: int | None = None  # decoder clock -> server clock, when known
    clock_round_trip_us: int | None = None  # of the GET_TIME that set it: the error bound x2
    last_error: str | None = None


OnDetection = Callable[[Detection], Awaitable[None]]
OnState = Callable[[DecoderState], None]


class Adapter(Protocol):
    """A running decoder connection (or listener)."""

    @property
    def state(self) -> DecoderState: ...

    async def run(self) -> None:
        """Run until cancelled; network errors are logged and counted, never raised."""
        ...
