"""Transport: URL parsing and a real loopback TCP connection."""

from __future__ import annotations

import asyncio
import socket

import pytest

from timing_adapters.transport import DEFAULT_P3_PORT, Endpoint, open_stream, parse_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("tcp://10.0.0.5:5403", Endpoint("tcp", "10.0.0.5", 5403)),
        ("tcp://decoder.local", Endpoint("tcp", "decoder.local", DEFAULT_P3_PORT)),
        ("TCP://decoder.local:7000/", Endpoint("tcp", "decoder.local", 7000)),
        ("socket://127.0.0.1:1234", Endpoint("socket", "127.0.0.1", 1234)),
        ("tcp://[::1]:5403", Endpoint("tcp", "::1", 5403)),
    ],
)
def test_parse_url(url: str, expected: Endpoint) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("serial:///dev/ttyUSB0?baud=9600", "serial transport not available yet"),
        ("http://decoder:80", "unsupported decoder URL scheme 'http'"),
        ("10.0.0.5:5403", "unsupported decoder URL scheme"),
        ("tcp://:5403", "has no host"),
        ("tcp://decoder:notaport", "invalid decoder URL"),
        ("tcp://decoder:70000", "invalid decoder URL"),
        ("tcp://decoder:5403/path", "nothing after"),
        ("tcp://decoder:5403?x=1", "nothing after"),
    ],
)
def test_parse_url_rejects(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_url(url)


@pytest.mark.parametrize("scheme", ["tcp", "socket"])
async def test_open_stream_talks_both_ways(scheme: str) -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello:" + await reader.readexactly(4))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        reader, writer = await open_stream(f"{scheme}://127.0.0.1:{port}")
        writer.write(b"\x8e\x02\x8f\x00")
        assert await asyncio.wait_for(reader.read(), 2.0) == b"hello:\x8e\x02\x8f\x00"
        writer.close()
        await writer.wait_closed()


async def test_open_stream_refused_is_oserror() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        await open_stream(f"tcp://127.0.0.1:{port}")


async def test_open_stream_bad_url_raises_before_connecting() -> None:
    with pytest.raises(ValueError, match="serial"):
        await open_stream("serial:///dev/ttyUSB0")
