"""read_workbook: the models a workbook holds, with the parameters found in its sheets (e.g. after Excel's Solver)."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import excel
from ..errors import DataError, TitanicNNError
from ..features import Features
from ..nn import model_from_config
from ..training import FittedModel
from . import _metadata as metadata
from ._layout import FIRST_ROW, METADATA_SHEET, TEST_SHEET, data_columns
from ._sheets import VALID_OFFSET, model_layout

__all__ = ["read_workbook", "WorkbookContents", "read_contents", "sheet_rows"]


@dataclass
class WorkbookContents:
    """What a workbook holds: its description, the models as found, and the raw rows of its sheets.

    The rows are as they were read from the CSV: a cell the workbook filled (a reference to its fill
    value) is blank again, so the features fill it as they filled it when the workbook was written.
    """

    path: Path
    description: dict[str, Any]
    fits: list[FittedModel]
    train: pd.DataFrame
    test: pd.DataFrame | None

    @property
    def submission(self) -> FittedModel | None:
        name = self.description.get("submission")
        return next((f for f in self.fits if f.name == name), None)


SOURCES = ("sheets", "training")


def read_workbook(path: str | os.PathLike, *, source: str = "sheets") -> list[FittedModel]:
    """The workbook's models: features and settings as written, parameters as the sheets hold them now.

    source "sheets" reads each model sheet's parameter cells (e.g. after Excel's Solver); "training"
    reads each training sheet's gd_final, the last epoch of its gradient descent in formulas (the
    workbook's computed values: a spreadsheet must have saved it after any change). Layout changes
    (inserted rows or columns) move the parameters and are not followed.
    """
    return read_contents(path, source=source).fits


def sheet_rows(book: Any, name: str, last_row: int | None = None) -> list[tuple[Any, ...]]:
    """A sheet's values, row by row from row 1 (openpyxl read-only)."""
    return list(book[name].iter_rows(min_row=1, max_row=last_row, values_only=True))


def _value(rows: list[tuple[Any, ...]], row: int, col: int) -> Any:
    line = rows[row - 1] if row - 1 < len(rows) else ()
    return line[col] if col < len(line) else None


def read_contents(path: str | os.PathLike, *, source: str = "sheets") -> WorkbookContents:
    import openpyxl

    if source not in SOURCES:
        raise DataError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such workbook")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl's notes on other writers' styles
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise DataError(f"{path}: cannot be read as an .xlsx workbook ({exc})") from exc
    try:
        if METADATA_SHEET not in book.sheetnames:
            raise DataError(f"{path}: has no {METADATA_SHEET} sheet, so titanic-nn did not write it; nothing to read")
        chunks = [cell_value(r[0]) for r in sheet_rows(book, METADATA_SHEET) if r]
        description = metadata.from_cells(chunks, str(path))
        features = Features.from_dict(description["features"])
        n_train = int(description["train_rows"])
        fits = []
        train = None
        for entry in description["models"]:
            model = model_from_config(entry["config"])
            name = entry["name"]
            data, blocks, loss_col = model_layout(features, model, n_train)
            if name not in book.sheetnames:
                raise DataError(f"{path}: the sheet {name} is missing; restore it or write the workbook again")
            rows = sheet_rows(book, name, FIRST_ROW + n_train - 1)
            arrays: list[np.ndarray] = [np.empty(0)] * len(blocks)
            for block in blocks:
                grid = [
                    [_number(_value(rows, r, c), path, name, r, c) for c in range(block.left, block.right + 1)]
                    for r in range(block.top, block.bottom + 1)
                ]
                arrays[block.index] = block.array(np.array(grid, dtype=np.float64))
            params = model.from_arrays(arrays)
            marked = _valid_marks(rows, loss_col + VALID_OFFSET, n_train, path, name)
            training = _with_marks(dict(entry.get("training") or {}), marked, n_train)
            fits.append(FittedModel(features, model, params, name, training))
            if train is None:
                train = _frame(rows, data.raw, n_train)
        test = None
        if description.get("test_rows"):
            id_column = description.get("id_column")
            test_data = data_columns(features, [id_column] if id_column else [])
            n_test = int(description["test_rows"])
            test = _frame(sheet_rows(book, TEST_SHEET, FIRST_ROW + n_test - 1), test_data.raw, n_test)
        if source == "training":
            fits = _from_training(book, description, fits, n_train, path)
    finally:
        book.close()
    counts = {"train": n_train} | ({"test": len(test)} if test is not None else {})
    masks = metadata.filled_masks(description, features.schema_.input_columns, counts)
    train = _blanked(train, masks["train"])
    test = None if test is None else _blanked(test, masks["test"])
    return WorkbookContents(path, description, fits, train, test)


