"""The learning-rate finder: fastai's range test (a rate growing exponentially, one full-batch step each) and its valley rule.

`lr_find` trains one start, in float64 numpy through the same `Objective` and optimiser `step` as gradient descent
(training/_steps.py runs them so for the training sheets), with the rate of step i of n at
`start_lr * (end_lr / start_lr) ** (i / n)`. It records each step's loss, measured before that step's update, smoothed
as fastai's Recorder smooths it (an exponential moving average, beta 0.98, divided by `1 - beta**count`), and stops
once the smoothed loss passes 4 times the smallest seen. The suggestion is fastai's "valley" on the recorded points
less the first `num_it // 10` and the last 5. The parameters it is given are never changed: each step makes new arrays.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._constraints import LR, NUM_IT, SEED
from ..errors import TitanicNNError
from ..nn import Model
from ._budget import check_work
from ._methods import GD_DEFAULTS, LR_FIND_DEFAULTS
from ._objective import Objective
from ._optimizers import Optimizer, make_optimizer
from ._result import check_data, check_one_member, shapes_of, start_seed

__all__ = [
    "lr_find", "LRFind", "Recorder", "valley", "suggestion_index", "smoothed", "rate_at", "SMOOTH_BETA", "STOP_FACTOR",
]

# fastai's AvgSmoothLoss: the loss recorded is this exponential moving average of the steps' losses, debiased
SMOOTH_BETA = 0.98
# fastai's stop_div: the range test ends once the smoothed loss passes this many times its smallest
STOP_FACTOR = 4.0
# the points the valley rule leaves out at the end: the climb into divergence, where the loss is noise
TAIL = 5


def rate_at(step: int, num_it: int, start_lr: float, end_lr: float) -> float:
    """The learning rate of step `step` (0-based) of `num_it`: exponentially from `start_lr` toward `end_lr`."""
    return start_lr * (end_lr / start_lr) ** (step / num_it)


class Recorder:
    """What fastai's Recorder and LRFinder keep of the steps' losses: each raw loss, its smoothed value (an exponential
    moving average from 0, `beta` 0.98, divided by 1 - beta**count), and the smallest smoothed loss so far. `add`
    says when the range test ends: with `stop_div`, once the smoothed loss passes 4 times that smallest, or is not
    finite (fastai goes on through a NaN, which no later step can undo); the point that ends it is recorded."""

    def __init__(self, *, stop_div: bool = True, beta: float = SMOOTH_BETA) -> None:
        self.stop_div, self.beta = stop_div, beta
        self.raw: list[float] = []
        self.losses: list[float] = []
        self.best = math.inf
        self.stopped: str | None = None
        self._average = 0.0

    def add(self, loss: float) -> bool:
        """Record one step's loss; True when the test stops here."""
        self.raw.append(float(loss))
        self._average = self.beta * self._average + (1.0 - self.beta) * float(loss)
        smooth = self._average / (1.0 - self.beta ** len(self.raw))
        self.losses.append(smooth)
        self.best = min(self.best, smooth)
        if self.stop_div and not math.isfinite(smooth):
            self.stopped = "not finite"
        elif self.stop_div and smooth > STOP_FACTOR * self.best:
            self.stopped = "diverged"
        return self.stopped is not None


def smoothed(losses: Sequence[float], beta: float = SMOOTH_BETA) -> list[float]:
    """fastai's smoothed loss after each step of `losses` (the Recorder's, never stopping)."""
    recorder = Recorder(stop_div=False, beta=beta)
    for loss in losses:
        recorder.add(loss)
    return recorder.losses


def valley(losses: Sequence[float]) -> int | None:
    """fastai's "valley": the index, in `losses`, of the rate it suggests (None for no points).

    lds[i] is the length of the longest strictly decreasing subsequence ending at point i; the valley ends at e, the
    first point of the greatest length, and starts at s = e - lds[e] (fastai's count: one before the first point of
    the subsequence, when it starts at 0 that is -1); the suggestion is s + int(L) + int(L / 2), L = (e - s) / 3.
    Where fastai's index would be -1 (a valley of two points at the very start), Python's list would hand it the last
    point; the valley's first point, 0, is meant and taken.
    """
    n = len(losses)
    if n == 0:
        return None
    lds = [1] * n
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[end] < lds[i]:
                end, start = i, i - lds[i]
    sections = (end - start) / 3
    return max(0, start + int(sections) + int(sections / 2))


def suggestion_index(losses: Sequence[float], num_it: int) -> int | None:
    """The index, among all recorded `losses`, of the suggested rate: the valley of the points from `num_it // 10` on,
    less the last 5, cut before the first that is not finite (as fastai cuts at a NaN). None when none is left."""
    skip = num_it // 10
    kept = list(losses[skip:len(losses) - TAIL]) if len(losses) > TAIL else []
    bad = next((i for i, v in enumerate(kept) if not math.isfinite(v)), None)
    kept = kept[:bad] if bad is not None else kept
    index = valley(kept)
    return None if index is None else skip + index


