"""Every exception and warning titanic-nn raises; each message names the problem and the fix."""

from __future__ import annotations

__all__ = [
    "TitanicNNError",
    "DataError",
    "SubmissionError",
    "TrainingDivergedError",
    "SpreadsheetEngineError",
    "OutputPathError",
    "UsageError",
    "MissingDependencyError",
    "InvalidModelError",
    "UnseenLevelWarning",
    "FormulaIdWarning",
    "EncodingGuessWarning",
    "InterruptSignalError",
]


class TitanicNNError(Exception):
    """A problem with the user's input or environment; the message names the problem and the fix."""


class DataError(TitanicNNError, ValueError):
    """A CSV, a column or a value that cannot be used as given."""


class SubmissionError(DataError):
    """A submission Kaggle would reject or score wrongly: float or non-0/1 targets, a wrong row count, duplicate ids."""


class TrainingDivergedError(TitanicNNError, ArithmeticError):
    """Training produced a NaN or infinite loss, or ended far above where it started."""


class SpreadsheetEngineError(TitanicNNError, RuntimeError):
    """A spreadsheet engine is missing or failed to recalculate a workbook."""


class OutputPathError(TitanicNNError, OSError):
    """An output path that must not or cannot be written."""


class UsageError(TitanicNNError):
    """Command-line options that do not fit together (exit code 2, like argparse's own errors)."""


class MissingDependencyError(TitanicNNError, ImportError):
    """An optional package a feature needs is not installed (PyTorch, for gradient descent)."""


class InvalidModelError(DataError):
    """A saved model, or a workbook's record of one, that is damaged or crafted: a wrong type, shape or version, a
    number that is not finite. The message names the entry (`params[0][3]`, `features.divisors.Age`)."""


class UnseenLevelWarning(UserWarning):
    """A categorical value never seen in training: its dummies are all zero."""


class FormulaIdWarning(UserWarning):
    """A submission id a spreadsheet would run as a formula (=, +, -, @, tab, CR first): written exactly as given."""


class EncodingGuessWarning(UserWarning):
    """A CSV that is not UTF-8 and holds no UTF-8 at all, read as Windows-1252 (the one other encoding taken)."""


class InterruptSignalError(KeyboardInterrupt):
    """A run stopped by SIGINT (Ctrl-C) or SIGTERM; `signal` is the signal's number. Cleaned up like Ctrl-C."""

    def __init__(self, signal: int) -> None:
        super().__init__(signal)
        self.signal = signal
