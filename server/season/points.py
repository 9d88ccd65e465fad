"""Championship points of one counted result (a race, or the sprint of a SprintDuro).

Strategy: points go by class. The finishers of a class (status "running" at the flag)
are placed by their class position; a starter who did not finish scores the starter
minimum; a car that did not start, or was disqualified or excluded, scores nothing. The
bonuses are decided here once, with the reason, so a page can say why a car has them:
the class winner; "Fast Five" to the car whose five fastest valid laps have the
smallest spread (fastest minus slowest of the five; ties to the smaller sum of the five,
then the better class position); "On the Move" as the stewards entered it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from server.season.scheme import PointsScheme, SchemeError


class Status(StrEnum):
    RUNNING = "running"  # took the flag: a finisher
    NC = "nc"  # started, not classified
    DNF = "dnf"
    DNS = "dns"
    DSQ = "dsq"
    EXCL = "excl"


STARTED = frozenset({Status.RUNNING, Status.NC, Status.DNF})


@dataclass(frozen=True)
class ResultEntry:
    number: str
    car_class: str
    class_position: int  # in the official results of its class (1 = class winner)
    status: Status
    team: str
    drivers: tuple[str, ...]
    lap_times_us: tuple[int, ...] = ()  # valid laps only: voided laps are left out


@dataclass(frozen=True)
class CountedResult:
    """One official result that scores: an event's race, or the sprint of a SprintDuro."""

    event: str
    session: str
    kind: Literal["sprint", "endurance"]
    order: int  # the event's place in the season (later events have larger numbers)
    entries: tuple[ResultEntry, ...]
    on_the_move: tuple[tuple[str, str], ...] = ()  # (class, car number) awarded by a steward


@dataclass(frozen=True)
class Scored:
    entry: ResultEntry
    place: int | None  # among the class's finishers; None for a car that did not finish
    points: int
    bonuses: tuple[str, ...]  # "winner", "fast_five", "on_the_move"


def score(result: CountedResult, scheme: PointsScheme) -> tuple[Scored, ...]:
    """Every entry's points and bonuses in ``result``, class by class."""
    awarded = dict(result.on_the_move)
    classes = {entry.car_class for entry in result.entries}
    for car_class, number in awarded.items():
        if car_class not in classes:
            raise SchemeError(f"On the Move for class {car_class}: no car of that class ran")
        if not any(e.number == number and e.car_class == car_class for e in result.entries):
            raise SchemeError(f"On the Move for car {number}: it did not run in class {car_class}")
    scored: list[Scored] = []
    for car_class in sorted(classes):
        in_class = [entry for entry in result.entries if entry.car_class == car_class]
        scored.extend(_score_class(in_class, scheme, awarded.get(car_class)))
    return tuple(scored)


def _score_class(
    entries: list[ResultEntry], scheme: PointsScheme, on_the_move: str | None
) -> list[Scored]:
    finishers = sorted(
        (entry for entry in entries if entry.status is Status.RUNNING),
        key=lambda entry: entry.class_position,
    )
    places = {entry.number: place for place, entry in enumerate(finishers, start=1)}
    fast_five = fastest_consistent(entries, scheme.fast_five_laps)
    scored: list[Scored] = []
    for entry in sorted(entries, key=lambda entry: entry.class_position):
        place = places.get(entry.number)
        if entry.status not in STARTED:
            scored.append(Scored(entry, None, 0, ()))
            continue
        points = scheme.place_points(place, len(finishers)) if place is not None else 0
        points = max(points, scheme.starter_minimum)
        bonuses: list[str] = []
        if place == 1 and scheme.winner_bonus:
            bonuses.append("winner")
            points += scheme.winner_bonus
        if entry.number == fast_five and scheme.fast_five_bonus:
            bonuses.append("fast_five")
            points += scheme.fast_five_bonus
        if entry.number == on_the_move and scheme.on_the_move_bonus:
            bonuses.append("on_the_move")
            points += scheme.on_the_move_bonus
        scored.append(Scored(entry, place, points, tuple(bonuses)))
    return scored


def fastest_consistent(entries: list[ResultEntry], laps: int) -> str | None:
    """The car with the smallest spread of its ``laps`` fastest valid laps, or None."""
    candidates: list[tuple[int, int, int, str]] = []
    for entry in entries:
        if entry.status not in STARTED or len(entry.lap_times_us) < laps:
            continue
        fastest = sorted(entry.lap_times_us)[:laps]
        spread = fastest[-1] - fastest[0]
        candidates.append((spread, sum(fastest), entry.class_position, entry.number))
    return min(candidates)[3] if candidates else None
