"""The ingest keys a passing by (decoder, numbering epoch, number): a renumbered passing is
new, a repeat is dropped, and the journal's epochs tell a restarted runner where to resume."""

from __future__ import annotations

from server.engine.events import PassingDetected, from_record, to_record
from server.service.ingest import PassingMapper, ResumePoint
from timing_adapters.adapter import Detection

S = 1_000_000


def detection(n: int, at_s: int, epoch: int = 0) -> Detection:
    return Detection("77", "4242", at_s * S, passing_number=n, epoch=epoch)


def test_a_repeat_is_dropped_in_its_epoch_and_a_renumbered_passing_is_kept() -> None:
    mapper = PassingMapper()
    for n in (1, 2, 3):
        assert isinstance(mapper.map(detection(n, 100 + n), 0), PassingDetected)
    assert mapper.map(detection(2, 102), 0) == "duplicate"
    renumbered = mapper.map(detection(1, 300, epoch=1), 0)
    assert isinstance(renumbered, PassingDetected) and renumbered.epoch == 1
    assert mapper.map(detection(1, 300, epoch=1), 0) == "duplicate"
    assert mapper.epochs == {"77": 1}
    assert mapper.resume("tcp://x", 1) == ResumePoint(1, 1, (300 * S, 300 * S))


def test_the_epoch_is_journaled_and_a_replay_restores_the_resume_point() -> None:
    live = PassingMapper()
    journal = [live.map(detection(n, 100 + n), 0) for n in (1, 2, 3)]
    journal += [live.map(detection(n, 400 + n, epoch=1), 0) for n in (1, 2)]
    journal += [live.map(detection(3, 103), 0)]  # a late repeat of the old epoch: dropped
    assert journal[-1] == "duplicate"
    replayed = PassingMapper()
    for event in journal[:-1]:
        assert isinstance(event, PassingDetected)
        back = from_record(to_record(event))  # as the journal stores it
        assert back == event
        assert isinstance(back, PassingDetected)
        replayed.remember(back)
    assert replayed.resume("tcp://x", 1) == ResumePoint(1, 2, (401 * S, 402 * S))
    assert replayed.map(detection(2, 402, epoch=1), 0) == "duplicate"
    assert replayed.map(detection(3, 103), 0) == "duplicate"
    assert isinstance(replayed.map(detection(3, 403, epoch=1), 0), PassingDetected)


def test_a_journal_from_before_epochs_reads_as_epoch_0() -> None:
    record = to_record(PassingDetected(at_us=5, transponder="1", decoder_id="77", passing_number=9))
    del record["epoch"]  # how a passing journaled before this change is stored
    old = from_record(record)
    assert isinstance(old, PassingDetected) and old.epoch == 0
    mapper = PassingMapper()
    mapper.remember(old)
    assert mapper.resume_number("tcp://x", 1) == 9
    assert mapper.map(Detection("77", "1", 5, passing_number=9), 0) == "duplicate"