@dataclass(frozen=True, repr=False)
class LRFind:
    """What `lr_find` found: each step's learning rate (`rates`), its smoothed loss (`losses`, what fastai records)
    and raw loss (`raw_losses`), the suggested rate (`suggestion`, None when the test stopped too early to suggest
    one) at `index`, why it ended (`stopped`: "num_it", "diverged" or "not finite"), and its settings."""

    rates: tuple[float, ...]
    losses: tuple[float, ...]
    raw_losses: tuple[float, ...]
    suggestion: float | None
    index: int | None
    stopped: str
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def steps(self) -> int:
        return len(self.rates)

    @property
    def suggested_loss(self) -> float | None:
        """The smoothed loss at the suggestion (where the plot marks it)."""
        return None if self.index is None else self.losses[self.index]

    def __repr__(self) -> str:
        suggestion = "None" if self.suggestion is None else f"{self.suggestion:.4g}"
        low = min((v for v in self.losses if math.isfinite(v)), default=float("nan"))
        return (
            f"LRFind(suggestion={suggestion}, steps={self.steps} of {self.settings.get('num_it')}, "
            f"rates={self.rates[0]:.3g}..{self.rates[-1]:.3g}, min_loss={low:.6g}, stopped={self.stopped!r}, "
            f"optimizer={self.settings.get('optimizer')!r})"
        )

    def plot(self, path: str | Path, *, label: str = "", config_dir: str | Path | None = None) -> bool:
        """Draw the smoothed loss against the rate (log x axis), the suggestion marked, as a PNG at `path`; False
        (nothing written) when matplotlib is not installed."""
        from ..cli import plot_lr_find  # the command line draws its pictures; matplotlib is imported only then

        return plot_lr_find({label: self}, path, config_dir=config_dir)

    def record(self) -> dict[str, Any]:
        """The suggestion and how it was found, as plain JSON values (a training record keeps it)."""
        return {
            "suggestion": self.suggestion, "steps": self.steps, "stopped": self.stopped,
            "rule": "valley", **{k: self.settings[k] for k in ("start_lr", "end_lr", "num_it", "optimizer", "seed", "n_rows")},
        }


def lr_find(
    model: Model,
    X: Any,
    y: Any,
    *,
    start_lr: float | None = None,
    end_lr: float | None = None,
    num_it: int | None = None,
    stop_div: bool = True,
    optimizer: str | Optimizer | None = None,
    momentum: float | None = None,
    betas: tuple[float, float] | None = None,
    eps: float | None = None,
    seed: int = 0,
    init: Any = None,
) -> LRFind:
    """fastai's learning-rate range test on `model` and (X, y), full batch: step i of `num_it` (100) trains one epoch
    at `start_lr * (end_lr / start_lr) ** (i / num_it)` (1e-7 to 10) with `optimizer` (fit_gd's: "adam" unless
    given, with `momentum`, `betas`, `eps` as fit_gd takes them, or an `Optimizer`, whose lr is replaced), from
    `init` or else the first random start of `seed` (the start fit_gd's start 0 is). With `stop_div` it stops once
    the smoothed loss passes 4 times its smallest, or is not finite. In float64 numpy: needs no torch. `init` is
    never changed.
    """
    started = time.perf_counter()
    X, y = check_data(X, y)
    check_one_member(model)
    start_lr = LR.check(LR_FIND_DEFAULTS["start_lr"] if start_lr is None else start_lr, "start_lr")
    end_lr = LR.check(LR_FIND_DEFAULTS["end_lr"] if end_lr is None else end_lr, "end_lr")
    if not end_lr > start_lr:
        raise TitanicNNError(f"end_lr must be above start_lr, the rate grows from one to the other: got start_lr "
                             f"{start_lr:g} and end_lr {end_lr:g}")
    num_it = NUM_IT.check(LR_FIND_DEFAULTS["num_it"] if num_it is None else num_it)
    SEED.check(seed)
    if not isinstance(stop_div, bool):
        raise TitanicNNError(f"stop_div must be True or False, not {stop_div!r}")
    if isinstance(optimizer, Optimizer):
        rule = replace(optimizer, lr=start_lr)
    else:
        beta1, beta2 = betas if betas is not None else (None, None)
        rule = make_optimizer(GD_DEFAULTS["optimizer"] if optimizer is None else optimizer, start_lr,
                              momentum=momentum, beta1=beta1, beta2=beta2, eps=eps)
    n_features = X.shape[1]
    check_work(model, len(X), n_features, "gd", epochs=num_it, restarts=1, dtype="float64")
    start = model.init(n_features, seed=start_seed(seed, 0)) if init is None else init
    expected = model.shapes(n_features)
    # copies: the caller's parameters stay as they were
    params = [np.array(a, dtype=np.float64) for a in model.arrays(start)]
    if [a.shape for a in params] != expected:
        raise TitanicNNError(
            f"init: {model!r} on {n_features} features needs parameters of shapes {expected}, got {shapes_of(params)}"
        )
    objective = Objective(model, X, y)
    batch = [p[None] for p in params]  # the objective takes a leading axis of starts: here one
    state = [{name: np.zeros_like(p) for name in rule.states} for p in batch]
    rates: list[float] = []
    recorder = Recorder(stop_div=stop_div)
    # past the valley the steps overflow on purpose; their NaN or inf is what ends the test, not a warning
    with np.errstate(all="ignore"):
        for i in range(num_it):
            rate = rate_at(i, num_it, start_lr, end_lr)
            loss, grads = objective.loss_and_grad(batch)
            rates.append(rate)
            if recorder.add(float(loss[0])):
                break
            step = replace(rule, lr=rate)
            for k, grad in enumerate(grads):
                batch[k], state[k] = step.step(batch[k], grad, state[k], i + 1)
    losses = recorder.losses
    index = suggestion_index(losses, num_it)
    settings = {"start_lr": start_lr, "end_lr": end_lr, "num_it": num_it, "stop_div": stop_div,
                "optimizer": rule.name, "seed": int(seed), "n_rows": int(len(X))}
    return LRFind(
        rates=tuple(rates), losses=tuple(losses), raw_losses=tuple(recorder.raw),
        suggestion=None if index is None else rates[index], index=index, stopped=recorder.stopped or "num_it",
        settings=settings,
        seconds=time.perf_counter() - started,
    )
