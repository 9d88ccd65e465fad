"""Why the engine refuses a command: one enum, decided by the engine alone.

Strategy: every refusal the engine reports (``CommandRefused``, ``DriverChangeRefused``,
``FlagRejected``) carries a ``Refusal``; pages ask the engine (``RaceEngine``'s queries
or the facts ``apply`` returned) and only turn the member into words, never re-check a
rule. The values are the strings the audit log and the pages have always shown (a
``StrEnum`` compares equal to them), so nothing recorded earlier changes meaning.
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    # the car
    UNKNOWN_CAR = "unknown_car"  # no entry has this number
    CAR_RETIRED = "car_retired"  # race control retired it
    CAR_FINISHED = "car_finished"  # classified: it takes nothing more
    ALREADY_RETIRED = "already_retired"
    NOT_STARTED = "not_started"  # before the green flag (or before the car started)
    OUT_OF_ORDER = "out_of_order"  # earlier than what the engine already applied
    # the driver change
    NOT_ON_ROSTER = "not_on_roster"
    LICENCE_FLAGGED = "licence_flagged"  # licence or medical expired: race control clears it
    REST_NOT_OVER = "rest_not_over"  # the driver's minimum rest is still running
    # flags and the race clock
    ALREADY_SHOWN = "already_shown"
    INVALID_TRANSITION = "invalid_transition"
    NOT_IN_RULES = "not_in_rules"  # the rule set does not allow it
    NOT_UNDER_RED = "not_under_red"  # the clock stops under a red flag only
    ALREADY_PAUSED = "already_paused"
    NOT_PAUSED = "not_paused"
    # corrections
    NO_SUCH_PASSING = "no_such_passing"
    NO_SUCH_CORRECTION = "no_such_correction"  # nothing of that kind, car and time to undo
    NO_SUCH_FLAG = "no_such_flag"  # the flag to undo is not the latest session flag
    UNDO_TOO_LATE = "undo_too_late"  # a flag is undone within 10 s only
    NO_SUCH_MESSAGE = "no_such_message"  # none posted then, or it was retracted
    # the entry list (journaled; see entry_events.py)
    SESSION_FINISHED = "session_finished"  # its results stay as they were
    INVALID_ENTRY_LIST = "invalid_entry_list"  # a car or a transponder claimed twice
    # the stewards (see stewards.py)
    NO_SUCH_INCIDENT = "no_such_incident"
    ALREADY_DECIDED = "already_decided"  # a closed incident takes amendments only
    NOT_DECIDED = "not_decided"  # nothing to amend yet
    VALUE_REQUIRED = "value_required"  # seconds, laps or places: a positive whole number
    CAR_NOT_INVOLVED = "car_not_involved"  # a decision names a car the incident does not
    NO_SUCH_LAP = "no_such_lap"  # the car has not completed that lap
    ALREADY_VOIDED = "already_voided"
    # no engine at all: the race service answers it, before any rule
    NO_SESSION = "no_session"


# refusals race control may override (``DriverChangeConfirmed.override``); the journal
# keeps who did. A car that is unknown, retired or finished stays refused.
OVERRIDABLE = frozenset({Refusal.NOT_ON_ROSTER, Refusal.LICENCE_FLAGGED, Refusal.REST_NOT_OVER})
