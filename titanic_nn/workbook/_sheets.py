"""The workbook's data sheets as `Sheet`s: one per model (lesson layout), the test rows and the Kaggle submission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import excel
from .._data import LINES, row_place
from .._plain import shown
from .._submission import ROW_NUMBER_COLUMN
from ..errors import DataError
from ..features import SCORE_LABELS, Features, ScoreRanges, Target, blanks_marked, text_of
from ..nn import ExcelBackend, Model
from ..training import FittedModel, l2_penalty, trained_wd, valid_positions
from ._cells import Cell, Column, Sheet
from ._layout import (
    FILL_ROW, FIRST_ROW, MAX_ROW, SCORE_ROW, SUBMISSION_SHEET, TEST_SHEET, DataColumns, ParamBlock, data_columns,
    member_blocks, place_params, TABLE,
)
from ._render import derived_columns, feature_columns, fill_formulas, model_columns, statistic_cells, statistic_refs

__all__ = [
    "ModelSheet", "TestSheet", "written_frame", "model_layout", "model_sheet", "test_sheet",
    "submission_sheet", "build_sheets", "STATISTIC_ROWS", "sheet_text_problem",
]

R = excel.ROW

# Right of the Loss column: the Valid marks (1: a row held out for validation), then a blank column,
# then the parameter blocks' labels.
VALID_OFFSET = 1
PARAMS_OFFSET = 3
# Where each score sits: (row, columns right of the Loss column) of its value, its label just left of
# it. The train loss, the Solver objective, sits above the Loss column as the lesson's total loss does; the
# target's scores follow in the row below, four columns each (its train and valid labels and values).
LOSS_CELLS = {"Train loss:": (MAX_ROW, 0), "Valid loss:": (MAX_ROW, 2)}
SCORE_WIDTH = 4


def score_cell(label: str, metric_position: int, valid: bool) -> tuple[int, int]:
    """(row, columns right of the Loss column) of a score's value: the losses', or the target's metric's."""
    if label in LOSS_CELLS:
        return LOSS_CELLS[label]
    return SCORE_ROW, SCORE_WIDTH * metric_position + (2 if valid else 0)

# The row each kind of learned statistic sits in, above its raw column, with the row's label.
STATISTIC_ROWS = {"divisors": MAX_ROW, "fill_values": FILL_ROW}
STATISTIC_LABELS = {MAX_ROW: "Max:", FILL_ROW: "Fill:"}


@dataclass
class ModelSheet:
    """A model's sheet and where its parameters, predictions and total loss sit."""

    sheet: Sheet
    data: DataColumns
    blocks: list[ParamBlock]
    preds_col: int
    loss_cell: str  # absolute reference: the training rows' loss, the Solver objective
    valid_col: int  # the Valid marks: 1 on a validation row
    n_valid: int  # rows marked Valid
    scores: dict[str, str]  # each score's label -> its cell, e.g. "Train loss:" -> "W1"
    objective_cell: str | None = None  # the loss plus weight decay's penalty, where the model trained with decay

    @property
    def solver_objective(self) -> str:
        """The cell Solver minimises: the training rows' loss, plus the L2 penalty where the model has weight decay."""
        return self.objective_cell or self.loss_cell

    @property
    def n_variables(self) -> int:
        return sum(b.grid_shape[0] * b.grid_shape[1] for b in self.blocks)

    def variable_ranges(self) -> list[str]:
        return [b.block() for b in self.blocks]


