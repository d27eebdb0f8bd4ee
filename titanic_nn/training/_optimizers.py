"""The optimisers of gradient descent: each one's update in numpy and torch and the same update as Excel formulas.

`fit_gd` steps with these, and a workbook's training sheet writes each epoch's update with their
`excel` text, so Python and the sheet run the identical algorithm: full batch, the lesson's plain
`w -= lr * grad`, heavy-ball momentum, Adam with its bias corrections, or RMSprop (fastai's: a running
mean of the squared gradient, no mean of the gradient, no correction).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping

from .. import excel
from .._constraints import CONSTRAINTS
from ..errors import TitanicNNError

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "RMSprop", "OPTIMIZERS", "make_optimizer"]


def _sqrt(values: Any) -> Any:
    return values.sqrt() if hasattr(values, "sqrt") else values**0.5


@dataclass(frozen=True)
class Optimizer:
    """An update rule: `lr` and its settings; `states` name the arrays it keeps per parameter (zeros at first).

    `step(param, grad, state, t)` is update t (1, 2, ...) in numpy or torch, returning the new
    parameter and state; `excel(...)` writes the same update as formulas over cell references.
    """

    lr: float
    name: ClassVar[str]
    states: ClassVar[tuple[str, ...]] = ()
    # the setting a schedule's momentum moves (fastai's `mom`: heavy-ball momentum, Adam's beta1); None: it has none
    MOMENTUM: ClassVar[str | None] = None
    # how the sheet labels each setting
    LABELS: ClassVar[dict[str, str]] = {}

    def __post_init__(self) -> None:
        for field in fields(self):
            CONSTRAINTS[field.name].check(getattr(self, field.name), field.name)

    def settings(self) -> dict[str, float]:
        """Every setting, the learning rate first: the sheet's input cells."""
        return {field.name: float(getattr(self, field.name)) for field in fields(self)}

    def step(self, param: Any, grad: Any, state: Mapping[str, Any], t: int) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    # -- the same update in the sheet: the new states first (they sit in cells), then the parameter --

    def excel_states(self, grad: str, state: Mapping[str, str], cells: Mapping[str, str]) -> dict[str, str]:
        """Each new state's formula, from references to the gradient, the old states and the settings' cells."""
        return {}

    def excel_param(self, param: str, grad: str, new: Mapping[str, str], t: str, cells: Mapping[str, str]) -> str:
        """The new parameter's formula, from references to it, its gradient, the new states and update number t."""
        raise NotImplementedError


@dataclass(frozen=True)
class SGD(Optimizer):
    """The lesson's loop: param -= lr * grad."""

    name: ClassVar[str] = "sgd"
    LABELS: ClassVar[dict[str, str]] = {"lr": "Learning rate:"}

    def step(self, param: Any, grad: Any, state: Mapping[str, Any], t: int) -> tuple[Any, dict[str, Any]]:
        return param - self.lr * grad, {}

    def excel_param(self, param, grad, new, t, cells):  # type: ignore[override]
        return f"{param}-{cells['lr']}*{grad}"


