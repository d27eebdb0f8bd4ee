"""Training an ensemble: K seeded trainings of its member, one per member, whose predictions the ensemble averages.

Member j is the trainer's result (its best start of its own restarts) run with seed `seed + j`, so
member 0 is exactly the model a plain run with `seed` trains, and each further member comes from
starts no other member drew (`start_seed` derives every start from the pair (seed, start)). K
seeded trainings rather than the K best starts of one run: the best starts of one run often end in
the same minimum, and a solver start is only finished (polished) when it is kept. A linear model's
loss has one minimum, so its members agree and its ensemble predicts what one member does.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

from ..nn import Ensemble
from ._objective import final_loss
from ._result import FitResult, check_data

__all__ = ["fit_ensemble"]


def fit_ensemble(
    trainer: Callable[..., FitResult], model: Ensemble, X: Any, y: Any, *, seed: int = 0,
    valid: tuple[Any, Any] | None = None, **options: Any,
) -> FitResult:
    """`trainer` (fit_solver or fit_gd) run once per member with seed `seed + j`; the result's params are the K
    members' and its loss the averaged prediction's. The record keeps each member's loss (`member_losses`)."""
    started = time.perf_counter()
    X, y = check_data(X, y)
    members = [trainer(model.member, X, y, seed=int(seed) + j, valid=valid, **options) for j in range(model.k)]
    params = [m.params for m in members]
    first = members[0]
    settings = dict(first.settings) | {"ensemble": model.k, "member_seeds": [int(seed) + j for j in range(model.k)]}
    history = first.history if model.k == 1 else {}  # the members' curves differ; none of them is the ensemble's
    valid_loss = None
    if valid is not None:
        X_valid, y_valid = check_data(*valid, source="validation data")
        valid_loss = final_loss(model, X_valid, y_valid, params)
    return FitResult(
        params=params,
        loss=final_loss(model, X, y, params),
        method=first.method,
        settings=settings | {"member_losses": [float(m.loss) for m in members]},
        start_losses=[float(v) for m in members for v in m.start_losses],
        best_start=int(first.best_start),
        seconds=time.perf_counter() - started,
        device=first.device,
        threads=first.threads,
        history=history,
        valid_loss=valid_loss,
        iterations=sum(m.iterations for m in members) if all(m.iterations is not None for m in members) else None,
        nfev=sum(m.nfev for m in members) if all(m.nfev is not None for m in members) else None,
        converged=all(bool(m.converged) for m in members) if all(m.converged is not None for m in members) else None,
        message=first.message,
    )
