"""Pit stops of one car: pit-in / pit-out from loops or pit-marshal marks.

Strategy: a stop opens at pit-in and closes at pit-out; both loops and marshal marks
feed the same two calls, and a second pit-in while a stop is open is the same stop seen
twice (a loop and a marshal). Reads go missing, so the record tolerates holes: a
pit-out with no open stop is a stop whose pit-in was missed (no duration), and a
start/finish crossing while the stop is open closes it for the stint clock (the car is
back on track) until a late pit-out gives its real end. One crossing in between is
allowed because on many tracks the pit lane passes the timing line. A driver change
or a solo exit confirmed while the car is on track waits for the next pit-in (pending)
and applies there. Stops before the car's first crossing (a start from the pit lane)
and after its finish are not stops.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Change:
    """A confirmed driver change: who got in, when the marshal entered it, by whom."""

    driver_in: str
    at_us: int
    actor: str
    # the rest rule was waived by race control: the driver's rest ended at this time
    override_rest_until_us: int | None = None


class Stop:
    __slots__ = (
        "change",
        "crossed_us",
        "crossings_after",
        "pit_in_us",
        "pit_out_us",
        "solo_exit_us",
    )

    def __init__(self, pit_in_us: int | None, pit_out_us: int | None = None) -> None:
        self.pit_in_us = pit_in_us
        self.pit_out_us = pit_out_us
        self.crossed_us: int | None = None  # first start/finish crossing after pit-in
        self.crossings_after = 0
        self.change: Change | None = None
        self.solo_exit_us: int | None = None

    @property
    def in_us(self) -> int:
        """When the stop began (its pit-out when the pit-in was missed)."""
        if self.pit_in_us is not None:
            return self.pit_in_us
        assert self.pit_out_us is not None
        return self.pit_out_us

    @property
    def out_us(self) -> int | None:
        """When the car was back on track; None while it is in the pit lane."""
        return self.pit_out_us if self.pit_out_us is not None else self.crossed_us

    @property
    def is_open(self) -> bool:
        return self.out_us is None

    @property
    def duration_us(self) -> int | None:
        if self.pit_in_us is None or self.pit_out_us is None:
            return None
        return self.pit_out_us - self.pit_in_us


class CarPits:
    __slots__ = ("crossed_since_out", "pending_change", "pending_solo_exit_us", "stops")

    def __init__(self) -> None:
        self.stops: list[Stop] = []
        self.crossed_since_out = True  # a pit-out since the last crossing is a duplicate
        self.pending_change: Change | None = None
        self.pending_solo_exit_us: int | None = None

    def open_stop(self) -> Stop | None:
        last = self.stops[-1] if self.stops else None
        return last if last is not None and last.is_open else None

    def pit_in(self, at_us: int) -> bool:
        """A pit-in at ``at_us``; True when it opened a stop."""
        if self.open_stop() is not None:
            return False  # the same stop, seen by a loop and by the marshal
        stop = Stop(at_us)
        stop.change, self.pending_change = self.pending_change, None
        stop.solo_exit_us, self.pending_solo_exit_us = self.pending_solo_exit_us, None
        self.stops.append(stop)
        return True

    def pit_out(self, at_us: int) -> Stop | None:
        """A pit-out at ``at_us``: the stop it ends (a new one if the pit-in was missed),
        or None when it repeats the pit-out of the last stop."""
        last = self.stops[-1] if self.stops else None
        if last is not None and last.pit_out_us is not None and not self.crossed_since_out:
            return None
        self.crossed_since_out = False
        if (
            last is not None
            and last.pit_out_us is None
            and last.crossings_after <= 1
            and (last.pit_in_us is None or at_us >= last.pit_in_us)
        ):
            last.pit_out_us = at_us
            return last
        stop = Stop(None, at_us)
        stop.change, self.pending_change = self.pending_change, None
        stop.solo_exit_us, self.pending_solo_exit_us = self.pending_solo_exit_us, None
        self.stops.append(stop)
        return stop

    def crossing(self, at_us: int) -> bool:
        """A start/finish crossing; True when it closed an open stop for the stint clock."""
        last = self.stops[-1] if self.stops else None
        if last is None or last.pit_out_us is not None:
            if last is not None and last.pit_out_us is not None and at_us > last.pit_out_us:
                self.crossed_since_out = True
            return False
        if last.pit_in_us is not None and at_us <= last.pit_in_us:
            return False  # older than the pit-in, journaled late
        last.crossings_after += 1
        if last.crossed_us is None:
            last.crossed_us = at_us
            return True
        return False
