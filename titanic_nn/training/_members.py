"""Training a model member by member: one seeded training of its member per member; the model's record from theirs.

Member j is the trainer's result (its best start of its own restarts) run with seed `seed + j`, so
member 0 is exactly the model a plain run with `seed` trains, and each further member comes from
starts no other member drew (`start_seed` derives every start from the pair (seed, start)). K
seeded trainings rather than the K best starts of one run: the best starts of one run often end in
the same minimum, and a solver start is only finished (polished) when it is kept. A linear model's
loss has one minimum, so its members agree and its ensemble predicts what one member does. A model of
one member is trained once, and its record is that training's.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable

from ..nn import Model
from ._objective import final_loss
from ._result import FitResult, check_data

__all__ = ["fit_members"]


def fit_members(
    trainer: Callable[..., FitResult], model: Model, X: Any, y: Any, *, seed: int = 0,
    valid: tuple[Any, Any] | None = None, **options: Any,
) -> FitResult:
    """`trainer` (fit_solver or fit_gd) run once per member with seed `seed + j`; the result's params are the
    members' joined as the model holds them, and its loss the combined prediction's."""
    started = time.perf_counter()
    results = [trainer(model.member, X, y, seed=int(seed) + j, valid=valid, **options) for j in range(model.k)]
    if len(results) == 1:  # one member's training is the model's, its parameters as the model holds them
        return replace(results[0], params=model.join([results[0].params]))
    X, y = check_data(X, y)
    params = model.join([r.params for r in results])
    first = results[0]
    settings = dict(first.settings) | {
        "ensemble": model.k, "member_seeds": [int(seed) + j for j in range(model.k)],
        "member_losses": [float(r.loss) for r in results],
    }
    valid_loss = None
    if valid is not None:
        X_valid, y_valid = check_data(*valid, source="validation data")
        valid_loss = final_loss(model, X_valid, y_valid, params)

    def total(name: str) -> Any:
        values = [getattr(r, name) for r in results]
        return None if any(v is None for v in values) else sum(values)

    return FitResult(
        params=params,
        loss=final_loss(model, X, y, params),
        method=first.method,
        settings=settings,
        start_losses=[float(v) for r in results for v in r.start_losses],
        best_start=int(first.best_start),
        seconds=time.perf_counter() - started,
        device=first.device,
        threads=first.threads,
        history={},  # each member has its own curve; none of them is the model's
        valid_loss=valid_loss,
        iterations=total("iterations"),
        nfev=total("nfev"),
        converged=None if any(r.converged is None for r in results) else all(r.converged for r in results),
        message=first.message,
    )
