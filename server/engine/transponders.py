"""Transponder to car mapping, and the list of transponders nobody claims.

Strategy: four layers, the first that knows a transponder wins: race control's swaps
(``TransponderAssigned`` with ``from_us``, from then on), race control's whole-session
assignments (its earlier passings count retroactively), the entry changes journaled
during the session (from their time on), and the entry list the session started with.
Race control's assignments are given up front (the engine rebuilds from its log after
each one), entries arrive as journaled events, in order. One transponder on two cars
of one entry list is a configuration error and raises. Passings of unknown transponders
are kept, counted and listed so that race control can assign them; they change nothing
else.
"""

from __future__ import annotations

from bisect import bisect_right, insort_right
from collections.abc import Sequence

from server.engine.events import TransponderAssigned
from server.engine.model import Entry, UnknownTransponder
from server.engine.outbound import UnknownTransponderSeen

# (from_us, car) in time order; car None: the transponder counts for nobody from then on
_Timeline = list[tuple[int, str | None]]


def _at(timeline: _Timeline | None, at_us: int) -> tuple[bool, str | None]:
    """Whether ``timeline`` says anything at ``at_us``, and what."""
    if timeline:
        index = bisect_right(timeline, at_us, key=lambda change: change[0])
        if index:
            return True, timeline[index - 1][1]
    return False, None


class TransponderMap:
    def __init__(
        self, entries: Sequence[Entry], assignments: Sequence[TransponderAssigned] = ()
    ) -> None:
        self._entered: dict[str, str] = {}  # the entry list the session started with
        self._entry_changes: dict[str, _Timeline] = {}  # entry changes during the session
        self._assigned: dict[str, str] = {}  # race control, for the whole session
        self._swaps: dict[str, _Timeline] = {}  # race control, from a time on
        self._unknown: dict[str, UnknownTransponder] = {}
        self.enter_list(entries)
        for assigned in assignments:
            if assigned.from_us is None:
                self._assigned[assigned.transponder] = assigned.number
                self._swaps.pop(assigned.transponder, None)
            else:
                swaps = self._swaps.setdefault(assigned.transponder, [])
                insort_right(swaps, (assigned.from_us, assigned.number), key=lambda s: s[0])

    def enter_list(self, entries: Sequence[Entry]) -> None:
        """The entries' transponders belong to them for the whole session; raises
        ``ValueError`` when two of these entries claim one transponder."""
        claimed: dict[str, str] = {}
        for entry in entries:
            for transponder in entry.transponders:
                owner = claimed.setdefault(transponder, entry.number)
                if owner != entry.number:
                    raise ValueError(
                        f"transponder {transponder!r} is on cars {owner!r} and {entry.number!r}"
                    )
        self._entered.update(claimed)

    def change_entry(
        self, number: str, before: Sequence[str], after: Sequence[str], at_us: int
    ) -> None:
        """Car ``number``'s transponders went from ``before`` to ``after`` at ``at_us``: a
        lost one counts for nobody from then on (unless another car took it meanwhile),
        a gained one for this car."""
        for transponder in before:
            if transponder not in after and self._entry_owner(transponder, at_us) == number:
                self._change(transponder, at_us, None)
        for transponder in after:
            if self._entry_owner(transponder, at_us) != number:
                self._change(transponder, at_us, number)

    def _change(self, transponder: str, at_us: int, number: str | None) -> None:
        timeline = self._entry_changes.setdefault(transponder, [])
        insort_right(timeline, (at_us, number), key=lambda change: change[0])

    def _entry_owner(self, transponder: str, at_us: int) -> str | None:
        known, number = _at(self._entry_changes.get(transponder), at_us)
        return number if known else self._entered.get(transponder)

    def car_of(self, transponder: str, at_us: int) -> str | None:
        known, number = _at(self._swaps.get(transponder), at_us)
        if known:
            return number
        assigned = self._assigned.get(transponder)
        if assigned is not None:
            return assigned
        return self._entry_owner(transponder, at_us)

    def seen_unknown(self, transponder: str, at_us: int) -> UnknownTransponderSeen:
        known = self._unknown.get(transponder)
        if known is None:
            known = UnknownTransponder(count=1, first_seen_us=at_us, last_seen_us=at_us)
        else:
            known = UnknownTransponder(
                count=known.count + 1,
                first_seen_us=min(known.first_seen_us, at_us),
                last_seen_us=max(known.last_seen_us, at_us),
            )
        self._unknown[transponder] = known
        return UnknownTransponderSeen(transponder=transponder, at_us=at_us, count=known.count)

    def unknown(self) -> dict[str, UnknownTransponder]:
        return dict(self._unknown)
