"""Pure RMonitor pieces: the feed picture, passings -> detections, snapshot diffs."""

from __future__ import annotations

import dataclasses
from typing import Any

from timing_adapters.adapter import Detection
from timing_adapters.rmonitor import (
    ClassInfo,
    Competitor,
    CompetitorExt,
    Flag,
    Heartbeat,
    Init,
    LineCrossing,
    Passing,
    PracticePosition,
    RacePosition,
    Record,
    Run,
    Setting,
    UnknownRecord,
    decode_line,
)
from timing_adapters.rmonitor.crossings import CrossingTracker
from timing_adapters.rmonitor.feed_state import FeedStanding, RMonitorFeedState
from timing_adapters.rmonitor.snapshot import (
    RMonitorSnapshot,
    SnapshotClass,
    SnapshotCompetitor,
    SnapshotPassing,
    SnapshotPosition,
    changes,
    full_picture,
    heartbeat,
)

S = 1_000_000
URL = "rmonitor+tcp://timing.local:50000"


def feed_of(*records: Record) -> RMonitorFeedState:
    feed = RMonitorFeedState()
    for record in records:
        feed.apply(record)
    return feed


# -- RMonitorFeedState -------------------------------------------------------------------------


def test_competitor_records_merge() -> None:
    feed = feed_of(
        Competitor("12", "12X", "52474", "John", "Johnson", "USA", 5),
        CompetitorExt("12", "12X", 5, "John", "Johnson", "", "Team Camel"),
        Competitor("12", "12X", "99999", "John", "Johnson", "USA", 5),
    )
    c = feed.competitors["12"]
    assert (c.transponder, c.additional_data, c.nationality) == ("99999", "Team Camel", "USA")
    assert feed.registration_of("12X") == "12"
    assert feed.registration_of("77") == "77"  # unknown numbers stay as they are


def test_standings_follow_the_latest_rows() -> None:
    feed = feed_of(
        Setting("TRACKNAME", "Sebring"),
        ClassInfo(1, "GTO"),
        Competitor("21", "21", "1", "A", "B", "", 1),
        RacePosition(1, "21", 3, 300 * S),
        RacePosition(2, "22", 3, 301 * S),
        PracticePosition(1, "22", 2, 95 * S),
        PracticePosition(2, "21", 0, 3_599_999_000),  # no best lap yet: the Orbits sentinel
        Passing("22", 99 * S, 301 * S),
        RacePosition(1, "22", 4, 399 * S),  # 22 passes 21: both rows are sent again
        RacePosition(2, "21", 3, 300 * S),
        PracticePosition(3, "23", 1, 97 * S),  # practice only
    )
    assert feed.track_name == "Sebring" and feed.track_length is None
    assert feed.classes == {1: "GTO"}
    assert feed.standings() == [
        FeedStanding(1, "22", None, None, 4, 399 * S, 2, 95 * S, 99 * S),
        FeedStanding(2, "21", "21", 1, 3, 300 * S, None, None, None),
        FeedStanding(3, "23", None, None, None, None, 1, 97 * S, None),
    ]


def test_init_clears_the_picture_but_not_the_clock() -> None:
    beat = Heartbeat(5, 0, 50_000 * S, 600 * S, Flag.GREEN)
    feed = feed_of(beat, ClassInfo(1, "A"), RacePosition(1, "1", 1, S), Init(0, "1 Jan 25"))
    assert feed.heartbeat == beat
    assert (feed.classes, feed.race, feed.run) == ({}, {}, None)


def test_a_new_run_clears_results_but_run_95_keeps_them() -> None:
    rows = (RacePosition(1, "1", 1, S), PracticePosition(1, "1", 1, S))
    feed = feed_of(Run(27, "Race 5"), *rows, Run(95, "Race 5"))
    assert len(feed.race) == len(feed.practice) == 1  # the session closed: results stand
    feed.apply(Run(28, "Race 6"))
    assert feed.race == {} and feed.practice == {}
    copy = feed.copy()
    copy.apply(ClassInfo(3, "C"))
    assert feed.classes == {}  # a copy is independent


def test_unknown_records_change_nothing() -> None:
    feed = feed_of(UnknownRecord("$RMS", ("race",)))
    assert feed == RMonitorFeedState()


# -- CrossingTracker ---------------------------------------------------------------------------


