"""What race control and the pit marshals read: alerts, the finish prediction, flags and
the clock, stint clocks, a car's detail, rosters, crossings, classifications, the pit
page's cars; built from a real engine fed with input events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from server.engine import (
    DriverChangeConfirmed,
    Entry,
    Flag,
    FlagChanged,
    LoopRole,
    PassingDetected,
    RaceControlMessagePosted,
    RaceEngine,
    SessionConfig,
    SessionKind,
    Severity,
    StintClock,
)
from server.engine.alerts import Alert
from server.engine.model import CarState, SessionStatus, StandingRow
from server.engine.rules import IMG, PRESETS
from server.web.car_views import car_detail_view, crossings_view, roster_view, snapshots_view
from server.web.control_views import (
    ACKNOWLEDGED_SHOWN,
    alerts_view,
    caution_buttons,
    clock_view,
    finish_view,
    messages_view,
)
from server.web.pit_views import number_order, pit_context
from server.web.views import stint_view

S = 1_000_000
M = 60 * S
H = 60 * M
T0 = 1_700_049_600 * S  # 12:00:00 UTC: the green flag
ALDER = Entry("7", "A", "Alder Racing", ("Ann Alder", "Bob Birch"), ("107",))
SOLO = Entry("8", "A", "Solo Speed", ("Cy Cole",), ("108",))
DUNN = Entry("10", "B", "Dunn", ("Di Dunn", "Ed Eng"), ("110",), flagged_drivers=("Ed Eng",))


def engine(kind: SessionKind = SessionKind.RACE, length_us: int = 2 * H) -> RaceEngine:
    race = RaceEngine(SessionConfig(1, kind, "Race", length_us=length_us), [ALDER, SOLO, DUNN])
    race.apply(FlagChanged(T0, Flag.GREEN))
    return race


def cross(
    race: RaceEngine, transponder: str, at_us: int, loop: LoopRole = LoopRole.START_FINISH
) -> None:
    race.apply(PassingDetected(at_us, transponder, "D1", loop=loop))


def status(**changes: object) -> SessionStatus:
    base = SessionStatus(1, SessionKind.RACE, "Race", Flag.GREEN, T0, T0 + 2 * H, None, False)
    return replace(base, **changes)  # type: ignore[arg-type]


def leader(**changes: object) -> StandingRow:
    row = StandingRow(
        1,
        "7",
        "A",
        1,
        "Alder",
        60,
        100 * S,
        99 * S,
        3,
        None,
        0,
        None,
        0,
        None,
        0,
        None,
        0,
        CarState.RUN,
        T0 + H + 50 * M,
    )
    return replace(row, **changes)  # type: ignore[arg-type]


def test_alerts_open_newest_first_then_the_latest_acknowledged() -> None:
    alerts = [
        Alert(
            f"a{i}",
            "stint_warning",
            Severity.WARNING,
            f"alert {i}",
            T0 + i * S,
            acknowledged=i < 10,
        )
        for i in range(12)
    ]
    alerts.reverse()  # the engine gives them newest first
    view = alerts_view(alerts, status(), UTC)
    assert [a["id"] for a in view["open"]] == ["a11", "a10"]
    assert view["count"] == 2
    assert len(view["done"]) == ACKNOWLEDGED_SHOWN and view["done"][0]["id"] == "a9"
    assert view["open"][0]["time"] == "12:00:11" and view["open"][0]["race_time"] == "0:00:11"
    window = Alert("w:1", "window_closing", Severity.WARNING, "closing", T0, cars=("7", "10"))
    assert alerts_view([window], None, UTC)["open"][0]["cars"] == "7, 10"
    assert alerts_view([window], None, UTC)["open"][0]["dom_id"] == "alert-w_1"


def test_finish_prediction_from_the_leaders_last_lap() -> None:
    # leader crossed at 1:50:00 race time, laps of 100 s; the clock ends at 2:00:00
    view = finish_view(status(), [leader()], T0 + H + 50 * M + 10 * S, UTC)
    assert view is not None and view["state"] == "predicted"
    assert view["checkered"]["lap"] == 66  # 600 s to go: 6 more laps
    assert view["checkered"]["race_time"] == "2:00:00"
    assert view["white"]["lap"] == 65 and view["white"]["race_time"] == "1:58:20"
    assert view["white"]["in"] == "0:08:10" and view["basis"] == "last lap 1:40.000"
    assert view["ends"] == "14:00:00"
    # a slow last lap (a stop, a caution) is not a racing lap: the best one is used
    slow = finish_view(status(), [leader(last_lap_us=150 * S)], T0 + H + 50 * M, UTC)
    assert slow is not None and slow["basis"] == "best lap 1:39.000"
    # while the clock is stopped, the end moves with it
    paused = status(clock_paused_since_us=T0 + H + 50 * M)
    moved = finish_view(paused, [leader()], T0 + H + 55 * M, UTC)
    assert moved is not None and moved["ends"] == "14:05:00" and moved["paused"]
    assert moved["ends_race_time"] == "2:00:00"
    assert moved["checkered"]["race_time"] == "2:00:00" and moved["checkered"]["lap"] == 69


def test_finish_waits_for_a_lap_and_says_when_it_was_taken() -> None:
    assert finish_view(status(kind=SessionKind.PRACTICE), [leader()], T0, UTC) is None
    assert finish_view(status(ends_at_us=None), [leader()], T0, UTC) is None
    no_lap = leader(last_lap_us=None, best_lap_us=None)
    waiting = finish_view(status(), [no_lap], T0, UTC)
    assert waiting is not None and waiting["state"] == "waiting"
    taken = finish_view(status(checkered_at_us=T0 + 2 * H + 20 * S), [leader()], T0 + 3 * H, UTC)
    assert taken is not None and taken["state"] == "taken"
    assert taken["checkered"]["time"] == "14:00:20"


def test_caution_flags_and_the_race_clock_follow_the_rule_set() -> None:
    assert caution_buttons(status(), IMG) == []
    brscc = caution_buttons(status(flag=Flag.SAFETY_CAR), PRESETS["brscc"])
    assert [(b["flag"], b["current"]) for b in brscc] == [("safety_car", True)]
    code60 = replace(IMG, caution_flags=frozenset({Flag.YELLOW, Flag.CODE_60}))
    assert [b["label"] for b in caution_buttons(None, code60)] == ["Code 60"]
    red = clock_view(status(flag=Flag.RED), IMG, UTC)
    assert red["allowed"] and red["can_pause"] and not red["can_resume"]
    assert not clock_view(status(), IMG, UTC)["can_pause"]
    paused = clock_view(status(flag=Flag.RED, clock_paused_since_us=T0 + H), IMG, UTC)
    assert paused["can_resume"] and not paused["can_pause"] and paused["paused_since"] == "13:00:00"
    never = clock_view(status(flag=Flag.RED), replace(IMG, red_may_stop_clock=False), UTC)
    assert not never["allowed"] and not never["can_pause"]


def test_stint_clock_levels_near_the_limit() -> None:
    running = leader(
        stint_clock=StintClock.RUNNING, stint_drive_us=2 * H, stint_clock_since_us=T0 + 2 * H
    )
    assert stint_view(running, T0 + 2 * H, 3 * H)["level"] == ""
    assert stint_view(running, T0 + 2 * H + 31 * M, 3 * H)["level"] == "warn"
    assert stint_view(running, T0 + 2 * H + 46 * M, 3 * H)["level"] == "critical"
    over = stint_view(running, T0 + 3 * H, 3 * H)
    assert over["level"] == "over" and over["text"] == "3:00:00"
    frozen = stint_view(replace(running, stint_clock=StintClock.IN_PIT), T0 + 3 * H, 3 * H)
    assert frozen["text"] == "2:00:00" and frozen["level"] == ""
    public = stint_view(running, T0 + 2 * H + 50 * M)
    assert public["level"] == "" and public["max_us"] == "" and public["state"] == "running"
    assert stint_view(leader(), T0, 3 * H)["text"] == ""  # no stint
    # race control reads the time left before the limit
    assert stint_view(running, T0 + 2 * H + 46 * M, 3 * H)["left"] == "0:14:00"
    assert over["left"] == "0:00:00" and public["left"] == ""


def test_messages_newest_first_with_a_limit() -> None:
    race = engine()
    for i in range(4):
        race.apply(RaceControlMessagePosted(T0 + i * S, f"message {i}", "7" if i else None, "rc"))
    view = messages_view(race.messages(), 3, UTC)
    assert [m["text"] for m in view] == ["message 3", "message 2", "message 1"]
    assert view[0] == {
        "posted_at_us": T0 + 3 * S,
        "time": "12:00:03",
        "text": "message 3",
        "number": "7",
        "actor": "rc",
        "expires": "",
        "expires_at_us": None,
        "edited": False,
    }


def a_stop_with_a_change(race: RaceEngine) -> None:
    cross(race, "107", T0 + 10 * S)
    cross(race, "107", T0 + 110 * S)
    cross(race, "107", T0 + 150 * S, LoopRole.PIT_IN)
    race.apply(DriverChangeConfirmed("7", "Bob Birch", T0 + 160 * S, "pin:Cup"))
    cross(race, "107", T0 + 190 * S, LoopRole.PIT_OUT)
    cross(race, "107", T0 + 300 * S)


def test_car_detail_drivers_stints_and_stops() -> None:
    race = engine()
    a_stop_with_a_change(race)
    now = T0 + 400 * S
    view = car_detail_view(race.car_detail("7", now), race.status(), now, UTC)
    assert (view["number"], view["team"], view["driver"]) == ("7", "Alder Racing", "Bob Birch")
    drivers = {d["name"]: d for d in view["drivers"]}
    assert drivers["Bob Birch"]["status"] == "in car"
    assert drivers["Ann Alder"]["status"] == "resting until 13:02:30"
    assert drivers["Ann Alder"]["rest_in"] == "in 0:55:50"
    assert drivers["Ann Alder"]["drive"] == "0:02:30"
    assert [(s["driver"], s["start"], s["end"]) for s in view["stints"]] == [
        ("Ann Alder", "12:00:00", "12:02:30"),
        ("Bob Birch", "12:03:10", "driving"),
    ]
    [stop] = view["stops"]
    assert (stop["pit_in"], stop["pit_out"], stop["duration"]) == ("12:02:30", "12:03:10", "40.000")
    assert (stop["driver_out"], stop["driver_in"]) == ("Ann Alder", "Bob Birch")
    assert stop["changed"]
    assert stop["counts"] and view["mandatory"] == "1/1" and view["mandatory_done"]


def test_roster_says_who_may_get_in() -> None:
    race = engine()
    a_stop_with_a_change(race)
    cross(race, "110", T0 + 5 * S)
    now = T0 + 400 * S
    roster = roster_view(ALDER, race.car_detail("7", now), now, UTC)
    assert [(d["name"], d["ready"]) for d in roster] == [("Ann Alder", False), ("Bob Birch", False)]
    dunn = roster_view(DUNN, race.car_detail("10", now), now, UTC)
    assert [(d["name"], d["status"]) for d in dunn] == [
        ("Di Dunn", "in car"),
        ("Ed Eng", "licence flagged"),
    ]
    assert [d["status"] for d in roster_view(SOLO, None, now, UTC)] == ["may drive"]


def test_crossings_newest_first_to_pick_a_false_one() -> None:
    race = engine()
    a_stop_with_a_change(race)
    options = crossings_view(race.laps_of("7"), tz=UTC)
    assert [o["label"] for o in options] == [
        "lap 2 · 12:05:00.000 · 3:10.000 · pit",
        "lap 1 · 12:01:50.000 · 1:40.000",
    ]
    assert options[0]["at_us"] == T0 + 300 * S
    assert len(crossings_view(race.laps_of("7"), limit=1)) == 1


def test_snapshots_hourly_and_the_sprint() -> None:
    race = engine(SessionKind.SPRINTDURO, 2 * H)
    at = T0 + 30 * S
    while at < T0 + 75 * M:
        cross(race, "107", at)
        cross(race, "108", at + 20 * S)
        at += 100 * S
    race.tick(T0 + 75 * M)
    views = snapshots_view(race.snapshots(), race.sprint_standings(), race.status(), UTC)
    assert [v["label"] for v in views] == ["Sprint", "After 1h"]
    sprint, hour = views
    assert sprint["race_time"] == "0:30:30"
    assert [r["number"] for r in sprint["rows"]][:2] == ["7", "8"]
    assert hour["time"] == "13:00:00" and hour["rows"][0]["laps"] == "35"
    assert hour["rows"][1]["gap"] == "+20.000"


def test_pit_context_lists_the_pit_lane_first_and_cars_by_number() -> None:
    race = engine()
    cross(race, "107", T0 + 10 * S)
    cross(race, "108", T0 + 12 * S)
    cross(race, "108", T0 + 60 * S, LoopRole.PIT_IN)
    now = T0 + 90 * S
    context = pit_context(
        event_name="Cup",
        status=race.status(),
        rows=race.standings(),
        details={d.number: d for d in race.cars(now)},
        entries=[DUNN, ALDER, SOLO],
        server_now_us=now,
        clock_rate=1.0,
        tz=UTC,
    )
    assert context["page"] == "pit" and context["ws_url"] == "/ws/pit"
    assert [c["number"] for c in context["cars"]] == ["7", "8", "10"]
    [in_pit] = context["in_pit"]
    assert in_pit["number"] == "8" and in_pit["solo"] and in_pit["pit_since"] == "0:00:30"
    assert in_pit["pit_since_us"] == T0 + 60 * S
    assert [d["name"] for d in context["cars"][2]["roster"]] == ["Di Dunn", "Ed Eng"]
    assert context["cars"][2]["state"] == "not_started" and not context["cars"][0]["solo"]


def test_number_order_is_how_people_sort_car_numbers() -> None:
    numbers = ["10", "2", "07", "7", "1A", "B2", "100"]
    assert sorted(numbers, key=number_order) == ["1A", "2", "07", "7", "10", "100", "B2"]
