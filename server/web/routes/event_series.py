"""``/control/event/series``: race control sets up the championship in the browser.

Strategy: plain HTML forms, post-redirect-get, as the rest of ``/control/event``: create a
series with a points preset and the parameters that differ, its class bands and
equivalency table (a form, or a CSV file), count the event in it, award a steward's On
the Move, and put a car in a class by hand with a note. The values are checked by the
season's own code (``server.service.series_settings``, ``server.season``): a refusal
answers 422 (404 for an unknown series or car) with the page and the reason, never a
500. Every change is audited (``AuditLog``), and a class set by hand reaches the timed
session as a journaled ``EntryChanged`` (``RaceService.entries_changed``).
On the Move is a steward's award: the chief steward (role ``steward``) or race control
on their word may enter it; from the stewards' page (htmx) the answer is a one-line
fragment.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from server.db import series
from server.db.sessions import NotFound
from server.season.classes import bands_from_csv, equivalency_from_csv
from server.season.scheme import SchemeError
from server.service.series_settings import (
    NUMBER_PARAMETERS,
    bands_from_form,
    checked_award,
    equivalency_from_form,
    scheme_overrides,
    set_class_by_hand,
)
from server.web import actions
from server.web.auth import ActorDep, ControlOrStewardRole, ControlRole
from server.web.deps import DbDep, StateDep
from server.web.routes.event import render_page
from server.web.routes.pit import render_outcome
from server.web.state import AppState

router = APIRouter(prefix="/control/event", include_in_schema=False)
SeriesName = Annotated[str, Form(min_length=1, max_length=100)]
EventName = Annotated[str, Form(min_length=1, max_length=200)]
Cells = Annotated[list[str], Form(max_length=50)]
Short = Annotated[str, Form(max_length=20)]
CSV_LIMIT = 200_000


def _back(event: str, name: str, message: str) -> RedirectResponse:
    query = {"event": event, "series": name, "message": message}
    return RedirectResponse("/control/event?" + urlencode(query), status_code=303)


async def _refused(
    state: AppState, db: AsyncSession, event: str, name: str, exc: Exception
) -> Response:
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFound) else 422
    return await render_page(state, db, event, None, str(exc), code, chosen_series=name)


async def _csv_text(file: UploadFile) -> str:
    data = await file.read(CSV_LIMIT + 1)
    if len(data) > CSV_LIMIT:
        raise SchemeError(f"the CSV file is over {CSV_LIMIT // 1000} KB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SchemeError("the CSV file is not UTF-8 text") from None


@router.post("/series")
async def create_series(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    name: SeriesName,
    preset: Annotated[str, Form(max_length=40)] = "img",
    table: Annotated[str, Form(max_length=400)] = "",
    best_sprints_counted: Short = "",
    every_sprint: Annotated[bool, Form()] = False,
    last_finisher_points: Short = "",
    step: Short = "",
    starter_minimum: Short = "",
    winner_bonus: Short = "",
    fast_five_bonus: Short = "",
    fast_five_laps: Short = "",
    on_the_move_bonus: Short = "",
    trophy_depth: Short = "",
) -> Response:
    """A new series with a points preset and the parameters that differ from it."""
    given = dict(zip(NUMBER_PARAMETERS, (last_finisher_points, step, starter_minimum,
                 winner_bonus, fast_five_bonus, fast_five_laps, on_the_move_bonus,
                 trophy_depth), strict=True))  # fmt: skip
    name = name.strip()
    try:
        overrides = scheme_overrides(given, table, best_sprints_counted, every_sprint)
        await series.create_series(db, name, preset, **overrides)
    except SchemeError as exc:
        await db.rollback()
        return await _refused(state, db, event, name, exc)
    detail: dict[str, Any] = {"series": name, "preset": preset, **overrides}
    if "table" in detail:
        detail["table"] = list(detail["table"])
    await state.race.audit.record(actor, "series.create", detail)
    return _back(event, name, f"series {name!r} created with the {preset} points scheme")


async def _set_bands(
    state: AppState, db: AsyncSession, actor: str, event: str, name: str, how: str, read: Any
) -> Response:
    try:
        bands = read()
        await series.set_classes(db, name, list(bands))
    except (SchemeError, NotFound) as exc:
        await db.rollback()
        return await _refused(state, db, event, name, exc)
    listed = [f"{band.name} {band.low:g}-{band.high:g}" for band in bands]
    await state.race.audit.record(actor, "series.classes", {"series": name, how: listed})
    return _back(event, name, f"series {name!r}: {len(listed)} classes ({', '.join(listed)})")


@router.post("/series/classes")
async def set_classes(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    series_name: SeriesName,
    band_name: Cells,
    band_low: Cells,
    band_high: Cells,
) -> Response:
    """The class bands from the form's rows (blank rows skipped): the whole table."""
    return await _set_bands(
        state, db, actor, event, series_name, "form",
        lambda: bands_from_form(band_name, band_low, band_high),
    )  # fmt: skip


