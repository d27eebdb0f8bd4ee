"""The two array backends a program runs on: numpy (float64, the sheet's numbers) and torch (training).

Ops and losses are written once against the few primitives here; where numpy and torch spell a
primitive differently, each backend gives its own spelling. torch is imported only by `torch_backend()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .._lazy import numpy as np

__all__ = ["Backend", "NUMPY", "torch_backend"]


@dataclass(frozen=True)
class Backend:
    """A backend's name ("numpy" or "torch") and its spelling of the primitives ops and losses need."""

    name: str
    broadcast_to: Callable[[Any, tuple[int, ...]], Any]
    zeros_like: Callable[[Any], Any]
    where: Callable[[Any, Any, Any], Any]
    clip: Callable[[Any, float, float], Any]
    log: Callable[[Any], Any]
    # log(1 + exp(v)), exactly (torch's softplus switches to v above a threshold)
    softplus: Callable[[Any], Any]
    # the sum of squares over the last axis
    sum_squares: Callable[[Any], Any]
    # a - b, written into a
    subtract_in_place: Callable[[Any, Any], Any]


def _numpy_where(condition: Any, a: Any, b: Any) -> Any:
    return np.where(condition, a, b)


NUMPY = Backend(
    name="numpy",
    broadcast_to=lambda v, shape: np.broadcast_to(v, shape),
    zeros_like=lambda v: np.zeros_like(v),
    where=_numpy_where,
    clip=lambda v, low, high: np.clip(v, low, high),
    log=lambda v: np.log(v),
    softplus=lambda v: np.logaddexp(0.0, v),
    sum_squares=lambda r: (r * r).sum(-1),
    subtract_in_place=lambda a, b: np.subtract(a, b, out=a),
)


def torch_backend() -> Backend:
    """The same primitives in torch (imported only when training)."""
    from .._optional import import_torch

    torch = import_torch()

    def sum_squares(r: Any) -> Any:
        if r.dim() != 2:
            return (r * r).sum(-1)
        # one batched dot product per start: faster on a CPU than squaring and summing
        return torch.bmm(r.unsqueeze(1), r.unsqueeze(2)).view(r.shape[0])

    return Backend(
        name="torch",
        broadcast_to=lambda v, shape: v.expand(shape),
        zeros_like=torch.zeros_like,
        where=lambda condition, a, b: torch.where(condition, a, b),
        clip=lambda v, low, high: v.clamp(low, high),
        log=torch.log,
        softplus=lambda v: torch.logaddexp(v, torch.zeros((), dtype=v.dtype, device=v.device)),
        sum_squares=sum_squares,
        subtract_in_place=lambda a, b: a.sub_(b),
    )
