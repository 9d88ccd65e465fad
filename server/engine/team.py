"""A team's pit wall: its car's stint against the limit, its drivers against the rules,
the pit window and its stops, and what the stewards have still to decide about it.

Strategy: a read-only projection, at a moment given by the caller, of what the engine
has decided already (the car's detail and standing row, the rule set, the session's
pit window, the incidents); no rule is judged twice here: whether a driver may get in
now is the engine's own driver-change check, and how long a driver must still rest its
own rest query, both handed in as functions. Times are integer microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.engine.model import (
    CarDetail,
    PitStopInfo,
    SessionStatus,
    StandingRow,
    StintClock,
)
from server.engine.refusals import Refusal
from server.engine.rules import RuleSet
from server.engine.stewards import Incident


class WindowState(StrEnum):
    NONE = "none"  # the race has no mandatory stop (or the session is not a race)
    BEFORE = "before"  # not open yet (or the green flag not shown yet)
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class StintOutlook:
    """The car's current stint clock against the rule set's stint limit."""

    driver: str | None
    clock: StintClock
    drive_us: int  # at the moment asked
    max_us: int | None  # the rule set's limit; None: none
    left_us: int | None  # to the limit (negative: over it); None: no limit or no stint
    # when the limit is reached if the clock runs on (only while it runs and is under it)
    limit_at_us: int | None


@dataclass(frozen=True, slots=True)
class DriverOutlook:
    """One driver of the car against the driver-time rules."""

    name: str
    in_car: bool
    drive_us: int  # all their stints, the current one up to the moment asked
    stints: int
    longest_stint_us: int
    over_stint_limit: bool  # a stint of theirs went past the limit
    rest_until_us: int | None  # must rest until then before getting in (None: owes none)
    refusal: Refusal | None  # why the engine would refuse them getting in now (None: it would not)
    flagged: bool  # licence or medical missing or expired


@dataclass(frozen=True, slots=True)
class WindowOutlook:
    state: WindowState
    opens_us: int | None
    closes_us: int | None  # None: closes with the race (or the race length is unknown)
    left_us: int | None  # until it opens (BEFORE) or closes (OPEN); None otherwise
    required: int  # mandatory stops for this race
    served: int  # valid ones so far


@dataclass(frozen=True, slots=True)
class TeamOutlook:
    number: str
    at_us: int
    row: StandingRow
    detail: CarDetail
    stint: StintOutlook
    drivers: tuple[DriverOutlook, ...]
    window: WindowOutlook
    stops: tuple[PitStopInfo, ...]
    max_stint_us: int | None
    min_rest_us: int | None
    open_incidents: tuple[Incident, ...]  # about this car, not decided yet


def stint_outlook(row: StandingRow, max_us: int | None, at_us: int) -> StintOutlook:
    clock, since, base = row.stint_clock, row.stint_clock_since_us, row.stint_drive_us
    drive = base
    if clock is StintClock.RUNNING and since is not None:
        drive += max(at_us - since, 0)
    left = None if max_us is None or clock is StintClock.NONE else max_us - drive
    limit_at = None
    if clock is StintClock.RUNNING and since is not None and left is not None and left > 0:
        limit_at = at_us + left  # the moment the running clock gets there
    return StintOutlook(row.driver, clock, drive, max_us, left, limit_at)


def window_outlook(status: SessionStatus, required: int, served: int, at_us: int) -> WindowOutlook:
    """The pit window as the engine set it (``SessionStatus``), seen at ``at_us``; the
    closing moment is inside the window, as a stop's judgement has it."""
    opens, closes = status.pit_window_opens_us, status.pit_window_closes_us
    if required <= 0:
        return WindowOutlook(WindowState.NONE, None, None, None, required, served)
    if opens is None or at_us < opens:
        left = None if opens is None else opens - at_us
        return WindowOutlook(WindowState.BEFORE, opens, closes, left, required, served)
    if closes is not None and at_us > closes:
        return WindowOutlook(WindowState.CLOSED, opens, closes, None, required, served)
    left = None if closes is None else closes - at_us
    return WindowOutlook(WindowState.OPEN, opens, closes, left, required, served)


def team_outlook(
    detail: CarDetail,
    row: StandingRow,
    rules: RuleSet,
    status: SessionStatus,
    incidents: Sequence[Incident],
    refusal_of: Callable[[str], Refusal | None],
    rest_owed_until: Callable[[str], int | None],
    at_us: int,
) -> TeamOutlook:
    """The pit wall of car ``detail.number`` at ``at_us``; ``refusal_of(name)`` and
    ``rest_owed_until(name)`` are the engine's checks for that car at that moment."""
    limit = rules.max_stint_us
    drivers = []
    for d in detail.drivers:
        theirs = [s.drive_us for s in detail.stints if s.driver == d.name]
        longest = max(theirs, default=0)
        drivers.append(
            DriverOutlook(
                name=d.name,
                in_car=d.in_car,
                drive_us=d.drive_us,
                stints=d.stints,
                longest_stint_us=longest,
                over_stint_limit=limit is not None and longest > limit,
                rest_until_us=None if d.in_car else rest_owed_until(d.name),
                refusal=None if d.in_car else refusal_of(d.name),
                flagged=d.flagged,
            )
        )
    number = detail.number
    return TeamOutlook(
        number=number,
        at_us=at_us,
        row=row,
        detail=detail,
        stint=stint_outlook(row, limit, at_us),
        drivers=tuple(drivers),
        window=window_outlook(status, detail.mandatory_required, detail.mandatory_served, at_us),
        stops=detail.stops,
        max_stint_us=limit,
        min_rest_us=rules.min_rest_us,
        open_incidents=tuple(i for i in incidents if i.is_open and number in i.cars),
    )