def written_frame(features: Features, frame: pd.DataFrame, leading: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The values the sheet holds and where it filled them: numbers as numbers (blanks filled from training), every
    other column as its text (categorical levels, text the derived columns read, a coded target's labels), the
    leading columns (the id, a 0/1 target) as they are."""
    schema = features.schema_
    frame = blanks_marked(frame, schema)
    filled = features.missing_mask(frame).reset_index(drop=True)
    prepared = features.prepared(frame).reset_index(drop=True)
    out = pd.DataFrame(index=range(len(frame)))
    for name in leading:  # an id goes out exactly as it came in: text as text, a number as a number
        out[name] = frame[name].reset_index(drop=True)
    # the raw columns, as read (a derived column has a column of its own, not here)
    kinds = schema.column_kinds()
    for name in schema.input_columns:
        if kinds[name] == "number":
            out[name] = prepared[name].astype(np.float64)
        elif kinds[name] == "level":
            out[name] = _texts(prepared[name])
        else:  # text the derived columns read, as text (a blank stays blank)
            out[name] = _texts(frame[name].reset_index(drop=True))
    if schema.target_columns and schema.target_columns[0] in leading:
        # checked, and the numbers a 0/1 target or a target of numbers holds (before any scaling: the sheet scales it)
        coded = features.coded_target(frame.reset_index(drop=True))
        for j, name in enumerate(schema.target_columns):
            # a target coded by its positive value is written as read, text as text; the sheet's formulas code it
            values = frame[name].reset_index(drop=True)
            as_read = values.astype(np.float64) if pd.api.types.is_numeric_dtype(values) else _texts(values)
            out[name] = as_read if features.target_.coded_on_sheet else (coded if coded.ndim == 1 else coded[:, j])
    out = out[[*leading, *schema.input_columns]]
    index = frame.index
    if LINES in frame.attrs and isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        out.attrs[LINES] = frame.attrs[LINES]  # row i is the file's row i: messages about it name its line
    _check_text(out, frame, schema.id_column)
    return out, filled


def _check_text(out: pd.DataFrame, frame: pd.DataFrame, id_column: str | None) -> None:
    """Every header and text value the sheet will hold, or a DataError naming the first one a cell cannot hold."""
    for name in out.columns:
        problem = excel.text_problem(str(name))
        if problem:
            raise DataError(f"the column name {shown(name)} holds {problem}; rename the column")
        values = out[name]
        if values.dtype != object:
            continue
        for position, value in enumerate(values.tolist()):
            problem = sheet_text_problem(value) if isinstance(value, str) else None
            if problem:
                where = row_place(frame, position)
                if id_column and id_column in frame.columns and id_column != name:
                    where += f" ({id_column} {shown(frame[id_column].iloc[position])})"
                raise DataError(f"column {name}, {where}, holds {problem}; remove it from the data")


def sheet_text_problem(text: str) -> str | None:
    """Why a cell cannot hold `text` as every engine reads it (None when it can): what no cell holds, a CR LF line
    break (LibreOffice keeps only the LF, and formulas read the cell), or an escape-like run too long for the
    formula it is then written as."""
    problem = excel.text_problem(text)
    if problem:
        return problem
    if "\r\n" in text:
        return "a CR LF line break, which LibreOffice reads as LF alone (a lone CR or LF is kept as it is)"
    if "\x7f" in text:
        return "the control character DEL (U+007F), which Gnumeric drops from the text it writes back"
    if excel.escape_like(text) and len(excel.literal(text)) + 1 > excel.MAX_FORMULA_CHARS:
        return (
            f"{len(text):,} characters with a run like _x0041_, which the sheet writes as a formula, longer than "
            f"the {excel.MAX_FORMULA_CHARS:,} a formula holds"
        )
    return None


def _texts(column: pd.Series) -> pd.Series:
    """`text_of` every value (a blank stays blank), computed once per distinct value (a column repeats a few levels)."""
    codes, uniques = pd.factorize(column)
    if (codes < 0).any():  # a blank left: map value by value
        return column.map(lambda v: None if v is None or v != v else text_of(v)).astype(object)
    # values factorize takes as one (1 and 1.0) have one text, since a number's text is its shortest one
    texts = np.empty(len(uniques), dtype=object)
    texts[:] = [text_of(v) for v in uniques]
    return pd.Series(texts[codes], index=column.index, dtype=object)


def _raw_columns(data: DataColumns, frame: pd.DataFrame, filled: pd.DataFrame, fills: dict[str, str]) -> list[Column]:
    columns = []
    for name, col in data.raw.items():
        series = frame[name]
        values = series.to_numpy() if series.dtype == np.float64 else series.tolist()
        mark = filled[name].to_numpy() if name in filled and filled[name].any() else None
        columns.append(Column(col, name, values, highlight=mark, fill_formula=fills.get(name) if mark is not None else None))
    return columns


@dataclass
class WholeColumns:
    """The whole columns a derived column's formulas read (features.SheetColumns): the training rows' on a model
    sheet (`train_sheet`, None: this sheet) and the test rows' on the test sheet (`test_sheet`, None: this
    sheet), each as an absolute range."""

    training: bool
    train: DataColumns
    n_train: int
    train_sheet: str | None
    test: DataColumns | None
    n_test: int
    test_sheet: str | None
    target_col: int
    coding: Target
    statistic: str | None = None  # the target's learned statistic's cell (a regression target's scale)

    def column(self, name: str, rows: str = "train") -> str | None:
        if rows == "train":
            data, n, sheet = self.train, self.n_train, self.train_sheet
        elif self.test is None:
            return None
        else:
            data, n, sheet = self.test, self.n_test, self.test_sheet
        col = data.col(name)
        return excel.on_sheet(sheet, excel.area(excel.absolute(FIRST_ROW, col), excel.absolute(FIRST_ROW + n - 1, col)))

    def target(self) -> str:
        return self.coding.excel_code(excel.cell(R, self.target_col), statistic=self.statistic)

    def targets(self) -> str:
        col = self.target_col
        whole = excel.on_sheet(
            self.train_sheet, excel.area(excel.absolute(FIRST_ROW, col), excel.absolute(FIRST_ROW + self.n_train - 1, col))
        )
        return self.coding.excel_code(whole, array=True, statistic=self.statistic)


def whole_columns(features: Features, n_train: int, test: tuple[DataColumns, int] | None, train_sheet: str | None, *, training: bool) -> WholeColumns:
    data = data_columns(features, features.schema_.target_columns)
    test_data, n_test = test if test is not None else (None, 0)
    return WholeColumns(
        training, data, n_train, train_sheet, test_data, n_test, None if not training else TEST_SHEET,
        data.raw[features.schema_.target_columns[0]], features.target_, target_statistic_ref(features, data, train_sheet),
    )


def target_statistic_ref(features: Features, data: DataColumns, sheet: str | None) -> str | None:
    """The cell of the target's learned statistic (a regression target's scale), above its column in the Max row of a
    model sheet (`sheet`, None: this sheet); None when the target learns none."""
    if features.target_.statistic is None:
        return None
    return excel.on_sheet(sheet, excel.absolute(MAX_ROW, data.raw[features.schema_.target_columns[0]]))


def _statistics(features: Features, data: DataColumns, first: int, last: int) -> list[Cell]:
    """The statistic cells (Max, Fill) of a model sheet, each row labelled left of its first cell: the feature ops', and
    the target's (a regression target's scale, in the Max row above its column)."""
    cells = statistic_cells(features, data, first, last, STATISTIC_ROWS)
    target = features.target_
    if target.statistic is not None:
        col = data.raw[features.schema_.target_columns[0]]
        whole = excel.area(excel.cell(first, col), excel.cell(last, col))
        cells.append(Cell(MAX_ROW, col, float(target.statistic), target.excel_statistic(whole), style="statistic"))
    for row, label in STATISTIC_LABELS.items():
        in_row = [c.col for c in cells if c.row == row]
        if in_row and min(in_row) > 0:
            cells.append(Cell(row, min(in_row) - 1, label, style="label"))
    return cells


def model_layout(features: Features, model: Model, n_rows: int) -> tuple[DataColumns, list[ParamBlock], int]:
    """A model sheet's data columns, parameter blocks and loss column: all a reader needs to find the parameters."""
    data = data_columns(features, features.schema_.target_columns)
    first, last = FIRST_ROW, FIRST_ROW + n_rows - 1
    # the parameters sit right of the model's columns, so count those first (a layout-only rendering)
    placeholder = place_params(model, features.feature_names_, 0)
    width = len(model_columns(model, placeholder, None, (data.first_input, data.last_input), data.next_free, first, last))
    loss_col = data.next_free + width + target_width(features.target_)
    levels = list(features.embedded_levels_.values())
    return data, place_params(model, features.feature_names_, loss_col + PARAMS_OFFSET, levels), loss_col


