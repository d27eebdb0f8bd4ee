"""The exceptions titanic-nn raises for problems a user can fix."""

from __future__ import annotations

__all__ = ["TitanicNNError", "DataError", "TrainingDivergedError", "SpreadsheetEngineError", "UsageError"]


class TitanicNNError(Exception):
    """A problem with the user's input or environment; the message names the problem and the fix."""


class DataError(TitanicNNError, ValueError):
    """A CSV, a column or a value that cannot be used as given."""


class TrainingDivergedError(TitanicNNError, ArithmeticError):
    """Training produced a NaN or infinite loss, or ended far above where it started."""


class SpreadsheetEngineError(TitanicNNError, RuntimeError):
    """LibreOffice is missing or failed to recalculate a workbook."""


class UsageError(TitanicNNError):
    """Command-line options that do not fit together (exit code 2, like argparse's own errors)."""
