"""fit_solver: scipy.optimize.minimize with the exact gradient from many random starts, like Excel's Solver."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .._constraints import MAXITER, RESTARTS, SEED, WD
from ..errors import TitanicNNError, TrainingDivergedError
from ..nn import Model
from ._budget import check_work
from ._objective import Objective, final_loss
from ._progress import Progress
from ._result import DIVERGENCE_FACTOR, FitResult, check_data, check_one_member, start_seed

__all__ = ["fit_solver", "l2_penalty"]

# scipy methods that take no gradient (given one, they warn and ignore it)
GRADIENT_FREE = {"nelder-mead", "powell", "cobyla", "cobyqa"}


def fit_solver(
    model: Model,
    X: Any,
    y: Any,
    *,
    method: str | None = None,
    restarts: int | None = None,
    seed: int = 0,
    gradient: str = "numpy",
    tol: float | None = None,
    maxiter: int | None = None,
    wd: float | None = None,
    valid: tuple[Any, Any] | None = None,
    init: Any = None,
    polish: bool = True,
    progress: bool = True,
) -> FitResult:
    """Minimise the model's loss with `scipy.optimize.minimize(method=...)` from `restarts` random starts.

    Start k is `model.init(n, start_seed(seed, k))` (or `init`, one start). The gradient is exact: derived by
    hand in float64 numpy (gradient="numpy", the default) or by torch autograd in float64
    (gradient="autograd"). The best start is kept; the result records its loss, iterations, function
    evaluations, whether scipy reported convergence, and every start's final loss. With `polish` (the
    default) a gradient method other than L-BFGS-B has its kept start finished by L-BFGS-B, so the
    result is a local minimum whichever method screened the starts. A NaN or infinite
    loss, or a kept start ending above 10 times its initial loss, raises TrainingDivergedError.

    wd (0, the default: none) minimises the loss plus weight decay's L2 form, wd/2 * sum(w^2) over the decayed
    weights (biases are not; `Model.decay_masks`), whose gradient wd * w is what decoupled decay subtracts in
    plain gradient descent. The result's `loss` is the loss alone, as the model sheet's loss cell holds it.
    """
    from scipy.optimize import minimize

    started = time.perf_counter()
    X, y = check_data(X, y)
    n_features = X.shape[1]
    check_one_member(model)
    # Each model class carries its tuned defaults (docs/trainers.md): one L-BFGS-B start for a linear
    # model, whose loss has one minimum; TNC from 20 starts for the nets, whose many local minima TNC
    # escapes 5x as often as L-BFGS-B from the same starts.
    defaults = model.solver_defaults
    method = defaults["method"] if method is None else str(method)
    restarts = RESTARTS.check(defaults["restarts"] if restarts is None else restarts)
    SEED.check(seed)
    if maxiter is not None:
        MAXITER.check(maxiter)
    wd = float(WD.check(0.0 if wd is None else wd))
    if gradient not in ("numpy", "autograd"):
        raise TitanicNNError(f"gradient must be 'numpy' or 'autograd', not {gradient!r}")
    if init is not None:
        restarts = 1
    check_work(model, len(X), n_features, "solver", method=method, restarts=restarts, maxiter=maxiter)
    settings: dict[str, Any] = {
        "method": method, "restarts": restarts, "seed": int(seed), "gradient": gradient, "polish": bool(polish), "wd": wd,
    }
    if tol is not None:
        settings["tol"] = tol
    if maxiter is not None:
        settings["maxiter"] = maxiter

    objective = _flat_objective(model, X, y, gradient, wd)
    uses_gradient = method.lower() not in GRADIENT_FREE
    options = _options(method, maxiter)

    starts = [init] if init is not None else [model.init(n_features, seed=start_seed(seed, k)) for k in range(restarts)]
    flats = [model.flatten(s) for s in starts]
    expected = model.n_params(n_features)
    if flats[0].size != expected:
        raise TitanicNNError(f"init: {model!r} on {n_features} features needs {expected} parameters, got {flats[0].size}")

    outcomes = []
    with Progress(restarts, label="solver starts", enabled=progress) as bar:
        for k, x0 in enumerate(flats):
            initial = objective(x0)[0]
            if not math.isfinite(initial):
                raise TrainingDivergedError(
                    f"the solver's start {k + 1} has a NaN or infinite loss before any iteration; "
                    "rescale the inputs (Features normalises them) or use another seed"
                )
            fun = objective if uses_gradient else (lambda x: objective(x)[0])
            try:
                outcome = minimize(fun, x0, jac=uses_gradient, method=method, tol=tol, options=options)
            except ValueError as exc:
                if "Unknown solver" in str(exc):
                    raise TitanicNNError(f"scipy.optimize.minimize has no method {method!r}; try 'L-BFGS-B' or 'BFGS'") from exc
                raise
            if not math.isfinite(float(outcome.fun)) or not np.isfinite(outcome.x).all():
                raise TrainingDivergedError(
                    f"the solver diverged: the loss became NaN or infinite by iteration {outcome.get('nit', '?')} "
                    f"of start {k + 1}; try method='L-BFGS-B' or rescale the inputs"
                )
            outcomes.append((outcome, initial))
            bar.update(k + 1, loss=min(float(o.fun) for o, _ in outcomes))

    start_losses = [float(o.fun) for o, _ in outcomes]
    best = int(np.argmin(start_losses))
    outcome, initial = outcomes[best]
    if polish and uses_gradient and method.lower() != "l-bfgs-b":
        outcome = _polished(objective, outcome, tol, maxiter)
    params = model.unflatten(outcome.x, n_features)
    loss = final_loss(model, X, y, params)
    if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * initial:
        raise TrainingDivergedError(
            f"the solver diverged: the loss went from {initial:.4g} to {loss:.4g} by iteration "
            f"{outcome.get('nit', '?')}; try method='L-BFGS-B' or rescale the inputs"
        )
    valid_loss = None
    if valid is not None:
        X_valid, y_valid = check_data(*valid, source="validation data")
        valid_loss = final_loss(model, X_valid, y_valid, params)
    nit = outcome.get("nit")
    return FitResult(
        params=params,
        loss=loss,
        method="solver",
        settings=settings,
        start_losses=start_losses,
        best_start=best,
        seconds=time.perf_counter() - started,
        device="cpu",
        valid_loss=valid_loss,
        iterations=None if nit is None else int(nit),
        nfev=int(outcome.get("nfev", 0)),
        converged=bool(outcome.success),
        message=str(outcome.get("message", "")),
    )


def _options(method: str, maxiter: int | None) -> dict[str, int]:
    if maxiter is None:
        return {}
    # TNC counts its budget in function evaluations and ignores "maxiter"
    return {"maxfun" if method.lower() == "tnc" else "maxiter": int(maxiter)}


def _polished(objective: Any, outcome: Any, tol: float | None, maxiter: int | None) -> Any:
    """The kept start finished by L-BFGS-B: TNC can stop on a flat stretch short of the minimum."""
    from scipy.optimize import minimize

    finished = minimize(objective, outcome.x, jac=True, method="L-BFGS-B", tol=tol, options=_options("L-BFGS-B", maxiter))
    if not np.isfinite(finished.x).all() or not float(finished.fun) <= float(outcome.fun):
        return outcome
    finished.nit = int(outcome.get("nit", 0)) + int(finished.get("nit", 0))
    finished.nfev = int(outcome.get("nfev", 0)) + int(finished.get("nfev", 0))
    return finished


def l2_penalty(wd: float, arrays: Any, masks: Any) -> tuple[float, list[np.ndarray]]:
    """Weight decay's L2 form on a model's arrays: wd/2 * the sum of the decayed entries' squares, and its gradient,
    wd * w where the mask is 1 (the model sheet's penalty cell computes the same sum)."""
    value = wd / 2 * sum(float(np.sum(mask * a * a)) for a, mask in zip(arrays, masks))
    return value, [wd * mask * a for a, mask in zip(arrays, masks)]


def _flat_objective(model: Model, X: np.ndarray, y: np.ndarray, gradient: str, wd: float = 0.0):
    """loss_and_grad on one start's flat float64 vector, as scipy wants it (plus the L2 penalty of weight decay)."""
    n_features = X.shape[1]
    masks = model.decay_masks(n_features)
    if gradient == "numpy":
        inner = Objective(model, X, y, backend="numpy")

        def wrap(arrays):
            return [a[None] for a in arrays]

        def unwrap(value):
            return value
    else:
        from .._optional import import_torch

        torch = import_torch("the solver's gradient='autograd'")
        inner = Objective(model, X, y, backend="torch", gradient="autograd", dtype=torch.float64)

        def wrap(arrays):
            return [torch.as_tensor(a[None], dtype=torch.float64) for a in arrays]

        def unwrap(value):
            return value.detach().numpy()

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        arrays = model.arrays(model.unflatten(flat, n_features))
        loss, grads = inner.loss_and_grad(wrap(arrays))
        grads = [np.asarray(unwrap(g), dtype=np.float64)[0] for g in grads]
        value = float(np.asarray(unwrap(loss))[0])
        if wd:
            penalty, penalty_grads = l2_penalty(wd, arrays, masks)
            value, grads = value + penalty, [g + p for g, p in zip(grads, penalty_grads)]
        return value, np.concatenate([g.reshape(-1) for g in grads])

    return objective
