"""One step of gradient descent as fastai takes it: decoupled weight decay, then the optimiser at the step's scheduled
rate and momentum; the one rule `fit_gd`, the float64 Stepper and a training sheet's formulas all follow."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .._constraints import EPOCHS, WD
from ._optimizers import Optimizer
from ._schedules import Constant, Schedule

__all__ = ["Descent", "as_descent"]


@dataclass(frozen=True)
class Descent:
    """`optimizer` over `steps` steps under `schedule`, with weight decay `wd` (0: none).

    Step t first scales each decayed weight by 1 - lr_t * wd (fastai's true weight decay, "applied before the step",
    lr_t the step's scheduled rate; which entries decay is each parameter's mask, `Model.decay_masks`), then takes
    the optimiser's step at lr_t and, where the schedule moves it, the step's momentum (Momentum's `momentum`, Adam's
    `beta1`) from the gradient computed before the decay.
    """

    optimizer: Optimizer
    steps: int = 1
    schedule: Schedule = field(default_factory=Constant)
    wd: float = 0.0

    def __post_init__(self) -> None:
        EPOCHS.check(self.steps, "steps")
        WD.check(self.wd)

    @property
    def name(self) -> str:
        return self.optimizer.name

    @property
    def states(self) -> tuple[str, ...]:
        return self.optimizer.states

    def at(self, step: int) -> Optimizer:
        """The optimiser as step `step` (1, 2, ...) runs it: at the schedule's rate and momentum."""
        if not self.schedule.varies:
            return self.optimizer
        changes: dict[str, float] = {"lr": self.schedule.rate(self.optimizer.lr, step, self.steps)}
        momentum = self.schedule.momentum(step, self.steps)
        if momentum is not None and self.optimizer.MOMENTUM is not None:
            changes[self.optimizer.MOMENTUM] = momentum
        return replace(self.optimizer, **changes)

    def decayed(self, param: Any, mask: Any, lr: float) -> Any:
        """param * (1 - lr * wd) where `mask` is 1, unchanged where it is 0 (and everywhere without decay)."""
        if not self.wd:
            return param
        return param * (1.0 - lr * self.wd * mask)

    def step(self, rule: Optimizer, param: Any, grad: Any, state: Any, t: int, mask: Any) -> tuple[Any, dict[str, Any]]:
        """Step t of one parameter array under `rule` (`at(t)`, taken once per step for all arrays)."""
        return rule.step(self.decayed(param, mask, rule.lr), grad, state, t)

    def record(self) -> dict[str, Any]:
        """Its settings beside the optimiser's in a training record: wd, the schedule's name and settings."""
        return {"wd": float(self.wd), **self.schedule.record()}


def as_descent(rule: Optimizer | Descent, steps: int = 1) -> Descent:
    """A Descent as it is; an Optimizer as a constant-rate descent without decay."""
    return rule if isinstance(rule, Descent) else Descent(rule, steps)
