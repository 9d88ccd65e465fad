"""The CSRF token of the request being answered, for the pages rendered for it.

``CsrfGuard`` (server/web/csrf.py) sets it on every HTTP request; the renderer's templates
read it (``request_csrf_token()``), so every page with a login carries the token in its
``<meta name="csrf-token">`` and its forms without each route passing it along. A module
of its own: the renderer must not import the guard's dependencies.
"""

from __future__ import annotations

from contextvars import ContextVar

page_token: ContextVar[str] = ContextVar("csrf_page_token", default="")


def request_csrf_token() -> str:
    """The token of the request being answered ("" without a session cookie)."""
    return page_token.get()
