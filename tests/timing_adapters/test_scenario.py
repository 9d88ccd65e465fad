"""The race scenario generator: deterministic, realistic, and consistent with its own data."""

from __future__ import annotations

import csv
import io
import itertools
from collections import defaultdict

import pytest

from timing_adapters.emulator.scenario import (
    DEFAULT_CLASSES,
    ClassSpec,
    Scenario,
    generate_race,
)

US = 1_000_000


@pytest.fixture(scope="module")
def race() -> Scenario:
    return generate_race(seed=7, double_read_rate=0.02)


def real_crossings(s: Scenario) -> dict[int, list[int]]:
    """Offsets per transponder, without the double reads."""
    extra = defaultdict(list)
    for d in s.double_reads:
        extra[d.transponder].append(d.offset_us)
    out: dict[int, list[int]] = defaultdict(list)
    for p in s.passings:
        if p.offset_us in extra[p.transponder]:
            extra[p.transponder].remove(p.offset_us)
        else:
            out[p.transponder].append(p.offset_us)
    return out


def test_same_seed_same_race_other_seed_other_race() -> None:
    assert generate_race(seed=3) == generate_race(seed=3)
    assert generate_race(seed=3).passings != generate_race(seed=4).passings


def test_field_size_classes_numbers_transponders(race: Scenario) -> None:
    assert len(race.cars) >= 30
    assert len({c.class_name for c in race.cars}) >= 3
    numbers = [c.number for c in race.cars]
    assert len(set(numbers)) == len(numbers) and "07" in numbers and "7" not in numbers
    assert all(isinstance(n, str) and n.isdigit() for n in numbers)
    chips = [c.transponder for c in race.cars]
    assert len(set(chips)) == len(chips)
    assert len({c.team for c in race.cars}) == len(race.cars)
    drivers = [d for c in race.cars for d in c.drivers]
    assert len(set(drivers)) == len(drivers)
    assert sorted(race.grid) == sorted(numbers)


def test_passings_sorted_known_and_start_in_grid_order(race: Scenario) -> None:
    offsets = [p.offset_us for p in race.passings]
    assert offsets == sorted(offsets)
    by_chip = {c.transponder: c.number for c in race.cars}
    assert {p.transponder for p in race.passings} == set(by_chip)
    first: dict[str, int] = {}
    for p in race.passings:
        first.setdefault(by_chip[p.transponder], p.offset_us)
    assert sorted(first, key=first.__getitem__) == race.grid
    assert min(first.values()) > 0 and max(first.values()) < 30 * US


def test_lap_times_are_realistic_except_pit_laps(race: Scenario) -> None:
    base = {c.name: c.base_lap_s for c in DEFAULT_CLASSES}
    pit_laps = {(s.number, s.lap) for s in race.pit_stops}
    crossings = real_crossings(race)
    for car in race.cars:
        times = crossings[car.transponder]
        for lap, (a, b) in enumerate(itertools.pairwise(times), start=1):
            lap_s = (b - a) / US
            if (car.number, lap) in pit_laps:
                assert base[car.class_name] + 130 < lap_s < base[car.class_name] + 380
            else:
                assert 0.95 <= lap_s / base[car.class_name] <= 1.25, (car.number, lap, lap_s)
                assert 100 < lap_s < 170


def test_every_car_stops_inside_the_pit_lap(race: Scenario) -> None:
    crossings = real_crossings(race)
    stops = defaultdict(list)
    for s in race.pit_stops:
        stops[s.number].append(s)
    assert set(stops) == {c.number for c in race.cars}
    assert any(len(v) == 2 for v in stops.values())
    for car in race.cars:
        times = crossings[car.transponder]
        driver = car.drivers[0]
        for s in stops[car.number]:
            assert times[s.lap - 1] < s.in_offset_us < s.out_offset_us < times[s.lap]
            assert 120 * US <= s.out_offset_us - s.in_offset_us <= 300 * US
            assert s.driver_out == driver and s.driver_in in car.drivers
            driver = s.driver_in
    solo = [c for c in race.cars if len(c.drivers) == 1]
    assert len(solo) == 1
    assert all(s.driver_in == s.driver_out for s in stops[solo[0].number])
    assert sum(s.driver_in != s.driver_out for s in race.pit_stops) >= len(race.cars) // 2
    assert [s.in_offset_us for s in race.pit_stops] == sorted(
        s.in_offset_us for s in race.pit_stops
    )


def test_time_certain_finish_and_one_retirement(race: Scenario) -> None:
    length_us = race.length_s * US
    crossings = real_crossings(race)
    (retired,) = race.retirements
    checkered = race.checkered_offset_us
    assert checkered >= length_us
    laps: dict[str, int] = {}
    for car in race.cars:
        times = crossings[car.transponder]
        laps[car.number] = len(times) - 1
        if car.number == retired.number:
            assert times[-1] < retired.offset_us < length_us
            assert retired.laps == len(times) - 1
            continue
        after = [t for t in times if t >= checkered]
        assert len(after) == 1  # exactly one crossing from the checkered on: the finish
        assert after[0] == checkered or after[0] > checkered
    leader_laps = max(laps.values())
    finishers_at_checkered = [
        c.number for c in race.cars if crossings[c.transponder][-1] == checkered
    ]
    assert len(finishers_at_checkered) == 1 and laps[finishers_at_checkered[0]] == leader_laps
    assert laps[retired.number] < leader_laps


def test_double_reads_follow_a_real_crossing(race: Scenario) -> None:
    assert race.double_reads
    crossings = real_crossings(race)
    for d in race.double_reads:
        gaps = [d.offset_us - t for t in crossings[d.transponder]]
        assert any(0.1 * US <= g <= 3 * US for g in gaps)
    assert not generate_race(seed=7, double_read_rate=0.0).double_reads


def test_entries_csv_parses_and_matches_the_cars(race: Scenario) -> None:
    rows = list(csv.DictReader(io.StringIO(race.entries_csv())))
    assert list(rows[0]) == ["number", "class", "team", "drivers", "transponder"]
    assert [
        (r["number"], r["class"], r["team"], tuple(r["drivers"].split(";")), int(r["transponder"]))
        for r in rows
    ] == [(c.number, c.class_name, c.team, c.drivers, c.transponder) for c in race.cars]


def test_custom_classes_short_race_no_stops() -> None:
    classes = [ClassSpec("GT", 100.0), ClassSpec("TC", 110.0, 2.0), ClassSpec("X", 120.0)]
    s = generate_race(seed=2, cars=30, classes=classes, length_s=1800, pit_stops=False)
    counts = {k: sum(c.class_name == k for c in s.cars) for k in ("GT", "TC", "X")}
    assert counts == {"GT": 8, "TC": 15, "X": 7}
    assert not s.pit_stops and s.checkered_offset_us >= 1800 * US


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cars": 0},
        {"classes": []},
        {"length_s": 60},
        {"double_read_rate": 1.5},
        {"classes": [ClassSpec("A", 100.0, 0.0)]},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        generate_race(**kwargs)  # type: ignore[arg-type]
