"""Open a byte stream to a timing decoder from a URL.

Strategy: the codecs never see a socket; this module turns ``tcp://host:port`` (and the
test alias ``socket://host:port``) into an asyncio ``(StreamReader, StreamWriter)`` pair and
does nothing else. URL parsing is a separate pure function so that a typo in the settings
fails at start-up with a message that names the problem, not at the first connect.
Serial ports come later; until then ``serial://`` is refused with a clear message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_P3_PORT = 5403
"""The TCP port a MyLaps P3 decoder (ProChip, RC4, X2 link) listens on."""

_TCP_SCHEMES = frozenset({"tcp", "socket"})


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    host: str
    port: int


def parse_url(url: str) -> Endpoint:
    """Validate a decoder URL; raise ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise ValueError(f"invalid decoder URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "serial":
        raise ValueError(f"serial transport not available yet: {url!r}")
    if scheme not in _TCP_SCHEMES:
        shown = scheme or "(none)"
        raise ValueError(
            f"unsupported decoder URL scheme {shown!r} in {url!r}; use tcp://host:port"
        )
    if not parts.hostname:
        raise ValueError(f"decoder URL {url!r} has no host; use {scheme}://host:port")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"decoder URL {url!r} must be {scheme}://host[:port] with nothing after")
    return Endpoint(scheme, parts.hostname, DEFAULT_P3_PORT if port is None else port)


async def open_stream(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the decoder at ``url``; OSError on network failure, ValueError on a bad URL."""
    endpoint = parse_url(url)
    return await asyncio.open_connection(endpoint.host, endpoint.port)
