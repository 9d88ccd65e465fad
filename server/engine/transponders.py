"""Transponder to car mapping, and the list of transponders nobody claims.

Strategy: entries are fixed for the engine's life, so the map is built once (a car may
carry several transponders; one transponder on two cars is a configuration error and
raises). Passings of unknown transponders are kept, counted and listed so that race
control can assign them; they change nothing else. Race control's assignments are
given up front (the engine rebuilds from its log after each one): one without a start
time moves the transponder for the whole session, so its earlier passings count; one
with ``from_us`` applies to passings from then on (a swap).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from server.engine.events import TransponderAssigned
from server.engine.model import Entry, UnknownTransponder
from server.engine.outbound import UnknownTransponderSeen


class TransponderMap:
    def __init__(
        self, entries: Sequence[Entry], assignments: Sequence[TransponderAssigned] = ()
    ) -> None:
        self._cars: dict[str, str] = {}
        self._unknown: dict[str, UnknownTransponder] = {}
        # transponders swapped during the session: (from, car) in time order
        self._swaps: dict[str, list[tuple[int, str]]] = {}
        for entry in entries:
            for transponder in entry.transponders:
                owner = self._cars.setdefault(transponder, entry.number)
                if owner != entry.number:
                    raise ValueError(
                        f"transponder {transponder!r} is on cars {owner!r} and {entry.number!r}"
                    )

        for assigned in assignments:
            if assigned.from_us is None:
                self._cars[assigned.transponder] = assigned.number
                self._swaps.pop(assigned.transponder, None)
            else:
                swaps = self._swaps.setdefault(assigned.transponder, [])
                swaps.append((assigned.from_us, assigned.number))
                swaps.sort(key=lambda swap: swap[0])

    def car_of(self, transponder: str, at_us: int) -> str | None:
        swaps = self._swaps.get(transponder)
        if swaps:
            index = bisect_right(swaps, at_us, key=lambda swap: swap[0])
            if index:
                return swaps[index - 1][1]
        return self._cars.get(transponder)

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
