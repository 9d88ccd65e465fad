"""Commands from the pit and control pages: build the input event, submit it, audit it,
and say what happened in words a marshal reads at a glance.

Strategy: every command becomes an input event stamped with the server clock and the
actor, and goes through ``RaceService.submit`` like a passing (journal first, then the
engine), refused or not: the journal is the record of what was asked. ``submit`` hands
back the engine's answer, and that answer is the verdict: this module never checks a
rule itself. A ``Refusal`` becomes words through one table (``WORDS``); the only thing
the words ask the engine for is until when a driver must rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from server.engine.events import (
    DriverChangeConfirmed,
    InputEvent,
    PitInMarked,
    PitOutMarked,
    SoloExitConfirmed,
    to_record,
)
from server.engine.outbound import (
    CommandRefused,
    DriverChangeRecorded,
    DriverChangeRefused,
    FlagRejected,
    OutEvent,
)
from server.engine.refusals import Refusal
from server.service.race_service import NoActiveSession, RaceService
from server.web.formatting import format_minutes, format_time_of_day

# what each refusal says; {number} is the car, {driver} the driver getting in, {until}
# when a resting driver may drive again
WORDS: dict[Refusal, str] = {
    Refusal.UNKNOWN_CAR: "car {number} is not entered",
    Refusal.CAR_RETIRED: "car {number} is retired",
    Refusal.CAR_FINISHED: "car {number} has finished",
    Refusal.ALREADY_RETIRED: "car {number} is already retired",
    Refusal.NOT_STARTED: "the session has not started (no green flag yet)",
    Refusal.OUT_OF_ORDER: "something later is already recorded",
    Refusal.NOT_ON_ROSTER: "{driver} is not on the roster of car {number}",
    Refusal.LICENCE_FLAGGED: "{driver}'s licence or medical is flagged: race control must clear it",
    Refusal.REST_NOT_OVER: "{driver}'s rest is not over: may drive from {until}",
    Refusal.ALREADY_SHOWN: "that flag is already shown",
    Refusal.INVALID_TRANSITION: "that flag cannot follow the flag shown now",
    Refusal.NOT_IN_RULES: "the rule set does not allow it",
    Refusal.NOT_UNDER_RED: "the race clock stops under a red flag only",
    Refusal.ALREADY_PAUSED: "the race clock is already stopped",
    Refusal.NOT_PAUSED: "the race clock is running",
    Refusal.NO_SUCH_PASSING: "car {number} has no such passing",
    Refusal.NO_SUCH_CORRECTION: "car {number} has no such correction to undo",
    Refusal.NO_SUCH_FLAG: "only the latest flag can be undone",
    Refusal.UNDO_TOO_LATE: "too late: a flag is undone within 10 s",
    Refusal.NO_SUCH_MESSAGE: "no such message (retracted already?)",
    Refusal.SESSION_FINISHED: "the session has finished: its entries stay as they were",
    Refusal.INVALID_ENTRY_LIST: "the entry list claims a car or a transponder twice",
    Refusal.NO_SESSION: "no session is being timed",
    Refusal.NO_SUCH_INCIDENT: "there is no such incident",
    Refusal.ALREADY_DECIDED: "the incident is already decided: amend the decision instead",
    Refusal.NOT_DECIDED: "the incident has no decision to amend yet",
    Refusal.VALUE_REQUIRED: "that decision needs a positive value (seconds, laps or places)",
    Refusal.CAR_NOT_INVOLVED: "car {number} is not in this incident",
    Refusal.NO_SUCH_LAP: "car {number} has not completed that lap",
    Refusal.ALREADY_VOIDED: "that lap of car {number} is already voided",
}
NOT_RECORDED = "not_recorded"  # neither recorded nor refused: never expected
_NOT_RECORDED_TEXT = "the engine did not record it: ask race control"
_REFUSALS = (CommandRefused, DriverChangeRefused, FlagRejected)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    text: str
    reason: str | None = None  # a Refusal, or a page's own code (a time it cannot read)


def refusal_text(refusal: Refusal, number: str = "", driver: str = "", until: str = "") -> str:
    return WORDS[refusal].format(number=number, driver=driver, until=until)


def refusal_of(out: Sequence[OutEvent]) -> Refusal | None:
    """The engine's refusal among the facts it reported for one command (None: applied)."""
    return next((o.reason for o in out if isinstance(o, _REFUSALS)), None)


