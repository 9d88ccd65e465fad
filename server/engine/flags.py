"""Flags: which flag may follow which (one table), and the timeline of flags shown.

Strategy: ``TRANSITIONS`` is the only place that knows the session's flag rules; a
refused change gets a reason string that the engine reports as ``FlagRejected`` (never
an exception, never a state change). The timeline keeps accepted changes in time order,
so the flag of a lap is looked up by bisect on its start time and a walk over the few
changes during the lap: the most severe one marks it (RED over full-course YELLOW).
A flag stamped earlier than the previous change is refused: marks stay well defined.
"""

from __future__ import annotations

from bisect import bisect_right

from server.engine.events import Flag

# NONE -> GREEN starts the session clock; nothing follows CHECKERED.
TRANSITIONS: dict[Flag, frozenset[Flag]] = {
    Flag.NONE: frozenset({Flag.GREEN}),
    Flag.GREEN: frozenset({Flag.YELLOW, Flag.RED, Flag.CHECKERED}),
    Flag.YELLOW: frozenset({Flag.GREEN, Flag.RED, Flag.CHECKERED}),
    Flag.RED: frozenset({Flag.GREEN, Flag.YELLOW, Flag.CHECKERED}),
    Flag.CHECKERED: frozenset(),
}

_SEVERITY: dict[Flag, int] = {Flag.YELLOW: 1, Flag.RED: 2}


class FlagTimeline:
    def __init__(self) -> None:
        self._at: list[int] = []
        self._flags: list[Flag] = []

    @property
    def current(self) -> Flag:
        return self._flags[-1] if self._flags else Flag.NONE

    def refusal(self, at_us: int, flag: Flag) -> str | None:
        """Why ``flag`` may not be shown at ``at_us`` now, or None when it may."""
        current = self.current
        if flag is current:
            return "already_shown"
        if flag not in TRANSITIONS[current]:
            return "invalid_transition"
        if self._at and at_us < self._at[-1]:
            return "out_of_order"
        return None

    def show(self, at_us: int, flag: Flag) -> None:
        self._at.append(at_us)
        self._flags.append(flag)

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
