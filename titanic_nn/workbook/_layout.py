"""Where things sit on the workbook's sheets: the fixed rows, the raw and feature columns, the parameter blocks and
how each lays out its array (a layout class each)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from .. import excel
from ..features import Features
from ..nn import AddBias, Embed, Model

__all__ = [
    "model_name_problem", "MAX_ROW", "FILL_ROW", "SCORE_ROW", "HEADER_ROW", "FIRST_ROW", "data_rows", "RESERVED_SHEETS", "METADATA_SHEET",
    "DataColumns", "data_columns", "Layout", "ByUnit", "Matrix", "Bias", "Table", "BY_UNIT", "MATRIX", "BIAS", "TABLE",
    "MATRIX_LAYOUTS", "UNSEEN_LABEL",
    "matrix_layout", "ParamBlock", "place_params", "member_blocks", "unit_names",
]

MAX_ROW = 1  # the MAX cells of max-scaled columns, and the total loss
FILL_ROW = 2  # the fill value of each input column (its training mode), which filled cells refer to
SCORE_ROW = 2  # the accuracy
HEADER_ROW = 3
FIRST_ROW = 4  # the first data row, as in the lesson workbook

ABOUT_SHEET, TEST_SHEET, SUBMISSION_SHEET, LOSS_SHEET, METADATA_SHEET = (
    "about", "test", "submission", "loss", "_titanic_nn",
)
RESERVED_SHEETS = (ABOUT_SHEET, TEST_SHEET, SUBMISSION_SHEET, LOSS_SHEET, METADATA_SHEET)

def data_rows() -> int:
    """The data rows a sheet holds below its header rows: every limit on the rows a workbook shows is this one."""
    return excel.MAX_ROWS - (FIRST_ROW - 1)


# A model's sheet name: what Excel, LibreOffice and Gnumeric all take unquoted, and a plain file name too.
_MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,30}")


def model_name_problem(name: object) -> str | None:
    """Why `name` cannot name a model's sheet (None when it can): up to 31 letters, digits or _, starting with a
    letter or _, and not one of the workbook's own sheets."""
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name):
        return "is not up to 31 letters, digits or _ starting with a letter or _"
    if name.lower() in RESERVED_SHEETS:
        return f"is one of the workbook's own sheets ({', '.join(RESERVED_SHEETS)})"
    return None


# The lesson workbook's raw-column order; columns it does not name follow in the schema's order.
LESSON_ORDER = ("Survived", "Embarked", "Pclass", "Sex", "Age", "Fare")


@dataclass(frozen=True)
class DataColumns:
    """The raw columns (name -> 0-based column) and the column of each model input, in feature order.

    The first `passthrough` inputs are raw columns used as they are (the lesson's SibSp and Parch); they
    sit last among the raw columns, right before the feature formulas, so the inputs form one block.
    """

    raw: dict[str, int]
    inputs: tuple[int, ...]
    passthrough: int
    derived: dict[str, int] = field(default_factory=dict)  # each derived column's own column, right of the raw ones

    def col(self, name: str) -> int:
        """The column of a raw or derived column."""
        return self.raw[name] if name in self.raw else self.derived[name]

    @property
    def first_input(self) -> int:
        return self.inputs[0]

    @property
    def last_input(self) -> int:
        return self.inputs[-1]

    @property
    def next_free(self) -> int:
        return max([*self.raw.values(), *self.derived.values(), *self.inputs]) + 1


def data_columns(features: Features, leading: Sequence[str]) -> DataColumns:
    """The columns of a training sheet (leading = the target) or a test sheet (leading = the id)."""
    schema = features.schema_
    # leading features that are raw columns as they are need no formula: the raw column is the input
    # (not with derived columns: they sit between the raw columns and the features)
    tail: list[str] = []
    placed = features.program_.placed_columns
    for op in features.program_.feature_ops:
        if placed or not op.passthrough:
            break
        tail.append(op.inputs[0])
    passthrough = len(tail)
    middle = [c for c in schema.input_columns if c not in tail]
    middle.sort(key=lambda c: LESSON_ORDER.index(c) if c in LESSON_ORDER else len(LESSON_ORDER))
    names = [*leading, *middle, *tail]
    raw = {name: i for i, name in enumerate(names)}
    derived = {name: len(names) + i for i, name in enumerate(placed)}
    formulas_from = len(names) + len(placed)
    n_features = len(features.feature_names_)
    inputs = tuple(raw[c] for c in tail) + tuple(range(formulas_from, formulas_from + n_features - passthrough))
    return DataColumns(raw=raw, inputs=inputs, passthrough=passthrough, derived=derived)


