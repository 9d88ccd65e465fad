"""Fuzz the decoder inputs of a running server: hostile frames in, timing must go on.

Per codec (P3, AMB legacy, I-Lap, RMonitor input, MyLaps T&S), a fresh world: a migrated
SQLite database with 36 cars, ``racecontrol serve`` as a separate process with one decoder
URL of that protocol, a green race. The bench plays the hostile decoder on a loopback port
(for MyLaps T&S it is the client that connects to the server's listener) and streams
``--frames`` random and mutated frames, every ``--valid-every``-th one a valid passing of
the next car (round robin, 30 s of decoder time apart per car). Mutated frames are broken
on purpose (a flipped byte under the CRC, a field of the wrong width or out of range, a
broken quote, a cut, a control byte), so none of them may count as a lap. At the end the
bench waits (bounded) until every valid passing is scored, then reads the decoder's
counters (``GET /api/v1/decoders``) and the server's log.

Before each codec it prints a baseline measured in the same run: the generator alone and
the bare codec alone (no I/O) on up to 200,000 frames of the same stream.
Columns: ``frames/s`` (hostile + valid frames over the time from the first write to the
last valid passing delivered, and for P3 scored), ``rejected`` (the decoder's
``bad_frames``), ``junk KB`` (bytes skipped between frames), ``delivered`` (valid passings
the runner handed to the race service / sent), ``laps`` (P3 only: the standings hold
exactly the laps of the valid passings), ``reco`` (reconnects during the stream),
``crashes`` (the server process exited), ``dead tasks`` (tracebacks in the server's log:
a task that ended with an exception, or one the server caught and logged), ``RSS MB``
(server process at the start, the middle and the end of the stream). All traffic stays on
127.0.0.1; every wait is bounded and everything is torn down however the bench ends.

    .venv/bin/python bench/fuzz.py --frames 200000 --codec p3 --codec amb
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sized
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from race_world import EVENT, ServerProcess, free_port, prepare

from timing_adapters.amb_legacy import AmbLegacyDecoder
from timing_adapters.amb_legacy import Passing as AmbPassing
from timing_adapters.amb_legacy import encode as amb_encode
from timing_adapters.mylaps_ts import MessageFramer, Pong, make_passing
from timing_adapters.mylaps_ts import Passing as MyLapsPassing
from timing_adapters.mylaps_ts import encode as mylaps_encode
from timing_adapters.p3 import Field, P3Decoder, Passing, RecordType, Status, encode
from timing_adapters.p3.crc import crc16
from timing_adapters.p3.framing import build_frame
from timing_adapters.rmonitor import RMonitorDecoder

S = 1_000_000
LAP_US = 30 * S
CODECS = ("p3", "amb", "ilap", "rmonitor", "mylaps")
Cars = list[tuple[str, int]]  # (number, transponder)


# --- what each codec sends ------------------------------------------------------------


class Fuzzer:
    """Valid passings of the cars in turn, and broken frames of one protocol."""

    scheme = ""

    def __init__(self, cars: Cars, rng: random.Random, start_us: int) -> None:
        self.cars = cars
        self.rng = rng
        self.next_us = {t: start_us + i * S // 2 for i, (_n, t) in enumerate(cars)}
        self.turn = 0
        self.valid = 0

    def valid_frame(self) -> bytes:
        _number, transponder = self.cars[self.turn % len(self.cars)]
        self.turn += 1
        self.valid += 1
        at = self.next_us[transponder]
        self.next_us[transponder] += LAP_US
        return self.passing(transponder, at)

    @property
    def expected_laps(self) -> int:
        rounds, rest = divmod(self.turn, len(self.cars))
        crossings = [rounds + (i < rest) for i in range(len(self.cars))]
        return sum(max(c - 1, 0) for c in crossings)  # the first crossing starts lap 1

    def passing(self, transponder: int, at_us: int) -> bytes:
        raise NotImplementedError

    def broken(self) -> bytes:
        raise NotImplementedError

    def junk(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 64))

    def flip(self, frame: bytes, protected: bytes = b"") -> bytes:
        """One byte changed (never into a delimiter in ``protected``)."""
        data = bytearray(frame)
        pos = self.rng.randrange(1, len(data) - 1)
        new = self.rng.randrange(256)
        while new == data[pos] or new in protected:
            new = self.rng.randrange(256)
        data[pos] = new
        return bytes(data)


class P3Fuzzer(Fuzzer):
    scheme = "tcp"

    def passing(self, transponder: int, at_us: int) -> bytes:
        return encode(Passing(self.valid, transponder, at_us, 120, 30, 0, 0x41813))

    def broken(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(6)
        transponder = rng.randrange(2**32)
        if kind == 0:  # a byte flipped under the CRC
            return self.flip(encode(Passing(rng.randrange(2**32), transponder, at_us(rng))))
        if kind == 1:  # a field of the wrong width (valid CRC)
            tid = rng.choice([0x01, 0x03, 0x04, 0x05, 0x06, 0x81])
            width = rng.choice(
                [w for w in range(10) if w != {0x04: 8, 0x05: 2, 0x06: 2}.get(tid, 4)]
            )
            fields = [Field(0x01, b"\x01\x00\x00\x00"), Field(0x03, b"\x02\x00\x00\x00")]
            fields += [
                Field(0x04, (10**15).to_bytes(8, "little")),
                Field(tid, rng.randbytes(width)),
            ]
            fields.sort(key=lambda f: f.tid != tid)  # the bad one first: it wins
            return build_frame(RecordType.PASSING, fields)
        if kind == 2:  # a time past 2100 (valid CRC)
            rtc = rng.randrange(4_102_444_800 * S, 2**64)
            fields = [Field(0x01, b"\x01\x00\x00\x00"), Field(0x03, b"\x02\x00\x00\x00")]
            return build_frame(
                RecordType.PASSING, [*fields, Field(0x04, rtc.to_bytes(8, "little"))]
            )
        if kind == 3:  # cut short: the next frame's start arrives first
            wire = encode(Status(noise=rng.randrange(100), decoder_id=0x41813))
            return wire[: rng.randrange(1, len(wire) - 1)]
        if kind == 4:  # a bad escape
            return b"\x8e\x02\x8d\x00" + rng.randbytes(8) + b"\x8f"
        return b"\x8e" + self.junk().replace(b"\x8e", b"").replace(b"\x8f", b"") + b"\x8f"


def at_us(rng: random.Random) -> int:
    return rng.randrange(1_600_000_000 * S, 1_900_000_000 * S)


class AmbFuzzer(Fuzzer):
    scheme = "amb+tcp"
    crc = True

    def passing(self, transponder: int, at_us: int) -> bytes:
        number = None if not self.crc else self.valid
        extra = (None, None, None) if not self.crc else (40, 190, 2)
        record = AmbPassing("101", str(transponder), at_us - self._base, number, *extra)
        return amb_encode(record, crc=self.crc)

    def __init__(self, cars: Cars, rng: random.Random, start_us: int) -> None:
        super().__init__(cars, rng, start_us)
        self._base = start_us - 1000 * S  # the decoder was switched on 1000 s before

    def line(self, fields: list[str]) -> bytes:
        body = "\t".join(fields).encode()
        if self.crc:
            body += b"\tx%04X" % crc16(body + b"\t")
        return b"\x01" + body + b"\r\n"

    def broken(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0 and self.crc:  # a byte flipped under the CRC (not in it: "A" is "a")
            line = self.line(["@", "101", "5", "1234567", "12.345", "4", "40", "2"])
            cut = line.rindex(b"\t")
            return self.flip(line[:cut], b"\x01\n") + line[cut:]
        if kind == 1:  # a number past 4 bytes, or hits past 2
            big = str(rng.randrange(2**32, 10**12))
            return self.line(["@", "101", big, "99", "12.345", "4", "40", "2"])
        if kind == 2:  # a clock past 10 years
            seconds = str(rng.randrange(315_576_001, 10**12))
            return self.line(
                ["@", "101", "99", f"{seconds}.000"] + (["4", "40", "2"] if self.crc else [])
            )
        if kind == 3:  # wrong number of fields
            return self.line(["@", "101", "99"])
        if kind == 4:  # a control byte inside
            return self.line(["@", "10\x071", "99", "1.0"])
        return b"\x01" + self.junk().replace(b"\x01", b"").replace(b"\n", b"") + b"\r\n"


class ILapFuzzer(AmbFuzzer):
    scheme = "ilap+tcp"
    crc = False


class RMonitorFuzzer(Fuzzer):
    scheme = "rmonitor+tcp"

    def passing(self, transponder: int, at_us: int) -> bytes:
        race_us = at_us - self._green_us
        return f'$J,"{transponder}","00:00:30.000","{_clock(race_us)}"\r\n'.encode()

    def __init__(self, cars: Cars, rng: random.Random, start_us: int) -> None:
        super().__init__(cars, rng, start_us)
        self._green_us = start_us - S

    def broken(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:  # a quote that never closes
            return b'$J,"12345,"00:00:30.000","00:01:00.000"\r\n'
        if kind == 1:  # two records run together
            return b'$G,3,"12",5,"00:0$J,"1","00:00:30.000","00:01:00.000"\r\n'
        if kind == 2:  # a time that is not one
            return f'$J,"1","00:{rng.randrange(60, 100)}:00.000","00:01:00.000"\r\n'.encode()
        if kind == 3:  # too few fields
            return b'$J,"1"\r\n'
        if kind == 4:  # an oversize line
            return b"$E," + b"x" * rng.randrange(4100, 6000) + b"\r\n"
        return self.junk().replace(b"\n", b"") + b"\r\n"


def _clock(us: int) -> str:
    seconds, rest = divmod(us, S)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{rest // 1000:03d}"


class MyLapsFuzzer(Fuzzer):
    scheme = "mylaps+listen"

    def __init__(self, cars: Cars, rng: random.Random, start_us: int) -> None:
        super().__init__(cars, rng, start_us)
        self.message = 0

    def passing(self, transponder: int, at_us: int) -> bytes:
        self.message += 1
        day, time_of_day = divmod(at_us, 86_400 * S)
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        record = make_passing(str(transponder), time_of_day - time_of_day % 1000, date)
        return mylaps_encode(MyLapsPassing("Start", (record,), self.message)) + b"\r\n"

    def broken(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(6)
        if kind == 0:  # a V2 passing with a bad time
            return b"Start@Passing@c=1234567|t=25:61:00.000@7@$\r\n"
        if kind == 1:  # a chip code too long
            return b"Start@Passing@c=" + b"A" * rng.randrange(33, 200) + b"|t=10:00:00.000@8@$"
        if kind == 2:  # a V1 record with a bad checksum
            return b"Start@Store@000122806:15:31.82711 01  1D65725041300@9@$"
        if kind == 3:  # a control byte
            return b"Start@Pong\x07@$"
        if kind == 4:  # a message number that is not one
            return b"Start@AckPing@$Start@Passing@c=1|t=10:00:00.000@x@$"
        return self.junk().replace(b"$", b"") + b"$"


class _Codec(Protocol):
    def receive(self, data: bytes) -> Sized: ...


BARE: dict[str, Callable[[], _Codec]] = {
    "p3": P3Decoder,
    "amb": AmbLegacyDecoder,
    "ilap": lambda: AmbLegacyDecoder(crc=False),
    "rmonitor": RMonitorDecoder,
    "mylaps": MessageFramer,
}

FUZZERS: dict[str, type[Fuzzer]] = {
    "p3": P3Fuzzer,
    "amb": AmbFuzzer,
    "ilap": ILapFuzzer,
    "rmonitor": RMonitorFuzzer,
    "mylaps": MyLapsFuzzer,
}


# --- the world ----------------------------------------------------------------------


@dataclass
class Result:
    codec: str
    frames: int
    seconds: float
    rejected: int
    junk_bytes: int
    delivered: int
    sent_valid: int
    laps: str
    reconnects: int
    crashes: int
    dead_tasks: int
    rss_mb: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0


async def bounded(
    what: str, predicate: Callable[[], object], timeout: float, server: ServerProcess
) -> None:
    deadline = time.perf_counter() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if not server.alive:
            raise RuntimeError(f"{what}: the server exited ({server.popen.returncode})")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def hostile_decoder() -> AsyncIterator[tuple[int, asyncio.Queue[asyncio.StreamWriter]]]:
    """A loopback listener; each connection (the server's runner) is handed over."""
    connections: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()
    handlers: set[asyncio.Task[object]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        writers.append(writer)
        await connections.put(writer)
        with contextlib.suppress(OSError):
            while await reader.read(65536):
                pass  # RESEND, GET_TIME: a hostile decoder answers nothing
        if task is not None:
            handlers.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        # aborted connections end their handlers (the read sees EOF); cancelling them
        # instead would make asyncio's stream callback log their CancelledError
        for writer in writers:
            writer.transport.abort()
        await asyncio.gather(*handlers, return_exceptions=True)


async def drain_replies(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(OSError):
        while await reader.read(65536):
            pass


async def run_codec(codec: str, frames: int, valid_every: int, seed: int, timeout: float) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="racecontrol-bench-fuzz-"))
    server: ServerProcess | None = None
    try:
        db_url, token, cars = await prepare(tmp)
        async with hostile_decoder() as (decoder_port, connections):
            fuzzer_type = FUZZERS[codec]
            if codec == "mylaps":
                listen_port = free_port()
                url = f"mylaps+listen://127.0.0.1:{listen_port}"
            else:
                url = f"{fuzzer_type.scheme}://127.0.0.1:{decoder_port}"
            server = ServerProcess(
                db_url,
                url,
                tmp / "server.log",
                env={
                    "RACECONTROL_RMONITOR_PORT": str(free_port()),
                    "RACECONTROL_SPOOL_PATH": str(tmp / "spool.jsonl"),
                },
            )
            auth = {"Authorization": f"Bearer {token}"}
            base = f"http://127.0.0.1:{server.port}"
            async with httpx.AsyncClient(base_url=base, headers=auth, timeout=30) as http:

                async def up() -> bool:
                    with contextlib.suppress(httpx.TransportError):
                        return (await http.get("/api/v1/sessions")).status_code == 200
                    return False

                await bounded("server start", up, 30, server)
                body = {"event": EVENT, "type": "race", "name": "Fuzz", "length_minutes": 240}
                session = (await http.post("/api/v1/sessions", json=body)).raise_for_status().json()
                path = f"/api/v1/sessions/{session['id']}"
                (await http.post(f"{path}/flag", json={"flag": "green"})).raise_for_status()
                start_us = time.time_ns() // 1000 + S
                fuzzer = fuzzer_type(cars, random.Random(seed), start_us)
                if codec == "mylaps":
                    await asyncio.sleep(0.5)  # the listener binds after the lifespan starts
                    reader, writer = await asyncio.open_connection("127.0.0.1", listen_port)
                    replies = asyncio.create_task(drain_replies(reader))
                    writer.write(mylaps_encode(Pong("Start")) + b"\r\n")
                else:
                    writer = await asyncio.wait_for(connections.get(), 30)
                    replies = None

                async def laps() -> int:
                    rows = (await http.get(f"{path}/standings")).raise_for_status().json()
                    return sum(int(r["laps"]) for r in rows)

                rss = [server.rss_mb()]
                began = time.perf_counter()
                sent = 0
                chunk: list[bytes] = []
                for n in range(frames):
                    chunk.append(fuzzer.valid_frame() if n % valid_every == 0 else fuzzer.broken())
                    if len(chunk) >= 256:
                        writer.write(b"".join(chunk))
                        chunk.clear()
                        await writer.drain()
                    sent += 1
                    if n == frames // 2:
                        rss.append(server.rss_mb())
                # the last frame: a valid passing, so junk at the end is closed
                writer.write(b"".join(chunk) + fuzzer.valid_frame())
                await writer.drain()
                sent += 1
                expected = fuzzer.expected_laps

                async def decoder() -> dict[str, object]:
                    response = (await http.get("/api/v1/decoders")).raise_for_status()
                    [state] = response.json()
                    return dict(state)

                async def all_delivered() -> bool:
                    return int(str((await decoder())["passings"])) >= fuzzer.valid

                async def all_scored() -> bool:
                    return await laps() == expected

                await bounded("every valid passing delivered", all_delivered, timeout, server)
                if codec == "p3":  # the one wall-clock decoder: see "scored" in the README
                    await bounded("every valid passing scored", all_scored, timeout, server)
                seconds = time.perf_counter() - began
                rss.append(server.rss_mb())
                state = await decoder()
                writer.close()
                if replies is not None:
                    replies.cancel()
            log = server.log_path.read_text(errors="replace")
            return Result(
                codec=codec,
                frames=sent,
                seconds=seconds,
                rejected=int(str(state["bad_frames"])),
                junk_bytes=int(str(state["junk_bytes"])),
                delivered=int(str(state["passings"])),
                sent_valid=fuzzer.valid,
                laps="ok" if codec == "p3" else "-",
                reconnects=int(str(state["connects"])) - 1,
                crashes=0 if server.alive else 1,
                dead_tasks=log.count("Traceback"),  # an exception that ended a task, or logged
                rss_mb=rss,
            )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def print_result(r: Result) -> None:
    rss = " → ".join(f"{m:.0f}" for m in r.rss_mb)
    print(
        f"{r.codec:9} {r.frames:>9,} {r.rate:>9,.0f} {r.rejected:>9,} {r.junk_bytes / 1024:>8,.0f}"
        f" {r.delivered:>6}/{r.sent_valid:<6} {r.laps:>4} {r.reconnects:>4} {r.crashes:>7}"
        f" {r.dead_tasks:>10}   {rss}",
        flush=True,
    )


HEADER = (
    f"{'codec':9} {'frames':>9} {'frames/s':>9} {'rejected':>9} {'junk KB':>8}"
    f" {'delivered':>13} {'laps':>4} {'reco':>4} {'crashes':>7} {'dead tasks':>10}"
    "   RSS MB start → middle → end"
)


def bare_baseline(codec: str, frames: int, valid_every: int, seed: int) -> tuple[float, float]:
    """Frames per second of the generator alone and of the bare codec alone (no I/O, 64 KB
    chunks, in this process) on the same kind of stream: the floor under the end-to-end
    rate, measured in the same run."""
    cars = [(str(n), 1_000_000 + n) for n in range(36)]
    fuzzer = FUZZERS[codec](cars, random.Random(seed), time.time_ns() // 1000)
    began = time.perf_counter()
    stream = [
        fuzzer.valid_frame() if n % valid_every == 0 else fuzzer.broken() for n in range(frames)
    ]
    generated = time.perf_counter() - began
    data = b"".join(stream)
    decoder = BARE[codec]()
    began = time.perf_counter()
    for start in range(0, len(data), 65536):
        decoder.receive(data[start : start + 65536])
    return frames / generated, frames / (time.perf_counter() - began)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codec", action="append", choices=CODECS, help="default: all five")
    parser.add_argument("--frames", type=int, default=100_000, help="per codec (issue: 10**6)")
    parser.add_argument("--valid-every", type=int, default=100, help="one valid passing in N")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="s to score them all")
    args = parser.parse_args()
    print(HEADER, flush=True)
    for codec in args.codec or CODECS:
        count = min(args.frames, 200_000)
        generate, decode = bare_baseline(codec, count, args.valid_every, args.seed)
        print(f"{codec:9} baseline: generator {generate:,.0f} frames/s, bare codec {decode:,.0f}")
        results = []
        for run in range(args.runs):
            result = await run_codec(
                codec, args.frames, args.valid_every, args.seed + run, args.timeout
            )
            print_result(result)
            results.append(result)
        if args.runs > 1:
            rate = statistics.median(r.rate for r in results)
            print(f"{codec:9} median frames/s {rate:,.0f}", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
