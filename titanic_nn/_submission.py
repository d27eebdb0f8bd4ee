"""The Kaggle submission: an id column and an integer 0/1 target, one row per input row, validated before it is written."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ._atomic import write_text_atomic
from ._data import LINES, row_place
from ._plain import shown
from .excel import MAX_CELL_CHARS
from .errors import DataError, SubmissionError

if TYPE_CHECKING:
    from .training import FittedModel

__all__ = [
    "ROW_NUMBER_COLUMN",
    "FORMULA_START",
    "make_submission",
    "submission_csv",
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
    target: str | Sequence[str] = "Survived",
    expected_rows: int | None = None,
    rule: Any = None,
) -> pd.DataFrame:
    """The submission table `id_column,target` in input order, validated; `target` may list several labels' columns,
    `survived` then holding a column per label.

    By default (`rule` None) `survived` must already be classes: integers (or booleans) 0/1. Floats are refused
    even when they are 0.0 and 1.0, because Kaggle scores a file of "0.0"/"1.0" as all wrong; threshold
    predictions first (e.g. `FittedModel.predict_target`). `rule` is the features' Target, whose own values
    (a labelled target's two values, a regression target's numbers) it checks instead.
    """
    ids = pd.Series(np.asarray(ids) if not isinstance(ids, pd.Series) else ids.to_numpy()).reset_index(drop=True)
    survived = survived.to_numpy() if isinstance(survived, (pd.Series, pd.DataFrame)) else np.asarray(survived)
    targets = [target] if isinstance(target, str) else list(target)
    if survived.ndim != (1 if isinstance(target, str) else 2) or survived.ndim == 2 and survived.shape[1] != len(targets):
        shown_target = ",".join(targets)
        raise SubmissionError(f"{shown_target}: expected one value per row and column, got an array of shape {survived.shape}")
    if len(ids) != len(survived):
        raise SubmissionError(f"{len(ids)} ids but {len(survived)} {','.join(targets)} values; give one per row")
    if survived.dtype == np.bool_:
        survived = survived.astype(np.int64)
    columns = {name: (survived if survived.ndim == 1 else survived[:, j]) for j, name in enumerate(targets)}
    frame = pd.DataFrame({id_column: _plain_ids(ids, id_column), **columns})
    validate_submission(frame, id_column=id_column, target=target, expected_rows=expected_rows, rule=rule)
    for name in targets:
        if pd.api.types.is_integer_dtype(frame[name]):
            frame[name] = frame[name].astype(np.int64)
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
    target: str | Sequence[str] = "Survived",
    expected_rows: int | None = None,
    rule: Any = None,
) -> None:
    """Raise SubmissionError unless `frame` is exactly `id_column,target` (or the id and several labels' columns),
    unique ids, the right row count, and its target columns what `rule` (a Target) writes: by default integer 0/1."""
    targets = [target] if isinstance(target, str) else list(target)
    columns = [str(c) for c in frame.columns]
    if columns != [id_column, *targets]:
        raise SubmissionError(
            f"a submission has exactly the columns {','.join([id_column, *targets])}; this one has {','.join(columns)}"
        )
    if len(frame) == 0:
        raise SubmissionError("the submission has no rows")
    if expected_rows is not None and len(frame) != expected_rows:
        raise SubmissionError(
            f"the submission has {len(frame)} rows but the input has {expected_rows}; it needs one row per input row"
        )
    from .features import binary_values_problem

    for name in targets:
        values = frame[name]
        problem = binary_values_problem(values) if rule is None else rule.submission_problem(values)
        if problem:
            raise SubmissionError(f"{name} {problem}")
    ids = frame[id_column]
    if ids.isna().any():
        first = int(ids.isna().to_numpy().argmax())
        raise SubmissionError(f"{id_column} is blank in row {first + 1}; every row needs an id")
    duplicated = ids.duplicated(keep=False).to_numpy()
    if duplicated.any():
        repeated = list(dict.fromkeys(ids[duplicated].tolist()))
        listed = ", ".join(map(shown, repeated[:5])) + (" ..." if len(repeated) > 5 else "")
        raise SubmissionError(f"{id_column} must be unique, but {listed} appear(s) more than once")


def submission_for(fitted: "FittedModel", frame: pd.DataFrame) -> pd.DataFrame:
    """The model's submission for the rows of `frame`: its id column (or row numbers 1..n) and each row's prediction as
    its target writes it (`Target.submission`: a binary target's 0/1 class or its own two values, a regression
    target's number).

    The columns are the schema's id and target names: exactly `PassengerId,Survived` for the Titanic.
    Without an id column in the schema, the rows are numbered in a `Row` column.
    """
    schema = fitted.features.schema_
    target = schema.target_columns or ["Survived"]
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
    rule = fitted.features.target_
    written = rule.submission(fitted.predict(frame))
    submission = make_submission(
        ids, written, id_column=id_column, target=target[0] if len(target) == 1 else target, expected_rows=len(frame),
        rule=rule,
    )
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and LINES in frame.attrs:
        submission.attrs[LINES] = frame.attrs[LINES]  # row i is the input's row i: its line in the file, for messages
    return submission


# A field starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets (OWASP's
# list for CSV injection: =, +, -, @, tab, carriage return).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A field holding one of these is quoted (RFC 4180), so every CSV reader sees the same rows.
NEEDS_QUOTES = (",", '"', "\r", "\n")


def submission_csv(frame: pd.DataFrame, *, source: str | Path | None = None) -> str:
    """The CSV text of a submission: a header line and one line per row, "\\n" line ends.

    Every field that holds a comma, a quote, a CR or an LF is quoted (RFC 4180), so pandas and the csv
    module read the same rows. An id goes out exactly as it came in: Kaggle matches ids as text, so one
    a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a CR, and is not a number
    such as -5) is written as it is, quoted, and a `FormulaIdWarning` says not to open the file in a
    spreadsheet (OWASP's CSV injection). Text longer than an Excel cell's 32,767 characters is refused.
    `source` names the data the ids came from, for the messages.
    """
    from .errors import FormulaIdWarning

    columns = [str(c) for c in frame.columns]
    guarded: list[tuple[int, str]] = []
    origin = f"{source}: " if source is not None else ""
    try:
        lines = [",".join(_field(name, -1, name, guarded, frame) for name in columns)]
        values = [frame[c].tolist() for c in frame.columns]
        for position, row in enumerate(zip(*values)):
            lines.append(",".join(_field(value, position, column, guarded, frame) for value, column in zip(row, columns)))
    except SubmissionError as exc:
        raise SubmissionError(f"{origin}{exc}") from exc
    if guarded:
        position, text = guarded[0]
        where = "in the header" if position < 0 else f"on {row_place(frame, position)}"
        warnings.warn(
            FormulaIdWarning(
                f"{origin}{len(guarded)} value(s) start with =, +, -, @, a tab or a carriage return (first {shown(text)} "
                f"{where}), which a spreadsheet opening the submission would run as a formula; they are written "
                "exactly as given (Kaggle matches ids as text): upload the file, do not open it in a spreadsheet"
            ),
            stacklevel=2,
        )
    return "\n".join(lines) + "\n"


def _field(value: Any, position: int, column: str, guarded: list[tuple[int, str]], frame: pd.DataFrame) -> str:
    """One CSV field: a number as Python writes it, text guarded against formulas and quoted where it must be."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    text = str(value)
    if len(text) > MAX_CELL_CHARS:
        where = "its name" if position < 0 else row_place(frame, position)
        raise SubmissionError(
            f"column {column}, {where}, holds {len(text):,} characters, more than the {MAX_CELL_CHARS:,} a spreadsheet "
            "cell holds; shorten that value"
        )
    quote = any(c in text for c in NEEDS_QUOTES)
    if text.startswith(FORMULA_START) and not _is_number(text):
        guarded.append((position, text))
        quote = True
    return '"' + text.replace('"', '""') + '"' if quote else text


def _is_number(text: str) -> bool:
    """True for text a spreadsheet reads as a number (-5, +1.5e3): not a formula, left as it is."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def write_submission(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    inputs: Iterable[str | Path] = (),
    expected_rows: int | None = None,
    source: str | Path | None = None,
    rule: Any = None,
) -> Path:
    """Validate `frame` (two columns: id, target; the target's values as `rule`, a Target, writes them, by default
    0/1) and write it to `path` atomically; never over one of `inputs`.

    `source` names the data the ids came from, for `submission_csv`'s messages."""
    several = len(getattr(rule, "columns", ())) == frame.shape[1] - 1  # several labels' columns, the rule's own
    if frame.shape[1] != 2 and not (several and frame.shape[1] > 2):
        raise SubmissionError(
            f"a submission has two columns, an id and the target; this one has {frame.shape[1]}: "
            f"{','.join(map(str, frame.columns))}"
        )
    id_column, *targets = (str(c) for c in frame.columns)
    target = targets[0] if len(targets) == 1 else targets
    validate_submission(frame, id_column=id_column, target=target, expected_rows=expected_rows, rule=rule)
    return write_text_atomic(path, submission_csv(frame, source=source), inputs=inputs)
