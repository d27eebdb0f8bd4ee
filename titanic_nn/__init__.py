"""titanic-nn: fast.ai lesson 3's spreadsheet neural net, in Python and in a workbook that recomputes it.

Names are imported on first use, so `titanic-nn --help` starts without loading pandas or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> the module (in this package) that defines it
_EXPORTS = {
    "TitanicNNError": "errors",
    "DataError": "errors",
    "TrainingDivergedError": "errors",
    "SpreadsheetEngineError": "errors",
    "data_path": "data",
    "load_titanic": "data",
    "read_csv": "data",
    "Schema": "schema",
    "Continuous": "schema",
    "Categorical": "schema",
    "sheet_schema": "schema",
    "notebook_schema": "schema",
    "Features": "features",
    "UnseenLevelWarning": "features",
    "Model": "models",
    "Linear": "models",
    "TwoReLU": "models",
    "MatMulNet": "models",
    "model_from_config": "models",
    "mse": "metrics",
    "log_loss": "metrics",
    "accuracy": "metrics",
    "write_workbook": "workbook",
    "verify": "crosscheck",
    "VerifyReport": "crosscheck",
    "read_workbook": "readback",
    "FitResult": "trainers",
    "fit_gd": "gd",
    "fit_solver": "solver",
    "Progress": "progress",
    "train_valid_split": "training",
    "train_model": "training",
    "save_model": "persist",
    "load_model": "persist",
    "SheetClassifier": "estimator",
    "make_submission": "submission",
    "submission_for": "submission",
    "validate_submission": "submission",
    "write_submission": "submission",
    "SubmissionError": "submission",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'titanic_nn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
