"""A trained model bundled with the features it was trained on: what the workbook, the JSON and the CLI share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .features import Features
from .models import Model

__all__ = ["FittedModel"]


@dataclass
class FittedModel:
    """Fitted `features`, a `model` and its `params`, under a `name` (the sheet's, e.g. "nnet").

    `training` holds what the trainer recorded, as plain values: method, settings, final loss, the
    loss per epoch for gradient descent (`history`), seconds, and validation metrics where measured.
    """

    features: Features
    model: Model
    params: Any
    name: str = ""
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.model.kind

    def predict_inputs(self, X: np.ndarray) -> np.ndarray:
        """Predictions for already-transformed inputs, in float64."""
        return self.model.predict(X, self.params)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predictions for raw rows (every row kept; blanks filled from training statistics)."""
        return self.predict_inputs(self.features.transform(frame))

    def predict_survived(self, frame: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """0/1 integers, the sheet's IF(pred>0.5,1,0)."""
        return (self.predict(frame) > threshold).astype(np.int64)
