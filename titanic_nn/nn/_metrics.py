"""The losses' means as scores a user reads, on float64 numpy: mean squared error and log loss (the target's own
metrics, accuracy among them, are the target's: features/_target.py)."""

from __future__ import annotations

from typing import Any

from .._lazy import numpy as np
from ._losses import LOSSES

__all__ = ["mse", "log_loss"]


def mse(pred: Any, y: Any) -> float:
    """Mean squared error, the sheet's =AVERAGE((pred-Survived)^2)."""
    return float(LOSSES["mse"].mean(*_pair(pred, y)))


def log_loss(prob: Any, y: Any) -> float:
    """Mean binary cross-entropy of probabilities, clipped away from 0 and 1."""
    return float(LOSSES["logloss"].mean(*_pair(prob, y)))


def _pair(pred: Any, y: Any) -> tuple[Any, Any]:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if pred.shape != y.shape:
        raise ValueError(f"predictions have {pred.size} values but the target has {y.size}")
    return pred, y
