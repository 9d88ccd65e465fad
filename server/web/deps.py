"""Typed dependencies for the routes: what the app's lifespan built, asked for by type.

Strategy: a route names what it needs in its signature and FastAPI builds it once per
request (or websocket): the app state, the race service, a database session, and the
engine of the session being timed. ``EngineDep`` answers 409 when there is none, so no
route checks for itself; the role dependencies are in ``server.web.auth``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.requests import HTTPConnection
from sqlalchemy.ext.asyncio import AsyncSession

from server.engine.race import RaceEngine
from server.service.race_service import RaceService
from server.web.state import AppState, app_state

NO_SESSION = "no session is being timed"


def _state(connection: HTTPConnection) -> AppState:
    # HTTPConnection, not Request: websockets ask for the state too
    return app_state(connection.app)


StateDep = Annotated[AppState, Depends(_state)]


def _race(state: StateDep) -> RaceService:
    return state.race


RaceDep = Annotated[RaceService, Depends(_race)]


async def _db(state: StateDep) -> AsyncIterator[AsyncSession]:
    async with state.sessionmaker() as session:
        yield session


# closed when the route returns, before the answer is sent: its connection is back in the
# pool while the answer travels to a phone on a slow link
DbDep = Annotated[AsyncSession, Depends(_db, scope="function")]


def _engine(race: RaceDep) -> RaceEngine:
    if race.engine is None:
        raise HTTPException(status.HTTP_409_CONFLICT, NO_SESSION)
    return race.engine


EngineDep = Annotated[RaceEngine, Depends(_engine)]
