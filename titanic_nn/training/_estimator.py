"""SheetClassifier: the lesson's models as a scikit-learn classifier over raw DataFrames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import TitanicNNError
from ..features import Features
from ..nn import MODELS, Model, build_model

__all__ = ["SheetClassifier"]


class SheetClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier that takes raw Titanic-like DataFrames, as the lesson's sheets do.

    model: a kind from `titanic_nn.nn.MODELS` ("linear", "nnet", "mmult"; each takes those of `hidden`,
    `layers`, `head`, `activation` its class has), or a Model instance.
    output/loss: as the models take them. schema/missing: as `Features` takes them.
    method: "solver" or "gd"; lr, epochs, restarts, optimizer go to the trainer when not None.
    `fit(X, y=None)`: X a DataFrame of raw rows; y (the 0/1 target) may be given separately or left
    in X's target column. Predictions are 1 where the model's output is above `threshold`.
    Fitted: `fitted_` (a FittedModel), `classes_` = [0, 1].
    """

    def __init__(
        self,
        model: str | Model = "nnet",
        method: str = "solver",
        *,
        hidden: int = 2,
        layers: list[int] | None = None,
        head: str | None = None,
        activation: str = "relu",
        output: str = "raw",
        loss: str | None = None,
        schema: Any = None,
        missing: str | None = None,
        lr: float | None = None,
        epochs: int | None = None,
        restarts: int | None = None,
        optimizer: str | None = None,
        device: str = "auto",
        seed: int = 0,
        threshold: float = 0.5,
        progress: bool = False,
    ) -> None:
        self.model = model
        self.method = method
        self.hidden = hidden
        self.layers = layers
        self.head = head
        self.activation = activation
        self.output = output
        self.loss = loss
        self.schema = schema
        self.missing = missing
        self.lr = lr
        self.epochs = epochs
        self.restarts = restarts
        self.optimizer = optimizer
        self.device = device
        self.seed = seed
        self.threshold = threshold
        self.progress = progress

    def _build_model(self) -> Model:
        if isinstance(self.model, Model):
            return self.model
        if self.model not in MODELS:
            raise TitanicNNError(f"model must be one of {', '.join(MODELS)} or a Model, not {self.model!r}")
        return build_model(
            self.model, hidden=self.hidden, layers=self.layers, head=self.head, activation=self.activation,
            output=self.output, loss=self.loss,
        )

    def _trainer_options(self) -> dict[str, Any]:
        names = ("restarts",) if self.method == "solver" else ("lr", "epochs", "restarts", "optimizer")
        options = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.method == "gd":
            options["device"] = self.device
        return options

    def fit(self, X: pd.DataFrame, y: Any = None) -> "SheetClassifier":
        from ._train import train_model

        features = Features(self.schema, missing=self.missing)
        frame = _raw_rows(X)
        if y is not None:
            target = features._resolved()[0].target
            frame = frame.copy()
            frame[target] = np.asarray(y)
        self.fitted_ = train_model(
            frame,
            self._build_model(),
            features=features,
            method=self.method,
            valid_frac=None,
            seed=self.seed,
            progress=self.progress,
            **self._trainer_options(),
        )
        self.classes_ = np.array([0, 1])
        return self

    def _output(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "fitted_"):
            raise TitanicNNError("this SheetClassifier is not fitted yet; call fit first")
        return self.fitted_.predict(_raw_rows(X))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The model's output per row (a regression value, or a probability for output="sigmoid")."""
        return self._output(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self._output(X) > self.threshold).astype(np.int64)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Columns [P(0), P(1)]: the output clipped to [0, 1] (a raw regression output is not a true probability)."""
        p = np.clip(self._output(X), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])


def _raw_rows(X: Any) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TitanicNNError(
            f"SheetClassifier takes the raw rows as a pandas DataFrame (e.g. from tn.load_titanic()), "
            f"not {type(X).__name__}"
        )
    return X
