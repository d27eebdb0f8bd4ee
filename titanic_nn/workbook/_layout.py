"""Where things sit on the workbook's sheets: the fixed rows, the raw and feature columns, the parameter blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np

from .. import excel
from ..features import Features
from ..nn import Model

__all__ = [
    "model_name_problem", "MAX_ROW", "FILL_ROW", "SCORE_ROW", "HEADER_ROW", "FIRST_ROW", "RESERVED_SHEETS", "METADATA_SHEET",
    "DataColumns", "data_columns", "ParamBlock", "place_params", "unit_names",
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


@dataclass(frozen=True)
class ParamBlock:
    """One parameter array on the sheet: labels in `label_col`, a header row, then the values.

    kind "by_unit": a weight matrix with one row per unit (what each SUMPRODUCT multiplies);
    "matrix": the (inputs x units) matrix MMULT takes; "bias": one constant per unit, in one row.
    """

    index: int
    kind: str
    n_in: int
    n_out: int
    label_col: int
    header_row: int
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return {"by_unit": (self.n_out, self.n_in), "matrix": (self.n_in, self.n_out), "bias": (1, self.n_out)}[
            self.kind
        ]

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

    def unit(self, j: int) -> str:
        """What unit j multiplies by (a row of weights) or adds (its bias cell)."""
        if self.kind == "by_unit":
            return excel.area(excel.absolute(self.top + j, self.left), excel.absolute(self.top + j, self.right))
        if self.kind == "bias":
            return excel.absolute(self.top, self.left + j)
        raise ValueError("a matrix block is used whole, by MMULT")

    def grid(self, array: np.ndarray) -> np.ndarray:
        """The program's array as the sheet's grid of cells."""
        array = np.asarray(array, dtype=np.float64)
        if self.kind == "by_unit":
            return array.T
        if self.kind == "bias":
            return array.reshape(1, -1)
        return array

    def array(self, grid: np.ndarray) -> np.ndarray:
        """The inverse of `grid`: cells read from the sheet as the program's array."""
        grid = np.asarray(grid, dtype=np.float64).reshape(self.grid_shape)
        if self.kind == "by_unit":
            return grid.T.copy()
        if self.kind == "bias":
            return grid.reshape(-1).copy()
        return grid.copy()


def unit_names(model: Model, n_features: int = 1) -> list[list[str]]:
    """The column labels of each op's output units, by op position in the program (each op names its own)."""
    shapes = model.shapes(n_features)
    current = [f"x{i + 1}" for i in range(n_features)]
    names = []
    for op in model.program():
        current = op.names(current, shapes)
        names.append(current)
    return names


def place_params(model: Model, feature_names: Sequence[str], label_col: int, style: str) -> list[ParamBlock]:
    """The parameter blocks of `model`, one under another from the header row, labels in `label_col`.

    `style` is the renderer's way with matrix products ("sumproduct" or "mmult"), which sets how each
    weight matrix is laid out (its op's `param_grid`). An ensemble's members' blocks follow one another
    down the same columns, a blank row between members, numbered as the ensemble's `arrays` are.
    """
    from ..nn import Ensemble

    if isinstance(model, Ensemble):
        per = len(model.member.shapes(len(feature_names)))
        one = place_params(model.member, feature_names, label_col, style)
        height = max(b.bottom for b in one) - HEADER_ROW + 2
        return [
            replace(b, index=b.index + j * per, header_row=b.header_row + j * height) for j in range(model.k) for b in one
        ]
    shapes = model.shapes(len(feature_names))
    names = unit_names(model, len(feature_names))
    blocks: list[ParamBlock] = []
    inputs: list[str] = list(feature_names)
    header_row = HEADER_ROW
    for position, op in enumerate(model.program()):
        units = names[position]
        grid = op.param_grid(style)
        if grid is not None:
            shape = shapes[op.param]
            n_in, n_out = (shape[0], shape[0]) if grid == "bias" else shape
            rows, cols = {"by_unit": (units, inputs), "matrix": (inputs, units), "bias": (["Bias"], inputs)}[grid]
            block = ParamBlock(op.param, grid, n_in, n_out, label_col, header_row, tuple(rows), tuple(cols))
            blocks.append(block)
            header_row = block.bottom + 2
        inputs = units
    return sorted(blocks, key=lambda b: b.index)
