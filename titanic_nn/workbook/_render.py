"""Renders the feature program and a model's op program to sheet columns: Excel formulas beside Python's float64 values.

The math exists once, as the programs of ops. Features: each feature op writes its own formula. Models:
the model sheet is `nn.trace` run on a backend of sheet cells (`SheetBackend`), whose values are units
as per-row formulas, placed in columns of their own where a later step must refer to them; a weight
matrix is multiplied as its layout lays it out (one SUMPRODUCT per unit and row, or one MMULT over the
block). No op is named here: a new op renders through the same operators it computes with.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import excel
from ..errors import TitanicNNError
from ..features import TEXT, Features, RenderContext, SheetColumns
from ..nn import MAGNITUDE, NUMPY, Model, trace
from ._cells import Cell, Column
from ._layout import ByUnit, DataColumns, Matrix, ParamBlock, member_blocks, unit_names

__all__ = ["statistic_cells", "feature_columns", "derived_columns", "model_columns", "SheetBackend"]

R = excel.ROW
# Up to this many units are added with "+" (the lesson's ReLU1+ReLU2); beyond it SUM keeps formulas short.
PLUS_UNITS = 8


# -- features --------------------------------------------------------------------------------------


def _formula(
    features: Features, op: Any, name: str, raw_ref: Callable[[str], str], context: Callable[[Any], RenderContext]
) -> str | None:
    """The formula of `op`'s output `name`, its inputs' ops inlined down to the raw columns (given by `raw_ref`)."""
    refs = []
    for source in op.inputs:
        producer = features.program_.producer(source, before=op)
        if producer is None or producer.placed:  # a raw column, or a derived one in its own column
            refs.append(raw_ref(source))
            continue
        inner = _formula(features, producer, source, raw_ref, context)
        if inner is None:
            raise TitanicNNError(f"column {source} is a constant and cannot be part of another column's formula")
        refs.append(inner)
    return op.excel(refs, context(op))[op.outputs.index(name)]


def statistic_cells(features: Features, data: DataColumns, first_row: int, last_row: int, rows: dict[str, int]) -> list[Cell]:
    """The cells holding the ops' statistics, each above the raw column it summarises.

    `rows` gives the row of each op class's statistics by the op's `STATE` section (e.g. the divisors
    in the Max row, the fill values in the Fill row).
    """
    cells = []
    for op in features.program_:
        value = op.statistic()
        if value is None:
            continue
        col = data.col(_root_column(features, op))

        def over_column(apply: Callable[[str], str], op: Any = op, col: int = col) -> str:
            # f applied to the whole raw column, through the ops between (each rises with its input, so
            # f of the ops is the ops of f: max(log(x+1)) = log(max(x)+1))
            whole = apply(excel.area(excel.cell(first_row, col), excel.cell(last_row, col)))
            producer = features.program_.producer(op.inputs[0], before=op)
            if producer is None or producer.placed:
                return whole
            return _formula(features, producer, op.inputs[0], lambda c: whole, lambda _: RenderContext())

        formula = op.excel_statistic(over_column)
        cells.append(Cell(rows[op.STATE[0]], col, value, None if formula is None else formula, style="statistic"))
    return cells


def _root_column(features: Features, op: Any) -> str:
    """The raw (or derived) column `op`'s input is computed from, through ops of one input that rise with it."""
    name = op.inputs[0]
    producer = features.program_.producer(name, before=op)
    while producer is not None and not producer.placed:
        if len(producer.inputs) != 1 or not producer.monotone:
            raise TitanicNNError(f"the statistic of {type(op).__name__}({name}) cannot be placed above one raw column")
        name = producer.inputs[0]
        producer = features.program_.producer(name, before=producer)
    return name


def statistic_refs(features: Features, data: DataColumns, rows: dict[str, int], sheet: str | None) -> dict[int, str]:
    """Each op's statistic cell as a reference (by the op's id), on `sheet` (None: this sheet)."""
    refs = {}
    for op in features.program_:
        if op.statistic() is not None:
            col = data.col(_root_column(features, op))
            refs[id(op)] = excel.on_sheet(sheet, excel.cell(rows[op.STATE[0]], col, fixed_row=True))
    return refs


