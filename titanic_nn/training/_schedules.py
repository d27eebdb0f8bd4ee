"""The learning-rate schedules of gradient descent: each step's rate and momentum in Python beside the same as Excel formulas.

`fit_gd` and a training sheet read the same rule, so each epoch of the sheet uses the rate Python used: "constant"
(every step the optimiser's own lr and momentum) or fastai's `fit_one_cycle` ("one-cycle"). Full batch, a step is an
epoch. Step k of n (1-based) sits at position (k - 1) / n, as fastai's schedulers count it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

from .. import excel
from .._constraints import CONSTRAINTS
from ..errors import TitanicNNError

__all__ = ["Schedule", "Constant", "OneCycle", "SCHEDULES", "make_schedule", "cosine", "excel_cosine"]


def cosine(start: float, end: float, t: float) -> float:
    """fastai's cosine annealing from `start` (t = 0) to `end` (t = 1)."""
    return start + (1 + math.cos(math.pi * (1 - t))) * (end - start) / 2


def excel_cosine(start: str, end: str, t: str) -> str:
    """The same annealing as a formula over references (or expressions) of start, end and t."""
    return f"{start}+(1+{excel.COS(excel.PI() + '*(1-' + t + ')')})*({end}-{start})/2"


@dataclass(frozen=True)
class Schedule:
    """A rule giving each step's learning rate and momentum from the optimiser's: Python's value and the sheet's text.

    `rate(lr, step, steps)` and `momentum(step, steps)` (None: the optimiser's own momentum, unscheduled) are the
    numbers; `excel_rate` and `excel_momentum` the formulas of the same, from the epoch's number cell and the settings'
    cells (`cells`: each of `settings()`'s names, and "lr"). A schedule whose rate is the optimiser's own (`varies`
    False) writes no rate column.
    """

    name: ClassVar[str]
    varies: ClassVar[bool] = True
    # how the sheet labels each setting
    LABELS: ClassVar[dict[str, str]] = {}
    # the settings that only shape the momentum: an optimiser without one leaves them off its sheet
    MOMENTUM_SETTINGS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for field in fields(self):
            CONSTRAINTS[field.name].check(getattr(self, field.name), field.name)

    def settings(self) -> dict[str, float]:
        """Every setting as a number: the sheet's input cells, and the description's record."""
        return {field.name: float(getattr(self, field.name)) for field in fields(self)}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "Schedule":
        """The schedule `settings()` describes (missing ones at their defaults)."""
        names = {field.name for field in fields(cls)}
        return cls(**{k: v for k, v in settings.items() if k in names})

    def rate(self, lr: float, step: int, steps: int) -> float:
        raise NotImplementedError

    def momentum(self, step: int, steps: int) -> float | None:
        return None

    def excel_rate(self, step: str, steps: int, cells: Mapping[str, str]) -> str:
        raise NotImplementedError

    def excel_momentum(self, step: str, steps: int, cells: Mapping[str, str]) -> str | None:
        return None

    def record(self) -> dict[str, Any]:
        """What a training record and a workbook's description keep of it: its name and its settings."""
        return {"schedule": self.name, **({"schedule_settings": self.settings()} if self.settings() else {})}


@dataclass(frozen=True)
class Constant(Schedule):
    """Every step at the optimiser's own learning rate and momentum: the lesson's loop."""

    name: ClassVar[str] = "constant"
    varies: ClassVar[bool] = False

    def rate(self, lr: float, step: int, steps: int) -> float:
        return lr

    def excel_rate(self, step: str, steps: int, cells: Mapping[str, str]) -> str:
        return cells["lr"]


