"""Engine checkpoints: a session's replayed state at a journal seq, so a restart replays
only the journal's tail.

Strategy: a checkpoint is the pickle of what a load rebuilds from the whole journal: the
engine (its state and its log, which corrections rebuild from) and the decoders' passing
mapper as the journal alone makes it (the duplicates it knows, the resume points, the
clock offsets). It is keyed by ``ENGINE_FINGERPRINT``, a hash of the source of the code
whose objects it holds (computed once at import), and by the session's configuration
(``config_key``): after an upgrade or a changed rule set the load ignores it and replays
the whole journal, which rebuilds the same results whatever changed since. A blob that
does not unpickle into what it says is ``CheckpointUnreadable``: the caller logs and
counts it and replays in full. The database row carries the same keys, so a load does
not even read a stale one.

Pickle's generic path is slow for the engine's millions of frozen slotted dataclasses
(``dataclasses`` gives them a Python ``__getstate__``/``__setstate__`` that calls
``fields()`` per object: 1.2 s per 100,000 passings each way); ``_FastPickler`` reduces
them to their constructor and field values instead, and the cyclic garbage collector is
paused while the objects are made (it would walk the growing heap again and again). The
engine's log of events is kept pickled in chunks (``EventLog``): a restored engine builds
its events only if a correction reads them, and each checkpoint pickles only the events
logged since the one before.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import io
import json
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.engine import RaceEngine
from server.engine.event_log import EventLog
from server.engine.events import InputEvent
from server.engine.model import SessionConfig
from server.engine.rule_spec import resolved_spec
from server.service.ingest import PassingMapper

_SERVER = Path(__file__).resolve().parent.parent
# the code whose objects a checkpoint holds: the engine, the mapper and its clocks, this
# module (the format); another Python may pickle the same objects differently
_FINGERPRINTED = (
    sorted((_SERVER / "engine").rglob("*.py"))
    + [_SERVER / "service" / name for name in ("ingest.py", "clock_map.py", "checkpoint.py")]
    + [_SERVER / "db" / "track.py"]
)


def _fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256(f"python {sys.version_info[:2]}".encode())
    for path in paths:
        digest.update(path.relative_to(_SERVER).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


ENGINE_FINGERPRINT = _fingerprint(_FINGERPRINTED)


def config_key(config: SessionConfig) -> str:
    """The session's configuration (its resolved rule set included) as a hash: a
    checkpoint made under another one is not this session's state. Canonical JSON, not
    ``repr``: a set's order in its repr changes from one process to the next."""
    values = {
        field.name: getattr(config, field.name)
        for field in dataclasses.fields(config)
        if field.name != "rules"
    }
    canonical = {**values, "kind": config.kind.value, "rules": resolved_spec(config.rules)}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


class CheckpointUnreadable(ValueError):
    """The blob is damaged: not a checkpoint this code can read."""


class CheckpointStale(ValueError):
    """A sound checkpoint, made by other engine code or for another configuration."""


@dataclass(frozen=True, slots=True)
class Restored:
    engine: RaceEngine
    mapper: PassingMapper  # as the journal up to the checkpoint's seq makes it


_FIELDS: dict[type, tuple[str, ...]] = {}


def _constructor_fields(cls: type) -> tuple[str, ...]:
    """The fields of a frozen slotted dataclass whose constructor takes them all as they
    are (no init-less field, no ``__post_init__``); () for every other type."""
    names = _FIELDS.get(cls)
    if names is None:
        params = getattr(cls, "__dataclass_params__", None)
        simple = (
            params is not None
            and params.frozen
            and "__slots__" in cls.__dict__
            and not hasattr(cls, "__post_init__")
            and all(f.init for f in dataclasses.fields(cls))
        )
        names = tuple(f.name for f in dataclasses.fields(cls)) if simple else ()
        _FIELDS[cls] = names
    return names


class _FastPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        if cls is EventLog:  # its chunks as they are, and one more of the events since
            return EventLog, (obj.sealed(_pickled, _unpickled), _unpickled)
        names = _FIELDS.get(cls)
        if names is None:
            names = _constructor_fields(cls)
        if names:
            return cls, tuple([getattr(obj, name) for name in names])
        return NotImplemented


def _pickled(events: list[InputEvent]) -> bytes:
    """A chunk of an ``EventLog``: its events, pickled on their own."""
    out = io.BytesIO()
    _FastPickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(events)
    return out.getvalue()


def _unpickled(chunk: bytes) -> list[InputEvent]:
    """The events of a chunk ``_pickled`` made (an engine thaws its log with it)."""
    with _collector_paused():
        events: list[InputEvent] = pickle.loads(chunk)
    return events


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dumps(engine: RaceEngine, mapper: PassingMapper) -> bytes:
    """The checkpoint of ``engine`` and the journal's ``mapper`` (their state now): a
    small header (the keys) and then the state, so a stale one is told without
    unpickling objects whose classes may have changed."""
    out = io.BytesIO()
    pickler = _FastPickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    with _collector_paused():
        pickler.dump((ENGINE_FINGERPRINT, config_key(engine.config)))
        pickler.dump((engine, mapper))
    return out.getvalue()


def loads(blob: bytes, config: SessionConfig) -> Restored:
    """The state in ``blob``; ``CheckpointStale`` when it was made by other engine code
    or for another configuration, ``CheckpointUnreadable`` when it is damaged (a
    checkpoint is only ever a shortcut: the caller replays the journal instead)."""
    source = io.BytesIO(blob)
    try:
        with _collector_paused():
            unpickler = pickle.Unpickler(source)
            fingerprint, key = unpickler.load()
            if fingerprint != ENGINE_FINGERPRINT:
                raise CheckpointStale("made by other engine code")
            if key != config_key(config):
                raise CheckpointStale("made for another configuration of the session")
            engine, mapper = unpickler.load()
    except CheckpointStale:
        raise
    except Exception as exc:  # any damage: truncated, garbled, a class that is gone
        raise CheckpointUnreadable(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(engine, RaceEngine) or not isinstance(mapper, PassingMapper):
        raise CheckpointUnreadable("not an engine and a mapper")
    # the restored state is long-lived: out of the collector's generations at once, or the
    # next collections walk its million objects (~0.7 s at 500,000 passings); ``serve``
    # freezes everything after the load anyway (app.py)
    gc.freeze()
    return Restored(engine, mapper)