@dataclass(frozen=True)
class Momentum(Optimizer):
    """Heavy-ball momentum: velocity = momentum * velocity + grad; param -= lr * velocity."""

    momentum: float = 0.9
    name: ClassVar[str] = "momentum"
    MOMENTUM: ClassVar[str | None] = "momentum"
    states: ClassVar[tuple[str, ...]] = ("velocity",)
    LABELS: ClassVar[dict[str, str]] = {"lr": "Learning rate:", "momentum": "Momentum:"}

    def step(self, param: Any, grad: Any, state: Mapping[str, Any], t: int) -> tuple[Any, dict[str, Any]]:
        velocity = state["velocity"] * self.momentum + grad
        return param - self.lr * velocity, {"velocity": velocity}

    def excel_states(self, grad, state, cells):  # type: ignore[override]
        return {"velocity": f"{state['velocity']}*{cells['momentum']}+{grad}"}

    def excel_param(self, param, grad, new, t, cells):  # type: ignore[override]
        return f"{param}-{cells['lr']}*{new['velocity']}"


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam: m and v, the running means of the gradient and its square, corrected for their zero start."""

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    name: ClassVar[str] = "adam"
    MOMENTUM: ClassVar[str | None] = "beta1"
    states: ClassVar[tuple[str, ...]] = ("m", "v")
    LABELS: ClassVar[dict[str, str]] = {"lr": "Learning rate:", "beta1": "Beta1:", "beta2": "Beta2:", "eps": "Epsilon:"}
    # v's corrected mean below this counts as 0 before its square root, in Python as in the sheet: LibreOffice's SQRT
    # of a denormal is #VALUE! (its root, 1e-150 at most, is nothing beside eps)
    SMALLEST: ClassVar[float] = 1e-300
    SMALLEST_TEXT: ClassVar[str] = "10^-300"

    def step(self, param: Any, grad: Any, state: Mapping[str, Any], t: int) -> tuple[Any, dict[str, Any]]:
        m = state["m"] * self.beta1 + (1.0 - self.beta1) * grad
        v = state["v"] * self.beta2 + (1.0 - self.beta2) * (grad * grad)
        correction1, correction2 = 1.0 - self.beta1**t, 1.0 - self.beta2**t
        corrected = v / correction2
        corrected = corrected * (corrected >= self.SMALLEST)  # as the sheet: a denormal's root is #VALUE! in LibreOffice
        return param - (self.lr / correction1) * (m / (_sqrt(corrected) + self.eps)), {"m": m, "v": v}

    def excel_states(self, grad, state, cells):  # type: ignore[override]
        b1, b2 = cells["beta1"], cells["beta2"]
        return {"m": f"{state['m']}*{b1}+(1-{b1})*{grad}", "v": f"{state['v']}*{b2}+(1-{b2})*({grad}*{grad})"}

    def excel_param(self, param, grad, new, t, cells):  # type: ignore[override]
        b1, b2, eps, lr = cells["beta1"], cells["beta2"], cells["eps"], cells["lr"]
        corrected = f"{new['v']}/(1-{b2}^{t})"
        root = excel.SQRT(excel.IF(f"{corrected}<{self.SMALLEST_TEXT}", 0, corrected))
        return f"{param}-({lr}/(1-{b1}^{t}))*({new['m']}/({root}+{eps}))"


@dataclass(frozen=True)
class RMSprop(Optimizer):
    """RMSprop with fastai's defaults: v, the running mean of the squared gradient (beta2, fastai's sqr_mom 0.99),
    and param -= lr * grad / (sqrt(v) + eps), eps 1e-8; no mean of the gradient and no correction of v's zero start."""

    beta2: float = 0.99
    eps: float = 1e-8
    name: ClassVar[str] = "rmsprop"
    states: ClassVar[tuple[str, ...]] = ("v",)
    LABELS: ClassVar[dict[str, str]] = {"lr": "Learning rate:", "beta2": "Beta2 (sqr_mom):", "eps": "Epsilon:"}

    def step(self, param: Any, grad: Any, state: Mapping[str, Any], t: int) -> tuple[Any, dict[str, Any]]:
        v = state["v"] * self.beta2 + (1.0 - self.beta2) * (grad * grad)
        kept = v * (v >= Adam.SMALLEST)  # as Adam's, and as the sheet: a denormal's root is #VALUE! in LibreOffice
        return param - self.lr * (grad / (_sqrt(kept) + self.eps)), {"v": v}

    def excel_states(self, grad, state, cells):  # type: ignore[override]
        b2 = cells["beta2"]
        return {"v": f"{state['v']}*{b2}+(1-{b2})*({grad}*{grad})"}

    def excel_param(self, param, grad, new, t, cells):  # type: ignore[override]
        root = excel.SQRT(excel.IF(f"{new['v']}<{Adam.SMALLEST_TEXT}", 0, new["v"]))
        return f"{param}-{cells['lr']}*({grad}/({root}+{cells['eps']}))"


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, Momentum, Adam, RMSprop)}


def make_optimizer(name: str, lr: float, **settings: Any) -> Optimizer:
    """The optimiser `name` with `lr` and those of `settings` it takes (momentum; beta1, beta2, eps)."""
    if name not in OPTIMIZERS:
        raise TitanicNNError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {name!r}")
    cls = OPTIMIZERS[name]
    taken = {f.name for f in fields(cls)}
    return cls(lr=lr, **{k: v for k, v in settings.items() if k in taken and v is not None})
