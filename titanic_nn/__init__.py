"""titanic-nn: fast.ai lesson 3's spreadsheet neural net, in Python and in a workbook that recomputes it.

The package reads as the pipeline: data and features (`titanic_nn.features`), ops, losses and models
(`titanic_nn.nn`), training (`titanic_nn.training`), the workbook (`titanic_nn.workbook`), the
spreadsheet engines that verify it (`titanic_nn.engines`) and the command line (`titanic_nn.cli`).
Every name below is imported on first use, so `titanic-nn --help` starts without pandas or torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# name -> the module (in this package) that defines it
_EXPORTS = {
    "TitanicNNError": ".errors",
    "DataError": ".errors",
    "SubmissionError": ".errors",
    "TrainingDivergedError": ".errors",
    "SpreadsheetEngineError": ".errors",
    "OutputPathError": ".errors",
    "MissingDependencyError": ".errors",
    "UnseenLevelWarning": ".errors",
    "InvalidModelError": ".errors",
    "FormulaIdWarning": ".errors",
    "EncodingGuessWarning": ".errors",
    "data_path": "._data",
    "load_titanic": "._data",
    "read_csv": "._data",
    "Schema": ".features",
    "Continuous": ".features",
    "Categorical": ".features",
    "sheet_schema": ".features",
    "notebook_schema": ".features",
    "Features": ".features",
    "infer_schema": ".features",
    "schema_toml": ".features",
    "Model": ".nn",
    "Linear": ".nn",
    "TwoReLU": ".nn",
    "MatMulNet": ".nn",
    "Tabular": ".nn",
    "MODELS": ".nn",
    "Ensemble": ".nn",
    "build_model": ".nn",
    "model_from_config": ".nn",
    "mse": ".nn",
    "log_loss": ".nn",
    "accuracy": ".features",
    "FitResult": ".training",
    "fit_gd": ".training",
    "fit_solver": ".training",
    "lr_find": ".training",
    "LRFind": ".training",
    "FittedModel": ".training",
    "Progress": ".training",
    "train_valid_split": ".training",
    "train_model": ".training", "cross_validate": ".training",
    "save_model": ".training",
    "load_model": ".training",
    "SheetClassifier": ".training",
    "SheetRegressor": ".training",
    "write_workbook": ".workbook",
    "SheetTraining": ".workbook",
    "read_workbook": ".workbook",
    "WorkbookContents": ".workbook",
    "verify": ".engines",
    "VerifyReport": ".engines",
    "make_submission": "._submission",
    "submission_for": "._submission",
    "validate_submission": "._submission",
    "write_submission": "._submission",
}

__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the real names, for type checkers and editors
    from ._data import data_path, load_titanic, read_csv
    from ._submission import make_submission, submission_for, validate_submission, write_submission
    from .engines import VerifyReport, verify
    from .errors import (
        DataError, EncodingGuessWarning, FormulaIdWarning, InvalidModelError, MissingDependencyError, OutputPathError, SpreadsheetEngineError,
        SubmissionError, TitanicNNError, TrainingDivergedError, UnseenLevelWarning,
    )
    from .features import (
        Categorical, Continuous, Features, Schema, accuracy, infer_schema, notebook_schema, schema_toml, sheet_schema,
    )
    from .nn import MODELS, Ensemble, Linear, MatMulNet, Model, Tabular, TwoReLU, build_model, log_loss, model_from_config, mse
    from .training import (
        FitResult, FittedModel, LRFind, Progress, SheetClassifier, SheetRegressor, fit_gd, fit_solver, load_model, lr_find, save_model,
        train_model, cross_validate, train_valid_split,
    )
    from .workbook import SheetTraining, WorkbookContents, read_workbook, write_workbook
