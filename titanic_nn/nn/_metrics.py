"""The scores a user reads: the losses' means on float64 numpy, and accuracy at 0.5, each beside its Excel text."""

from __future__ import annotations

from typing import Any

from .. import excel
from .._lazy import numpy as np
from ._losses import LOSSES

__all__ = ["mse", "log_loss", "accuracy", "classify", "THRESHOLD", "excel_accuracy", "excel_classify"]

# A prediction above this is the class 1, as the sheet's IF(pred>0.5,1,0).
THRESHOLD = 0.5


def mse(pred: Any, y: Any) -> float:
    """Mean squared error, the sheet's =AVERAGE((pred-Survived)^2)."""
    return float(LOSSES["mse"].mean(*_pair(pred, y)))


def log_loss(prob: Any, y: Any) -> float:
    """Mean binary cross-entropy of probabilities, clipped away from 0 and 1."""
    return float(LOSSES["logloss"].mean(*_pair(prob, y)))


def classify(pred: Any, threshold: float = THRESHOLD) -> Any:
    """0/1 integers: 1 where the prediction is above `threshold`."""
    return (np.asarray(pred, dtype=np.float64) > threshold).astype(np.int64)


def excel_classify(pred: str) -> str:
    return excel.IF(f"{pred}>{THRESHOLD!r}", 1, 0)


def accuracy(pred: Any, y: Any, threshold: float = THRESHOLD) -> float:
    """Share of rows where the class of `pred` equals the 0/1 target."""
    pred, y = _pair(pred, y)
    return float(np.mean((pred > threshold).astype(np.float64) == y))


def excel_accuracy(preds: str, targets: str, count: Any, *, positive: Any = 1, among: str | None = None) -> str:
    """The share of rows where (pred>0.5) agrees with target=`positive` (a 0/1 target's 1, or its positive value).

    `among`, an array test such as "V4:V9=0", keeps only the rows where it holds, `count` of them.
    """
    agree = f"(({preds}>{THRESHOLD!r})=({targets}={excel.literal(positive)}))"
    rows = f"--{agree}" if among is None else f"({among})*{agree}"
    return f"{excel.SUMPRODUCT(rows)}/{count}"


def _pair(pred: Any, y: Any) -> tuple[Any, Any]:
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if pred.shape != y.shape:
        raise ValueError(f"predictions have {pred.size} values but the target has {y.size}")
    return pred, y
