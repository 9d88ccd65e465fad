"""The hub: snapshot first, same message to all, a slow client never holds the others."""

from __future__ import annotations

from server.service.hub import Hub


async def test_new_subscriber_gets_the_snapshot_then_updates() -> None:
    channel = Hub().channel("public")
    channel.publish("<div id='a'>1</div>")
    async with channel.subscribe() as sub:
        assert await sub.get() == "<div id='a'>1</div>"
        channel.publish("<div id='a'>2</div>")
        assert await sub.get() == "<div id='a'>2</div>"
    assert not channel.subscribers


async def test_heartbeats_do_not_replace_the_snapshot() -> None:
    channel = Hub().channel("public")
    channel.publish("full")
    channel.publish("beat", snapshot=False)
    async with channel.subscribe() as sub:
        assert await sub.get() == "full"


async def test_a_slow_client_gets_the_latest_snapshot_instead_of_a_backlog() -> None:
    channel = Hub(maxsize=3).channel("public")
    async with channel.subscribe() as slow, channel.subscribe() as fast:
        for n in range(10):
            channel.publish(f"update {n}")
            assert await fast.get() == f"update {n}"
        # the slow one never read: its backlog was dropped for the newest full state
        assert slow.dropped > 0
        received = [slow.queue.get_nowait() for _ in range(slow.queue.qsize())]
        assert received[-1] == "update 9"
        assert len(received) <= 3


async def test_channels_are_separate() -> None:
    hub = Hub()
    async with hub.channel("control").subscribe() as control:
        hub.channel("public").publish("public only")
        assert control.queue.empty()


async def test_a_busy_channel_leaves_out_heartbeats_a_quiet_one_gets_each() -> None:
    channel = Hub(maxsize=64).channel("public")
    async with channel.subscribe() as sub:
        for tick in range(10):  # an update between every two heartbeat ticks
            channel.publish(f"update {tick}")
            channel.heartbeat(tick, f"beat {tick}")
        channel.heartbeat(10, "beat 10")  # quiet since the last tick
        channel.heartbeat(11, "beat 11")
        received = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    beats = [m for m in received if m.startswith("beat")]
    # every fifth still goes out: it is the browser clock's exact anchor
    assert beats == ["beat 4", "beat 9", "beat 10", "beat 11"]
    assert [m for m in received if m.startswith("update")] == [f"update {n}" for n in range(10)]
