"""Flags: which flag may follow which (one table), and the timeline of flags shown.

Strategy: ``TRANSITIONS`` is the only place that knows the session's flag rules; a
refused change gets a ``Refusal`` that the engine reports as ``FlagRejected`` (never
an exception, never a state change). The timeline keeps accepted changes in time order,
so the flag of a lap is looked up by bisect on its start time and a walk over the few
changes during the lap: the most severe one marks it (RED over full-course YELLOW).
A flag stamped earlier than the previous change is refused: marks stay well defined.
A local yellow is shown at one corner station while the session flag stays: the table
row of the session flag says whether LOCAL_YELLOW may be shown then, GREEN at the
station clears it; local yellows never mark laps. Cautions the rule set does not use
(Code 60, safety car) are refused.
"""

from __future__ import annotations

from bisect import bisect_right

from server.engine.events import Flag
from server.engine.refusals import Refusal

CAUTIONS = frozenset({Flag.YELLOW, Flag.CODE_60, Flag.SAFETY_CAR})
_RACING = frozenset({Flag.GREEN, *CAUTIONS})

# NONE -> GREEN starts the session clock; nothing follows CHECKERED. LOCAL_YELLOW in a
# row: a station may show it while that is the session flag (it is never one itself).
TRANSITIONS: dict[Flag, frozenset[Flag]] = {
    Flag.NONE: frozenset({Flag.GREEN}),
    **{
        flag: (_RACING | {Flag.RED, Flag.CHECKERED, Flag.LOCAL_YELLOW}) - {flag} for flag in _RACING
    },
    Flag.RED: frozenset({*_RACING, Flag.CHECKERED}),
    Flag.CHECKERED: frozenset(),
    Flag.LOCAL_YELLOW: frozenset(),
}

_SEVERITY: dict[Flag, int] = {Flag.YELLOW: 1, Flag.CODE_60: 1, Flag.SAFETY_CAR: 1, Flag.RED: 2}


class FlagTimeline:
    def __init__(self) -> None:
        self._at: list[int] = []
        self._flags: list[Flag] = []
        self.local_yellows: list[str] = []  # stations, in the order they went yellow

    @property
    def current(self) -> Flag:
        return self._flags[-1] if self._flags else Flag.NONE

    def refusal(self, at_us: int, flag: Flag, cautions: frozenset[Flag]) -> Refusal | None:
        """Why ``flag`` may not be shown at ``at_us`` now, or None when it may."""
        current = self.current
        if flag in CAUTIONS and flag not in cautions:
            return Refusal.NOT_IN_RULES
        if flag is Flag.LOCAL_YELLOW:  # only ever at a station
            return Refusal.INVALID_TRANSITION
        if flag is current:
            return Refusal.ALREADY_SHOWN
        if flag not in TRANSITIONS[current]:
            return Refusal.INVALID_TRANSITION
        if self._at and at_us < self._at[-1]:
            return Refusal.OUT_OF_ORDER
        return None

    def show(self, at_us: int, flag: Flag) -> None:
        self._at.append(at_us)
        self._flags.append(flag)

    def station_refusal(self, station: str, flag: Flag) -> Refusal | None:
        """Why ``flag`` may not be shown at corner ``station`` now, or None."""
        if flag is Flag.LOCAL_YELLOW:
            if Flag.LOCAL_YELLOW not in TRANSITIONS[self.current]:
                return Refusal.INVALID_TRANSITION
            return Refusal.ALREADY_SHOWN if station in self.local_yellows else None
        if flag is Flag.GREEN:
            return None if station in self.local_yellows else Refusal.ALREADY_SHOWN
        return Refusal.INVALID_TRANSITION

    def show_station(self, station: str, flag: Flag) -> None:
        if flag is Flag.LOCAL_YELLOW:
            self.local_yellows.append(station)
        else:
            self.local_yellows.remove(station)

    @property
    def latest_at_us(self) -> int | None:
        """When the current session flag was shown (None: none yet)."""
        return self._at[-1] if self._at else None

    @property
    def changes(self) -> int:
        return len(self._at)

    def periods(self, flags: frozenset[Flag]) -> list[tuple[int, int | None]]:
        """The spans during which the session flag was one of ``flags``; the last may be
        open (None: still shown)."""
        spans: list[tuple[int, int | None]] = []
        start: int | None = None
        for at, flag in zip(self._at, self._flags, strict=True):
            if flag in flags and start is None:
                start = at
            elif flag not in flags and start is not None:
                spans.append((start, at))
                start = None
        if start is not None:
            spans.append((start, None))
        return spans

    def lap_flag(self, start_us: int, end_us: int) -> Flag:
        """The most severe of YELLOW/RED shown during [start, end), else GREEN."""
        i = max(bisect_right(self._at, start_us) - 1, 0)
        worst = Flag.GREEN
        while i < len(self._at) and self._at[i] < end_us:
            flag = self._flags[i]
            if _SEVERITY.get(flag, 0) > _SEVERITY.get(worst, 0):
                worst = flag
            i += 1
        return worst