def _from_training(book: Any, description: dict[str, Any], fits: list[FittedModel], n_train: int, path: Path) -> list[FittedModel]:
    """The models with the parameters of their training sheets' gd_final."""
    from ._training import read_blocks, training_layouts

    found = {fitted.name: layout for fitted, layout in training_layouts(description, fits, n_train)}
    missing = [fitted.name for fitted in fits if fitted.name not in found]
    if missing:
        raise DataError(f"{path}: has no training sheet for {', '.join(missing)}; write it with --sheet-epochs, or read the model sheets")
    out = []
    for fitted in fits:
        layout = found[fitted.name]
        if layout.name not in book.sheetnames:
            raise DataError(f"{path}: the sheet {layout.name} is missing; restore it or write the workbook again")
        rows = sheet_rows(book, layout.name, max(b.bottom for b in layout.final))
        try:
            arrays = read_blocks(layout.final, lambda r, c: _value(rows, r, c), layout.name)
        except TitanicNNError as exc:
            raise DataError(f"{path}: {exc}") from exc
        training = dict(fitted.training) | {"from": f"{layout.name} (gd_final)"}
        out.append(FittedModel(fitted.features, fitted.model, fitted.model.from_arrays(arrays), fitted.name, training))
    return out


def _blanked(frame: pd.DataFrame, filled: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its filled cells blank, as the CSV had them."""
    frame = frame.copy()
    for column in filled.columns:
        if filled[column].any():
            frame[column] = frame[column].astype(object).where(~filled[column].to_numpy(), None)
    return frame


def _number(value: Any, path: Path, sheet: str, row: int, col: int) -> float:
    from ..excel import column_letter

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DataError(
            f"{path}: parameter cell {sheet}!{column_letter(col)}{row} holds {value!r}, not a number; "
            "put a number there (parameters must stay where the workbook wrote them)"
        )
    return float(value)


def _valid_marks(rows: list[tuple[Any, ...]], col: int, n_rows: int, path: Path, sheet: str) -> list[int]:
    """The positions of the rows the sheet's Valid column marks 1 (a person may have moved the marks)."""
    from ..excel import column_letter

    marked = []
    for i in range(n_rows):
        value = _value(rows, FIRST_ROW + i, col)
        if value in (None, 0, 1) and not isinstance(value, bool):
            if value == 1:
                marked.append(i)
            continue
        raise DataError(
            f"{path}: Valid cell {sheet}!{column_letter(col)}{FIRST_ROW + i} holds {value!r}; mark a validation row "
            "with 1 and a training row with 0"
        )
    return marked


def _with_marks(training: dict[str, Any], marked: list[int], n_rows: int) -> dict[str, Any]:
    """The training record with its split as the sheet's `n_rows` rows are marked now (as written: unchanged)."""
    from ..training import valid_positions

    try:
        if valid_positions(training, n_rows).tolist() == marked:
            return training
    except TitanicNNError:  # a split of other rows: the sheet's marks replace it
        pass
    split = dict(training.get("split") or {})
    split.update(valid_rows=marked, n_valid=len(marked), n_train=n_rows - len(marked))
    return training | {"split": split}


def _frame(rows: list[tuple[Any, ...]], raw: dict[str, int], n_rows: int) -> pd.DataFrame:
    body = rows[FIRST_ROW - 1 : FIRST_ROW - 1 + n_rows]
    return pd.DataFrame({name: [cell_value(_value([r], 1, col)) for r in body] for name, col in raw.items()})


def cell_value(value: Any) -> Any:
    """A value as openpyxl reads it, with a text cell's "_xHHHH_" escapes read as Excel reads them."""
    return excel.unescape_text(value) if isinstance(value, str) else value
