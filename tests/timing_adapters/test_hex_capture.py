"""read_hex_capture: the hex-per-line capture format."""

from __future__ import annotations

from pathlib import Path

import pytest

from timing_adapters.capture import read_hex_capture


def test_reads_frames_and_tolerates_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "capture.out"
    path.write_text("8e02\n\n   \n  0a0b8f  \r\nAB\n")
    assert read_hex_capture(path) == [b"\x8e\x02", b"\x0a\x0b\x8f", b"\xab"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.out"
    path.write_text("")
    assert read_hex_capture(str(path)) == []


@pytest.mark.parametrize("bad", ["8e0g", "8e0", "hello", "8e\xe9"])
def test_non_hex_line_names_the_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.out"
    path.write_text(f"8e02\n\n{bad}\n", encoding="latin-1")
    with pytest.raises(ValueError, match=r"bad\.out:3:"):
        read_hex_capture(path)
