"""Ops, losses and models: every model a program of ops, each op with its numpy and torch evaluation, derivative and Excel text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Backend": "._backends", "NUMPY": "._backends", "MAGNITUDE": "._backends", "torch_backend": "._backends", "ExcelBackend": "._backends",
    "Op": "._ops", "Activation": "._ops", "MatMul": "._ops", "AddBias": "._ops", "SumUnits": "._ops",
    "ReLU": "._ops", "Tanh": "._ops", "Sigmoid": "._ops", "Softmax": "._ops", "ACTIVATIONS": "._ops", "activation": "._ops",
    "evaluate": "._ops", "trace": "._ops", "backprop": "._ops", "decay_masks": "._ops",
    "Loss": "._losses", "SquaredError": "._losses", "LogLoss": "._losses", "CrossEntropy": "._losses", "LOSSES": "._losses",
    "register_loss": "._losses", "split_at_logits": "._losses",
    "mse": "._metrics", "log_loss": "._metrics",
    "Model": "._models", "Linear": "._models", "TwoReLU": "._models", "MatMulNet": "._models", "MODELS": "._models",
    "OUTPUTS": "._models", "DEFAULT_LOSS": "._models", "register_model": "._models",
    "build_model": "._build", "model_from_config": "._build", "with_members": "._build", "with_outputs": "._build", "with_signed_output": "._build", "with_embeddings": "._build", "Tabular": "._models", "Embed": "._ops",
    "Ensemble": "._ensemble", "MAX_MEMBERS": "._ensemble",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._backends import MAGNITUDE, NUMPY, Backend, ExcelBackend, torch_backend
    from ._build import build_model, model_from_config, with_embeddings, with_members, with_outputs, with_signed_output
    from ._ensemble import MAX_MEMBERS, Ensemble
    from ._losses import LOSSES, CrossEntropy, LogLoss, Loss, SquaredError, register_loss, split_at_logits
    from ._metrics import log_loss, mse
    from ._models import DEFAULT_LOSS, MODELS, OUTPUTS, Linear, MatMulNet, Model, Tabular, TwoReLU, register_model
    from ._ops import (
        ACTIVATIONS, Activation, AddBias, Embed, MatMul, Op, ReLU, Sigmoid, Softmax, SumUnits, Tanh, activation, backprop,
        decay_masks, evaluate, trace,
    )
