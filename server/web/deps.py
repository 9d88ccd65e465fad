"""Typed dependencies for the routes: what the app's lifespan built, asked for by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.service.race_service import RaceService
from server.web.state import AppState, app_state


def _state(request: Request) -> AppState:
    return app_state(request.app)


def _race(state: Annotated[AppState, Depends(_state)]) -> RaceService:
    return state.race


StateDep = Annotated[AppState, Depends(_state)]
RaceDep = Annotated[RaceService, Depends(_race)]
