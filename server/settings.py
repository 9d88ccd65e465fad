"""Configuration from the command line and ``RACECONTROL_*`` environment variables."""

from __future__ import annotations

import ipaddress
import json
import secrets
from typing import Annotated, Literal

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
    # proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or
    # networks, separated by commas or spaces; "*" for any). Default: none, so a client
    # cannot pick the address its login attempts are counted against
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # the login cookie's Secure flag: "auto" sets it on requests that came over HTTPS
    # (a trusted proxy's X-Forwarded-Proto included), "on" always, "off" never
    secure_cookies: Literal["auto", "on", "off"] = "auto"
    # a cookie login ends this long after it started (or at logout)
    session_max_age_s: int = Field(default=7 * 24 * 3600, ge=60)
    # at most this many password/PIN hash checks at once (each costs 64 MiB); the others
    # wait up to hash_wait_s, then answer 429
    hash_concurrency: int = Field(default=2, ge=1)
    hash_wait_s: float = Field(default=1.0, ge=0.0)
    # login attempts per account, event and client address: this many free tries, then a
    # wait of login_delay_s doubling with each try (at most login_max_delay_s), then a
    # lockout after login_lockout_after tries that race control lifts; a key left alone
    # for login_forget_s after its wait starts afresh
    login_free_tries: int = Field(default=5, ge=1)
    login_delay_s: float = Field(default=60.0, ge=0.0)
    login_max_delay_s: float = Field(default=3600.0, ge=0.0)
    login_lockout_after: int = Field(default=10, ge=2)
    login_forget_s: float = Field(default=900.0, ge=0.0)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        """The environment's text as a list: "ADDR,ADDR" or "ADDR ADDR"."""
        if isinstance(value, str):
            return [part for part in value.replace(",", " ").split() if part]
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_addresses(cls, value: list[str]) -> list[str]:
        for part in value:
            if part == "*" or part.startswith("unix:"):
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an IP address or network; give e.g. "
                    'RACECONTROL_FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.0/8"'
                ) from None
        return value

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
