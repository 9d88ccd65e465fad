"""Input limits at the edge: body sizes, JSON that parses, ids, times and names in range.

Strategy: what a request may carry is checked before any route (or the database) sees it.
``BodyLimit`` is pure ASGI middleware: a declared ``Content-Length`` over the cap answers 413
at once, without reading the body; a body sent without one (chunked) is counted as it is
received, and the read stops with 413 at the first byte over. JSON bodies are capped at
64 KB and uploads (multipart) at 1 MB unless a path is given its own cap. ``parse_json``
turns every way a body can fail to be JSON (empty, not UTF-8, malformed, nested past the
interpreter's stack) into a 400 that says which. ``Id`` keeps path ids inside the id
columns' range (32-bit signed, well inside 64-bit), so an id of 2**63 is a 422, not a
driver's overflow, and ``Name`` refuses NUL and control characters (PostgreSQL refuses NUL
in text: a 500 before).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import HTTPException, Path, status
from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.db.text_limits import control_characters

JSON_LIMIT = 64 * 1024
UPLOAD_LIMIT = 1024 * 1024
INT64_MAX = 2**63 - 1
# ids are INTEGER columns (32-bit signed on PostgreSQL): a larger one names no row
ID_MAX = 2**31 - 1


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"the request body is over {limit // 1024} KB: send less",
        )


def limit_for(scope: Scope, overrides: Mapping[str, int]) -> int:
    """The cap of a request: its path's own, else by content type (multipart: an upload)."""
    path = scope.get("path", "")
    if path in overrides:
        return overrides[path]
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return UPLOAD_LIMIT if value.lower().startswith(b"multipart/") else JSON_LIMIT
    return JSON_LIMIT


class BodyLimit:
    """413 for a body over its cap, read no further than the cap (see the module's text)."""

    def __init__(self, app: ASGIApp, overrides: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.overrides = dict(overrides or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope, self.overrides)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer_413(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _answer_413(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer_413(send: Send, limit: int) -> None:
    body = json.dumps({"detail": BodyTooLarge(limit).detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the unread rest of the body is not waited for
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def parse_json(body: bytes) -> Any:
    """The body as JSON, or a 400 that says what is wrong with it."""
    if not body.strip():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the body is empty: send a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"the body is not UTF-8 (byte {exc.start}): send UTF-8"
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from exc
    except RecursionError as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "the body's JSON is nested too deeply: send it flat"
        ) from exc


def check_name(text: str) -> str:
    """A name without NUL or control characters (pydantic validator: ValueError says which)."""
    found = control_characters(text)
    if found:
        raise ValueError(f"no control characters in a name ({', '.join(sorted(set(found)))})")
    return text


def check_text(text: str) -> str:
    """Free text (a message): line breaks and tabs pass, other control characters do not."""
    found = control_characters(text, allow_whitespace=True)
    if found:
        raise ValueError(f"no control characters in the text ({', '.join(sorted(set(found)))})")
    return text


Name = Annotated[str, AfterValidator(check_name)]
Text = Annotated[str, AfterValidator(check_text)]
Id = Annotated[int, Path(ge=1, le=ID_MAX, description="an id (1 to 2**31-1)")]
