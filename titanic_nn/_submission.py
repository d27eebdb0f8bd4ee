"""The Kaggle submission: an id column and an integer 0/1 target, one row per input row, validated before it is written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd

from ._atomic import write_text_atomic
from ._plain import shown
from .errors import DataError, SubmissionError

if TYPE_CHECKING:
    from .training import FittedModel

__all__ = [
    "ROW_NUMBER_COLUMN",
    "make_submission",
    "submission_for",
    "validate_submission",
    "write_submission",
]

# The id column of a submission for data whose schema names no id column: 1, 2, ... in input order.
ROW_NUMBER_COLUMN = "Row"


def make_submission(
    ids: Any,
    survived: Any,
    *,
    id_column: str = "PassengerId",
    target: str = "Survived",
    expected_rows: int | None = None,
) -> pd.DataFrame:
    """The submission table `id_column,target` in input order, validated.

    `survived` must already be classes: integers (or booleans) 0/1. Floats are refused even when they
    are 0.0 and 1.0, because Kaggle scores a file of "0.0"/"1.0" as all wrong; threshold predictions
    first (e.g. `FittedModel.predict_survived`).
    """
    ids = pd.Series(np.asarray(ids) if not isinstance(ids, pd.Series) else ids.to_numpy()).reset_index(drop=True)
    survived = survived.to_numpy() if isinstance(survived, pd.Series) else np.asarray(survived)
    if survived.ndim != 1:
        raise SubmissionError(f"{target}: expected one value per row, got an array of shape {survived.shape}")
    if len(ids) != len(survived):
        raise SubmissionError(f"{len(ids)} ids but {len(survived)} {target} values; give one per row")
    if survived.dtype == np.bool_:
        survived = survived.astype(np.int64)
    frame = pd.DataFrame({id_column: _plain_ids(ids, id_column), target: survived})
    validate_submission(frame, id_column=id_column, target=target, expected_rows=expected_rows)
    frame[target] = frame[target].astype(np.int64)
    return frame


def _plain_ids(ids: pd.Series, id_column: str) -> pd.Series:
    # Ids read as floats (a column with a blank elsewhere) would print as "892.0"; whole numbers go back to ints.
    if pd.api.types.is_float_dtype(ids) and ids.notna().all() and np.all(np.isfinite(ids)):
        if np.all(ids == np.round(ids)):
            return ids.astype(np.int64)
    return ids


def validate_submission(
    frame: pd.DataFrame,
    *,
    id_column: str = "PassengerId",
    target: str = "Survived",
    expected_rows: int | None = None,
) -> None:
    """Raise SubmissionError unless `frame` is exactly `id_column,target`, integer 0/1, unique ids, the right row count."""
    columns = [str(c) for c in frame.columns]
    if columns != [id_column, target]:
        raise SubmissionError(f"a submission has exactly the columns {id_column},{target}; this one has {','.join(columns)}")
    if len(frame) == 0:
        raise SubmissionError("the submission has no rows")
    if expected_rows is not None and len(frame) != expected_rows:
        raise SubmissionError(
            f"the submission has {len(frame)} rows but the input has {expected_rows}; it needs one row per input row"
        )
    values = frame[target]
    if not (pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values)):
        raise SubmissionError(
            f"{target} must be integers 0 or 1, not {values.dtype} values (Kaggle scores 0.0/1.0 as wrong); "
            "threshold the predictions into integer classes first"
        )
    bad = ~values.isin([0, 1]).to_numpy()
    if bad.any():
        first = int(bad.argmax())
        raise SubmissionError(f"{target} must be 0 or 1, but row {first + 1} holds {shown(values.iloc[first])}")
    ids = frame[id_column]
    if ids.isna().any():
        first = int(ids.isna().to_numpy().argmax())
        raise SubmissionError(f"{id_column} is blank in row {first + 1}; every row needs an id")
    duplicated = ids.duplicated(keep=False).to_numpy()
    if duplicated.any():
        repeated = list(dict.fromkeys(ids[duplicated].tolist()))
        listed = ", ".join(map(shown, repeated[:5])) + (" ..." if len(repeated) > 5 else "")
        raise SubmissionError(f"{id_column} must be unique, but {listed} appear(s) more than once")


def submission_for(fitted: "FittedModel", frame: pd.DataFrame, *, threshold: float = 0.5) -> pd.DataFrame:
    """The model's submission for the rows of `frame`: its id column (or row numbers 1..n) and 0/1 classes.

    The columns are the schema's id and target names: exactly `PassengerId,Survived` for the Titanic.
    Without an id column in the schema, the rows are numbered in a `Row` column.
    """
    schema = fitted.features.schema_
    target = schema.target or "Survived"
    if schema.id_column is None:
        id_column, ids = ROW_NUMBER_COLUMN, np.arange(1, len(frame) + 1)
    else:
        id_column = schema.id_column
        if id_column not in frame.columns:
            raise DataError(
                f"the input has no id column {id_column}; the submission needs it "
                f"(the input has {', '.join(map(str, frame.columns))})"
            )
        ids = frame[id_column]
    survived = fitted.predict_survived(frame, threshold=threshold)
    return make_submission(ids, survived, id_column=id_column, target=target, expected_rows=len(frame))


def submission_csv(frame: pd.DataFrame) -> str:
    """The CSV text of a submission: a header line and one line per row, "\\n" line ends."""
    return frame.to_csv(index=False, lineterminator="\n")


def write_submission(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    expected_rows: int | None = None,
) -> Path:
    """Validate `frame` (two columns: id, target) and write it to `path` atomically; never over one of `inputs`."""
    if frame.shape[1] != 2:
        raise SubmissionError(
            f"a submission has two columns, an id and the target; this one has {frame.shape[1]}: "
            f"{','.join(map(str, frame.columns))}"
        )
    id_column, target = (str(c) for c in frame.columns)
    validate_submission(frame, id_column=id_column, target=target, expected_rows=expected_rows)
    return write_text_atomic(path, submission_csv(frame), inputs=inputs)
