"""The trainers by name, as `train_model(method=...)` and the command line's --method take them, and gradient descent's
defaults (imports nothing heavy)."""

from __future__ import annotations

__all__ = ["METHODS", "GD_DEFAULTS", "LR_FIND_DEFAULTS", "LR_FIND"]

METHODS = {
    "solver": "scipy's optimiser from several random starts, Excel Solver's stand-in",
    "gd": "full-batch gradient descent with PyTorch",
}

# fit_gd's defaults, tuned on the bundled data (missing="drop", 712 rows); see docs/trainers.md for the figures.
# (The solver's are each model class's `solver_defaults`.)
GD_DEFAULTS = {"optimizer": "adam", "lr": 0.01, "epochs": 2000, "restarts": 32}

# The learning-rate finder's range test, fastai's defaults (Learner.lr_find): 100 steps from 1e-7 toward 10.
LR_FIND_DEFAULTS = {"start_lr": 1e-7, "end_lr": 10.0, "num_it": 100}
# The learning rate that asks gradient descent to run the finder first and train at its suggestion (fit_gd(lr="find"),
# --lr find).
LR_FIND = "find"
