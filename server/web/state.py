"""What the app's lifespan builds and the routes use, typed in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.service.hub import Hub
from server.service.race_service import RaceService
from server.service.supervisor import Supervisor
from server.settings import Settings
from server.web.rendering import Renderer


@dataclass
class AppState:
    settings: Settings
    db_engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    hub: Hub
    renderer: Renderer
    race: RaceService
    supervisor: Supervisor | None = None  # set once the lifespan starts the tasks
    # sha256 of each bearer token verified by the database -> its role, for an outage
    verified_tokens: dict[str, str] = field(default_factory=dict)


def app_state(app: FastAPI) -> AppState:
    state: AppState = app.state.racecontrol
    return state