def fill_formulas(features: Features, refs: dict[int, str], data: DataColumns) -> dict[str, str]:
    """The formula of a filled cell of each raw column: a reference to its fill value's cell (or, filled by a group,
    its group's value, found by the row's cell of the group's column)."""
    formulas = {}
    for op in features.program_:
        if op.in_place:
            table = op.table()
            lookup = None
            if table is not None:  # the learned values, written into the formula
                _, pairs, other = table
                lookup = {key: excel.literal(value) for key, value in pairs}
                lookup[None] = excel.literal(other)
            inputs = [excel.cell(R, data.col(name)) for name in op.inputs]
            formula = op.excel(inputs, RenderContext(statistic=refs.get(id(op)), table=lookup))[0]
            if formula is not None:
                formulas[op.outputs[0]] = formula
    return formulas


def feature_columns(
    features: Features,
    data: DataColumns,
    X: np.ndarray | None,
    statistics: dict[int, str],
    header_prefix: str = "",
    levels: dict[str, str] | None = None,
) -> list[Column]:
    """The feature formula columns (after the raw passthrough inputs), in feature order; `levels` gives each embedded
    column's range of level texts (its table's labels), which its level's number is found in."""
    names = features.feature_names_

    def raw_ref(column: str) -> str:
        return excel.cell(R, data.col(column))

    def context(op: Any) -> RenderContext:
        return RenderContext(statistic=statistics.get(id(op)), levels=(levels or {}).get(op.key))

    columns = []
    for position in range(data.passthrough, len(names)):
        name = names[position]
        producer = features.program_.producer(name)
        formula = _formula(features, producer, name, raw_ref, context)
        values = None if X is None else X[:, position]
        columns.append(
            Column(
                data.inputs[position], header_prefix + name, values, formula=None if formula is None else formula,
                array_cells=producer.array_cells,
            )
        )
    return columns


def derived_columns(features: Features, data: DataColumns, columns: Any, sheet: SheetColumns) -> list[Column]:
    """The derived columns, each in a column of its own, its op's formula beside `columns` (Python's values)."""
    out = []
    for op in features.program_.placed_ops:
        refs = [excel.cell(R, data.col(name)) for name in op.inputs]
        formulas = op.excel(refs, RenderContext(sheet=sheet))
        for name, formula in zip(op.outputs, formulas):
            values = columns[name]
            values = values.tolist() if op.output_kind == TEXT else np.asarray(values, dtype=np.float64)
            out.append(Column(data.derived[name], name, values, formula=formula, array_cells=op.whole_columns))
    return out


# -- models ----------------------------------------------------------------------------------------


class SheetParam:
    """A parameter array as its block on the sheet (`sheet` None: this sheet); `b[..., None, :]` is the block itself."""

    def __init__(self, block: ParamBlock, sheet: str | None) -> None:
        self.block, self.sheet = block, sheet

    def __getitem__(self, index: Any) -> "SheetParam":
        return self  # a row of biases is already laid out as one row

    def range(self) -> str:
        return excel.on_sheet(self.sheet, self.block.block())

    def row(self, i: int) -> str:
        return excel.on_sheet(self.sheet, self.block.row(i))

    def cell(self, i: int, j: int) -> str:
        return excel.on_sheet(self.sheet, self.block.cell(i, j))

    def column(self, j: int) -> str:
        """Column j of the grid, as a range."""
        grid_rows = self.block.grid_shape[0]
        return excel.on_sheet(self.sheet, excel.area(self.block.cell(0, j), self.block.cell(grid_rows - 1, j)))


