"""The spectators' live table: chips for exceptions only, laps once a car is lapped, sector
and pit-lane columns from the track's loops, and row-level updates that stay small with
them (a 60-car race on a track with two sector loops and pit loops)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from server.engine import RaceEngine, SessionKind
from server.engine.events import LoopRole, PassingDetected
from server.engine.model import CarState, Penalty, PenaltyState, StandingRow, Status
from server.service.hub import Hub
from server.web.contexts import LIVE_BLOCKS
from server.web.formatting import format_minutes_seconds
from server.web.live_render import page_view
from server.web.live_table import chips, lapped, sector_cells, table_view, track_columns
from server.web.rendering import Renderer
from server.web.views import live_context, standings_view
from tests.engine.engine_helpers import S, cross, green, make_engine


def row(number: str = "7", **fields: object) -> StandingRow:
    base = StandingRow(
        position=1,
        number=number,
        class_name="A",
        class_position=1,
        team=f"Team {number}",
        laps=10,
        last_lap_us=100 * S,
        best_lap_us=99 * S,
        best_lap_number=3,
        gap_us=None,
        gap_laps=0,
        interval_us=None,
        interval_laps=0,
        class_gap_us=None,
        class_gap_laps=0,
        class_interval_us=None,
        class_interval_laps=0,
        state=CarState.RUN,
        last_crossing_us=1000 * S,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_running_car_has_no_chip_and_exceptions_have_one() -> None:
    assert chips(row()) == []
    assert chips(row(state=CarState.NOT_STARTED)) == []
    pit = chips(row(state=CarState.PIT, pit_in_us=500 * S), now_us=542 * S)
    assert [(c["kind"], c["label"], c["time"], c["since_us"]) for c in pit] == [
        ("pit", "PIT", "0:42", 500 * S)
    ]
    out = chips(row(state=CarState.OUT, last_pit_lane_us=95 * S + 999_999))
    assert [(c["label"], c["time"]) for c in out] == [("OUT", "1:35")]
    assert [c["label"] for c in chips(row(state=CarState.STOPPED))] == ["STOP"]
    pending = Penalty("i1", "7", "drive_through", None, PenaltyState.PENDING)
    served = Penalty("i2", "7", "stop_and_go", None, PenaltyState.SERVED)
    timed = Penalty("i3", "7", "time_penalty", 30, PenaltyState.APPLIED, time_us=30 * S)
    warned = Penalty("i4", "7", "warning", None, PenaltyState.APPLIED)
    labels = [c["label"] for c in chips(row(penalties=(pending, served, warned, timed)))]
    assert labels == ["DT", "PEN"]
    dsq = chips(row(state=CarState.FINISHED, status=Status.DSQ))
    assert [c["label"] for c in dsq] == ["DSQ"]


def test_pit_lane_times_read_as_minutes_and_seconds() -> None:
    assert format_minutes_seconds(None) == ""
    assert format_minutes_seconds(0) == "0:00"
    assert format_minutes_seconds(65 * S + 999_999) == "1:05"
    assert format_minutes_seconds(3725 * S) == "62:05"
    assert format_minutes_seconds(-5) == "0:00"


def test_a_car_between_the_leaders_crossing_and_its_own_is_not_lapped() -> None:
    leader = row("1", laps=10, last_crossing_us=1000 * S, last_lap_us=100 * S)
    # one lap down on the counts, last seen after the leader's previous crossing (900 s)
    behind = row("2", position=2, laps=9, gap_laps=1, last_crossing_us=905 * S)
    assert not lapped([leader, behind])
    assert lapped([leader, replace(behind, last_crossing_us=890 * S)])
    assert lapped([leader, replace(behind, gap_laps=2)])
    assert not lapped([])
    views = standings_view([leader, behind])
    assert table_view([leader, behind], views, SessionKind.RACE)["laps"] == "lead"
    assert table_view([leader, behind], views, SessionKind.PRACTICE)["laps"] == "all"


def test_sector_cells_mark_the_fields_best_and_the_cars_own() -> None:
    car = row(last_sectors_us=(30 * S, 35 * S, 36 * S), best_sectors_us=(30 * S, 34 * S, 36 * S))
    cells = sector_cells(car, [29 * S, 34 * S, 36 * S])
    assert cells == [
        {"text": "30.000", "mark": "pb"},
        {"text": "35.000", "mark": ""},
        {"text": "36.000", "mark": "ob"},
    ]
    # a lap that missed a sector loop has no sector times: empty cells
    assert sector_cells(row(), [29 * S, 34 * S]) == [
        {"text": "", "mark": ""},
        {"text": "", "mark": ""},
    ]


def test_track_columns_come_from_the_loops() -> None:
    assert track_columns([(LoopRole.START_FINISH, None)]) == (0, False)
    loops = [
        (LoopRole.START_FINISH, None),
        (LoopRole.SECTOR, 1),
        (LoopRole.SECTOR, 2),
        (LoopRole.PIT_IN, None),
    ]
    assert track_columns(loops) == (3, True)


CARS = [str(n) for n in range(1, 61)]


def sector_passing(number: str, at_s: float, sector: int) -> PassingDetected:
    return PassingDetected(
        round(at_s * S), f"T{number}", f"S{sector}", loop=LoopRole.SECTOR, sector=sector
    )


def render(renderer: Renderer, engine: RaceEngine, now_us: int) -> str:
    context = live_context(
        event_name="Sector Cup",
        status=engine.status(),
        rows=engine.standings(),
        server_now_us=now_us,
        clock_rate=1.0,
        sectors=3,
        pit_columns=True,
    )
    return renderer.fragments("live.html", ("standings",), context)


def test_the_wide_table_has_sector_and_pit_lane_cells() -> None:
    renderer, engine = Renderer(), make_engine(["7", "8"], kind=SessionKind.RACE)
    engine.apply(green(0))
    for number in ("7", "8"):
        engine.apply(cross(number, 1))
    engine.apply(sector_passing("7", 31, 1))
    engine.apply(sector_passing("7", 66, 2))
    engine.apply(cross("7", 101))
    engine.apply(cross("8", 102, LoopRole.PIT_IN))
    html = render(renderer, engine, 130 * S)
    assert re.findall(r"<th class=\"c-sec\"[^>]*>(S\d)</th>", html) == ["S1", "S2", "S3"]
    car7 = re.search(r'<tr id="car-7".*?</tr>', html, re.S)
    assert car7 is not None
    assert re.findall(r'<td class="c-sec" data-mark="(\w*)">([^<]*)</td>', car7.group(0)) == [
        ("ob", "30.000"),
        ("ob", "35.000"),
        ("ob", "35.000"),
    ]
    car8 = re.search(r'<tr id="car-8".*?</tr>', html, re.S)
    assert car8 is not None
    assert '<td class="c-pits">1</td>' in car8.group(0)
    ticking = f'data-since-us="{102 * S}" data-since-format="ms">0:28</span>'
    assert car8.group(0).count(ticking) == 2  # the pit-lane column and the PIT chip
    assert ">RUN<" not in html and " stops<" not in html


async def test_a_crossing_stays_about_2_kb_with_sector_and_pit_columns() -> None:
    renderer, engine = Renderer(), make_engine(CARS, kind=SessionKind.RACE, length_us=3600 * S)
    engine.apply(green(0))
    channel = Hub(maxsize=100_000).channel("public")

    def publish(now_us: int) -> None:
        context = live_context(
            event_name="Sector Cup",
            status=engine.status(),
            rows=engine.standings(),
            server_now_us=now_us,
            clock_rate=1.0,
            sectors=3,
            pit_columns=True,
        )
        channel.publish_view(page_view(renderer, "live.html", LIVE_BLOCKS, context))

    publish(0)
    passings: list[tuple[float, PassingDetected]] = []
    for lap in range(4):
        for i, car in enumerate(CARS):
            line = lap * 100.0 + i * 1.5 + (i % 7) * lap * 0.4
            passings.append((line, cross(car, line)))
            if lap < 3:  # the lap after: both sector loops
                passings.append((line + 30, sector_passing(car, line + 30, 1)))
                passings.append((line + 65, sector_passing(car, line + 65, 2)))
    crossings = sum(1 for _, p in passings if p.loop is LoopRole.START_FINISH)
    async with channel.subscribe() as spectator:
        spectator.queue.get_nowait()  # the snapshot
        for at_s, passing in sorted(passings, key=lambda item: item[0]):
            engine.apply(passing)
            publish(round(at_s * S) + 1)
        updates = [spectator.queue.get_nowait() for _ in range(spectator.queue.qsize())]
    total = sum(len(m.encode()) for m in updates)
    print(f"{crossings} crossings: {total / crossings:.0f} bytes per crossing (sectors included)")
    assert total / crossings <= 2048
    assert all("seq" in json.loads(m) for m in updates)
