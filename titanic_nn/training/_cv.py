"""Repeated stratified k-fold cross-validation: each fold's features and model learned from the other folds only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .._constraints import FOLDS, REPEATS, SEED
from ..errors import TitanicNNError
from ..features import Features, Schema
from ..nn import Model

__all__ = ["stratified_folds", "cross_validate", "CVResult"]


def stratified_folds(y: Any, folds: int = 10, repeats: int = 5, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(training positions, held-out positions) of each fold of each repeat.

    Each class's rows are shuffled (repeat r by seed + r) and dealt round-robin to the folds, so every
    fold holds each class in about its share of the rows.
    """
    y = np.asarray(y)
    FOLDS.check(folds)
    REPEATS.check(repeats)
    SEED.check(seed)
    if len(y) < folds:
        raise TitanicNNError(f"{len(y)} rows cannot be split into {folds} folds")
    for repeat in range(repeats):
        rng = np.random.default_rng(seed + repeat)
        fold_of = np.empty(len(y), dtype=np.int64)
        start = 0
        for label in np.unique(y):
            rows = rng.permutation(np.flatnonzero(y == label))
            # each class continues the round where the previous one stopped, so the folds' sizes stay even
            fold_of[rows] = (start + np.arange(len(rows))) % folds
            start = (start + len(rows)) % folds
        for k in range(folds):
            yield np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)


@dataclass
class CVResult:
    """Each fold's held-out accuracy, in order (repeat by repeat), and their mean and standard deviation."""

    accuracies: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.std:.4f} ({len(self.accuracies)} folds)"


def cross_validate(
    frame: pd.DataFrame,
    model: Model | Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    *,
    schema: Schema | str | None = None,
    missing: str | None = None,
    folds: int = 10,
    repeats: int = 5,
    seed: int = 0,
    unlabelled: pd.DataFrame | None = None,
    method: str = "solver",
    **trainer_options: Any,
) -> CVResult:
    """The held-out accuracy of `model` on each fold of repeated stratified k-fold cross-validation of `frame`.

    For each fold, Features(`schema`) are fitted on the other folds alone: every fill, scale, level and
    group rate is learned from those training rows. The held-out rows are given to fit as unlabelled
    rows, as the test rows are (with `unlabelled`, e.g. Kaggle's test.csv, after them), so a count
    over every row counts them; their target is never read until they are scored. `model` is a
    titanic-nn Model (trained by `method` on every training row, no validation split) or a function
    (X_train, y_train, X_held_out) -> predictions (to score another library on the same features and
    folds). Accuracy is at 0.5, as the sheet's IF(pred>0.5,1,0).
    """
    from ._train import train_model

    schema_ = schema if schema is not None else "sheet"
    target = Features(schema_, missing=missing)._resolved()[0].target
    y = frame[target].to_numpy()
    result = CVResult()
    for train_rows, held_rows in stratified_folds(y, folds, repeats, seed):
        train, held = frame.iloc[train_rows], frame.iloc[held_rows]
        others = held.drop(columns=[target])  # unlabelled: the fold's own labels never reach its features
        if unlabelled is not None:
            others = pd.concat([others, unlabelled], ignore_index=True)
        features = Features(schema_, missing=missing)
        if isinstance(model, Model):
            fitted = train_model(
                train, model, features=features, method=method, valid_frac=0, unlabelled=others, **trainer_options
            )
            pred = fitted.predict(held)
        else:
            X, y_train = features.fit_transform(train, unlabelled=others)
            pred = model(X, y_train, features.transform(held))
        result.accuracies.append(features.target_.accuracy(pred, features.target(held)))
    return result
