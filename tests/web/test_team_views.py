"""The team view's context and page, worked by hand (times in UTC from the epoch).

Rules: stints at most 1 h, 30 min rest, one mandatory stop in a window from 0:30 to 1:30
of a 2-hour race; green at 0 s. Car 7 (Ann, Bob): laps every 100 s; pit-in 3000 s, Bob
in, pit-out 3200 s. At 4000 s: Bob's stint 800 s, so 2800 s (0:46:40) to the 1-hour
limit, reached at 6800 s; Ann drove 0:50:00 and rests until 4800 s (01:20:00); the window
closes at 5400 s (01:30:00), in 0:23:20; the stop counts. Car 8 (Cy) never stops: 400 s
over the limit at 4000 s.
"""

from __future__ import annotations

from datetime import UTC

from server.engine import RaceControlMessage, RaceEngine, RuleSet
from server.service.fanout import ViewState, parse
from server.web.live_render import page_view
from server.web.rendering import Renderer
from server.web.team_page import TEAM_BLOCKS
from server.web.team_views import team_context
from tests.engine.engine_helpers import (
    H,
    M,
    S,
    change,
    every_lap,
    green,
    in_time_order,
    make_engine,
    pit_in,
    pit_out,
    team,
)

RULES = RuleSet(max_stint_us=H, min_rest_us=30 * M, window_opens_us=30 * M, window_closes_us=90 * M)
NOW = 4000 * S


def race_at(until_s: float) -> RaceEngine:
    engine = make_engine(
        [team("7", "Ann", "Bob"), team("8", "Cy", "Di")], rules=RULES, length_us=2 * H
    )
    seven = in_time_order(
        every_lap("7", 1, 2999),
        [pit_in("7", 3000), change("7", "Bob", 3050), pit_out("7", 3200)],
        every_lap("7", 3250, 3999),
    )
    for event in in_time_order([green(0)], seven, every_lap("8", 2, 3999)):
        if event.at_us <= until_s * S:
            engine.apply(event)
    engine.tick(round(until_s * S))
    return engine


def context_of(engine: RaceEngine, number: str, now_us: int = NOW) -> dict[str, object]:
    return team_context(
        number=number,
        event_name="Pit Wall Cup",
        status=engine.status(),
        outlook=engine.team_outlook(number, now_us),
        messages=[
            RaceControlMessage(3900 * S, "Car 7 black and orange", "7", "rc", 4100 * S),
            RaceControlMessage(3800 * S, "Debris at turn 2"),
        ],
        server_now_us=now_us,
        clock_rate=1.0,
        tz=UTC,
    )


def test_the_stint_counts_down_to_the_limit_and_the_old_driver_rests() -> None:
    context = context_of(race_at(4000), "7")
    team_view = context["team"]
    assert isinstance(team_view, dict)
    car = team_view["car"]
    assert car["driver"] == "Bob"
    assert car["stint"]["text"] == "0:13:20"  # 800 s driven
    assert car["stint_left"] == {
        "limit": "1:00:00",
        "text": "in 0:46:40",
        "until_us": 6800 * S,
        "level": "",
    }
    ann, bob = team_view["drivers"]
    assert (ann["name"], ann["drive"], ann["longest"], ann["ready"]) == (
        "Ann",
        "0:50:00",
        "0:50:00",
        False,
    )
    assert ann["status"] == "rests until 01:20:00"
    assert (ann["rest_until_us"], ann["rest_in"]) == (4800 * S, "in 0:13:20")
    assert (bob["status"], bob["drive"]) == ("in the car", "0:13:20")
    window = team_view["window"]
    assert (window["state"], window["caption"], window["countdown"]) == (
        "open",
        "closes",
        "in 0:23:20",
    )
    assert (window["closes"], window["served"], window["required"], window["done"]) == (
        "01:30:00",
        "1",
        "1",
        True,
    )
    assert [(s["index"], s["change"], s["counts"]) for s in team_view["stops"]] == [
        ("1", "Ann → Bob", True)
    ]
    assert (team_view["max_stint"], team_view["min_rest"]) == ("1:00:00", "0:30:00")
    assert context["ws_url"] == "/ws/live/teams/7"


def test_a_driver_over_the_limit_reads_over_by_and_the_messages_show_their_expiry() -> None:
    context = context_of(race_at(4000), "8")
    team_view = context["team"]
    assert isinstance(team_view, dict)
    assert team_view["car"]["stint_left"]["text"] == "over by 0:06:40"
    assert team_view["car"]["stint_left"]["level"] == "over"
    assert team_view["car"]["stint_left"]["until_us"] is None
    assert team_view["drivers"][0]["over"] is True
    assert team_view["window"]["owed"] is True
    messages = context["messages"]
    assert isinstance(messages, list)
    assert [(m["text"], m["expires"], m["ours"]) for m in messages] == [
        ("Car 7 black and orange", "01:08:20", False),
        ("Debris at turn 2", "", False),
    ]


def test_the_page_renders_its_blocks_and_the_drivers_travel_as_rows() -> None:
    renderer = Renderer()
    context = context_of(race_at(4000), "7")
    page = renderer.page("team.html", context)
    for text in ("Team 7", "Bob", "rests until 01:20:00", "in 0:46:40"):
        assert text in page
    assert 'ws-connect="/ws/live/teams/7"' in page
    assert 'data-until-us="6800000000"' in page
    view = page_view(renderer, "team.html", TEAM_BLOCKS, context)
    drivers = next(b for b in view.blocks if b.id == "team-drivers")
    assert drivers.container == "team-driver-rows"
    assert [r.id for r in drivers.rows] == ["team-drv-1", "team-drv-2"]
    # a render a second later, with nothing else changed, sends nothing: the countdowns
    # and the stint clock tick in the browser
    state = ViewState()
    state.update(view)
    later = context_of(race_at(4000), "7", NOW + S)
    assert state.update(page_view(renderer, "team.html", TEAM_BLOCKS, later)) is None
    # the snapshot is the page's blocks
    snapshot = ViewState()
    snapshot.apply(parse(state.snapshot()))
    assert set(snapshot.page_blocks()) == {
        "session-header",
        "team-car",
        "team-drivers",
        "team-stops",
        "team-penalties",
        "team-messages",
    }


def test_a_car_not_in_the_session_says_so() -> None:
    engine = race_at(100)
    context = team_context(
        number="77",
        event_name="Pit Wall Cup",
        status=engine.status(),
        outlook=None,
        messages=(),
        server_now_us=100 * S,
        clock_rate=1.0,
    )
    page = Renderer().page("team.html", context)
    assert "Car 77 is not entered in this session." in page
