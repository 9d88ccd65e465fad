"""The pit marshals' page and its commands (login or event PIN, phone-first).

Strategy: each command is a small htmx post answered with a one-line fragment (what was
recorded, or why it was refused) for the page's result box; the new state itself comes
over the pit websocket like every other change. A confirmation carries the phone's
idempotency key (``idem``): a repeat of a key gets the first answer and is not
submitted again, so a double tap or a retry after a dropped connection records one
confirmation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.engine.refusals import OVERRIDABLE
from server.service.idempotency import Answer, RecentAnswers
from server.web import actions, contexts
from server.web.auth import ActorDep, PitRole, RoleDep, may_pit
from server.web.csrf import CsrfTokenDep
from server.web.deps import StateDep
from server.web.limits import Name
from server.web.rendering import Renderer
from server.web.state import AppState

router = APIRouter(include_in_schema=False)
Number = Annotated[Name, Form(min_length=1, max_length=16)]
Key = Annotated[Name | None, Form(max_length=100)]


def recent_answers(request: Request) -> RecentAnswers:
    """The app's memory of answered keys (made on first use; one per app)."""
    answers = getattr(request.app.state, "recent_answers", None)
    if not isinstance(answers, RecentAnswers):
        answers = RecentAnswers()
        request.app.state.recent_answers = answers
    return answers


def render_outcome(
    renderer: Renderer, outcome: actions.Outcome, override: dict[str, object] | None = None
) -> str:
    return renderer.page("_result.html", {"outcome": outcome, "override": override})


async def _answer(
    request: Request, actor: str, key: str | None, work: Callable[[], Awaitable[str]]
) -> HTMLResponse:
    async def run() -> Answer:
        return Answer(await work())

    answer = await recent_answers(request).answer(actor, key, run)
    return HTMLResponse(answer.html, status_code=answer.status)


@router.get("/pit")
async def pit_page(
    request: Request, role: RoleDep, state: StateDep, csrf: CsrfTokenDep
) -> Response:
    if not may_pit(role, request.session.get("event"), state.race.event_name):
        return RedirectResponse("/login?next=/pit", status_code=303)
    context = contexts.pit(state.race) | {"csrf_token": csrf}
    return HTMLResponse(state.renderer.page("pit.html", context))


@router.post("/pit/driver-change")
async def driver_change(
    request: Request,
    role: PitRole,
    actor: ActorDep,
    state: StateDep,
    number: Number,
    driver: Annotated[Name, Form(min_length=1, max_length=200)],
    idem: Key = None,
) -> HTMLResponse:
    async def work() -> str:
        outcome = await actions.confirm_driver_change(state.race, number, driver, actor)
        override: dict[str, object] | None = None
        if outcome.reason in OVERRIDABLE and role == "control":
            values = {"number": number, "driver": driver, "override": "1"}
            override = {"url": "/control/driver-change", "values": values}
            override |= {"driver": driver, "number": number}
        return render_outcome(state.renderer, outcome, override)

    return await _answer(request, actor, idem, work)


@router.post("/pit/solo-exit")
async def solo_exit(
    request: Request,
    _role: PitRole,
    actor: ActorDep,
    state: StateDep,
    number: Number,
    idem: Key = None,
) -> Response:
    async def work() -> str:
        outcome = await actions.confirm_solo_exit(state.race, number, actor)
        return render_outcome(state.renderer, outcome)

    return await _answer(request, actor, idem, work)


async def _mark(
    request: Request,
    actor: str,
    state: AppState,
    number: str,
    idem: str | None,
    *,
    going_in: bool,
) -> HTMLResponse:
    async def work() -> str:
        outcome = await actions.mark_pit(state.race, number, actor, going_in=going_in)
        return render_outcome(state.renderer, outcome)

    return await _answer(request, actor, idem, work)


@router.post("/pit/in")
async def pit_in(
    request: Request,
    _role: PitRole,
    actor: ActorDep,
    state: StateDep,
    number: Number,
    idem: Key = None,
) -> Response:
    return await _mark(request, actor, state, number, idem, going_in=True)


@router.post("/pit/out")
async def pit_out(
    request: Request,
    _role: PitRole,
    actor: ActorDep,
    state: StateDep,
    number: Number,
    idem: Key = None,
) -> Response:
    return await _mark(request, actor, state, number, idem, going_in=False)
