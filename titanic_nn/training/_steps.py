"""Gradient descent one full-batch step at a time, in float64 numpy: what a training sheet's epochs must equal.

`fit_gd` runs the same updates in torch, many starts at once; a training sheet writes them as formulas.
These give every number of every epoch, from a start or from an epoch's own parameters and state, so
the sheet can be written with Python's values and each of its steps checked against Python's step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..nn import Model
from ._descent import Descent, as_descent
from ._objective import Objective
from ._optimizers import Optimizer

__all__ = ["Epoch", "Stepper"]


@dataclass
class Epoch:
    """One epoch: its parameters (the program's arrays), their loss and gradients, then the optimiser's
    new state arrays and the next epoch's parameters. `number` counts from 1; `rate` and `momentum` are the
    schedule's for this epoch (momentum None where nothing schedules it)."""

    number: int
    params: list[np.ndarray]
    loss: float
    grads: list[np.ndarray]
    states: list[dict[str, np.ndarray]]
    next_params: list[np.ndarray]
    rate: float = 0.0
    momentum: float | None = None


class Stepper:
    """The loss, gradient and update of `model` on (X, y) under `rule` (an Optimizer, or a Descent: its schedule and
    weight decay too), one start, in float64 numpy."""

    def __init__(self, model: Model, X: Any, y: Any, rule: Optimizer | Descent) -> None:
        self.model = model
        self.descent = as_descent(rule)
        self.optimizer = self.descent.optimizer
        X = np.asarray(X, dtype=np.float64)
        self.objective = Objective(model, X, np.asarray(y, dtype=np.float64))
        self.masks = model.decay_masks(X.shape[1])

    def zero_states(self, params: Sequence[np.ndarray]) -> list[dict[str, np.ndarray]]:
        return [{name: np.zeros_like(p) for name in self.optimizer.states} for p in params]

    def step(self, number: int, params: Sequence[np.ndarray], states: Sequence[dict[str, np.ndarray]]) -> Epoch:
        """Epoch `number` from its parameters and the optimiser's state before it."""
        params = [np.asarray(p, dtype=np.float64) for p in params]
        loss, grads = self.objective.loss_and_grad([p[None] for p in params])
        grads = [np.asarray(g[0], dtype=np.float64) for g in grads]
        next_params, new_states = [], []
        rule = self.descent.at(number)
        for param, grad, state, mask in zip(params, grads, states, self.masks):
            new, state = self.descent.step(rule, param, grad, state, number, mask)
            next_params.append(np.asarray(new, dtype=np.float64))
            new_states.append({k: np.asarray(v, dtype=np.float64) for k, v in state.items()})
        scheduled = self.descent.schedule.momentum(number, self.descent.steps)
        momentum = scheduled if rule.MOMENTUM is not None else None
        return Epoch(number, params, float(loss[0]), grads, new_states, next_params, float(rule.lr), momentum)

    def run(self, start: Sequence[np.ndarray], epochs: int) -> list[Epoch]:
        """Every epoch from `start`: epochs 1 .. `epochs`."""
        history, params, states = [], list(start), self.zero_states(start)
        for number in range(1, epochs + 1):
            epoch = self.step(number, params, states)
            history.append(epoch)
            params, states = epoch.next_params, epoch.states
        return history
