"""The `titanic-nn` program's entry: SIGINT, SIGTERM and SIGHUP handled from its first moment, then the command line."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, Sequence

__all__ = ["run", "interrupted", "HANDLED_SIGNALS"]

PROG = "titanic-nn"
# The signals a run cleans up after and ends on, with the shell's code for each (128 + its number).
HANDLED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def interrupted(exc: BaseException, written: Sequence[Any] = ()) -> int:
    """Say that a signal stopped the run, and truly what it left: nothing, or the outputs it had renamed into place
    (whole: they are renamed only once complete). The exit code is the shell's for that signal: 130 for Ctrl-C,
    143 for SIGTERM, 129 for SIGHUP."""
    number = getattr(exc, "signal", signal.SIGINT)
    what = "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
    if written:
        left = f"it had written {', '.join(map(str, written))} (complete) and nothing else"
    else:
        left = "no output was written and no temporary file was left"
    print(f"{PROG}: {what}; {left}", file=sys.stderr)
    return 128 + number


def run(argv: Sequence[str] | None = None) -> int:
    """The console script: its handlers go in before anything else is imported, so a signal that lands while the
    command line is still loading ends the run as one during it does, with one line and the signal's exit code,
    never a traceback. (Only the interpreter's own start, before any line of the program runs, is out of reach.)"""
    received: list[int] = []

    def early(number: int, frame: Any) -> None:
        if not received:
            received.append(number)
            from .errors import InterruptSignalError

            raise InterruptSignalError(number)

    for number in HANDLED_SIGNALS:
        signal.signal(number, early)
    try:
        from .cli import main

        code = main(argv)
    except KeyboardInterrupt as exc:
        from ._atomic import written_this_run

        code = interrupted(exc, written_this_run())
    if code in {128 + number for number in HANDLED_SIGNALS}:
        # Stopped by a signal, with its outputs settled and its line printed: end now. A thread the run started (the
        # progress bar's, torch's workers) may still be running, and the interpreter's shutdown around a live
        # native thread can abort ("Fatal Python error ... finalizing"), which would replace the signal's exit code.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code
