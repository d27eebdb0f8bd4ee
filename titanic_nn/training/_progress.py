"""A tiny progress reporter: a bar on a terminal's stderr, a plain line now and then otherwise, nothing when off."""

from __future__ import annotations

import sys
import time
from typing import IO, Any

__all__ = ["Progress"]


class Progress:
    """Reports `done` out of `total` steps of a task named `label`.

    On a terminal the bar is redrawn in place at most every `interval` seconds; elsewhere (a log, a
    pipe, a captured stream) a plain line is written at most every `line_interval` seconds, so logs
    stay short. `enabled=False` writes nothing. Use as a context manager, or call `close()`.
    """

    def __init__(
        self,
        total: int,
        *,
        label: str = "",
        enabled: bool = True,
        stream: IO[str] | None = None,
        interval: float = 0.1,
        line_interval: float = 10.0,
        width: int = 30,
    ) -> None:
        self.total = max(int(total), 1)
        self.label = label
        self.enabled = enabled
        self.stream = stream
        self.interval = interval
        self.line_interval = line_interval
        self.width = width
        self.done = 0
        self._start = time.perf_counter()
        self._last = -float("inf")
        self._drawn = False

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr

    def _is_tty(self) -> bool:
        isatty = getattr(self._out(), "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False

    def update(self, done: int, **info: Any) -> None:
        """Record progress to `done` steps; `info` (e.g. loss=0.14) is shown beside it."""
        self.done = min(int(done), self.total)
        if not self.enabled:
            return
        now = time.perf_counter()
        tty = self._is_tty()
        finished = self.done >= self.total
        if not finished and now - self._last < (self.interval if tty else self.line_interval):
            return
        self._last = now
        self._write(self._line(now, info), tty)

    def _line(self, now: float, info: dict[str, Any]) -> str:
        share = self.done / self.total
        extra = "".join(f" {k} {v:.6g}" if isinstance(v, float) else f" {k} {v}" for k, v in info.items())
        head = f"{self.label} " if self.label else ""
        return f"{head}{self.done}/{self.total} ({share:4.0%}){extra} {now - self._start:.1f}s"

    def _write(self, line: str, tty: bool) -> None:
        out = self._out()
        if tty:
            filled = int(round(self.width * self.done / self.total))
            bar = "#" * filled + "." * (self.width - filled)
            out.write(f"\r[{bar}] {line}\033[K")
            self._drawn = True
        else:
            out.write(line + "\n")
        out.flush()

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.enabled and self._drawn:
            self._out().write("\n")
            self._out().flush()
            self._drawn = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
