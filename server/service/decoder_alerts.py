"""Race control's alert when a decoder goes away: lost (the connection dropped) or silent
(the watchdog gave up on a connection that sent nothing).

Strategy: a pure function of two successive states of one decoder connection, so the
race service can journal its answer as an ``ExternalAlertRaised`` (the engine derives and
keeps alerts; this only says when one is due). Only the step from connected to not
connected raises one: the reconnect attempts that follow change nothing, and the next
loss after a reconnect is a new alert (its time is part of the alert's id).
``unreportable_alert`` is the start-up check of the entry list against the configured
decoders: a car whose codes none of them can report would never be timed.
``bad_input_alert`` does the same for rejected frames, at powers of ten of the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from server.engine.alerts import Alert
from server.engine.events import ExternalAlertRaised, Severity
from server.engine.model import Entry
from timing_adapters.adapter import DecoderState
from timing_adapters.registry import code_forms

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


def unreportable_alert(
    entries: Sequence[Entry], decoder_urls: Sequence[str], now_us: int
) -> ExternalAlertRaised | None:
    """The alert naming the cars with a transponder code that none of the decoders at
    ``decoder_urls`` can report, or None (also when no decoder is configured).

    Every code counts: a car that carries one transponder per driver goes untimed for
    the stint of the driver whose code cannot come."""
    forms = code_forms(decoder_urls)
    if not forms:
        return None
    cars = []
    for entry in entries:
        codes = [code for code in entry.transponders if not any(f.reports(code) for f in forms)]
        if codes:
            cars.append(f"car {entry.number} ({', '.join(codes)})")
    if not cars:
        return None
    kinds = "; ".join(f"{form.kind} reports {form.description}" for form in forms)
    text = (
        f"Transponder codes the decoders cannot report ({kinds}): {', '.join(cars)}; "
        "correct the entry list and import it again"
    )
    return ExternalAlertRaised("transponders_unreportable", text, now_us, None, Severity.CRITICAL)


def still_open(alert: ExternalAlertRaised, alerts: Iterable[Alert]) -> bool:
    """Whether race control still has ``alert`` unacknowledged (same kind and text, raised
    at an earlier start): a restart does not raise it twice."""
    return any(
        (open_alert.kind, open_alert.text) == (alert.kind, alert.text)
        and not open_alert.acknowledged
        for open_alert in alerts
    )


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
