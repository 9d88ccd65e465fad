"""Results for publication: the export rows of a session, and CSV and JSON of a version.

Strategy: ONE function (``result_rows``) turns the engine's standings into the rows every
export shows (JSON, CSV, the PDF, the public page), so all agree by construction; each
row keeps its times as integers and the exports format them with the same helpers.
Status and penalties come from what the standings carry: ``state`` (retired: DNF; no
lap: DNS; disqualified: DSQ; not classified: NC), and a ``status`` / ``penalties``
field when the standings have one (the stewards' decisions add them), so those columns
need no change here when they arrive. A class filter keeps that class's rows and shows
the gaps and intervals within the class.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from server.engine.model import CarState, Entry, LapRecord, StandingRow

FORMATS = ("json", "csv", "pdf")
STATUSES = ("running", "DNF", "DNS", "DSQ", "EXCL", "NC")


@dataclass(frozen=True, slots=True)
class ResultRow:
    position: int
    number: str
    class_name: str
    class_position: int
    team: str
    drivers: tuple[str, ...]
    laps: int
    # green flag to the car's last crossing, plus its time penalties (decided, or a
    # drive-through / stop-and-go not served): the time the order and the gaps rank by
    total_time_us: int | None
    gap_us: int | None  # to the leader: time on the same lap, else gap_laps
    gap_laps: int
    interval_us: int | None  # to the car ahead
    interval_laps: int
    class_gap_us: int | None
    class_gap_laps: int
    class_interval_us: int | None
    class_interval_laps: int
    best_lap_us: int | None
    best_lap_number: int | None
    pit_stops: int
    penalties: str
    status: str
    # the car's fastest valid laps (voided ones left out), fastest first, at most
    # ``FASTEST_KEPT``: the season's "Fast Five" is judged on them (docs/season.md)
    fastest_laps_us: tuple[int, ...] = ()


FASTEST_KEPT = 10


def _status(row: StandingRow) -> str:
    explicit = getattr(row, "status", None)  # set by the stewards' decisions (DSQ, EXCL)
    if isinstance(explicit, str) and explicit in STATUSES:
        return explicit
    if row.state is CarState.DISQUALIFIED:
        return "DSQ"
    if row.state is CarState.NOT_CLASSIFIED:
        return "NC"
    if row.state is CarState.RETIRED:
        return "DNF" if row.laps > 0 else "DNS"
    return "DNS" if row.laps == 0 else "running"


def _penalties(row: StandingRow) -> str:
    applied: Iterable[object] = getattr(row, "penalties", ())  # the stewards' decisions
    words = []
    for penalty in applied:
        describe = getattr(penalty, "describe", None)
        words.append(str(describe() if callable(describe) else penalty))
    return "; ".join(words)


def _penalty_time_us(row: StandingRow) -> int:
    """The time the stewards' decisions add to the car's total (the classification
    already ranks by it, so the total shown must include it too)."""
    return sum(penalty.time_us for penalty in row.penalties)


def result_rows(
    standings: Sequence[StandingRow],
    entries: Sequence[Entry],
    green_at_us: int | None,
    laps: Mapping[str, Sequence[LapRecord]] | None = None,
) -> list[ResultRow]:
    """The export rows, in the standings' order; ``laps``: each car's completed laps."""
    drivers = {entry.number: entry.drivers for entry in entries}
    laps = laps or {}
    return [
        ResultRow(
            position=row.position,
            number=row.number,
            class_name=row.class_name,
            class_position=row.class_position,
            team=row.team,
            drivers=tuple(drivers.get(row.number, ())),
            laps=row.laps,
            total_time_us=None
            if green_at_us is None or row.last_crossing_us is None or row.laps == 0
            else row.last_crossing_us - green_at_us + _penalty_time_us(row),
            gap_us=row.gap_us,
            gap_laps=row.gap_laps,
            interval_us=row.interval_us,
            interval_laps=row.interval_laps,
            class_gap_us=row.class_gap_us,
            class_gap_laps=row.class_gap_laps,
            class_interval_us=row.class_interval_us,
            class_interval_laps=row.class_interval_laps,
            best_lap_us=row.best_lap_us,
            best_lap_number=row.best_lap_number,
            pit_stops=row.pit_stops,
            penalties=_penalties(row),
            status=_status(row),
            fastest_laps_us=tuple(
                sorted(lap.lap_time_us for lap in laps.get(row.number, ()) if not lap.voided)[
                    :FASTEST_KEPT
                ]
            ),
        )
        for row in standings
    ]


def rows_json(rows: Sequence[ResultRow]) -> list[dict[str, Any]]:
    """Stored form of the rows (a version's ``rows`` column)."""
    return [
        {**asdict(row), "drivers": list(row.drivers), "fastest_laps_us": list(row.fastest_laps_us)}
        for row in rows
    ]


def rows_of(data: Sequence[dict[str, Any]]) -> list[ResultRow]:
    known = {f.name for f in fields(ResultRow)}
    return [
        ResultRow(
            **{
                **{k: v for k, v in item.items() if k in known},
                "drivers": tuple(item["drivers"]),
                "fastest_laps_us": tuple(item.get("fastest_laps_us", ())),
            }
        )
        for item in data
    ]


# --- formatting (the same text in every export) ---------------------------------------


def lap_time(us: int | None) -> str:
    """``1:23.456`` (or ``59.870``); empty for none."""
    if us is None:
        return ""
    ms = (us + 500) // 1000
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{minutes}:{seconds:02d}.{ms:03d}" if minutes else f"{seconds}.{ms:03d}"


def total_time(us: int | None) -> str:
    """``1:02:03.456``; empty for none."""
    if us is None:
        return ""
    ms = (us + 500) // 1000
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def behind(us: int | None, laps: int) -> str:
    """A gap or an interval: ``+12.345`` on the same lap, ``+1 lap`` / ``+3 laps`` else."""
    if laps > 0:
        return f"+{laps} lap" if laps == 1 else f"+{laps} laps"
    if us is None or us == 0:
        return ""
    return f"+{lap_time(us)}"


COLUMNS = (
    "Pos",
    "No",
    "Class",
    "Class pos",
    "Team",
    "Drivers",
    "Laps",
    "Total time",
    "Gap",
    "Interval",
    "Best lap",
    "Best on lap",
    "Pit stops",
    "Penalties",
    "Status",
)


def cells(row: ResultRow, *, in_class: bool = False) -> tuple[str, ...]:
    """The row as the text of ``COLUMNS``; ``in_class``: gaps within the class."""
    gap = (
        behind(row.class_gap_us, row.class_gap_laps)
        if in_class
        else behind(row.gap_us, row.gap_laps)
    )
    interval = (
        behind(row.class_interval_us, row.class_interval_laps)
        if in_class
        else behind(row.interval_us, row.interval_laps)
    )
    return (
        str(row.position),
        row.number,
        row.class_name,
        str(row.class_position),
        row.team,
        ", ".join(row.drivers),
        str(row.laps),
        total_time(row.total_time_us),
        gap,
        interval,
        lap_time(row.best_lap_us),
        "" if row.best_lap_number is None else str(row.best_lap_number),
        str(row.pit_stops),
        row.penalties,
        row.status,
    )


def of_class(rows: Sequence[ResultRow], class_name: str | None) -> list[ResultRow]:
    return [row for row in rows if class_name is None or row.class_name == class_name]


@dataclass(frozen=True, slots=True)
class ResultsDocument:
    """One version of a session's results, what every export shows."""

    event: str
    session_id: int
    session: str
    kind: str
    version: int
    versions: tuple[int, ...]
    official: bool
    reason: str
    note: str | None
    created_at: datetime
    official_at: datetime | None
    official_by: str | None
    rows: tuple[ResultRow, ...]
    class_name: str | None = None  # the filter, if any
    part: str = "race"  # "sprint": a SprintDuro's sprint (its first 30 minutes)

    @property
    def label(self) -> str:
        return "OFFICIAL" if self.official else "PROVISIONAL"

    @property
    def signed_at(self) -> datetime:
        """When this version was signed: marked official, or made (provisional)."""
        return self.official_at if self.official and self.official_at else self.created_at

    def table(self) -> list[tuple[str, ...]]:
        in_class = self.class_name is not None
        return [cells(row, in_class=in_class) for row in self.rows]


def to_json(doc: ResultsDocument) -> dict[str, Any]:
    keys = [
        "position", "number", "class", "class_position", "team", "drivers", "laps",
        "total_time", "gap", "interval", "best_lap", "best_lap_number", "pit_stops",
        "penalties", "status",
    ]  # fmt: skip
    rows = []
    for row, text in zip(doc.rows, doc.table(), strict=True):
        item: dict[str, Any] = dict(zip(keys, text, strict=True))
        item.update(
            position=row.position,
            class_position=row.class_position,
            drivers=list(row.drivers),
            laps=row.laps,
            best_lap_number=row.best_lap_number,
            pit_stops=row.pit_stops,
            total_time_ms=None if row.total_time_us is None else row.total_time_us / 1000,
            best_lap_ms=None if row.best_lap_us is None else row.best_lap_us / 1000,
        )
        rows.append(item)
    return {
        "event": doc.event,
        "session_id": doc.session_id,
        "session": doc.session,
        "type": doc.kind,
        "part": doc.part,
        "class": doc.class_name,
        "version": doc.version,
        "versions": list(doc.versions),
        "official": doc.official,
        "status": doc.label.lower(),
        "reason": doc.reason,
        "note": doc.note,
        "created_at": doc.created_at.isoformat(),
        "official_at": None if doc.official_at is None else doc.official_at.isoformat(),
        "official_by": doc.official_by,
        "signed_at": doc.signed_at.isoformat(),
        "rows": rows,
    }


def to_csv(doc: ResultsDocument) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(doc.table())
    return out.getvalue()
