"""Session lengths the rule set allows: IMG races 1-4 h, other series what they run.

Strategy: one table by rule set name (a session stores its rule set resolved, name
included), checked before a session is created: the sessions API, ``/control/event``
and ``racecontrol demo`` all ask ``length_refusal`` and show its words.
"""

from __future__ import annotations

from server.engine.events import SessionKind
from server.engine.rules import RuleSet

# (shortest, longest) race in minutes, by rule set name; others: up to 24 h
RACE_MINUTES: dict[str, tuple[int, int]] = {"img": (60, 240)}
OTHER_RACE_MINUTES = (60, 24 * 60)  # 8 h, 14 h and 24 h races included
SPRINTDURO_MINUTES = (90, 120)  # docs/rules.md: a 1.5 to 2 hour race
PRACTICE_MINUTES = (10, 24 * 60)  # practice and qualifying: from 10 minutes


def allowed_minutes(kind: SessionKind, rules: RuleSet) -> tuple[int, int]:
    if kind is SessionKind.SPRINTDURO:
        return SPRINTDURO_MINUTES
    if kind is SessionKind.RACE:
        return RACE_MINUTES.get(rules.name, OTHER_RACE_MINUTES)
    return PRACTICE_MINUTES


def length_refusal(kind: SessionKind, rules: RuleSet, minutes: int | None) -> str | None:
    """Why a ``kind`` session of ``minutes`` is not allowed under ``rules`` (None: it is;
    a session without a length has no time-certain end: race control shows the
    checkered flag)."""
    low, high = allowed_minutes(kind, rules)
    if minutes is None or low <= minutes <= high:
        return None
    return (
        f"a {kind.value} under the {rules.name} rules lasts {low} to {high} minutes, not {minutes}"
    )


def demo_kind(minutes: int) -> SessionKind:
    """``racecontrol demo``'s session: a SprintDuro when the length is one, else a race."""
    low, high = SPRINTDURO_MINUTES
    return SessionKind.SPRINTDURO if low <= minutes <= high else SessionKind.RACE
