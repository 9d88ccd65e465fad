"""When a decoder goes away, race control gets one alert: lost or silent."""

from __future__ import annotations

from dataclasses import replace

from server.engine.events import Severity
from server.service.decoder_alerts import decoder_alert
from timing_adapters.adapter import DecoderState

UP = DecoderState(url="tcp://10.0.0.5:5403", connected=True, connects=1)
NOW = 1_700_000_000_000_000


def test_a_dropped_connection_is_lost() -> None:
    down = replace(UP, connected=False, last_error="connection reset by peer")
    alert = decoder_alert(UP, down, NOW)
    assert alert is not None
    assert (alert.kind, alert.severity, alert.at_us) == ("decoder_lost", Severity.CRITICAL, NOW)
    assert alert.text == "Decoder tcp://10.0.0.5:5403 lost: connection reset by peer"


def test_a_connection_the_watchdog_gave_up_on_is_silent() -> None:
    quiet = replace(UP, connected=False, last_error="no frame for 15 s")
    alert = decoder_alert(UP, quiet, NOW)
    assert alert is not None and alert.kind == "decoder_silent"
    assert alert.text.endswith("silent: no frame for 15 s")


def test_only_the_step_from_connected_to_not_raises_one() -> None:
    down = replace(UP, connected=False)
    assert decoder_alert(None, down, NOW) is None  # first report: never connected yet
    assert decoder_alert(down, down, NOW) is None  # still down: reconnect attempts
    assert decoder_alert(down, UP, NOW) is None  # back
    assert decoder_alert(UP, replace(UP, passings=3), NOW) is None
    alert = decoder_alert(UP, down, NOW)
    assert alert is not None and alert.text == "Decoder tcp://10.0.0.5:5403 lost"
