"""The journaled entry list: ``EntryListSet`` and ``EntryChanged`` applied to a core.

Strategy: the engine owns its entries; they arrive as journaled input like everything
else, so a replay never reads the entry tables. A change after the session finished is
refused (its results stay as they were), and an entry list that claims a car or a
transponder twice is refused whole rather than crash a replay (the import checks both
before anything is written, so neither should reach the journal).
"""

from __future__ import annotations

from server.engine.core import SessionCore
from server.engine.events import EntryChanged, EntryListSet
from server.engine.outbound import CommandRefused, OutEvent
from server.engine.refusals import Refusal


def apply_entry_event(core: SessionCore, event: EntryListSet | EntryChanged) -> list[OutEvent]:
    name = type(event).__name__
    if isinstance(event, EntryListSet):
        try:
            core.enter_list(event.entries)
        except ValueError:
            return [CommandRefused(name, event.at_us, Refusal.INVALID_ENTRY_LIST)]
        return []
    if core.end.finished:
        return [CommandRefused(name, event.at_us, Refusal.SESSION_FINISHED, event.entry.number)]
    core.change_entry(event.entry, event.at_us)
    return []
