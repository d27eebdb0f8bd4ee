"""Shared timing helpers for the benchmarks: medians of repeated runs, subprocess timing, table printing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]


# A process that keeps one core busy, as other work on a shared machine does.
BUSY_LOOP = "while True: pass"


@contextmanager
def busy(processes: int) -> Iterator[list[int]]:
    """Run `processes` busy loops beside the measurement (none for 0); each is stopped, by its id, afterwards."""
    started = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(processes)]
    try:
        time.sleep(0.5 if started else 0)  # let the scheduler see them before the first timing
        yield [p.pid for p in started]
    finally:
        for process in started:
            process.kill()
            process.wait()


def median_seconds(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of `repeat` calls, and the last call's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def time_command(argv: Sequence[str], repeat: int, cwd: Path = ROOT) -> float:
    """The median wall time of a subprocess, which must succeed."""

    def run() -> None:
        subprocess.run(list(argv), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return median_seconds(run, repeat)[0]


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    print(f"\n## {title}\n")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)
