"""Where things sit on the workbook's sheets: the fixed rows, the raw and feature columns, the parameter blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import excel
from .features import Features
from .models import Model
from .ops import AddBias, MatMul, ReLU

__all__ = [
    "MAX_ROW", "SCORE_ROW", "HEADER_ROW", "FIRST_ROW", "RESERVED_SHEETS", "METADATA_SHEET",
    "DataColumns", "data_columns", "ParamBlock", "place_params", "unit_names",
]

MAX_ROW = 1  # the MAX cells of max-scaled columns, and the total loss
SCORE_ROW = 2  # the accuracy
HEADER_ROW = 3
FIRST_ROW = 4  # the first data row, as in the lesson workbook

ABOUT_SHEET, TEST_SHEET, SUBMISSION_SHEET, LOSS_SHEET, METADATA_SHEET = (
    "about", "test", "submission", "loss", "_titanic_nn",
)
RESERVED_SHEETS = (ABOUT_SHEET, TEST_SHEET, SUBMISSION_SHEET, LOSS_SHEET, METADATA_SHEET)

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

    @property
    def first_input(self) -> int:
        return self.inputs[0]

    @property
    def last_input(self) -> int:
        return self.inputs[-1]

    @property
    def next_free(self) -> int:
        return max([*self.raw.values(), *self.inputs]) + 1


def data_columns(features: Features, leading: Sequence[str]) -> DataColumns:
    """The columns of a training sheet (leading = the target) or a test sheet (leading = the id)."""
    schema = features.schema_
    passthrough = 0
    for spec in schema.continuous:
        if spec.log != "none" or spec.scale != "none":
            break
        passthrough += 1
    tail = [spec.column for spec in schema.continuous[:passthrough]]
    middle = [c for c in schema.input_columns if c not in tail]
    middle.sort(key=lambda c: LESSON_ORDER.index(c) if c in LESSON_ORDER else len(LESSON_ORDER))
    names = [*leading, *middle, *tail]
    raw = {name: i for i, name in enumerate(names)}
    formulas_from = len(names)
    n_features = len(features.feature_names_)
    inputs = tuple(raw[c] for c in tail) + tuple(range(formulas_from, formulas_from + n_features - passthrough))
    return DataColumns(raw=raw, inputs=inputs, passthrough=passthrough)


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


def unit_names(model: Model) -> dict[int, list[str]]:
    """The column headers of each op's output units, by op position in the program (for MatMul and ReLU)."""
    program = model.program()
    names: dict[int, list[str]] = {}
    layer = 0
    widths = _widths(model)
    current: list[str] = []
    for position, op in enumerate(program):
        if isinstance(op, MatMul):
            n_out = widths[op.weight][1]
            if position + 1 < len(program) and isinstance(program[position + 1], AddBias):
                current = ["Head"] if n_out == 1 else [f"Head{j + 1}" for j in range(n_out)]
            else:
                layer += 1
                prefix = "" if layer == 1 else f"L{layer}"
                current = [f"{prefix}Lin{j + 1}" for j in range(n_out)]
            names[position] = current
        elif isinstance(op, ReLU):
            current = [name.replace("Lin", "ReLU") if "Lin" in name else f"ReLU({name})" for name in current]
            names[position] = current
    return names


def _widths(model: Model) -> dict[int, tuple[int, int]]:
    # the (n_in, n_out) of each weight, without knowing the number of features: only n_out is used here
    shapes = model.shapes(1)
    return {i: (s[0], s[1]) for i, s in enumerate(shapes) if len(s) == 2}


def place_params(model: Model, feature_names: Sequence[str], label_col: int) -> list[ParamBlock]:
    """The parameter blocks of `model`, one under another from the header row, labels in `label_col`."""
    program = model.program()
    names = unit_names(model)
    shapes = model.shapes(len(feature_names))
    blocks: list[ParamBlock] = []
    inputs: list[str] = list(feature_names)
    header_row = HEADER_ROW
    by_unit = model.sheet_style == "sumproduct"
    for position, op in enumerate(program):
        if isinstance(op, MatMul):
            n_in, n_out = shapes[op.weight]
            units = names[position]
            if by_unit:
                block = ParamBlock(op.weight, "by_unit", n_in, n_out, label_col, header_row, tuple(units), tuple(inputs))
            else:
                block = ParamBlock(op.weight, "matrix", n_in, n_out, label_col, header_row, tuple(inputs), tuple(units))
            inputs = units
        elif isinstance(op, AddBias):
            (n_out,) = shapes[op.bias]
            block = ParamBlock(op.bias, "bias", n_out, n_out, label_col, header_row, ("Bias",), tuple(inputs))
        else:
            if isinstance(op, ReLU):
                inputs = names[position]
            continue
        blocks.append(block)
        header_row = block.bottom + 2
    return sorted(blocks, key=lambda b: b.index)