def levels_refs(features: Features, blocks: Sequence[ParamBlock], sheet: str | None) -> dict[str, str]:
    """Each embedded column's range of level texts, on `sheet` (None: this sheet): the row labels of its table (the
    first member's), the row of unseen levels left out. A row's level number is found in it."""
    tables = [block for block in sorted(blocks, key=lambda b: b.index) if block.layout is TABLE]
    refs = {}
    for op, block in zip(features.program_.embedded, tables):
        first, last = excel.absolute(block.top, block.label_col), excel.absolute(block.top + len(op.levels) - 1, block.label_col)
        refs[op.column] = excel.on_sheet(sheet, excel.area(first, last))
    return refs


def target_width(target: Target) -> int:
    """The columns a model sheet gives its target between the predictions and the Loss: the K coded columns and the
    predicted class, for a target of several classes (none for one output)."""
    return len(target.coded_names()) + target.class_column


def coded_block(features: Features, data: DataColumns, loss_col: int) -> tuple[int, int] | None:
    """The first and last column of a model sheet's model values when a row has K of them: several classes' one-hot
    block, or several labels' own columns (the first raw columns); None for a target of one."""
    target = features.target_
    if target.outputs == 1:
        return None
    k = len(target.coded_names())
    if k:
        first = loss_col - target_width(target)
        return first, first + k - 1
    columns = [data.raw[name] for name in features.schema_.target_columns]
    return columns[0], columns[-1]


