"""Reading recorded decoder traffic from disk.

Strategy: a hex capture holds one frame per line exactly as it was on the wire (still
escaped), as lower-case hex. Blank lines and surrounding whitespace are tolerated so hand
edited files work; anything else that is not hex is an error naming the line, because a
silently skipped line would hide a lost passing.
"""

from __future__ import annotations

from pathlib import Path


def read_hex_capture(path: str | Path) -> list[bytes]:
    """The frames of a hex-per-line capture, in file order."""
    frames = []
    with Path(path).open(encoding="ascii", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if not text:
                continue
            try:
                frames.append(bytes.fromhex(text))
            except ValueError:
                raise ValueError(f"{path}:{number}: not a hex frame: {text[:40]!r}") from None
    return frames
