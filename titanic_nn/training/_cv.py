"""Repeated k-fold cross-validation, folds chosen by the target's kind; each fold's features and model learned from the others."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from .._constraints import FOLDS, REPEATS, SEED
from ..errors import TitanicNNError
from ..features import SCORE_LABELS, TARGETS, Features, Schema, target_of, target_values
from ..nn import Model

__all__ = ["stratified_folds", "plain_folds", "folds_for", "STRATIFIED_KINDS", "cross_validate", "CVResult"]

# The target kinds whose folds are stratified by class (`stratified_folds`); every other kind's are `plain_folds`.
STRATIFIED_KINDS = frozenset(kind for kind, target in TARGETS.items() if target.classes)


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


def plain_folds(n_rows: int, folds: int = 10, repeats: int = 5, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(training positions, held-out positions) of each fold of each repeat of plain k-fold: `stratified_folds`' rule
    with every row of one class, so every row is shuffled (repeat r by seed + r) and dealt round-robin to the folds."""
    return stratified_folds(np.zeros(int(n_rows), dtype=np.int64), folds, repeats, seed)


def folds_for(kind: str, y: Any, folds: int = 10, repeats: int = 5, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The folds of a target of `kind` (a `features.TARGETS` key) holding `y`: stratified by its values for a kind of
    classes (`STRATIFIED_KINDS`), plain k-fold for any other (a regression target's numbers are not classes)."""
    if kind in STRATIFIED_KINDS:
        return stratified_folds(y, folds, repeats, seed)
    return plain_folds(len(np.asarray(y)), folds, repeats, seed)


@dataclass
class CVResult:
    """Each fold's held-out score, in order (repeat by repeat): `scores` of the target's first metric (`metric`:
    accuracy for a binary target, RMSE for a regression one), with their mean and standard deviation, and the target's
    other metrics' in `other_scores` (a regression target's MAE and R²). `accuracies` is a binary target's `scores`."""

    scores: list[float] = field(default_factory=list)
    metric: str = "accuracy"
    other_scores: dict[str, list[float]] = field(default_factory=dict)

    @property
    def accuracies(self) -> list[float]:
        if self.metric != "accuracy":
            raise AttributeError(f"a cross-validation scored by {self.metric} has no accuracies; read scores")
        return self.scores

    def scores_of(self, metric: str) -> list[float]:
        """Each fold's score of `metric`: the first metric's or one of `other_scores`."""
        return self.scores if metric == self.metric else self.other_scores[metric]

    def mean_of(self, metric: str) -> float:
        return float(np.mean(self.scores_of(metric)))

    def std_of(self, metric: str) -> float:
        return float(np.std(self.scores_of(metric)))

    @property
    def mean(self) -> float:
        return self.mean_of(self.metric)

    @property
    def std(self) -> float:
        return self.std_of(self.metric)

    def __str__(self) -> str:
        label = "" if self.metric == "accuracy" else f"{SCORE_LABELS.get(self.metric, self.metric)} "
        return f"{label}{self.mean:.4f} ± {self.std:.4f} ({len(self.scores)} folds)"


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
    """The held-out scores of `model` on each fold of repeated k-fold cross-validation of `frame`.

    The folds are the target's kind's (`folds_for`): stratified for a binary target, plain for a regression one.
    For each fold, Features(`schema`) are fitted on the other folds alone: every fill, scale, level, group
    rate and a regression target's scale is learned from those training rows. The held-out rows are given
    to fit as unlabelled rows, as the test rows are (with `unlabelled`, e.g. Kaggle's test.csv, after them),
    so a count over every row counts them; their target is never read until they are scored. `model` is a
    titanic-nn Model (trained by `method` on every training row, no validation split) or a function
    (X_train, y_train, X_held_out) -> predictions (to score another library on the same features, target
    values and folds: y_train and the predictions are the model's values, a regression target divided by its
    scale). Each fold is scored by every metric of the target (`Target.score`): the first (`CVResult.metric`)
    is accuracy at 0.5 for a binary target, as the sheet's IF(pred>0.5,1,0), and RMSE for a regression one.
    """
    from ._train import train_model

    schema_ = schema if schema is not None else "sheet"
    resolved = Features(schema_, missing=missing)._resolved()[0]
    values = target_values(frame, resolved)
    target = target_of(resolved, values)  # its kind chooses the folds; every fold's own is fitted on its rows
    first, *others = target.metrics
    result = CVResult(metric=first, other_scores={key: [] for key in others})
    for train_rows, held_rows in folds_for(target.kind, values.to_numpy(), folds, repeats, seed):
        train, held = frame.iloc[train_rows], frame.iloc[held_rows]
        rest = held.drop(columns=resolved.target_columns)  # unlabelled: the fold's own labels never reach its features
        if unlabelled is not None:
            rest = pd.concat([rest, unlabelled], ignore_index=True)
        features = Features(schema_, missing=missing)
        if isinstance(model, Model):
            fitted = train_model(
                train, model, features=features, method=method, valid_frac=0, unlabelled=rest, **trainer_options
            )
            pred = fitted.predict(held)
        else:
            X, y_train = features.fit_transform(train, unlabelled=rest)
            pred = model(X, y_train, features.transform(held))
        y_held = features.target(held)
        result.scores.append(features.target_.score(first, pred, y_held))
        for key in others:
            result.other_scores[key].append(features.target_.score(key, pred, y_held))
    return result
