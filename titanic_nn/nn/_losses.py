"""The losses as ops: squared error (the lesson's) and log loss, each with its per-row value and derivative, once.

Metrics, both trainers, the sheets' loss columns, the training sheets' loss and gradient and `verify` all
use these, on numpy, torch or the Excel backend alike (nn/_backends.py). A loss is a mean over rows of a
per-row loss; `value_and_grad` gives the mean for each start of a batch and its gradient with respect
to the predictions as `d * scale` (a scalar kept apart, so a kernel can apply it to whichever array is
smallest).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ._backends import NUMPY, Backend
from ._ops import Sigmoid

__all__ = ["Loss", "SquaredError", "LogLoss", "LOSSES", "register_loss", "split_at_logits"]


class Loss:
    """The mean over rows of `rows(pred, y)`; `name` is how models and files refer to it."""

    name: ClassVar[str]

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """The loss of each row."""
        raise NotImplementedError

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """d rows / d pred, row by row."""
        raise NotImplementedError

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """The mean over the last axis (rows): one value per start."""
        return self.rows(pred, y, backend).sum(-1) / y.shape[-1]

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        """(mean per start, d, scale) with d(mean)/d(pred) = d * scale; `overwrite` lets it reuse `pred`."""
        n = y.shape[-1]
        return self.mean(pred, y, backend), self.derivative(pred, y, backend), 1.0 / n

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


LOSSES: dict[str, Loss] = {}


def split_at_logits(program: tuple[Any, ...], loss: Loss) -> tuple[tuple[Any, ...], bool]:
    """(the program the loss reads, whether it reads logits): a loss that `reads_logits` after a final
    sigmoid is computed on what goes into the sigmoid, exactly where the sigmoid rounds to 0 or 1."""
    if getattr(loss, "reads_logits", False) and program[-1:] == (Sigmoid(),):
        return program[:-1], True
    return program, False


def register_loss(cls: type[Loss]) -> type[Loss]:
    """Register a Loss under its `name`, the name models (`loss=...`) and saved files use."""
    LOSSES[cls.name] = cls()
    return cls


@register_loss
class SquaredError(Loss):
    """(pred - y)^2, the lesson's; the sheet's =(Preds-Survived)^2, averaged."""

    name: ClassVar[str] = "mse"

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return (pred - y) ** 2

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return 2.0 * (pred - y)

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return backend.sum_squares(pred - y) / y.shape[-1]

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        n = y.shape[-1]
        r = backend.subtract_in_place(pred, y) if overwrite else pred - y
        return backend.sum_squares(r) / n, r, 2.0 / n


@register_loss
class LogLoss(Loss):
    """Binary cross-entropy of probabilities, clipped to [EPS, 1-EPS] so it never takes log(0)."""

    name: ClassVar[str] = "logloss"
    EPS: ClassVar[float] = 1e-12
    # computed on the logits when the program ends in a sigmoid (`split_at_logits`)
    reads_logits: ClassVar[bool] = True

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        p = backend.clip(pred, self.EPS, 1.0 - self.EPS)
        return -(y * backend.log(p) + (1.0 - y) * backend.log(1.0 - p))

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        inside = (pred > self.EPS) & (pred < 1.0 - self.EPS)
        p = backend.clip(pred, self.EPS, 1.0 - self.EPS)  # equal to pred where it counts, never 0 or 1
        return backend.where(inside, (pred - y) / (p * (1.0 - p)), 0.0)

    def value_and_grad_logits(
        self, logits: Any, y: Any, backend: Backend, overwrite: bool = False
    ) -> tuple[Any, Any, float]:
        """The same loss of sigmoid(logits), written on the logits: exact where the sigmoid rounds to 0 or 1.

        -y log p - (1-y) log(1-p) = softplus(s) - y s, and its derivative in s is sigmoid(s) - y. Clipping
        p to [EPS, 1-EPS] is clipping s to +-log((1-EPS)/EPS), outside which the gradient is 0.
        """
        n = y.shape[-1]
        bound = self.logit_bound
        s = backend.clip(logits, -bound, bound)
        value = (backend.softplus(s) - y * s).sum(-1) / n
        inside = (logits > -bound) & (logits < bound)
        return value, backend.where(inside, Sigmoid().forward(s, (), backend) - y, 0.0), 1.0 / n

    @property
    def logit_bound(self) -> float:
        """The logit whose sigmoid is 1 - EPS: clipping p is clipping the logits to +- this."""
        return math.log((1.0 - self.EPS) / self.EPS)
