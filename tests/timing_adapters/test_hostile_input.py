"""Hostile input through the real runners, over real TCP: never anything but a rejection.

Each property sends a runner (or the MyLaps listener) random bytes and well-framed records
with random field values (valid CRC, so the field checks are what stands in the way), then
one valid passing. The runner must still be running, deliver that passing, and have
counted what it rejected; every detection it delivered carries values in range.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timing_adapters.adapter import DecoderState, Detection
from timing_adapters.amb_legacy import AmbLegacyRunner
from timing_adapters.amb_legacy import Passing as AmbPassing
from timing_adapters.amb_legacy import encode as amb_encode
from timing_adapters.mylaps_ts import (
    BadRecord,
    PassingRecord,
    Pong,
    RecordError,
    make_passing,
    parse_passing_record,
)
from timing_adapters.mylaps_ts import Passing as MyLapsPassing
from timing_adapters.mylaps_ts import encode as mylaps_encode
from timing_adapters.mylaps_ts.server import MyLapsExchangeServer
from timing_adapters.p3 import Field, Passing, RecordType, UnknownRecord, encode
from timing_adapters.p3.crc import crc16
from timing_adapters.p3.layouts import MAX_RTC_US
from timing_adapters.p3.records import Passing as P3Passing
from timing_adapters.rejections import RejectionLog
from timing_adapters.rmonitor import BadLine, BadLineReason, decode_line
from timing_adapters.rmonitor import Passing as RMPassing
from timing_adapters.rmonitor.adapter import RMonitorAdapter
from timing_adapters.runner import DecoderRunner

RUNNER = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MARKER = 424242  # the valid passing's transponder


async def serve_once(payload: bytes) -> tuple[asyncio.Server, int]:
    """A decoder on a loopback port that sends ``payload`` to whoever connects, then idles."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        with contextlib.suppress(OSError):
            await writer.drain()
            await reader.read()  # until the runner goes
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def until(predicate: Callable[[], bool], task: asyncio.Task[None], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            assert not task.done(), task  # a dead runner fails at once, with its exception
            await asyncio.sleep(0.005)


async def run_runner(
    make: Callable[[int, Callable[[Detection], Awaitable[None]]], object],
    payload: bytes,
    delivered: Callable[[list[Detection]], bool],
) -> tuple[list[Detection], DecoderState]:
    detections: list[Detection] = []

    async def collect(detection: Detection) -> None:
        detections.append(detection)

    server, port = await serve_once(payload)
    runner = make(port, collect)
    task = asyncio.create_task(runner.run())  # type: ignore[attr-defined]
    try:
        await until(lambda: delivered(detections), task, timeout=5.0)
        assert not task.done()
        state: DecoderState = runner.state  # type: ignore[attr-defined]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.close()
        await server.wait_closed()
    return detections, state


def marked(detections: list[Detection]) -> bool:
    return any(d.transponder == str(MARKER) for d in detections)


# --- P3 -------------------------------------------------------------------------------

field_ids = st.sampled_from([0x01, 0x03, 0x04, 0x05, 0x06, 0x08, 0x81, 0x02, 0x7F])
p3_frames = st.builds(
    lambda tor, fields: encode(UnknownRecord(tor, tuple(Field(t, v) for t, v in fields))),
    st.sampled_from([int(RecordType.PASSING), int(RecordType.PASSING), 2, 3, 4, 0x24, 0x99]),
    st.lists(st.tuples(field_ids, st.binary(max_size=10)), max_size=8),
)
p3_noise = st.lists(
    p3_frames | st.binary(max_size=60) | p3_frames.map(lambda w: w[: len(w) // 2]), max_size=12
).map(b"".join)


@RUNNER
@given(p3_noise)
def test_p3_runner_survives_anything(noise: bytes) -> None:
    valid = P3Passing(
        passing_number=0xFFFF_FFFF, transponder=MARKER, rtc_time_us=10**15, decoder_id=7
    )

    def make(port: int, collect: Callable[[Detection], Awaitable[None]]) -> DecoderRunner:
        async def on_passing(p: Passing) -> None:
            await collect(
                Detection(str(p.decoder_id), str(p.transponder), p.rtc_time_us, p.passing_number)
            )

        return DecoderRunner(f"tcp://127.0.0.1:{port}", on_passing, resend_timeout_s=0.01)

    detections, state = asyncio.run(run_runner(make, noise + encode(valid), marked))
    for d in detections:
        assert d.passing_number is not None and 0 <= d.passing_number < 2**32
        assert 0 <= int(d.transponder) < 2**32 and 0 <= d.time_us < MAX_RTC_US
    assert state.frames + state.bad_frames >= 1


# --- AMB legacy / I-Lap -------------------------------------------------------------------

amb_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=14)


def amb_line(kind: str, fields: list[str]) -> bytes:
    body = "\t".join([kind, *fields]).encode()
    return b"\x01" + body + b"\tx%04X\r\n" % crc16(body + b"\t")


amb_records = st.builds(
    amb_line,
    st.sampled_from(["@", "@", "#", "%", "$"]),
    st.lists(amb_text | st.from_regex(r"[0-9]{1,14}(\.[0-9]{0,7})?", fullmatch=True), max_size=8),
)
amb_noise = st.lists(amb_records | st.binary(max_size=60), max_size=12).map(b"".join)


@RUNNER
@given(amb_noise)
def test_amb_runner_survives_anything(noise: bytes) -> None:
    valid = amb_encode(AmbPassing("101", str(MARKER), 12_345_000, 9, 40, 190, 2))

    def make(port: int, collect: Callable[[Detection], Awaitable[None]]) -> AmbLegacyRunner:
        return AmbLegacyRunner(f"amb+tcp://127.0.0.1:{port}", collect)

    detections, _ = asyncio.run(run_runner(make, noise + valid, marked))
    for d in detections:
        assert 0 <= d.time_us <= 10 * 31_557_600 * 10**6
        assert d.passing_number is None or 0 <= d.passing_number < 2**32


# --- RMonitor input -------------------------------------------------------------------

rm_fields = st.lists(
    st.text(st.characters(codec="cp1252", exclude_characters="\r\n"), max_size=12), max_size=8
)
rm_lines = st.builds(
    lambda command, fields: (command + "," + ",".join(fields) + "\r\n").encode("cp1252"),
    st.sampled_from(["$F", "$A", "$COMP", "$B", "$C", "$G", "$H", "$I", "$J", "$L", "$X"]),
    rm_fields,
)
rm_noise = st.lists(rm_lines | st.binary(max_size=60), max_size=12).map(b"".join)
# a $J waits for the feed's race time: the tail gives one ($F) before the marker passing
RM_TAIL = (
    b'\r\n$I,"13:00:00","14 Jun 25"\r\n$F,9999,"00:00:00","13:00:02","00:00:02","Green "\r\n'
    b'$J,"424242","00:00:01.000","00:00:02.000"\r\n'
)


@RUNNER
@given(rm_noise)
def test_rmonitor_adapter_survives_anything(noise: bytes) -> None:
    def make(port: int, collect: Callable[[Detection], Awaitable[None]]) -> RMonitorAdapter:
        return RMonitorAdapter(f"rmonitor+tcp://127.0.0.1:{port}", collect)

    asyncio.run(run_runner(make, noise + RM_TAIL, marked))


# --- MyLaps T&S (we listen, the hostile side connects) ------------------------------------

ml_messages = st.builds(
    lambda source, function, fields: "@".join([source, function, *fields, "$"]).encode(),
    st.text(max_size=6),
    st.sampled_from(["Pong", "Store", "Passing", "Marker", "GetLocations", "AckPing", "X"]),
    st.lists(st.text(max_size=40), max_size=5),
)
ml_noise = st.lists(ml_messages | st.binary(max_size=60), max_size=12).map(b"".join)


async def mylaps_scenario(noise: bytes) -> tuple[list[Detection], DecoderState]:
    detections: list[Detection] = []

    async def collect(detection: Detection) -> None:
        detections.append(detection)

    server = MyLapsExchangeServer("mylaps+listen://127.0.0.1:0", collect, ping_interval_s=3600)
    task = asyncio.create_task(server.run())
    try:
        await server.wait_listening()
        assert server.port is not None
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        valid = mylaps_encode(MyLapsPassing("Start", (make_passing(str(MARKER), 3_600_000),), 1))
        writer.write(mylaps_encode(Pong("Start")) + noise + b"$\r\n" + valid)
        await writer.drain()
        await until(lambda: marked(detections), task, timeout=5.0)
        state = server.state
        writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return detections, state


@RUNNER
@given(ml_noise)
def test_mylaps_listener_survives_anything(noise: bytes) -> None:
    detections, _ = asyncio.run(mylaps_scenario(noise))
    assert all(0 < len(d.transponder) <= 32 for d in detections)


# --- the rejection log ------------------------------------------------------------------


def test_rejection_log_is_bounded_and_in_hex(caplog: pytest.LogCaptureFixture) -> None:
    log = RejectionLog(logging.getLogger("test.rejections"), "decoder X", detailed=3)
    with caplog.at_level(logging.WARNING, "test.rejections"):
        shorts = [log.report("bad crc", bytes([0x8E, n % 256, 0x8F])) for n in range(1, 1001)]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 + 2  # the first three, then #100 and #1000
    assert lines[0] == "decoder X: rejected input #1 (bad crc): 8e 01 8f"
    assert "#100 " in lines[3] and "#1000 " in lines[4]
    assert shorts[0] == "bad crc: 8e 01 8f"
    assert log.count == 1000
    long = log.report("oversize", bytes(300))
    assert long.endswith(" ...") and len(long) < 80


def test_mylaps_chip_code_longer_than_32_is_rejected() -> None:
    assert isinstance(parse_passing_record("c=" + "A" * 32 + "|t=13:11:30.904"), PassingRecord)
    rejected = parse_passing_record("c=" + "A" * 33 + "|t=13:11:30.904")
    assert isinstance(rejected, BadRecord) and rejected.reason == RecordError.FORMAT
    with pytest.raises(ValueError, match="1-32"):
        make_passing("A" * 33, 0)


def test_rmonitor_ids_longer_than_32_are_bad_fields() -> None:
    ok = decode_line(b'$J,"' + b"7" * 32 + b'","00:00:30.000","00:01:00.000"')
    assert isinstance(ok, RMPassing)
    for line in (
        b'$J,"' + b"7" * 33 + b'","00:00:30.000","00:01:00.000"',
        b'$A,"1","' + b"9" * 40 + b'",1021,"Ann","Ace","USA",1',
    ):
        bad = decode_line(line)
        assert isinstance(bad, BadLine) and bad.reason == BadLineReason.BAD_FIELD
