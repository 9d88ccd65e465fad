"""The queries the server needs, in one namespace: ``from server.db import repository``.

Strategy: the implementations live by concern (``sessions``, ``entries``, ``accounts``);
this module only gathers them so that callers have one import. Every function takes an
``AsyncSession`` first; each write commits (one unit of work per call), reads do not.
"""

from __future__ import annotations

from server.db.accounts import (
    add_user,
    audit,
    create_token,
    set_pit_pin,
    verify_pit_pin,
    verify_token,
    verify_user,
)
from server.db.entries import load_entries
from server.db.models import EventRow, ResultVersionRow, Role, SessionRow
from server.db.result_versions import add_version, latest_version, sign_official, versions
from server.db.results import StoredResults, current_results, save_results
from server.db.sessions import (
    NotFound,
    create_session,
    find_event,
    get_event,
    get_or_create_event,
    get_session,
    latest_session,
    list_sessions,
    session_config,
    set_session_state,
)

__all__ = [
    "EventRow",
    "NotFound",
    "ResultVersionRow",
    "Role",
    "SessionRow",
    "StoredResults",
    "add_user",
    "add_version",
    "audit",
    "create_session",
    "create_token",
    "current_results",
    "find_event",
    "get_event",
    "get_or_create_event",
    "get_session",
    "latest_session",
    "latest_version",
    "list_sessions",
    "load_entries",
    "save_results",
    "session_config",
    "set_pit_pin",
    "set_session_state",
    "sign_official",
    "verify_pit_pin",
    "verify_token",
    "verify_user",
    "versions",
]
