"""Training: the kernels a program's loss and gradient are computed by, the two trainers, and what they produce."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "Objective": "._objective", "autograd_loss_and_grad": "._objective", "choose_kernel": "._objective",
    "loss_and_grad": "._objective",
    "final_loss": "._objective", "GRADIENTS": "._objective",
    "FitResult": "._result", "check_data": "._result", "start_seed": "._result", "DIVERGENCE_FACTOR": "._result",
    "resolve_device": "._device", "resolve_dtype": "._device", "choose_threads": "._device",
    "torch_threads": "._device", "SMALL_WORK": "._device",
    "fit_gd": "._gd", "GD_DEFAULTS": "._methods", "LR_FIND_DEFAULTS": "._methods", "LR_FIND": "._methods",
    "lr_find": "._lr_find", "LRFind": "._lr_find",
    "OPTIMIZERS": "._optimizers", "Optimizer": "._optimizers", "SGD": "._optimizers", "Momentum": "._optimizers",
    "Adam": "._optimizers", "RMSprop": "._optimizers", "make_optimizer": "._optimizers", "Stepper": "._steps", "Epoch": "._steps",
    "SCHEDULES": "._schedules", "Schedule": "._schedules", "Constant": "._schedules", "OneCycle": "._schedules",
    "make_schedule": "._schedules", "Descent": "._descent", "as_descent": "._descent", "trained_wd": "._descent",
    "l2_penalty": "._solver",
    "fit_solver": "._solver", "fit_members": "._members",
    "FittedModel": "._fitted", "FORMAT": "._fitted", "FORMAT_VERSION": "._fitted",
    "train_valid_split": "._train", "train_model": "._train", "valid_positions": "._train", "scores": "._train",
    "train_transformed": "._train", "training_signature": "._train", "trained_alike": "._train", "METHODS": "._methods",
    "check_model_dict": "._validate", "check_config": "._validate", "check_features": "._validate",
    "check_params": "._validate", "check_record": "._validate", "finite_problem": "._validate",
    "nesting_problem": "._validate", "params_to_lists": "._params", "params_from_lists": "._params",
    "save_model": "._persist", "load_model": "._persist",
    "SheetClassifier": "._estimator", "SheetRegressor": "._estimator",
    "Progress": "._progress",
    "check_work": "._budget", "estimate_work": "._budget", "Work": "._budget", "WORK_LIMIT": "._budget",
    "cross_validate": "._cv", "stratified_folds": "._cv", "CVResult": "._cv", "plain_folds": "._cv", "folds_for": "._cv",
    "STRATIFIED_KINDS": "._cv",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from ._budget import WORK_LIMIT, Work, check_work, estimate_work
    from ._device import SMALL_WORK, choose_threads, resolve_device, resolve_dtype, torch_threads
    from ._estimator import SheetClassifier, SheetRegressor
    from ._fitted import FORMAT, FORMAT_VERSION, FittedModel
    from ._gd import fit_gd
    from ._descent import Descent, as_descent, trained_wd
    from ._optimizers import OPTIMIZERS, SGD, Adam, Momentum, Optimizer, RMSprop, make_optimizer
    from ._schedules import SCHEDULES, Constant, OneCycle, Schedule, make_schedule
    from ._steps import Epoch, Stepper
    from ._objective import GRADIENTS, Objective, autograd_loss_and_grad, choose_kernel, final_loss, loss_and_grad
    from ._persist import load_model, save_model
    from ._cv import STRATIFIED_KINDS, CVResult, cross_validate, folds_for, plain_folds, stratified_folds
    from ._progress import Progress
    from ._result import DIVERGENCE_FACTOR, FitResult, check_data, start_seed
    from ._solver import fit_solver, l2_penalty
    from ._lr_find import LRFind, lr_find
    from ._methods import GD_DEFAULTS, LR_FIND, LR_FIND_DEFAULTS, METHODS
    from ._members import fit_members
    from ._params import params_from_lists, params_to_lists
    from ._train import (
        scores, train_model, train_transformed, train_valid_split, trained_alike, training_signature, valid_positions,
    )
    from ._validate import (
        check_config, check_features, check_model_dict, check_params, check_record, finite_problem, nesting_problem,
    )
