"""Passings whose time cannot be right: held as suspect, alerted, never scored.

Strategy: a decoder with a wrong clock (a P3 RTC never set, a relative clock mapped from a stale
offset) would otherwise score nothing silently, or score laps in the future. Each passing carries
the session-clock time it arrived at (journaled, so replay judges it the same way). A passing
timed more than the margin after its arrival is in the future; one that arrived more than the
margin after the green flag but is timed before it belongs to no session. Passings that arrive
late but are timed inside the session (a decoder's RESEND after an outage) are not suspect.
One alert per decoder, with how far off its first suspect passing was.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.events import PassingDetected

AHEAD = "ahead"
BEFORE_START = "before_start"


@dataclass(slots=True)
class SuspectPassings:
    """The suspect passings of one decoder, kept so race control can see how far off it is."""

    decoder_id: str
    count: int
    first_at_us: int  # the first suspect passing's own time
    first_received_us: int  # and when it arrived
    why: str  # AHEAD or BEFORE_START


def suspect_reason(p: PassingDetected, green_at_us: int | None, margin_us: int) -> str | None:
    """Why ``p`` is suspect, or None; passings journaled before arrival times were kept are
    never suspect."""
    received = p.received_at_us
    if received is None:
        return None
    if p.at_us > received + margin_us:
        return AHEAD
    if green_at_us is not None and p.at_us < green_at_us and received > green_at_us + margin_us:
        return BEFORE_START
    return None


def alert_text(s: SuspectPassings) -> str:
    off_s = abs(s.first_at_us - s.first_received_us) // 1_000_000
    where = "ahead of" if s.why == AHEAD else "before the start, behind"
    return (
        f"Decoder {s.decoder_id}: {s.count} passing(s) timed {off_s} s {where} the session "
        "clock held as suspect, not scored; check the decoder's clock"
    )
