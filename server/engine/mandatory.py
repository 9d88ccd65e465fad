"""The mandatory pit stop(s) and the pit window: which stops count, and the alerts.

Strategy: each stop is judged on its own, from facts the state holds: it counts when it
is over, began inside the window, lasted the minimum (when there is one) and, for a
solo driver, the marshal confirmed the exit in a race short enough for solo driving.
The window is inclusive at both ends: a stop whose pit-in is exactly at the opening or
exactly at the closing counts (with a missed pit-in read, its pit-out stands in). The
window's times are race time from the green flag (pauses shift them); without a closing
offset it closes at the scheduled end of the race. Alerts are candidates stamped with
the moment they refer to: the window opens (when it does not open with the race), N
minutes before it closes and when it closes, listing the cars that had not stopped by
then; a stop under the minimum; a solo stop without the exit; and a classified car
without enough valid stops, with the rule set's penalty proposed, never applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.engine.alerts import Alert, AlertKind, alert_id
from server.engine.drivetime import Span
from server.engine.events import Severity
from server.engine.pits import Stop
from server.engine.rules import RuleSet
from server.engine.session_clock import SessionClock


@dataclass(frozen=True, slots=True)
class Window:
    opens_us: int | None  # None: not known yet (before the green, or a pause before it)
    closes_us: int | None  # None: no closing known (no length, or a pause before it)

    def contains(self, at_us: int) -> bool:
        if self.opens_us is None or at_us < self.opens_us:
            return False
        return self.closes_us is None or at_us <= self.closes_us


def window(rules: RuleSet, clock: SessionClock, length_us: int | None) -> Window:
    closes = rules.window_closes_us if rules.window_closes_us is not None else length_us
    return Window(clock.at_race_time(rules.window_opens_us), clock.at_race_time(closes))


@dataclass(frozen=True, slots=True)
class Verdict:
    counts: bool  # valid as a mandatory stop
    in_window: bool
    note: str | None  # why it does not count
    required_us: int | None = None  # the minimum stop time that applied
    short: bool = False  # shorter than the minimum


def _in_spans(at_us: int, spans: Sequence[Span]) -> bool:
    return any(start <= at_us and (end is None or at_us < end) for start, end in spans)


def judge(
    stop: Stop,
    rules: RuleSet,
    win: Window,
    *,
    solo: bool,
    solo_allowed: bool,
    safety_car: Sequence[Span],
) -> Verdict:
    in_window = win.contains(stop.in_us)
    required = rules.min_stop_us
    extra = rules.min_stop_under_safety_car_us
    if extra is not None and stop.pit_in_us is not None and _in_spans(stop.pit_in_us, safety_car):
        required = max(required or 0, extra)
    duration = stop.duration_us
    short = required is not None and duration is not None and duration < required
    note: str | None = None
    if stop.is_open:
        note = "in_progress"
    elif not in_window:
        note = "outside_window"
    elif short:
        note = "too_short"
    elif required is not None and duration is None:
        note = "duration_unknown"
    elif solo and not solo_allowed:
        note = "solo_not_allowed"
    elif solo and stop.solo_exit_us is None:
        note = "no_solo_exit"
    return Verdict(note is None, in_window, note, required, short)


@dataclass(frozen=True, slots=True)
class CarStops:
    """What the window alerts need to know of one car."""

    number: str
    started_us: int | None  # first crossing
    ended_us: int | None  # classified or retired
    stops: tuple[tuple[Stop, Verdict], ...]

    def stopped_by(self, at_us: int) -> int:
        """Valid (or still running, inside the window) stops begun at or before ``at_us``."""
        return sum(
            1
            for stop, verdict in self.stops
            if stop.in_us <= at_us and (verdict.counts or (stop.is_open and verdict.in_window))
        )

    def racing_at(self, at_us: int) -> bool:
        started = self.started_us is not None and self.started_us <= at_us
        return started and (self.ended_us is None or self.ended_us > at_us)


def window_alerts(
    rules: RuleSet, win: Window, required: int, cars: Sequence[CarStops]
) -> list[Alert]:
    if required <= 0:
        return []
    alerts: list[Alert] = []
    if win.opens_us is not None and rules.window_opens_us > 0:
        text = "Pit window open"
        alerts.append(
            Alert(
                alert_id(AlertKind.WINDOW_OPEN),
                AlertKind.WINDOW_OPEN,
                Severity.INFO,
                text,
                win.opens_us,
                timed=True,
            )
        )
    closes = win.closes_us
    if closes is None:
        return alerts
    moments = [(AlertKind.WINDOW_CLOSED, closes, Severity.CRITICAL)]
    warning = rules.window_closing_warning_us
    if warning > 0 and (win.opens_us is None or closes - warning > win.opens_us):
        moments.insert(0, (AlertKind.WINDOW_CLOSING, closes - warning, Severity.WARNING))
    for kind, at, severity in moments:
        missing = tuple(c.number for c in cars if c.racing_at(at) and c.stopped_by(at) < required)
        if not missing:
            continue
        head = (
            "Pit window closed"
            if kind is AlertKind.WINDOW_CLOSED
            else (f"Pit window closes in {warning // 60_000_000} min")
        )
        text = f"{head}; not stopped: {', '.join(missing)}"
        alerts.append(Alert(alert_id(kind), kind, severity, text, at, cars=missing, timed=True))
    return alerts


def stop_alerts(
    number: str, stops: Sequence[tuple[Stop, Verdict]], solo_check: bool
) -> list[Alert]:
    """A stop under the minimum; a solo stop without a confirmed exit (when solo counts)."""
    alerts: list[Alert] = []
    for index, (stop, verdict) in enumerate(stops, start=1):
        out = stop.out_us
        if out is None:
            continue
        if verdict.short and verdict.required_us is not None and stop.duration_us is not None:
            text = (
                f"Car {number}: stop {index} lasted {stop.duration_us / 1e6:.1f} s, "
                f"under the {verdict.required_us // 1_000_000} s minimum"
            )
            kind = AlertKind.MIN_STOP_NOT_MET
            alerts.append(
                Alert(alert_id(kind, number, index), kind, Severity.WARNING, text, out, number)
            )
        if solo_check and verdict.note == "no_solo_exit":
            text = f"Car {number}: solo stop {index} without a confirmed exit does not count"
            kind = AlertKind.SOLO_NO_EXIT
            alerts.append(
                Alert(alert_id(kind, number, index), kind, Severity.WARNING, text, out, number)
            )
    return alerts
