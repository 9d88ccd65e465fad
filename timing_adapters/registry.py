"""Adapter URLs -> running adapters.

Strategy: a decoder is configured by one URL whose scheme names the protocol and the
transport (``tcp://`` and ``p3+tcp://`` are P3 over TCP, the decoder being the server;
``serial:///dev/ttyUSB0?baud=19200`` P3 over serial; ``amb+tcp``, ``amb+serial``,
``ilap+tcp`` and ``ilap+serial`` the AMB legacy ASCII protocols;
``rmonitor+tcp://HOST:50000`` another scoring system's RMonitor feed;
``mylaps+listen://0.0.0.0:3097`` a listener MyLaps Timing & Scoring pushes to).
The server only ever sees ``Detection`` and ``DecoderState``.
``check_decoder_url`` validates a URL without building anything, so a command refuses a
bad one before it starts; ``code_forms`` says which transponder codes each kind of
decoder can report (what its codec puts in ``Detection.transponder``), so an entry list
can be checked against the decoders that will time it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from timing_adapters.adapter import Adapter, Detection, OnDetection, OnState
from timing_adapters.amb_legacy.runner import AmbLegacyRunner
from timing_adapters.clock import Clock
from timing_adapters.mylaps_ts.server import SCHEME as MYLAPS_SCHEME
from timing_adapters.mylaps_ts.server import MyLapsExchangeServer, parse_listen_url
from timing_adapters.p3.records import Passing
from timing_adapters.rmonitor.adapter import RMonitorAdapter, parse_rmonitor_url
from timing_adapters.rmonitor.codec import ENCODING as RMONITOR_ENCODING
from timing_adapters.runner import DecoderRunner
from timing_adapters.serial_transport import parse_serial_url, serial_opener
from timing_adapters.transport import parse_url

P3_TCP = ("tcp", "p3+tcp")
P3_SERIAL = ("serial", "p3+serial")
AMB_LEGACY = ("amb+tcp", "amb+serial", "ilap+tcp", "ilap+serial")
RMONITOR = ("rmonitor+tcp",)
SCHEMES = (*P3_TCP, *P3_SERIAL, *AMB_LEGACY, *RMONITOR, MYLAPS_SCHEME)


def scheme_of(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if not scheme or "://" not in url:
        raise ValueError(f"{url!r}: a decoder URL needs a scheme, e.g. tcp://HOST:5403")
    return scheme


def _unsupported(url: str, scheme: str) -> ValueError:
    return ValueError(
        f"{url!r}: unsupported decoder URL scheme {scheme!r}; use one of {', '.join(SCHEMES)}"
    )


def check_decoder_url(url: str) -> None:
    """Raise ``ValueError`` saying what is wrong with ``url`` and how it should look.

    The same checks the adapters make when they are built, made without building one.
    """
    scheme = scheme_of(url)
    rest = url.split("://", 1)[1]
    if scheme in P3_TCP:
        parse_url("tcp://" + rest)
    elif scheme in P3_SERIAL or scheme in ("amb+serial", "ilap+serial"):
        parse_serial_url(url)
    elif scheme in AMB_LEGACY:  # over TCP: P3's default port would be wrong here
        parse_url("tcp://" + rest)
        if urlsplit("tcp://" + rest).port is None:
            raise ValueError(f"{url!r}: give the decoder's TCP port, {scheme}://HOST:PORT")
    elif scheme in RMONITOR:
        parse_rmonitor_url(url)
    elif scheme == MYLAPS_SCHEME:
        parse_listen_url(url)
    else:
        raise _unsupported(url, scheme)


def _any(_code: str) -> bool:
    return True


def _fits_4_bytes(code: str) -> bool:
    return int(code) < 2**32


def _in_cp1252(code: str) -> bool:
    try:
        code.encode(RMONITOR_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CodeForm:
    """The transponder codes one kind of decoder reports, as its codec passes them on."""

    kind: str  # as an operator knows the decoder
    description: str  # completes "... reports <description>"
    pattern: re.Pattern[str]
    fits: Callable[[str], bool] = _any  # what the pattern cannot say

    def reports(self, code: str) -> bool:
        return self.pattern.fullmatch(code) is not None and self.fits(code)


def _p3_code(code: str) -> bool:
    return not code.isdigit() or _fits_4_bytes(code)


# P3: the 4-byte TRANSPONDER field, which the runner turns into a decimal string, or the
# transponder string (field 0x0A: ProChip and others, e.g. "AB-12345"), which wins when a
# decoder sends both
P3_CODES = CodeForm(
    "P3",
    "numbers from 0 to 4294967295 without leading zeros, or codes with a dash such as AB-12345",
    re.compile(r"0|[1-9]\d{0,9}|(?=[0-9A-Za-z-]{3,32}$)[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+"),
    _p3_code,
)
# AMB legacy and I-Lap: the transponder field of an ``@`` line as it comes
AMB_CODES = CodeForm("AMB/I-Lap", "1 to 32 letters and digits", re.compile(r"[0-9A-Za-z]{1,32}"))
# RMonitor: a passing carries the competitor's registration, free text in cp1252
RMONITOR_CODES = CodeForm(
    "RMonitor",
    "the other system's registration (text in cp1252)",
    re.compile(r"[^\x00-\x1f]+"),
    _in_cp1252,
)
# MyLaps T&S: the 7-character chip code of a V1 chip record
MYLAPS_CODES = CodeForm(
    "MyLaps T&S", "7-character chip codes (capital letters and digits)", re.compile(r"[0-9A-Z]{7}")
)
CODE_FORMS = (P3_CODES, AMB_CODES, RMONITOR_CODES, MYLAPS_CODES)


def code_form(url: str) -> CodeForm:
    """The codes the decoder at ``url`` reports; ``ValueError`` for an unknown scheme."""
    scheme = scheme_of(url)
    if scheme in P3_TCP or scheme in P3_SERIAL:
        return P3_CODES
    if scheme in AMB_LEGACY:
        return AMB_CODES
    if scheme in RMONITOR:
        return RMONITOR_CODES
    if scheme == MYLAPS_SCHEME:
        return MYLAPS_CODES
    raise _unsupported(url, scheme)


def code_forms(urls: Iterable[str]) -> tuple[CodeForm, ...]:
    """The distinct code forms of ``urls``, in the order first seen."""
    return tuple(dict.fromkeys(code_form(url) for url in urls))


def unreportable(code: str, forms: Iterable[CodeForm]) -> str | None:
    """Why none of ``forms`` can report ``code`` (one line), or None when one can."""
    forms = tuple(forms)
    if any(form.reports(code) for form in forms):
        return None
    said = "; ".join(f"{form.kind} reports {form.description}" for form in forms)
    return f"{code!r} cannot come from the decoders ({said})"


def open_adapter(
    url: str,
    on_detection: OnDetection,
    *,
    clock: Clock | None = None,
    on_state: OnState | None = None,
    silence_timeout_s: float = 15.0,
    last_passing_number: int | None = None,
    epoch: int = 0,
    epoch_span_us: tuple[int, int] | None = None,
) -> Adapter:
    """The adapter for ``url``; ``ValueError`` names the supported schemes otherwise.
    ``last_passing_number``, ``epoch`` and ``epoch_span_us`` resume a decoder's numbering
    where the journal ends (see ``DecoderRunner``)."""
    scheme = scheme_of(url)
    if scheme in P3_TCP or scheme in P3_SERIAL:

        async def on_passing(passing: Passing) -> None:
            await on_detection(p3_detection(passing, url, runner.clock_offset_us, runner.epoch))

        serial = scheme in P3_SERIAL
        runner = DecoderRunner(
            url if serial else "tcp://" + url.split("://", 1)[1],
            on_passing,
            clock=clock,
            on_state=on_state,
            silence_timeout_s=silence_timeout_s,
            last_passing_number=last_passing_number,
            epoch=epoch,
            epoch_span_us=epoch_span_us,
            opener=serial_opener(url) if serial else None,
        )
        return runner
    if scheme in AMB_LEGACY:
        # "auto": an I-Lap is silent between passings, so it has no silence watchdog
        return AmbLegacyRunner(url, on_detection, clock=clock, on_state=on_state, epoch=epoch)
    if scheme in RMONITOR:
        # another scoring system's feed: its $J passings (race time) feed our engine
        return RMonitorAdapter(
            url, on_detection, clock=clock, on_state=on_state, silence_timeout_s=silence_timeout_s
        )
    if scheme == MYLAPS_SCHEME:
        # we listen; MyLaps Timing & Scoring pushes its passings to us
        return MyLapsExchangeServer(url, on_detection, clock=clock, on_state=on_state)
    raise _unsupported(url, scheme)


def p3_detection(
    passing: Passing, url: str, offset_us: int | None = None, epoch: int = 0
) -> Detection:
    """A P3 passing; its RTC is taken as it comes unless GET_TIME measured an offset.
    The transponder string (field 0x0A) wins over the number when a decoder sends both."""
    decoder_id = str(passing.decoder_id) if passing.decoder_id is not None else url
    code = passing.transponder_code or str(passing.transponder)
    return Detection(
        decoder_id=decoder_id,
        transponder=code,
        time_us=passing.rtc_time_us,
        passing_number=passing.passing_number,
        offset_us=offset_us,
        epoch=epoch,
    )
