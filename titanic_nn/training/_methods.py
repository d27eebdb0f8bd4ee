"""The trainers by name, as `train_model(method=...)` and the command line's --method take them, and gradient descent's
defaults (imports nothing heavy)."""

from __future__ import annotations

__all__ = ["METHODS", "GD_DEFAULTS"]

METHODS = {
    "solver": "scipy's optimiser from several random starts, Excel Solver's stand-in",
    "gd": "full-batch gradient descent with PyTorch",
}

# fit_gd's defaults, tuned on the bundled data (missing="drop", 712 rows); see docs/trainers.md for the figures.
# (The solver's are each model class's `solver_defaults`.)
GD_DEFAULTS = {"optimizer": "adam", "lr": 0.01, "epochs": 2000, "restarts": 32}
