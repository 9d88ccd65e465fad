"""A three-event season (one SprintDuro) scored by the series' scheme, against points
worked out by hand below.

Class A, hand-worked (IMG: last finisher 1, each place higher +1, starters at least 1,
winner +1, Fast Five +1, On the Move +1):

  Spring race (endurance): #1 1st of 3 finishers 3+1 = 4; #2 2nd = 2; #3 3rd = 1 + Fast
      Five (five laps all 110.0 s: spread 0) + On the Move = 3; #4 DNF (started) = 1;
      #5 DNS = 0.
  Summer sprint:  #2 1st 3+1 = 4; #1 2nd = 2; #3 3rd = 1.
  Summer endurance: #1 1st of 2 finishers 2+1 = 3; #2 2nd = 1; #3 DSQ = 0.
  Autumn race (endurance): #3 1st 3+1 = 4; #2 2nd 2 + On the Move = 3; #1 3rd = 1.

  Drivers: Ann and Bob (#1, both credited) 4+2+3+1 = 10 with 2 wins; Cat (#2) 2+4+1+3 = 10
  with 1 win, so Ann and Bob rank ahead of Cat on wins; Dan and Eve (#3) 3+1+0+4 = 8;
  Fay 1; Gus 0.
  Teams (endurance only): Red 4+3+1 = 8, Green 3+0+4 = 7, Blue 2+1+3 = 6, Grey 1, Pink 0.
"""

from __future__ import annotations

import pytest

from server.season.points import CountedResult, ResultEntry, Status, fastest_consistent, score
from server.season.scheme import CLUB_TABLE, IMG, PointsScheme, SchemeError
from server.season.standings import standings, trophies

S = 1_000_000
RUN, DNF, DNS, DSQ = Status.RUNNING, Status.DNF, Status.DNS, Status.DSQ
TEAMS = {"1": ("Red", ("Ann", "Bob")), "2": ("Blue", ("Cat",)), "3": ("Green", ("Dan", "Eve"))}
TEAMS |= {"4": ("Grey", ("Fay",)), "5": ("Pink", ("Gus",))}
TEAMS |= {"10": ("Red", ("Hal",)), "11": ("Blue B", ("Ivy",))}


def car(number: str, position: int, status: Status, laps_s: tuple[float, ...] = ()) -> ResultEntry:
    team, drivers = TEAMS[number]
    car_class = "B" if number in {"10", "11"} else "A"
    laps = tuple(round(lap * S) for lap in laps_s)
    return ResultEntry(number, car_class, position, status, team, drivers, laps)


def season(autumn_order: tuple[str, str, str] = ("3", "2", "1")) -> list[CountedResult]:
    spring = CountedResult(
        "Spring",
        "Race",
        "endurance",
        1,
        (
            car("1", 1, RUN, (100, 101, 100, 102, 101, 99)),
            car("2", 2, RUN, (95, 100, 105, 110, 96)),
            car("3", 3, RUN, (110, 110, 110, 110, 110)),
            car("4", 4, DNF, (120, 121)),
            car("5", 5, DNS),
            car("10", 1, RUN, (130, 131)),
            car("11", 2, RUN, (140,)),
        ),
        on_the_move=(("A", "3"),),
    )
    sprint = CountedResult(
        "Summer", "Sprint", "sprint", 2, (car("2", 1, RUN), car("1", 2, RUN), car("3", 3, RUN))
    )
    summer = CountedResult(
        "Summer", "Race", "endurance", 2, (car("1", 1, RUN), car("2", 2, RUN), car("3", 3, DSQ))
    )
    autumn = CountedResult(
        "Autumn",
        "Race",
        "endurance",
        3,
        tuple(car(number, place, RUN) for place, number in enumerate(autumn_order, start=1)),
        on_the_move=(("A", "2"),),
    )
    return [spring, sprint, summer, autumn]


def table(rows: tuple[object, ...]) -> list[tuple[int, str, int, int]]:
    return [(r.position, r.name, r.points, r.wins) for r in rows]  # type: ignore[attr-defined]


def test_spring_race_points_and_bonuses_by_hand() -> None:
    scored = {s.entry.number: (s.place, s.points, s.bonuses) for s in score(season()[0], IMG)}
    assert scored == {
        "1": (1, 4, ("winner",)),
        "2": (2, 2, ()),
        "3": (3, 3, ("fast_five", "on_the_move")),
        "4": (None, 1, ()),  # a starter who did not finish: the minimum
        "5": (None, 0, ()),  # did not start
        "10": (1, 3, ("winner",)),
        "11": (2, 1, ()),  # last finisher 1; no one in B has five laps: no Fast Five
    }


