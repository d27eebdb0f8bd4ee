"""The losses as ops: squared error (the lesson's), log loss and cross-entropy, each with its per-row value and
derivative, once.

Metrics, both trainers, the sheets' loss columns, the training sheets' loss and gradient and `verify` all
use these, on numpy, torch or the Excel backend alike (nn/_backends.py). A loss is a mean over rows of a
per-row loss; `value_and_grad` gives the mean for each start of a batch and its gradient with respect
to the predictions as `d * scale` (a scalar kept apart, so a kernel can apply it to whichever array is
smallest). The target `y` is one number per row (rows,), or K per row (rows, K): several classes one-hot,
several labels; a row's loss is then the sum over its K outputs.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .._lazy import numpy as np
from ._backends import NUMPY, Backend
from ._ops import Sigmoid, Softmax

__all__ = ["Loss", "SquaredError", "LogLoss", "CrossEntropy", "LOSSES", "register_loss", "split_at_logits"]


def n_rows(y: Any) -> Any:
    """How many rows a target holds: its first axis (a target never carries the starts' batch axis)."""
    return y.shape[0]


def total(values: Any, y: Any) -> Any:
    """The sum over the rows (and a row's K outputs, for a target of K per row): one value per start."""
    values = values.sum(-1)
    return values.sum(-1) if len(y.shape) == 2 else values


class Loss:
    """The mean over rows of `rows(pred, y)`; `name` is how models and files refer to it."""

    name: ClassVar[str]

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """The loss of each row."""
        raise NotImplementedError

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """d rows / d pred, row by row."""
        raise NotImplementedError

    def rows_size(self, pred: Any, y: Any, pred_size: Any) -> Any:
        """The size of each row's loss, for the tolerance a recomputation is held to: its value, and the rounding of
        its prediction (whose terms are of size `pred_size`) carried through the loss's slope. Near 0 or 1 a log loss's
        slope is huge: ln(1 - p) at p = 1 - 1e-11 moves by 1e-5 when p moves by its last bit, so two engines whose EXP
        differs there differ by that much, each computing the formula exactly as written."""
        return _per_row(np.abs(self.rows(pred, y))) + _per_row(np.abs(self.derivative(pred, y)) * np.abs(pred_size))

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """The mean over the rows: one value per start."""
        return total(self.rows(pred, y, backend), y) / n_rows(y)

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        """(mean per start, d, scale) with d(mean)/d(pred) = d * scale; `overwrite` lets it reuse `pred`."""
        return self.mean(pred, y, backend), self.derivative(pred, y, backend), 1.0 / n_rows(y)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


LOSSES: dict[str, Loss] = {}


def split_at_logits(program: tuple[Any, ...], loss: Loss) -> tuple[tuple[Any, ...], bool]:
    """(the program the loss reads, whether it reads logits): a loss that reads logits (`logits_of`, the final op
    it is written on: a sigmoid, a softmax) is computed on what goes into that op, exact where it rounds to 0 or 1."""
    final = getattr(loss, "logits_of", None)
    if final is not None and program[-1:] == (final(),):
        return program[:-1], True
    return program, False


def _per_row(values: Any) -> Any:
    """A row's total: the sum over its outputs where it has several (a loss of several labels, or a slope per class)."""
    return values.sum(-1) if values.ndim == 2 else values


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
        if len(y.shape) == 2:
            return super().mean(pred, y, backend)
        return backend.sum_squares(pred - y) / n_rows(y)

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        if len(y.shape) == 2:
            return super().value_and_grad(pred, y, backend)
        n = n_rows(y)
        r = backend.subtract_in_place(pred, y) if overwrite else pred - y
        return backend.sum_squares(r) / n, r, 2.0 / n


@register_loss
class LogLoss(Loss):
    """Binary cross-entropy of probabilities, clipped to [EPS, 1-EPS] so it never takes log(0)."""

    name: ClassVar[str] = "logloss"
    EPS: ClassVar[float] = 1e-12
    # computed on the logits when the program ends in a sigmoid (`split_at_logits`)
    logits_of: ClassVar[type] = Sigmoid

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        p = backend.clip(pred, self.EPS, 1.0 - self.EPS)
        return -(y * backend.log(p) + (1.0 - y) * backend.log(1.0 - p))

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        inside = (pred > self.EPS) & (pred < 1.0 - self.EPS)
        p = backend.clip(pred, self.EPS, 1.0 - self.EPS)  # equal to pred where it counts, never 0 or 1
        return backend.where(inside, (pred - y) / (p * (1.0 - p)), 0.0)

    def rows_size(self, pred: Any, y: Any, pred_size: Any) -> Any:
        # the slope at the clipped probability even where the clip holds it: an engine whose p falls a bit inside
        # the clip takes the steep side of it
        p = np.clip(pred, self.EPS, 1.0 - self.EPS)
        return _per_row(np.abs(self.rows(pred, y))) + _per_row(np.abs(pred - y) / (p * (1.0 - p)) * np.abs(pred_size))

    def value_and_grad_logits(
        self, logits: Any, y: Any, backend: Backend, overwrite: bool = False
    ) -> tuple[Any, Any, float]:
        """The same loss of sigmoid(logits), written on the logits: exact where the sigmoid rounds to 0 or 1.

        -y log p - (1-y) log(1-p) = softplus(s) - y s, and its derivative in s is sigmoid(s) - y. Clipping
        p to [EPS, 1-EPS] is clipping s to +-log((1-EPS)/EPS), outside which the gradient is 0.
        """
        n = n_rows(y)
        bound = self.logit_bound
        s = backend.clip(logits, -bound, bound)
        value = total(backend.softplus(s) - y * s, y) / n
        inside = (logits > -bound) & (logits < bound)
        return value, backend.where(inside, Sigmoid().forward(s, (), backend) - y, 0.0), 1.0 / n

    @property
    def logit_bound(self) -> float:
        """The logit whose sigmoid is 1 - EPS: clipping p is clipping the logits to +- this."""
        return math.log((1.0 - self.EPS) / self.EPS)


@register_loss
class CrossEntropy(Loss):
    """The log loss of K classes: -log of the probability of each row's class (y one-hot, K per row), the probability
    clipped to at least EPS so it never takes log(0); the loss of a softmax over K outputs."""

    name: ClassVar[str] = "crossentropy"
    EPS: ClassVar[float] = 1e-12
    # computed on the logits when the program ends in a softmax (`split_at_logits`)
    logits_of: ClassVar[type] = Softmax
    # the logits are held within +-BOUND there: EXP of 700 is 1e304, so 50 classes' sum stays finite in every engine,
    # and EXP of -700 is 1e-304, a normal number, so the sum is never 0
    BOUND: ClassVar[float] = 700.0

    def rows(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return -backend.log(backend.clip((y * pred).sum(-1), self.EPS, 1.0))

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        p = (y * pred).sum(-1)
        inside = (p > self.EPS) & (p < 1.0)
        return backend.where(inside[..., None], -y / backend.clip(p, self.EPS, 1.0)[..., None], 0.0)

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return self.rows(pred, y, backend).sum(-1) / n_rows(y)

    def value_and_grad_logits(
        self, logits: Any, y: Any, backend: Backend, overwrite: bool = False
    ) -> tuple[Any, Any, float]:
        """The same loss of softmax(logits), written on the logits: log(sum(exp(s))) - s of the row's class, and its
        derivative softmax(s) - y; the logits held within +-BOUND (outside, the gradient is 0)."""
        n = n_rows(y)
        s = backend.clip(logits, -self.BOUND, self.BOUND)
        e = backend.exp(s)
        sums = e.sum(-1)
        value = (backend.log(sums) - (y * s).sum(-1)).sum(-1) / n
        inside = (logits > -self.BOUND) & (logits < self.BOUND)
        return value, backend.where(inside, e / sums[..., None] - y, 0.0), 1.0 / n