def model_sheet(
    fitted: FittedModel,
    frame: pd.DataFrame,
    filled: pd.DataFrame,
    X: np.ndarray | None = None,
    test: tuple[DataColumns, int] | None = None,
    columns: Any = None,
) -> ModelSheet:
    """The lesson layout: raw columns, Max and Fill rows, derived columns, feature formulas, model columns, loss;
    parameters on the right.

    `columns` is `fitted.features.columns(frame, training=True)` (and `X` its inputs) when the caller has it
    already; `test` is the test sheet's columns and rows, which derived columns may count over.
    """
    features, model = fitted.features, fitted.model
    target = features.schema_.target_columns[0]  # the first of several labels' columns, which follow it
    n = len(frame)
    first, last = FIRST_ROW, FIRST_ROW + n - 1
    data = data_columns(features, features.schema_.target_columns)
    if columns is None:
        columns = features.columns(frame, training=True)
        X = features.program_.inputs(columns)
    y = features.target(frame)
    statistics = statistic_refs(features, data, STATISTIC_ROWS, None)
    sheet = Sheet(fitted.name, FIRST_ROW, n, columns=_raw_columns(data, frame, filled, fill_formulas(features, statistics, data)))
    sheet.frozen_columns = len(data.raw)
    sheet.cells += _statistics(features, data, first, last)
    whole = whole_columns(features, n, test, None, training=True)
    sheet.columns += derived_columns(features, data, columns, whole)
    _, blocks, loss_col = model_layout(features, model, n)
    sheet.columns += feature_columns(features, data, X, statistics, levels=levels_refs(features, blocks, None))

    inputs = (data.first_input, data.last_input)
    loss, coding = model.loss_op, features.target_
    k = coding.outputs
    columns = model_columns(
        model, blocks, None, inputs, data.next_free, first, last, fitted.params, X, pred_names=coding.prediction_names(),
        input_names=features.feature_names_,
    )
    sheet.columns += columns
    first_pred, preds_col = columns[-k].col, columns[-1].col
    pred = columns[-1].values if k == 1 else np.column_stack([c.values for c in columns[-k:]])

    target_col = data.raw[target]
    target_ref = excel.cell(R, target_col)
    cell = ExcelBackend()  # one row's cells
    # the file's value is on the sheet; the formulas code it, as Python does (a regression target by its scale cell;
    # a target of several classes into one 0/1 column per class, then the predicted class)
    statistic = target_statistic_ref(features, data, None)
    pred_row = excel.area(excel.cell(R, first_pred, fixed_col=True), excel.cell(R, preds_col, fixed_col=True))
    ranges = _column_ranges(first, last)
    coded = coded_block(features, data, loss_col)
    if coded is None:
        pred_value, coded_value = cell.formula(excel.cell(R, preds_col)), cell.formula(coding.excel_code(target_ref, statistic=statistic))
        coded_range = None
    else:
        for j, name in enumerate(coding.coded_names()):
            formula = coding.excel_coded(excel.cell(R, target_col, fixed_col=True), j)
            sheet.columns.append(Column(coded[0] + j, name, y[:, j], formula=formula))
        coded_row = excel.area(excel.cell(R, coded[0], fixed_col=True), excel.cell(R, coded[1], fixed_col=True))
        pred_value, coded_value = cell.formula(pred_row, (k,)), cell.formula(coded_row, (k,))
        coded_range = ranges(coded[0], coded[1])
    classes_range = None
    if coding.class_column:
        classify = coding.excel_classify_row(pred_row)
        sheet.columns.append(Column(loss_col - 1, "Class", list(coding.classes_of(pred)), formula=classify))
        classes_range = ranges(loss_col - 1, loss_col - 1)
    formula, losses = loss.rows(pred_value, coded_value, cell), loss.rows(pred, y)
    if losses.ndim == 2:  # several labels: a row's loss is the sum of its labels' (a one-cell array formula)
        formula, losses = formula.sum(-1), losses.sum(-1)
    pred_size = columns[-1].scale if k == 1 else np.column_stack([c.scale for c in columns[-k:]])
    loss_sizes = loss.rows_size(pred, y, pred_size)
    sheet.columns.append(
        Column(
            loss_col, "Loss", losses, formula=excel.strip_outer(formula.text), array_cells=losses.ndim == 1 and k > 1,
            scale=loss_sizes,
        )
    )

    valid = np.zeros(n, dtype=bool)
    valid[valid_positions(fitted.training, n)] = True
    valid_col = loss_col + VALID_OFFSET
    sheet.columns.append(Column(valid_col, "Valid", valid.astype(np.float64)))

    losses = ranges(loss_col, loss_col)
    targets = ranges(target_col, target_col)
    marks = ranges(valid_col, valid_col)
    sheet_ranges = ScoreRanges(ranges(first_pred, preds_col), targets, statistic, coded_range, classes_range)
    train = ~valid
    # a score reads the target column through the target's coding, which may need an array formula
    array = coding.array_scores

    @dataclass
    class Score:
        label: str
        value: float
        formula: str
        in_array: bool = False
        position: int = 0  # the metric's place among the target's (the losses: 0)
        valid: bool = False
        size: float | None = None  # the size of the terms behind it, for verify's tolerance

    def score(label: str, key: str, position: int, rows: np.ndarray | None, among: str | None, count: Any) -> Score:
        on = slice(None) if rows is None else rows
        return Score(
            label, coding.score(key, pred[on], y[on]), coding.excel_score(key, sheet_ranges, count, among), array,
            position, label.startswith("Valid"), coding.score_size(key, pred[on], y[on]),
        )

    if valid.any():
        # the Solver objective is the training rows' loss alone: re-solving must not fit the held-out rows
        scores = [
            Score(
                "Train loss:", float(loss.mean(pred[train], y[train])), excel.AVERAGEIF(marks, 0, losses),
                size=float(loss_sizes[train].mean()),
            ),
            Score(
                "Valid loss:", float(loss.mean(pred[valid], y[valid])), excel.AVERAGEIF(marks, 1, losses), valid=True,
                size=float(loss_sizes[valid].mean()),
            ),
        ]
        for position, key in enumerate(coding.metrics):
            label = SCORE_LABELS[key]
            scores += [
                score(f"Train {label}:", key, position, train, f"{marks}=0", excel.COUNTIF(marks, 0)),
                score(f"Valid {label}:", key, position, valid, f"{marks}=1", excel.COUNTIF(marks, 1)),
            ]
    else:  # every row trains: the lesson's AVERAGE over the whole column
        scores = [Score("Train loss:", float(loss.mean(pred, y)), excel.AVERAGE(losses), size=float(loss_sizes.mean()))]
        scores += [
            score(f"Train {SCORE_LABELS[key]}:", key, position, None, None, n) for position, key in enumerate(coding.metrics)
        ]
    placed = {}
    for entry in scores:
        row, col = score_cell(entry.label, entry.position, entry.valid)
        own = excel.cell(row, loss_col + col) if entry.in_array else None
        sheet.cells += [
            Cell(row, loss_col + col - 1, entry.label, style="label"),
            Cell(
                row, loss_col + col, entry.value, excel.checked(entry.formula), style="total", array_ref=own,
                scale=entry.size,
            ),
        ]
        placed[entry.label] = excel.cell(row, loss_col + col)
    # each member's blocks titled by its member, as its columns are headed
    for j, (own, params) in enumerate(zip(member_blocks(model, blocks), model.split(fitted.params))):
        sheet.cells += param_cells(own, model.member.arrays(params), prefix=model.member_label(j))
    sheet.widths = {loss_col - 1: 14.0, loss_col + 1: 14.0, loss_col + PARAMS_OFFSET: 12.0}
    objective = _penalty_cells(sheet, fitted, blocks, loss_col, scores[0].value, placed["Train loss:"])
    return ModelSheet(
        sheet, data, blocks, preds_col, excel.absolute(MAX_ROW, loss_col), valid_col, int(valid.sum()), placed, objective
    )


