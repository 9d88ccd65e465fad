"""The race clock: green flag, pauses under red, and race time <-> session time.

Strategy: every rule stated in race time ("the window closes at 2:30:00", "the sprint
ends at 30:00", "the race lasts 3 h") goes through ``at_race_time``, which shifts the
moment by the pauses race control made before it. While a pause is open, a moment the
pause stands in front of is unknown (None), so nothing that depends on it can happen
(no clock expiry, no checkered, no window alert) until the clock runs again.
"""

from __future__ import annotations

from server.engine.refusals import Refusal


class SessionClock:
    __slots__ = ("green_at_us", "pauses")

    def __init__(self) -> None:
        self.green_at_us: int | None = None
        self.pauses: list[tuple[int, int | None]] = []  # (paused at, resumed at), in order

    @property
    def paused_since_us(self) -> int | None:
        if self.pauses and self.pauses[-1][1] is None:
            return self.pauses[-1][0]
        return None

    @property
    def paused_us(self) -> int:
        """Total length of the closed pauses."""
        return sum(end - start for start, end in self.pauses if end is not None)

    def pause_refusal(self, at_us: int) -> Refusal | None:
        if self.green_at_us is None or at_us < self.green_at_us:
            return Refusal.NOT_STARTED
        if self.paused_since_us is not None:
            return Refusal.ALREADY_PAUSED
        if self.pauses and at_us < (self.pauses[-1][1] or 0):
            return Refusal.OUT_OF_ORDER
        return None

    def pause(self, at_us: int) -> None:
        self.pauses.append((at_us, None))

    def resume_refusal(self, at_us: int) -> Refusal | None:
        since = self.paused_since_us
        if since is None:
            return Refusal.NOT_PAUSED
        return Refusal.OUT_OF_ORDER if at_us < since else None

    def resume(self, at_us: int) -> None:
        self.pauses[-1] = (self.pauses[-1][0], at_us)

    def at_race_time(self, offset_us: int | None) -> int | None:
        """When the race clock shows ``offset_us`` (None before the green, for no offset,
        or while an open pause stands before that moment)."""
        if self.green_at_us is None or offset_us is None:
            return None
        at = self.green_at_us + offset_us
        for start, end in self.pauses:
            if start >= at:
                break
            if end is None:
                return None
            at += end - start
        return at
