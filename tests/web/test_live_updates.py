"""Row-level updates of the spectators' page: small, numbered, and they add up to the page.

A 60-car race is played through the engine; after each crossing the live page's blocks
are rendered into a View and published on a hub channel, as the race service does. A
spectator's messages are measured, and a second ViewState that only applies them (as an
edge or a browser does) must end with exactly the blocks a fresh render gives.
"""

from __future__ import annotations

import json

from server.engine import RaceEngine, SessionKind
from server.service.fanout import View, ViewState, parse
from server.service.hub import Hub
from server.web.contexts import LIVE_BLOCKS
from server.web.live_render import block_of, change_key, page_view
from server.web.rendering import Renderer
from server.web.views import live_context
from tests.engine.engine_helpers import S, cross, green, make_engine

CARS = [str(n) for n in range(1, 61)]


def race_with_60_cars() -> RaceEngine:
    engine = make_engine(CARS, kind=SessionKind.RACE, length_us=3600 * S)
    engine.apply(green(0))
    return engine


def view_at(renderer: Renderer, engine: RaceEngine, now_us: int) -> View:
    context = live_context(
        event_name="Phone Cup",
        status=engine.status(),
        rows=engine.standings(),
        server_now_us=now_us,
        clock_rate=1.0,
        messages=engine.messages(),
        sprint=engine.sprint_standings(),
    )
    return page_view(renderer, "live.html", LIVE_BLOCKS, context)


def crossings(laps: int) -> list[tuple[str, float]]:
    """Every car once a lap, ~100 s laps, the field spreading out (positions change)."""
    out = []
    for lap in range(1, laps + 1):
        for i, car in enumerate(CARS):
            out.append((car, lap * 100.0 + i * 1.5 + (i % 7) * lap * 0.4))
    return sorted(out, key=lambda c: c[1])


async def test_a_crossing_sends_about_2_kb_to_a_spectator_in_a_60_car_race() -> None:
    renderer, engine = Renderer(), race_with_60_cars()
    channel = Hub(maxsize=10_000).channel("public")
    channel.publish_view(view_at(renderer, engine, 0))
    async with channel.subscribe() as spectator:
        snapshot = spectator.queue.get_nowait()
        assert json.loads(snapshot)["snap"] == 1 and len(snapshot) > 20_000
        played = crossings(laps=4)
        for car, at_s in played:
            engine.apply(cross(car, at_s))
            channel.publish_view(view_at(renderer, engine, round(at_s * S) + 1))
        updates = [spectator.queue.get_nowait() for _ in range(spectator.queue.qsize())]
    sizes = [len(m.encode()) for m in updates]
    average = sum(sizes) / len(played)
    print(f"{len(played)} crossings: {average:.0f} bytes per crossing, largest {max(sizes)}")
    assert average <= 2048
    assert [json.loads(m)["seq"] for m in updates] == list(range(2, 2 + len(updates)))
    # a whole render is ~17x bigger: the saving is real, not an empty page
    assert len(snapshot) > 10 * average


async def test_applied_updates_end_with_the_page_a_fresh_render_gives() -> None:
    renderer, engine = Renderer(), race_with_60_cars()
    channel = Hub(maxsize=10_000).channel("public")
    mirror = ViewState()
    async with channel.subscribe() as spectator:
        for car, at_s in [(None, 0.0), *crossings(laps=3)]:
            if car is not None:
                engine.apply(cross(car, at_s))
            channel.publish_view(view_at(renderer, engine, round(at_s * S)))
            while not spectator.queue.empty():
                message = parse(spectator.queue.get_nowait())
                assert message.get("snap") or message["seq"] == mirror.seq + 1
                mirror.apply(message)
    now = round(crossings(laps=3)[-1][1] * S)
    context = live_context(
        event_name="Phone Cup",
        status=engine.status(),
        rows=engine.standings(),
        server_now_us=now,
        clock_rate=1.0,
        messages=engine.messages(),
        sprint=engine.sprint_standings(),
    )
    for name in LIVE_BLOCKS:
        fresh = renderer.fragments("live.html", (name,), context)
        applied = mirror.page_blocks()[block_of(fresh).id]
        # equal but for the clock texts and server times the browser ticks by itself
        assert change_key(applied) == change_key(fresh)
    assert channel.view is not None and mirror.seq == channel.seq
    published = channel.view.page_blocks()
    assert {k: change_key(v) for k, v in mirror.page_blocks().items()} == {
        k: change_key(v) for k, v in published.items()
    }


async def test_time_passing_alone_sends_nothing() -> None:
    renderer, engine = Renderer(), race_with_60_cars()
    for car in CARS:
        engine.apply(cross(car, 100))
    channel = Hub().channel("public")
    channel.publish_view(view_at(renderer, engine, 101 * S))
    seq = channel.seq
    # the race clock's text changed, nothing else: the browser ticks it
    channel.publish_view(view_at(renderer, engine, 107 * S))
    assert channel.seq == seq
    engine.apply(cross("5", 190))
    channel.publish_view(view_at(renderer, engine, 191 * S))
    assert channel.seq == seq + 1


def test_the_split_is_lossless_and_keys_leave_out_ticked_text() -> None:
    renderer, engine = Renderer(), race_with_60_cars()
    engine.apply(cross("1", 100))
    view = view_at(renderer, engine, 101 * S)
    standings = next(b for b in view.blocks if b.id == "standings-table")
    assert standings.split and standings.container == "standings"
    assert [r.id for r in standings.rows][:1] == ["car-1"] and len(standings.rows) == 60
    assert '<tr id="car-' not in standings.html
    assert standings.whole().count('<tr id="car-') == 60
    assert all(len(r.parts) == 14 for r in standings.rows)  # tr, 12 cells, /tr
    header = next(b for b in view.blocks if b.id == "session-header")
    assert "data-server-now-us" in header.html and "data-server-now-us" not in header.key
    assert change_key('<time class="clock" data-clock data-mode="x">1:00:00</time>') == (
        '<time class="clock" data-clock data-mode="x"></time>'
    )
    assert change_key('<td data-state="run">RUN</td>') == '<td data-state="run">RUN</td>'


async def test_a_client_that_saw_a_gap_gets_one_snapshot_per_update() -> None:
    renderer, engine = Renderer(), race_with_60_cars()
    channel = Hub().channel("public")
    channel.publish_view(view_at(renderer, engine, 0))
    async with channel.subscribe() as sub:
        assert sub.queue.get_nowait() == channel.snapshot
        channel.resync(sub)
        channel.resync(sub)  # asked twice for the same seq: one snapshot
        assert sub.queue.qsize() == 1 and channel.resyncs == 1
        assert sub.queue.get_nowait() == channel.snapshot
        channel.heartbeat(4, "<span>unused</span>")  # left out: an update went since
        assert sub.queue.empty()
        channel.heartbeat(5, "<span>unused</span>")  # this channel's heartbeat is its seq
        assert json.loads(sub.queue.get_nowait()) == {"seq": channel.seq, "now": 5, "hb": 1}
