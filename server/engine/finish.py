"""The end of a session: time-certain checkered flag and classification bookkeeping.

Strategy: the checkered decision is made from crossing times alone, never from when a
tick happened: the first start/finish crossing at or after the scheduled end (green +
length, shifted by the pauses of the race clock) by the car that leads once it is
counted takes the flag (a lapped car crossing first does not lead, so it just
completes a lap). After the checkered, a car is classified at its first
crossing at or after it; a crossing later than ``checkered + finish_timeout`` means
the car had already been classified at its previous crossing. ``tick()`` applies the
same timeout rule with ``now`` so the result shows without waiting for a crossing.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.engine.events import SessionKind
from server.engine.model import SessionConfig

TIME_CERTAIN = frozenset({SessionKind.RACE, SessionKind.SPRINTDURO})


@dataclass(slots=True)
class FinishState:
    """Counters of one session's end; ``finished`` turns True once and stays."""

    checkered_at_us: int | None = None
    started: int = 0  # cars with a first crossing
    classified: int = 0  # of which finished
    finished: bool = False
    clock_expired_sent: bool = False

    def checkered_due(self, config: SessionConfig, ends_at_us: int | None, at_us: int) -> bool:
        """Whether the leader completing a lap at ``at_us`` takes the checkered flag."""
        return (
            self.checkered_at_us is None
            and config.kind in TIME_CERTAIN
            and ends_at_us is not None
            and at_us >= ends_at_us
        )

    def timed_out(self, config: SessionConfig, at_us: int) -> bool:
        """A car silent from the checkered until ``at_us`` is classified at its last crossing."""
        return (
            self.checkered_at_us is not None
            and at_us >= self.checkered_at_us + config.finish_timeout_us
        )

    def all_classified(self) -> bool:
        """Newly true when every car that started is classified (False if already reported)."""
        if self.finished or self.checkered_at_us is None or self.classified < self.started:
            return False
        self.finished = True
        return True
