"""The losses as ops: squared error (the lesson's) and log loss, each with its evaluation, derivative and Excel text.

Metrics, both trainers, the sheets' loss columns and `verify` all use these. A loss is a mean over
rows of a per-row loss; `value_and_grad` gives the mean for each start of a batch and its gradient
with respect to the predictions as `d * scale` (a scalar kept apart, so a kernel can apply it to
whichever array is smallest).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from .. import excel
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

    def excel(self, pred: str, target: str) -> str:
        """The formula of one row's loss from its prediction and target references."""
        raise NotImplementedError

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        """The mean over the last axis (rows): one value per start."""
        return self.rows(pred, y, backend).sum(-1) / y.shape[-1]

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        """(mean per start, d, scale) with d(mean)/d(pred) = d * scale; `overwrite` lets it reuse `pred`."""
        n = y.shape[-1]
        return self.mean(pred, y, backend), self.derivative(pred, y, backend), 1.0 / n

    # -- over a whole block of rows, as array expressions (a training sheet's loss and gradient) ------

    def excel_array_mean(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        """The mean loss of a column of predictions (an array expression) against the target column;
        `weights`, a 0/1 column, keeps only the rows it marks 1 (`count` of them)."""
        raise NotImplementedError

    def excel_array_gradient(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        """d(mean loss)/d(pred), one value per row, as an array expression (0 where `weights` is 0)."""
        raise NotImplementedError

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
        r = pred - y
        return r * r

    def derivative(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return 2.0 * (pred - y)

    def excel(self, pred: str, target: str) -> str:
        return f"({pred}-{target})^2"

    def mean(self, pred: Any, y: Any, backend: Backend = NUMPY) -> Any:
        return backend.sum_squares(pred - y) / y.shape[-1]

    def value_and_grad(self, pred: Any, y: Any, backend: Backend, overwrite: bool = False) -> tuple[Any, Any, float]:
        n = y.shape[-1]
        r = backend.subtract_in_place(pred, y) if overwrite else pred - y
        return backend.sum_squares(r) / n, r, 2.0 / n

    def excel_array_mean(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        return f"{excel.SUMPRODUCT(_weighted(f'({pred}-{y})^2', weights))}/{count}"

    def excel_array_gradient(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        return f"({_weighted(f'{pred}-{y}', weights, bare=True)}*(2/{count}))"


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

    def excel(self, pred: str, target: str) -> str:
        clipped = excel.MIN(excel.MAX(pred, self.EPS), f"1-{self.EPS!r}")
        return f"-({target}*{excel.LN(clipped)}+(1-{target})*{excel.LN('1-' + clipped)})"

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

    def excel_array_mean(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        """On the logits (this loss's array form always reads them): mean of softplus(s) - y s, s clipped."""
        s = self._excel_clipped(pred)
        softplus = excel.LN("1+" + excel.EXP(s))
        return f"{excel.SUMPRODUCT(_weighted(f'{softplus}-{y}*{s}', weights))}/{count}"

    def excel_array_gradient(self, pred: str, y: str, count: str, weights: str | None = None) -> str:
        """On the logits: sigmoid(s) - y where s is inside the clipping, else 0."""
        bound = repr(self.logit_bound)
        inside = f"({pred}>-{bound})*({pred}<{bound})"
        if weights is not None:
            inside = f"{inside}*{weights}"
        return f"((1/(1+{excel.EXP('-' + pred)})-{y})*{inside}/{count})"

    def _excel_clipped(self, s: str) -> str:
        bound = repr(self.logit_bound)
        return excel.IF(f"{s}<-{bound}", f"-{bound}", excel.IF(f"{s}>{bound}", bound, s))


def _weighted(terms: str, weights: str | None, bare: bool = False) -> str:
    """Per-row terms (an array expression), times a 0/1 weight column when one is given; `bare` terms
    are parenthesised either way."""
    if weights is None:
        return f"({terms})" if bare else terms
    return f"{weights}*({terms})"