def test_driver_standings_with_team_credit_and_a_tie_broken_by_wins() -> None:
    rows = standings(season(), IMG, by="driver")
    assert table(rows["A"]) == [
        (1, "Ann", 10, 2),
        (2, "Bob", 10, 2),
        (3, "Cat", 10, 1),  # same points as Ann and Bob, one win fewer
        (4, "Dan", 8, 1),
        (5, "Eve", 8, 1),
        (6, "Fay", 1, 0),
        (7, "Gus", 0, 0),
    ]
    assert table(rows["B"]) == [(1, "Hal", 3, 1), (2, "Ivy", 1, 0)]
    ann = rows["A"][0].results
    assert [(c.event, c.session, c.position, c.points, c.bonuses) for c in ann] == [
        ("Spring", "Race", 1, 4, ("winner",)),
        ("Summer", "Sprint", 2, 2, ()),
        ("Summer", "Race", 1, 3, ("winner",)),
        ("Autumn", "Race", 3, 1, ()),
    ]


def test_team_standings_count_endurance_results_only() -> None:
    rows = standings(season(), IMG, by="team")
    assert table(rows["A"]) == [
        (1, "Red", 8, 2),
        (2, "Green", 7, 1),
        (3, "Blue", 6, 0),
        (4, "Grey", 1, 0),
        (5, "Pink", 0, 0),
    ]
    assert table(rows["B"]) == [(1, "Red", 3, 1), (2, "Blue B", 1, 0)]


def test_a_new_results_version_changes_the_points() -> None:
    # version 2 of Autumn: a late penalty swaps #2 and #1 -> #1 2nd (2), #2 3rd (1 + OTM)
    rows = standings(season(autumn_order=("3", "1", "2")), IMG, by="driver")
    assert table(rows["A"])[:3] == [(1, "Ann", 11, 2), (2, "Bob", 11, 2), (3, "Cat", 9, 1)]


def test_only_the_best_six_sprints_count() -> None:
    # Cat wins five sprints alone (1 + winner 1 = 2 points each) and is 2nd of 2 in two
    # (1 point each): of seven, the six best count; of the two equal weakest, the
    # earlier (E3) is dropped
    results = []
    for order in range(1, 8):
        entries = [car("2", 1, RUN)]
        if order in {3, 6}:
            entries = [car("1", 1, RUN), car("2", 2, RUN)]
        results.append(CountedResult(f"E{order}", "Sprint", "sprint", order, tuple(entries)))
    cat = next(r for r in standings(results, IMG)["A"] if r.name == "Cat")
    counted = [(c.event, c.points, c.counted) for c in cat.results]
    assert counted == [
        ("E1", 2, True),
        ("E2", 2, True),
        ("E3", 1, False),
        ("E4", 2, True),
        ("E5", 2, True),
        ("E6", 1, True),
        ("E7", 2, True),
    ]
    assert cat.points == 11
    every_sprint = PointsScheme(name="all sprints", best_sprints_counted=None)
    assert next(r for r in standings(results, every_sprint)["A"] if r.name == "Cat").points == 12


def test_most_recent_best_result_breaks_a_full_tie() -> None:
    early = CountedResult("E1", "R", "endurance", 1, (car("1", 1, RUN), car("2", 2, RUN)))
    late = CountedResult("E2", "R", "endurance", 2, (car("2", 1, RUN), car("1", 2, RUN)))
    rows = standings([early, late], IMG, by="team")["A"]
    # 3+1 and 1 each, one win and one second each: Blue won last, so Blue ranks first
    assert table(rows) == [(1, "Blue", 4, 1), (2, "Red", 4, 1)]


def test_the_club_table_preset_scores_by_its_table() -> None:
    scored = {s.entry.number: s.points for s in score(season()[0], CLUB_TABLE)}
    assert scored == {"1": 20, "2": 17, "3": 15, "4": 1, "5": 0, "10": 20, "11": 17}


def test_fast_five_spread_ties_go_to_the_faster_five() -> None:
    steady = car("1", 2, RUN, (101, 101, 101, 101, 101))
    quick = car("2", 1, RUN, (100, 100, 100, 100, 100, 130))
    assert fastest_consistent([steady, quick], 5) == "2"
    assert fastest_consistent([steady, car("2", 1, DSQ, (90,) * 5)], 5) == "1"


def test_trophies_list_the_top_of_each_class() -> None:
    listed = trophies(season(), IMG, "Spring")
    assert [(t.car_class, t.place, t.number, t.team) for t in listed] == [
        ("A", 1, "1", "Red"),
        ("A", 2, "2", "Blue"),
        ("A", 3, "3", "Green"),
        ("B", 1, "10", "Red"),
        ("B", 2, "11", "Blue B"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"table": (20, 17, 17, 10)}, "not decreasing: place 2 scores 17, place 3 scores 17"),
        ({"table": (10, 12)}, "not decreasing"),
        ({"table": ()}, "empty"),
        ({"winner_bonus": -1}, "winner_bonus is -1"),
        ({"best_sprints_counted": 0}, "best_sprints_counted"),
    ],
)
def test_a_scheme_that_cannot_be_used_is_refused_with_the_reason(
    kwargs: dict[str, object], reason: str
) -> None:
    with pytest.raises(SchemeError, match=reason):
        PointsScheme(name="bad", **kwargs)  # type: ignore[arg-type]


def test_on_the_move_for_a_car_that_did_not_run_is_refused() -> None:
    result = CountedResult("E", "R", "endurance", 1, (car("1", 1, RUN),), (("A", "99"),))
    with pytest.raises(SchemeError, match="car 99"):
        score(result, IMG)
