"""Timing corrections: which are accepted, and the event stream they turn the log into.

Strategy: a correction is not a patch on the state; it changes what the log means, and
the engine rebuilds its state from the corrected log (deterministically: the same log
and corrections give the same state, live or replayed). Transponder assignments go into
the transponder map from the start of the rebuild, so an unknown transponder's earlier
passings count for its car. A deleted passing is left out wherever it is. An added
passing is placed in the log before the first event later than it, as if it had arrived
when it happened, so the car's other crossings stay in order around it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from server.engine.events import (
    Correction,
    EntryChanged,
    EntryListSet,
    InputEvent,
    LoopRole,
    PassingAdded,
    PassingDeleted,
    PassingDetected,
)
from server.engine.refusals import Refusal

CarOf = Callable[[str, int], str | None]


class _Deletions:
    def __init__(self, corrections: Sequence[Correction]) -> None:
        self._loops: dict[tuple[str, int], list[LoopRole | None]] = {}
        for c in corrections:
            if isinstance(c, PassingDeleted):
                self._loops.setdefault((c.number, c.crossing_at_us), []).append(c.loop)

    def __contains__(self, key: tuple[str | None, int, LoopRole]) -> bool:
        number, at_us, loop = key
        if number is None:
            return False
        loops = self._loops.get((number, at_us))
        return loops is not None and any(wanted is None or wanted is loop for wanted in loops)


def effective(
    log: Sequence[InputEvent], corrections: Sequence[Correction], car_of: CarOf
) -> Iterator[InputEvent]:
    """The log as the corrections say it should have been."""
    deleted = _Deletions(corrections)
    added = sorted((c for c in corrections if isinstance(c, PassingAdded)), key=lambda c: c.at_us)
    added = [a for a in added if (a.number, a.at_us, a.loop) not in deleted]
    index = 0
    for event in log:
        # never before an entry event: the car an added passing is for must be entered
        while (
            index < len(added)
            and added[index].at_us < event.at_us
            and not isinstance(event, EntryListSet | EntryChanged)
        ):
            yield added[index]
            index += 1
        if isinstance(event, PassingDetected):
            number = car_of(event.transponder, event.at_us)
            if (number, event.at_us, event.loop) in deleted:
                continue
        yield event
    yield from added[index:]


def refusal(
    correction: Correction,
    cars: Mapping[str, object],
    log: Sequence[InputEvent],
    corrections: Sequence[Correction],
    car_of: CarOf,
) -> Refusal | None:
    """Why ``correction`` cannot apply, or None."""
    if correction.number not in cars:
        return Refusal.UNKNOWN_CAR
    if not isinstance(correction, PassingDeleted):
        return None
    wanted = correction.loop
    for event in effective(log, corrections, car_of):
        if not isinstance(event, PassingDetected | PassingAdded):
            continue
        if event.at_us != correction.crossing_at_us or (
            wanted is not None and event.loop is not wanted
        ):
            continue
        number = (
            event.number
            if isinstance(event, PassingAdded)
            else car_of(event.transponder, event.at_us)
        )
        if number == correction.number:
            return None
    return Refusal.NO_SUCH_PASSING
