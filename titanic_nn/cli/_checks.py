"""Checks made before any training starts: what would otherwise stop a run only after minutes of work.

Each names the file, the column and the line, and the fix: test ids that are blank or repeat, text a
workbook cell cannot hold, more rows than a sheet holds, a validation fraction that leaves a side
empty, and outputs that would overwrite an input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from ..errors import DataError
from ._inputs import Job, check_ids

__all__ = ["check_before_training", "check_outputs", "kept_rows"]

def check_before_training(job: "Job", *, valid_frac: float | None, workbook: bool) -> None:
    """Every check on `job`'s data that training would otherwise meet late; `workbook` when one is written."""
    _check_ids(job)
    if workbook:
        _check_sheet_rows(job)
        _check_cell_text(job)
    if valid_frac is not None:
        _check_split(job, valid_frac)


def check_outputs(paths: Iterable[Path], inputs: Sequence[Path]) -> None:
    """Each output path can be written and is none of the inputs (found now, not after training)."""
    from .._atomic import check_output_path

    for path in paths:
        check_output_path(path, inputs, create_folders=True)


def kept_rows(job: "Job") -> int:
    """How many training rows the features keep, by the features' own rule (`Features.kept_mask`)."""
    from ..features import Features

    return int(Features(job.schema, missing=job.missing).kept_mask(job.train).sum())


def _check_ids(job: "Job") -> None:
    if job.test is not None:
        check_ids(job.test, job.test_path, job.schema.id_column)


def _check_sheet_rows(job: "Job") -> None:
    from ..workbook import data_rows

    room = data_rows()
    for path, what, count in [(job.train_path, "training rows are kept", kept_rows(job)),
                              (job.test_path, "test rows", None if job.test is None else len(job.test))]:
        if count is not None and count > room:
            raise DataError(
                f"{path}: {count:,} {what}, but a sheet holds {room:,} below its header rows and the workbook shows "
                f"every row; give at most {room:,} rows"
            )


def _check_cell_text(job: "Job") -> None:
    """Text the workbook would refuse (a character XML cannot hold, more than a cell's 32,767 characters)."""
    import pandas as pd

    from .._data import line_of
    from ..workbook import sheet_text_problem

    columns = [c for c in [*job.schema.target_columns, job.schema.id_column, *job.schema.input_columns] if c]
    for path, frame in [(job.train_path, job.train), (job.test_path, job.test)]:
        if frame is None:
            continue
        for column in dict.fromkeys(c for c in columns if c in frame.columns):
            values = frame[column]
            if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                continue  # numbers: no text to check (pandas 3 types text as str, earlier as object)
            for position, value in enumerate(values.tolist()):
                problem = sheet_text_problem(value) if isinstance(value, str) else None
                if problem:
                    raise DataError(
                        f"{path}: column {column}, {line_of(frame, position)}, holds {problem}; change that value (a "
                        "workbook cell cannot hold it as every engine reads it)"
                    )


def _check_split(job: "Job", valid_frac: float) -> None:
    """The split training will make is possible, by train_valid_split's own rule (0 holds no row out), found
    before any work and told in the command line's words."""
    from ..errors import TitanicNNError
    from ..training import train_valid_split

    n_rows = kept_rows(job)
    try:
        train_valid_split(n_rows, valid_frac)
    except TitanicNNError as exc:
        left = "no validation rows" if int(round(n_rows * valid_frac)) < 1 else "no training rows"
        raise DataError(
            f"{job.train_path}: {n_rows} training row(s) are kept, and --valid-frac {valid_frac:g} of them leaves {left}; "
            "give more rows or another --valid-frac"
        ) from exc
