"""Classes by performance index, and other bodies' classes through an equivalency table.

Strategy: a series' class bands are half-open ranges of its performance index, checked
once for overlap; a car prepared for another sanctioning body is placed by the
equivalency table (its body and class -> ours). A class set by hand wins, with its note,
so race control can always decide a case the tables do not cover.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from itertools import pairwise

from server.season.scheme import SchemeError


@dataclass(frozen=True)
class ClassBand:
    name: str
    low: float  # inclusive
    high: float  # exclusive

    def holds(self, index: float) -> bool:
        return self.low <= index < self.high


def checked_bands(bands: list[ClassBand]) -> tuple[ClassBand, ...]:
    """The bands ordered by index, or ``SchemeError`` naming the two that overlap."""
    names = [band.name for band in bands]
    for band in bands:
        if not band.name.strip():
            raise SchemeError("a class band needs a name")
        if not band.low < band.high:
            raise SchemeError(f"class {band.name}: the low end {band.low} is not below {band.high}")
        if names.count(band.name) > 1:
            raise SchemeError(f"class {band.name} is given twice")
    ordered = sorted(bands, key=lambda band: band.low)
    for below, above in pairwise(ordered):
        if above.low < below.high:
            raise SchemeError(
                f"class bands {below.name} ({below.low:g}-{below.high:g}) and {above.name}"
                f" ({above.low:g}-{above.high:g}) overlap"
            )
    return tuple(ordered)


def checked_equivalency(
    table: dict[tuple[str, str], str], bands: tuple[ClassBand, ...]
) -> dict[tuple[str, str], str]:
    """(body, their class) -> our class; ``SchemeError`` for a class the series has not."""
    ours = {band.name for band in bands}
    for (body, theirs), our_class in table.items():
        if our_class not in ours:
            raise SchemeError(
                f"{body} class {theirs} maps to {our_class}, which is not one of the"
                f" series' classes ({', '.join(sorted(ours))})"
            )
    return dict(table)


@dataclass(frozen=True)
class CarClassing:
    car_class: str
    how: str  # "index 43.5 in B 40-50", "NASA E1 -> B", "by hand: ..."


def class_of(
    bands: tuple[ClassBand, ...],
    equivalency: dict[tuple[str, str], str],
    *,
    index: float | None = None,
    other_body: str | None = None,
    other_class: str | None = None,
    by_hand: str | None = None,
    note: str = "",
) -> CarClassing:
    """The car's class for one event, and how it was found; ``SchemeError`` if none."""
    if by_hand:
        return CarClassing(by_hand, f"by hand: {note}" if note else "by hand")
    if index is not None:
        for band in bands:
            if band.holds(index):
                return CarClassing(band.name, f"index {index:g} in {band.name}")
        raise SchemeError(f"performance index {index:g} is in none of the series' classes")
    if other_body and other_class:
        mapped = equivalency.get((other_body, other_class))
        if mapped is None:
            raise SchemeError(f"{other_body} class {other_class} has no equivalent class")
        return CarClassing(mapped, f"{other_body} {other_class} -> {mapped}")
    raise SchemeError("give a performance index, another body's class or a class by hand")


def bands_from_csv(text: str) -> tuple[ClassBand, ...]:
    """``class,low,high`` rows (a header row first) into checked bands."""
    rows = list(csv.DictReader(io.StringIO(text)))
    bands: list[ClassBand] = []
    for line, row in enumerate(rows, start=2):
        try:
            bands.append(ClassBand(row["class"].strip(), float(row["low"]), float(row["high"])))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SchemeError(f"line {line}: expected class,low,high ({error})") from None
    return checked_bands(bands)


def equivalency_from_csv(text: str, bands: tuple[ClassBand, ...]) -> dict[tuple[str, str], str]:
    """``body,their_class,class`` rows (a header row first) into a checked table."""
    table: dict[tuple[str, str], str] = {}
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            key = (row["body"].strip(), row["their_class"].strip())
            table[key] = row["class"].strip()
        except (KeyError, AttributeError):
            raise SchemeError(f"line {line}: expected body,their_class,class") from None
    return checked_equivalency(table, bands)
