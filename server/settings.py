"""Configuration from the command line and ``RACECONTROL_*`` environment variables."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RACECONTROL_")

    database_url: str = "sqlite+aiosqlite:///racecontrol.db"
    # our timing as an RMonitor feed for scoreboards (TCP); None switches it off
    rmonitor_host: str = "127.0.0.1"
    rmonitor_port: int | None = 50000
    # input events wait here (JSON lines, fsynced) while the database is unreachable
    spool_path: str = "racecontrol-spool.jsonl"
    # decoder URLs, e.g. tcp://192.168.1.50:5403 (the decoder is the TCP server)
    decoders: list[str] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 8000
    # signs the login cookie; set it in production so logins survive a restart
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
