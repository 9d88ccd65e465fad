"""Alerts to race control: what they are, their stable ids, and which are shown.

Strategy: alerts are not stored as they fire; they are derived from the race state
(stints, stops, window, finish, unknown transponders, external alerts) as *candidates*,
each stamped with the moment its fact happened. A timed candidate (a stint warning, a
window alert) is shown once the latest tick's ``now`` reaches its moment; the others as
soon as the state holds them. The id says what the alert is about (kind, car, threshold,
stop), never when it was noticed, so replaying the journal gives the same ids, and an
acknowledgement journaled before the replay re-derives its alert still applies. Only
acknowledgements are kept. A correction that removes the fact removes the alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from server.engine.events import Severity


class AlertKind(StrEnum):
    STINT_WARNING = "stint_warning"
    STINT_LIMIT = "stint_limit"
    REST_OVERRIDE = "rest_override"  # a driver put back in before the rest was over
    LICENCE_FLAGGED = "licence_flagged"  # the starting driver's licence is flagged
    WINDOW_OPEN = "window_open"
    WINDOW_CLOSING = "window_closing"
    WINDOW_CLOSED = "window_closed"
    SOLO_NO_EXIT = "solo_no_exit"
    MIN_STOP_NOT_MET = "min_stop_not_met"
    MISSED_STOP = "missed_stop"  # classified without the mandatory stop(s)
    UNKNOWN_TRANSPONDER = "unknown_transponder"
    SUSPECT_PASSING = "suspect_passing"  # a decoder's passings timed far from their arrival
    EXTERNAL = "external"  # prefix of the ids of alerts raised outside the engine


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    kind: str  # an AlertKind, or the kind an external alert was raised with
    severity: Severity
    text: str
    at_us: int  # when the fact happened (a threshold crossed, a stop, a sighting)
    number: str | None = None
    cars: tuple[str, ...] = ()  # window alerts: the cars that have not stopped
    acknowledged: bool = False
    timed: bool = False  # shown only once a tick's now reaches at_us


def alert_id(kind: str, *parts: object) -> str:
    return ":".join([kind, *(str(part) for part in parts)])


def newest_first(alerts: Iterable[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda alert: (-alert.at_us, alert.id))


class AlertBook:
    """The candidates and what was last shown (to report what changed)."""

    __slots__ = ("candidates", "next_due_us", "now_us", "shown")

    def __init__(self) -> None:
        self.candidates: list[Alert] = []
        self.shown: dict[str, Alert] = {}
        self.now_us: int | None = None  # the now the shown alerts were judged at
        self.next_due_us: int | None = None  # earliest timed candidate not shown yet

    def visible(self, now_us: int | None, acks: set[str]) -> dict[str, Alert]:
        result: dict[str, Alert] = {}
        for alert in self.candidates:
            if alert.timed and (now_us is None or alert.at_us > now_us):
                continue
            if alert.id in acks:
                alert = replace(alert, acknowledged=True)
            result[alert.id] = alert
        return result

    def due_soon(self, now_us: int | None) -> bool:
        """Whether a new now could change what is shown (cheap test for every tick)."""
        if now_us == self.now_us:
            return False
        if now_us is None or self.now_us is None or now_us < self.now_us:
            return True
        return self.next_due_us is not None and now_us >= self.next_due_us

    def refresh(self, now_us: int | None, acks: set[str]) -> tuple[list[Alert], bool]:
        """Judge the candidates at ``now_us``: (newly shown alerts, anything changed)."""
        shown = self.visible(now_us, acks)
        self.now_us = now_us
        pending = [
            a.at_us for a in self.candidates if a.timed and (now_us is None or a.at_us > now_us)
        ]
        self.next_due_us = min(pending) if pending else None
        new = [alert for key, alert in shown.items() if key not in self.shown]
        changed = shown != self.shown
        self.shown = shown
        return newest_first(new), changed
