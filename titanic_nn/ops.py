"""The operations every model is written in, evaluated by numpy (float64) or torch; the workbook renders the same list.

A model is a program: a tuple of these ops applied in turn to the inputs. Every value flowing through
has units on its last axis, so a leading batch axis (several random starts at once) passes through.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Sequence

import numpy as np

__all__ = ["MatMul", "AddBias", "ReLU", "SumUnits", "Sigmoid", "Op", "evaluate", "NUMPY", "torch_backend"]


@dataclass(frozen=True)
class MatMul:
    """values @ params[weight]: (rows, n_in) @ (n_in, n_out); the sheet's SUMPRODUCT per unit, or one MMULT."""

    weight: int

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values @ params[self.weight]


@dataclass(frozen=True)
class AddBias:
    """values + params[bias], one constant per unit."""

    bias: int

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values + params[self.bias][..., None, :]


@dataclass(frozen=True)
class ReLU:
    """max(x, 0); the sheet's IF(x<0,0,x)."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.relu(values)


@dataclass(frozen=True)
class SumUnits:
    """The sum over the units, ending with one value per row; the sheet's ReLU1+ReLU2+..."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return values.sum(-1)


@dataclass(frozen=True)
class Sigmoid:
    """1/(1+exp(-x)), written so in the sheet."""

    def apply(self, values: Any, params: Sequence[Any], backend: Any) -> Any:
        return backend.sigmoid(values)


Op = MatMul | AddBias | ReLU | SumUnits | Sigmoid


def evaluate(program: Sequence[Op], inputs: Any, params: Sequence[Any], backend: Any) -> Any:
    """Run a program on inputs (rows, n_features) with params (each optionally with a leading batch axis)."""
    values = inputs
    for op in program:
        values = op.apply(values, params, backend)
    return values


def _numpy_sigmoid(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-values))


NUMPY = SimpleNamespace(name="numpy", relu=lambda v: np.where(v < 0, 0.0, v), sigmoid=_numpy_sigmoid)


def torch_backend() -> SimpleNamespace:
    """The same operations in torch (imported only when training)."""
    import torch

    return SimpleNamespace(name="torch", relu=torch.relu, sigmoid=torch.sigmoid)
