"""A model's mean training loss and its gradient for a batch of starts, by the kernel its program calls for.

The kernel is chosen by matching the program and the loss, never by which class built the model:

- "gram": the program is X @ w summed, w one column, with squared error: a linear least-squares objective. The
  loss is a quadratic form, so X^T X and X^T y are computed once (in float64) and an epoch costs
  O(n_features^2) whatever the row count: loss = (w.G.w - 2 w.b + y.y) / N, grad = 2/N (G w - b).
- "fused" (torch): the program starts with one matrix, optionally a ReLU, and a sum
  (MatMul(0), [ReLU], SumUnits). X is stored transposed (features, rows), which makes the skinny
  matrix products several times faster on a CPU; the starts' matrices are stacked so one product
  serves them all, in preallocated buffers. Whatever follows the sum (a sigmoid) and the loss run
  through their own forward and backward.
- "generic": every other program, by each op's `backward` in reverse over the forward trace.
  gradient="generic" forces it for any program (the tests compare it with the fast kernels).

With gradient="fast", a program ending in a sigmoid under log loss is computed on the logits
(softplus(s) - y s), which stays exact where the sigmoid rounds to 0 or 1. `autograd_loss_and_grad`
is the plain torch-autograd computation every kernel is tested against.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import TitanicNNError
from ..nn import NUMPY, MatMul, Model, ReLU, SquaredError, SumUnits, backprop, split_at_logits, torch_backend, trace

__all__ = ["Objective", "loss_and_grad", "autograd_loss_and_grad", "final_loss", "choose_kernel", "GRADIENTS"]

GRADIENTS = ("fast", "generic", "autograd")

# The programs the fused kernel computes itself; anything after them runs op by op.
FUSED_HEADS = ((MatMul(0), ReLU(), SumUnits()), (MatMul(0), SumUnits()))
LEAST_SQUARES = (MatMul(0), SumUnits())


def loss_and_grad(
    program: Sequence[Any], loss: Any, X: Any, y: Any, arrays: Sequence[Any], backend: Any, *,
    logits: bool = True, need_grad: bool = True,
) -> tuple[Any, list[Any] | None]:
    """The mean loss of `program` on (X, y) and each parameter array's gradient, op by op: the one walk of a program.

    `trace` runs it forward, the loss gives d(loss)/d(prediction), `backprop` runs it back. On numpy and torch
    these are numbers (the generic kernel); on the Excel backend the formulas of a training sheet. With
    `logits`, a program ending in a sigmoid under log loss is computed on the logits (softplus(s) - y s),
    exact where the sigmoid rounds to 0 or 1.
    """
    program, on_logits = split_at_logits(tuple(program), loss) if logits else (tuple(program), False)
    values = trace(program, X, arrays, backend)
    value_and_grad = loss.value_and_grad_logits if on_logits else loss.value_and_grad
    value, d, scale = value_and_grad(values[-1], y, backend)
    if not need_grad:
        return value, None
    return value, backprop(program, values, arrays, backend.mask_rows(d) * scale, backend)


def final_loss(model: Model, X: np.ndarray, y: np.ndarray, params: Any) -> float:
    """The loss of public parameters in float64 numpy, as the metrics (and the workbook) compute it."""
    return float(model.loss_op.mean(model.predict(X, params), y))


def _fused_head(program: Sequence[Any]) -> int:
    """How many leading ops the fused kernel computes (0: it does not apply)."""
    for head in FUSED_HEADS:
        tail = program[len(head):]
        if tuple(program[: len(head)]) == head and all(op.param is None for op in tail):
            return len(head)
    return 0


def choose_kernel(
    program: Sequence[Any], loss: Any, backend: str, gradient: str = "fast", shapes: Sequence[tuple[int, ...]] = ()
) -> str:
    """The kernel for this program, loss and parameter shapes: "gram", "fused", "generic" or "autograd"."""
    if gradient == "autograd":
        return "autograd"
    if gradient == "generic":
        return "generic"
    one_column = bool(shapes) and len(shapes[0]) == 2 and shapes[0][1] == 1
    if tuple(program) == LEAST_SQUARES and loss == SquaredError() and one_column:
        return "gram"
    if backend == "torch" and _fused_head(program):
        return "fused"
    return "generic"


class Objective:
    """A model's mean training loss on (X, y) for a batch of starts, and its gradient.

    `arrays` are the model's program arrays with a leading batch axis (one entry per start);
    `loss_and_grad(arrays)` returns (losses of shape (starts,), gradients shaped like `arrays`).
    `backend` is "numpy" (float64) or "torch" (on `device` in `dtype`); `gradient` is "fast" (the
    kernel the program calls for), "generic" (op by op) or "autograd" (the torch reference).
    """

    def __init__(
        self,
        model: Model,
        X: np.ndarray,
        y: np.ndarray,
        *,
        backend: str = "numpy",
        device: Any = None,
        dtype: Any = None,
        gradient: str = "fast",
    ) -> None:
        if backend not in ("numpy", "torch"):
            raise TitanicNNError(f"backend must be 'numpy' or 'torch', not {backend!r}")
        if gradient not in GRADIENTS:
            raise TitanicNNError(f"gradient must be one of {', '.join(GRADIENTS)}, not {gradient!r}")
        if gradient == "autograd" and backend != "torch":
            raise TitanicNNError("gradient='autograd' needs backend='torch'")
        self.model = model
        self.n_rows = len(y)
        self.loss_op = model.loss_op
        program = model.program()
        self.kernel = choose_kernel(program, self.loss_op, backend, gradient, model.shapes(np.shape(X)[1]))
        # the program up to what the loss reads, and how the loss reads it
        self.program = program
        self.logits = gradient == "fast"
        self._loss = self.loss_op.value_and_grad
        if gradient == "fast":
            self.program, on_logits = split_at_logits(program, self.loss_op)
            if on_logits:
                self._loss = self.loss_op.value_and_grad_logits  # type: ignore[attr-defined]
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if backend == "numpy":
            self.ops = NUMPY
            convert = lambda a: a  # noqa: E731
        else:
            import torch

            self.ops = torch_backend()
            self.device = device if device is not None else torch.device("cpu")
            self.dtype = dtype if dtype is not None else torch.float64
            convert = lambda a: torch.tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        if self.kernel == "gram":
            # summed in float64 from X once, then cast to the training dtype
            self.G, self.b, self.c = convert(X.T @ X), convert(X.T @ y), float(y @ y)
        elif self.kernel == "fused":
            import torch

            head = _fused_head(self.program)
            self.relu = head == 3
            self.tail = self.program[head:]
            # features by rows: the layout in which torch's skinny matrix products run fastest
            numpy_dtype = np.float32 if self.dtype == torch.float32 else np.float64
            self.XT = torch.from_numpy(np.ascontiguousarray(X.T, dtype=numpy_dtype)).to(self.device)
            self.y = convert(y)
            self._buffers: dict[int, tuple[Any, Any]] = {}
        else:
            self.X, self.y = convert(X), convert(y)

    # -- the public calls -------------------------------------------------------------------------

    def loss(self, arrays: Sequence[Any]) -> Any:
        """The losses of each start, shape (starts,)."""
        return self._compute(arrays, need_grad=False)[0]

    def loss_and_grad(self, arrays: Sequence[Any]) -> tuple[Any, list[Any]]:
        return self._compute(arrays, need_grad=True)  # type: ignore[return-value]

    def _compute(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        if self.kernel == "gram":
            return self._gram(arrays, need_grad)
        if self.kernel == "fused":
            return self._fused(arrays, need_grad)
        if self.kernel == "autograd":
            if not need_grad:
                return _mean_loss(self.model, self.X, self.y, arrays), None
            return autograd_loss_and_grad(self.model, self.X, self.y, arrays)
        return self._generic(arrays, need_grad)

    # -- the kernels ------------------------------------------------------------------------------

    def _gram(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        w = arrays[0][..., 0]  # (starts, n)
        Gw = w @ self.G  # G is symmetric
        loss = ((w * Gw).sum(-1) - 2.0 * (w @ self.b) + self.c) / self.n_rows
        if not need_grad:
            return loss, None
        return loss, [((2.0 / self.n_rows) * (Gw - self.b))[..., None]]

    def _generic(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        return loss_and_grad(
            self.model.program(), self.loss_op, self.X, self.y, arrays, self.ops, logits=self.logits, need_grad=need_grad
        )

    def _fused(self, arrays: Sequence[Any], need_grad: bool) -> tuple[Any, list[Any] | None]:
        import torch

        W = arrays[0]  # (starts, n, h)
        starts, n_features, h = W.shape
        rows = self.n_rows
        if starts not in self._buffers:
            self._buffers = {starts: (torch.empty((starts * h, rows), dtype=self.dtype, device=self.device),
                                      torch.empty((starts, rows), dtype=self.dtype, device=self.device))}
        Z, S = self._buffers[starts]
        torch.mm(W.transpose(1, 2).reshape(starts * h, n_features), self.XT, out=Z)
        if self.relu:
            Z.clamp_(min=0)
        if self.relu or h > 1:
            torch.sum(Z.view(starts, h, rows), 1, out=S)
        else:
            S = Z.view(starts, rows)
        values = [S]
        for op in self.tail:
            values.append(op.forward(values[-1], (), self.ops))
        # with nothing after the sum, its buffer is free for the loss to reuse
        loss, d, scale = self._loss(values[-1], self.y, self.ops, **({} if self.tail else {"overwrite": True}))
        if not need_grad:
            return loss, None
        grad = d * scale if self.tail else d  # without a tail the scale waits for the small final product
        for i in range(len(self.tail) - 1, -1, -1):
            grad = self.tail[i].backward(values[i], values[i + 1], grad, (), self.ops)[0]
        if self.relu:
            # relu'(z) is 1 where the relu's output is positive: sign() of it, then times the gradient, in place
            G = Z.sign_()
            G.view(starts, h, rows).mul_(grad.unsqueeze(1))
        else:  # the sum's gradient, the same for each unit
            G = grad.unsqueeze(1).expand(starts, h, rows).reshape(starts * h, rows)
        gradT = torch.mm(G, self.XT.T)
        if not self.tail:
            gradT.mul_(scale)
        return loss, [gradT.view(starts, h, n_features).transpose(1, 2)]


def _mean_loss(model: Model, X: Any, y: Any, arrays: Sequence[Any]) -> Any:
    """The lesson's way: predictions from the whole program, then the loss op's mean on them."""
    backend = torch_backend()
    return model.loss_op.mean(model.forward(X, arrays, backend), y, backend)


def autograd_loss_and_grad(model: Model, X: Any, y: Any, arrays: Sequence[Any]) -> tuple[Any, list[Any]]:
    """The reference: torch autograd through the model's program (torch tensors in, torch tensors out)."""
    import torch

    with torch.enable_grad():
        leaves = [a.detach().clone().requires_grad_(True) for a in arrays]
        loss = _mean_loss(model, X, y, leaves)
        loss.sum().backward()  # starts are independent, so the sum's gradient is each start's own
    return loss.detach(), [leaf.grad for leaf in leaves]
