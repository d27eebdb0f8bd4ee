"""Renders the feature program and a model's op program to sheet columns: Excel formulas beside Python's float64 values.

The math exists once, as the programs of ops; this walks them, asking each op for its own formulas
(tinygrad's renderers, with Excel as the target language), so the sheet computes exactly the steps
Python computes. No op is named here: a new op renders through its own methods.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import excel
from ..errors import TitanicNNError
from ..features import TEXT, Features, RenderContext, SheetColumns
from ..nn import Model
from ._cells import Cell, Column
from ._layout import DataColumns, ParamBlock, unit_names

__all__ = ["matmul_style", "statistic_cells", "feature_columns", "derived_columns", "model_columns", "MATMUL_STYLES"]

R = excel.ROW

# The renderer's choice for each kind's matrix products: the lesson's linear and nnet sheets use one
# SUMPRODUCT per unit and row, its mmult sheet one MMULT array formula; every other kind uses MMULT.
MATMUL_STYLES = {"linear": "sumproduct", "nnet": "sumproduct"}


def matmul_style(model: Model) -> str:
    return MATMUL_STYLES.get(model.kind, "mmult")


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
    exact: dict[str, bool],
    header_prefix: str = "",
) -> list[Column]:
    """The feature formula columns (after the raw passthrough inputs), in feature order."""
    names = features.feature_names_

    def raw_ref(column: str) -> str:
        return excel.cell(R, data.col(column))

    def context(op: Any) -> RenderContext:
        return RenderContext(statistic=statistics.get(id(op)), exact=exact)

    columns = []
    for position in range(data.passthrough, len(names)):
        name = names[position]
        formula = _formula(features, features.program_.producer(name), name, raw_ref, context)
        values = None if X is None else X[:, position]
        columns.append(
            Column(data.inputs[position], header_prefix + name, values, formula=None if formula is None else formula)
        )
    return columns


def derived_columns(
    features: Features, data: DataColumns, columns: Any, sheet: SheetColumns, exact: dict[str, bool]
) -> list[Column]:
    """The derived columns, each in a column of its own, its op's formula beside `columns` (Python's values)."""
    out = []
    for op in features.program_.placed_ops:
        refs = [excel.cell(R, data.col(name)) for name in op.inputs]
        formulas = op.excel(refs, RenderContext(exact=exact, sheet=sheet))
        for name, formula in zip(op.outputs, formulas):
            values = columns[name]
            values = values.tolist() if op.output_kind == TEXT else np.asarray(values, dtype=np.float64)
            out.append(Column(data.derived[name], name, values, formula=formula, array_cells=op.whole_columns))
    return out


# -- models ----------------------------------------------------------------------------------------


class _Walk:
    """The renderer's side of `SheetWriter`: the current units, as sheet columns or as formulas not yet placed."""

    def __init__(
        self, style: str, first_col: int, first_row: int, last_row: int, header_prefix: str, params_sheet: str | None
    ) -> None:
        self.style = style
        self.next_col = first_col
        self.first_row, self.last_row = first_row, last_row
        self.header_prefix = header_prefix
        self.params_sheet = params_sheet
        self.columns: list[Column] = []
        self.placed: list[int] = []  # the current units' columns, when placed
        self.pending_formulas: list[str] = []  # the current units' formulas, when not placed yet
        self.current_names: list[str] = []
        self.values: np.ndarray | None = None  # the current units' values (rows, units)
        # set for each op in turn
        self.names: list[str] = []
        self.output: np.ndarray | None = None
        self.block: ParamBlock | None = None

    # -- SheetWriter --------------------------------------------------------------------------------

    def units(self) -> list[str]:
        if self.pending_formulas:
            return list(self.pending_formulas)
        return [excel.cell(R, c) for c in self.placed]

    def place(self) -> None:
        if not self.pending_formulas:
            return
        self.placed = []
        for j, (name, formula) in enumerate(zip(self.current_names, self.pending_formulas)):
            values = None if self.values is None else self.values[:, j]
            self.columns.append(Column(self.next_col, self.header_prefix + name, values, formula=formula))
            self.placed.append(self.next_col)
            self.next_col += 1
        self.pending_formulas = []

    def row_range(self) -> str:
        self.place()
        return excel.area(excel.cell(R, self.placed[0], fixed_col=True), excel.cell(R, self.placed[-1], fixed_col=True))

    def block_range(self) -> str:
        self.place()
        return excel.area(excel.absolute(self.first_row, self.placed[0]), excel.absolute(self.last_row, self.placed[-1]))

    def param_block(self) -> str:
        return excel.on_sheet(self.params_sheet, self.block.block())

    def param_unit(self, j: int) -> str:
        return excel.on_sheet(self.params_sheet, self.block.unit(j))

    def pending(self, formulas: Sequence[str]) -> None:
        self.pending_formulas = list(formulas)
        self.current_names, self.values = self.names, self.output

    def array(self, formula: str) -> None:
        """One array formula over the whole (rows x units) block; every column keeps its own values."""
        first, last = self.next_col, self.next_col + len(self.names) - 1
        target = excel.area(excel.cell(self.first_row, first), excel.cell(self.last_row, last))
        self.placed = []
        for j, name in enumerate(self.names):
            values = None if self.output is None else self.output[:, j]
            column = Column(self.next_col, self.header_prefix + name, values, in_array=True)
            if j == 0:
                column.array_formula, column.array_ref = formula, target
            self.columns.append(column)
            self.placed.append(self.next_col)
            self.next_col += 1
        self.pending_formulas, self.current_names, self.values = [], self.names, self.output


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
    nn.trace's list [inputs, after op 1, ...] giving each column's cached values (None: layout only).
    The last op's output is the "Preds" column.
    """
    by_index = {block.index: block for block in blocks}
    program = model.program()
    names = unit_names(model, inputs[1] - inputs[0] + 1)
    names[-1] = ["Preds"] * len(names[-1]) if len(names[-1]) == 1 else names[-1]
    walk = _Walk(matmul_style(model), first_col, first_row, last_row, header_prefix, params_sheet)
    walk.placed = list(range(inputs[0], inputs[1] + 1))
    for position, op in enumerate(program):
        walk.names = names[position]
        walk.output = None if trace is None else _units(trace[position + 1])
        walk.block = None if op.param is None else by_index[op.param]
        op.render(walk)
    walk.place()
    return walk.columns


def ensemble_columns(
    model: Any,
    blocks: Sequence[ParamBlock],
    params_sheet: str | None,
    inputs: tuple[int, int],
    first_col: int,
    first_row: int,
    last_row: int,
    traces: Sequence[Sequence[np.ndarray]] | None,
    header_prefix: str = "",
) -> list[Column]:
    """An ensemble's columns: each member's columns (headed "m1 ", "m2 ", ...) from its own parameter blocks, then
    "Preds", the AVERAGE of the members' prediction columns. A plain model's are `model_columns`.

    `blocks` are the ensemble's (`member_blocks` gives each member's); `traces` one nn.trace per member.
    """
    from ..nn import Ensemble

    if not isinstance(model, Ensemble):
        return model_columns(model, blocks, params_sheet, inputs, first_col, first_row, last_row, traces, header_prefix)
    columns: list[Column] = []
    preds: list[Column] = []
    next_col = first_col
    for j, member_blocks in enumerate(member_blocks_of(model, blocks)):
        member = model_columns(
            model.member, member_blocks, params_sheet, inputs, next_col, first_row, last_row,
            None if traces is None else traces[j], header_prefix=f"{header_prefix}m{j + 1} ",
        )
        columns += member
        preds.append(member[-1])
        next_col = member[-1].col + 1
    values = None
    if traces is not None:
        # the sum over the members divided by K, as AVERAGE computes it
        values = np.sum([np.asarray(p.values, dtype=np.float64) for p in preds], axis=0) / model.k
    formula = excel.AVERAGE(*(excel.cell(R, p.col) for p in preds))
    columns.append(Column(next_col, header_prefix + "Preds", values, formula=formula))
    return columns


def member_blocks_of(model: Any, blocks: Sequence[ParamBlock]) -> list[list[ParamBlock]]:
    """An ensemble's parameter blocks split by member, each member's renumbered from 0 as its program indexes them."""
    from dataclasses import replace

    per = len(blocks) // model.k
    ordered = sorted(blocks, key=lambda b: b.index)
    return [[replace(b, index=b.index - j * per) for b in ordered[j * per:(j + 1) * per]] for j in range(model.k)]


def _units(values: Any) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values[:, None] if values.ndim == 1 else values
