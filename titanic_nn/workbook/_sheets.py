"""The workbook's data sheets as `Sheet`s: one per model (lesson layout), the test rows and the Kaggle submission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from . import excel
from .cells import Cell, Column, Sheet
from .data import as_numbers
from .features import Features, level_key
from .fitted import FittedModel
from .layout import (
    FIRST_ROW, MAX_ROW, SCORE_ROW, TEST_SHEET, SUBMISSION_SHEET,
    DataColumns, ParamBlock, data_columns, place_params,
)
from .metrics import EPS, LOSSES, accuracy
from .models import Model
from .ops import NUMPY
from .render import feature_columns, max_cells, model_columns

__all__ = [
    "ModelSheet", "TestSheet", "written_frame", "case_sensitive_columns", "model_layout", "model_sheet", "test_sheet",
    "submission_sheet", "build_sheets",
]

R = excel.ROW


@dataclass
class ModelSheet:
    """A model's sheet and where its parameters, predictions and total loss sit."""

    sheet: Sheet
    data: DataColumns
    blocks: list[ParamBlock]
    preds_col: int
    loss_cell: str  # absolute reference, the Solver objective

    @property
    def n_variables(self) -> int:
        return sum(b.grid_shape[0] * b.grid_shape[1] for b in self.blocks)

    def variable_ranges(self) -> list[str]:
        return [b.block() for b in self.blocks]


