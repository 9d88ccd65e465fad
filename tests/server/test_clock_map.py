"""Decoder clocks mapped to the session clock: exact laps, late samples, resets."""

from __future__ import annotations

from server.service.clock_map import ClockMap

S = 1_000_000


def test_offset_is_learned_and_held_so_laps_stay_exact() -> None:
    clocks = ClockMap()
    # an AMB decoder counting from power-on; the server clock is epoch microseconds
    server0 = 1_790_000_000 * S
    first = clocks.to_session("amb", 100 * S, server0 + 3_000)  # 3 ms latency
    second = clocks.to_session("amb", 190 * S + 123, server0 + 90 * S + 9_000)  # 9 ms
    assert first == server0 + 3_000
    assert second - first == 90 * S + 123  # the decoder's own lap time, untouched


def test_a_late_first_sample_is_corrected_by_a_prompt_one() -> None:
    clocks = ClockMap()
    clocks.to_session("p3", 10 * S, 10 * S + 5 * S)  # resent after 5 s
    assert clocks.to_session("p3", 20 * S, 20 * S + 1_000) == 20 * S + 1_000
    assert clocks.decoders["p3"].relearned == 1


def test_late_resends_do_not_move_the_offset() -> None:
    clocks = ClockMap()
    clocks.to_session("p3", 10 * S, 10 * S)
    assert clocks.to_session("p3", 11 * S, 50 * S) == 11 * S  # RESEND 39 s later
    assert clocks.offset("p3") == 0


def test_a_decoder_reset_is_relearned_after_confirmation() -> None:
    clocks = ClockMap(confirm=3)
    clocks.to_session("amb", 500 * S, 1_000 * S)  # offset 500 s
    # power cycled: its clock restarts from zero at server time 2,000 s
    mapped = [clocks.to_session("amb", t * S, (2_000 + t) * S) for t in (1, 2, 3, 4)]
    assert mapped[-1] == 2_004 * S
    assert clocks.decoders["amb"].relearned == 1


def test_decoders_are_independent() -> None:
    clocks = ClockMap()
    a = clocks.to_session("a", 100 * S, 1_000 * S)
    b = clocks.to_session("b", 103 * S, 1_000 * S)  # its clock is 3 s ahead
    assert a == b == 1_000 * S
    assert clocks.offset("a") is not None and clocks.offset("missing") is None
