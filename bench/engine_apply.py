"""Engine cost: microseconds per applied passing and per standings rebuild, 60 cars.

Run: .venv/bin/python bench/engine_apply.py [--runs 7]
Prints the median (and min/max) of several runs; this machine is shared and noisy, so
compare medians, not single runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from server.engine import (
    Entry,
    Flag,
    FlagChanged,
    PassingDetected,
    RaceEngine,
    SessionConfig,
    SessionKind,
)

S = 1_000_000


def one_run(cars: int, laps: int) -> tuple[float, float]:
    entries = [
        Entry(str(n), "ABCD"[n % 4], f"Team {n}", transponders=(f"T{n}",))
        for n in range(1, cars + 1)
    ]
    engine = RaceEngine(SessionConfig(1, SessionKind.RACE, length_us=10_000 * S), entries)
    engine.apply(FlagChanged(0, Flag.GREEN))
    passings = [
        PassingDetected(at_us=S + lap * 100 * S + n * S // 2, transponder=f"T{n}", decoder_id="D")
        for lap in range(laps)
        for n in range(1, cars + 1)
    ]
    started = time.perf_counter()
    for passing in passings:
        engine.apply(passing)
    apply_us = (time.perf_counter() - started) / len(passings) * 1e6
    rebuilds = []
    for passing in passings[-50:]:
        engine.apply(PassingDetected(passing.at_us + 50 * laps * S, passing.transponder, "D"))
        t0 = time.perf_counter()
        engine.standings()
        rebuilds.append((time.perf_counter() - t0) * 1e6)
    return apply_us, statistics.median(rebuilds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cars", type=int, default=60)
    parser.add_argument("--laps", type=int, default=40)
    args = parser.parse_args()
    results = [one_run(args.cars, args.laps) for _ in range(args.runs)]
    for label, values in (
        ("apply() per passing", [r[0] for r in results]),
        ("standings() rebuild", [r[1] for r in results]),
    ):
        print(
            f"{label:22s} median {statistics.median(values):8.1f} us"
            f"  (min {min(values):.1f}, max {max(values):.1f}, {args.runs} runs, {args.cars} cars)"
        )


if __name__ == "__main__":
    main()