@router.post("/series/classes/upload")
async def upload_classes(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    series_name: SeriesName,
    file: Annotated[UploadFile, File()],
) -> Response:
    """The class bands from a CSV file (``class,low,high``)."""
    try:
        text = await _csv_text(file)
    except SchemeError as exc:
        return await _refused(state, db, event, series_name, exc)
    return await _set_bands(
        state, db, actor, event, series_name, "csv", lambda: bands_from_csv(text)
    )


async def _set_equivalency(
    state: AppState, db: AsyncSession, actor: str, event: str, name: str, how: str, read: Any
) -> Response:
    try:
        loaded = await series.load_series(db, name)
        table = read(loaded)
        await series.set_equivalency(db, name, table)
    except (SchemeError, NotFound) as exc:
        await db.rollback()
        return await _refused(state, db, event, name, exc)
    listed = [f"{body} {theirs} -> {ours}" for (body, theirs), ours in table.items()]
    await state.race.audit.record(actor, "series.equivalency", {"series": name, how: listed})
    return _back(event, name, f"series {name!r}: {len(listed)} equivalent classes")


@router.post("/series/equivalency")
async def set_equivalency(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    series_name: SeriesName,
    body: Cells,
    their_class: Cells,
    our_class: Cells,
) -> Response:
    """The class-equivalency table from the form's rows: the whole table."""
    return await _set_equivalency(
        state, db, actor, event, series_name, "form",
        lambda _loaded: equivalency_from_form(body, their_class, our_class),
    )  # fmt: skip


@router.post("/series/equivalency/upload")
async def upload_equivalency(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    series_name: SeriesName,
    file: Annotated[UploadFile, File()],
) -> Response:
    """The class-equivalency table from a CSV file (``body,their_class,class``)."""
    try:
        text = await _csv_text(file)
    except SchemeError as exc:
        return await _refused(state, db, event, series_name, exc)
    return await _set_equivalency(
        state, db, actor, event, series_name, "csv",
        lambda loaded: equivalency_from_csv(text, loaded.bands),
    )  # fmt: skip


@router.post("/series/events")
async def add_event(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    series_name: SeriesName,
    order: Annotated[int | None, Form(ge=1, le=1000)] = None,
) -> Response:
    """Count the event in the series (last, unless ``order`` says)."""
    try:
        round_ = await series.add_event(db, series_name, event, order)
    except (SchemeError, NotFound) as exc:
        await db.rollback()
        return await _refused(state, db, event, series_name, exc)
    detail = {"series": series_name, "event": event, "order": round_}
    await state.race.audit.record(actor, "series.event", detail)
    return _back(event, series_name, f"{event!r} is round {round_} of {series_name!r}")


@router.post("/series/award")
async def award_on_the_move(
    request: Request,
    state: StateDep,
    db: DbDep,
    role: ControlOrStewardRole,
    actor: ActorDep,
    session_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    class_name: Annotated[str, Form(min_length=1, max_length=100)],
    number: Annotated[str, Form(min_length=1, max_length=16)],
    series_name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A steward's On the Move for one car of a class in a race (replaces an earlier one
    of the class). From the stewards' page (htmx) the answer is a one-line fragment."""
    class_name, number = class_name.strip(), number.strip()
    try:
        event = await checked_award(db, session_id, class_name, number)
        await series.award_on_the_move(db, session_id, class_name, number, actor)
    except (SchemeError, NotFound) as exc:
        await db.rollback()
        if request.headers.get("HX-Request"):
            # as every htmx form of the stewards' page: the refusal in words, swapped in
            return HTMLResponse(render_outcome(state.renderer, actions.Outcome(False, str(exc))))
        if isinstance(exc, NotFound):
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        event = state.race.event_name or ""
        return await _refused(state, db, event, series_name, exc)
    detail = {"session": session_id, "class": class_name, "car": number}
    await state.race.audit.record(actor, "series.on_the_move", detail)
    done = f"On the Move in class {class_name}: car {number}"
    if request.headers.get("HX-Request"):
        return HTMLResponse(render_outcome(state.renderer, actions.Outcome(True, done)))
    if role == "steward":  # the event page is race control's: back to the stewards' own
        return RedirectResponse("/stewards", status_code=303)
    return _back(event, series_name, done)


@router.post("/entries/class")
async def class_by_hand(
    state: StateDep,
    db: DbDep,
    _role: ControlRole,
    actor: ActorDep,
    event: EventName,
    number: Annotated[str, Form(min_length=1, max_length=16)],
    class_name: Annotated[str, Form(min_length=1, max_length=100)],
    note: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    """Put a car in a class by hand, with race control's note (why). The timed session
    gets it as a journaled ``EntryChanged`` before it is applied."""
    number, class_name, note = number.strip(), class_name.strip(), note.strip()
    if not (number and class_name and note):
        why = SchemeError("give the car, its class and a note saying why")
        return await _refused(state, db, event, "", why)
    try:
        done = await set_class_by_hand(db, event, number, class_name, note)
    except NotFound as exc:
        return await _refused(state, db, event, "", exc)
    await state.race.entries_changed(actor)
    detail = {"event": event, "car": number, "from": done.old_class, "to": class_name}
    await state.race.audit.record(actor, "entries.class", detail | {"note": note})
    return _back(event, "", f"car {number}: class {class_name} by hand ({note})")
