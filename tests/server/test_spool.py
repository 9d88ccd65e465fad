"""The outage spool: append-only with an acknowledged offset, torn lines set aside, never lost."""

from __future__ import annotations

from pathlib import Path

from server.engine.events import Flag, FlagChanged, RaceControlMessagePosted
from server.service.spool import Spool


def flag(at_us: int) -> FlagChanged:
    return FlagChanged(at_us=at_us, flag=Flag.GREEN)


def message(at_us: int, text: str) -> RaceControlMessagePosted:
    return RaceControlMessagePosted(at_us=at_us, text=text)


def test_events_come_back_in_order_per_session(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl")
    assert not spool and spool.pending() == []
    spool.append(1, [flag(10), message(11, "a")], 100)
    spool.append(2, [message(12, "b")], 200)
    spool.append(1, [message(13, "c")], 300)
    assert spool
    assert [(s.session_id, s.recorded_at_us) for s in spool.pending()] == [
        (1, 100),
        (1, 100),
        (2, 200),
        (1, 300),
    ]
    assert spool.pending_for(1) == [flag(10), message(11, "a"), message(13, "c")]


def test_acknowledged_events_are_not_read_again_and_the_file_is_never_rewritten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.jsonl"
    spool = Spool(path)
    spool.append(1, [flag(10), message(11, "a")], 100)
    spool.append(1, [message(12, "b")], 200)
    first_batch_end = spool.pending()[1].end_offset
    size = path.stat().st_size
    inode = path.stat().st_ino
    spool.acknowledge(first_batch_end)
    assert path.stat().st_size == size and path.stat().st_ino == inode  # only the .ack moved
    assert (tmp_path / "spool.jsonl.ack").read_text() == str(first_batch_end)
    assert [s.event for s in spool.pending()] == [message(12, "b")]
    # a restart reads the acknowledged offset back
    assert [s.event for s in Spool(path).pending()] == [message(12, "b")]
    spool.acknowledge(spool.pending()[-1].end_offset)
    assert not spool and not path.exists() and not (tmp_path / "spool.jsonl.ack").exists()


def test_a_torn_last_line_is_set_aside_and_the_next_append_starts_clean(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    Spool(path).append(1, [flag(10)], 100)
    with path.open("ab") as file:  # a crash in the middle of a write
        file.write(b'{"session_id": 1, "recorded_at_us": 2')
    spool = Spool(path)  # restarted
    spool.append(1, [message(11, "after")], 300)
    assert [s.event for s in spool.pending()] == [flag(10), message(11, "after")]
    assert (tmp_path / "spool.jsonl.bad").read_bytes() == b'{"session_id": 1, "recorded_at_us": 2\n'
    spool.pending()  # read again: set aside once, not twice
    assert (tmp_path / "spool.jsonl.bad").read_text().count("\n") == 1


def test_a_spool_of_nothing_but_bad_lines_is_done_once_they_are_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    path.write_bytes(b'not json\n\n{"session_id": 1}\n')
    spool = Spool(path)
    assert spool
    assert spool.pending() == []
    assert not spool
    assert (tmp_path / "spool.jsonl.bad").read_bytes() == b'not json\n{"session_id": 1}\n'


def test_a_corrupt_ack_file_means_nothing_was_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "spool.jsonl"
    Spool(path).append(1, [flag(10)], 100)
    (tmp_path / "spool.jsonl.ack").write_text("garbage")
    assert [s.event for s in Spool(path).pending()] == [flag(10)]
    (tmp_path / "spool.jsonl.ack").write_text("999999")  # beyond the end: capped, all done
    assert not Spool(path)
