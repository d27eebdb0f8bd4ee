"""What both trainers share around the loss: their inputs checked, their seeds, their result, divergence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._plain import json_ready
from ..errors import DataError, TitanicNNError

__all__ = ["FitResult", "check_data", "check_one_member", "start_seed", "first_blowup", "shapes_of", "DIVERGENCE_FACTOR"]

# Training diverged when the kept start ends above this many times the loss it started from.
DIVERGENCE_FACTOR = 10.0


@dataclass(repr=False)
class FitResult:
    """What a trainer returns: the best start's float64 `params` and their float64 `loss`, and a record.

    `start_losses` holds every start's final loss (the kept one is `best_start`); `history` the kept
    start's loss per epoch ("train", and "valid" when validation rows were given) for gradient
    descent; `iterations`, `nfev`, `converged` and `message` the solver's report for the kept start.
    """

    params: Any
    loss: float
    method: str
    settings: dict[str, Any]
    start_losses: list[float]
    best_start: int
    seconds: float
    device: str = "cpu"
    threads: int | None = None  # torch's CPU threads during gradient descent
    history: dict[str, list[float]] = field(default_factory=dict)
    valid_loss: float | None = None
    iterations: int | None = None
    nfev: int | None = None
    converged: bool | None = None
    message: str = ""

    def __repr__(self) -> str:
        # the parameters and the loss per epoch run to thousands of numbers: show their size instead
        parts = [f"method={self.method!r}", f"loss={self.loss:.6g}", f"params={shapes_of(self.params)}"]
        if self.valid_loss is not None:
            parts.append(f"valid_loss={self.valid_loss:.6g}")
        parts += [f"starts={len(self.start_losses)}", f"best_start={self.best_start}"]
        if self.history:
            parts.append(f"history={ {k: f'{len(v)} epochs' for k, v in self.history.items()} }")
        if self.iterations is not None:
            parts.append(f"iterations={self.iterations}")
        parts += [f"seconds={self.seconds:.3g}", f"device={self.device!r}"]
        return f"FitResult({', '.join(parts)})"

    def record(self) -> dict[str, Any]:
        """Everything but the parameters, as plain JSON-able values."""
        record: dict[str, Any] = {
            "method": self.method,
            "settings": json_ready(self.settings),
            "loss": float(self.loss),
            "start_losses": [float(v) for v in self.start_losses],
            "best_start": int(self.best_start),
            "seconds": float(self.seconds),
            "device": self.device,
        }
        if self.threads is not None:
            record["threads"] = int(self.threads)
        if self.history:
            record["history"] = {k: [float(v) for v in vs] for k, vs in self.history.items()}
        if self.valid_loss is not None:
            record["valid_loss"] = float(self.valid_loss)
        for name in ("iterations", "nfev", "converged"):
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        if self.message:
            record["message"] = self.message
        return record


def shapes_of(params: Any) -> str:
    """Parameters as a short text: "array(10, 2)", or "[array(10, 4), array(4,)]" for a list of arrays."""
    if isinstance(params, (list, tuple)):
        return "[" + ", ".join(shapes_of(p) for p in params) + "]"
    shape = np.shape(params)
    return f"array{shape}" if len(shape) != 1 else f"array({shape[0]},)"


def start_seed(seed: int, start: int) -> int:
    """The seed of random start `start` (0, 1, ...) of a run seeded `seed`.

    Drawn from numpy's SeedSequence of (seed, start), so runs with nearby seeds share no starts.
    """
    return int(np.random.SeedSequence([int(seed), int(start)]).generate_state(1)[0])


def check_one_member(model: Any) -> None:
    """A trainer trains one set of parameters: a model of several members trains member by member (`fit_members`,
    which `train_model` calls), never as one program over all their arrays."""
    if model.k != 1:
        raise TitanicNNError(
            f"{model!r} has {model.k} members, each trained on its own: train it with tn.train_model, or with "
            "titanic_nn.training.fit_members(trainer, model, X, y)"
        )


def check_data(X: Any, y: Any, *, source: str = "training data") -> tuple[np.ndarray, np.ndarray]:
    """X as a float64 (rows, features) array and y as float64 (rows,), or (rows, K) for a target of K per row (several
    classes one-hot, several labels), or a DataError saying what is wrong."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    y = y if y.ndim == 2 else y.reshape(-1)
    if X.ndim != 2:
        raise DataError(f"{source}: X must be a 2-D (rows, features) array, got shape {X.shape}")
    if len(X) == 0:
        raise DataError(f"{source}: X has no rows")
    if len(y) != len(X):
        raise DataError(f"{source}: X has {len(X)} rows but y has {len(y)} values; give one target per row")
    if not np.isfinite(X).all():
        raise DataError(f"{source}: X holds NaN or infinite values; fill or drop them (e.g. Features(missing='mode'))")
    if not np.isfinite(y).all():
        raise DataError(f"{source}: y holds NaN or infinite values; every row needs a 0 or 1 target")
    return X, y


def first_blowup(losses: Sequence[float], initial: float) -> int | None:
    """The first (0-based) position whose loss is above DIVERGENCE_FACTOR times `initial`, if any."""
    for i, value in enumerate(losses):
        if not math.isfinite(value) or value > DIVERGENCE_FACTOR * initial:
            return i
    return None
