"""Interval arithmetic for stint clocks: time driven between two moments, and when a
given amount of driving is reached.

Strategy: a stint is a span of session time minus the spans that do not count (pit
stops inside it, and cautions when the rule set freezes stint clocks under them). The
excluded spans are merged once, so both questions are one walk over a short sorted
list; a span whose end is None is still going on, so nothing after its start counts.
Everything is integer microseconds, exact, and a function of its arguments only.
"""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int | None]  # (start, end); end None: still going on


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, overlapping and touching spans joined; an open span swallows the rest."""
    merged: list[Span] = []
    for start, end in sorted(spans, key=lambda span: span[0]):
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None:
                break
            if start <= last_end:
                merged[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        merged.append((start, end))
    return merged


def driven_us(start_us: int, end_us: int | None, excluded: list[Span], at_us: int) -> int:
    """Time counted between ``start_us`` and ``min(at_us, end_us)``; ``excluded`` merged."""
    upto = at_us if end_us is None else min(at_us, end_us)
    if upto <= start_us:
        return 0
    total = upto - start_us
    for span_start, span_end in excluded:
        if span_start >= upto:
            break
        low = max(span_start, start_us)
        high = upto if span_end is None else min(span_end, upto)
        if high > low:
            total -= high - low
    return total


def reaches_at(
    start_us: int, end_us: int | None, excluded: list[Span], amount_us: int
) -> int | None:
    """The first moment the time counted from ``start_us`` reaches ``amount_us``, or None
    when it does not before ``end_us`` (or an open exclusion stops the clock first)."""
    if amount_us <= 0:
        return start_us
    cursor, counted = start_us, 0
    for span_start, span_end in excluded:
        if span_end is not None and span_end <= cursor:
            continue
        if end_us is not None and span_start >= end_us:
            break
        if span_start > cursor:
            piece = span_start - cursor
            if counted + piece >= amount_us:
                return cursor + amount_us - counted
            counted += piece
        if span_end is None:
            return None
        cursor = max(cursor, span_end)
    at = cursor + amount_us - counted
    return at if end_us is None or at <= end_us else None
