"""The car page's view: what it shows from the engine's answers, its render as blocks and
rows, and the updates a crossing makes (the new lap row put first, nothing else of the
history); the lap-time chart's bounds."""

from __future__ import annotations

import json

from server.engine import Flag, LoopRole, PassingDetected, RaceEngine
from server.engine.car_laps import Best
from server.engine.events import Decision, IncidentDecided, IncidentReported, LapVoided
from server.engine.outbound import IncidentRecorded
from server.service.fanout import ViewState, parse
from server.web.car_chart import CHART_LAPS, lap_chart
from server.web.car_page import CAR_BLOCKS, CAR_TEMPLATE, car_view
from server.web.live_render import page_view
from server.web.rendering import Renderer
from tests.engine.engine_helpers import (
    S,
    change,
    cross,
    flag,
    green,
    make_engine,
    pit_in,
    pit_out,
    run,
    team,
)


def engine_with_a_stop() -> RaceEngine:
    engine = make_engine([team("7", "Ann", "Bo"), team("8", "Cy")])
    run(engine, [green(0), cross("7", 0), cross("8", 1), cross("7", 100), cross("8", 99)])
    run(engine, [flag(Flag.YELLOW, 150), cross("7", 205), flag(Flag.GREEN, 206)])
    run(engine, [pit_in("7", 290), change("7", "Bo", 300), pit_out("7", 340), cross("7", 360)])
    run(engine, [cross("7", 455), LapVoided("7", 4, 460 * S, "track limits T4", "rc")])
    return engine


def view_of(engine: RaceEngine, number: str, now_us: int) -> dict[str, object]:
    row = next(r for r in engine.standings() if r.number == number)
    return car_view(
        engine.car_detail(number, now_us),
        engine.car_laps(number),
        row,
        engine.status(),
        now_us,
    )


def test_the_view_shows_laps_flags_voids_stints_and_stops() -> None:
    engine = engine_with_a_stop()
    car = view_of(engine, "7", 470 * S)
    laps = car["laps"]
    assert isinstance(laps, list)
    assert [lap["lap"] for lap in laps] == ["4", "3", "2", "1"]  # newest first
    assert laps[0]["voided"] and laps[0]["void_reason"] == "track limits T4"
    assert laps[2]["flag"] == "yellow" and laps[2]["flag_label"] == "Full-course yellow"
    assert laps[1]["pitted"]
    # the fastest valid lap is car 8's first (98 s): car 7's best (100 s) is its own only
    assert [lap["kind"] for lap in laps] == ["", "", "", Best.PERSONAL.value]
    assert laps[3]["sign"] and laps[3]["word"] == "car's fastest"  # not only a colour
    stints, stops = car["stints"], car["stops"]
    assert isinstance(stints, list) and isinstance(stops, list)
    assert [(s["driver"], s["open"]) for s in stints] == [("Ann", False), ("Bo", True)]
    assert car["driver"] == "Bo"
    (stop,) = stops
    assert stop["lane"] == "50.000" and stop["change"] == "Ann \N{RIGHTWARDS ARROW} Bo"
    assert car["penalties"] == [] and car["position"] == "1"


def test_the_render_cuts_the_lap_table_into_rows_and_a_crossing_sends_the_new_one() -> None:
    renderer = Renderer()
    engine = engine_with_a_stop()
    state = ViewState()

    def render(now_s: int) -> str | None:
        context = {"car": view_of(engine, "7", now_s * S), "server_now_us": now_s * S}
        context["clock_rate"] = 1.0
        return state.update(page_view(renderer, CAR_TEMPLATE, CAR_BLOCKS, context))

    snapshot = render(470)
    assert snapshot is not None and len(parse(snapshot)["o"]["cp-lap-rows"]) == 4
    assert render(480) is None  # time alone: the stint clock ticks in the browser
    run(engine, [cross("7", 560)])  # a slow lap: no best changes
    update = render(561)
    assert update is not None
    message = json.loads(update)
    assert set(message["r"]) == {"cp-lap-5"}
    assert message["p"] == {"cp-lap-rows": ["cp-lap-5"]} and "o" not in message
    assert not any(k.startswith("cp-lap-") for k in message.get("c", {}))
    # an edge (or a browser) applying the update ends with the published rows
    mirror = ViewState()
    mirror.apply(parse(snapshot))
    mirror.apply(message)
    rows = [r.id for b in mirror.blocks.values() for r in b.rows if r.id.startswith("cp-lap")]
    assert rows == ["cp-lap-5", "cp-lap-4", "cp-lap-3", "cp-lap-2", "cp-lap-1"]


def test_the_chart_keeps_its_size_whatever_the_length_of_the_race() -> None:
    engine = make_engine([team("1", "Ann")])
    run(engine, [green(0), *(cross("1", 100 * i + (i % 5)) for i in range(CHART_LAPS + 50))])
    laps = engine.car_laps("1")
    chart = lap_chart(laps, "1")
    assert chart is not None
    assert len(str(chart["points"]).split()) == CHART_LAPS
    assert chart["first_lap"] == str(len(laps) - CHART_LAPS + 1)
    assert "fastest 1:36.000" in str(chart["label"])
    assert chart["best"] is None  # the car's best (the earliest of equal laps) is older
    assert lap_chart(laps[:1], "1") is None  # one lap draws no line


def test_the_stewards_penalty_on_the_car_is_shown_with_its_reason() -> None:
    engine = engine_with_a_stop()
    reported = IncidentReported(470 * S, "00:07:50", "T3", ("7", "8"), "contact", True, "rc")
    (recorded,) = [o for o in run(engine, [reported]) if isinstance(o, IncidentRecorded)]
    decided = IncidentDecided(
        recorded.incident_id,
        Decision.TIME_PENALTY,
        480 * S,
        "steward's reason",
        "chief",
        30,
        ("7",),
    )
    run(engine, [decided])
    car = view_of(engine, "7", 490 * S)
    assert car["penalties"] == [
        {"text": "30 s time penalty", "reason": "steward's reason", "state": "applied"}
    ]
    assert view_of(engine, "8", 490 * S)["penalties"] == []


def sector(number: str, at_s: float, index: int) -> PassingDetected:
    return PassingDetected(
        at_us=round(at_s * S),
        transponder=f"T{number}",
        decoder_id="D2",
        loop=LoopRole.SECTOR,
        sector=index,
    )


def test_sector_columns_carry_their_bests_as_a_sign_and_a_word() -> None:
    engine = make_engine([team("1", "Ann"), team("2", "Cy")])
    run(engine, [green(0), cross("1", 10), cross("2", 11), sector("1", 40, 1), cross("1", 110)])
    run(engine, [sector("2", 45, 1), cross("2", 109), sector("1", 138, 1), cross("1", 209)])
    car = view_of(engine, "1", 210 * S)
    context = {"car": car, "server_now_us": 210 * S, "clock_rate": 1.0}
    html = Renderer().fragments(CAR_TEMPLATE, ("car_laps",), context)
    assert '<th scope="col" class="num">S1</th><th scope="col" class="num">S2</th>' in html
    # lap 2's first sector (28 s) is the session's fastest, lap 1's second the car's
    lap2 = html[html.index('id="cp-lap-2"') : html.index('id="cp-lap-1"')]
    assert '<td class="num" data-best="overall">28.000 <abbr title="fastest overall">' in lap2
    lap1 = html[html.index('id="cp-lap-1"') :]
    assert '<td class="num" data-best="personal">1:10.000 <abbr title="car&#39;s fastest">' in lap1
