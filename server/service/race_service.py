"""The single writer: journal first, then the engine, then one render for everyone.

Strategy: every change to race state (a passing from a decoder, a flag from race
control) is queued here as an input event. One task drains the queue in batches and
appends each batch to the journal in ONE transaction (a burst of passings costs one
fsync; ``durable_journal`` spools it locally while the database is down), then applies
the events to the pure engine in journal order, and only then marks the pages dirty, so
nothing is ever shown that is not durable. A publisher task renders each channel once
per change (coalesced to ``publish_interval_s``) and hands the same string to every
subscriber. Loading a session replays its journal, so a restart ends in the same state.
One bad input never stops timing: an event the database refuses (``RejectedEvents``) is
found by journaling the batch event by event, and an event the engine cannot apply is
skipped (also on replay); each is logged, counted in ``dropped["rejected"]``, answered
with ``RejectedInput`` and raised as an alert to race control. No exception leaves the
writer's loop.
Every ``checkpoint_every`` journaled events (and on a clean shutdown) the writer pickles
the engine and the journal's passing mapper (``checkpoint``) and stores it in the
background; a load restores the newest usable checkpoint and replays only the journal
after it, or the whole journal when none is usable (docs/design.md, "Engine checkpoints").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.checkpoints import CheckpointStore
from server.db.models import ResultVersionRow
from server.db.track import load_track
from server.engine import RaceEngine
from server.engine.events import (
    EntryChanged,
    EntryListSet,
    ExternalAlertRaised,
    InputEvent,
    PassingDetected,
    Severity,
    entry_list_first,
)
from server.engine.grid import ContactIncident
from server.engine.model import Entry, SessionConfig, SessionStatus, StandingRow
from server.engine.outbound import (
    CommandRefused,
    DriverChangeRefused,
    FlagRejected,
    LapCompleted,
    OutEvent,
    SessionFinished,
)
from server.engine.stewards import Incident
from server.service import checkpoint
from server.service.audit import AuditLog
from server.service.channel_publisher import ALL_CHANNELS as ALL_CHANNELS
from server.service.channel_publisher import TEAM_CHANNEL as TEAM_CHANNEL
from server.service.channel_publisher import ChannelPublisher, HeartbeatRender
from server.service.decoder_alerts import bad_input_alert, decoder_alert
from server.service.durable_journal import DurableJournal, RejectedEvents
from server.service.fanout import View
from server.service.hub import Hub
from server.service.ingest import PassingMapper
from server.service.past_results import PastResults
from server.service.race_grid import GridResult as GridResult
from server.service.race_grid import GridUnavailable as GridUnavailable
from server.service.race_grid import journal_contacts, race_grid
from server.service.result_versioning import ResultsRefused as ResultsRefused
from server.service.result_versioning import ResultVersioning
from server.service.rmonitor_feed import snapshot_of
from server.service.session_copy import SessionCopy
from server.service.spool import Spool
from timing_adapters.adapter import DecoderState, Detection
from timing_adapters.clock import Clock
from timing_adapters.rmonitor.server import RMonitorServer

log = logging.getLogger("racecontrol.race")

_BATCH_MAX = 1000
_Future = asyncio.Future[list[OutEvent]]
_Pending = tuple[InputEvent, "_Future | None"]
_QUEUE_MAX = 10_000  # back-pressure on the adapters when the database is slow
# A restart replays at most this many events after the newest checkpoint (~37 us each to
# read and apply: 0.75 s at worst), while a checkpoint costs the writer the pickling of the
# whole state (~4-6 us per passing held: ~2 s at 500,000 passings, bench/README.md), during
# which passings queue: at 20,000 that is one pause an hour of a 24-hour race of 500,000
# passings. Fewer events would lengthen the pauses' share, more the restart.
CHECKPOINT_EVERY = 20_000

# the pages are the web layer's business: it hands the service how to render each channel's
# message and the heartbeat, so this package never imports server.web; a channel's message is
# a whole render (str) or a View the hub turns into row-level updates
ChannelRender = Callable[["RaceService", frozenset[str]], dict[str, str | View]]


_NO_ENTRIES: list[Entry] = []


def replayed(config: SessionConfig, events: list[InputEvent], now_us: int) -> RaceEngine:
    """An engine with ``events`` applied (in a thread: pure CPU, nothing shared)."""
    return continued(RaceEngine(config), events, now_us)


def continued(engine: RaceEngine, events: list[InputEvent], now_us: int) -> RaceEngine:
    """``engine`` (fresh, or restored from a checkpoint) with ``events`` applied."""
    for event_in in events:
        try:
            engine.apply(event_in)
        except Exception:  # skipped live too (_write_batch): the replay ends the same
            log.exception("journaled event skipped on replay: %r", event_in)
    engine.tick(now_us)
    return engine


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A session rebuilt from its journal: from its newest usable checkpoint on, or all."""

    engine: RaceEngine
    event_name: str
    config: SessionConfig
    mapper: PassingMapper  # as the journal alone makes it (no track loops)
    tail: list[InputEvent]  # the events replayed: those after the checkpoint, or all
    checkpoint: bytes | None  # the checkpoint restored, if any


