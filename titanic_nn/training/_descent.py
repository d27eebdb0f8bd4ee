"""One step of gradient descent as fastai takes it: decoupled weight decay, then the optimiser at the scheduled rate.

`fit_gd`, the float64 Stepper and a training sheet's formulas all follow this one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Mapping

from .. import excel
from .._constraints import EPOCHS, WD
from ._optimizers import Optimizer, make_optimizer
from ._schedules import Constant, Schedule, make_schedule

__all__ = ["Descent", "as_descent", "trained_wd"]


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
    LABELS: ClassVar[dict[str, str]] = {"wd": "Weight decay:"}

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

    # -- the same step on a training sheet ------------------------------------------------------------

    @property
    def moves_momentum(self) -> bool:
        """Whether the schedule sets each step's momentum (and the optimiser has one to set)."""
        return self.optimizer.MOMENTUM is not None and self.schedule.momentum(1, self.steps) is not None

    def settings(self) -> dict[str, float]:
        """The sheet's input cells, the learning rate first: the optimiser's settings less the one the schedule moves,
        wd where it decays, then the schedule's (its momentums only where the optimiser has a momentum)."""
        moved = self.optimizer.MOMENTUM if self.moves_momentum else None
        found = {name: value for name, value in self.optimizer.settings().items() if name != moved}
        if self.wd:
            found["wd"] = float(self.wd)
        unused = () if self.moves_momentum else self.schedule.MOMENTUM_SETTINGS
        return found | {name: value for name, value in self.schedule.settings().items() if name not in unused}

    def label(self, name: str) -> str:
        for labels in (type(self.optimizer).LABELS, self.LABELS, self.schedule.LABELS):
            if name in labels:
                return labels[name]
        return name

    @classmethod
    def from_settings(cls, optimizer: str, schedule: str | None, steps: int, values: Mapping[str, Any]) -> "Descent":
        """The descent whose `settings()` are `values` (a sheet's cells as they are now, or a description's record)."""
        values = dict(values)
        lr = values.pop("lr", 0.01)  # each value's type and range are checked by the class that takes it
        return cls(make_optimizer(optimizer, lr, **values), steps, make_schedule(schedule, values), values.get("wd", 0.0))

    def excel_decayed(self, param: str, mask_grid: Any, rate: str, wd: str | None) -> str:
        """`param` (a block's reference) after the decay of step whose rate is in `rate`, as the block's formula
        reads it; `mask_grid` is its mask laid out as the block (a constant array where it decays in part)."""
        if not self.wd or wd is None or not mask_grid.any():
            return param
        if mask_grid.all():
            return f"({param}*(1-{rate}*{wd}))"
        return f"({param}*(1-{rate}*{wd}*{excel.array_constant(mask_grid)}))"


def trained_wd(record: Any) -> float:
    """The weight decay a training record says its model trained with, by either trainer (0: none, or none readable)."""
    settings = record.get("settings") if isinstance(record, dict) else None
    wd = settings.get("wd") if isinstance(settings, dict) else None
    return float(wd) if isinstance(wd, (int, float)) and not isinstance(wd, bool) and WD.problem(wd) is None else 0.0


def as_descent(rule: Optimizer | Descent, steps: int = 1) -> Descent:
    """A Descent as it is; an Optimizer as a constant-rate descent without decay."""
    return rule if isinstance(rule, Descent) else Descent(rule, steps)
