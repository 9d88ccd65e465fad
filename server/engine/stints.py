"""Drivers and stints: who drove when, stint clocks, rest, and the driver-change rules.

Strategy: a stint is one driver's continuous spell in the car. It starts at the green
flag (the first driver, from the grid) or at the pit-out of a stop where the driver
changed, and ends at the pit-in of the next such stop (or at the car's finish); a stop
without a confirmed change keeps the driver and the stint. Stints are never stored:
they are rebuilt from the car's stops whenever those change, so a late pit-out, a
correction or a change confirmed before the pit-in all land in the same place. Drive
time is the stint's span minus the spans that do not count (pit-lane time of the stops
inside it when the rule set excludes it always, an open stop in any case, and the
cautions the rule set freezes stint clocks under). A solo driver's confirmed exit ends
the stint like a change when solo driving is allowed for the race length; the rest rule
then does not apply to them (the rules let them drive both stints).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.engine.alerts import Alert, AlertKind, alert_id
from server.engine.drivetime import Span, driven_us, merge, reaches_at
from server.engine.events import Severity
from server.engine.model import Entry, StintClock
from server.engine.pits import Stop
from server.engine.refusals import Refusal
from server.engine.rules import RuleSet


@dataclass(frozen=True, slots=True)
class Stint:
    index: int  # 1-based, per car
    driver: str | None  # None when the entry names no drivers
    start_us: int
    end_us: int | None  # None: still driving
    pit_spans: tuple[Span, ...] = ()  # stops inside the stint that do not count

    def excluded(self, freeze: Sequence[Span]) -> list[Span]:
        return merge([*self.pit_spans, *freeze])

    def driven_us(self, freeze: Sequence[Span], at_us: int) -> int:
        return driven_us(self.start_us, self.end_us, self.excluded(freeze), at_us)


def hands_over(stop: Stop, solo_exit_ends: bool) -> bool:
    return stop.change is not None or (solo_exit_ends and stop.solo_exit_us is not None)


def build_stints(
    start_us: int,
    driver: str | None,
    stops: Sequence[Stop],
    end_us: int | None,
    *,
    solo_exit_ends: bool,
    pit_excluded: bool,
) -> list[Stint]:
    """The car's stints from the green flag; ``end_us`` is its finish or retirement."""
    stints: list[Stint] = []
    current: int | None = start_us
    spans: list[Span] = []
    for stop in stops:
        if current is None:
            break
        if not hands_over(stop, solo_exit_ends):
            if stop.is_open or pit_excluded:
                spans.append((stop.in_us, stop.out_us))
            continue
        stints.append(Stint(len(stints) + 1, driver, current, stop.in_us, tuple(spans)))
        if stop.change is not None:
            driver = stop.change.driver_in
        current, spans = stop.out_us, []
    if current is not None:
        stints.append(Stint(len(stints) + 1, driver, current, None, tuple(spans)))
    if end_us is None:
        return stints
    return [
        Stint(
            s.index,
            s.driver,
            s.start_us,
            end_us if s.end_us is None else min(s.end_us, end_us),
            s.pit_spans,
        )
        for s in stints
        if s.start_us < end_us
    ]


def rest_until(stints: Sequence[Stint], min_rest_us: int | None) -> dict[str, int]:
    """When each driver who has finished a stint may drive again."""
    result: dict[str, int] = {}
    for stint in stints:
        if stint.end_us is not None and stint.driver is not None:
            until = stint.end_us + (min_rest_us or 0)
            result[stint.driver] = max(result.get(stint.driver, until), until)
    return result


def change_refusal(entry: Entry, driver_in: str) -> Refusal | None:
    """Why ``driver_in`` may not get in this car at all (the rest rule aside), or None."""
    if entry.drivers and driver_in not in entry.drivers:
        return Refusal.NOT_ON_ROSTER
    if driver_in in entry.flagged_drivers:
        return Refusal.LICENCE_FLAGGED
    return None


def stint_clock(
    stints: Sequence[Stint], freeze: Sequence[Span], open_stop: Stop | None, ended: bool
) -> tuple[StintClock, int | None, int]:
    """The current stint clock: (state, since when, drive time at that moment)."""
    if not stints:
        return StintClock.NONE, None, 0
    last = stints[-1]
    if ended or last.end_us is not None:
        end = last.end_us if last.end_us is not None else last.start_us
        state = StintClock.NONE if ended else StintClock.IN_PIT
        return state, end, last.driven_us(freeze, end) if ended else 0
    if open_stop is not None:
        since = open_stop.in_us
        return StintClock.IN_PIT, since, last.driven_us(freeze, since)
    if freeze and freeze[-1][1] is None:
        since = max(last.start_us, freeze[-1][0])
        return StintClock.FROZEN, since, last.driven_us(freeze, since)
    ends = [end for _, end in last.excluded(freeze) if end is not None]
    since = max([last.start_us, *ends])
    return StintClock.RUNNING, since, last.driven_us(freeze, since)


def _duration(us: int) -> str:
    if us % 3_600_000_000 == 0:
        return f"{us // 3_600_000_000} h"
    if us % 60_000_000 == 0:
        return f"{us // 60_000_000} min"
    return f"{us // 1_000_000} s"


def stint_alerts(
    number: str, stints: Sequence[Stint], rules: RuleSet, freeze: Sequence[Span]
) -> list[Alert]:
    """Warnings before the stint limit and the limit itself, at the moment each is hit."""
    limit = rules.max_stint_us
    if limit is None:
        return []
    alerts: list[Alert] = []
    for stint in stints:
        excluded = stint.excluded(freeze)
        who = stint.driver or "the driver"
        for before in rules.stint_warnings_us:
            if not 0 < before < limit:
                continue
            at = reaches_at(stint.start_us, stint.end_us, excluded, limit - before)
            if at is not None:
                alerts.append(
                    Alert(
                        alert_id(AlertKind.STINT_WARNING, number, stint.index, before // 1_000_000),
                        AlertKind.STINT_WARNING,
                        Severity.WARNING,
                        f"Car {number}: {who} has {_duration(before)} left "
                        f"of the {_duration(limit)} stint limit",
                        at,
                        number,
                        timed=True,
                    )
                )
        at = reaches_at(stint.start_us, stint.end_us, excluded, limit)
        if at is not None:
            alerts.append(
                Alert(
                    alert_id(AlertKind.STINT_LIMIT, number, stint.index),
                    AlertKind.STINT_LIMIT,
                    Severity.CRITICAL,
                    f"Car {number}: {who} reached the {_duration(limit)} stint limit",
                    at,
                    number,
                    timed=True,
                )
            )
    return alerts
