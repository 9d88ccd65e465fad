"""Results pages and exports for edges: rendered by the race service, kept in Redis.

Strategy: an edge never opens the database, so the race service (``serve --redis``)
renders each session's results (the public page of every version, and its JSON, CSV and
PDF exports, of each part) and writes them to one Redis hash per session
(``<prefix>:results:<session id>``), whenever a part's latest version or its signatures
change. It finds those changes by asking the database every ``interval_s`` for each
part's latest version number and number of signed versions (one small grouped query),
so whatever stored or signed a version (the writer, a steward's decision, the CLI from
another process) is published the same way; Redis or the database away only delays it.
Rendering a PDF takes tens of milliseconds of fpdf2: it runs in a thread, off the event
loop that times the race. ``edge_results`` reads the hash back for the edge's routes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.db.result_versions import PARTS
from server.service.results import COLUMNS, to_csv, to_json
from server.service.results_docs import load_document
from server.service.results_pdf import to_pdf
from server.web.rendering import Renderer

log = logging.getLogger("racecontrol.redis")

Export = Literal["json", "csv", "pdf"]
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def results_key(prefix: str, session_id: int) -> str:
    return f"{prefix}:results:{session_id}"


def field(part: str, version: int | None, kind: str) -> str:
    """``race:v2:pdf``; ``race:latest:html`` names the latest version's."""
    return f"{part}:{'latest' if version is None else f'v{version}'}:{kind}"


async def results_page_html(
    db: AsyncSession, renderer: Renderer, session_id: int, version: int | None = None
) -> str:
    """The public results page of a version (None: the latest): overall, then each class.
    ``LookupError`` when the session or version has none."""
    doc = await load_document(db, session_id, version)
    classes = sorted({row.class_name for row in doc.rows})
    by_class = {name: await load_document(db, session_id, doc.version, name) for name in classes}
    session = await repository.get_session(db, session_id)
    context = {"doc": doc, "columns": COLUMNS, "by_class": by_class, "session": session}
    return renderer.page("results.html", context)


async def rendered_results(
    db: AsyncSession, renderer: Renderer, session_id: int
) -> dict[str, bytes]:
    """Every version's page (race part) and exports (each part) of one session."""
    fields: dict[str, bytes] = {}
    for part in PARTS:
        stored = await repository.versions(db, session_id, part)
        for number, row in enumerate(stored, start=1):
            latest = number == len(stored)
            doc = await load_document(db, session_id, row.version, None, part)
            exports = {
                "json": json.dumps(to_json(doc)).encode(),
                "csv": to_csv(doc).encode(),
                "pdf": await asyncio.to_thread(to_pdf, doc),
            }
            if part == "race":
                page = await results_page_html(db, renderer, session_id, row.version)
                exports["html"] = page.encode()
            for kind, data in exports.items():
                fields[field(part, row.version, kind)] = data
                if latest:
                    fields[field(part, None, kind)] = data
    return fields


class ResultsPublisher:
    """Keeps Redis's copy of the results equal to the database's (see the module)."""

    def __init__(
        self,
        redis_url: str,
        prefix: str,
        db: async_sessionmaker[AsyncSession],
        renderer: Renderer,
        interval_s: float = 2.0,
    ) -> None:
        self.redis: Redis = Redis.from_url(
            redis_url, client_name=f"{prefix}:results", socket_connect_timeout=2.0
        )
        self.prefix, self.db, self.renderer = prefix, db, renderer
        self.interval_s = interval_s
        self.published: dict[tuple[int, str], tuple[int, int]] = {}
        self.sessions_published = 0  # sessions written to Redis (for tests and logs)
        self.rounds = 0  # looks at the database, whatever came of them

    async def publish_changed(self) -> int:
        """Writes the sessions whose versions changed since the last call; how many."""
        async with self.db() as db:
            marks = await repository.version_marks(db)
        changed = sorted({key[0] for key, mark in marks.items() if self.published.get(key) != mark})
        for session_id in changed:
            async with self.db() as db:
                fields = await rendered_results(db, self.renderer, session_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(results_key(self.prefix, session_id))
                pipe.hset(results_key(self.prefix, session_id), mapping=fields)  # type: ignore[arg-type]
                await pipe.execute()
            self.sessions_published += 1
            for key, mark in marks.items():
                if key[0] == session_id:
                    self.published[key] = mark
            log.info("results of session %s published for edges", session_id)
        return len(changed)

    async def run(self) -> None:
        """Publishes until cancelled. Redis or the database away is not a failure of the
        race service (it times on without either): it is logged once, and what was not
        written is tried again each round."""
        away: str | None = None
        while True:
            try:
                await self.publish_changed()
                if away is not None:
                    log.info("results for edges: published again (%s is back)", away)
                away = None
            except (RedisError, SQLAlchemyError, OSError) as exc:
                if away is None:
                    log.warning("results for edges: not published now (%s)", exc)
                away = "Redis" if isinstance(exc, RedisError) else "the database"
            self.rounds += 1
            await asyncio.sleep(self.interval_s)

    async def close(self) -> None:
        await self.redis.aclose()


async def edge_results(
    redis: Redis, prefix: str, session_id: int, part: str, version: int | None, kind: str
) -> bytes | None:
    """What an edge serves for one results request; None when Redis has none of it."""
    data = await redis.hget(results_key(prefix, session_id), field(part, version, kind))
    return data.encode() if isinstance(data, str) else data
