"""SheetClassifier and SheetRegressor: the lesson's models as scikit-learn estimators over raw DataFrames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

from ..errors import TitanicNNError
from ..features import Features
from ..nn import MODELS, Model, build_model

__all__ = ["SheetClassifier", "SheetRegressor"]


class _SheetEstimator(BaseEstimator):
    """The settings both estimators share, stored unchanged, and how they build the model and the trainer's options.

    model: a kind from `titanic_nn.nn.MODELS` ("linear", "nnet", "mmult"; each takes those of `hidden`,
    `layers`, `head`, `activation` its class has), or a Model instance.
    output/loss: as the models take them. schema/missing: as `Features` takes them.
    method: "solver" or "gd"; lr, epochs, restarts, optimizer, wd and schedule go to the trainer when not None (the
    solver takes restarts and wd: weight decay's L2 form).
    threshold: the classifier's (a class is 1 above it); a regressor has none to use.
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
        wd: float | None = None,
        schedule: str | None = None,
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
        self.wd = wd
        self.schedule = schedule
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
        names = ("restarts", "wd") if self.method == "solver" else ("lr", "epochs", "restarts", "optimizer", "wd", "schedule")
        options = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.method == "gd":
            options["device"] = self.device
        return options



class SheetClassifier(ClassifierMixin, _SheetEstimator):
    """A scikit-learn classifier that takes raw Titanic-like DataFrames, as the lesson's sheets do.

    Settings: `_SheetEstimator`'s. `fit(X, y=None)`: X a DataFrame of raw rows; y (the target: 0/1, or the levels of
    several classes) may be given separately or left in X's target column. A binary target's predictions are 1 where
    the model's output is above `threshold`; several classes' are the level of the largest probability (a softmax).
    Fitted: `fitted_` (a FittedModel), `classes_` ([0, 1], or the levels, sorted).
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> "SheetClassifier":
        fitted = _fit(self, X, y, task=None)
        target = fitted.features.target_
        if target.kind == "regression":
            raise TitanicNNError(
                f"SheetClassifier predicts classes, but target {target.column} holds numbers of more "
                "than two values (a regression target); use SheetRegressor"
            )
        self.fitted_ = fitted
        # the classes: 0 and 1, several classes' levels, or several labels' columns (each 0 or 1)
        self.classes_ = np.array(getattr(target, "levels", None) or getattr(target, "columns", None) or [0, 1])
        return self

    @property
    def _several(self) -> bool:
        """Whether the model has an output per class or label, whose probabilities `predict_proba` gives as they are."""
        return _fitted(self).features.target_.outputs > 1

    def _output(self, X: pd.DataFrame) -> np.ndarray:
        return _fitted(self).predict(_raw_rows(X, self))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The model's output per row (a regression value, or a probability for output="sigmoid")."""
        return self._output(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if self._several:  # the level of the largest probability (an array of the levels' own type), or each label's
            return np.array(_fitted(self).predict_target(_raw_rows(X, self)).tolist())
        return (self._output(X) > self.threshold).astype(np.int64)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Columns [P(0), P(1)]: the output clipped to [0, 1] (a raw regression output is not a true probability); for
        several classes the softmax's probability of each, for several labels each one's, in `classes_` order."""
        if self._several:
            return self._output(X)
        p = np.clip(self._output(X), 0.0, 1.0)
        return np.column_stack([1.0 - p, p])


class SheetRegressor(RegressorMixin, _SheetEstimator):
    """A scikit-learn regressor over raw DataFrames: the lesson's models predicting a number (task regression).

    Settings as SheetClassifier's (its `threshold` unused). The models predict the target divided by its
    training rows' largest absolute value (the sheet's Max cell above the target); `predict` multiplies it back,
    so predictions are in the target's own unit. `score` is R², scikit-learn's regressors'. Fitted: `fitted_`.
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> "SheetRegressor":
        self.fitted_ = _fit(self, X, y, task="regression")
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return _fitted(self).predict_target(_raw_rows(X, self))



def _fit(estimator: _SheetEstimator, X: Any, y: Any, task: str | None) -> Any:
    """Train the estimator's model on raw rows X (with the target y, or X's own target column), every row training.

    `task` None is a classifier's: a binary target of 0/1 or a positive value, and classes otherwise (numbered
    classes, two text labels without a positive), as scikit-learn's classifiers take any labels."""
    from dataclasses import replace

    from ..features import target_kind, target_values

    from ._train import train_model

    schema, _ = Features(estimator.schema, missing=estimator.missing)._resolved()
    frame = _raw_rows(X, estimator)
    if y is not None:
        frame = frame.copy()
        frame[list(schema.target) if isinstance(schema.target, tuple) else schema.target] = np.asarray(y)
    if task is None and schema.task is None and isinstance(schema.target, str):
        values = target_values(frame, schema)
        kind = target_kind(schema, values)
        zero_one = values is not None and values.dropna().map(lambda v: not isinstance(v, str) and v in (0, 1)).all()
        if kind == "regression" or kind == "binary" and schema.positive is None and not zero_one:
            task = "multiclass"
    if task is not None and schema.task != task:
        schema = replace(schema, task=task)
    features = Features(schema, missing=estimator.missing)
    return train_model(
        frame, estimator._build_model(), features=features, method=estimator.method, valid_frac=None,
        seed=estimator.seed, progress=estimator.progress, **estimator._trainer_options(),
    )


def _fitted(estimator: _SheetEstimator) -> Any:
    if not hasattr(estimator, "fitted_"):
        raise TitanicNNError(f"this {type(estimator).__name__} is not fitted yet; call fit first")
    return estimator.fitted_


def _raw_rows(X: Any, estimator: Any) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise TitanicNNError(
            f"{type(estimator).__name__} takes the raw rows as a pandas DataFrame (e.g. from tn.load_titanic()), "
            f"not {type(X).__name__}"
        )
    return X
