"""Renders the features and a model's op program to sheet columns: Excel formulas beside Python's float64 values.

The model's math exists once, as its program of ops; this walks that program, so the sheet computes
exactly the steps Python computes (tinygrad's renderers, with Excel as the target language).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import excel
from .cells import Cell, Column
from .errors import TitanicNNError
from .features import Features, level_key
from .layout import DataColumns, ParamBlock, unit_names
from .models import Model
from .ops import AddBias, MatMul, ReLU, Sigmoid, SumUnits

__all__ = ["max_cells", "feature_columns", "model_columns"]

R = excel.ROW


def _checked(formula: str) -> str:
    if len(formula) + 1 > excel.MAX_FORMULA_CHARS:
        raise TitanicNNError(
            f"a formula of {len(formula)} characters exceeds Excel's limit of {excel.MAX_FORMULA_CHARS}: {formula[:80]}..."
        )
    return formula


# -- features --------------------------------------------------------------------------------------


def max_cells(features: Features, data: DataColumns, first_row: int, last_row: int, row: int) -> list[Cell]:
    """Row `row`'s divisor cells, one above each max-scaled raw column: MAX of the training column."""
    cells = []
    for spec in features.schema_.continuous:
        if spec.scale != "max":
            continue
        col = data.raw[spec.column]
        top = excel.maximum(excel.area(excel.cell(first_row, col), excel.cell(last_row, col)))
        if spec.log != "none":
            # log(x+1) rises with x, so the max of the logged column is the log of the max
            top = excel.log_plus_one(top, spec.log)
        divisor = features.divisors_[spec.column]
        if divisor == 1.0:
            # Python divides by 1 when the max is 0; the guard changes nothing when the max really is 1
            top = excel.max_or_one(top)
        cells.append(Cell(row, col, divisor, _checked(top), style="max"))
    return cells


def feature_columns(
    features: Features,
    data: DataColumns,
    X: np.ndarray | None,
    max_refs: dict[str, str],
    exact: dict[str, bool],
    header_prefix: str = "",
) -> list[Column]:
    """The feature formula columns (after the raw passthrough inputs), in feature order."""
    schema = features.schema_
    formulas: list[tuple[str, str | None]] = []
    for spec in schema.continuous:
        x = excel.cell(R, data.raw[spec.column])
        if spec.log != "none":
            x = excel.log_plus_one(x, spec.log)
        if spec.scale == "max":
            x = excel.divide(x, max_refs[spec.column])
        formulas.append((spec.feature_name, x))
    for spec in schema.categorical:
        x = excel.cell(R, data.raw[spec.column])
        levels = features.levels_[spec.column]
        names = list(spec.names) if spec.names is not None else [f"{spec.column}_{lv}" for lv in levels]
        for name, level in zip(names, levels):
            formulas.append((name, excel.equals_level(x, level_key(level), exact=exact.get(spec.column, False))))
    if schema.constant is not None:
        formulas.append((schema.constant, None))
    columns = []
    for position in range(data.passthrough, len(formulas)):
        name, formula = formulas[position]
        values = None if X is None else X[:, position]
        formula = None if formula is None else _checked(formula)
        columns.append(Column(data.inputs[position], header_prefix + name, values, formula=formula))
    return columns


# -- models ----------------------------------------------------------------------------------------


class _Walk:
    """The state of rendering a program: the current units, as sheet columns or as formulas not yet placed."""

    def __init__(self, first_col: int, first_row: int, last_row: int, header_prefix: str) -> None:
        self.next_col = first_col
        self.first_row, self.last_row = first_row, last_row
        self.header_prefix = header_prefix
        self.columns: list[Column] = []
        self.placed: list[int] = []  # the current units' columns, when placed
        self.pending: list[str] = []  # the current units' formulas, when not placed yet
        self.names: list[str] = []
        self.values: np.ndarray | None = None  # (rows, units)

    def place(self) -> None:
        """Give each pending unit its own column."""
        if not self.pending:
            return
        self.placed = []
        for j, (name, formula) in enumerate(zip(self.names, self.pending)):
            values = None if self.values is None else self.values[:, j]
            self.columns.append(Column(self.next_col, self.header_prefix + name, values, formula=_checked(formula)))
            self.placed.append(self.next_col)
            self.next_col += 1
        self.pending = []

    def refs(self) -> list[str]:
        """Each current unit as something a formula can use."""
        if self.pending:
            return list(self.pending)
        return [excel.cell(R, c) for c in self.placed]

    def row_range(self) -> str:
        self.place()
        return excel.area(
            excel.cell(R, self.placed[0], fixed_col=True), excel.cell(R, self.placed[-1], fixed_col=True)
        )

    def block_range(self) -> str:
        self.place()
        return excel.area(excel.absolute(self.first_row, self.placed[0]), excel.absolute(self.last_row, self.placed[-1]))


