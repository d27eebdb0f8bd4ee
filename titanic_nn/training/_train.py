"""From a raw table to a FittedModel: the seeded train/validation split and `train_model`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .._constraints import SEED, VALID_FRAC
from ..errors import TitanicNNError
from ..features import Features
from ..nn import Model, mse
from ._budget import check_work
from ._fitted import FittedModel
from ._methods import METHODS

__all__ = ["train_valid_split", "train_model", "train_transformed", "training_signature", "trained_alike", "valid_positions"]


def train_valid_split(n_rows: int, valid_frac: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (train_idx, valid_idx), each sorted, from a seeded random permutation of range(n_rows).

    round(n_rows * valid_frac) rows go to validation; both sides must keep at least one row, except that
    valid_frac=0 holds no row out (every row trains).
    """
    n_rows = int(n_rows)
    VALID_FRAC.check(valid_frac)
    SEED.check(seed)
    if valid_frac == 0:
        return np.arange(n_rows), np.arange(0)
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
    unlabelled: pd.DataFrame | None = None,
    **trainer_options: Any,
) -> FittedModel:
    """Fit `features` (default `Features()`) on `frame`, split the kept rows, train `model` and record it all.

    method "solver" calls `fit_solver`, "gd" calls `fit_gd`, with `seed`, `progress` and
    `trainer_options` passed on (e.g. lr=, epochs=, restarts=). valid_frac=None or 0 trains on every
    kept row (no validation). `unlabelled` (the test rows, no target) goes to `features.fit` for the ops that
    count values over every row (a ticket's frequency).
    `FittedModel.training` gets plain JSON-able values: method, settings, loss, train_loss,
    valid_loss, train_mse, valid_mse, the target's scores on each side (train_accuracy and valid_accuracy for a
    binary target, accuracy at 0.5; train_rmse, valid_rmse, _mae and _r2 for a regression target), seconds,
    device, start_losses, the split, history (gd: loss per epoch) or iterations/nfev/converged (solver).
    """
    if method not in METHODS:
        raise TitanicNNError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    features = Features() if features is None else features
    X, y = features.fit_transform(frame, unlabelled=unlabelled)
    return train_transformed(
        features, X, y, model, method=method, valid_frac=valid_frac, seed=seed, progress=progress, **trainer_options
    )


def train_transformed(
    features: Features,
    X: np.ndarray,
    y: np.ndarray,
    model: Model,
    *,
    method: str = "solver",
    valid_frac: float | None = 0.2,
    seed: int = 0,
    progress: bool = False,
    **trainer_options: Any,
) -> FittedModel:
    """`train_model` after its features are fitted: (X, y) are `features.fit_transform`'s, so several models can
    share one fit of the features (the command line's three models do)."""
    from ._gd import fit_gd
    from ._members import fit_members
    from ._solver import fit_solver

    if method not in METHODS:
        raise TitanicNNError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if valid_frac is None or valid_frac == 0:
        train_idx, valid_idx = np.arange(len(X)), np.arange(0)
    else:
        train_idx, valid_idx = train_valid_split(len(X), valid_frac, seed)
    valid = (X[valid_idx], y[valid_idx]) if len(valid_idx) else None
    model = features.model_for(model)  # a target of several classes ends the model in as many outputs
    check_work(model, len(train_idx), X.shape[1], method, **trainer_options)
    trainer = {"solver": fit_solver, "gd": fit_gd}[method]
    # a seeded training of each member (training/_members.py): one for a plain model
    result = fit_members(
        trainer, model, X[train_idx], y[train_idx], seed=seed, progress=progress, valid=valid, **trainer_options
    )

    record = result.record()
    record.update(scores(model, result.params, X, y, valid_idx, features.target_))
    # the held-out rows by position among the kept rows: the workbook marks them in its Valid column
    record["split"] = {
        "valid_frac": valid_frac, "seed": int(seed), "n_train": int(len(train_idx)), "n_valid": int(len(valid_idx)),
        "valid_rows": [int(i) for i in valid_idx],
    }
    return FittedModel(features, model, result.params, training=record)


def training_signature(model: Model, n_features: int) -> tuple[Any, ...]:
    """What training `model` depends on besides the data and the trainer's settings: its program, its arrays'
    shapes (so its random starts), its output and loss, and its solver defaults. Two models with one
    signature train to the same parameters (the lesson's nnet and mmult are one program, two layouts). A model's
    members train as its member would, seed by seed: so its signature is their count and its member's."""
    member = model.member
    return (
        model.k, member.program(), tuple(member.shapes(n_features)), member.output, member.loss_name,
        tuple(sorted(member.solver_defaults.items())), type(member).init,
    )


def trained_alike(fitted: FittedModel, model: Model) -> FittedModel:
    """`fitted`'s training as `model`'s, whose signature is the same: its parameters in `model`'s layout."""
    params = model.from_arrays(fitted.model.arrays(fitted.params))
    return FittedModel(fitted.features, model, params, training=dict(fitted.training))


def scores(model: Model, params: Any, X: np.ndarray, y: np.ndarray, valid_idx: Any, target: Any) -> dict[str, Any]:
    """loss_name and the train_/valid_ loss, mse and each of the `target`'s scores (`Target.metrics`) of `params` on
    the rows of X, `valid_idx` held out.

    The valid_ scores are None without validation rows; plain JSON values (a NaN never expected, as None).
    """
    valid = np.zeros(len(X), dtype=bool)
    valid[np.asarray(valid_idx, dtype=np.int64)] = True
    pred = model.predict(X, params)
    record: dict[str, Any] = {"loss_name": model.loss_name}
    for side, rows in (("train", ~valid), ("valid", valid)):
        if not rows.any():
            record.update({f"{side}_{key}": None for key in ("loss", "mse", *target.metrics)})
            continue
        record.update({
            f"{side}_loss": float(model.loss_op.mean(pred[rows], y[rows])),
            f"{side}_mse": mse(pred[rows], y[rows]),
            **{f"{side}_{key}": target.score(key, pred[rows], y[rows]) for key in target.metrics},
        })
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()}


def valid_positions(training: dict[str, Any], n_rows: int) -> np.ndarray:
    """The positions (among `n_rows` kept rows) of the validation rows a training record names; none without a split.

    A record written before the positions were kept is split again from its fraction and seed.
    """
    split = training.get("split") if isinstance(training, dict) else None
    if not isinstance(split, dict) or not split.get("n_valid"):
        return np.arange(0)
    if split.get("valid_rows") is not None:
        positions = np.asarray(split["valid_rows"], dtype=np.int64)
    else:
        positions = train_valid_split(n_rows, split["valid_frac"], split.get("seed", 0))[1]
    if int(split.get("n_train", 0)) + int(split["n_valid"]) != n_rows or (len(positions) and positions.max() >= n_rows):
        raise TitanicNNError(
            f"the model was split on {int(split.get('n_train', 0)) + int(split['n_valid'])} rows but {n_rows} are given; "
            "pass the training rows it was trained on"
        )
    return positions