# Right of the losses in their row: weight decay's orange cell, its L2 penalty and the objective, each after its label
# (columns right of the Loss column); the parameter blocks start two rows below.
PENALTY_CELLS = {"Weight decay:": 4, "L2 penalty:": 6, "Objective:": 8}


def _sum_of_squares(block: ParamBlock, grid: np.ndarray) -> str:
    """The sum of the squares of a block's decayed cells: the whole block, or the rectangle the decayed cells fill
    (an embedding table but its unseen row), or else the block times its mask as a constant array."""
    rows, cols = np.nonzero(grid)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    if grid[top:bottom + 1, left:right + 1].all() and grid.sum() == (bottom - top + 1) * (right - left + 1):
        part = excel.area(block.cell(top, left), block.cell(bottom, right))
        return excel.SUMPRODUCT(part, part)
    return excel.SUMPRODUCT(block.block(), block.block(), excel.array_constant(grid))


def _penalty_cells(
    sheet: Sheet, fitted: FittedModel, blocks: Sequence[ParamBlock], loss_col: int, loss: float, loss_ref: str
) -> str | None:
    """Where the model trained with weight decay: its wd (an input cell), the L2 penalty wd/2 * sum(w^2) over the
    weights that decay (each op's mask: no bias), and the objective, loss + penalty, which Solver then minimises
    (fit_solver's own objective). None, and no cells, without decay."""
    wd = trained_wd(fitted.training)
    if not wd:
        return None
    model = fitted.model
    masks = model.decay_masks(fitted.features.n_features_)
    wd_cell = excel.cell(MAX_ROW, loss_col + PENALTY_CELLS["Weight decay:"])
    terms, penalty = [], 0.0
    for own, params in zip(member_blocks(model, blocks), model.split(fitted.params)):
        arrays = model.member.arrays(params)
        penalty += l2_penalty(wd, arrays, masks)[0]
        for block, mask in zip(own, masks):
            grid = block.grid(mask)
            if grid.any():
                terms.append(_sum_of_squares(block, grid))
    formulas = {
        "Weight decay:": (wd, None, "param"),
        "L2 penalty:": (penalty, f"{wd_cell}/2*({'+'.join(terms) or '0'})", "total"),
        "Objective:": (loss + penalty, f"{loss_ref}+{excel.cell(MAX_ROW, loss_col + PENALTY_CELLS['L2 penalty:'])}", "total"),
    }
    for label, (value, formula, style) in formulas.items():
        col = loss_col + PENALTY_CELLS[label]
        sheet.cells += [
            Cell(MAX_ROW, col - 1, label, style="label"),
            Cell(MAX_ROW, col, value, None if formula is None else excel.checked(formula), style=style),
        ]
    return excel.absolute(MAX_ROW, loss_col + PENALTY_CELLS["Objective:"])


