"""Decoder URLs pick the adapter; a wrong URL is refused with the schemes we know."""

from __future__ import annotations

import os

import pytest

from timing_adapters.adapter import Detection
from timing_adapters.amb_legacy.runner import AmbLegacyRunner
from timing_adapters.mylaps_ts.server import MyLapsExchangeServer
from timing_adapters.p3 import Passing
from timing_adapters.registry import open_adapter, p3_detection
from timing_adapters.rmonitor.adapter import RMonitorAdapter
from timing_adapters.runner import DecoderRunner


async def ignore(_detection: Detection) -> None:
    return None


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("tcp://127.0.0.1:5403", DecoderRunner),
        ("p3+tcp://127.0.0.1:5403", DecoderRunner),
        ("amb+tcp://127.0.0.1:8899", AmbLegacyRunner),
        ("ilap+tcp://127.0.0.1:8899", AmbLegacyRunner),
        ("rmonitor+tcp://127.0.0.1:50000", RMonitorAdapter),
        ("mylaps+listen://127.0.0.1:3097", MyLapsExchangeServer),
    ],
)
def test_scheme_picks_the_adapter(url: str, kind: type) -> None:
    adapter = open_adapter(url, ignore)
    assert isinstance(adapter, kind)
    assert adapter.state.connected is False


def test_serial_urls_open_a_serial_adapter() -> None:
    master, slave = os.openpty()
    try:
        path = os.ttyname(slave)
        assert isinstance(open_adapter(f"serial://{path}?baud=19200", ignore), DecoderRunner)
        assert isinstance(open_adapter(f"amb+serial://{path}?baud=9600", ignore), AmbLegacyRunner)
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("url", ["http://x:1", "5403", "rmonitorx+tcp://h:1"])
def test_unknown_schemes_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="scheme"):
        open_adapter(url, ignore)


def test_p3_passing_becomes_a_detection() -> None:
    passing = Passing(passing_number=5, transponder=2906141, rtc_time_us=10, decoder_id=135059)
    assert p3_detection(passing, "tcp://h:1") == Detection("135059", "2906141", 10, 5)
    anonymous = Passing(passing_number=6, transponder=1, rtc_time_us=11)
    assert p3_detection(anonymous, "tcp://h:1").decoder_id == "tcp://h:1"
