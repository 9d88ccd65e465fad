"""Every text column checked before the database sees it: length, NUL and control characters.

Strategy: one ``before_flush`` listener on every ORM session (the server's and the
command line's) looks at each new or changed row's ``String(n)`` columns. A value over
its column's length, or holding NUL or a control character, is refused with a
``TextRefused`` (a ``ValueError`` that names the column and the fix) instead of the
driver's error: PostgreSQL refuses over-long text and NUL (a 500 before), SQLite stores
anything. The audit log is the exception: a line must never fail because of who wrote it
(a PIN login's actor is ``pin:<event name>``), so its text is made to fit, not refused.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Session

ELLIPSIS = "…"


class TextRefused(ValueError):
    """A text value the database would not take as it is (the message says what to fix)."""


def control_characters(text: str, *, allow_whitespace: bool = False) -> list[str]:
    """The control characters in ``text`` (NUL included), as ``U+XXXX``."""
    allowed = "\t\n\r" if allow_whitespace else ""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) in ("Cc", "Cs") and c not in allowed
    ]


def fit(text: str, length: int) -> str:
    """``text`` without control characters, cut to ``length`` characters (marked with …)."""
    clean = "".join(c if unicodedata.category(c) not in ("Cc", "Cs") else "?" for c in text)
    return clean if len(clean) <= length else clean[: length - 1] + ELLIPSIS


def _string_columns(row: Any) -> list[tuple[str, int]]:
    table = getattr(row, "__table__", None)
    if table is None:
        return []
    return [
        (column.key, column.type.length)
        for column in table.columns
        if isinstance(column.type, String) and column.type.length is not None
    ]


def check_row(row: Any) -> None:
    """Refuse (or, for the audit log, fit) the row's text values; see the module's text."""
    fits = getattr(row, "__text_fits__", False)
    for key, length in _string_columns(row):
        value = getattr(row, key, None)
        if not isinstance(value, str):
            continue
        if fits:
            setattr(row, key, fit(value, length))
            continue
        where = f"{row.__tablename__}.{key}"
        found = control_characters(value)
        if found:
            raise TextRefused(
                f"{where}: no control characters ({', '.join(sorted(set(found)))}): remove them"
            )
        if len(value) > length:
            raise TextRefused(
                f"{where}: {len(value)} characters, at most {length}: make it shorter"
            )


@event.listens_for(Session, "before_flush")
def _check_text(session: Session, _context: Any, _instances: Any) -> None:
    for row in list(session.new) + list(session.dirty):
        check_row(row)