def _column_ranges(first: int, last: int) -> Any:
    """A function giving the range of the data rows `first`..`last` of the columns `left`..`right`."""

    def ranges(left: int, right: int) -> str:
        return excel.area(excel.cell(first, left), excel.cell(last, right))

    return ranges


def param_cells(blocks: Sequence[ParamBlock], arrays: Sequence[np.ndarray], prefix: str = "") -> list[Cell]:
    cells = []
    for block in blocks:
        title = prefix + block.layout.title(block.index)
        cells.append(Cell(block.header_row, block.label_col, title, style="label"))
        cells += [Cell(block.header_row, block.left + k, name, style="header") for k, name in enumerate(block.col_labels)]
        if block.layout.labels_rows:
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
    preds_cols: dict[str, tuple[int, int]]  # each model's first and last prediction column
    id_column: str | None


def test_sheet(
    fits: Sequence[tuple[FittedModel, ModelSheet]],
    frame: pd.DataFrame,
    filled: pd.DataFrame,
    id_column: str | None,
    note: str,
) -> TestSheet:
    """The test rows with the training sheet's feature formulas (its Max and Fill cells) and each model's columns."""
    first_fit, first_sheet = fits[0]
    features = first_fit.features
    n = len(frame)
    first, last = FIRST_ROW, FIRST_ROW + n - 1
    data = data_columns(features, [id_column] if id_column else [])
    computed = features.columns(frame)
    X = features.program_.inputs(computed)
    train_name = first_sheet.sheet.name
    statistics = statistic_refs(features, first_sheet.data, STATISTIC_ROWS, train_name)
    sheet = Sheet(TEST_SHEET, FIRST_ROW, n, columns=_raw_columns(data, frame, filled, fill_formulas(features, statistics, data)))
    sheet.frozen_columns = len(data.raw)
    whole = whole_columns(features, first_sheet.sheet.n_rows, (data, n), train_name, training=False)
    sheet.columns += derived_columns(features, data, computed, whole)
    levels = levels_refs(features, first_sheet.blocks, train_name)
    sheet.columns += feature_columns(features, data, X, statistics, levels=levels)
    next_col = data.next_free
    preds_cols = {}
    for fitted, model_sheet_ in fits:
        columns = model_columns(
            fitted.model, model_sheet_.blocks, model_sheet_.sheet.name, (data.first_input, data.last_input),
            next_col, first, last, fitted.params, X, header_prefix=f"{fitted.name} ",
            pred_names=fitted.features.target_.prediction_names(), input_names=fitted.features.feature_names_,
        )
        sheet.columns += columns
        preds_cols[fitted.name] = (columns[-fitted.features.target_.outputs].col, columns[-1].col)
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