def _remembered(mapper: PassingMapper, events: list[InputEvent]) -> PassingMapper:
    """``mapper`` having noted the journaled passings among ``events``."""
    for event_in in events:
        if isinstance(event_in, PassingDetected):
            mapper.remember(event_in)
    return mapper


CONTROL_ONLY = frozenset({"control"})


class NoActiveSession(RuntimeError):
    """Race control has not created a session yet; nothing can be timed."""


class WriteTimedOut(RuntimeError):
    """A command was not committed and applied within ``SUBMIT_TIMEOUT_S`` (answered 503)."""


SUBMIT_TIMEOUT_S = 5.0


class RejectedInput(ValueError):
    """The database or the engine cannot take this input event; it was skipped."""


_REFUSED = (CommandRefused, DriverChangeRefused, FlagRejected)


class RaceService:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        hub: Hub,
        render: ChannelRender,
        heartbeat: HeartbeatRender,
        spool: Spool,
        publish_interval_s: float = 0.05,
        submit_timeout_s: float = SUBMIT_TIMEOUT_S,
        checkpoint_every: int = CHECKPOINT_EVERY,
    ) -> None:
        self._db = sessionmaker
        self.journal = DurableJournal(
            sessionmaker, spool, SessionCopy(spool.path.with_name(spool.path.name + ".session"))
        )
        self.audit = AuditLog(sessionmaker, spool.path.with_name(spool.path.name + ".audit"))
        self.clock = clock
        self.hub = hub
        self.output = ChannelPublisher(
            hub,
            clock,
            lambda channels: render(self, channels),
            heartbeat,
            publish_interval_s,
            self._feed_rmonitor,
            self._settled,
        )
        self.submit_timeout_s = submit_timeout_s
        self.engine: RaceEngine | None = None
        self.session_id: int | None = None
        self.event_name = ""
        self.decoders: dict[str, DecoderState] = {}
        # server time between a decoder's two latest STATUS messages, by URL: how often
        # it reports, so race control's "late" is relative to it (and to the clock rate)
        self.status_intervals: dict[str, int] = {}
        self.mapper = PassingMapper()
        self.dropped: Counter[str] = Counter()  # passings we could not accept, by reason
        self.journaled = 0  # input events committed (and applied) by this process
        self.checkpoints = CheckpointStore(sessionmaker)
        self.checkpoint_every = checkpoint_every
        # written, and ignored on load: "stale" (other engine code or configuration),
        # "unreadable" (damaged); a failed write is "failed"
        self.checkpoint_counts: Counter[str] = Counter()
        # the mapper as the journal alone makes it, which is what a checkpoint holds (the
        # live one has also seen the passings still queued, which a crash loses)
        self._journaled_mapper = PassingMapper()
        self._since_checkpoint = 0  # events journaled since the engine's checkpoint
        self._checkpoint_saving: asyncio.Task[None] | None = None
        self.past = PastResults(
            sessionmaker, lambda session_id: self.journal.store.last_seq(session_id), self.replay
        )
        self.rmonitor: RMonitorServer | None = None  # our timing as an RMonitor feed
        self._laps: list[LapCompleted] = []  # completed since the last publish, for $J
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(_QUEUE_MAX)
        self._lock = asyncio.Lock()
        self._batch_done = asyncio.Event()  # set by the writer after each batch
        self._writing = False  # the writer has a batch in hand
        # the result versions of the sessions timed here (and race control's signing)
        self.versions = ResultVersioning(
            sessionmaker, lambda session_id: self.journal.store.last_seq(session_id), clock
        )

    def mark_dirty(self, channels: frozenset[str] = ALL_CHANNELS) -> None:
        """Ask the publisher to re-render ``channels`` (coalesced)."""
        self.output.mark_dirty(channels)

    # --- loading -------------------------------------------------------------------

    async def load_latest(self) -> None:
        async with self._db() as db:
            row = await repository.latest_session(db)
        if row is not None:
            await self.load_session(row.id)

    async def replay(self, session_id: int) -> tuple[RaceEngine, str, list[Entry]]:
        """A fresh engine for ``session_id`` built from its journal alone (its entries
        included; from its newest usable checkpoint on, when it has one), the event name
        and the entries. The CPU work runs in a thread, so a long journal does not stall
        the event loop.

        Raises ``LookupError`` for an unknown session.
        """
        rebuilt = await self._from_journal(session_id)
        return rebuilt.engine, rebuilt.event_name, rebuilt.engine.entries()

    async def _from_journal(self, session_id: int) -> Rebuilt:
        """The session rebuilt from its newest usable checkpoint and the journal after
        it, or from the whole journal when it has none."""
        async with self._db() as db:
            config = await repository.session_config(db, session_id)
            session = await repository.get_session(db, session_id)
            event = await repository.get_event(db, session.event_id)
        found = await self._restored(session_id, config)
        now = self.clock.now_us()
        if found is None:
            events = await self._journal_events(session_id)
            mapper = _remembered(PassingMapper(), events)
            engine = await asyncio.to_thread(replayed, config, events, now)
            return Rebuilt(engine, event.name, config, mapper, events, None)
        seq, blob, restored = found
        # the checkpoint was made of a loaded session, whose journal holds its entry list
        # before the checkpoint: the tail is applied in journal order
        events = await self.journal.read(session_id, seq)
        mapper = _remembered(restored.mapper, events)
        engine = await asyncio.to_thread(continued, restored.engine, events, now)
        return Rebuilt(engine, event.name, config, mapper, events, blob)

    async def _restored(
        self, session_id: int, config: SessionConfig
    ) -> tuple[int, bytes, checkpoint.Restored] | None:
        """The session's newest checkpoint this code can restore, with its seq and blob;
        a damaged one is logged, counted and passed over."""
        key = checkpoint.config_key(config)
        seqs = await self.checkpoints.seqs(session_id, checkpoint.ENGINE_FINGERPRINT, key)
        if not seqs:
            stale = await self.checkpoints.count(session_id)
            if stale:
                self.checkpoint_counts["stale"] += stale
                log.warning(
                    "session %s: %d checkpoint(s) made by other engine code or for another "
                    "configuration ignored: replaying the whole journal",
                    session_id,
                    stale,
                )
            return None
        for seq, counted in seqs:
            if await self.checkpoints.journal_events(session_id, seq) != counted:
                self.checkpoint_counts["stale"] += 1
                log.warning(
                    "session %s: checkpoint at seq %d ignored: the journal before it changed",
                    session_id,
                    seq,
                )
                continue
            blob = await self.checkpoints.state(session_id, seq)
            if blob is None:  # gone since
                continue
            try:
                restored = await asyncio.to_thread(checkpoint.loads, blob, config)
            except (checkpoint.CheckpointUnreadable, checkpoint.CheckpointStale) as exc:
                self.checkpoint_counts["unreadable"] += 1
                log.error(
                    "session %s: checkpoint at seq %d ignored (%s): replaying the journal",
                    session_id,
                    seq,
                    exc,
                )
                continue
            return seq, blob, restored
        return None

    async def start_offline(self) -> bool:
        """Time on without the database (it did not answer at start-up): rebuild the
        timed session from the local copy of its journal and the spool, which then takes
        every event until the database is back and the spool drains into it. False when
        there is no copy to rebuild from."""
        copied = await asyncio.to_thread(self.journal.copy.read)
        if copied is None:
            return False
        config = copied.config
        session_id = config.session_id
        pending = await asyncio.to_thread(self.journal.spool.pending_for, session_id)
        mapper, engine = PassingMapper(), RaceEngine(config)
        if copied.checkpoint is None:
            events = entry_list_first(copied.events + pending)
        else:
            try:
                restored = await asyncio.to_thread(checkpoint.loads, copied.checkpoint, config)
            except (checkpoint.CheckpointUnreadable, checkpoint.CheckpointStale) as exc:
                self.checkpoint_counts["unreadable"] += 1
                log.error("the local copy's checkpoint is unusable (%s): no copy", exc)
                return False
            mapper, engine = restored.mapper, restored.engine
            events = copied.events + pending  # after the checkpoint, in journal order
        _remembered(mapper, events)
        self._journaled_mapper, self._since_checkpoint = mapper.clone(), len(events)
        mapper.loops = {loop.decoder: loop for loop in copied.loops}
        engine = await asyncio.to_thread(continued, engine, events, self.clock.now_us())
        async with self._lock:
            self.engine, self.mapper = engine, mapper
            self.session_id, self.event_name = session_id, copied.event_name
            self.journal.offline_since(self.clock.now_us())
        log.error(
            "database unreachable at start: session %s rebuilt from its local copy "
            "(%d events) and the spool (%d); timing into the spool until it is back",
            session_id,
            len(copied.events),
            len(pending),
        )
        self.mark_dirty()
        return True

    async def _journal_events(self, session_id: int) -> list[InputEvent]:
        """The session's journal in the order a replay applies it. A journal written
        before entries were journaled gets today's entry list, once (appended; applied
        first by every replay from then on), so the session still loads."""
        events = await self.journal.read(session_id)
        if not any(isinstance(event_in, EntryListSet) for event_in in events):
            entries = await self._current_entries(session_id)
            entry_list = EntryListSet(at_us=0, entries=tuple(entries))
            await self.journal.append(session_id, [entry_list], self.clock.now_us())
            log.warning("session %s: entry list journaled from today's entries", session_id)
            events.append(entry_list)
        return entry_list_first(events)

    async def load_session(self, session_id: int) -> None:
        """Make ``session_id`` the timed session, rebuilding its state from the journal.

        The session timed until now is past from here on: its standings are stored. Entry
        changes made while nobody timed this session (``racecontrol import entries`` with
        the server down) are journaled and applied, unless it has finished.
        """
        async with self._lock:
            await self.journal.try_drain()
            if self.session_id is not None and self.session_id != session_id:
                await self._store_results()
            rebuilt = await self._from_journal(session_id)
            engine, event_name, config = rebuilt.engine, rebuilt.event_name, rebuilt.config
            async with self._db() as db:
                session = await repository.get_session(db, session_id)
                loops = await load_track(db, session.event_id)
            mapper = rebuilt.mapper.clone()
            mapper.loops = {loop.decoder: loop for loop in loops}
            # the local copy a start without the database rebuilds this session from: the
            # checkpoint and the events after it, so a restart stays O(tail) here too;
            # written in the background (the events journaled meanwhile follow it)
            self.journal.start_copy(
                functools.partial(
                    self.journal.copy.write,
                    config,
                    session.rules,
                    event_name,
                    loops,
                    rebuilt.tail,
                    rebuilt.checkpoint,
                )
            )
            self.engine, self.mapper = engine, mapper
            self._journaled_mapper, self._since_checkpoint = rebuilt.mapper, len(rebuilt.tail)
            self.session_id, self.event_name = session_id, event_name
            self._laps.clear()
            await self._journal_entry_changes(await self._current_entries(session_id), "entries")
            if self._since_checkpoint >= self.checkpoint_every and not self.journal.spool:
                # a long replay (no checkpoint yet, or an upgrade): the next restart's is short
                self._checkpoint(session_id, await self.journal.store.last_seq(session_id))
            if engine.status().finished:
                await self._store_results()
                await self._version_results()
            log.info("session %s loaded from its journal", session_id)
        self.mark_dirty()

    @property
    def entries(self) -> list[Entry]:
        """The timed session's entry list, as its journal has it."""
        return _NO_ENTRIES if self.engine is None else self.engine.entries()

    async def entries_changed(self, actor: str = "entries") -> int:
        """The entry tables changed (an import, the API): journal and apply each car that
        differs from the timed session's entry (the changed transponders count from now
        on). Nothing once the session has finished: its results stay. How many cars."""
        session_id = self.session_id
        if session_id is None:
            return 0
        current = await self._current_entries(session_id)  # read outside the writer's lock
        async with self._lock:
            if self.session_id != session_id:
                return 0
            changed = await self._journal_entry_changes(current, actor)
        if changed:
            self.mark_dirty()
        return changed

    async def run_entry_watch(self, interval_s: float = 2.0) -> None:
        """Entry changes made by another process (``racecontrol import entries`` against
        the server's database) reach the timed session within ``interval_s``."""
        while True:
            await asyncio.sleep(interval_s)
            if self.engine is None or self.engine.status().finished:
                continue
            try:
                await self.entries_changed("import")
            except (SQLAlchemyError, OSError) as exc:
                # the database is down: the spool and its alert say so already; a watch
                # failing every 2 s must not make the supervisor give up on the server
                log.debug("entry watch: database unreachable (%s)", exc)

    async def _current_entries(self, session_id: int) -> list[Entry]:
        """The session's event's entries as the tables hold them now (licences judged on
        the event's day, or the session's when unset)."""
        async with self._db() as db:
            session = await repository.get_session(db, session_id)
            event = await repository.get_event(db, session.event_id)
            on_date = event.date or session.created_at.date()
            return await repository.load_entries(db, session.event_id, on_date)

    async def _journal_entry_changes(self, current: list[Entry], actor: str) -> int:
        """Journal, then apply, an ``EntryChanged`` for each car of ``current`` that the
        timed session's engine has otherwise (the caller holds the lock)."""
        engine, session_id = self.engine, self.session_id
        if engine is None or session_id is None or engine.status().finished:
            return 0
        known = {entry.number: entry for entry in engine.entries()}
        now = self.clock.now_us()
        changes: list[InputEvent] = [
            EntryChanged(at_us=now, entry=entry, actor=actor)
            for entry in current
            if known.get(entry.number) != entry
        ]
        if changes:
            await self.journal.append(session_id, changes, now)
            self.journaled += len(changes)
            self._since_checkpoint += len(changes)
            for change in changes:
                engine.apply(change)
            log.info("session %s: %d entry changes journaled", session_id, len(changes))
        return len(changes)

    # --- past sessions ---------------------------------------------------------------

    async def _store_results(self) -> None:
        """Store the timed session's standings at its last journal seq."""
        if self.engine is not None and self.session_id is not None:
            await self.past.store(self.engine, self.session_id)

    async def past_standings(self, session_id: int) -> list[StandingRow] | None:
        """A session's stored standings, or None while they are being rebuilt
        (``PastResults.standings``). ``LookupError`` for an unknown session."""
        return await self.past.standings(session_id)

    # --- the stewards ---------------------------------------------------------------

    async def incidents_of(self, session_id: int) -> list[Incident]:
        """A session's incidents: the timed session's from its engine, a past one's from
        its journal replayed (in a thread). ``LookupError`` for an unknown session."""
        engine = self.engine
        if session_id == self.session_id and engine is not None:
            return engine.incidents()
        replayed_engine, _event, _entries = await self.replay(session_id)
        return replayed_engine.incidents()

    async def grid(self, session_id: int) -> GridResult | None:
        """The grid of race ``session_id`` from its event's (latest) qualifying and the
        contact incidents of its practice and qualifying sessions; None while the
        qualifying standings are being rebuilt. ``GridUnavailable`` when there is no
        grid to give, ``LookupError`` for an unknown session."""
        return await race_grid(
            self._db, session_id, self._standings_of, self._contacts, self._current_entries
        )

    async def _standings_of(self, session_id: int) -> list[StandingRow] | None:
        """A session's standings: the timed one's engine, else ``past_standings``."""
        engine = self.engine
        if session_id == self.session_id and engine is not None:
            return engine.standings()
        return await self.past_standings(session_id)

    async def _contacts(self, session_id: int, name: str) -> list[ContactIncident]:
        """Contact incidents of a session: the timed one's engine, else its journal."""
        engine = self.engine
        if session_id == self.session_id and engine is not None:
            found = [i for i in engine.incidents() if i.contact]
            return [ContactIncident(name, i.occurred, i.place, i.cars) for i in found]
        return journal_contacts(await self.journal.read(session_id), name)

    # --- input ---------------------------------------------------------------------

    async def submit(self, event: InputEvent) -> list[OutEvent]:
        """Queue ``event``; once it is committed to the journal and applied, what the
        engine said of it (a refusal carries its reason).

        Raises ``WriteTimedOut`` when that takes longer than ``submit_timeout_s`` (a stuck writer, a
        full queue): the page says so instead of hanging. The event may still be applied
        later; the pit page's idempotency keys make a retry safe.
        """
        future: asyncio.Future[list[OutEvent]] = asyncio.get_running_loop().create_future()

        async def queued_and_applied() -> list[OutEvent]:
            await self._queue.put((event, future))
            return await asyncio.shield(future)

        timeout_s = self.submit_timeout_s
        try:
            return await asyncio.wait_for(queued_and_applied(), timeout_s)
        except TimeoutError:
            raise WriteTimedOut(
                f"race control's write was not confirmed within {timeout_s:.0f} s; "
                "check /healthz and the alerts, then try again"
            ) from None

    def on_task_failure(self, task: str, error: str) -> None:
        """Supervisor callback: race control hears of every restarted background task."""
        text = f"Background task {task} failed and was restarted: {error}"
        alert = ExternalAlertRaised(
            "task_failed", text, self.clock.now_us(), None, Severity.CRITICAL
        )
        self._queue_nowait(alert)

    async def on_detection(self, detection: Detection) -> None:
        """Adapter callback: a decoder passing becomes a journaled input event."""
        if self.session_id is None:
            self.dropped["no_session"] += 1
            log.warning("passing of %s dropped: no session", detection.transponder)
            return
        epoch_before = self.mapper.epochs.get(detection.decoder_id)
        try:
            event = self.mapper.map(detection, self.clock.now_us())
        except Exception:  # a bug, but one passing must not stop the decoder's runner
            log.exception("passing rejected, could not be mapped: %r", detection)
            event = "rejected"
        if isinstance(event, str):
            self.dropped[event] += 1
            if event == "unknown_decoder" and self.dropped[event] == 1:
                log.warning(
                    "passings of decoder %s dropped: not on the track", detection.decoder_id
                )
            elif event in ("out_of_range", "rejected"):
                what = f"passing from decoder {detection.decoder_id} ({event})"
                self._alert_rejected(what, self.dropped[event])
            return
        if epoch_before is not None and event.epoch > epoch_before:
            text = (
                f"Decoder {detection.decoder_id} restarted its passing numbers at "
                f"{event.passing_number}; new epoch {event.epoch}"
            )
            log.warning("%s", text)
            await self._queue.put(
                (ExternalAlertRaised("decoder_renumbered", text, self.clock.now_us()), None)
            )
        # queued, not awaited: the writer commits a burst in one transaction. A crash
        # before that commit loses at most the queue, which a P3 decoder resends (the
        # runner resumes at the journal's last passing number).
        await self._queue.put((event, None))

    def on_decoder_state(self, state: DecoderState) -> None:
        before, now_us = self.decoders.get(state.url), self.clock.now_us()
        previous = None if before is None else before.last_status_at_us
        latest = state.last_status_at_us
        if previous is not None and latest is not None and latest > previous:
            self.status_intervals[state.url] = latest - previous
        alerts = (decoder_alert(before, state, now_us), bad_input_alert(before, state, now_us))
        self.decoders[state.url] = state
        self.mark_dirty(CONTROL_ONLY)  # spectators do not see decoder health
        for alert in alerts:
            if alert is not None:
                # journaled like any input, so the alert is part of the session's record
                self._queue_nowait(alert)

    def _queue_nowait(self, event: InputEvent) -> None:
        """Queue ``event`` from synchronous code; dropped (and counted) only if full."""
        if self.session_id is None:
            return
        try:
            self._queue.put_nowait((event, None))
        except asyncio.QueueFull:
            self.dropped["queue_full"] += 1

    async def run_writer(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < _BATCH_MAX:
                batch.append(self._queue.get_nowait())
            self._writing = True
            try:
                async with self._lock:
                    try:
                        await self._write_batch(batch)
                    except Exception as exc:  # a bug: fail this batch, keep timing the next
                        log.exception("writer: batch of %d events failed", len(batch))
                        for _event, future in batch:
                            if future is not None and not future.done():
                                future.set_exception(exc)
            finally:
                self._writing = False
            self._batch_done.set()

    def _alert_rejected(self, what: str, count: int) -> None:
        """Race control's alert for the ``count``-th rejected input of its kind (the caller
        logged its details), at 1, 10, 100, ...: a flood raises a handful of alerts."""
        if str(count).rstrip("0") != "1":
            return
        text = f"Input rejected ({count} so far): {what}"
        self._queue_nowait(
            ExternalAlertRaised("input_rejected", text, self.clock.now_us(), None, Severity.WARNING)
        )

    def _reject(self, event: InputEvent, future: _Future | None, reason: str) -> None:
        log.error("input event rejected (%s): %r", reason, event)
        self.dropped["rejected"] += 1
        if future is not None and not future.done():
            future.set_exception(RejectedInput(reason))
        if not isinstance(event, ExternalAlertRaised):  # an alert about an alert could loop
            self._alert_rejected(f"{type(event).__name__} ({reason})", self.dropped["rejected"])

    async def _journal_one_by_one(
        self, session_id: int, batch: list[_Pending], at_us: int
    ) -> list[_Pending]:
        """The database refused the batch: find the events at fault; the rest, journaled."""
        accepted: list[_Pending] = []
        for event, future in batch:
            try:
                await self.journal.append(session_id, [event], at_us)
            except RejectedEvents as exc:
                self._reject(event, future, f"database: {exc}")
            except OSError as exc:  # neither database nor spool
                log.exception("could not persist %r", event)
                if future is not None and not future.done():
                    future.set_exception(exc)
            else:
                accepted.append((event, future))
        return accepted

    async def _write_batch(self, batch: list[_Pending]) -> None:
        engine, session_id = self.engine, self.session_id
        if engine is None or session_id is None:
            self.dropped["no_session"] += sum(future is None for _event, future in batch)
            for _event, future in batch:
                if future is not None and not future.done():
                    future.set_exception(NoActiveSession("no session to time"))
            return
        events = [event for event, _future in batch]
        at_us = self.clock.now_us()
        seq: int | None = None  # the last one's, when all went to the database at once
        try:
            seq = await self.journal.append(session_id, events, at_us)
        except RejectedEvents:
            batch = await self._journal_one_by_one(session_id, batch, at_us)
        except OSError as exc:  # neither database nor spool: nothing is applied unjournaled
            log.exception("could not persist %d events", len(events))
            for _event, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        self.journaled += len(batch)
        self._since_checkpoint += len(batch)
        _remembered(self._journaled_mapper, [event for event, _future in batch])
        late: list[InputEvent] = []  # applied to the session after it had finished
        finished = engine.status().finished
        # it had finished (a version is stored), even if a correction reopened it
        ended = finished or self.versions.ended(session_id)
        for event, future in batch:
            try:
                out = engine.apply(event)
            except Exception as exc:  # journaled, and skipped again on replay
                self._reject(event, future, f"engine: {exc!r}")
                continue
            if (finished or ended) and not any(isinstance(o, _REFUSED) for o in out):
                late.append(event)
            finished = finished or any(isinstance(o, SessionFinished) for o in out)
            self._laps += [o for o in out if isinstance(o, LapCompleted)]
            if future is not None and not future.done():
                future.set_result(out)
        if late:
            self.versions.add_late(session_id, late)
        if finished:
            await self._version_results()
        else:
            await self._version_sprint(events)
        if seq is not None and self._since_checkpoint >= self.checkpoint_every:
            self._checkpoint(session_id, seq)
        self.mark_dirty()

    # --- checkpoints ---------------------------------------------------------------

    def _checkpoint(self, session_id: int, seq: int) -> None:
        """Checkpoint the engine as it is at journal ``seq`` (the caller holds the lock, so
        nothing changes it meanwhile): pickled here, stored by a background task. Skipped
        while the previous one is still being stored (the next batch tries again)."""
        engine = self.engine
        if engine is None or (self._checkpoint_saving and not self._checkpoint_saving.done()):
            return
        started = time.perf_counter()
        self._since_checkpoint = 0  # tried: a failure waits for the next interval
        try:
            blob = checkpoint.dumps(engine, self._journaled_mapper)
        except Exception:  # a bug (something in the state pickle refuses): timing goes on
            self.checkpoint_counts["failed"] += 1
            log.exception("session %s: checkpoint at seq %d not made", session_id, seq)
            return
        took = time.perf_counter() - started
        key = checkpoint.config_key(engine.config)
        self._checkpoint_saving = asyncio.create_task(
            self._save_checkpoint(session_id, seq, key, blob, took)
        )

    async def _save_checkpoint(
        self, session_id: int, seq: int, key: str, blob: bytes, pickled_s: float
    ) -> None:
        try:
            await self.checkpoints.save(session_id, seq, checkpoint.ENGINE_FINGERPRINT, key, blob)
        except (SQLAlchemyError, OSError) as exc:  # only a shortcut: the journal has it all
            self.checkpoint_counts["failed"] += 1
            log.error("session %s: checkpoint at seq %d not stored: %s", session_id, seq, exc)
            return
        self.checkpoint_counts["written"] += 1
        log.info(
            "session %s: checkpoint at seq %d stored (%.1f MB, pickled in %.2f s)",
            session_id,
            seq,
            len(blob) / 1e6,
            pickled_s,
        )

    async def checkpoint_now(self) -> None:
        """Checkpoint the timed session if events came since its last one, and wait until
        it is stored (a clean shutdown: the next start replays nothing)."""
        async with self._lock:
            session_id = self.session_id
            if session_id is not None and self._since_checkpoint and not self.journal.spool:
                if self._checkpoint_saving is not None:
                    await asyncio.gather(self._checkpoint_saving, return_exceptions=True)
                self._checkpoint(session_id, await self.journal.store.last_seq(session_id))
        if self._checkpoint_saving is not None:
            await asyncio.gather(self._checkpoint_saving, return_exceptions=True)

    # --- result versions -----------------------------------------------------------

    async def _version_results(self) -> ResultVersionRow | None:
        """The timed session's next results version, if due (the caller holds the lock)."""
        return await self.versions.version_results(self.engine, self.session_id)

    async def _version_sprint(self, inputs: list[InputEvent]) -> ResultVersionRow | None:
        """The timed SprintDuro's next sprint results version, if due (the caller holds
        the lock)."""
        return await self.versions.version_sprint(self.engine, self.session_id, inputs)

    async def mark_official(self, session_id: int, actor: str, note: str) -> ResultVersionRow:
        """Sign the session's latest results version official. ``ResultsRefused`` while
        the session runs, before it has results, or when they are signed already;
        ``LookupError`` for an unknown session."""
        async with self._lock:
            async with self._db() as db:
                await repository.get_session(db, session_id)
            engine = self.engine if session_id == self.session_id else None
            if engine is not None and not engine.status().finished:
                raise ResultsRefused(
                    f"session {session_id} is still running: results are signed after it ends"
                )
            if engine is not None:
                await self._version_results()
            return await self.versions.sign_latest(session_id, actor, note)

    async def applied(self) -> None:
        """Wait until every input queued so far is journaled and applied (a replay hands
        over the next item only then, as a live decoder's next passing comes later)."""
        while not self._queue.empty():
            self._batch_done.clear()
            await self._batch_done.wait()
        async with self._lock:
            pass

    async def _settled(self, limit_s: float) -> None:
        """Until the writer has nothing queued or in hand, for at most ``limit_s``: a
        burst's passings come in several batches and are rendered once, after the last.
        Without a backlog it returns at once. (Not ``applied``: taking the lock would let
        a render in between two batches, ahead of the writer waiting for it.)"""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit_s):
                while self._writing or not self._queue.empty():
                    self._batch_done.clear()
                    await self._batch_done.wait()

    def tick(self) -> None:
        """The time-driven rules at the clock's now (what ``run_ticker`` does each interval)."""
        if self.engine is not None and self.engine.tick(self.clock.now_us()):
            self.mark_dirty()

    async def store_results(self) -> None:
        """Store the timed session's standings now (a replay's last step; its local copy
        written too)."""
        await self.journal.copy_written()
        async with self._lock:
            await self.journal.try_drain()
            await self._store_results()

    async def run_spool_drain(self, interval_s: float = 2.0) -> None:
        while True:
            await asyncio.sleep(interval_s)
            if self.journal.spool:
                async with self._lock:
                    await self.journal.try_drain()
            if self.audit.holding and not self.journal.spool:
                with contextlib.suppress(SQLAlchemyError, OSError):  # still down: next time
                    await self.audit.drain()

    # --- output --------------------------------------------------------------------

    async def run_ticker(self, interval_s: float = 0.5) -> None:
        """Time-driven rules (clock expiry, stopped cars, finish timeout)."""
        while True:
            await asyncio.sleep(interval_s)
            if self.engine is not None:
                async with self._lock:
                    if self.engine.tick(self.clock.now_us()):
                        self.mark_dirty()
                        await self._version_results()
                    elif self.versions.results_unknown(self.session_id):
                        await self._version_results()
                    elif self.versions.sprint_unknown(self.session_id):
                        await self._version_sprint([])

    @property
    def publish_interval_s(self) -> float:
        return self.output.interval_s

    async def run_heartbeat(self, interval_s: float) -> None:
        """Lets browsers tell a quiet race from a dead connection."""
        await self.output.run_heartbeat(interval_s)

    async def run_publisher(self) -> None:
        """Render dirty channels, each at most once per ``publish_interval_s``."""
        await self.output.run_publisher()

    def publish(self, channels: frozenset[str] = ALL_CHANNELS) -> None:
        """Render each watched channel once for all its subscribers (the rest: stale)."""
        self.output.publish(channels)

    def refresh(self, channel: str) -> None:
        """Bring a stale (or never rendered) channel's snapshot up to date (before a
        viewer subscribes)."""
        self.output.refresh(channel)

    def _feed_rmonitor(self) -> None:
        """The RMonitor feed's snapshot, as "public" is published (with the laps
        completed since the last one)."""
        if self.rmonitor is not None:
            now = self.clock.now_us()
            laps, self._laps = self._laps, []
            self.rmonitor.update(
                snapshot_of(self.status(), self.entries, self.standings(), laps, now)
            )

    @property
    def database_ok(self) -> bool:
        """False while input events wait in the local spool for the database."""
        return self.journal.database_ok

    # --- views ---------------------------------------------------------------------

    def status(self) -> SessionStatus | None:
        return None if self.engine is None else self.engine.status()

    def standings(self) -> list[StandingRow]:
        return [] if self.engine is None else self.engine.standings()
