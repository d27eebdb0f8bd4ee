"""The losses and scores: mean squared error (the sheet's), log loss and accuracy at 0.5."""

from __future__ import annotations

import numpy as np

__all__ = ["mse", "log_loss", "accuracy", "LOSSES"]

EPS = 1e-12


def mse(pred: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error, the sheet's =AVERAGE((pred-Survived)^2)."""
    pred, y = _pair(pred, y)
    return float(np.mean((pred - y) ** 2))


def log_loss(prob: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities, clipped away from 0 and 1."""
    prob, y = _pair(prob, y)
    prob = np.clip(prob, EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(prob) + (1.0 - y) * np.log(1.0 - prob)))


def accuracy(pred: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> float:
    """Share of rows where (pred > threshold) equals the 0/1 target, as the sheet's IF(pred>0.5,1,0)."""
    pred, y = _pair(pred, y)
    return float(np.mean((pred > threshold).astype(np.float64) == y))


def _pair(pred: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if pred.shape != y.shape:
        raise ValueError(f"predictions have {pred.size} values but the target has {y.size}")
    return pred, y


LOSSES = {"mse": mse, "logloss": log_loss}
