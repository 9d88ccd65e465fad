"""Track CSV: loops by decoder id; a bad file changes nothing and names every bad row."""

from __future__ import annotations

import pytest

from server.cli.track_import import TrackImportError, parse_track
from server.engine.events import LoopRole


def test_a_good_track() -> None:
    loops = parse_track(
        "\ufeffdecoder,role,sector,distance_m,name\n"
        "268307,start_finish,,0,Line\n"
        "268308,sector,1,1200,Esses\n"
        "268309,pit_in,,,Pit in\n"
    )
    assert [(loop.decoder, loop.role, loop.sector) for loop in loops] == [
        ("268307", LoopRole.START_FINISH, None),
        ("268308", LoopRole.SECTOR, 1),
        ("268309", LoopRole.PIT_IN, None),
    ]
    assert loops[1].distance_m == 1200.0


def test_every_bad_row_is_named() -> None:
    with pytest.raises(TrackImportError) as error:
        parse_track("decoder,role,sector\n1,start_finish,\n,pit_in,\n1,sector,\n3,bridge,\n")
    text = str(error.value)
    assert "row 3: decoder is missing" in text
    assert "row 4: decoder '1' is listed twice" in text
    assert "row 4: a sector loop needs its sector number" in text
    assert "row 5: role 'bridge'" in text


@pytest.mark.parametrize(
    "text",
    ["", "role,decoder\n1,start_finish\n", "decoder,role\n1,pit_in\n"],
)
def test_bad_header_or_no_start_finish(text: str) -> None:
    with pytest.raises(TrackImportError):
        parse_track(text)
