"""Where and how torch trains: the device ("auto" finds CUDA, then Apple MPS, then the CPU), the dtype, the CPU threads."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .._optional import import_torch
from ..errors import TitanicNNError

__all__ = ["resolve_device", "resolve_dtype", "choose_threads", "torch_threads", "SMALL_WORK"]

# Multiply-adds per epoch (rows x parameters x starts) below which one CPU thread is fastest. Measured
# on the 2-core development machine (bench/run.py --only gd --busy): up to 1e8 one thread was 1.7x to 3x
# faster than two even when idle, and 10x to 50x faster beside other busy processes, because torch's
# threads wait for each other at every small product; from about 1e9 two threads start to pay.
SMALL_WORK = 1e9


def _mps_available(torch: Any) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def resolve_device(device: str | None = "auto", *, option: str = "device") -> Any:
    """"auto": CUDA, then Apple MPS, then the CPU; "cpu", "cuda", "cuda:1" or "mps" force one.

    `option` names the setting in messages (the command line passes "--device").
    """
    torch = import_torch()

    name = "auto" if device is None else str(device)
    cli = option.startswith("--")
    given = f"{option} {name}" if cli else f"{option}={name!r}"
    others = f"use {option} cpu or auto" if cli else f"use {option}='cpu' or 'auto'"
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available(torch) else torch.device("cpu")
    try:
        chosen = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise TitanicNNError(f"unknown {given}; use auto, cpu, cuda, cuda:N or mps") from exc
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise TitanicNNError(f"{given}: torch finds no CUDA GPU here; {others}")
        index = chosen.index or 0
        if index >= torch.cuda.device_count():
            raise TitanicNNError(f"{given}: there are only {torch.cuda.device_count()} CUDA device(s)")
    elif chosen.type == "mps":
        if not _mps_available(torch):
            raise TitanicNNError(f"{given}: Apple MPS is not available here; {others}")
    elif chosen.type != "cpu":
        raise TitanicNNError(f"{given} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return chosen


def resolve_dtype(dtype: Any, device: Any) -> Any:
    torch = import_torch()

    names = {"float32": torch.float32, "float64": torch.float64}
    chosen = names.get(dtype, dtype) if isinstance(dtype, str) else dtype
    if chosen not in (torch.float32, torch.float64):
        raise TitanicNNError(f"dtype must be 'float32' or 'float64', not {dtype!r}")
    if chosen == torch.float64 and device.type == "mps":
        raise TitanicNNError("Apple MPS has no float64; use dtype='float32' or device='cpu'")
    return chosen


def choose_threads(work: float, current: int) -> int:
    """The CPU threads for an epoch of `work` multiply-adds: one for a small problem, else `current` (the caller's)."""
    return 1 if work < SMALL_WORK else max(1, int(current))


@contextmanager
def torch_threads(threads: int) -> Iterator[int]:
    """Run with torch on `threads` CPU threads, and give the caller's own setting back afterwards."""
    torch = import_torch()
    previous = torch.get_num_threads()
    if threads != previous:
        torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