def filled_note(features: Features, frame: pd.DataFrame, filled: pd.DataFrame, train_sheet: str) -> str:
    """What was filled in, e.g. 'Age: 86 blank cells filled with 24'."""
    parts = []
    for name in features.schema_.input_columns:
        count = int(filled[name].sum()) if name in filled else 0
        if count:
            value = features.fill_values_.get(name)
            how = f"{value!r}" if value is not None else features.fill_rule(name)  # a group's value, by the row
            parts.append(f"{name}: {count} blank cell{'s' if count > 1 else ''} filled with {how}")
    if not parts:
        return "No blank cells: every value is as read."
    return (
        f"Highlighted cells were blank and refer to the training mode in row {FILL_ROW} of sheet {train_sheet}. "
        + "; ".join(parts) + "."
    )


def submission_sheet(test: TestSheet, fitted: FittedModel) -> Sheet:
    """The id and the target =IF(pred>0.5,1,0) (the Titanic's PassengerId and Survived), header in row 1, so the
    sheet saves as the same CSV `titanic-nn fit` writes: the schema's id column (or Row numbers) and target."""
    n = test.sheet.n_rows
    shift = test.sheet.first_row - 2
    first_pred, preds_col = test.preds_cols[fitted.name]
    pred = np.column_stack([
        np.asarray(test.sheet.column_at(col).values, dtype=np.float64) for col in range(first_pred, preds_col + 1)
    ])
    pred = pred[:, 0] if pred.shape[1] == 1 else pred
    sheet = Sheet(SUBMISSION_SHEET, 2, n)
    if test.id_column:
        id_col = test.data.raw[test.id_column]
        ids = test.sheet.column_at(id_col).values
        sheet.columns.append(
            Column(0, test.id_column, ids, formula=excel.on_sheet(TEST_SHEET, excel.cell(R, id_col)), shift=shift)
        )
    else:
        sheet.columns.append(Column(0, ROW_NUMBER_COLUMN, np.arange(1, n + 1, dtype=np.float64)))
    coding = fitted.features.target_
    statistic = target_statistic_ref(fitted.features, data_columns(fitted.features, fitted.features.schema_.target_columns), fitted.name)
    written = coding.submission(pred)
    names = fitted.features.schema_.target_columns
    if len(names) > 1:  # several labels: a column each, from its own prediction
        for j, name in enumerate(names):
            own = coding.excel_submission(excel.on_sheet(TEST_SHEET, excel.cell(R, first_pred + j)), statistic)
            sheet.columns.append(Column(1 + j, name, written[:, j].astype(np.float64), formula=own, shift=shift))
        return sheet
    row = excel.area(excel.cell(R, first_pred), excel.cell(R, preds_col))  # one cell, or the row's K predictions
    formula = coding.excel_submission(excel.on_sheet(TEST_SHEET, row), statistic)
    values = written.astype(np.float64) if written.dtype != object else written.tolist()
    sheet.columns.append(Column(1, names[0], values, formula=formula, shift=shift))
    return sheet


