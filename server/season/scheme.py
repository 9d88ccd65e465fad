"""A series' points scheme: every number and bonus of the championship is a parameter.

Strategy: a scheme is a frozen value checked once when it is made (``SchemeError`` says
what to fix), so scoring never meets a table that is not decreasing or a negative
bonus. Two presets show the parameters are real: IMG's published "last finisher 1,
each place higher 1 more" and a common club table (20-17-15-...).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise


class SchemeError(ValueError):
    """A points scheme, class band or equivalency table that cannot be used, and why."""


@dataclass(frozen=True)
class PointsScheme:
    name: str
    # points by finishing place in the class (1st first); None: the last finisher scores
    # ``last_finisher_points`` and each place higher ``step`` more (IMG)
    table: tuple[int, ...] | None = None
    last_finisher_points: int = 1
    step: int = 1
    starter_minimum: int = 1  # everyone who starts scores at least this
    winner_bonus: int = 1
    fast_five_bonus: int = 1  # the most consistent five fastest laps in the class
    fast_five_laps: int = 5
    on_the_move_bonus: int = 1  # a steward's award, entered by hand
    best_sprints_counted: int | None = 6  # None: every sprint counts
    trophy_depth: int = 3

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise SchemeError("a points scheme needs a name")
        numbers = {
            "last_finisher_points": self.last_finisher_points,
            "step": self.step,
            "starter_minimum": self.starter_minimum,
            "winner_bonus": self.winner_bonus,
            "fast_five_bonus": self.fast_five_bonus,
            "on_the_move_bonus": self.on_the_move_bonus,
        }
        for field, value in numbers.items():
            if value < 0:
                raise SchemeError(f"{field} is {value}: points cannot be negative")
        if self.fast_five_laps < 1:
            raise SchemeError("fast_five_laps must be at least 1")
        if self.best_sprints_counted is not None and self.best_sprints_counted < 1:
            raise SchemeError("best_sprints_counted must be at least 1 (or none for all)")
        if self.trophy_depth < 1:
            raise SchemeError("trophy_depth must be at least 1")
        if self.table is not None:
            if not self.table:
                raise SchemeError("the points table is empty")
            if any(points < 0 for points in self.table):
                raise SchemeError("the points table holds a negative number")
            for place, (higher, lower) in enumerate(pairwise(self.table), start=1):
                if lower >= higher:
                    raise SchemeError(
                        f"the points table is not decreasing: place {place} scores {higher},"
                        f" place {place + 1} scores {lower}"
                    )

    def place_points(self, place: int, finishers: int) -> int:
        """Points for finishing ``place`` (1-based) of ``finishers`` classified cars."""
        if self.table is not None:
            return self.table[place - 1] if place <= len(self.table) else 0
        return self.last_finisher_points + (finishers - place) * self.step


IMG = PointsScheme(name="img")
CLUB_TABLE = PointsScheme(
    name="club-20",
    table=(20, 17, 15, 13, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
    winner_bonus=0,
    fast_five_bonus=0,
    on_the_move_bonus=0,
    best_sprints_counted=None,
)
PRESETS: dict[str, PointsScheme] = {scheme.name: scheme for scheme in (IMG, CLUB_TABLE)}