@dataclass(frozen=True)
class OneCycle(Schedule):
    """fastai's fit_one_cycle: the rate rises by a cosine from lr/div to lr over the first pct_start of the steps, then
    falls by a cosine to lr/div_final; the momentum runs the other way, moms[0] to moms[1], then back to moms[2].

    fastai's combined scheduler: step k of n is at position pos = (k - 1) / n; the first phase holds the steps with
    pos < pct_start, at t = pos / pct_start, the second the rest, at t = (pos - pct_start) / (1 - pct_start).
    (fastai keeps the phase boundaries in float32; here they are float64, as in the sheet.)
    """

    div: float = 25.0
    div_final: float = 1e5
    pct_start: float = 0.25
    moms: tuple[float, float, float] = (0.95, 0.85, 0.95)
    name: ClassVar[str] = "one-cycle"
    LABELS: ClassVar[dict[str, str]] = {
        "div": "Div (lr/div first):", "div_final": "Div final:", "pct_start": "Pct start (rising):",
        "mom_start": "Mom start:", "mom_mid": "Mom middle:", "mom_end": "Mom end:",
    }
    MOMS: ClassVar[tuple[str, str, str]] = ("mom_start", "mom_mid", "mom_end")
    MOMENTUM_SETTINGS: ClassVar[tuple[str, ...]] = MOMS

    def __post_init__(self) -> None:
        if not isinstance(self.moms, (tuple, list)) or len(self.moms) != 3:
            raise TitanicNNError(f"moms must be three momentums (start, middle, end), not {self.moms!r}")
        for name in ("div", "div_final", "pct_start"):
            CONSTRAINTS[name].check(getattr(self, name), name)
        for name, value in zip(self.MOMS, self.moms):
            CONSTRAINTS[name].check(value, name)

    def settings(self) -> dict[str, float]:
        moms = dict(zip(self.MOMS, (float(m) for m in self.moms)))
        return {"div": float(self.div), "div_final": float(self.div_final), "pct_start": float(self.pct_start), **moms}

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "OneCycle":
        default = cls()
        moms = tuple(settings.get(name, m) for name, m in zip(cls.MOMS, default.moms))
        plain = {k: settings[k] for k in ("div", "div_final", "pct_start") if k in settings}
        return cls(**plain, moms=moms)  # type: ignore[arg-type]

    def _phase(self, step: int, steps: int, start: float, middle: float, end: float) -> float:
        pos = (step - 1) / steps
        if pos < self.pct_start:
            return cosine(start, middle, pos / self.pct_start)
        return cosine(middle, end, (pos - self.pct_start) / (1 - self.pct_start))

    def rate(self, lr: float, step: int, steps: int) -> float:
        return self._phase(step, steps, lr / self.div, lr, lr / self.div_final)

    def momentum(self, step: int, steps: int) -> float | None:
        return self._phase(step, steps, *(float(m) for m in self.moms))

    def _excel_phase(self, step: str, steps: int, start: str, middle: str, end: str, cells: Mapping[str, str]) -> str:
        pos, pct = f"({step}-1)/{steps}", cells["pct_start"]
        # IF computes only the branch taken, so neither phase's division by its width runs where that width is 0
        return excel.IF(
            f"{pos}<{pct}",
            excel_cosine(start, middle, f"{pos}/{pct}"),
            excel_cosine(middle, end, f"({pos}-{pct})/(1-{pct})"),
        )

    def excel_rate(self, step: str, steps: int, cells: Mapping[str, str]) -> str:
        lr = cells["lr"]
        return self._excel_phase(step, steps, f"{lr}/{cells['div']}", lr, f"{lr}/{cells['div_final']}", cells)

    def excel_momentum(self, step: str, steps: int, cells: Mapping[str, str]) -> str | None:
        return self._excel_phase(step, steps, *(cells[name] for name in self.MOMS), cells)


SCHEDULES: dict[str, type[Schedule]] = {cls.name: cls for cls in (Constant, OneCycle)}


def make_schedule(name: str | Schedule | None, settings: Mapping[str, Any] | None = None) -> Schedule:
    """The schedule `name` ("constant" when None), with `settings` (as `settings()` names them); a Schedule as it is."""
    if isinstance(name, Schedule):
        return name
    name = "constant" if name is None else name
    if name not in SCHEDULES:
        raise TitanicNNError(f"schedule must be one of {', '.join(SCHEDULES)}, not {name!r}")
    return SCHEDULES[name].from_settings(settings or {})