def test_passings_become_detections_at_race_time() -> None:
    tracker = CrossingTracker(URL)
    feed = feed_of(Heartbeat(9999, 0, 0, 50 * S, Flag.GREEN))
    first = Passing("21", 0, 56_665_000)
    lap = Passing("21", 126_403_000, 183_068_000)
    assert tracker.push(first, feed) == [
        Detection(URL, "21", 56_665_000, relative_clock=True, decoder_now_us=56_665_000)
    ]
    assert tracker.push(lap, feed) == [
        Detection(URL, "21", 183_068_000, relative_clock=True, decoder_now_us=183_068_000)
    ]
    assert tracker.push(lap, feed) == []  # a relay replaying the last $J
    assert tracker.push(first, feed) == []
    assert tracker.duplicates == 2
    tracker.push(Init(0, ""), feed)
    assert tracker.push(first, feed) != []  # a new session starts from zero
    tracker.push(Run(3, "Race"), feed)
    tracker.push(Run(95, "Race"), feed)
    assert tracker.push(first, feed) == []
    tracker.push(Run(4, "Race 2"), feed)
    assert tracker.push(first, feed) != []


def test_passings_before_the_first_heartbeat_wait_for_its_race_time() -> None:
    # joining mid-race: the feed repeats its last $J lines before its first $F
    tracker, feed = CrossingTracker(URL), RMonitorFeedState()
    old = Passing("21", 101_000_000, 7_000_000_000)
    older = Passing("7", 99_000_000, 6_950_000_000)
    assert tracker.push(old, feed) == []
    assert tracker.push(older, feed) == []
    beat = Heartbeat(9999, 0, 0, 7_200 * S, Flag.GREEN)
    feed.apply(beat)
    assert tracker.push(beat, feed) == [
        Detection(URL, "21", 7_000_000_000, relative_clock=True, decoder_now_us=7_200 * S),
        Detection(URL, "7", 6_950_000_000, relative_clock=True, decoder_now_us=7_200 * S),
    ]
    assert tracker.push(beat, feed) == []  # released once
    assert tracker.push(old, feed) == []  # and repeated again: the same crossing, once


def test_the_first_passing_after_joining_carries_the_feeds_laps() -> None:
    tracker = CrossingTracker(URL)
    feed = feed_of(
        RacePosition(1, "21", 80, 7_000_000_000),  # $G on connect: 80 laps at 7000 s
        RacePosition(2, "7", 79, 6_990_000_000),
        Heartbeat(9999, 0, 0, 7_200 * S, Flag.GREEN),
    )
    [same] = tracker.push(Passing("21", 88_000_000, 7_000_000_000), feed)
    assert same.lap == 80  # the $G row is this crossing: 80 laps before we joined
    [older] = tracker.push(Passing("7", 88_000_000, 6_900_000_000), feed)
    assert older.lap is None  # not the crossing the $G row counted
    [next_lap] = tracker.push(Passing("21", 88_000_000, 7_088_000_000), feed)
    assert next_lap.lap is None  # only the first one


def test_line_crossings_use_the_heartbeat_time_base() -> None:
    tracker = CrossingTracker(URL)
    feed = feed_of(CompetitorExt("reg13", "13", 1, "", "", "", ""))
    crossing = decode_line(b'$L,"13","P2","POP","01/27/2009","10:10:20.589",1,"PC"')
    assert isinstance(crossing, LineCrossing)
    assert tracker.push(crossing, feed) == []  # no $F yet: no time base
    assert tracker.unplaced == 1
    feed.apply(Heartbeat(9999, 0, (10 * 3600 + 10 * 60) * S, 1200 * S, Flag.GREEN))
    expected = Detection(
        URL,
        "reg13",
        1220_589_000,
        loop="P2",
        relative_clock=True,
        timeline="POP",
        decoder_now_us=1220_589_000,
    )
    assert tracker.push(crossing, feed) == [expected]
    assert tracker.push(crossing, feed) == []
    assert tracker.duplicates == 1
    late = LineCrossing("13", "P2", "POP", "01/28/2009", 5 * S)  # just after midnight
    feed.apply(Heartbeat(9999, 0, (23 * 3600 + 59 * 60 + 50) * S, 3600 * S, Flag.GREEN))
    assert tracker.push(late, feed) == [
        Detection(
            URL,
            "reg13",
            3615 * S,
            loop="P2",
            relative_clock=True,
            timeline="POP",
            decoder_now_us=3615 * S,
        )
    ]


