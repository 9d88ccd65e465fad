"""Classes by performance index and by another body's class."""

from __future__ import annotations

import pytest

from server.season.classes import (
    ClassBand,
    bands_from_csv,
    checked_bands,
    checked_equivalency,
    class_of,
    equivalency_from_csv,
)
from server.season.scheme import SchemeError

BANDS_CSV = "class,low,high\nA,0,30\nB,30,45\nC,45,60\n"


def test_a_car_is_classed_by_index_by_equivalency_or_by_hand() -> None:
    bands = bands_from_csv(BANDS_CSV)
    table = equivalency_from_csv("body,their_class,class\nNASA,E1,B\nSCCA,ITS,C\n", bands)
    assert class_of(bands, table, index=30).car_class == "B"  # low end inclusive
    assert class_of(bands, table, index=29.9).how == "index 29.9 in A"
    assert class_of(bands, table, other_body="NASA", other_class="E1").how == "NASA E1 -> B"
    by_hand = class_of(bands, table, index=12, by_hand="C", note="turbo added")
    assert (by_hand.car_class, by_hand.how) == ("C", "by hand: turbo added")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"index": 60}, "in none of the series' classes"),
        ({"other_body": "BMW CCA", "other_class": "X"}, "has no equivalent"),
        ({}, "give a performance index"),
    ],
)
def test_a_car_that_no_table_places_is_refused(kwargs: dict[str, object], reason: str) -> None:
    bands = bands_from_csv(BANDS_CSV)
    with pytest.raises(SchemeError, match=reason):
        class_of(bands, {}, **kwargs)  # type: ignore[arg-type]


def test_overlapping_or_broken_bands_are_refused_with_the_reason() -> None:
    with pytest.raises(SchemeError, match=r"A \(0-35\) and B \(30-45\) overlap"):
        checked_bands([ClassBand("B", 30, 45), ClassBand("A", 0, 35)])
    with pytest.raises(SchemeError, match="not below"):
        checked_bands([ClassBand("A", 10, 10)])
    with pytest.raises(SchemeError, match="given twice"):
        checked_bands([ClassBand("A", 0, 10), ClassBand("A", 20, 30)])
    with pytest.raises(SchemeError, match="line 2: expected class,low,high"):
        bands_from_csv("class,low,high\nA,zero,10\n")


def test_an_equivalency_to_an_unknown_class_is_refused() -> None:
    bands = bands_from_csv(BANDS_CSV)
    with pytest.raises(SchemeError, match="maps to Z, which is not one of the series' classes"):
        checked_equivalency({("NASA", "E0"): "Z"}, bands)
    with pytest.raises(SchemeError, match="line 2"):
        equivalency_from_csv("body,class\nNASA,B\n", bands)
