"""A P3 decoder switched off and on mid-race numbers its passings from 1 again: over real
TCP into a real server (SQLite and PostgreSQL), its passings are scored in a new numbering
epoch with one alert to race control, a repeat is still dropped, and after a restart of our
server the epoch is read back from the journal and timing goes on in it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

from server.engine.events import PassingDetected
from tests.fixtures.app_server import RunningServer, prepare_database, running_server, wait_until
from timing_adapters.clock import ScaledClock
from timing_adapters.emulator.scenario import ScheduledPassing, generate_race
from timing_adapters.emulator.server import P3Emulator

SPEED = 100.0
MINUTE = 60 * 1_000_000


def _part(passings: list[ScheduledPassing], start_min: int, end_min: int) -> list[ScheduledPassing]:
    """The passings from ``start_min`` to ``end_min``, their offsets from the part's start."""
    lo, hi = start_min * MINUTE, end_min * MINUTE
    return [
        ScheduledPassing(p.offset_us - lo, p.transponder)
        for p in passings
        if lo <= p.offset_us < hi
    ]


async def _passings_by_epoch(srv: RunningServer, session_id: int) -> Counter[int]:
    events = await srv.race.journal.read(session_id)
    return Counter(e.epoch for e in events if isinstance(e, PassingDetected))


def journaled(
    srv: RunningServer, session_id: int, expected: dict[int, int]
) -> Callable[[], Awaitable[bool]]:
    """A condition: the journal holds ``expected`` passings per epoch."""

    async def check() -> bool:
        return dict(await _passings_by_epoch(srv, session_id)) == expected

    return check


def _renumbered_alerts(srv: RunningServer) -> list[str]:
    assert srv.race.engine is not None
    return [a.text for a in srv.race.engine.alerts() if a.kind == "decoder_renumbered"]


async def test_a_power_cycled_decoder_is_timed_on_in_a_new_epoch(db_url: str) -> None:
    scenario = generate_race(seed=5, cars=12, length_s=15 * 60)
    before, after, later = (_part(scenario.passings, a, b) for a, b in ((0, 4), (4, 8), (8, 12)))
    token = await prepare_database(db_url, scenario.entries_csv(), "Epoch Cup")
    clock = ScaledClock(SPEED)
    emulator = P3Emulator(clock=clock, status_interval_s=0.2)
    port = await emulator.start()
    decoders = [f"tcp://127.0.0.1:{port}"]
    try:
        async with (
            running_server(db_url, token, decoders=decoders, clock=clock) as srv,
            srv.client() as api,
        ):
            created = await api.post(
                "/api/v1/sessions",
                json={"event": "Epoch Cup", "type": "race", "name": "Race", "length_minutes": 60},
            )
            session_id = created.json()["id"]
            await api.post(f"/api/v1/sessions/{session_id}/flag", json={"flag": "green"})
            await emulator.wait_for_clients(1)
            await emulator.play(before)
            await wait_until(journaled(srv, session_id, {0: len(before)}))
            await emulator.power_cycle()  # numbers from 1 again; its RTC went on
            await emulator.wait_for_clients(1)
            await emulator.play(after)
            await wait_until(journaled(srv, session_id, {0: len(before), 1: len(after)}))
            await wait_until(lambda: len(_renumbered_alerts(srv)) == 1)
            assert "restarted its passing numbers at 1; new epoch 1" in _renumbered_alerts(srv)[0]
            # the decoder sends one of the new epoch's passings again: a repeat, dropped
            await emulator.play_capture([emulator.history[2]], realtime=False)
            await wait_until(lambda: srv.race.decoders[decoders[0]].duplicates == 1)
            laps_before = sum(
                r["laps"]
                for r in (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
            )

        # our server restarts: the epoch and its last number come back from the journal
        async with (
            running_server(db_url, token, decoders=decoders, clock=clock) as srv,
            srv.client() as api,
        ):
            assert srv.race.mapper.epochs == {str(emulator.decoder_id): 1}
            await emulator.wait_for_clients(1)
            await emulator.play(later)
            expected = {0: len(before), 1: len(after) + len(later)}
            await wait_until(journaled(srv, session_id, expected))
            assert len(_renumbered_alerts(srv)) == 1  # no second epoch
            standings = (await api.get(f"/api/v1/sessions/{session_id}/standings")).json()
        assert sum(r["laps"] for r in standings) > laps_before > 0
    finally:
        await emulator.stop()
