"""Commands from the pit and control pages: build the input event, submit it, audit it,
and say what happened in words a marshal reads at a glance.

Strategy: every command becomes an input event stamped with the server clock and the
actor, and goes through ``RaceService.submit`` like a passing (journal first, then the
engine), refused or not: the journal is the record of what was asked. ``submit`` hands
back the engine's answer, and a refusal in it always wins; the words come from the
state (``change_refusal``, the rest times the engine derived, the car's state), so a
refusal says e.g. until when the driver must rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.engine.events import (
    DriverChangeConfirmed,
    InputEvent,
    PitInMarked,
    PitOutMarked,
    SoloExitConfirmed,
    to_record,
)
from server.engine.model import CarDetail, CarState
from server.engine.outbound import CommandRefused, DriverChangeRefused
from server.engine.rules import RuleSet
from server.engine.stints import change_refusal
from server.service.race_service import NoActiveSession, RaceService
from server.web.formatting import format_minutes, format_time_of_day

_REFUSALS = (CommandRefused, DriverChangeRefused)
_OVER = {CarState.RETIRED: "car_retired", CarState.FINISHED: "car_finished"}


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    text: str
    reason: str | None = None  # the engine's reason code for a refusal


def reason_text(reason: str, number: str, driver: str = "") -> str:
    texts = {
        "unknown_car": f"car {number} is not entered",
        "car_retired": f"car {number} is retired",
        "car_finished": f"car {number} has finished",
        "not_started": "the session has not started (no green flag yet)",
        "not_on_roster": f"{driver} is not on the roster of car {number}",
        "licence_flagged": f"{driver}'s licence or medical is flagged: race control must clear it",
        "rest_not_over": f"{driver}'s rest is not over",
        "no_session": "no session is being timed",
        "not_recorded": "the engine did not record it: ask race control",
    }
    return texts.get(reason, reason.replace("_", " "))


def _detail(race: RaceService, number: str, at_us: int) -> CarDetail | None:
    if race.engine is None:
        return None
    try:
        return race.engine.car_detail(number, at_us)
    except KeyError:
        return None


def car_refusal(race: RaceService, number: str, at_us: int, *, started: bool) -> str | None:
    """Why car ``number`` can take no pit command now (None: it can)."""
    status = race.status()
    if status is None:
        return "no_session"
    detail = _detail(race, number, at_us)
    if detail is None:
        return "unknown_car"
    if detail.state in _OVER:
        return _OVER[detail.state]
    if started and (status.green_at_us is None or at_us < status.green_at_us):
        return "not_started"
    return None


def driver_change_refusal(
    race: RaceService,
    rules: RuleSet,
    number: str,
    driver: str,
    at_us: int,
    *,
    override: bool = False,
    tz: tzinfo | None = None,
) -> tuple[str, str] | None:
    """(reason, words) when the engine will refuse ``driver`` getting into ``number``."""
    reason = car_refusal(race, number, at_us, started=False)
    if reason is not None:
        return reason, reason_text(reason, number, driver)
    entry = next((e for e in race.entries if e.number == number), None)
    reason = None if entry is None or override else change_refusal(entry, driver)
    if reason is not None:
        return reason, reason_text(reason, number, driver)
    detail = _detail(race, number, at_us)
    if detail is None or detail.state is CarState.NOT_STARTED:
        return None
    # the engine compares with the driver of the last stint: confirming that driver again
    # during the stop (a mis-tap corrected) is no change at all, never a rest question
    driver_out = detail.stints[-1].driver if detail.stints else detail.driver
    if driver == driver_out:
        return None
    until = next((d.rest_until_us for d in detail.drivers if d.name == driver), None)
    if until is None or rules.min_rest_us is None or at_us >= until or override:
        return None
    when = f"{format_time_of_day(until, tz)} ({format_minutes(until - at_us)})"
    return "rest_not_over", f"{driver}'s rest is not over: may drive from {when}"


def change_recorded(detail: CarDetail | None, driver: str) -> bool:
    """Whether the state shows ``driver`` in the car, getting in at this stop or next."""
    if detail is None:
        return False
    if driver in (detail.driver, detail.pending_driver):
        return True
    last = detail.stops[-1] if detail.stops else None
    return last is not None and last.pit_out_us is None and last.driver_in == driver


async def submit_audited(
    race: RaceService,
    db: async_sessionmaker[AsyncSession],
    event: InputEvent,
    actor: str,
    action: str,
    **detail: Any,
) -> None:
    """Journal and apply ``event``, then write the audit line (raises NoActiveSession)."""
    await race.submit(event)
    async with db() as session:
        await repository.audit(session, actor, action, {**to_record(event), **detail})


async def _run(
    race: RaceService,
    db: async_sessionmaker[AsyncSession],
    event: InputEvent,
    actor: str,
    action: str,
    decide: Callable[[], Outcome],
) -> Outcome:
    """Submit ``event``, then ``decide`` what happened from the state, and audit both."""
    try:
        out = await race.submit(event)
    except NoActiveSession:
        return Outcome(False, reason_text("no_session", ""), "no_session")
    outcome = decide()
    # the engine is the judge: a refusal it reports wins over the state's reading
    refusal = next((o.reason for o in out if isinstance(o, _REFUSALS)), None)
    if refusal is not None and (outcome.ok or outcome.reason != refusal):
        number, driver = getattr(event, "number", ""), getattr(event, "driver_in", "")
        outcome = Outcome(False, reason_text(refusal, number, driver), refusal)
    async with db() as session:
        extra = {"outcome": "recorded" if outcome.ok else "refused", "reason": outcome.reason}
        await repository.audit(session, actor, action, {**to_record(event), **extra})
    return outcome


def _refused_or(
    refused: tuple[str, str] | None, done: Callable[[], Outcome]
) -> Callable[[], Outcome]:
    def decide() -> Outcome:
        return Outcome(False, refused[1], refused[0]) if refused is not None else done()

    return decide


async def confirm_driver_change(
    race: RaceService,
    db: async_sessionmaker[AsyncSession],
    rules: RuleSet,
    number: str,
    driver: str,
    actor: str,
    *,
    override: bool = False,
    tz: tzinfo | None = None,
) -> Outcome:
    at = race.clock.now_us()
    event = DriverChangeConfirmed(number, driver, at, actor, override)
    refused = driver_change_refusal(race, rules, number, driver, at, override=override, tz=tz)

    def decide() -> Outcome:
        # the roster, licence and car checks come first in the engine and do not depend
        # on the stop: trust them; whether the rest rule bit is read from the state after
        if refused is not None and refused[0] != "rest_not_over":
            return Outcome(False, refused[1], refused[0])
        detail = _detail(race, number, race.clock.now_us())
        if detail is None or not change_recorded(detail, driver):
            reason, text = refused or ("not_recorded", reason_text("not_recorded", number))
            return Outcome(False, text, reason)
        if detail.pending_driver == driver:
            return Outcome(True, f"Car {number}: {driver} gets in at the next stop")
        return Outcome(True, f"Car {number}: {driver} in")

    return await _run(race, db, event, actor, "pit.driver_change", decide)


async def confirm_solo_exit(
    race: RaceService, db: async_sessionmaker[AsyncSession], number: str, actor: str
) -> Outcome:
    at = race.clock.now_us()
    event = SoloExitConfirmed(number, at, actor)
    reason = car_refusal(race, number, at, started=True)
    refused = None if reason is None else (reason, reason_text(reason, number))

    def done() -> Outcome:
        return Outcome(True, f"Car {number}: solo driver fully out of the car")

    return await _run(race, db, event, actor, "pit.solo_exit", _refused_or(refused, done))


async def mark_pit(
    race: RaceService,
    db: async_sessionmaker[AsyncSession],
    number: str,
    actor: str,
    *,
    going_in: bool,
) -> Outcome:
    at = race.clock.now_us()
    mark = PitInMarked if going_in else PitOutMarked
    event: InputEvent = mark(number, at, actor)
    reason = car_refusal(race, number, at, started=True)
    refused = None if reason is None else (reason, reason_text(reason, number))

    def done() -> Outcome:
        where = "in the pit lane" if going_in else "out of the pit lane"
        return Outcome(True, f"Car {number} marked {where}")

    action = "pit.in" if going_in else "pit.out"
    return await _run(race, db, event, actor, action, _refused_or(refused, done))
