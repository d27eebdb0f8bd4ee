"""The trainers by name, as `train_model(method=...)` and the command line's --method take them (imports nothing heavy)."""

from __future__ import annotations

__all__ = ["METHODS"]

METHODS = {
    "solver": "scipy's optimiser from several random starts, Excel Solver's stand-in",
    "gd": "full-batch gradient descent with PyTorch",
}