def written_frame(features: Features, frame: pd.DataFrame, leading: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The values the sheet holds (blanks filled from training, levels as `level_key`) and where it filled them."""
    schema = features.schema_
    inputs = schema.input_columns
    filled = features.missing_mask(frame).reset_index(drop=True)
    out = pd.DataFrame(index=range(len(frame)))
    for name in leading:
        values = frame[name].reset_index(drop=True)
        numbers = pd.to_numeric(values, errors="coerce")
        out[name] = numbers if numbers.notna().sum() == values.notna().sum() else values
    for spec in schema.continuous:
        column = frame[spec.column].reset_index(drop=True).fillna(features.fill_values_[spec.column])
        out[spec.column] = as_numbers(column, source="data").astype(np.float64)
    for spec in schema.categorical:
        column = frame[spec.column].reset_index(drop=True).fillna(features.fill_values_[spec.column])
        out[spec.column] = _level_keys(column)
    if schema.target in leading:
        out[schema.target] = as_numbers(out[schema.target], source="data").astype(np.float64)
    return out[[*leading, *inputs]], filled


def _level_keys(column: pd.Series) -> pd.Series:
    """`level_key` of every value, computed once per distinct value (a column repeats a few levels)."""
    codes, uniques = pd.factorize(column)
    if (codes < 0).any():  # a blank left: map value by value
        return column.map(level_key).astype(object)
    # values equal for factorize (1, 1.0, True) have equal level keys, so one key per group is exact
    keys = np.empty(len(uniques), dtype=object)
    keys[:] = [level_key(v) for v in uniques]
    return pd.Series(keys[codes], index=column.index, dtype=object)


def case_sensitive_columns(features: Features, frames: Sequence[pd.DataFrame]) -> dict[str, bool]:
    """Categorical columns holding a value equal to a level but for case: their IFs must use EXACT."""
    flags = {}
    for spec in features.schema_.categorical:
        levels = {str(lv).lower(): lv for lv in features.levels_[spec.column] if isinstance(level_key(lv), str)}
        seen = {v for frame in frames for v in frame[spec.column] if isinstance(v, str)}
        flags[spec.column] = any(v.lower() in levels and v != levels[v.lower()] for v in seen)
    return flags


def trace(fitted: FittedModel, X: np.ndarray) -> list[np.ndarray]:
    """[inputs, after op 1, ...]: every value the model's program computes, in float64."""
    arrays = fitted.model.arrays(fitted.params)
    values = [X]
    for op in fitted.model.program():
        values.append(op.apply(values[-1], arrays, NUMPY))
    return values


def _raw_columns(data: DataColumns, frame: pd.DataFrame, filled: pd.DataFrame) -> list[Column]:
    columns = []
    for name, col in data.raw.items():
        series = frame[name]
        values = series.to_numpy() if series.dtype == np.float64 else series.tolist()
        mark = filled[name].to_numpy() if name in filled and filled[name].any() else None
        columns.append(Column(col, name, values, highlight=mark))
    return columns


def model_layout(features: Features, model: Model, n_rows: int) -> tuple[DataColumns, list[ParamBlock], int]:
    """A model sheet's data columns, parameter blocks and loss column: all a reader needs to find the parameters."""
    data = data_columns(features, [features.schema_.target])
    first, last = FIRST_ROW, FIRST_ROW + n_rows - 1
    # the parameters sit right of the model's columns, so count those first (a layout-only rendering)
    placeholder = place_params(model, features.feature_names_, 0)
    width = len(model_columns(model, placeholder, None, (data.first_input, data.last_input), data.next_free, first, last, None))
    loss_col = data.next_free + width
    return data, place_params(model, features.feature_names_, loss_col + 2), loss_col


def model_sheet(
    fitted: FittedModel, frame: pd.DataFrame, filled: pd.DataFrame, exact: dict[str, bool], X: np.ndarray | None = None
) -> ModelSheet:
    """The lesson layout: raw columns, Max row, feature formulas, model columns, loss; parameters on the right.

    `X` is `fitted.features.transform(frame)` when the caller has it already.
    """
    features, model = fitted.features, fitted.model
    target = features.schema_.target
    n = len(frame)
    first, last = FIRST_ROW, FIRST_ROW + n - 1
    data = data_columns(features, [target])
    X = features.transform(frame) if X is None else X
    y = frame[target].to_numpy(dtype=np.float64)
    sheet = Sheet(fitted.name, FIRST_ROW, n, columns=_raw_columns(data, frame, filled))

    maxes = max_cells(features, data, first, last, MAX_ROW)
    if maxes:
        sheet.cells.append(Cell(MAX_ROW, min(c.col for c in maxes) - 1, "Max:", style="label"))
    sheet.cells += maxes
    max_refs = {name: excel.cell(MAX_ROW, data.raw[name], fixed_row=True) for name in features.divisors_}
    sheet.columns += feature_columns(features, data, X, max_refs, exact)

    inputs = (data.first_input, data.last_input)
    _, blocks, loss_col = model_layout(features, model, n)
    columns = model_columns(model, blocks, None, inputs, data.next_free, first, last, trace(fitted, X))
    sheet.columns += columns
    preds_col = columns[-1].col
    pred = columns[-1].values

    target_col = data.raw[target]
    pred_ref, target_ref = excel.cell(R, preds_col), excel.cell(R, target_col)
    if model.loss_name == "logloss":
        formula = excel.log_loss(pred_ref, target_ref, EPS)
        clipped = np.clip(pred, EPS, 1.0 - EPS)
        per_row = -(y * np.log(clipped) + (1.0 - y) * np.log(1.0 - clipped))
    else:
        formula, per_row = excel.squared_error(pred_ref, target_ref), (pred - y) ** 2
    sheet.columns.append(Column(loss_col, "Loss", per_row, formula=formula))

    losses = excel.area(excel.cell(first, loss_col), excel.cell(last, loss_col))
    preds = excel.area(excel.cell(first, preds_col), excel.cell(last, preds_col))
    targets = excel.area(excel.cell(first, target_col), excel.cell(last, target_col))
    sheet.cells += [
        Cell(MAX_ROW, loss_col - 1, "Loss:", style="label"),
        Cell(MAX_ROW, loss_col, LOSSES[model.loss_name](pred, y), excel.average(losses), style="total"),
        Cell(SCORE_ROW, loss_col - 1, "Accuracy:", style="label"),
        Cell(SCORE_ROW, loss_col, accuracy(pred, y), excel.accuracy(preds, targets, n), style="total"),
    ]
    sheet.cells += _param_cells(blocks, model.arrays(fitted.params))
    sheet.widths = {loss_col + 2: 12.0}
    return ModelSheet(sheet, data, blocks, preds_col, excel.absolute(MAX_ROW, loss_col))


def _param_cells(blocks: Sequence[ParamBlock], arrays: Sequence[np.ndarray]) -> list[Cell]:
    cells = []
    for block in blocks:
        title = "Bias" if block.kind == "bias" else f"Weights {block.index + 1}"
        cells.append(Cell(block.header_row, block.label_col, title, style="label"))
        cells += [Cell(block.header_row, block.left + k, name, style="header") for k, name in enumerate(block.col_labels)]
        if block.kind != "bias":
            cells += [Cell(block.top + i, block.label_col, name, style="label") for i, name in enumerate(block.row_labels)]
        grid = block.grid(arrays[block.index])
        for i in range(grid.shape[0]):
            for k in range(grid.shape[1]):
                cells.append(Cell(block.top + i, block.left + k, float(grid[i, k]), style="param"))
    return cells


@dataclass
class TestSheet:
    sheet: Sheet
    data: DataColumns
    preds_cols: dict[str, int]
    id_column: str | None


def test_sheet(
    fits: Sequence[tuple[FittedModel, ModelSheet]],
    frame: pd.DataFrame,
    filled: pd.DataFrame,
    id_column: str | None,
    exact: dict[str, bool],
    note: str,
) -> TestSheet:
    """The test rows with the training sheet's feature formulas (its Max cells) and each model's columns."""
    first_fit, first_sheet = fits[0]
    features = first_fit.features
    n = len(frame)
    first, last = FIRST_ROW, FIRST_ROW + n - 1
    data = data_columns(features, [id_column] if id_column else [])
    X = features.transform(frame)
    sheet = Sheet(TEST_SHEET, FIRST_ROW, n, columns=_raw_columns(data, frame, filled))
    train_name, train_data = first_sheet.sheet.name, first_sheet.data
    max_refs = {
        name: excel.on_sheet(train_name, excel.cell(MAX_ROW, train_data.raw[name], fixed_row=True))
        for name in features.divisors_
    }
    sheet.columns += feature_columns(features, data, X, max_refs, exact)
    next_col = data.next_free
    preds_cols = {}
    for fitted, model_sheet_ in fits:
        columns = model_columns(
            fitted.model, model_sheet_.blocks, model_sheet_.sheet.name, (data.first_input, data.last_input),
            next_col, first, last, trace(fitted, X), header_prefix=f"{fitted.name} ",
        )
        sheet.columns += columns
        preds_cols[fitted.name] = columns[-1].col
        next_col = columns[-1].col + 1
    sheet.cells += [
        Cell(1, 0, note, style="note"),
        Cell(
            2, 0,
            f"Features divide by the Max cells of sheet {train_name} (row 1), never by a test maximum; "
            "predictions use each model sheet's parameters.",
            style="note",
        ),
    ]
    return TestSheet(sheet, data, preds_cols, id_column)


def filled_note(features: Features, frame: pd.DataFrame, filled: pd.DataFrame) -> str:
    """What was filled in, e.g. 'Age: 86 blank cells filled with 24'."""
    parts = []
    for name in features.schema_.input_columns:
        count = int(filled[name].sum()) if name in filled else 0
        if count:
            parts.append(f"{name}: {count} blank cell{'s' if count > 1 else ''} filled with {features.fill_values_[name]!r}")
    if not parts:
        return "No blank cells: every value is as read."
    return "Highlighted cells were blank and hold the training mode. " + "; ".join(parts) + "."


def submission_sheet(test: TestSheet, fitted: FittedModel) -> Sheet:
    """PassengerId and Survived =IF(pred>0.5,1,0), header in row 1 so the sheet saves as Kaggle's CSV."""
    n = test.sheet.n_rows
    shift = test.sheet.first_row - 2
    preds_col = test.preds_cols[fitted.name]
    pred = np.asarray(test.sheet.column_at(preds_col).values, dtype=np.float64)
    survived = (pred > 0.5).astype(np.float64)
    sheet = Sheet(SUBMISSION_SHEET, 2, n)
    if test.id_column:
        id_col = test.data.raw[test.id_column]
        ids = test.sheet.column_at(id_col).values
        sheet.columns.append(
            Column(0, test.id_column, ids, formula=excel.on_sheet(TEST_SHEET, excel.cell(R, id_col)), shift=shift)
        )
    else:
        sheet.columns.append(Column(0, "Row", np.arange(1, n + 1, dtype=np.float64)))
    formula = excel.survived(excel.on_sheet(TEST_SHEET, excel.cell(R, preds_col)))
    sheet.columns.append(Column(1, "Survived", survived, formula=formula, shift=shift))
    return sheet



def build_sheets(
    fits: Sequence[FittedModel],
    train_frame: pd.DataFrame,
    train_filled: pd.DataFrame,
    test_frame: pd.DataFrame | None = None,
    test_filled: pd.DataFrame | None = None,
    *,
    id_column: str | None = None,
    submission: FittedModel | None = None,
    exact: dict[str, bool] | None = None,
) -> tuple[list[ModelSheet], list[Sheet]]:
    """Every data sheet: the model sheets, then (with test rows) the test and submission sheets."""
    exact = exact or {}
    # the models share one fitted Features: transform the training rows once, not once per model
    X = fits[0].features.transform(train_frame)
    model_sheets = [model_sheet(fit, train_frame, train_filled, exact, X) for fit in fits]
    others: list[Sheet] = []
    if test_frame is not None:
        note = filled_note(fits[0].features, test_frame, test_filled)
        test_part = test_sheet(list(zip(fits, model_sheets)), test_frame, test_filled, id_column, exact, note)
        others = [test_part.sheet, submission_sheet(test_part, submission or fits[0])]
    return model_sheets, others
