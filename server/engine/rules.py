"""The series rule set: every number of RULES.md as a parameter, and named presets.

Strategy: one frozen dataclass whose defaults are the IMG Endurance rules, so a session
that says nothing runs IMG rules; another series is a ``dataclasses.replace`` of it.
The engine only reads these values, it never changes them during a session. Presets
fill in the rows of RULES.md we know; every other value stays at the IMG default and
is to be confirmed by the club (the engine has no notion of fuel, so a "minimum stop
when fuel is added" is held to every stop).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from server.engine.events import Flag

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US


class DriveTime(StrEnum):
    """What counts as a driver's stint time."""

    PIT_EXCLUDED = "pit_excluded"  # pit-lane time never counts
    # pit-lane time is excluded only at a stop where the driver changed; a stop without
    # a change does not interrupt the stint clock
    PIT_EXCLUDED_ON_CHANGE = "pit_excluded_on_change"


class PenaltyKind(StrEnum):
    LAPS = "laps"
    TIME = "time"  # seconds added to the race time
    DRIVE_THROUGH = "drive_through"
    STOP_AND_GO = "stop_and_go"  # value: seconds to stand still


@dataclass(frozen=True, slots=True)
class PenaltySpec:
    """A penalty the rule set prescribes; the engine only proposes it to the stewards."""

    kind: PenaltyKind
    value: int  # laps, or seconds for TIME and STOP_AND_GO

    def describe(self) -> str:
        if self.kind is PenaltyKind.LAPS:
            return f"{self.value} lap penalty" if self.value == 1 else f"{self.value} laps penalty"
        if self.kind is PenaltyKind.DRIVE_THROUGH:
            return "drive-through penalty"
        label = "time penalty" if self.kind is PenaltyKind.TIME else "stop-and-go"
        return f"{self.value} s {label}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str = "img"
    # driver time
    max_stint_us: int | None = 3 * HOUR_US  # None: no stint limit
    stint_warnings_us: tuple[int, ...] = (15 * MINUTE_US, 5 * MINUTE_US)  # before the limit
    min_rest_us: int | None = HOUR_US  # None: a driver may go back in at once
    drive_time: DriveTime = DriveTime.PIT_EXCLUDED
    stint_frozen_under_caution: bool = False  # FCY / Code 60 / safety car stop stint clocks
    stint_frozen_under_red: bool = False
    # mandatory stops and the pit window (offsets in race time from the green flag)
    mandatory_stops: int = 1
    # AER: "race minutes / 90 - 1" stops; when set it replaces ``mandatory_stops``
    mandatory_stops_every_us: int | None = None
    window_opens_us: int = 0
    window_closes_us: int | None = None  # None: the end of the race
    window_closing_warning_us: int = 10 * MINUTE_US
    min_stop_us: int | None = None  # pit-in to pit-out; None: no minimum
    # a stop that began under the safety car must last this long (BRSCC)
    min_stop_under_safety_car_us: int | None = None
    short_stop_penalty: PenaltySpec | None = None  # proposed when a minimum is not met
    solo_max_race_us: int | None = 3 * HOUR_US  # solo drivers allowed up to this length
    missed_stop_penalty: PenaltySpec = PenaltySpec(PenaltyKind.LAPS, 1)
    # the stewards: a drive-through / stop-and-go not served before the car's race ends
    # becomes this time penalty
    drive_through_time_us: int = 30_000_000
    stop_and_go_time_us: int = 40_000_000
    # flags and the clock
    caution_flags: frozenset[Flag] = frozenset({Flag.YELLOW})  # full-course cautions in use
    red_may_stop_clock: bool = True  # race control may pause the race clock under red
    # classifications
    hourly_snapshots: bool = True
    sprint_split_us: int = 30 * MINUTE_US  # SprintDuro: the sprint ends here

    def required_stops(self, race_length_us: int | None) -> int:
        """Mandatory stops for a race of this length."""
        every = self.mandatory_stops_every_us
        if every is None or race_length_us is None:
            return self.mandatory_stops
        return max(race_length_us // every - 1, 0)

    def solo_allowed(self, race_length_us: int | None) -> bool:
        limit = self.solo_max_race_us
        return limit is not None and race_length_us is not None and race_length_us <= limit


IMG = RuleSet()

PRESETS: dict[str, RuleSet] = {
    "img": IMG,
    # ChampCar (older rules): 2 h stints; 5 min stops "when fuel is added"
    "champcar_older": replace(
        IMG, name="champcar_older", max_stint_us=2 * HOUR_US, min_stop_us=5 * MINUTE_US
    ),
    # AER: race minutes / 90 - 1 mandatory stops, 3 min hot-pit entry to exit
    "aer": replace(
        IMG, name="aer", mandatory_stops_every_us=90 * MINUTE_US, min_stop_us=3 * MINUTE_US
    ),
    # WCMA: timed 5 min fuel stop; leaving early is a further 5 min stop-and-go
    "wcma": replace(
        IMG,
        name="wcma",
        min_stop_us=5 * MINUTE_US,
        short_stop_penalty=PenaltySpec(PenaltyKind.STOP_AND_GO, 300),
    ),
    # BRSCC endurance: a stop made under the safety car lasts at least 6 min
    "brscc": replace(
        IMG,
        name="brscc",
        caution_flags=frozenset({Flag.YELLOW, Flag.SAFETY_CAR}),
        min_stop_under_safety_car_us=6 * MINUTE_US,
    ),
}


def preset(name: str) -> RuleSet:
    """The named preset; raises ``KeyError`` listing the known names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown rule set {name!r}; known: {sorted(PRESETS)}") from None
