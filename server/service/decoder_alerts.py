"""Race control's alert when a decoder goes away: lost (the connection dropped) or silent
(the watchdog gave up on a connection that sent nothing).

Strategy: a pure function of two successive states of one decoder connection, so the
race service can journal its answer as an ``ExternalAlertRaised`` (the engine derives and
keeps alerts; this only says when one is due). Only the step from connected to not
connected raises one: the reconnect attempts that follow change nothing, and the next
loss after a reconnect is a new alert (its time is part of the alert's id).
``bad_input_alert`` does the same for rejected frames, at powers of ten of the count.
"""

from __future__ import annotations

from server.engine.events import ExternalAlertRaised, Severity
from timing_adapters.adapter import DecoderState

# the runner's watchdog says so when it drops a connection that went quiet
SILENT_MARKERS = ("no frame", "silent", "timed out", "timeout")


def decoder_alert(
    before: DecoderState | None, after: DecoderState, now_us: int
) -> ExternalAlertRaised | None:
    """The alert due when ``after`` follows ``before`` for the same decoder, or None."""
    if before is None or not before.connected or after.connected:
        return None
    error = after.last_error or ""
    silent = any(marker in error.lower() for marker in SILENT_MARKERS)
    kind, word = ("decoder_silent", "silent") if silent else ("decoder_lost", "lost")
    text = f"Decoder {after.url} {word}" + (f": {error}" if error else "")
    return ExternalAlertRaised(kind, text, now_us, None, Severity.CRITICAL)


def bad_input_alert(
    before: DecoderState | None, after: DecoderState, now_us: int
) -> ExternalAlertRaised | None:
    """The alert due when the decoder's rejected frames reach 1, 10, 100, ...: race control
    learns that a decoder sends bad input, and a flood of it raises a handful of alerts."""
    old, new = (before.bad_frames if before is not None else 0), after.bad_frames
    if new <= old or 10 ** (len(str(new)) - 1) <= old:
        return None
    last = f"; last: {after.last_rejection}" if after.last_rejection else ""
    text = f"Decoder {after.url}: {new} bad frame(s) rejected{last}"
    return ExternalAlertRaised("decoder_bad_input", text, now_us, None, Severity.WARNING)