def check_counted(features: Features, train: Any, test: Any) -> None:
    """The rows a workbook holds must be those a count was learned over, else its formulas would count others."""
    for op in features.program_.placed_ops:
        check = getattr(op, "check_rows", None)
        if check is not None:
            check(train, test)


def build_sheets(
    fits: Sequence[FittedModel],
    train_frame: pd.DataFrame,
    train_filled: pd.DataFrame,
    test_frame: pd.DataFrame | None = None,
    test_filled: pd.DataFrame | None = None,
    *,
    id_column: str | None = None,
    submission: FittedModel | None = None,
) -> tuple[list[ModelSheet], list[Sheet]]:
    """Every data sheet: the model sheets, then (with test rows) the test and submission sheets."""
    features = fits[0].features
    # the models share one fitted Features: transform the training rows once, not once per model (each row's
    # own label left out of any rate of the target)
    columns = features.columns(train_frame, training=True)
    X = features.program_.inputs(columns)
    test = None
    if test_frame is not None:
        test = (data_columns(features, [id_column] if id_column else []), len(test_frame))
    check_counted(features, columns, None if test_frame is None else features.columns(test_frame))
    model_sheets = [model_sheet(fit, train_frame, train_filled, X, test, columns) for fit in fits]
    others: list[Sheet] = []
    if test_frame is not None:
        note = filled_note(fits[0].features, test_frame, test_filled, model_sheets[0].sheet.name)
        test_part = test_sheet(list(zip(fits, model_sheets)), test_frame, test_filled, id_column, note)
        others = [test_part.sheet, submission_sheet(test_part, submission or fits[0])]
    for sheet in [m.sheet for m in model_sheets] + others:
        _check_finite_cells(sheet)
    return model_sheets, others


def _check_finite_cells(sheet: Sheet) -> None:
    """Every number Python computes for a formula is finite: an overflow is inf in Python and #NUM! in a sheet, so a
    workbook holding one could prove nothing. A DataError names the sheet, the column and the row."""
    for column in sheet.columns:
        if not column.computed or column.values is None:
            continue
        values = column.values
        if not isinstance(values, np.ndarray) or values.dtype.kind != "f":
            values = np.array([v if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0 for v in values])
        bad = ~np.isfinite(values)
        if bad.any():
            first = int(bad.argmax())
            raise DataError(
                f"sheet {sheet.name}, column {column.header} ({excel.column_letter(column.col)}), row "
                f"{sheet.first_row + first}: Python computes {values[first]!r}, which a spreadsheet holds as an error; "
                "scale the inputs (divide by the max) or train the model again"
            )
    for cell in sheet.cells:
        value = cell.value
        if cell.computed and isinstance(value, float) and not np.isfinite(value):
            raise DataError(
                f"sheet {sheet.name}, cell {excel.column_letter(cell.col)}{cell.row}: Python computes {value!r}, which a "
                "spreadsheet holds as an error; scale the inputs (divide by the max) or train the model again"
            )