class Layout:
    """How a parameter array is laid out on the sheet as a grid of cells, and read as the program's array from it.

    `grid_shape` is the grid's (rows, columns) for an array of (inputs, units); `grid` and `array` convert;
    `program` is the Excel expression of the program's array from the block's range, and `cells` the
    inverse for a gradient (an array expression in the program's orientation, as the block holds it).
    """

    def grid_shape(self, n_in: int, n_out: int) -> tuple[int, int]:
        raise NotImplementedError

    def title(self, index: int) -> str:
        """The block's title on the sheet, from the array's position in the program's list."""
        return f"Weights {index + 1}"

    @property
    def labels_rows(self) -> bool:
        """Whether each row of the grid is labelled (its input or unit)."""
        return True

    def grid(self, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def array(self, grid: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def program(self, block: str) -> str:
        return block

    def cells(self, expression: str) -> str:
        return expression

    def labels(self, inputs: Sequence[str], units: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The labels of the grid's rows and columns."""
        raise NotImplementedError


class ByUnit(Layout):
    """A weight matrix with one row per unit: what each unit's SUMPRODUCT multiplies (the lesson's nnet sheet)."""

    def grid_shape(self, n_in: int, n_out: int) -> tuple[int, int]:
        return n_out, n_in

    def grid(self, array: np.ndarray) -> np.ndarray:
        return np.asarray(array, dtype=np.float64).T

    def array(self, grid: np.ndarray) -> np.ndarray:
        return np.asarray(grid, dtype=np.float64).T.copy()

    def program(self, block: str) -> str:
        return excel.TRANSPOSE(block)

    def cells(self, expression: str) -> str:
        return excel.TRANSPOSE(expression)

    def labels(self, inputs: Sequence[str], units: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(units), tuple(inputs)


class Matrix(Layout):
    """The (inputs x units) matrix, as MMULT takes it (the lesson's mmult sheet)."""

    def grid_shape(self, n_in: int, n_out: int) -> tuple[int, int]:
        return n_in, n_out

    def grid(self, array: np.ndarray) -> np.ndarray:
        return np.asarray(array, dtype=np.float64)

    def array(self, grid: np.ndarray) -> np.ndarray:
        return np.asarray(grid, dtype=np.float64).copy()

    def labels(self, inputs: Sequence[str], units: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return tuple(inputs), tuple(units)


class Bias(Layout):
    """One constant per unit, in one row."""

    def title(self, index: int) -> str:
        return "Bias"

    @property
    def labels_rows(self) -> bool:
        return False

    def grid_shape(self, n_in: int, n_out: int) -> tuple[int, int]:
        return 1, n_out

    def grid(self, array: np.ndarray) -> np.ndarray:
        return np.asarray(array, dtype=np.float64).reshape(1, -1)

    def array(self, grid: np.ndarray) -> np.ndarray:
        return np.asarray(grid, dtype=np.float64).reshape(-1).copy()

    def labels(self, inputs: Sequence[str], units: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("Bias",), tuple(units)


class Table(Matrix):
    """An embedding table: one row per level, its text as the row's label (what a row's level number is found by), the
    last row for levels unseen in training; one column per value of the embedding."""

    def title(self, index: int) -> str:
        return "Embedding"


# The label of an embedding table's last row: the values of a level never seen in training.
UNSEEN_LABEL = "(unseen)"

BY_UNIT, MATRIX, BIAS, TABLE = ByUnit(), Matrix(), Bias(), Table()

# How each kind's weight matrices are laid out: the lesson's linear and nnet sheets multiply one row of weights per
# unit (a SUMPRODUCT per unit and row), its mmult sheet and every other kind one matrix (one MMULT).
MATRIX_LAYOUTS: dict[str, Layout] = {"linear": BY_UNIT, "nnet": BY_UNIT}


def matrix_layout(model: Model) -> Layout:
    return MATRIX_LAYOUTS.get(model.kind, MATRIX)


@dataclass(frozen=True)
class ParamBlock:
    """One parameter array on the sheet, laid out by `layout`: labels in `label_col`, a header row, then the values."""

    index: int
    layout: Layout
    n_in: int
    n_out: int
    label_col: int
    header_row: int
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return self.layout.grid_shape(self.n_in, self.n_out)

    @property
    def top(self) -> int:
        return self.header_row + 1

    @property
    def left(self) -> int:
        return self.label_col + 1

    @property
    def bottom(self) -> int:
        return self.top + self.grid_shape[0] - 1

    @property
    def right(self) -> int:
        return self.left + self.grid_shape[1] - 1

    def block(self) -> str:
        return excel.area(excel.absolute(self.top, self.left), excel.absolute(self.bottom, self.right))

    def row(self, i: int) -> str:
        """Row i of the grid (a unit's weights, by unit), as a range."""
        return excel.area(excel.absolute(self.top + i, self.left), excel.absolute(self.top + i, self.right))

    def cell(self, i: int, j: int) -> str:
        return excel.absolute(self.top + i, self.left + j)

    def grid(self, array: np.ndarray) -> np.ndarray:
        """The program's array as the sheet's grid of cells."""
        return self.layout.grid(array)

    def array(self, grid: np.ndarray) -> np.ndarray:
        """The inverse of `grid`: cells read from the sheet as the program's array."""
        return self.layout.array(np.asarray(grid, dtype=np.float64).reshape(self.grid_shape))


def unit_names(model: Model, n_features: int = 1, inputs: Sequence[str] | None = None) -> list[list[str]]:
    """The column labels of each op's output units, by op position in the program (each op names its own), from the
    inputs' names (default x1, x2, ...: an embedding names its values after its column's)."""
    shapes = model.shapes(n_features)
    current = list(inputs) if inputs is not None else [f"x{i + 1}" for i in range(n_features)]
    names = []
    for op in model.program():
        current = op.names(current, shapes)
        names.append(current)
    return names


def place_params(
    model: Model, feature_names: Sequence[str], label_col: int, levels: Sequence[Sequence[str]] = ()
) -> list[ParamBlock]:
    """The parameter blocks of every member of `model`, one under another from the header row, labels in `label_col`:
    each member's blocks in its program's order, a blank row between members, numbered as `model.arrays` lists them.

    `levels` are each embedded column's levels, in order (`Features.embedded_levels_`): its table's row labels."""
    member = model.member
    shapes = member.shapes(len(feature_names))
    names = unit_names(member, len(feature_names), feature_names)
    blocks: list[ParamBlock] = []
    header_row = HEADER_ROW
    for j in range(model.k):
        inputs: list[str] = list(feature_names)
        tables = iter(levels)
        for position, op in enumerate(member.program()):
            units = names[position]
            if op.param is not None:
                shape = shapes[op.param]
                layout = _param_layout(model, op)
                n_in, n_out = (shape[0], shape[0]) if len(shape) == 1 else shape
                if layout is TABLE:
                    table_levels = next(tables, None)
                    labels = [*table_levels, UNSEEN_LABEL] if table_levels is not None else [f"level {i + 1}" for i in range(n_in)]
                    rows, cols = tuple(labels), tuple(units[-n_out:])
                else:
                    rows, cols = layout.labels(inputs, units)
                block = ParamBlock(op.param + j * len(shapes), layout, n_in, n_out, label_col, header_row, rows, cols)
                blocks.append(block)
                header_row = block.bottom + 2
            inputs = units
    return sorted(blocks, key=lambda b: b.index)


def _param_layout(model: Model, op: object) -> Layout:
    """How the array an op uses is laid out: an embedding's table, a bias's row, or the model's weight matrices'."""
    if isinstance(op, Embed):
        return TABLE
    if isinstance(op, AddBias):
        return BIAS
    return matrix_layout(model)


def member_blocks(model: Model, blocks: Sequence[ParamBlock]) -> list[list[ParamBlock]]:
    """The blocks split by member, each member's numbered from 0 as its program indexes them."""
    per = len(blocks) // model.k
    ordered = sorted(blocks, key=lambda b: b.index)
    return [[replace(b, index=b.index - j * per) for b in ordered[j * per:(j + 1) * per]] for j in range(model.k)]
