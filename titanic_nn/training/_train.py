"""From a raw table to a FittedModel: the seeded train/validation split and `train_model`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TitanicNNError
from ..features import Features
from ..nn import Model, accuracy, mse
from ._fitted import FittedModel
from ._methods import METHODS

__all__ = ["train_valid_split", "train_model"]


def train_valid_split(n_rows: int, valid_frac: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train_idx, valid_idx), each sorted, from a seeded random permutation of range(n_rows).

    round(n_rows * valid_frac) rows go to validation; both sides must keep at least one row.
    """
    n_rows = int(n_rows)
    if not (isinstance(valid_frac, (int, float)) and 0.0 < valid_frac < 1.0):
        raise TitanicNNError(f"valid_frac must be a fraction between 0 and 1 (exclusive), not {valid_frac!r}")
    n_valid = int(round(n_rows * valid_frac))
    if n_valid < 1 or n_valid > n_rows - 1:
        raise TitanicNNError(
            f"a validation fraction of {valid_frac:g} of {n_rows} rows leaves "
            f"{'no validation rows' if n_valid < 1 else 'no training rows'}; use more rows or another valid_frac"
        )
    order = np.random.default_rng(seed).permutation(n_rows)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def train_model(
    frame: pd.DataFrame,
    model: Model,
    *,
    features: Features | None = None,
    method: str = "solver",
    valid_frac: float | None = 0.2,
    seed: int = 0,
    progress: bool = False,
    **trainer_options: Any,
) -> FittedModel:
    """Fit `features` (default `Features()`) on `frame`, split the kept rows, train `model` and record it all.

    method "solver" calls `fit_solver`, "gd" calls `fit_gd`, with `seed`, `progress` and
    `trainer_options` passed on (e.g. lr=, epochs=, restarts=). valid_frac=None trains on every kept row.
    `FittedModel.training` gets plain JSON-able values: method, settings, loss, train_loss,
    valid_loss, train_mse, valid_mse, train_accuracy, valid_accuracy (accuracy at 0.5), seconds,
    device, start_losses, the split, history (gd: loss per epoch) or iterations/nfev/converged (solver).
    """
    from ._gd import fit_gd
    from ._solver import fit_solver

    if method not in METHODS:
        raise TitanicNNError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    features = Features() if features is None else features
    X, y = features.fit_transform(frame)
    if valid_frac is None:
        train_idx, valid_idx = np.arange(len(X)), np.arange(0)
    else:
        train_idx, valid_idx = train_valid_split(len(X), valid_frac, seed)
    valid = (X[valid_idx], y[valid_idx]) if len(valid_idx) else None
    trainer = {"solver": fit_solver, "gd": fit_gd}[method]
    result = trainer(model, X[train_idx], y[train_idx], seed=seed, progress=progress, valid=valid, **trainer_options)

    record = result.record()
    loss_fn = model.loss_op.mean
    train_pred = model.predict(X[train_idx], result.params)
    record.update(
        loss_name=model.loss_name,
        train_loss=float(loss_fn(train_pred, y[train_idx])),
        train_mse=mse(train_pred, y[train_idx]),
        train_accuracy=accuracy(train_pred, y[train_idx]),
        split={"valid_frac": valid_frac, "seed": int(seed), "n_train": int(len(train_idx)), "n_valid": int(len(valid_idx))},
    )
    if valid is not None:
        valid_pred = model.predict(valid[0], result.params)
        record.update(
            valid_loss=float(loss_fn(valid_pred, valid[1])),
            valid_mse=mse(valid_pred, valid[1]),
            valid_accuracy=accuracy(valid_pred, valid[1]),
        )
    else:
        record.update(valid_loss=None, valid_mse=None, valid_accuracy=None)
    for key, value in record.items():
        if isinstance(value, float) and not math.isfinite(value):
            record[key] = None  # JSON has no NaN; never expected, since trainers refuse non-finite losses
    return FittedModel(features, model, result.params, training=record)