def test_line_crossings_can_be_turned_off() -> None:
    feed = feed_of(Heartbeat(0, 0, 0, 0, Flag.GREEN))
    crossing = LineCrossing("1", "T1", "SF", "", 10 * S)
    assert CrossingTracker(URL, line_crossings=False).push(crossing, feed) == []


# -- snapshots -> records ----------------------------------------------------------------------

CARS = (
    SnapshotCompetitor("1", "1", "1001", "Ann", "Ace", "USA", 1, "Team A"),
    SnapshotCompetitor("2", "2", "NE4", "Bob", "Bee", "", 2),
)


BASE = RMonitorSnapshot(
    session_name="Race",
    run_number=3,
    track_name="Sebring",
    track_length="3.740",
    flag=Flag.GREEN,
    time_to_go_us=3000 * S,
    time_of_day_us=50_000 * S + 250_000,
    race_time_us=600 * S + 999_999,
    clock_running=True,
    date="1 Feb 25",
    classes=(SnapshotClass(1, "GTO"), SnapshotClass(2, "GTU")),
    competitors=CARS,
    positions=(
        SnapshotPosition(1, "1", 5, 600 * S + 123_456, 3, 98 * S + 500),
        SnapshotPosition(2, "2", 5, 610 * S),
    ),
)


def snap(**fields: Any) -> RMonitorSnapshot:
    return dataclasses.replace(BASE, **fields)


def test_full_picture_order_and_content() -> None:
    picture = full_picture(snap())
    assert [type(r).__name__ for r in picture] == [
        "Run",
        *["ClassInfo"] * 2,
        *["Setting"] * 2,
        *["Competitor", "CompetitorExt"] * 2,
        *["RacePosition"] * 2,
        *["PracticePosition"] * 2,
    ]
    assert picture[-4:] == [
        RacePosition(1, "1", 5, 600_123_000),  # truncated to the millisecond
        RacePosition(2, "2", 5, 610 * S),
        PracticePosition(1, "1", 3, 98 * S),
        PracticePosition(2, "2", 0, 3_599_999_000),  # no best lap yet: as Orbits sends it
    ]


def test_changes_send_only_what_changed() -> None:
    old = snap()
    assert changes(None, old) == full_picture(old)
    assert changes(old, old) == []
    swapped = snap(
        positions=(
            SnapshotPosition(1, "2", 6, 700 * S, 6, 90 * S),
            SnapshotPosition(2, "1", 5, 600 * S + 123_456, 3, 98 * S + 500),
        ),
        passings=(SnapshotPassing("2", 90 * S, 700 * S),),
        flag=Flag.YELLOW,  # the flag travels in $F only
    )
    assert changes(old, swapped) == [
        Passing("2", 90 * S, 700 * S),
        RacePosition(1, "2", 6, 700 * S),
        RacePosition(2, "1", 5, 600_123_000),
        PracticePosition(1, "2", 6, 90 * S),
        PracticePosition(2, "1", 3, 98 * S),
    ]
    renamed = snap(
        session_name="Race (restart)",
        classes=(SnapshotClass(1, "GTO"), SnapshotClass(2, "GT Unlimited")),
        track_length="3.741",
        competitors=(CARS[0], SnapshotCompetitor("2", "2", "NE5", "Bob", "Bee", "", 2)),
    )
    assert [type(r).__name__ for r in changes(old, renamed)] == [
        "Run",
        "ClassInfo",
        "Setting",
        "Competitor",
        "CompetitorExt",
    ]


def test_removals_and_new_runs_clear_then_send_everything() -> None:
    old = snap()
    for new in (
        snap(run_number=4),
        snap(competitors=CARS[:1], positions=old.positions[:1]),
        snap(classes=old.classes[:1]),
    ):
        records = changes(old, new)
        assert records[0] == Init(50_000 * S, "1 Feb 25")
        assert records[1:] == full_picture(new)


def test_heartbeat_runs_on_from_the_snapshot() -> None:
    s = snap()
    assert heartbeat(s, 0) == Heartbeat(9999, 3000 * S, 50_000 * S, 600 * S, Flag.GREEN)
    assert heartbeat(s, 2_500_000) == Heartbeat(9999, 2997 * S, 50_002 * S, 603 * S, Flag.GREEN)
    stopped = snap(clock_running=False, time_of_day_us=86_399 * S)
    assert heartbeat(stopped, 5 * S) == Heartbeat(9999, 3000 * S, 4 * S, 600 * S, Flag.GREEN)
    assert heartbeat(snap(time_to_go_us=S), 10 * S).time_to_go_us == 0
