"""Configuration from the command line and ``RACECONTROL_*`` environment variables."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DECODERS_FORMAT = (
    "give decoder URLs separated by commas or spaces, "
    'e.g. RACECONTROL_DECODERS="tcp://192.168.1.50:5403,tcp://192.168.1.51:5403"'
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RACECONTROL_")

    database_url: str = "sqlite+aiosqlite:///racecontrol.db"
    # our timing as an RMonitor feed for scoreboards (TCP); None switches it off
    rmonitor_host: str = "127.0.0.1"
    rmonitor_port: int | None = 50000
    # input events wait here (JSON lines, fsynced) while the database is unreachable
    spool_path: str = "racecontrol-spool.jsonl"
    # decoder URLs, e.g. tcp://192.168.1.50:5403 (the decoder is the TCP server); in the
    # environment separated by commas or spaces (a JSON list works too)
    decoders: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    # signs the login cookie; ``racecontrol serve`` keeps one in the database unless set
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    # a decoder that sends nothing (not even STATUS) for this long is reconnected
    decoder_silence_timeout_s: float = 15.0
    # the clock runs this many times faster than the wall (demo and tests only)
    speed: float = 1.0
    # shortest time between two renders of the live pages (coalesces bursts)
    publish_interval_s: float = 0.05
    heartbeat_interval_s: float = 2.0
    # a page's write (a flag, a driver change) not applied within this long answers 503
    submit_timeout_s: float = 5.0
    # publish the spectators' updates to Redis for ``racecontrol edge`` (None: off)
    redis_url: str | None = None
    redis_prefix: str = "racecontrol"  # the keys' prefix: one per race service

    @field_validator("decoders", mode="before")
    @classmethod
    def _split_decoders(cls, value: object) -> object:
        """The environment's text as a list: "URL,URL", "URL URL" or a JSON list."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                urls = json.loads(text)
            except ValueError:
                raise ValueError(f"not a JSON list of URLs: {value!r}; {DECODERS_FORMAT}") from None
            if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
                raise ValueError(f"not a list of URLs: {value!r}; {DECODERS_FORMAT}")
            return urls
        return [url for url in text.replace(",", " ").split() if url]