def refused(
    race: RaceService, event: InputEvent, refusal: Refusal, tz: tzinfo | None = None
) -> Outcome:
    """The outcome of ``event`` refused: the engine's reason in words."""
    number, driver = getattr(event, "number", None) or "", getattr(event, "driver_in", "")
    until = ""
    if refusal is Refusal.REST_NOT_OVER:
        # a refused command changed nothing: the engine still owes the rest it refused for
        rest = None if race.engine is None else race.engine.rest_until(number, driver, event.at_us)
        until = "the end of the rest" if rest is None else _when(rest, event.at_us, tz)
    return Outcome(False, refusal_text(refusal, number, driver, until), refusal)


def _when(at_us: int, now_us: int, tz: tzinfo | None) -> str:
    return f"{format_time_of_day(at_us, tz)} ({format_minutes(at_us - now_us)})"


async def submit_audited(
    race: RaceService, event: InputEvent, actor: str, action: str, **detail: Any
) -> list[OutEvent]:
    """Journal and apply ``event``, write the audit line, and hand back what the engine
    said of it (raises NoActiveSession)."""
    out = await race.submit(event)
    await race.audit.record(actor, action, {**to_record(event), **detail})
    return out


async def _run(
    race: RaceService,
    event: InputEvent,
    actor: str,
    action: str,
    applied: Callable[[Sequence[OutEvent]], Outcome],
    tz: tzinfo | None = None,
) -> Outcome:
    """Submit ``event``; the engine's refusal, or ``applied`` to what it reported, is the
    outcome; audit both."""
    try:
        out = await race.submit(event)
    except NoActiveSession:
        return Outcome(False, refusal_text(Refusal.NO_SESSION), Refusal.NO_SESSION)
    refusal = refusal_of(out)
    outcome = applied(out) if refusal is None else refused(race, event, refusal, tz)
    reason = None if outcome.reason is None else str(outcome.reason)
    extra = {"outcome": "recorded" if outcome.ok else "refused", "reason": reason}
    await race.audit.record(actor, action, {**to_record(event), **extra})
    return outcome


async def confirm_driver_change(
    race: RaceService,
    number: str,
    driver: str,
    actor: str,
    *,
    override: bool = False,
    tz: tzinfo | None = None,
) -> Outcome:
    event = DriverChangeConfirmed(number, driver, race.clock.now_us(), actor, override)

    def applied(out: Sequence[OutEvent]) -> Outcome:
        recorded = next((o for o in out if isinstance(o, DriverChangeRecorded)), None)
        if recorded is None:
            return Outcome(False, _NOT_RECORDED_TEXT, NOT_RECORDED)
        # confirmed on track: the driver gets in at the next pit-in (unless it is the
        # driver already in the car, which changes nothing)
        if recorded.pending and recorded.driver_in != recorded.driver_out:
            return Outcome(True, f"Car {number}: {driver} gets in at the next stop")
        return Outcome(True, f"Car {number}: {driver} in")

    return await _run(race, event, actor, "pit.driver_change", applied, tz)


async def confirm_solo_exit(race: RaceService, number: str, actor: str) -> Outcome:
    event = SoloExitConfirmed(number, race.clock.now_us(), actor)

    def applied(_out: Sequence[OutEvent]) -> Outcome:
        return Outcome(True, f"Car {number}: solo driver fully out of the car")

    return await _run(race, event, actor, "pit.solo_exit", applied)


async def mark_pit(race: RaceService, number: str, actor: str, *, going_in: bool) -> Outcome:
    mark = PitInMarked if going_in else PitOutMarked
    event: InputEvent = mark(number, race.clock.now_us(), actor)

    def applied(_out: Sequence[OutEvent]) -> Outcome:
        where = "in the pit lane" if going_in else "out of the pit lane"
        return Outcome(True, f"Car {number} marked {where}")

    action = "pit.in" if going_in else "pit.out"
    return await _run(race, event, actor, action, applied)
