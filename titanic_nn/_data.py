"""The bundled Kaggle Titanic files and a CSV reader whose errors say what is wrong and where."""

from __future__ import annotations

import csv
import io
import math
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ._plain import shown
from .errors import DataError

__all__ = ["as_numbers", "check_finite", "data_path", "existing_file", "load_titanic", "read_csv"]

BUNDLED_FILES = ("train.csv", "test.csv", "gender_submission.csv")


def data_path(name: str = "train.csv") -> Path:
    """The path of a bundled file: train.csv, test.csv or gender_submission.csv."""
    if name not in BUNDLED_FILES:
        raise DataError(f"no bundled file {name!r}; the bundled files are {', '.join(BUNDLED_FILES)}")
    path = Path(str(resources.files("titanic_nn") / "bundled" / name))
    if not path.is_file():
        raise DataError(f"the bundled {name} is missing from the installation at {path}; reinstall titanic-nn")
    return path


def load_titanic() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled Kaggle training and test sets as DataFrames: (train, test)."""
    return read_csv(data_path("train.csv")), read_csv(data_path("test.csv"))


def existing_file(path: str | Path, *, what: str = "a CSV file", hint: str = "check the path") -> Path:
    """`path` as a Path when it names a file; a DataError saying what it is otherwise."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file; {hint}")
    if path.is_dir():
        raise DataError(f"{path}: is a directory; give the path of {what} inside it")
    return path


def read_csv(
    path: str | Path,
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV file, with one clear error for each way it can be unusable.

    `required` columns must all be present (every missing one is named); `numeric` columns that are
    present must hold numbers or blanks (the first bad value is named with its line in the file).
    """
    path = existing_file(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}); check its permissions") from exc
    text = _decode(path, raw)
    if not text.strip():
        raise DataError(f"{path}: the file is empty; a CSV needs a header line and at least one data row")
    frame = _parse(path, text)
    _check_columns(path, frame, required)
    for column in numeric:
        if column in frame.columns:
            frame[column] = as_numbers(frame[column], source=str(path))
    for column in required:
        check_finite(frame[column], source=str(path))
    return frame


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: is a binary file, not CSV text; export the table as CSV first")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: is not UTF-8 or Windows-1252 text; save it as a UTF-8 CSV") from exc


def _parse(path: Path, text: str) -> pd.DataFrame:
    header = text.lstrip().splitlines()[0]
    if "," not in header:
        raise DataError(
            f"{path}: does not look like CSV: its first line has no comma-separated column names "
            f"(it starts {header[:40]!r})"
        )
    try:
        # low_memory=False: the whole file typed at once, so a column is never typed chunk by chunk (pandas'
        # DtypeWarning) and a value's type does not depend on where in the file it sits
        frame = pd.read_csv(io.StringIO(text), skipinitialspace=False, low_memory=False)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: is not valid CSV ({_short(exc)}); check the quoting and field counts") from exc
    except csv.Error as exc:  # pragma: no cover - pandas wraps most of these
        raise DataError(f"{path}: is not valid CSV ({exc})") from exc
    if frame.empty and len(frame.columns):
        raise DataError(f"{path}: has a header but no data rows; add at least one row")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if len(unnamed) == len(frame.columns):
        raise DataError(f"{path}: does not look like CSV: its header names no columns")
    return frame


def _short(exc: Exception) -> str:
    return str(exc).strip().splitlines()[-1].rstrip(".")


def _check_columns(path: Path, frame: pd.DataFrame, required: Iterable[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        names = ", ".join(missing)
        plural = "columns" if len(missing) > 1 else "column"
        raise DataError(
            f"{path}: missing {plural} {names}; the file has {', '.join(map(str, frame.columns))}"
        )


def as_numbers(values: pd.Series, *, source: str = "the data") -> pd.Series:
    """The column as numbers, blanks as NaN; a DataError names the first value that is not a finite number."""
    column = values.name
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return check_finite(values, source=source)
    numbers = check_finite(pd.to_numeric(values, errors="coerce"), source=source, shown_as=values)
    bad = numbers.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{source}: column {column} must be numeric, but data row {position + 1} "
            f"(line {position + 2}) holds {shown(values.iloc[position])}; fix or blank that value"
        )
    return numbers


def check_finite(values: pd.Series, *, source: str = "the data", shown_as: pd.Series | None = None) -> pd.Series:
    """`values` unchanged when no number in it is infinite; a DataError names the column, row and line otherwise.

    An infinite value has no place in a sheet (a cell cannot hold one), and every feature made from it
    would be infinite or NaN. `shown_as` gives the values as read, for the message.
    """
    if not pd.api.types.is_float_dtype(values):
        if values.dtype != object:
            return values
        infinite = values.map(lambda v: isinstance(v, float) and math.isinf(v)).to_numpy(dtype=bool)
    else:
        infinite = np.isinf(values.to_numpy())
    if infinite.any():
        position = int(infinite.argmax())
        value = (shown_as if shown_as is not None else values).iloc[position]
        raise DataError(
            f"{source}: column {values.name} holds {shown(value)} in data row {position + 1} (line {position + 2}), "
            "not a finite number; give a finite number or blank that value"
        )
    return values
