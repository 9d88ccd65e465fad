"""What the app's lifespan builds and the routes use, typed in one place."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.db.accounts import HashGate, LoginRecord, ThrottlePolicy, VerifiedToken
from server.service.hub import Hub
from server.service.race_service import RaceService
from server.service.supervisor import Supervisor
from server.settings import Settings
from server.web.rendering import Renderer
from timing_adapters.clock import Clock, WallClock


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
    verified_tokens: dict[str, VerifiedToken] = field(default_factory=dict)
    # the same for cookie logins (sha256 of the session id -> who), and the ids logged
    # out while the database was unreachable (refused by this process from then on)
    verified_sessions: dict[str, LoginRecord] = field(default_factory=dict)
    ended_sessions: set[str] = field(default_factory=set)
    # login attempts: counted under one lock, hash checks bounded, times by this clock
    login_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    hash_gate: HashGate = field(default_factory=HashGate)
    throttle_policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    login_clock: Clock = field(default_factory=WallClock)


def app_state(app: FastAPI) -> AppState:
    state: AppState = app.state.racecontrol
    return state
