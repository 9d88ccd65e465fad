"""Engine checkpoints in the database: the newest few of each session, one row each.

Strategy: ``save`` inserts a checkpoint and, in the same transaction, deletes the
session's older ones but the newest ``KEEP`` (a checkpoint holds the whole state, so an
unbounded history would grow the database by the state's size every time). ``newest``
reads, newest first, only the rows made by this engine code for this configuration: a
load tries each in turn and replays the whole journal if none restores. Each row also
counts the session's journal events up to its seq (an index range count): a journal that
holds fewer now was cut since, and the checkpoint is not its state.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db.models import EngineCheckpointRow, JournalRow

KEEP = 2  # the newest, and one before it in case the newest is damaged


class CheckpointStore:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def save(
        self, session_id: int, seq: int, engine_version: str, config_key: str, state: bytes
    ) -> None:
        async with self._sessionmaker() as db, db.begin():
            row = EngineCheckpointRow(
                session_id=session_id,
                seq=seq,
                events=await journal_events(db, session_id, seq),
                engine_version=engine_version,
                config_key=config_key,
                state=state,
            )
            db.add(row)
            await db.flush()
            kept = (
                select(EngineCheckpointRow.id)
                .where(EngineCheckpointRow.session_id == session_id)
                .order_by(EngineCheckpointRow.seq.desc(), EngineCheckpointRow.id.desc())
                .limit(KEEP)
            )
            ids = list(await db.scalars(kept))
            await db.execute(
                delete(EngineCheckpointRow).where(
                    EngineCheckpointRow.session_id == session_id,
                    EngineCheckpointRow.id.not_in(ids),
                )
            )

    async def seqs(
        self, session_id: int, engine_version: str, config_key: str
    ) -> list[tuple[int, int]]:
        """The (seq, journal events up to it) of the session's checkpoints made by this
        code for this configuration, newest first (no state read)."""
        statement = (
            select(EngineCheckpointRow.seq, EngineCheckpointRow.events)
            .where(
                EngineCheckpointRow.session_id == session_id,
                EngineCheckpointRow.engine_version == engine_version,
                EngineCheckpointRow.config_key == config_key,
            )
            .order_by(EngineCheckpointRow.seq.desc(), EngineCheckpointRow.id.desc())
        )
        async with self._sessionmaker() as db:
            return [(seq, events) for seq, events in await db.execute(statement)]

    async def journal_events(self, session_id: int, seq: int) -> int:
        """How many of the session's journal events are at or before ``seq`` now."""
        async with self._sessionmaker() as db:
            return await journal_events(db, session_id, seq)

    async def state(self, session_id: int, seq: int) -> bytes | None:
        """The state of the session's newest checkpoint at ``seq``, None if gone since."""
        statement = (
            select(EngineCheckpointRow.state)
            .where(EngineCheckpointRow.session_id == session_id, EngineCheckpointRow.seq == seq)
            .order_by(EngineCheckpointRow.id.desc())
            .limit(1)
        )
        async with self._sessionmaker() as db:
            state: bytes | None = await db.scalar(statement)
            return state

    async def count(self, session_id: int) -> int:
        """How many checkpoints the session has (for operators and tests)."""
        statement = select(EngineCheckpointRow.id).where(
            EngineCheckpointRow.session_id == session_id
        )
        async with self._sessionmaker() as db:
            return len(list(await db.scalars(statement)))


async def journal_events(db: AsyncSession, session_id: int, seq: int) -> int:
    statement = select(func.count()).where(
        JournalRow.session_id == session_id, JournalRow.seq <= seq
    )
    return int(await db.scalar(statement) or 0)
