"""fit_gd: the lesson's full-batch gradient-descent loop in torch, with a schedule and weight decay, many starts at once."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from .._constraints import EPOCHS, LR, RESTARTS, SEED, THREADS, WD
from ..errors import TitanicNNError, TrainingDivergedError
from ..nn import Model
from ._budget import check_work
from ._descent import Descent
from ._device import choose_threads, resolve_device, resolve_dtype, torch_threads
from ._methods import GD_DEFAULTS, LR_FIND
from ._objective import GRADIENTS, Objective, final_loss
from ._optimizers import Optimizer, make_optimizer
from ._progress import Progress
from ._lr_find import STOP_FACTOR, TAIL, lr_find
from ._result import DIVERGENCE_FACTOR, FitResult, check_data, check_one_member, first_blowup, start_seed
from ._schedules import Schedule, make_schedule

__all__ = ["fit_gd"]

# How often (in epochs) the losses are checked for NaN and the progress bar is redrawn: each check
# waits for the device, so checking every epoch would slow a GPU down.
CHECK_EVERY = 50


def fit_gd(
    model: Model,
    X: Any,
    y: Any,
    *,
    lr: float | str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    restarts: int | None = None,
    optimizer: str | Optimizer | None = None,
    momentum: float | None = None,
    betas: tuple[float, float] | None = None,
    eps: float | None = None,
    wd: float | None = None,
    schedule: str | Schedule | None = None,
    device: str | None = "auto",
    dtype: str = "float32",
    valid: tuple[Any, Any] | None = None,
    init: Any = None,
    gradient: str = "fast",
    threads: int | None = None,
    progress: bool = True,
) -> FitResult:
    """Full-batch gradient descent on the model's loss, from `restarts` random starts; the best is kept.

    optimizer: "sgd" is the lesson's plain loop (params -= lr * grad), "momentum" adds heavy-ball
    momentum (0.9 unless given), "adam" (the default) is Adam with `betas` and `eps` (0.9, 0.999, 1e-8 unless
    given), "rmsprop" fastai's RMSprop (`betas[1]` its sqr_mom, 0.99, and eps 1e-8 unless given); or an `Optimizer`
    (training/_optimizers.py, where each update is written beside its Excel formulas).
    wd: fastai's true weight decay (0, the default: none): each epoch first scales every weight by 1 - lr_t * wd,
    lr_t that epoch's rate; biases are not decayed (each op says which of its parameter's entries decay).
    schedule: "constant" (the default, every epoch at lr) or "one-cycle" (fastai's fit_one_cycle: the rate rises from
    lr/25 to lr over the first quarter of the epochs and falls to lr/1e5, the momentum or Adam's beta1 running from
    0.95 to 0.85 and back), or a Schedule (training/_schedules.py). Start k is `model.init(n, start_seed(seed, k))`,
    unless `init` gives one start's parameters. All starts train together, batched as one tensor.
    device: "auto" takes CUDA, then Apple MPS, then the CPU; dtype "float32" (default) or "float64".
    valid=(X_valid, y_valid) records the validation loss per epoch too. gradient: "fast" (the kernel the
    program calls for), "generic" (each op's backward in turn) or "autograd" (torch autograd); all give
    the same numbers, the last two slower.
    lr="find" runs the learning-rate finder (`lr_find`, fastai's range test and valley rule) on (X, y) first, from start
    0 (or `init`) with this optimiser, and trains at its suggestion; the settings record it under "lr_find".
    threads: torch's CPU threads while training (None: one for a problem of under `SMALL_WORK`
    multiply-adds per epoch, whose threads would only wait on each other, else the caller's
    `torch.get_num_threads()`); the caller's setting is restored afterwards. Ignored on a GPU.

    The result's `loss` and `params` are float64 (the loss recomputed in numpy); `history["train"][i]`
    is the kept start's loss measured during epoch i+1, before its update. A NaN or infinite loss, or
    a kept start that ends above 10 times its initial loss, raises TrainingDivergedError.
    """
    from .._optional import import_torch

    torch = import_torch()
    started = time.perf_counter()
    X, y = check_data(X, y)
    n_features = X.shape[1]
    check_one_member(model)
    epochs = EPOCHS.check(GD_DEFAULTS["epochs"] if epochs is None else epochs)
    restarts = RESTARTS.check(GD_DEFAULTS["restarts"] if restarts is None else restarts)
    SEED.check(seed)
    if threads is not None:
        THREADS.check(threads)
    found = None
    if isinstance(lr, str) and lr == LR_FIND:
        found = _find_lr(model, X, y, optimizer, momentum, betas, eps, seed, init)
        lr = found.suggestion
        if isinstance(optimizer, Optimizer):
            optimizer = replace(optimizer, lr=lr)
    if isinstance(optimizer, Optimizer):
        rule = optimizer
    else:
        lr = LR.check(GD_DEFAULTS["lr"] if lr is None else lr)
        name = GD_DEFAULTS["optimizer"] if optimizer is None else optimizer
        beta1, beta2 = betas if betas is not None else (None, None)
        rule = make_optimizer(name, float(lr), momentum=momentum, beta1=beta1, beta2=beta2, eps=eps)
    lr = rule.lr
    descent = Descent(rule, epochs, make_schedule(schedule), WD.check(0.0 if wd is None else wd))
    if gradient not in GRADIENTS:
        raise TitanicNNError(f"gradient must be one of {', '.join(GRADIENTS)}, not {gradient!r}")
    if init is not None:
        restarts = 1
    check_work(model, len(X), n_features, "gd", epochs=epochs, restarts=restarts, dtype=dtype)
    chosen = resolve_device(device)
    if chosen.type == "cpu":
        rows = len(X) + (0 if valid is None else len(np.asarray(valid[0])))
        work = rows * model.n_params(n_features) * restarts
        threads = choose_threads(work, torch.get_num_threads()) if threads is None else threads
    else:
        threads = torch.get_num_threads()  # the GPU does the work; the CPU threads are left as they are
    torch_dtype = resolve_dtype(dtype, chosen)
    settings = {
        "optimizer": rule.name,
        "lr": lr,
        "epochs": epochs,
        "restarts": restarts,
        "seed": int(seed),
        "dtype": str(torch_dtype).replace("torch.", ""),
        "gradient": gradient,
    }
    if rule.name == "momentum":
        settings["momentum"] = rule.momentum  # type: ignore[attr-defined]
    if rule.name == "adam":
        settings["betas"] = [rule.beta1, rule.beta2]  # type: ignore[attr-defined]
        settings["eps"] = rule.eps  # type: ignore[attr-defined]
    if rule.name == "rmsprop":
        settings["beta2"] = rule.beta2  # type: ignore[attr-defined]
        settings["eps"] = rule.eps  # type: ignore[attr-defined]
    settings |= descent.record()
    if found is not None:
        settings["lr_find"] = found.record()

    starts = [model.arrays(init)] if init is not None else [
        model.arrays(model.init(n_features, seed=start_seed(seed, k))) for k in range(restarts)
    ]
    expected = model.shapes(n_features)
    if [a.shape for a in starts[0]] != expected:
        raise TitanicNNError(
            f"init: {model!r} on {n_features} features needs parameters of shapes {expected}, "
            f"got {[a.shape for a in starts[0]]}"
        )

    # torch threads spin against each other on a small problem; the caller gets its own setting back
    with torch_threads(threads):
        objective = Objective(model, X, y, backend="torch", device=chosen, dtype=torch_dtype, gradient=gradient)
        valid_objective = None
        if valid is not None:
            X_valid, y_valid = check_data(*valid, source="validation data")
            if X_valid.shape[1] != n_features:
                raise TitanicNNError(f"validation data has {X_valid.shape[1]} features but training data has {n_features}")
            valid_objective = Objective(
                model, X_valid, y_valid, backend="torch", device=chosen, dtype=torch_dtype, gradient=gradient
            )

        # the autograd reference needs autograd on; the hand-derived kernels need none of its bookkeeping
        no_autograd = torch.no_grad() if gradient == "autograd" else torch.inference_mode()
        with no_autograd, Progress(epochs, label="gd epochs", enabled=progress) as bar:
            params = [
                torch.as_tensor(np.stack([s[i] for s in starts]), dtype=torch_dtype).to(chosen)
                for i in range(len(expected))
            ]
            state = [{name: torch.zeros_like(p) for name in rule.states} for p in params]
            masks = [torch.as_tensor(m, dtype=torch_dtype).to(chosen) for m in model.decay_masks(n_features)]
            history = torch.empty((epochs, restarts), dtype=torch_dtype, device=chosen)
            valid_history = torch.empty_like(history) if valid_objective is not None else None
            checked = 0
            for epoch in range(epochs):
                loss, grads = objective.loss_and_grad(params)
                history[epoch] = loss
                if valid_objective is not None:
                    valid_history[epoch] = valid_objective.loss(params)
                step_rule = descent.at(epoch + 1)
                for i, grad in enumerate(grads):
                    params[i], state[i] = descent.step(step_rule, params[i], grad, state[i], epoch + 1, masks[i])
                if (epoch + 1) % CHECK_EVERY == 0 or epoch + 1 == epochs:
                    _check_finite(history, checked, epoch + 1, lr)
                    checked = epoch + 1
                    bar.update(epoch + 1, loss=float(history[epoch].min()))
            ends = objective.loss(params)
            ends_list = [float(v) for v in ends.cpu()]
            if not all(math.isfinite(v) for v in ends_list):
                raise _nan_error(epochs, epochs, lr)
            best = int(np.argmin(ends_list))
            arrays = [p[best].detach().cpu().to(torch.float64).numpy().copy() for p in params]
            train_history = [float(v) for v in history[:, best].cpu()]
            valid_list = [float(v) for v in valid_history[:, best].cpu()] if valid_history is not None else None

    best_params = model.from_arrays(arrays)
    loss = final_loss(model, X, y, best_params)
    if not math.isfinite(loss):
        raise _nan_error(epochs, epochs, lr)
    initial = train_history[0]
    if loss > DIVERGENCE_FACTOR * initial:
        at = first_blowup(train_history, initial)
        at = epochs if at is None else at + 1
        raise TrainingDivergedError(
            f"training diverged: the loss rose from {initial:.4g} to {loss:.4g} (above {DIVERGENCE_FACTOR:g} times "
            f"its start from epoch {at} on, lr={lr:g}); use a smaller learning rate (--lr), e.g. {lr / 10:g}"
        )
    _check_alive(model, X, best_params, train_history, loss, lr)
    history_record = {"train": train_history}
    valid_loss = None
    if valid is not None:
        history_record["valid"] = valid_list
        valid_loss = final_loss(model, X_valid, y_valid, best_params)
    return FitResult(
        params=best_params,
        loss=loss,
        method="gd",
        settings=settings,
        start_losses=ends_list,
        best_start=best,
        seconds=time.perf_counter() - started,
        device=str(chosen),
        history=history_record,
        valid_loss=valid_loss,
        iterations=epochs,
        threads=threads,
    )


def _find_lr(model: Model, X: np.ndarray, y: np.ndarray, optimizer: Any, momentum: Any, betas: Any, eps: Any, seed: int,
             init: Any) -> Any:
    """The finder's run for lr="find", or a TrainingDivergedError when it stopped too early to suggest a rate."""
    found = lr_find(model, X, y, optimizer=optimizer, momentum=momentum, betas=betas, eps=eps, seed=seed, init=init)
    if found.suggestion is None:
        num_it = found.settings["num_it"]
        why = (f"its smoothed loss passed {STOP_FACTOR:g} times its least" if found.stopped == "diverged"
               else "its loss became NaN or infinite")
        raise TrainingDivergedError(
            f"the learning-rate finder found no rate: {why} at step {found.steps} of {num_it} (lr={found.rates[-1]:.3g}), "
            f"too early for its valley rule, which leaves out the first {num_it // 10} steps and the last {TAIL}; "
            "give the learning rate (--lr)"
        )
    return found


def _nan_error(epoch: int, epochs: int, lr: float) -> TrainingDivergedError:
    return TrainingDivergedError(
        f"training diverged: the loss became NaN or infinite at epoch {epoch} of {epochs} (lr={lr:g}); "
        f"use a smaller learning rate (--lr), e.g. {lr / 10:g}"
    )


def _check_alive(model: Model, X: np.ndarray, params: Any, history: list[float], loss: float, lr: float) -> None:
    """Too large a step can switch every ReLU off for every row: the output is then constant and no
    gradient flows again. Ending so, above the starting loss, is a failure of the learning rate too."""
    if loss <= history[0]:
        return
    pred = model.predict(X, params)
    if not np.all(pred == pred[0]):
        return
    changing = [i for i in range(1, len(history)) if history[i] != history[i - 1]]
    since = changing[-1] + 1 if changing else 1
    raise TrainingDivergedError(
        f"training failed: from epoch {since} on every row gets the same prediction (every unit is off or "
        f"saturated: the net died) and the loss ended at {loss:.4g}, above its start {history[0]:.4g} (lr={lr:g}); "
        f"use a smaller learning rate (--lr), e.g. {lr / 10:g}"
    )


def _check_finite(history: Any, start: int, stop: int, lr: float) -> None:
    import torch

    chunk = history[start:stop]
    if bool(torch.isfinite(chunk).all()):
        return
    bad = (~torch.isfinite(chunk)).any(dim=1).nonzero()
    raise _nan_error(start + int(bad[0]) + 1, len(history), lr)
