"""Race control's view of the login throttle: who is waiting or locked out, and lifting it.

Strategy: the throttle lives in ``login_throttle`` (``server.db.accounts``), so this page,
``racecontrol login lift`` and the login routes see the same counts. Lifting forgets a
key's attempts (or every key's) and is audited with who did it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.db import repository
from server.web.auth import ActorDep, ControlRole, RoleDep, login_now
from server.web.csrf import CsrfTokenDep
from server.web.deps import DbDep, StateDep

router = APIRouter(prefix="/control", include_in_schema=False)


@router.get("/logins")
async def logins_page(role: RoleDep, state: StateDep, db: DbDep, csrf: CsrfTokenDep) -> Response:
    if role != "control":
        return RedirectResponse("/login?next=/control/logins", status_code=303)
    now, policy = login_now(state), state.throttle_policy
    rows = []
    for row in await repository.throttled_keys(db):
        wait = repository.wait_for(row.failures, row.last_at, row.locked, now, policy)
        status = "locked" if wait is None else (f"waits {round(wait)} s" if wait > 0 else "may try")
        rows.append({"key": row.key, "failures": row.failures, "status": status})
    context = {"rows": rows, "event_name": state.race.event_name, "csrf_token": csrf}
    return HTMLResponse(state.renderer.page("logins.html", context))


@router.post("/logins/lift")
async def lift(
    _role: ControlRole,
    actor: ActorDep,
    db: DbDep,
    key: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Forget the attempts of ``key`` (every key when empty): its logins may try again."""
    lifted = await repository.lift_lockouts(db, key or None)
    await repository.audit(db, actor, "login.lift", {"key": key or "*", "lifted": lifted})
    return RedirectResponse("/control/logins", status_code=303)
