"""The work a training run asks of this machine, estimated before it starts, and the refusal of a run far beyond it.

Each setting has its own range (the `_constraints` vocabulary); what they ask together (starts x steps x rows x
parameters, and the memory of the parameters and activations) is bounded here, so a run that could not end in
reasonable time or memory is refused with its estimate in one line, never after minutes of training.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import TitanicNNError
from ._methods import GD_DEFAULTS

__all__ = ["Work", "estimate_work", "check_work", "WORK_LIMIT"]

# Multiply-adds a run may ask for at most: an upper bound of hours on a 2-core machine (a few GFLOP/s).
WORK_LIMIT = 1e14
# The share of the machine's memory a run may ask for.
MEMORY_SHARE = 0.8
# scipy's budgets of function evaluations: TNC's default maxfun is max(100, 10 x parameters); L-BFGS-B's is 15,000
TNC_EVALUATIONS, LBFGSB_EVALUATIONS = 10, 15_000
# scipy methods that hold a (parameters x parameters) matrix
FULL_MATRIX = {"bfgs", "newton-cg", "trust-ncg", "trust-krylov", "trust-exact", "dogleg", "trust-constr"}
# forward and backward together cost about three forward passes
PASSES = 3


@dataclass(frozen=True)
class Work:
    """An upper bound of a run's multiply-adds and bytes, and how the first was counted."""

    multiply_adds: float
    memory: float
    counted: str


def _units(member: Any, n_features: int) -> int:
    """The values a row computes: the width of every array the program's layers make."""
    return sum(shape[-1] for shape in member.shapes(n_features) if len(shape) == 2)


def estimate_work(model: Any, n_rows: int, n_features: int, trainer: str, **options: Any) -> Work:
    """An upper bound of the work of training `model` on (n_rows, n_features) by `trainer` ("solver" or "gd") with its
    `options`."""
    member, k = model.member, model.k
    per_member = member.n_params(n_features)
    units = _units(member, n_features) + n_features
    if trainer == "gd":
        restarts = options.get("restarts") or GD_DEFAULTS["restarts"]
        steps = options.get("epochs") or GD_DEFAULTS["epochs"]
        multiply_adds = k * restarts * steps * n_rows * per_member * PASSES
        # parameters, gradients and two optimiser states per start, and each start's activations, in the dtype
        itemsize = 8 if options.get("dtype") == "float64" else 4
        memory = restarts * (4 * per_member + 2 * n_rows * units) * itemsize
        counted = f"{restarts:,} starts x {steps:,} epochs"
    else:
        restarts = options.get("restarts") or member.solver_defaults["restarts"]
        solver = str(options.get("method") or member.solver_defaults["method"]).lower()
        maxiter = options.get("maxiter")
        steps = maxiter or (max(100, TNC_EVALUATIONS * per_member) if solver == "tnc" else LBFGSB_EVALUATIONS)
        polish = 0 if solver == "l-bfgs-b" else (maxiter or LBFGSB_EVALUATIONS)
        multiply_adds = k * (restarts * steps + polish) * n_rows * per_member * PASSES
        # float64 parameters with L-BFGS's ten pairs of history (a full-matrix method, BFGS or Newton's, holds a
        # matrix of parameters x parameters), and the activations forward and backward
        history = per_member * per_member if solver in FULL_MATRIX else 25 * per_member
        memory = (history + 3 * n_rows * units) * 8
        counted = f"{restarts:,} starts x up to {steps:,} evaluations"
    members = f"{k} members x " if k > 1 else ""
    counted = f"{members}{counted} x {n_rows:,} rows x {per_member:,} parameters"
    return Work(float(multiply_adds), float(memory), counted)


def _machine_memory() -> float | None:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # not a POSIX system: the memory is not bounded here
        return None


def check_work(model: Any, n_rows: int, n_features: int, trainer: str, *, name: str | None = None, **options: Any) -> Work:
    """The run's `Work`, or a TitanicNNError stating the estimate when it is far beyond this machine."""
    work = estimate_work(model, n_rows, n_features, trainer, **options)
    memory = _machine_memory()
    over_work = work.multiply_adds > WORK_LIMIT
    over_memory = memory is not None and work.memory > MEMORY_SHARE * memory
    if over_work or over_memory:
        what = name or model.kind
        how = "gradient descent" if trainer == "gd" else "the solver"
        room = f"{WORK_LIMIT:.0e} multiply-adds" + (f" and {MEMORY_SHARE * memory / 1e9:.1f} GB" if memory else "")
        raise TitanicNNError(
            f"training {what} by {how} would take up to {work.multiply_adds:.2g} multiply-adds ({work.counted}) and "
            f"{work.memory / 1e9:.2g} GB of memory, far beyond this machine (at most {room}); use fewer or narrower "
            "layers, fewer starts (restarts) or epochs, or fewer rows"
        )
    return work
