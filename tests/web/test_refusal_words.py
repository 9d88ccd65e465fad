"""Each refusal the engine can give has words a marshal reads at a glance, from one table."""

from __future__ import annotations

import pytest

from server.engine import Refusal
from server.web.actions import WORDS, refusal_text

SAID = {
    Refusal.UNKNOWN_CAR: "car 7 is not entered",
    Refusal.CAR_RETIRED: "car 7 is retired",
    Refusal.CAR_FINISHED: "car 7 has finished",
    Refusal.ALREADY_RETIRED: "car 7 is already retired",
    Refusal.NOT_STARTED: "the session has not started (no green flag yet)",
    Refusal.OUT_OF_ORDER: "something later is already recorded",
    Refusal.NOT_ON_ROSTER: "Ann Alder is not on the roster of car 7",
    Refusal.LICENCE_FLAGGED: (
        "Ann Alder's licence or medical is flagged: race control must clear it"
    ),
    Refusal.REST_NOT_OVER: "Ann Alder's rest is not over: may drive from 14:05:00 (12 min)",
    Refusal.ALREADY_SHOWN: "that flag is already shown",
    Refusal.INVALID_TRANSITION: "that flag cannot follow the flag shown now",
    Refusal.NOT_IN_RULES: "the rule set does not allow it",
    Refusal.NOT_UNDER_RED: "the race clock stops under a red flag only",
    Refusal.ALREADY_PAUSED: "the race clock is already stopped",
    Refusal.NOT_PAUSED: "the race clock is running",
    Refusal.NO_SUCH_PASSING: "car 7 has no such passing",
    Refusal.NO_SUCH_CORRECTION: "car 7 has no such correction to undo",
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
    Refusal.CAR_NOT_INVOLVED: "car 7 is not in this incident",
    Refusal.NO_SUCH_LAP: "car 7 has not completed that lap",
    Refusal.ALREADY_VOIDED: "that lap of car 7 is already voided",
}


def test_every_refusal_has_words() -> None:
    assert set(WORDS) == set(Refusal) == set(SAID)


@pytest.mark.parametrize("refusal", list(Refusal))
def test_the_words_of_each_refusal(refusal: Refusal) -> None:
    assert refusal_text(refusal, "7", "Ann Alder", "14:05:00 (12 min)") == SAID[refusal]


def test_a_name_with_braces_is_said_as_it_is() -> None:
    said = refusal_text(Refusal.NOT_ON_ROSTER, "7", "{driver} {0}")
    assert said == "{driver} {0} is not on the roster of car 7"