class SheetUnits:
    """A value on the model sheet: one formula per unit, each for every row (with "{r}" for the row), or the
    columns where those units sit once placed. `columns` are those placed for this value, labelled after the
    trace."""

    def __init__(self, sheet: "SheetBackend", formulas: Sequence[str] = (), placed: Sequence[int] = ()) -> None:
        self.sheet = sheet
        self.formulas = list(formulas)  # not yet in cells
        self.placed = list(placed)  # the units' columns, once placed
        self.columns: list[Column] = []

    def refs(self) -> list[str]:
        """Each unit for a formula of the same row: its cell once placed, else its formula."""
        return [excel.cell(R, c) for c in self.placed] if self.placed else list(self.formulas)

    def place(self) -> "SheetUnits":
        """Give each unit a column of its own (once)."""
        if not self.placed:
            for formula in self.formulas:
                self.columns.append(self.sheet.column(formula=formula))
            self.placed = [c.col for c in self.columns]
        return self

    def row_range(self) -> str:
        self.place()
        return excel.area(excel.cell(R, self.placed[0], fixed_col=True), excel.cell(R, self.placed[-1], fixed_col=True))

    def block_range(self) -> str:
        self.place()
        first, last = self.sheet.first_row, self.sheet.last_row
        return excel.area(excel.absolute(first, self.placed[0]), excel.absolute(last, self.placed[-1]))

    # -- the operators ops compute with ------------------------------------------------------------

    def __matmul__(self, weight: SheetParam) -> "SheetUnits":
        return PRODUCTS[type(weight.block.layout)](self, weight)

    def __add__(self, bias: SheetParam) -> "SheetUnits":
        return SheetUnits(self.sheet, [f"{x}+{bias.cell(0, j)}" for j, x in enumerate(self.refs())])

    def sum(self, axis: int) -> "SheetUnits":
        if len(self.refs()) == 1:  # the sum of one unit is the unit: no column of its own
            return self
        refs = self.place().refs()
        total = "+".join(refs) if len(refs) <= PLUS_UNITS else excel.SUM(excel.area(refs[0], refs[-1]))
        return SheetUnits(self.sheet, [total])

    def label(self, names: Sequence[str], values: np.ndarray | None, scales: np.ndarray | None = None) -> None:
        """Head the units' columns and give them Python's values (the trace's, as (rows, units)) and the size of the
        terms behind each (the magnitude trace's)."""
        # the columns placed for this value are its last units (all of them, but for an embedding's kept inputs)
        offset = len(names) - len(self.columns)
        for j, column in enumerate(self.columns):
            column.header = self.sheet.header_prefix + names[offset + j]
            column.values = None if values is None else values[:, offset + j]
            column.scale = None if scales is None else scales[:, offset + j]


def _sumproducts(x: SheetUnits, weight: SheetParam) -> SheetUnits:
    """One SUMPRODUCT per unit and row of the inputs' cells and the unit's row of weights (the lesson's nnet sheet)."""
    row = x.row_range()
    return SheetUnits(x.sheet, [excel.SUMPRODUCT(row, weight.row(j)) for j in range(weight.block.n_out)])


def _mmult(x: SheetUnits, weight: SheetParam) -> SheetUnits:
    """One MMULT array formula over the whole block of inputs (the lesson's mmult sheet)."""
    return x.sheet.array(excel.MMULT(x.block_range(), weight.range()), weight.block.n_out)


# How a product with a weight matrix is written, by the matrix's layout: the sheet backend's table of renderings.
PRODUCTS = {ByUnit: _sumproducts, Matrix: _mmult}


class SheetBackend:
    """nn's Excel backend for a model sheet's rows: a value is `SheetUnits`, an activation a formula per unit and row
    (its input placed first, so the lesson's Lin and ReLU columns both show). Columns are taken from `first_col` on."""

    name = "excel"

    def __init__(self, first_col: int, first_row: int, last_row: int, header_prefix: str = "") -> None:
        self.next_col = first_col
        self.first_row, self.last_row = first_row, last_row
        self.header_prefix = header_prefix
        self.columns: list[Column] = []

    def column(self, **settings: Any) -> Column:
        column = Column(self.next_col, "", None, **settings)
        self.columns.append(column)
        self.next_col += 1
        return column

    def array(self, formula: str, units: int) -> SheetUnits:
        """One array formula over the whole (rows x units) block, each column with its own values."""
        first = self.next_col
        target = excel.area(excel.cell(self.first_row, first), excel.cell(self.last_row, first + units - 1))
        value = SheetUnits(self)
        for j in range(units):
            column = self.column(in_array=True)
            if j == 0:
                column.array_formula, column.array_ref = formula, target
            value.columns.append(column)
        value.placed = [c.col for c in value.columns]
        return value

    def elementwise(self, op: Any, x: SheetUnits) -> SheetUnits:
        return SheetUnits(self, [op.excel(ref) for ref in x.place().refs()])

    def embed(self, x: SheetUnits, table: SheetParam) -> SheetUnits:
        """The inputs but the first (a level's number), then that row of the table: one INDEX per value and row (of the
        value's column of the table). Where
        the inputs kept end right before the next free column, the values are placed there, so the inputs and the
        embedding form one block the next product reads; elsewhere every unit gets a column of its own."""
        refs = x.refs()
        width = table.block.n_out
        # INDEX of one column, not of the whole table: HyperFormula reads every cell of the range INDEX is given, so a
        # 501 x 52 table's lookups take it minutes where one column's take seconds
        looked = [excel.INDEX(table.column(j), refs[0]) for j in range(width)]
        kept = list(x.placed[1:])
        if kept and kept == list(range(kept[0], kept[-1] + 1)) and kept[-1] == self.next_col - 1:
            value = SheetUnits(self)
            value.columns = [self.column(formula=formula) for formula in looked]
            value.placed = kept + [c.col for c in value.columns]
            return value
        return SheetUnits(self, refs[1:] + looked)

    def softmax(self, x: SheetUnits) -> SheetUnits:
        """Each unit's EXP over the sum of the row's, the row's MAX subtracted from every logit first (overflow-safe)."""
        refs = x.place().refs()
        row_max = excel.MAX(excel.area(excel.cell(R, x.placed[0], fixed_col=True), excel.cell(R, x.placed[-1], fixed_col=True)))
        terms = [excel.EXP(f"{ref}-{row_max}") for ref in refs]
        total = "+".join(terms)
        return SheetUnits(self, [f"{term}/({total})" for term in terms])