def model_columns(
    model: Model,
    blocks: Sequence[ParamBlock],
    params_sheet: str | None,
    inputs: tuple[int, int],
    first_col: int,
    first_row: int,
    last_row: int,
    trace: Sequence[np.ndarray] | None,
    header_prefix: str = "",
) -> list[Column]:
    """The columns computing `model` row by row, from the input block to the predictions (the last column).

    `blocks` are the parameter blocks (on `params_sheet`, or this sheet when None); `trace` is
    ops.trace's list [inputs, after op 1, ...] giving each column's cached values (None: layout only).
    """
    by_index = {block.index: block for block in blocks}
    names = unit_names(model)
    program = model.program()
    walk = _Walk(first_col, first_row, last_row, header_prefix)
    walk.placed = list(range(inputs[0], inputs[1] + 1))

    def param(reference: str) -> str:
        return excel.on_sheet(params_sheet, reference)

    for position, op in enumerate(program):
        output = None if trace is None else _units(trace[position + 1])
        if isinstance(op, MatMul):
            block = by_index[op.weight]
            if block.kind == "by_unit":
                row = walk.row_range()
                walk.pending = [excel.sumproduct(row, param(block.unit(j))) for j in range(block.n_out)]
                walk.names, walk.values = names[position], output
            else:
                _place_mmult(walk, excel.mmult(walk.block_range(), param(block.block())), names[position], output)
        elif isinstance(op, AddBias):
            block = by_index[op.bias]
            walk.pending = [excel.add(x, param(block.unit(j))) for j, x in enumerate(walk.refs())]
            walk.values = output
        elif isinstance(op, ReLU):
            walk.place()
            walk.pending = [excel.relu(x) for x in walk.refs()]
            walk.names, walk.values = names[position], output
        elif isinstance(op, SumUnits):
            if walk.pending and len(walk.pending) > 1:
                walk.place()
            if walk.pending:
                formula = walk.pending[0]
            else:
                refs = walk.refs()
                formula = excel.total(refs, refs[0], refs[-1])
            last = position == len(program) - 1
            walk.pending, walk.names, walk.values = [formula], ["Preds" if last else "Logit"], output
        elif isinstance(op, Sigmoid):
            walk.place()
            walk.pending = [excel.sigmoid(x) for x in walk.refs()]
            walk.names, walk.values = ["Preds"], output
        else:  # pragma: no cover - a new op needs its rendering here
            raise TitanicNNError(f"the workbook cannot render the op {op!r} yet")
    walk.place()
    return walk.columns


def _place_mmult(walk: _Walk, formula: str, names: list[str], output: np.ndarray | None) -> None:
    """One array formula over the whole (rows x units) block; every column keeps its own values."""
    first, last = walk.next_col, walk.next_col + len(names) - 1
    target = excel.area(excel.cell(walk.first_row, first), excel.cell(walk.last_row, last))
    walk.placed = []
    for j, name in enumerate(names):
        values = None if output is None else output[:, j]
        column = Column(walk.next_col, walk.header_prefix + name, values, in_array=True)
        if j == 0:
            column.array_formula, column.array_ref = _checked(formula), target
        walk.columns.append(column)
        walk.placed.append(walk.next_col)
        walk.next_col += 1
    walk.pending, walk.names, walk.values = [], names, output


def _units(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values
