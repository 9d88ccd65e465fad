"""Season standings per class, by driver or by team, and the trophy lists of an event.

Strategy: every counted result is scored once (``points.score``), then credited:
to each driver listed on the car (sprint and endurance), and, for endurance results, to
the team name the car was entered under (endurance points are scored by team). A
driver's season counts every endurance result and the best ``best_sprints_counted``
sprint results; the dropped ones stay listed, marked as not counted. Ties are broken by
wins, then second places, and so on, then by who set their best place most recently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from server.season.points import CountedResult, Scored, score
from server.season.scheme import PointsScheme

By = Literal["driver", "team"]


@dataclass(frozen=True)
class Credit:
    event: str
    session: str
    kind: Literal["sprint", "endurance"]
    order: int
    number: str
    position: int  # class position in the official results
    place: int | None  # among the class's finishers
    points: int
    bonuses: tuple[str, ...]
    counted: bool = True


@dataclass(frozen=True)
class StandingRow:
    position: int
    car_class: str
    name: str  # the driver or the team
    points: int
    wins: int
    results: tuple[Credit, ...]


def standings(
    results: list[CountedResult], scheme: PointsScheme, by: By = "driver"
) -> dict[str, tuple[StandingRow, ...]]:
    """Class -> its standings rows, best first."""
    credits: dict[tuple[str, str], list[Credit]] = defaultdict(list)
    for result in sorted(results, key=lambda result: result.order):
        for scored in score(result, scheme):
            for name in _credited(scored, result, by):
                credits[(scored.entry.car_class, name)].append(_credit(scored, result))
    depth = max((c.place or 0 for earned in credits.values() for c in earned), default=0)
    rows_by_class: dict[str, list[tuple[tuple[int, ...], str, list[Credit]]]] = defaultdict(list)
    for (car_class, name), earned in credits.items():
        counted = _drop_sprints(earned, scheme.best_sprints_counted)
        rows_by_class[car_class].append((_rank_key(counted, depth), name, counted))
    table: dict[str, tuple[StandingRow, ...]] = {}
    for car_class, rows in sorted(rows_by_class.items()):
        rows.sort(key=lambda row: (row[0], row[1]))
        table[car_class] = tuple(
            StandingRow(
                position=position,
                car_class=car_class,
                name=name,
                points=sum(credit.points for credit in counted if credit.counted),
                wins=sum(1 for credit in counted if credit.counted and credit.place == 1),
                results=tuple(counted),
            )
            for position, (_key, name, counted) in enumerate(rows, start=1)
        )
    return table


def _credited(scored: Scored, result: CountedResult, by: By) -> tuple[str, ...]:
    if by == "team":
        # team standings are the endurance championship: sprints are the drivers' own
        return (scored.entry.team,) if result.kind == "endurance" and scored.entry.team else ()
    return scored.entry.drivers


def _credit(scored: Scored, result: CountedResult) -> Credit:
    return Credit(
        event=result.event,
        session=result.session,
        kind=result.kind,
        order=result.order,
        number=scored.entry.number,
        position=scored.entry.class_position,
        place=scored.place,
        points=scored.points,
        bonuses=scored.bonuses,
    )


def _drop_sprints(earned: list[Credit], best: int | None) -> list[Credit]:
    """Mark all but the best ``best`` sprint results as not counted (ties: the later)."""
    if best is None:
        return earned
    sprints = sorted(
        (credit for credit in earned if credit.kind == "sprint"),
        key=lambda credit: (-credit.points, -credit.order),
    )
    dropped = {id(credit) for credit in sprints[best:]}
    return [
        Credit(**{**credit.__dict__, "counted": False}) if id(credit) in dropped else credit
        for credit in earned
    ]


def _rank_key(counted: list[Credit], depth: int) -> tuple[int, ...]:
    """Sorts best first: points, then wins, seconds, ... then the most recent best place.

    ``depth`` is the deepest place anyone in the season has, so every row's key has the
    same length and a row with no third places compares as having zero of them.
    """
    kept = [credit for credit in counted if credit.counted]
    places = [credit.place for credit in kept if credit.place is not None]
    place_counts = [-places.count(place) for place in range(1, depth + 1)]
    best = min(places, default=None)
    latest_best = max((c.order for c in kept if best is not None and c.place == best), default=-1)
    return (-sum(c.points for c in kept), *place_counts, -latest_best)


@dataclass(frozen=True)
class Trophy:
    session: str
    car_class: str
    place: int
    number: str
    team: str
    drivers: tuple[str, ...]


def trophies(results: list[CountedResult], scheme: PointsScheme, event: str) -> tuple[Trophy, ...]:
    """The top ``trophy_depth`` finishers of each class in each counted result of ``event``."""
    listed: list[Trophy] = []
    for result in sorted(results, key=lambda result: (result.order, result.session)):
        if result.event != event:
            continue
        for scored in score(result, scheme):
            if scored.place is not None and scored.place <= scheme.trophy_depth:
                entry = scored.entry
                listed.append(
                    Trophy(
                        result.session,
                        entry.car_class,
                        scored.place,
                        entry.number,
                        entry.team,
                        entry.drivers,
                    )
                )
    return tuple(listed)