def model_columns(
    model: Model,
    blocks: Sequence[ParamBlock],
    params_sheet: str | None,
    inputs: tuple[int, int],
    first_col: int,
    first_row: int,
    last_row: int,
    params: Any = None,
    X: np.ndarray | None = None,
    header_prefix: str = "",
    pred_names: Sequence[str] | None = None,
    input_names: Sequence[str] | None = None,
) -> list[Column]:
    """The columns computing `model` row by row, from the input block to the predictions ("Preds", the last column; or
    the last K columns, headed `pred_names`, for a model of K outputs).

    Each member's program is traced on the sheet's backend from its own parameter blocks (`blocks`, on
    `params_sheet`, or this sheet when None), its columns headed by its member label ("m1 ", ...); the
    model's Preds combines the members' (`Model.excel_combine`). `params` and `X` give each column's cached
    values, Python's trace of the same program (None: the layout only); `input_names`, the features' names, head an
    embedding's values after its column.
    """
    sheet = SheetBackend(first_col, first_row, last_row, header_prefix)
    member = model.member
    names = unit_names(member, inputs[1] - inputs[0] + 1, input_names)
    members = model.split(params) if params is not None else [None] * model.k
    preds: list[SheetUnits] = []
    for j, (own_blocks, own_params) in enumerate(zip(member_blocks(model, blocks), members)):
        sheet.header_prefix = header_prefix + model.member_label(j)
        source = SheetUnits(sheet, placed=range(inputs[0], inputs[1] + 1))
        values = trace(member.program(), source, [SheetParam(b, params_sheet) for b in own_blocks], sheet)
        values[-1].place()
        numbers = scales = None
        if own_params is not None:
            numbers = trace(member.program(), X, member.arrays(own_params), NUMPY)
            scales = trace(member.program(), np.abs(X), [np.abs(a) for a in member.arrays(own_params)], MAGNITUDE)
        final = list(pred_names) if pred_names is not None else ["Preds"]
        for position, value in enumerate(values[1:]):
            labels = final * (len(names[position]) // len(final)) if position == len(values) - 2 else names[position]
            value.label(labels, *((None, None) if numbers is None else (_units(numbers[position + 1]), _units(scales[position + 1]))))
        preds.append(values[-1])
    # the model's predictions from its members', unit by unit (one member's are its own)
    for j in range(len(preds[0].placed)):
        combined = model.excel_combine([excel.cell(R, p.placed[j]) for p in preds])
        if combined is None:
            break
        sheet.header_prefix = header_prefix
        column = sheet.column(formula=combined)
        column.header = header_prefix + (pred_names[j] if pred_names is not None else "Preds")
        if params is not None:
            column.values = model.combine([np.asarray(p.columns[j - len(p.placed)].values, dtype=np.float64) for p in preds])
            column.scale = model.combine([np.asarray(p.columns[j - len(p.placed)].scale, dtype=np.float64) for p in preds])
    return sheet.columns


def _units(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values
