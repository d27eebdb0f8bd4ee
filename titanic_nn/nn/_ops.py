"""The operations every model is written in, evaluated by numpy (float64) or torch; the workbook renders the same list.

A model is a program: a tuple of these ops applied in turn to the inputs. Every value flowing through
has units on its last axis, so a leading batch axis (several random starts at once) passes through.
Each op's `backward` sits beside its `apply` (micrograd style): given the gradient of the loss with
respect to its output it returns the gradient with respect to its input and to the parameter it uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

__all__ = [
    "MatMul", "AddBias", "ReLU", "SumUnits", "Sigmoid", "Op", "evaluate", "trace", "backprop", "NUMPY", "torch_backend",
]


@dataclass(frozen=True)
class MatMul:
    """values @ params[weight]: (rows, n_in) @ (n_in, n_out); the sheet's SUMPRODUCT per unit, or one MMULT."""

    weight: int

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values @ params[self.weight]

    def backward(
        self, values: Any, output: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        weight = params[self.weight]
        # summed over any batch axis the weight lacks (a shared input X has none)
        grad_in = grad @ weight.swapaxes(-1, -2) if need_input else None
        return grad_in, values.swapaxes(-1, -2) @ grad


@dataclass(frozen=True)
class AddBias:
    """values + params[bias], one constant per unit."""

    bias: int

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values + params[self.bias][..., None, :]

    def backward(
        self, values: Any, output: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return grad, grad.sum(-2)


@dataclass(frozen=True)
class ReLU:
    """max(x, 0); the sheet's IF(x<0,0,x)."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.relu(values)

    def backward(
        self, values: Any, output: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        # 0 at exactly 0, as torch's relu does
        return grad * (output > 0), None


@dataclass(frozen=True)
class SumUnits:
    """The sum over the units, ending with one value per row; the sheet's ReLU1+ReLU2+..."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values.sum(-1)

    def backward(
        self, values: Any, output: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return backend.broadcast_to(grad[..., None], values.shape), None


@dataclass(frozen=True)
class Sigmoid:
    """1/(1+exp(-x)), written so in the sheet."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.sigmoid(values)

    def backward(
        self, values: Any, output: Any, grad: Any, params: Sequence[Any], backend: Any, need_input: bool = True
    ) -> tuple[Any, Any]:
        return grad * output * (1.0 - output), None


Op = MatMul | AddBias | ReLU | SumUnits | Sigmoid


def evaluate(program: Sequence[Op], inputs: Any, params: Sequence[Any], backend: Any) -> Any:
    """Run a program on inputs (rows, n_features) with params (each optionally with a leading batch axis)."""
    values = inputs
    for op in program:
        values = op.apply(values, params, backend)
    return values


def trace(program: Sequence[Op], inputs: Any, params: Sequence[Any], backend: Any) -> list[Any]:
    """Every value of the forward pass: [inputs, after op 1, ..., output]."""
    values = [inputs]
    for op in program:
        values.append(op.apply(values[-1], params, backend))
    return values


def backprop(program: Sequence[Op], values: Sequence[Any], params: Sequence[Any], grad: Any, backend: Any) -> list[Any]:
    """The gradient of the loss for each of `params`, from `trace`'s values and d(loss)/d(output).

    Each parameter's gradient has that parameter's shape (a batch axis included), so params that no op
    uses get zeros.
    """
    grads: list[Any] = [None] * len(params)
    for i in range(len(program) - 1, -1, -1):
        op = program[i]
        grad_in, grad_param = op.backward(values[i], values[i + 1], grad, params, backend, need_input=i > 0)
        index = getattr(op, "weight", getattr(op, "bias", None))
        if index is not None:
            grads[index] = grad_param if grads[index] is None else grads[index] + grad_param
        grad = grad_in
    return [backend.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


def _numpy_sigmoid(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-values))


NUMPY = SimpleNamespace(
    name="numpy",
    relu=lambda v: np.where(v < 0, 0.0, v),
    sigmoid=_numpy_sigmoid,
    broadcast_to=np.broadcast_to,
    zeros_like=np.zeros_like,
    softplus=lambda v: np.logaddexp(0.0, v),
)


def torch_backend() -> SimpleNamespace:
    """The same operations in torch (imported only when training)."""
    import torch

    return SimpleNamespace(
        name="torch",
        relu=torch.relu,
        sigmoid=torch.sigmoid,
        broadcast_to=torch.broadcast_to,
        zeros_like=torch.zeros_like,
        # log(1+exp(v)) exactly; torch's softplus switches to v above a threshold
        softplus=lambda v: torch.logaddexp(v, torch.zeros((), dtype=v.dtype, device=v.device)),
    )
